// tttnn as a library: what a program needs to run TTT-NN without the CLI.
// Every name here is also what the CLI uses; the layers are in docs/DESIGN.md.
//
//   import { loadCausalLM, loadEmbedder, loadTokenizer, RetrievalClient, FleetRetriever, runEvaluation } from 'tttnn';
//   const client = await RetrievalClient.connect({ addresses: readAddresses('addresses.txt'), token: readToken('token') });
//   const retriever = new FleetRetriever(client, loadEmbedder(embedderDir)); // an encoder or a sentence-transformers directory
//   await runEvaluation({ method: 'ttt', model: loadCausalLM(modelDir), tokenizer: loadTokenizer(modelDir), retriever,
//                         data: 'test.jsonl', tasks: 'pile_all', resultsDir: 'results' });

// The engine: tensors, autograd, optimizers, threads, precision.
export * as engine from './engine/index.js';
// Models and tokenizers from Hugging Face directories.
export { loadModel, loadCausalLM, loadEncoder, createModel, saveModel, type CausalLM, type EncoderModel, type AnyModel, type RawConfig } from './models/index.js';
export { loadTokenizer, saveTokenizer, trainTokenizers, BpeTokenizer } from './tokenizers/index.js';
// Corpora.
export { readDocuments, type PileDocument, type DocumentRecord } from './data/jsonl.js';
export { DocumentStore } from './data/document-store.js';
// Training.
export { train, type TrainOptions, type TrainResult } from './train/trainer.js';
// Indexes and the shard servers' client.
export { buildIndex, embedTexts, loadEmbedder, readRecipe, FaissIndex, type Embedder, type EmbeddingRecipe, type IndexBuildOptions } from './index/index.js';
export { RetrievalClient, type ClientOptions, type QueryResult, type Neighbor } from './retrieval/client.js';
export { readAddresses } from './retrieval/addresses.js';
export { readToken } from './retrieval/auth.js';
export { readTransport, type Transport } from './retrieval/transport.js';
// Evaluation: TTT-NN, the baselines and the random-documents control.
export { runEvaluation, type EvalOptions } from './eval/runner.js';
export { FleetRetriever, type Retriever, type Retrieval, type RetrievedNeighbor } from './eval/retriever.js';
export { resolveSettings, SETTINGS, METHODS, type Method, type EvalSettings, type EvalOverrides } from './eval/settings.js';
export { METHOD_REGISTRY, type EvalMethod, type TrainingMethod, type ScoringMethod } from './eval/methods/index.js';
export type { DocumentResult } from './eval/results.js';
// The report.
export { writeReport, type ReportOptions, type ReportResult } from './report/report.js';
