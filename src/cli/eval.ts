// `tttnn eval`: TTT-NN and its baselines over the test documents. Defaults
// are the original's, per method; every setting's flag, help and default
// come from its one declaration (src/eval/settings.ts), and the methods
// from their registry (src/eval/methods/). A flag left out means "the
// default": only the flags a user typed are passed on.
import { type Command, Option } from 'commander';
import { METHOD_REGISTRY, METHODS, methodNamed, type Method } from '../eval/methods/index.js';
import { flagOf, SETTINGS, usesSetting, type AnySetting, type EvalOverrides } from '../eval/settings.js';
import { describeDefault, describeDefaults, describeUsage, flagsOf } from '../eval/settings-help.js';
import { describeModelTypes } from '../models/model-types.js';
import { DEFAULT_MAX_LINE_BYTES, MAX_LINE_BYTES_HELP } from '../data/lines.js';
import { integerArg, listArg, numberArg, numberOrInfinityArg } from './parse.js';
import type { Precision } from '../engine/precision.js';
import type { FleetRetriever } from '../eval/retriever.js';
import { applyPrecision, precisionOption } from './precision-option.js';
import { applyDevice, deviceOption } from './device-option.js';
import { rankOrAutoArg, resolveRank, type RankArg } from './scheduler-rank.js';
import { ADDRESSES_HELP, CA_HELP, connectRetriever } from './fleet-options.js';

/** The commander options of one declared setting (none for a setting without a flag). */
export function settingOptions(d: AnySetting): Option[] {
  const flag = flagOf(d.key);
  // A switch's help says what the flag does; its default is said of the setting ("reset weights ...: on").
  const boolean = d.type.kind === 'switch' || d.type.kind === 'toggle' || d.type.kind === 'off-switch';
  const help = `${d.help} (default: ${boolean ? `${d.title}: ` : ''}${describeDefault(d)}; methods: ${describeUsage(d)})`;
  const [spelled] = flagsOf(d);
  switch (d.type.kind) {
    case 'none':
      return [];
    case 'integer':
      return [new Option(spelled as string, help).argParser(integerArg(flag))];
    case 'number':
      return [new Option(spelled as string, help).argParser(numberArg(flag))];
    case 'number-or-infinity':
      return [new Option(spelled as string, help).argParser(numberOrInfinityArg(flag))];
    case 'rank':
      return [new Option(spelled as string, help).argParser(rankOrAutoArg(flag))];
    case 'path':
      return [new Option(spelled as string, help)];
    case 'list':
      return [new Option(spelled as string, help).argParser(listArg(flag))];
    case 'choice':
      return [new Option(spelled as string, help).choices([...d.type.choices])];
    case 'switch':
    case 'off-switch':
      return [new Option(spelled as string, help)];
    case 'toggle':
      return [new Option(spelled as string, help), new Option(flagsOf(d)[1] as string, d.type.negatedHelp)];
  }
}

/** The flag a user typed for setting `d` (its `--no-` form when that is the one given). */
const typedFlag = (d: AnySetting, value: unknown): string => (value === false && d.type.kind !== 'switch' ? `--no-${flagOf(d.key).slice(2)}` : flagOf(d.key));

/**
 * The settings the user typed on `command` (commander's value source
 * 'cli'), every declared setting considered, so none can be dropped on the
 * way. With --preset paper, one the paper pins is an error. Rank and world
 * size may still be `auto` here (resolved from the scheduler by the action).
 */
export function evalOverrides(command: Command, warn: (line: string) => void = (line) => console.error(line)): EvalOverrides & { rank?: RankArg; worldSize?: RankArg } {
  const o = command.opts<Record<string, unknown>>();
  const method = methodNamed(o['method'] as string);
  const overrides: Record<string, unknown> = {};
  for (const d of SETTINGS) {
    if (command.getOptionValueSource(d.key) !== 'cli') continue;
    const value = o[d.key];
    if (o['preset'] === 'paper' && d.paper === 'pinned') throw new Error(`--preset paper uses the original's value of ${typedFlag(d, value)}; drop one of the two`);
    if (!usesSetting(d, method)) warn(`tttnn eval: ${typedFlag(d, value)} does not change --method ${method.name} (it is used by: ${describeUsage(d)})`);
    overrides[d.key] = value;
  }
  return overrides;
}

/** The options of `tttnn eval` that are not evaluation settings: what to evaluate, where, and with which fleet. */
interface EvalCommandOptions {
  method: Method;
  preset?: 'paper';
  model: string;
  tokenizer?: string;
  embedder?: string;
  addresses?: string;
  tokenFile?: string;
  ca?: string;
  data?: string;
  tasks: string;
  numFewshot?: number;
  taskData?: string;
  resultsDir: string;
  precision: Precision;
  onMissingShard: 'fail' | 'partial';
  forceMix?: boolean;
  maxLineBytes: number;
  device: string;
  logdir?: string;
}

/** The retriever of every method that retrieves: the fleet's client and the embedder the index was built with. */
async function fleetRetriever(o: EvalCommandOptions): Promise<FleetRetriever> {
  const { embedder, addresses, tokenFile } = o;
  if (!embedder || !addresses || !tokenFile) throw new Error(`--method ${o.method} needs --embedder, --addresses and --token-file`);
  return (await connectRetriever({ addresses, tokenFile, onMissingShard: o.onMissingShard, ca: o.ca, embedder, device: o.device })).retriever;
}

export function registerEvalCommand(program: Command): Command {
  const command = program
    .command('eval')
    .description('evaluate TTT-NN (ttt) or a baseline (context, interpolation, dynamic) or the random-documents control; results go to RESULTS/<label>/<task>.rank<R>.jsonl (label: the method, or <method>+<selection>[@<S>s] with --selection / --budget-seconds), one line per document, and a rerun resumes')
    .addOption(new Option('--method <method>', METHOD_REGISTRY.map((m) => `${m.name}: ${m.summary}`).join('; ')).choices([...METHODS]).default('ttt'))
    .addOption(new Option('--preset <name>', "paper: every setting as the paper's runs (condor/*.sub) for this method and model type; a flag that would change one is an error. (No `sift` preset: jonhue/activeft publishes only SIFT's lambda = 0.01, activeft/sift.py:56, already --sift-lambda's default; the LoRA rank, alpha, targets, learning rate and neighbours of the SIFT paper's runs were not found in its code.)").choices(['paper']))
    .requiredOption('--model <dir>', `causal LM checkpoint directory (${describeModelTypes('causal')}), or a tttnn train output directory (its newest complete checkpoint)`)
    .option('--tokenizer <dir>', 'tokenizer directory (default: the model directory)')
    .option('--embedder <dir>', 'encoder checkpoint the index was built with, or the tttnn train output directory it came from (not needed for dynamic)')
    .option('--addresses <file|list>', `${ADDRESSES_HELP}; not needed for dynamic`)
    .option('--token-file <file>', 'token file of the shard servers')
    .option('--ca <file>', CA_HELP)
    .option('--data <file>', 'test file of the Pile\'s tasks: JSONL (.jsonl, .jsonl.zst) or Parquet (.parquet: "text" and "meta" or "pile_set_name" columns)')
    .addOption(new Option('--tasks <tasks>', 'pile_all, or comma-separated task names (pile_github, ...); or downstream tasks in lm-evaluation-harness\'s YAML format: shipped names (boolq, cb, copa, rte, wic, wsc, multirc, lambada_openai, lambada_standard, hellaswag; super_glue for the original\'s set) or YAML paths — the task\'s metric (accuracy, ...) after 0..k neighbours, in RESULTS/tasks/<label>/').default('pile_all'))
    .option('--num-fewshot <n>', 'downstream tasks: few-shot examples before each question, drawn by the harness\'s seeded sampler (default: the YAML\'s num_fewshot, else 0, as lm_eval)', integerArg('--num-fewshot'))
    .option('--task-data <dir>', 'downstream tasks: the directory the YAMLs\' relative data paths are in (shipped YAMLs: <dir>/<task>/<split>.jsonl in the Hugging Face dataset\'s columns; default: the YAML\'s directory)')
    .requiredOption('--results-dir <dir>', 'where result files go');
  // Every evaluation setting, from its declaration.
  for (const d of SETTINGS) for (const option of settingOptions(d)) command.addOption(option);
  command
    .addOption(precisionOption('fp32'))
    .addOption(deviceOption())
    .addOption(new Option('--on-missing-shard <policy>', 'fail, or retrieve from the shards that answer and flag the document').choices(['fail', 'partial']).default('fail'))
    .addOption(new Option('--max-line-bytes <n>', MAX_LINE_BYTES_HELP).default(DEFAULT_MAX_LINE_BYTES).argParser(integerArg('--max-line-bytes')))
    .option('--force-mix', "add to a results directory whose run.json records other settings, model, tokenizer, data, embedder or index (refused otherwise: the report would average the two runs); the record keeps what differed and the report warns")
    .option('--logdir <dir>', 'TensorBoard event files: each document\'s bits per byte over its curve (documents/<task>/<id>) and the running pile_all and per-task values (default RESULTS/<label>/tensorboard)')
    .addHelpText('after', `\n${describeDefaults()}`)
    .action(async (o: EvalCommandOptions, command: Command) => {
      const { loadCausalLM } = await import('../models/index.js');
      const { loadTokenizer } = await import('../tokenizers/index.js');
      const { runEvaluation } = await import('../eval/runner.js');
      const { EvaluationInterrupted } = await import('../eval/ttt.js');
      const method = methodNamed(o.method);
      const overrides = evalOverrides(command);
      const { rank, worldSize } = resolveRank(overrides.rank, overrides.worldSize, process.env);
      await applyPrecision(o.precision, 'eval');
      await applyDevice(o.device, 'eval');
      const { resolveModelDirectory } = await import('./model-directory.js');
      o.model = resolveModelDirectory(o.model, '--model', 'model');
      if (o.embedder !== undefined) o.embedder = resolveModelDirectory(o.embedder, '--embedder', 'model');
      const model = loadCausalLM(o.model, { device: o.device });
      let stop = false;
      const onSignal = (): void => {
        stop = true;
        console.error('tttnn eval: stopping after the current neighbour (Ctrl-C again to kill)');
        process.once('SIGINT', () => process.exit(130));
      };
      process.once('SIGINT', onSignal);
      try {
        const tasks = o.tasks === 'pile_all' ? 'pile_all' : o.tasks.split(',').map((t) => t.trim());
        const downstream = tasks === 'pile_all' ? [] : tasks.filter((t) => !t.startsWith('pile_'));
        const { runTaskEvaluation, SUPER_GLUE, checkTaskMethod } = await import('../eval/tasks/task-runner.js');
        if (downstream.length > 0) checkTaskMethod(o.method); // before connecting to the servers
        const retriever = method.retrieval === 'none' ? undefined : await fleetRetriever(o);
        const { ProgressLine } = await import('./progress-line.js');
        const line = new ProgressLine(`eval ${o.method}`, { unit: 'documents' });
        if (downstream.length > 0) {
          // Downstream tasks (lm-evaluation-harness YAMLs): src/eval/tasks/.
          if (downstream.length < tasks.length) throw new Error('--tasks: give the Pile\'s tasks and downstream tasks in separate runs');
          const result = await runTaskEvaluation({
            ...overrides, method: o.method, model, tokenizer: loadTokenizer(o.tokenizer ?? o.model), retriever, rank, worldSize,
            tasks: downstream.flatMap((t) => (t === 'super_glue' ? SUPER_GLUE : [t])), numFewshot: o.numFewshot, taskData: o.taskData, forceMix: o.forceMix,
            resultsDir: o.resultsDir, shouldStop: () => stop, progress: (text) => line.log(text), onDocument: (done, total, detail) => line.update(done, detail, total),
          });
          line.finish(`${result.evaluated} documents evaluated, ${result.skipped} reused`);
          console.log(JSON.stringify(result));
          return;
        }
        if (o.numFewshot !== undefined || o.taskData !== undefined) throw new Error('--num-fewshot and --task-data apply to downstream tasks (--tasks boolq, ...), not the Pile\'s');
        if (!o.data) throw new Error('--data <file> is required for the Pile\'s tasks');
        const result = await runEvaluation({
          ...overrides, method: o.method, model, tokenizer: loadTokenizer(o.tokenizer ?? o.model), retriever,
          data: o.data, tasks, resultsDir: o.resultsDir, rank, worldSize, forceMix: o.forceMix, maxLineBytes: o.maxLineBytes, shouldStop: () => stop, logdir: o.logdir,
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
  return command;
}
