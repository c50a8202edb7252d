// Evaluation settings, declared once. Each entry of SETTINGS says what a
// setting is: its type, its default and where the original set it
// (socialfoundations/tttlm file:line), its flag and help, whether
// `--preset paper` pins it, which methods it changes, and its check. From
// that one list come the CLI's options (cli/eval.ts), `resolveSettings`,
// `--help`'s defaults, the preset, and the table of defaults in
// docs/DESIGN.md (settings-help.ts; test/eval/settings.test.ts keeps it in
// step). runner.ts and the methods read the resolved EvalSettings and never
// default anything themselves.
//
// A new setting: a field in EvalSettings and one entry in SETTINGS.
import { LIMITS } from '../retrieval/protocol.js';
import { methodNamed, type EvalMethod, type Method, type MethodDefaults, type Sourced } from './methods/index.js';
import { at } from './methods/method.js';
import { SELECTIONS, type Selection, type SiftKernel } from './selection.js';
import { readAdapterConfig } from '../models/lora-config.js';
import { LORA_TARGET_MODULES } from '../models/lora-targets.js';

export { METHODS, type Method } from './methods/index.js';

/** Who owns AdamW's moments: one AdamW per task (the original), per document, or one for the whole run. */
export type OptimizerScope = 'task' | 'document' | 'run';
/** What test-time training updates: every weight (the original) or a LoRA adapter on a frozen base. */
export type Trainable = 'full' | 'lora';
/** In-context baseline: the original's single window, or ours (half-length windows, the nearest neighbour kept). */
export type ContextMode = 'single' | 'windows';

export interface EvalSettings {
  method: Method;
  /** Neighbours retrieved per document (dynamic evaluation: copies of the query text). */
  numNeighbors: number;
  /** Keep a neighbour when the plain Euclidean distance to the query embedding is below this (Infinity: keep all). */
  distanceThreshold: number;
  learningRate: number;
  adamEpsilon: number;
  adamBetas: [number, number];
  weightDecay: number;
  gradClip: number;
  /** Training window length and stride, in tokens. */
  maxLength: number;
  stride: number;
  /** Scoring window: the model's context, always (lm_eval/gpt2.py:56-62, HFLM.max_length = n_ctx). */
  scoreLength: number;
  resetWeights: boolean;
  optimizerScope: OptimizerScope;
  /** full (the original) or lora: PEFT-style adapters on a frozen base (models/lora.ts). */
  trainable: Trainable;
  /** A PEFT adapter directory to start every document from; undefined: PEFT's default initialisation. */
  loraInit?: string;
  loraRank: number;
  loraAlpha: number;
  loraDropout: number;
  /** PEFT's target_modules: module-name suffixes (or one regular expression, from an adapter's config). */
  loraTargets: readonly string[] | string;
  splitText: boolean;
  /** Dynamic evaluation without --split-text trains on the text it scores: allowed only when named. */
  trainOnScoredText: boolean;
  contextMode: ContextMode;
  valPortion: number;
  seed: number;
  excludeDuplicates: boolean;
  docsPerTask?: number;
  rank: number;
  worldSize: number;
  /** Which retrieved candidates are used, in which order (selection.ts): knn (the original), sift or random. */
  selection: Selection;
  /** sift / random: candidates retrieved to select from. */
  candidates: number;
  siftLambda: number;
  /** Adaptive SIFT's alpha; undefined: always select numNeighbors. */
  siftAlpha?: number;
  siftKernel: SiftKernel;
  /** Wall seconds per document (retrieval, selection, training, evaluation); undefined: no budget. */
  budgetSeconds?: number;
}

/** The settings a user may give (the method and the scoring window are not settings: one is chosen, the other is the model's). */
export type SettingKey = Exclude<keyof EvalSettings, 'method' | 'scoreLength'>;

/** What the user set (undefined: the default). */
export type EvalOverrides = Partial<Pick<EvalSettings, SettingKey>>;

export interface ModelFacts {
  modelType: string;
  contextLength: number;
}

/**
 * How a setting is given on the command line (cli/eval.ts turns each into a
 * commander option; the flag is `--` + the key in kebab case):
 * `switch` is `--x` (on), `toggle` both `--x` and `--no-x`, `off-switch`
 * only `--no-x` (on by default), `rank` a number or `auto` (the scheduler's).
 */
export type SettingType =
  | { kind: 'integer'; metavar: string }
  | { kind: 'number'; metavar: string }
  | { kind: 'number-or-infinity'; metavar: string }
  | { kind: 'choice'; metavar: string; choices: readonly string[] }
  | { kind: 'switch' }
  | { kind: 'toggle'; negatedHelp: string }
  | { kind: 'off-switch' }
  | { kind: 'rank'; metavar: string }
  | { kind: 'path'; metavar: string }
  | { kind: 'list'; metavar: string }
  | { kind: 'none' };

/**
 * Where a default comes from: a fixed value, the method's own (methods/),
 * one derived from the model or from settings resolved before it, or none
 * (the feature is off).
 */
export type SettingDefault<V> =
  | { from: 'fixed'; value: V; source: string }
  | { from: 'method'; key: keyof MethodDefaults }
  | { from: 'derived'; describe: string; source: string; resolve: (s: EvalSettings, model: ModelFacts) => V }
  | { from: 'none'; describe: string; source: string };

/** Which methods a setting changes a number of. */
export type Usage = 'all' | 'training' | 'retrieving' | 'selecting' | readonly Method[];

export interface SettingDeclaration<K extends SettingKey> {
  key: K;
  /** Words for the table of defaults ("neighbours", "AdamW epsilon"). */
  title: string;
  type: SettingType;
  /** --help text; the default is appended. */
  help: string;
  default: SettingDefault<EvalSettings[K]>;
  /** --preset paper: pinned (giving the flag is an error), or why the paper leaves it free. */
  paper: 'pinned' | { free: string };
  usedBy: Usage;
  /** A message naming the flag when the resolved value (or its combination with others) is refused. */
  check?: (value: EvalSettings[K], s: EvalSettings, model: ModelFacts, method: EvalMethod) => string | undefined;
}

/** Any one setting's declaration (a union over the keys, so each keeps its own value type). */
export type AnySetting = { [K in SettingKey]-?: SettingDeclaration<K> }[SettingKey];

const setting = <K extends SettingKey>(d: SettingDeclaration<K>): SettingDeclaration<K> => d;

/** The original's learning rates by model type (eval_tttlm.py:41; condor/eval_pile_all.sub:3-5). */
export const LEARNING_RATES: Record<string, Sourced<number>> = {
  gpt2: at(2e-5, 'condor/eval_pile_all.sub:5, condor/eval_dynamic_eval.sub:10'),
  gpt_neo: at(5e-6, 'eval_tttlm.py:41, condor/eval_pile_all.sub:4'),
};

const positiveInteger = (flag: string, v: number): string | undefined => (Number.isInteger(v) && v >= 1 ? undefined : `${flag} must be a positive integer, got ${v}`);
const positive = (flag: string, v: number): string | undefined => (v > 0 ? undefined : `${flag} must be positive, got ${v}`);
/** With --lora-init, a --lora-* flag must agree with the adapter's own configuration (it is the adapter's, not a choice). */
function fromAdapter<V>(flag: string, v: V, s: EvalSettings, read: (c: ReturnType<typeof readAdapterConfig>) => V): string | undefined {
  if (s.loraInit === undefined || s.trainable !== 'lora') return undefined;
  const own = read(readAdapterConfig(s.loraInit));
  return JSON.stringify(own) === JSON.stringify(v) ? undefined : `${flag} ${JSON.stringify(v)} differs from the starting adapter's (${JSON.stringify(own)} in ${s.loraInit}/adapter_config.json): drop the flag`;
}

const SERVER_CAP = (flag: string, v: number): string | undefined => (v > LIMITS.maxK ? `${flag} ${v} is above the ${LIMITS.maxK} neighbours a shard server returns per query` : undefined);

const DECLARED = [
  setting({
    key: 'numNeighbors', title: 'neighbours', type: { kind: 'integer', metavar: '<k>' },
    help: 'neighbours retrieved per document (dynamic: copies of the query text trained on)',
    default: { from: 'method', key: 'numNeighbors' }, paper: 'pinned', usedBy: 'all',
    // The shard servers answer at most LIMITS.maxK neighbours a query: refuse now, not at the first document.
    check: (v, _s, _m, method) => positiveInteger('--num-neighbors', v) ?? (method.retrieval === 'none' ? undefined : SERVER_CAP('--num-neighbors', v)),
  }),
  setting({
    key: 'distanceThreshold', title: 'distance threshold', type: { kind: 'number-or-infinity', metavar: '<d>' },
    help: 'keep a neighbour when the plain Euclidean distance ‖vector − query embedding‖ is below this (inf: keep all); result files record plain distances',
    default: { from: 'method', key: 'distanceThreshold' }, paper: 'pinned', usedBy: 'retrieving',
    check: (v) => positive('--distance-threshold', v),
  }),
  setting({
    key: 'splitText', title: 'split text', type: { kind: 'toggle', negatedHelp: 'score the whole document (dynamic evaluation then needs --train-on-scored-text)' },
    help: 'retrieve with (dynamic: train on) the first half of each document, at most 1024 tokens, and score the rest',
    default: { from: 'method', key: 'splitText' }, paper: 'pinned', usedBy: 'all',
  }),
  setting({
    key: 'trainOnScoredText', title: 'train on the scored text', type: { kind: 'switch' },
    help: 'let dynamic evaluation without --split-text train on the text it scores (a leak, refused otherwise)',
    default: { from: 'fixed', value: false, source: 'ours: the paper ran dynamic evaluation with --split_text (condor/eval_dynamic_eval.sub:15)' }, paper: 'pinned', usedBy: ['dynamic'],
    check: (v, s, _m, method) =>
      method.name === 'dynamic' && !s.splitText && !v
        ? 'dynamic evaluation without --split-text trains on the very text it scores (a leak: the paper ran --split_text, condor/eval_dynamic_eval.sub:15); keep --split-text, or pass --train-on-scored-text to measure it anyway'
        : undefined,
  }),
  setting({
    key: 'learningRate', title: 'learning rate', type: { kind: 'number', metavar: '<lr>' },
    help: 'test-time learning rate',
    default: {
      from: 'derived',
      describe: Object.entries(LEARNING_RATES).map(([type, lr]) => `${type} ${lr.value.toExponential()}`).join(', '),
      source: Object.entries(LEARNING_RATES).map(([type, lr]) => `${type}: ${lr.source}`).join('; '),
      resolve: (s, model) => {
        const lr = LEARNING_RATES[model.modelType]?.value;
        // A method that does not train (context, interpolation) uses no learning rate: 0 records that, and nothing is asked for.
        if (lr === undefined && !methodNamed(s.method).trains) return 0;
        if (lr === undefined) {
          // No source publishes a TTT-NN learning rate for the newer families; choosing one would be ours, not the original's.
          const known = Object.entries(LEARNING_RATES).map(([type, rate]) => `${type} ${rate.value.toExponential()} (${rate.source})`).join(', ');
          throw new Error(`no default learning rate for model type ${model.modelType}: pass --learning-rate <lr> (the original's, for its models: ${known}; none is published for ${model.modelType})`);
        }
        return lr;
      },
    },
    paper: 'pinned', usedBy: 'training',
    check: (v, _s, _model, method) => (method.trains ? positive('--learning-rate', v) : undefined),
  }),
  setting({
    key: 'adamEpsilon', title: 'AdamW epsilon', type: { kind: 'number', metavar: '<eps>' }, help: 'AdamW epsilon',
    default: { from: 'fixed', value: 1e-8, source: 'eval_tttlm.py:40' }, paper: 'pinned', usedBy: 'training',
  }),
  setting({
    key: 'adamBetas', title: 'AdamW betas', type: { kind: 'none' }, help: 'AdamW betas',
    default: { from: 'fixed', value: [0.9, 0.999], source: "torch.optim.AdamW's default (eval_tttlm.py:82-84 passes only lr and eps)" }, paper: 'pinned', usedBy: 'training',
  }),
  setting({
    key: 'weightDecay', title: 'AdamW weight decay', type: { kind: 'number', metavar: '<wd>' }, help: "AdamW weight decay (torch's default, as the original)",
    default: { from: 'fixed', value: 0.01, source: "torch.optim.AdamW's default (eval_tttlm.py:82-84)" }, paper: 'pinned', usedBy: 'training',
  }),
  setting({
    key: 'gradClip', title: 'gradient clipping (norm)', type: { kind: 'none' }, help: 'gradient norm clipping',
    default: { from: 'fixed', value: 1.0, source: 'eval_tttlm.py:248' }, paper: 'pinned', usedBy: 'training',
  }),
  setting({
    key: 'optimizerScope', title: 'optimizer scope', type: { kind: 'choice', metavar: '<scope>', choices: ['task', 'document', 'run'] },
    help: "AdamW's moments: task (one AdamW per task, never reset between its documents: the original), document (fresh per document) or run (one for the whole run); task and run save the moments after every document so that a rerun resumes exactly",
    default: { from: 'fixed', value: 'task', source: 'eval_tttlm.py:82 (one AdamW per TTTLM) and :466 (one TTTLM per task)' }, paper: 'pinned', usedBy: 'training',
  }),
  setting({
    key: 'trainable', title: 'trainable weights', type: { kind: 'choice', metavar: '<what>', choices: ['full', 'lora'] },
    help: 'what test-time training updates: full (every weight: the original) or lora (PEFT-style LoRA adapters on a frozen base: only the adapter gets gradients, AdamW moments and the gradient clipping; the adapter is reset after each document and the base weights are checked unchanged; results go to <method>+lora). Choose lora for models whose full AdamW state does not fit in memory, or for a cheaper step',
    default: { from: 'fixed', value: 'full', source: 'eval_tttlm.py:82 (AdamW over model.parameters())' }, paper: 'pinned', usedBy: 'training',
  }),
  setting({
    key: 'loraInit', title: 'LoRA starting adapter', type: { kind: 'path', metavar: '<dir>' },
    help: 'a PEFT adapter directory (adapter_config.json + adapter_model.safetensors) every document starts from; its r, lora_alpha, lora_dropout and target_modules become the defaults of the --lora-* flags',
    default: { from: 'none', describe: "PEFT's initialisation: A kaiming-uniform (a = sqrt 5), B zeros, from --seed", source: 'peft/tuners/lora/layer.py:338, :343 (peft 0.21.0)' }, paper: 'pinned', usedBy: 'training',
    check: (v, s) => (v !== undefined && s.trainable !== 'lora' ? '--lora-init is a LoRA adapter: it needs --trainable lora' : undefined),
  }),
  setting({
    key: 'loraRank', title: 'LoRA rank', type: { kind: 'integer', metavar: '<r>' }, help: "LoRA's rank r (PEFT's r)",
    default: { from: 'derived', describe: "8, or --lora-init's r", source: 'PEFT LoraConfig r (peft/tuners/lora/config.py:632, peft 0.21.0)', resolve: (s) => (s.loraInit ? readAdapterConfig(s.loraInit).rank : 8) },
    paper: 'pinned', usedBy: 'training',
    check: (v, s) => positiveInteger('--lora-rank', v) ?? fromAdapter('--lora-rank', v, s, (c) => c.rank),
  }),
  setting({
    key: 'loraAlpha', title: 'LoRA alpha', type: { kind: 'number', metavar: '<a>' }, help: "LoRA's alpha: the adapter's output is scaled by alpha / rank (PEFT's lora_alpha)",
    default: { from: 'derived', describe: "8, or --lora-init's lora_alpha", source: 'PEFT LoraConfig lora_alpha (peft/tuners/lora/config.py:652, peft 0.21.0)', resolve: (s) => (s.loraInit ? readAdapterConfig(s.loraInit).alpha : 8) },
    paper: 'pinned', usedBy: 'training',
    check: (v, s) => positive('--lora-alpha', v) ?? fromAdapter('--lora-alpha', v, s, (c) => c.alpha),
  }),
  setting({
    key: 'loraDropout', title: 'LoRA dropout', type: { kind: 'number', metavar: '<p>' }, help: "dropout on the adapter's input during training steps (PEFT's lora_dropout)",
    default: { from: 'derived', describe: "0, or --lora-init's lora_dropout", source: 'PEFT LoraConfig lora_dropout (peft/tuners/lora/config.py:653, peft 0.21.0)', resolve: (s) => (s.loraInit ? readAdapterConfig(s.loraInit).dropout : 0) },
    paper: 'pinned', usedBy: 'training',
    check: (v, s) => (v >= 0 && v < 1 ? undefined : `--lora-dropout must be in [0, 1), got ${v}`) ?? fromAdapter('--lora-dropout', v, s, (c) => c.dropout),
  }),
  setting({
    key: 'loraTargets', title: 'LoRA target modules', type: { kind: 'list', metavar: '<names>' },
    help: "comma-separated module names to adapt; a name matches a dense layer whose module name equals it or ends with '.' + it (PEFT's target_modules)",
    default: {
      from: 'derived',
      describe: `PEFT's per architecture: ${Object.entries(LORA_TARGET_MODULES).map(([type, t]) => `${type} ${t.modules.join(', ')}`).join('; ')}; or --lora-init's target_modules`,
      source: `PEFT TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING: ${Object.entries(LORA_TARGET_MODULES).map(([type, t]) => `${type}: ${t.source}`).join('; ')}`,
      resolve: (s, model) => (s.loraInit ? readAdapterConfig(s.loraInit).targets : LORA_TARGET_MODULES[model.modelType]?.modules ?? []),
    },
    paper: 'pinned', usedBy: 'training',
    check: (v, s, model) =>
      s.trainable === 'lora' && v.length === 0
        ? `no default LoRA target modules for model type ${model.modelType}: pass --lora-targets (module names, e.g. q_proj,v_proj)`
        : fromAdapter('--lora-targets', v, s, (c) => c.targets),
  }),
  setting({
    key: 'resetWeights', title: 'reset weights after each document', type: { kind: 'off-switch' },
    help: 'keep the trained weights from one document to the next',
    default: { from: 'fixed', value: true, source: 'eval_tttlm.py:45, :305-306' }, paper: 'pinned', usedBy: 'training',
  }),
  setting({
    key: 'maxLength', title: 'training window', type: { kind: 'integer', metavar: '<n>' },
    help: 'training window length; scoring always uses the model\'s context',
    default: { from: 'derived', describe: "the model's context (GPT-2 1024, GPT-Neo 2048)", source: "eval_tttlm.py:43-44 (2048 for GPT-Neo); condor/eval_*.sub pass 1024 for GPT-2: the model's context either way", resolve: (_s, model) => model.contextLength },
    paper: 'pinned', usedBy: 'training',
    check: (v, _s, model) => positiveInteger('--max-length', v) ?? (v > model.contextLength ? `--max-length ${v} is longer than the model's context (${model.contextLength})` : undefined),
  }),
  setting({
    key: 'stride', title: 'training stride', type: { kind: 'integer', metavar: '<n>' }, help: 'tokens between training windows',
    default: { from: 'derived', describe: '--max-length', source: 'eval_tttlm.py:43-44 (stride = max_length)', resolve: (s) => s.maxLength },
    paper: 'pinned', usedBy: 'training',
    check: (v) => positiveInteger('--stride', v),
  }),
  setting({
    key: 'contextMode', title: 'in-context mode', type: { kind: 'choice', metavar: '<mode>', choices: ['single', 'windows'] },
    help: 'in-context baseline: single (the original: neighbours only for documents that fit one window, farthest text kept) or windows (half-length windows, nearest neighbour kept, a curve over k)',
    default: { from: 'fixed', value: 'single', source: 'lm_eval/base.py:206-218' }, paper: 'pinned', usedBy: ['context'],
  }),
  setting({
    key: 'excludeDuplicates', title: 'exclude duplicates', type: { kind: 'switch' },
    help: 'drop neighbours identical to the test document (same text, or distance 0) before thresholding; they are counted either way',
    default: { from: 'fixed', value: false, source: 'ours: the original keeps them' }, paper: 'pinned', usedBy: 'retrieving',
  }),
  setting({
    key: 'valPortion', title: 'val portion', type: { kind: 'number', metavar: '<p>' }, help: "share of each task's shuffled test documents evaluated",
    default: { from: 'fixed', value: 0.2, source: "eval_tttlm.py:39; condor/eval_baseline_*.sub:14 (the baselines' own default is 1.0)" }, paper: 'pinned', usedBy: 'all',
    check: (v) => positive('--val-portion', v),
  }),
  setting({
    key: 'seed', title: 'shuffle seed (Python `random.Random`)', type: { kind: 'integer', metavar: '<n>' }, help: "shuffle seed (Python's random.Random)",
    default: { from: 'fixed', value: 1216, source: 'eval_tttlm.py:376' }, paper: 'pinned', usedBy: 'all',
  }),
  setting({
    key: 'docsPerTask', title: 'documents per task', type: { kind: 'integer', metavar: '<n>' }, help: 'at most this many documents per task (per rank)',
    default: { from: 'none', describe: 'all', source: 'eval_tttlm.py evaluates every selected document' }, paper: { free: 'a subset of the same documents' }, usedBy: 'all',
  }),
  setting({
    key: 'rank', title: 'rank', type: { kind: 'rank', metavar: '<r>' },
    help: "this process's rank: it takes every world-size-th document from rank; auto: from the scheduler (a Slurm array's SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, srun's SLURM_PROCID, a Kubernetes Indexed Job's JOB_COMPLETION_INDEX)",
    default: { from: 'fixed', value: 0, source: 'eval_tttlm.py (document i goes to rank i mod world_size)' }, paper: { free: 'how the documents are shared out, not which' }, usedBy: 'all',
    check: (v, s) => (Number.isInteger(s.worldSize) && s.worldSize >= 1 && Number.isInteger(v) && v >= 0 && v < s.worldSize ? undefined : `--rank ${v} must be in [0, --world-size ${s.worldSize})`),
  }),
  setting({
    key: 'worldSize', title: 'world size', type: { kind: 'rank', metavar: '<w>' },
    help: 'number of evaluation processes; auto: from the scheduler (SLURM_ARRAY_TASK_COUNT, SLURM_NTASKS, or TTTNN_WORLD_SIZE beside JOB_COMPLETION_INDEX)',
    default: { from: 'fixed', value: 1, source: 'eval_tttlm.py (one process unless the jobs are split)' }, paper: { free: 'how the documents are shared out, not which' }, usedBy: 'all',
  }),
  setting({
    key: 'selection', title: 'selection', type: { kind: 'choice', metavar: '<how>', choices: SELECTIONS },
    help: 'which retrieved neighbours to train on, in which order: knn (the nearest, nearest first: the original), sift (SIFT: VTL picks among --candidates the one that most reduces the uncertainty about the query, given those already picked, so near-duplicates are passed over; it may pick one twice), random (uniformly among the candidates: a control); results go to <method>+<selection>',
    default: { from: 'fixed', value: 'knn', source: 'the k nearest, nearest first (eval_tttlm.py:180-186); sift and random are ours' }, paper: 'pinned', usedBy: 'selecting',
    check: (v, _s, _m, method) => (v !== 'knn' && method.retrieval !== 'nearest' ? `--selection ${v} chooses among retrieved neighbours; --method ${method.name} retrieves none` : undefined),
  }),
  setting({
    key: 'candidates', title: 'candidates', type: { kind: 'integer', metavar: '<K>' }, help: 'sift / random: neighbours retrieved to select --num-neighbors from; the distance threshold applies to them first',
    default: { from: 'fixed', value: 200, source: "ours: SIFT's K candidates (activeft sift.py takes K from its caller)" }, paper: 'pinned', usedBy: 'selecting',
    check: (v, s) => positiveInteger('--candidates', v) ?? (s.selection === 'knn' ? undefined : SERVER_CAP('--candidates', v)),
  }),
  setting({
    key: 'siftLambda', title: 'SIFT lambda', type: { kind: 'number', metavar: '<l>' }, help: "SIFT's noise variance lambda: larger favours relevance over diversity",
    default: { from: 'fixed', value: 0.01, source: 'activeft sift.py Retriever(lambda_=0.01)' }, paper: 'pinned', usedBy: 'selecting',
    check: (v) => positive('--sift-lambda', v),
  }),
  setting({
    key: 'siftAlpha', title: 'adaptive SIFT alpha', type: { kind: 'number', metavar: '<a>' },
    help: 'adaptive SIFT (activeft): keep pick t only while the remaining uncertainty sqrt(variance) is at most 1/(alpha t); fewer neighbours where more would add little. Results record how many were kept and why',
    default: { from: 'none', describe: 'off', source: 'ours (activeft: alpha)' }, paper: 'pinned', usedBy: 'selecting',
    check: (v, s) => (v === undefined ? undefined : positive('--sift-alpha', v) ?? (s.selection !== 'sift' ? '--sift-alpha is adaptive SIFT: it needs --selection sift' : undefined)),
  }),
  setting({
    key: 'siftKernel', title: 'SIFT kernel', type: { kind: 'choice', metavar: '<k>', choices: ['cosine', 'inner-product'] },
    help: "SIFT's kernel: cosine (inner product of unit-normalized embeddings, as activeft's experiments) or inner-product (of the raw mean-pooled vectors)",
    default: { from: 'fixed', value: 'cosine', source: 'activeft computes inner products of the embeddings it searched; its experiments use unit-normalized ones' }, paper: 'pinned', usedBy: 'selecting',
  }),
  setting({
    key: 'budgetSeconds', title: 'budget per document', type: { kind: 'number', metavar: '<s>' },
    help: 'wall seconds per document for retrieval, selection, training and evaluation: no training step starts after it, the model is scored once more and the document ends; results record seconds per stage and whether the budget stopped it (<method>@<s>s)',
    default: { from: 'none', describe: 'none', source: 'ours: the original trains on every neighbour' }, paper: 'pinned', usedBy: 'training',
    check: (v, _s, _m, method) => (v === undefined ? undefined : positive('--budget-seconds', v) ?? (method.trains ? undefined : `--budget-seconds stops test-time training; --method ${method.name} does not train`)),
  }),
] as const;

/** Every evaluation setting, in the order they are resolved (a derived default sees those before it) and shown. */
export const SETTINGS: readonly AnySetting[] = DECLARED;

// Every settable field of EvalSettings has a declaration: a field added without one does not compile.
type Undeclared = Exclude<SettingKey, (typeof DECLARED)[number]['key']>;
const everySettingDeclared: [Undeclared] extends [never] ? true : { undeclared: Undeclared } = true;
void everySettingDeclared;

/** Whether `d` changes a number of `method`. */
export function usesSetting(d: AnySetting, method: EvalMethod): boolean {
  const u = d.usedBy;
  if (u === 'all') return true;
  if (u === 'training') return method.trains;
  if (u === 'retrieving') return method.retrieval !== 'none';
  if (u === 'selecting') return method.retrieval === 'nearest';
  return u.includes(method.name as Method);
}

/** A setting's default for `method`, given the settings resolved before it. */
function defaultOf(d: AnySetting, method: EvalMethod, s: EvalSettings, model: ModelFacts): unknown {
  const def = d.default;
  switch (def.from) {
    case 'fixed':
      return def.value;
    case 'method':
      return method.defaults[def.key].value;
    case 'derived':
      return def.resolve(s, model);
    case 'none':
      return undefined;
  }
}

/** The default of a setting whose default is one fixed value (the shuffle seed, say), for code that runs outside an evaluation. */
export function fixedDefault<K extends SettingKey>(key: K): EvalSettings[K] {
  const def = SETTINGS.find((d) => d.key === key)?.default;
  if (def?.from !== 'fixed') throw new Error(`setting ${key} has no fixed default`);
  return def.value as EvalSettings[K];
}

/** Resolves every setting for `method` on `model`, then checks each (and their combinations). */
export function resolveSettings(method: Method, model: ModelFacts, o: EvalOverrides = {}): EvalSettings {
  const m = methodNamed(method);
  const s = { method: m.name, scoreLength: model.contextLength } as EvalSettings;
  const values = s as unknown as Record<SettingKey, unknown>;
  for (const d of SETTINGS) values[d.key] = o[d.key] !== undefined ? o[d.key] : defaultOf(d, m, s, model);
  for (const d of SETTINGS) {
    const problem = (d.check as ((v: unknown, s: EvalSettings, model: ModelFacts, method: EvalMethod) => string | undefined) | undefined)?.(values[d.key], s, model, m);
    if (problem !== undefined) throw new Error(problem);
  }
  return s;
}

/** Kebab-case flag of a setting key: numNeighbors -> --num-neighbors. */
export const flagOf = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

