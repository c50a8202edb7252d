// `tttnn eval`: TTT-NN and its baselines over the test documents, with the
// original's flags and defaults.
import { type Command, Option } from 'commander';
import { integerArg, numberArg } from './parse.js';


/** The original's learning rates: GPT-2 2e-5, GPT-Neo 5e-6. */
export const DEFAULT_LEARNING_RATES: Record<string, number> = { gpt2: 2e-5, gpt_neo: 5e-6 };

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate TTT-NN (ttt) or a baseline (context, interpolation, dynamic) on test documents; results go to RESULTS/<method>/<task>.rank<R>.jsonl, one line per document, and a rerun resumes')
    .addOption(new Option('--method <method>', 'ttt: train on each neighbour; context: neighbours in the context; interpolation: mix with the neighbours\' unigram distribution; dynamic: train on the query text itself').choices(['ttt', 'context', 'interpolation', 'dynamic']).default('ttt'))
    .requiredOption('--model <dir>', 'causal LM checkpoint directory (gpt2, gpt_neo)')
    .option('--tokenizer <dir>', 'tokenizer directory (default: the model directory)')
    .option('--embedder <dir>', 'encoder checkpoint the index was built with (not needed for dynamic)')
    .option('--addresses <file>', 'addresses file of the shard servers (not needed for dynamic)')
    .option('--token-file <file>', 'token file of the shard servers')
    .requiredOption('--data <file>', 'test JSONL file')
    .addOption(new Option('--tasks <tasks>', 'pile_all, or comma-separated task names (pile_github, ...)').default('pile_all'))
    .requiredOption('--results-dir <dir>', 'where result files go')
    .addOption(new Option('--rank <r>', 'this process\'s rank: it takes every world-size-th document from rank').default(0).argParser(integerArg('--rank')))
    .addOption(new Option('--world-size <w>', 'number of evaluation processes').default(1).argParser(integerArg('--world-size')))
    .addOption(new Option('--num-neighbors <k>', 'neighbours per document').default(50).argParser(integerArg('--num-neighbors')))
    .option('--learning-rate <lr>', 'test-time learning rate (default: GPT-2 2e-5, GPT-Neo 5e-6)', numberArg('--learning-rate'))
    .addOption(new Option('--adam-epsilon <eps>', 'AdamW epsilon').default(1e-8).argParser(numberArg('--adam-epsilon')))
    .addOption(new Option('--weight-decay <wd>', 'AdamW weight decay').default(0).argParser(numberArg('--weight-decay')))
    .option('--max-length <n>', "window length (default: the model's context: GPT-2 1024, GPT-Neo 2048)", integerArg('--max-length'))
    .option('--stride <n>', 'tokens between training windows (default: max-length)', integerArg('--stride'))
    .addOption(new Option('--distance-threshold <d>', 'drop neighbours farther than this (squared L2)').default(4.0).argParser(numberArg('--distance-threshold')))
    .option('--no-reset-weights', 'keep the trained weights from one document to the next')
    .option('--no-reset-optimizer', "keep AdamW's moments from one document to the next (the original's behaviour)")
    .option('--split-text', 'retrieve with the first half of each document (at most 1024 tokens) and score the rest')
    .addOption(new Option('--val-portion <p>', 'share of each task\'s shuffled test documents evaluated').default(0.2).argParser(numberArg('--val-portion')))
    .addOption(new Option('--seed <n>', 'shuffle and dropout seed').default(1216).argParser(integerArg('--seed')))
    .option('--docs-per-task <n>', 'at most this many documents per task (per rank)', integerArg('--docs-per-task'))
    .addOption(new Option('--on-missing-shard <policy>', 'fail, or retrieve from the shards that answer and flag the document').choices(['fail', 'partial']).default('fail'))
    .action(async (o: Record<string, unknown>) => {
      const { loadCausalLM, loadEncoder } = await import('../models/index.js');
      const { loadTokenizer } = await import('../tokenizers/index.js');
      const { runEvaluation } = await import('../eval/runner.js');
      const method = o['method'] as 'ttt' | 'context' | 'interpolation' | 'dynamic';
      const model = loadCausalLM(o['model'] as string);
      try {
        let retriever;
        if (method !== 'dynamic') {
          for (const flag of ['embedder', 'addresses', 'tokenFile']) {
            if (!o[flag]) throw new Error(`--method ${method} needs --embedder, --addresses and --token-file`);
          }
          const { readToken } = await import('../retrieval/auth.js');
          const { readAddresses } = await import('../retrieval/addresses.js');
          const { RetrievalClient } = await import('../retrieval/client.js');
          const { FleetRetriever } = await import('../eval/retriever.js');
          const client = await RetrievalClient.connect({ addresses: readAddresses(o['addresses'] as string), token: readToken(o['tokenFile'] as string), onMissingShard: o['onMissingShard'] as 'fail' | 'partial' });
          const embedder = loadEncoder(o['embedder'] as string);
          retriever = new FleetRetriever(client, { model: embedder, tokenizer: loadTokenizer(o['embedder'] as string) });
        }
        const tasks = o['tasks'] === 'pile_all' ? 'pile_all' : (o['tasks'] as string).split(',').map((t) => t.trim());
        const result = await runEvaluation({
          method, model, tokenizer: loadTokenizer((o['tokenizer'] as string | undefined) ?? (o['model'] as string)), retriever,
          data: o['data'] as string, tasks, resultsDir: o['resultsDir'] as string, rank: o['rank'] as number, worldSize: o['worldSize'] as number,
          numNeighbors: o['numNeighbors'] as number, learningRate: (o['learningRate'] as number | undefined) ?? DEFAULT_LEARNING_RATES[model.modelType] ?? 2e-5,
          adamEpsilon: o['adamEpsilon'] as number, weightDecay: o['weightDecay'] as number, maxLength: o['maxLength'] as number | undefined,
          stride: o['stride'] as number | undefined, distanceThreshold: o['distanceThreshold'] as number, resetWeights: o['resetWeights'] as boolean,
          resetOptimizer: o['resetOptimizer'] as boolean, splitText: Boolean(o['splitText']), valPortion: o['valPortion'] as number, seed: o['seed'] as number,
          docsPerTask: o['docsPerTask'] as number | undefined,
        });
        console.log(JSON.stringify(result));
      } finally {
        model.dispose();
      }
    });
}
