// A task in lm-evaluation-harness's YAML format (lm_eval/config/task.py
// TaskConfig), read from a local file with its data from local files:
// `dataset_path: json` with `dataset_kwargs.data_files`, or `dataset_path` a
// directory holding <split>.jsonl / <split>.json. Nothing is fetched from a
// hub. Fields that would change what the harness computes and that tttnn
// does not implement are refused by name, never ignored.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, type ScalarTag } from 'yaml';

export type OutputType = 'multiple_choice' | 'loglikelihood' | 'loglikelihood_rolling' | 'generate_until';
const OUTPUT_TYPES: readonly OutputType[] = ['multiple_choice', 'loglikelihood', 'loglikelihood_rolling', 'generate_until'];

/** `!function module.name` in a YAML: a Python function of the harness (harness-functions.ts). */
export interface FunctionRef {
  function: string;
}
export type Field = string | number | unknown[] | Record<string, unknown> | FunctionRef;

export interface MetricConfig {
  metric: string;
  aggregation?: string;
  higher_is_better?: boolean;
  [kwarg: string]: unknown;
}

export interface FilterStep {
  function: string;
  [kwarg: string]: unknown;
}

export interface TaskConfig {
  task: string;
  /** The YAML file it was read from. */
  file: string;
  output_type: OutputType;
  /** Split name → files of JSON objects. */
  dataFiles: Record<string, string[]>;
  training_split?: string;
  validation_split?: string;
  test_split?: string;
  process_docs?: FunctionRef;
  doc_to_text?: Field;
  doc_to_target?: Field;
  doc_to_choice?: Field;
  description: string;
  target_delimiter: string;
  fewshot_delimiter: string;
  fewshot: { sampler: 'default' | 'first_n'; split?: string; doc_to_text?: Field; doc_to_target?: Field; doc_to_choice?: Field; target_delimiter: string; fewshot_delimiter: string };
  num_fewshot?: number;
  metric_list: MetricConfig[];
  generation_kwargs?: { until: string[]; max_gen_toks: number; do_sample?: boolean; temperature?: number };
  filter_list?: { name: string; filter: FilterStep[] }[];
}

/** Where the shipped task YAMLs are (tasks/ at the repository root). */
export const SHIPPED_TASKS_DIR = fileURLToPath(new URL('../../../../tasks/', import.meta.url));

/** Metrics per output type when the YAML has no metric_list (lm_eval/api/registry.py DEFAULT_METRIC_REGISTRY). */
const DEFAULT_METRICS: Record<OutputType, string[]> = {
  loglikelihood: ['perplexity', 'acc'],
  loglikelihood_rolling: ['word_perplexity', 'byte_perplexity', 'bits_per_byte'],
  multiple_choice: ['acc', 'acc_norm'],
  generate_until: ['exact_match'],
};

/** TaskConfig fields that change what the harness computes and that tttnn does not implement. */
const REFUSED = ['use_prompt', 'process_results', 'doc_to_image', 'doc_to_audio', 'gen_prefix', 'custom_dataset', 'include', 'class', 'unsafe_code'];
/** Fields that only describe the task or steer features tttnn does not have (decontamination, grouping). */
const IGNORED = ['tag', 'task_alias', 'metadata', 'should_decontaminate', 'doc_to_decontamination_query', 'dataset_name', 'output_type', 'group', 'repeats'];

const functionTag: ScalarTag = { tag: '!function', resolve: (value: string) => ({ function: value }) };

/** A task name (a YAML shipped in tasks/) or a path to a YAML file. */
export function taskYamlPath(nameOrPath: string): string {
  if (/\.ya?ml$/i.test(nameOrPath) || nameOrPath.includes('/')) {
    if (!existsSync(nameOrPath)) throw new Error(`task file ${nameOrPath} does not exist`);
    return resolve(nameOrPath);
  }
  const shipped = join(SHIPPED_TASKS_DIR, `${nameOrPath}.yaml`);
  if (!existsSync(shipped)) throw new Error(`unknown task "${nameOrPath}": not pile_* and not one of the shipped tasks (${shippedTaskNames().join(', ')}); or give the path of a task YAML`);
  return shipped;
}

export function shippedTaskNames(): string[] {
  if (!existsSync(SHIPPED_TASKS_DIR)) return [];
  return readdirSync(SHIPPED_TASKS_DIR).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -5)).sort();
}

/**
 * Reads a task YAML. Relative data paths are resolved against `dataDir`
 * (--task-data) when given, else against the YAML's directory.
 */
export function loadTaskConfig(nameOrPath: string, dataDir?: string): TaskConfig {
  const file = taskYamlPath(nameOrPath);
  let raw: Record<string, unknown>;
  try {
    raw = parse(readFileSync(file, 'utf8'), { customTags: [functionTag] }) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`${file}: not a task YAML: ${(error as Error).message}`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${file}: a task YAML is a mapping of fields`);
  const where = (field: string): string => `${file}: ${field}`;
  for (const key of REFUSED) if (raw[key] !== undefined && raw[key] !== null) throw new Error(`${where(key)}: tttnn does not implement this field of the harness's task format; remove it or use lm-evaluation-harness itself`);
  const known = new Set([...REFUSED, ...IGNORED, 'task', 'dataset_path', 'dataset_kwargs', 'training_split', 'validation_split', 'test_split', 'fewshot_split', 'process_docs', 'doc_to_text', 'doc_to_target', 'doc_to_choice', 'description', 'target_delimiter', 'fewshot_delimiter', 'fewshot_config', 'num_fewshot', 'metric_list', 'generation_kwargs', 'filter_list']);
  for (const key of Object.keys(raw)) if (!known.has(key)) throw new Error(`${where(key)}: not a field of the harness's TaskConfig (lm_eval/config/task.py)`);
  const task = stringField(raw, 'task', where) ?? fail(where('task'), 'is required');
  const output = (raw['output_type'] ?? 'generate_until') as OutputType;
  if (!OUTPUT_TYPES.includes(output)) throw new Error(`${where('output_type')}: "${String(output)}" is not one of ${OUTPUT_TYPES.join(', ')}`);
  if (raw['repeats'] !== undefined && raw['repeats'] !== 1) throw new Error(`${where('repeats')}: only 1 is supported`);
  const fewshotConfig = (raw['fewshot_config'] ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(fewshotConfig)) {
    if (!['sampler', 'split', 'doc_to_text', 'doc_to_target', 'doc_to_choice', 'target_delimiter', 'fewshot_delimiter'].includes(key)) throw new Error(`${where(`fewshot_config.${key}`)}: not supported by tttnn`);
  }
  const sampler = (fewshotConfig['sampler'] ?? 'default') as string;
  if (sampler !== 'default' && sampler !== 'first_n') throw new Error(`${where('fewshot_config.sampler')}: "${sampler}" is not one of default, first_n (lm_eval/api/samplers.py)`);
  const targetDelimiter = stringField(raw, 'target_delimiter', where) ?? ' ';
  const fewshotDelimiter = stringField(raw, 'fewshot_delimiter', where) ?? '\n\n';
  const metrics: MetricConfig[] = raw['metric_list'] === undefined || raw['metric_list'] === null
    ? DEFAULT_METRICS[output].map((metric) => ({ metric }))
    : (raw['metric_list'] as MetricConfig[]);
  if (!Array.isArray(metrics) || metrics.some((m) => typeof m?.metric !== 'string')) throw new Error(`${where('metric_list')}: a list of {metric: name, ...}`);
  for (const m of metrics) {
    if (typeof m.aggregation === 'object') throw new Error(`${where('metric_list')}: metric ${m.metric}'s aggregation is a Python function (!function ${(m.aggregation as FunctionRef).function}); tttnn cannot run it — drop the metric or use a named aggregation`);
  }
  let generation: TaskConfig['generation_kwargs'];
  if (output === 'generate_until') {
    const g = (raw['generation_kwargs'] ?? {}) as Record<string, unknown>;
    const until = g['until'] ?? [fewshotDelimiter];
    generation = { until: typeof until === 'string' ? [until] : (until as string[]), max_gen_toks: Number(g['max_gen_toks'] ?? 256) };
    if (g['do_sample'] === true || Number(g['temperature'] ?? 0) > 0) throw new Error(`${where('generation_kwargs')}: only greedy decoding (do_sample false, temperature 0) is supported`);
    for (const key of Object.keys(g)) if (!['until', 'max_gen_toks', 'do_sample', 'temperature'].includes(key)) throw new Error(`${where(`generation_kwargs.${key}`)}: not supported by tttnn`);
  }
  const fewshotSplit = stringField(raw, 'fewshot_split', where) ?? stringField(fewshotConfig, 'split', where);
  return {
    task, file, output_type: output,
    dataFiles: dataFiles(raw, file, dataDir),
    training_split: stringField(raw, 'training_split', where), validation_split: stringField(raw, 'validation_split', where), test_split: stringField(raw, 'test_split', where),
    process_docs: raw['process_docs'] as FunctionRef | undefined,
    doc_to_text: raw['doc_to_text'] as Field | undefined, doc_to_target: raw['doc_to_target'] as Field | undefined, doc_to_choice: raw['doc_to_choice'] as Field | undefined,
    description: stringField(raw, 'description', where) ?? '',
    target_delimiter: targetDelimiter, fewshot_delimiter: fewshotDelimiter,
    fewshot: {
      sampler, ...(fewshotSplit === undefined ? {} : { split: fewshotSplit }),
      doc_to_text: (fewshotConfig['doc_to_text'] ?? raw['doc_to_text']) as Field | undefined,
      doc_to_target: (fewshotConfig['doc_to_target'] ?? raw['doc_to_target']) as Field | undefined,
      doc_to_choice: (fewshotConfig['doc_to_choice'] ?? raw['doc_to_choice']) as Field | undefined,
      target_delimiter: stringField(fewshotConfig, 'target_delimiter', where) ?? targetDelimiter,
      fewshot_delimiter: stringField(fewshotConfig, 'fewshot_delimiter', where) ?? fewshotDelimiter,
    },
    ...(raw['num_fewshot'] === undefined || raw['num_fewshot'] === null ? {} : { num_fewshot: Number(raw['num_fewshot']) }),
    metric_list: metrics,
    ...(generation ? { generation_kwargs: generation } : {}),
    ...(raw['filter_list'] ? { filter_list: raw['filter_list'] as TaskConfig['filter_list'] } : {}),
  };
}

function stringField(raw: Record<string, unknown>, key: string, where: (f: string) => string): string | undefined {
  const v = raw[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new Error(`${where(key)}: must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function fail(where: string, why: string): never {
  throw new Error(`${where} ${why}`);
}

/** Split → files, from dataset_kwargs.data_files (dataset_path: json) or a local directory. */
function dataFiles(raw: Record<string, unknown>, file: string, dataDir: string | undefined): Record<string, string[]> {
  const base = dataDir ?? dirname(file);
  const at = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const path = raw['dataset_path'];
  const kwargs = (raw['dataset_kwargs'] ?? {}) as Record<string, unknown>;
  if (path === 'json') {
    const files = kwargs['data_files'];
    if (files === undefined) throw new Error(`${file}: dataset_path json needs dataset_kwargs.data_files (split: file)`);
    const bySplit: Record<string, string[]> = typeof files === 'string' || Array.isArray(files) ? { train: [files].flat() as string[] } : Object.fromEntries(Object.entries(files as Record<string, string | string[]>).map(([split, f]) => [split, [f].flat()]));
    return Object.fromEntries(Object.entries(bySplit).map(([split, fs]) => [split, fs.map(at)]));
  }
  if (typeof path === 'string') {
    const dir = at(path);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new Error(`${file}: dataset_path "${path}" is neither "json" (with dataset_kwargs.data_files) nor a local directory (looked for ${dir}); tttnn reads no hub — point it at local files${dataDir ? '' : ' (--task-data DIR)'}`);
    }
    const splits: Record<string, string[]> = {};
    for (const f of readdirSync(dir)) {
      const m = /^(.+)\.jsonl?$/.exec(f);
      if (m) splits[m[1]!] = [join(dir, f)];
    }
    return splits;
  }
  throw new Error(`${file}: dataset_path is required ("json" with dataset_kwargs.data_files, or a local directory)`);
}
