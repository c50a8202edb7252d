// `tttnn eval`: TTT-NN and its baselines over the test documents. Defaults
// are the original's, per method (src/eval/settings.ts, shown by --help);
// a flag left out means "the default", so flags carry no commander defaults.
import { type Command, Option } from 'commander';
import { describeDefaults, METHODS, type EvalOverrides, type Method } from '../eval/settings.js';
import { SELECTIONS } from '../eval/selection.js';
import { integerArg, numberArg, numberOrInfinityArg } from './parse.js';
import type { Precision } from '../engine/precision.js';
import type { FleetRetriever } from '../eval/retriever.js';
import { applyPrecision, precisionOption } from './precision-option.js';
import { applyDevice, deviceOption } from './device-option.js';
import { rankOrAutoArg, resolveRank, type RankArg } from './scheduler-rank.js';
import { ADDRESSES_HELP, CA_HELP, connectFleet } from './fleet-options.js';

/** The settings `--preset paper` pins (commander's option keys are the EvalOverrides field names). */
const PINNED_BY_PAPER: readonly (keyof EvalOverrides)[] = [
  'numNeighbors', 'distanceThreshold', 'learningRate', 'adamEpsilon', 'weightDecay', 'maxLength', 'stride', 'optimizerScope',
  'splitText', 'contextMode', 'valPortion', 'seed', 'excludeDuplicates', 'resetWeights', 'trainOnScoredText',
  // Ours, not the paper's: the paper ran the k nearest with no budget.
  'selection', 'candidates', 'siftLambda', 'siftAlpha', 'siftKernel', 'budgetSeconds',
];

const flagName = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The overrides the user gave; with --preset paper, any of them that would change the paper's setting is an error. */
export function evalOverrides(o: Record<string, unknown>): EvalOverrides {
  const overrides: EvalOverrides = {};
  for (const key of PINNED_BY_PAPER) {
    if (o[key] === undefined) continue;
    if (key === 'resetWeights' && o[key] === true) continue; // commander's implicit value of --no-reset-weights
    if (o['preset'] === 'paper') throw new Error(`--preset paper uses the original's value of ${flagName(key === 'resetWeights' ? 'noResetWeights' : key)}; drop one of the two`);
    (overrides as Record<string, unknown>)[key] = o[key];
  }
  return overrides;
}

/** The retriever of every method but dynamic: the fleet's client and the embedder the index was built with. */
async function fleetRetriever(method: Method, o: Record<string, unknown>): Promise<FleetRetriever> {
  for (const flag of ['embedder', 'addresses', 'tokenFile']) {
    if (!o[flag]) throw new Error(`--method ${method} needs --embedder, --addresses and --token-file`);
  }
  const { FleetRetriever } = await import('../eval/retriever.js');
  const { loadEncoder } = await import('../models/index.js');
  const { loadTokenizer } = await import('../tokenizers/index.js');
  const client = await connectFleet({ addresses: o['addresses'] as string, tokenFile: o['tokenFile'] as string, onMissingShard: o['onMissingShard'] as 'fail' | 'partial', ca: o['ca'] as string | undefined });
  const embedder = loadEncoder(o['embedder'] as string, { device: o['device'] as string });
  return new FleetRetriever(client, { model: embedder, tokenizer: loadTokenizer(o['embedder'] as string) });
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description('evaluate TTT-NN (ttt) or a baseline (context, interpolation, dynamic) or the random-documents control; results go to RESULTS/<label>/<task>.rank<R>.jsonl (label: the method, or <method>+<selection>[@<S>s] with --selection / --budget-seconds), one line per document, and a rerun resumes')
    .addOption(new Option('--method <method>', 'ttt: train on each neighbour; context: neighbours in the context; interpolation: mix with the neighbours\' unigram distribution; dynamic: train on the first half of the document, score the second; random: train on random documents of the index (a control)').choices([...METHODS]).default('ttt'))
    .addOption(new Option('--preset <name>', 'paper: every setting as the paper\'s runs (condor/*.sub) for this method and model type; a flag that would change one is an error').choices(['paper']))
    .requiredOption('--model <dir>', 'causal LM checkpoint directory (gpt2, gpt_neo)')
    .option('--tokenizer <dir>', 'tokenizer directory (default: the model directory)')
    .option('--embedder <dir>', 'encoder checkpoint the index was built with (not needed for dynamic)')
    .option('--addresses <file|list>', `${ADDRESSES_HELP}; not needed for dynamic`)
    .option('--token-file <file>', 'token file of the shard servers')
    .option('--ca <file>', CA_HELP)
    .requiredOption('--data <file>', 'test JSONL file')
    .addOption(new Option('--tasks <tasks>', 'pile_all, or comma-separated task names (pile_github, ...)').default('pile_all'))
    .requiredOption('--results-dir <dir>', 'where result files go')
    .addOption(new Option('--rank <r>', 'this process\'s rank: it takes every world-size-th document from rank (0); auto: from the scheduler (a Slurm array\'s SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, srun\'s SLURM_PROCID, a Kubernetes Indexed Job\'s JOB_COMPLETION_INDEX)').argParser(rankOrAutoArg('--rank')))
    .addOption(new Option('--world-size <w>', 'number of evaluation processes (1); auto: from the scheduler (SLURM_ARRAY_TASK_COUNT, SLURM_NTASKS, or TTTNN_WORLD_SIZE beside JOB_COMPLETION_INDEX)').argParser(rankOrAutoArg('--world-size')))
    .option('--num-neighbors <k>', 'neighbours retrieved per document (ttt 50, context/interpolation/dynamic 20)', integerArg('--num-neighbors'))
    .option('--learning-rate <lr>', 'test-time learning rate (GPT-2 2e-5, GPT-Neo 5e-6)', numberArg('--learning-rate'))
    .option('--adam-epsilon <eps>', 'AdamW epsilon (1e-8)', numberArg('--adam-epsilon'))
    .option('--weight-decay <wd>', "AdamW weight decay (0.01, torch's default as the original)", numberArg('--weight-decay'))
    .addOption(new Option('--optimizer-scope <scope>', "AdamW's moments: task (one AdamW per task, never reset between its documents: the original), document (fresh per document) or run (one for the whole run); task and run save the moments after every document so that a rerun resumes exactly").choices(['task', 'document', 'run']))
    .option('--max-length <n>', "training window length (the model's context: GPT-2 1024, GPT-Neo 2048); scoring always uses the model's context", integerArg('--max-length'))
    .option('--stride <n>', 'tokens between training windows (max-length)', integerArg('--stride'))
    .option('--distance-threshold <d>', 'keep a neighbour when the plain Euclidean distance ‖vector − query embedding‖ is below this (ttt 4.0, context 2.3, interpolation none; inf: keep all); result files record plain distances', numberOrInfinityArg('--distance-threshold'))
    .option('--no-reset-weights', 'keep the trained weights from one document to the next')
    .option('--split-text', 'retrieve with the first half of each document (at most 1024 tokens) and score the rest (default for dynamic)')
    .option('--no-split-text', 'score the whole document (dynamic evaluation then needs --train-on-scored-text)')
    .option('--train-on-scored-text', 'let dynamic evaluation without --split-text train on the text it scores (a leak, refused otherwise)')
    .addOption(new Option('--context-mode <mode>', 'in-context baseline: single (the original: neighbours only for documents that fit one window, farthest text kept) or windows (half-length windows, nearest neighbour kept, a curve over k)').choices(['single', 'windows']))
    .option('--exclude-duplicates', 'drop neighbours identical to the test document (same text, or distance 0) before thresholding; they are counted either way')
    .option('--val-portion <p>', 'share of each task\'s shuffled test documents evaluated (0.2)', numberArg('--val-portion'))
    .option('--seed <n>', 'shuffle seed (1216; Python\'s random.Random)', integerArg('--seed'))
    .option('--docs-per-task <n>', 'at most this many documents per task (per rank)', integerArg('--docs-per-task'))
    .addOption(new Option('--selection <how>', 'which retrieved neighbours to train on, in which order: knn (the nearest, nearest first: the original), sift (SIFT: VTL picks among --candidates the one that most reduces the uncertainty about the query, given those already picked, so near-duplicates are passed over; it may pick one twice), random (uniformly among the candidates: a control); results go to <method>+<selection>').choices([...SELECTIONS]))
    .option('--candidates <K>', 'sift / random: neighbours retrieved to select --num-neighbors from (200); the distance threshold applies to them first', integerArg('--candidates'))
    .option('--sift-lambda <l>', "SIFT's noise variance lambda: larger favours relevance over diversity (0.01, activeft's)", numberArg('--sift-lambda'))
    .option('--sift-alpha <a>', 'adaptive SIFT (activeft): keep pick t only while the remaining uncertainty sqrt(variance) is at most 1/(alpha t); fewer neighbours where more would add little. Results record how many were kept and why', numberArg('--sift-alpha'))
    .addOption(new Option('--sift-kernel <k>', "SIFT's kernel: cosine (inner product of unit-normalized embeddings, as activeft's experiments) or inner-product (of the raw mean-pooled vectors)").choices(['cosine', 'inner-product']))
    .option('--budget-seconds <s>', 'wall seconds per document for retrieval, selection, training and evaluation: no training step starts after it, the model is scored once more and the document ends; results record seconds per stage and whether the budget stopped it (<method>@<s>s)', numberArg('--budget-seconds'))
    .addOption(precisionOption('fp32'))
    .addOption(deviceOption())
    .addOption(new Option('--on-missing-shard <policy>', 'fail, or retrieve from the shards that answer and flag the document').choices(['fail', 'partial']).default('fail'))
    .addHelpText('after', `\n${describeDefaults()}`)
    .action(async (o: Record<string, unknown>) => {
      const { loadCausalLM } = await import('../models/index.js');
      const { loadTokenizer } = await import('../tokenizers/index.js');
      const { runEvaluation } = await import('../eval/runner.js');
      const { EvaluationInterrupted } = await import('../eval/ttt.js');
      const method = o['method'] as Method;
      const overrides = evalOverrides(o);
      const { rank, worldSize } = resolveRank(o['rank'] as RankArg, o['worldSize'] as RankArg, process.env);
      await applyPrecision(o['precision'] as Precision, 'eval');
      await applyDevice(o['device'] as string, 'eval');
      const model = loadCausalLM(o['model'] as string, { device: o['device'] as string });
      let stop = false;
      const onSignal = (): void => {
        stop = true;
        console.error('tttnn eval: stopping after the current neighbour (Ctrl-C again to kill)');
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onSignal);
      try {
        const retriever = method === 'dynamic' ? undefined : await fleetRetriever(method, o);
        const tasks = o['tasks'] === 'pile_all' ? 'pile_all' : (o['tasks'] as string).split(',').map((t) => t.trim());
        const { ProgressLine } = await import('./progress-line.js');
        const line = new ProgressLine(`eval ${method}`, { unit: 'documents' });
        const result = await runEvaluation({
          ...overrides, method, model, tokenizer: loadTokenizer((o['tokenizer'] as string | undefined) ?? (o['model'] as string)), retriever,
          data: o['data'] as string, tasks, resultsDir: o['resultsDir'] as string, rank, worldSize,
          docsPerTask: o['docsPerTask'] as number | undefined, shouldStop: () => stop,
          progress: (text) => line.log(text),
          onDocument: (done, total, detail) => line.update(done, detail, total),
        });
        line.finish(`${result.evaluated} documents evaluated, ${result.skipped} reused`);
        console.log(JSON.stringify(result));
      } catch (error) {
        if (!(error instanceof EvaluationInterrupted)) throw error;
        console.error(`tttnn eval: ${error.message}`);
        process.exitCode = 130;
      } finally {
        process.off('SIGINT', onSignal);
        model.dispose();
      }
    });
}
