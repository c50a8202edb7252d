// The retrieval side of an end-to-end eval test: a tiny random RoBERTa
// encoder saved where `--embedder` can load it, a Flat index of the training
// file built with it, a fresh token, two slices of shard servers on
// 127.0.0.1 (a real `tttnn serve`), and an in-process retriever on them.
import { join } from 'node:path';
import { manualSeed } from '../../src/engine/index.js';
import { FleetRetriever } from '../../src/eval/retriever.js';
import { buildIndex } from '../../src/index/index.js';
import { RobertaModel, saveModel } from '../../src/models/index.js';
import { readToken, writeNewToken } from '../../src/retrieval/auth.js';
import { RetrievalClient } from '../../src/retrieval/client.js';
import { robertaTokenizerFromGpt2, saveTokenizer, type BpeTokenizer } from '../../src/tokenizers/index.js';
import { startFleetProcess } from './fleet.js';

export interface TinyFleet {
  retriever: FleetRetriever;
  embedder: { model: RobertaModel; tokenizer: BpeTokenizer };
  /** The saved encoder, for --embedder. */
  encoderDir: string;
  tokenFile: string;
  /** The addresses file the servers registered in, for --addresses. */
  addresses: string;
  /** Stops the servers and frees the encoder. */
  stop(): Promise<void>;
}

/** Indexes `trainData` into `dir` and serves it; the encoder's weights come from seed 4. */
export async function startTinyFleet(dir: string, trainData: string): Promise<TinyFleet> {
  manualSeed(4);
  const model = RobertaModel.random({ model_type: 'roberta', vocab_size: 50261, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 130 }, false);
  const encoderDir = join(dir, 'enc');
  saveModel(model, encoderDir);
  saveTokenizer(robertaTokenizerFromGpt2(), encoderDir);
  const embedder = { model, tokenizer: robertaTokenizerFromGpt2() };
  const { path: index } = await buildIndex({ data: trainData, embedder, embedderDir: encoderDir, out: dir, progress: () => undefined });
  const tokenFile = join(dir, 'token');
  writeNewToken(tokenFile);
  const addresses = join(dir, 'addresses');
  const fleet = await startFleetProcess({ data: trainData, index, slices: 2, replicas: 1, addresses, tokenFile });
  const retriever = new FleetRetriever(await RetrievalClient.connect({ addresses: fleet.addresses, token: readToken(tokenFile) }), embedder);
  return {
    retriever, embedder, encoderDir, tokenFile, addresses,
    stop: async () => {
      await fleet.stop();
      model.dispose();
    },
  };
}
