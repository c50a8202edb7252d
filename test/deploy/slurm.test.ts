// The Slurm pipeline (deploy/slurm) on a real single-node Slurm cluster
// started by this test (test/helpers/slurm-cluster.ts): submit.sh submits the
// index array over 2 data files, the server job (2 tasks, one per file), an
// evaluation array of 3 (--rank auto from SLURM_ARRAY_TASK_*), the report
// (afterok) and the stop job (afterany), on tiny checkpoints built here. Every
// job must complete; the 3 ranks' merged results must equal one local
// process's over the same documents and indexes, and so must the report.
// Then the compressed variant (TTTNN_CONVERT_FROM): a convert array over the
// Flat indexes the first run built, and the same pipeline on its output.
// Skipped, saying why, only where Slurm cannot run: not root, or not installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { manualSeed } from '../../src/engine/index.js';
import type { DocumentResult } from '../../src/eval/results.js';
import { Gpt2LMHeadModel, RobertaModel, saveModel } from '../../src/models/index.js';
import { writeNewToken } from '../../src/retrieval/auth.js';
import { gpt2Tokenizer, robertaTokenizerFromGpt2, saveTokenizer } from '../../src/tokenizers/index.js';
import { assertClose } from '../helpers/assert-close.js';
import { startFleetProcess, type FleetProcess } from '../helpers/fleet.js';
import { readResultLines } from '../helpers/results.js';
import { slurmMissing, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.js';

const CLI = resolve('bin/tttnn.js');
const SUBMIT = resolve('deploy/slurm/submit.sh');
const missing = slurmMissing();
const dir = mkdtempSync(join(tmpdir(), 'tttnn-slurm-'));
let cluster: SlurmCluster | undefined;
const fleets: FleetProcess[] = [];
after(async () => {
  for (const fleet of fleets) await fleet.stop();
  await cluster?.stop();
  if (!process.env["TTTNN_KEEP_TEST_DIR"]) rmSync(dir, { recursive: true, force: true });
});

const TOPICS = ['func main() { fmt.Println("hello") } prints a greeting', 'Subject: meeting moved to Friday, please confirm', 'The court held that the contract was void'];
const TASKS = ['Github', 'Enron Emails'];
const EVAL_ARGS = ['--method', 'ttt', '--optimizer-scope', 'document', '--num-neighbors', '2', '--learning-rate', '3e-3', '--val-portion', '1', '--distance-threshold', 'inf'];

/** Two data files of the index, a test file of 6 documents, a tiny GPT-2 and RoBERTa, a token. */
function buildArtifacts(): Record<string, string> {
  const jsonl = (texts: string[]): string => texts.map((text, i) => JSON.stringify({ text, meta: { pile_set_name: TASKS[i % 2] } })).join('\n') + '\n';
  const files = [0, 1].map((f) => {
    const file = join(dir, 'data', `0${f}.jsonl`);
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(file, jsonl(Array.from({ length: 10 }, (_, i) => `${TOPICS[(i + f) % 3]} variant ${f}-${i}, number ${i * 7 + f}.`)));
    return file;
  });
  writeFileSync(join(dir, 'data-files.txt'), `${files.join('\n')}\n`);
  writeFileSync(join(dir, 'test.jsonl'), jsonl(Array.from({ length: 6 }, (_, i) => `${TOPICS[i % 3]} test document ${i}.`)));
  manualSeed(7);
  const gpt = Gpt2LMHeadModel.random({ model_type: 'gpt2', vocab_size: 50257, n_positions: 32, n_embd: 16, n_layer: 1, n_head: 2, embd_pdrop: 0, attn_pdrop: 0, resid_pdrop: 0 });
  saveModel(gpt, join(dir, 'gpt'));
  saveTokenizer(gpt2Tokenizer(), join(dir, 'gpt'));
  gpt.dispose();
  const encoder = RobertaModel.random({ model_type: 'roberta', vocab_size: 50261, hidden_size: 16, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 32, max_position_embeddings: 130 }, false);
  saveModel(encoder, join(dir, 'enc'));
  saveTokenizer(robertaTokenizerFromGpt2(), join(dir, 'enc'));
  encoder.dispose();
  writeNewToken(join(dir, 'token'));
  return {
    TTTNN_WORK: join(dir, 'work'), TTTNN_DATA_LIST: join(dir, 'data-files.txt'), TTTNN_EMBEDDER: join(dir, 'enc'), TTTNN_MODEL: join(dir, 'gpt'),
    TTTNN_TEST_DATA: join(dir, 'test.jsonl'), TTTNN_TOKEN_FILE: join(dir, 'token'),
  };
}

/** JobState of every job (and array task) of a job id, from scontrol. */
function jobStates(env: NodeJS.ProcessEnv, id: string): string[] {
  const out = spawnSync('scontrol', ['show', 'job', id, '--oneliner'], { env, encoding: 'utf8' }).stdout;
  return out.split('\n').filter(Boolean).map((line) => /JobState=(\S+)/.exec(line)?.[1] ?? '?');
}

const FINAL = new Set(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT', 'NODE_FAIL', 'OUT_OF_MEMORY', 'PREEMPTED', 'BOOT_FAIL', 'DEADLINE']);

async function waitForJobs(env: NodeJS.ProcessEnv, jobs: Record<string, string>, timeoutMs: number): Promise<Record<string, string[]>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const states = Object.fromEntries(Object.entries(jobs).map(([stage, id]) => [stage, jobStates(env, id)]));
    const pending = Object.values(states).flat().filter((s) => !FINAL.has(s));
    // A job whose dependency can never be met stays PENDING: stop waiting once one has failed.
    if (pending.length === 0 || Object.values(states).flat().some((s) => FINAL.has(s) && s !== 'COMPLETED')) return states;
    if (Date.now() > deadline) return states;
    await new Promise((r) => setTimeout(r, 500));
  }
}

function logsOf(work: string): string {
  const logs = join(work, 'logs');
  return existsSync(logs) ? readdirSync(logs).map((f) => `--- ${f}\n${readFileSync(join(logs, f), 'utf8').slice(-1500)}`).join('\n') : '(no logs)';
}

/** The same documents in one local process, over a local fleet on the indexes the Slurm jobs built. */
async function localRun(knobs: Record<string, string>): Promise<string> {
  for (const [i, data] of readFileSync(knobs['TTTNN_DATA_LIST']!, 'utf8').split('\n').filter(Boolean).entries()) {
    const index = join(knobs['TTTNN_WORK']!, 'indexes', `${data.split('/').pop()}.index`);
    fleets.push(await startFleetProcess({ data, index, slices: 1, replicas: 1, addresses: join(dir, `local-addresses-${i}.txt`), tokenFile: knobs['TTTNN_TOKEN_FILE']! }));
  }
  // Both fleets' servers, given as a list of host:port.
  const addresses = fleets.flatMap((f) => f.addresses).join(',');
  const results = join(dir, 'local-results');
  const run = spawnSync(process.execPath, [CLI, 'eval', '--model', knobs['TTTNN_MODEL']!, '--embedder', knobs['TTTNN_EMBEDDER']!, '--addresses', addresses,
    '--token-file', knobs['TTTNN_TOKEN_FILE']!, '--data', knobs['TTTNN_TEST_DATA']!, '--results-dir', results, ...EVAL_ARGS], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const report = spawnSync(process.execPath, [CLI, 'report', '--results-dir', results, '--out', join(dir, 'local-report')], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(report.status, 0, report.stderr);
  return results;
}

function byDocument(lines: DocumentResult[]): Map<number, DocumentResult> {
  return new Map(lines.map((l) => [l.doc_id, l]));
}

test('the Slurm pipeline on a real single-node cluster: index array, servers, evaluation array of 3, report; merged results equal one local process', { skip: missing, timeout: 600_000 }, async () => {
  const knobs = buildArtifacts();
  cluster = await startSlurmCluster(join(dir, 'slurm'));
  const small = '--cpus-per-task=1 --mem=400M --time=10';
  const env = {
    ...cluster.env, ...knobs, TTTNN_EVAL_TASKS: '3', TTTNN_SERVE_NODES: '1', TTTNN_SERVE_HOST: '127.0.0.1', TTTNN_EVAL_ARGS: EVAL_ARGS.join(' '),
    TTTNN_WAIT_SECONDS: '120', TTTNN_INDEX_SBATCH: small, TTTNN_SERVE_SBATCH: small, TTTNN_EVAL_SBATCH: small, TTTNN_REPORT_SBATCH: small, TTTNN_STOP_SBATCH: small,
  };
  const submitted = spawnSync('bash', [SUBMIT], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(submitted.status, 0, submitted.stderr);
  const jobs = Object.fromEntries(submitted.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
  assert.deepEqual(Object.keys(jobs), ['index', 'serve', 'eval', 'report', 'stop']);
  const states = await waitForJobs(cluster.env, jobs, 300_000);
  const summary = JSON.stringify(states);
  assert.deepEqual(states['index'], ['COMPLETED', 'COMPLETED'], `index array of 2: ${summary}\n${logsOf(knobs['TTTNN_WORK']!)}\n${cluster.logs()}`);
  assert.deepEqual(states['eval'], ['COMPLETED', 'COMPLETED', 'COMPLETED'], `evaluation array of 3: ${summary}\n${logsOf(knobs['TTTNN_WORK']!)}`);
  for (const stage of ['serve', 'report', 'stop']) assert.deepEqual(states[stage], ['COMPLETED'], `${stage}: ${summary}\n${logsOf(knobs['TTTNN_WORK']!)}`);
  // The servers registered on the shared filesystem, one per data file, and tttnn shutdown ended the server job.
  assert.equal(readFileSync(join(knobs['TTTNN_WORK']!, 'addresses.txt'), 'utf8').trim().split('\n').length, 2);
  const slurmResults = join(knobs['TTTNN_WORK']!, 'results');
  assert.deepEqual(readdirSync(join(slurmResults, 'ttt')).filter((f) => f.endsWith('.jsonl')).map((f) => /rank(\d)/.exec(f)![1]).sort().filter((r, i, a) => a.indexOf(r) === i), ['0', '1', '2'], 'every rank wrote results');

  const ours = byDocument(readResultLines(slurmResults, 'ttt'));
  const local = byDocument(readResultLines(await localRun(knobs), 'ttt'));
  assert.equal(local.size, 6);
  assert.deepEqual([...ours.keys()].sort(), [...local.keys()].sort(), 'the 3 ranks together evaluated every document once');
  for (const [id, line] of local) {
    const merged = ours.get(id)!;
    assert.deepEqual(merged.neighbor_ids, line.neighbor_ids, `document ${id}: the same neighbours`);
    assert.equal(merged.loglikelihoods!.length, 3, `document ${id}: trained on 2 neighbours`);
    assertClose(merged.loglikelihoods!, line.loglikelihoods!, 1e-6, `document ${id}`);
  }
  const table = (out: string): string => readFileSync(join(out, 'comparison.txt'), 'utf8');
  assert.equal(table(join(knobs['TTTNN_WORK']!, 'report')), table(join(dir, 'local-report')), 'the report of the merged ranks is the local one');
  firstRun = { knobs, env };
});

let firstRun: { knobs: Record<string, string>; env: Record<string, string | undefined> } | undefined;

test('the compressed-Pile variant on the same cluster: a convert array over the Flat indexes the first run built, then servers, evaluation and report on the converted ones', { skip: missing, timeout: 600_000 }, async () => {
  assert.ok(firstRun && cluster, 'the first pipeline ran (its Flat indexes are the input)');
  const work = join(dir, 'work-compressed');
  const env = {
    ...firstRun.env, TTTNN_WORK: work, TTTNN_INDEX_DIR: join(work, 'indexes'), TTTNN_ADDRESSES: join(work, 'addresses.txt'), TTTNN_RESULTS: join(work, 'results'), TTTNN_REPORT: join(work, 'report'),
    TTTNN_CONVERT_FROM: join(firstRun.knobs['TTTNN_WORK']!, 'indexes'), TTTNN_CONVERT_FACTORY: 'SQ8', TTTNN_CONVERT_ARGS: '--chunk-vectors 4', TTTNN_CONVERT_SBATCH: '--cpus-per-task=1 --mem=400M --time=10',
    TTTNN_EVAL_TASKS: '2',
  };
  const submitted = spawnSync('bash', [SUBMIT], { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(submitted.status, 0, submitted.stderr);
  const jobs = Object.fromEntries(submitted.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
  assert.deepEqual(Object.keys(jobs), ['convert', 'serve', 'eval', 'report', 'stop']);
  const states = await waitForJobs(cluster.env, jobs, 300_000);
  const summary = `${JSON.stringify(states)}\n${logsOf(work)}`;
  assert.deepEqual(states['convert'], ['COMPLETED', 'COMPLETED'], `convert array of 2: ${summary}`);
  assert.deepEqual(states['eval'], ['COMPLETED', 'COMPLETED'], `evaluation array of 2: ${summary}`);
  for (const stage of ['serve', 'report', 'stop']) assert.deepEqual(states[stage], ['COMPLETED'], `${stage}: ${summary}`);
  for (const name of ['00.jsonl.index', '01.jsonl.index']) {
    const record = JSON.parse(readFileSync(join(work, 'indexes', `${name}.source.json`), 'utf8')) as { factory: string; vectors: number; convertedFrom: { path: string } };
    assert.deepEqual([record.factory, record.vectors, record.convertedFrom.path], ['SQ8', 10, join(firstRun.knobs['TTTNN_WORK']!, 'indexes', name)]);
  }
  assert.ok(existsSync(join(work, 'indexes', 'embedding_model.txt')), 'the embedder\'s name came along');
  const lines = readResultLines(join(work, 'results'), 'ttt');
  assert.equal(new Set(lines.map((l) => l.doc_id)).size, 6, 'every document evaluated against the converted indexes');
  assert.ok(lines.every((l) => l.loglikelihoods!.length === 3), 'each trained on 2 neighbours');
});

test('submit.sh refuses to submit without a required knob, a data list or a token file, naming it', () => {
  const base = { PATH: process.env['PATH'] ?? '' };
  const submit = (env: Record<string, string>): { status: number | null; stderr: string } => spawnSync('bash', [SUBMIT], { env: { ...base, ...env }, encoding: 'utf8' });
  let run = submit({});
  assert.equal(run.status, 2);
  assert.match(run.stderr, /TTTNN_WORK is not set \(deploy\/slurm\/config\.sh lists every knob\)/);
  const knobs = { TTTNN_WORK: join(dir, 'w'), TTTNN_DATA_LIST: join(dir, 'no-list.txt'), TTTNN_EMBEDDER: 'e', TTTNN_MODEL: 'm', TTTNN_TEST_DATA: 't', TTTNN_TOKEN_FILE: join(dir, 'no-token') };
  run = submit(knobs);
  assert.match(run.stderr, /TTTNN_DATA_LIST=.*no-list\.txt: no such file/);
  writeFileSync(knobs.TTTNN_DATA_LIST, `${join(dir, 'absent.jsonl')}\n`);
  run = submit(knobs);
  assert.match(run.stderr, /TTTNN_TOKEN_FILE=.*no-token: no such file; create it with: \(umask 077; openssl rand -hex 32 >/);
  writeFileSync(knobs.TTTNN_TOKEN_FILE, 'x'.repeat(32), { mode: 0o600 });
  run = submit(knobs);
  assert.match(run.stderr, /names .*absent\.jsonl, which does not exist/);
  assert.equal(run.status, 2);
});

test('convert.sbatch converts the array task\'s data file from TTTNN_CONVERT_FROM into TTTNN_INDEX_DIR, with the factory and flags given', () => {
  const log = join(dir, 'convert-argv.log');
  const stub = join(dir, 'tttnn-convert-stub');
  writeFileSync(stub, `#!/bin/sh\nprintf '%s|' "$@" >> ${log}; echo >> ${log}\n`, { mode: 0o755 });
  const list = join(dir, 'convert-list.txt');
  writeFileSync(list, '/d/00.jsonl\n/d/01.jsonl\n');
  const env = { PATH: process.env['PATH'] ?? '', TTTNN: stub, TTTNN_DATA_LIST: list, TTTNN_CONVERT_FROM: '/flat dir', TTTNN_INDEX_DIR: '/w/indexes', TTTNN_CONVERT_FACTORY: 'PCAR128,IVF16384,PQ64np', TTTNN_CONVERT_ARGS: '--train-sample 655360 --chunk-vectors 1000' };
  const run = spawnSync('bash', [resolve('deploy/slurm/convert.sbatch')], { env: { ...env, SLURM_ARRAY_TASK_ID: '1' }, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(readFileSync(log, 'utf8').trim().replace(/\|$/, '').split('|'), ['index', 'convert', '--input', '/flat dir/01.jsonl.index', '--out', '/w/indexes', '--factory', 'PCAR128,IVF16384,PQ64np', '--train-sample', '655360', '--chunk-vectors', '1000']);
});

test('the job scripts pass the knobs through: --rank auto, the CA with HTTPS, several flags in one knob', () => {
  const log = join(dir, 'argv.log');
  const stub = join(dir, 'tttnn-stub');
  // One argument per "|": a path with a space must stay one argument.
  writeFileSync(stub, `#!/bin/sh\nprintf '%s|' "$@" >> ${log}; echo >> ${log}\n`, { mode: 0o755 });
  // squeue: the server job (1) runs, until the stop job asks whether it is still there.
  const bin = join(dir, 'stub-bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'squeue'), '#!/bin/sh\ncase "$*" in *RUNNING*) echo "1 RUNNING" ;; esac\n', { mode: 0o755 });
  const env = {
    PATH: `${bin}:${process.env['PATH'] ?? ''}`, TTTNN: stub, TTTNN_SERVERS: '4', TTTNN_WAIT_SECONDS: '60', TTTNN_ADDRESSES: '/w/addresses.txt', TTTNN_TOKEN_FILE: '/w/token',
    TTTNN_MODEL: '/m', TTTNN_EMBEDDER: '/e', TTTNN_TEST_DATA: '/t.jsonl', TTTNN_RESULTS: '/w/results', TTTNN_EVAL_ARGS: '--method context --num-neighbors 5', TTTNN_SERVE_JOB: '1',
  };
  for (const ca of ['', '/w/ca dir/ca.pem']) {
    rmSync(log, { force: true });
    for (const script of ['eval.sbatch', 'stop.sbatch']) {
      const run = spawnSync('bash', [resolve('deploy/slurm', script)], { env: { ...env, TTTNN_CA: ca }, encoding: 'utf8' });
      assert.equal(run.status, 0, `${script}: ${run.stderr}`);
    }
    const withCa = ca ? ['--ca', ca] : [];
    const common = ['--addresses', '/w/addresses.txt', '--token-file', '/w/token'];
    assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n').map((l) => l.replace(/\|$/, '').split('|')), [
      ['probe', '--wait', '4', '--timeout', '60', ...common, ...withCa],
      ['eval', '--rank', 'auto', '--world-size', 'auto', '--model', '/m', '--embedder', '/e', ...common, '--data', '/t.jsonl', '--results-dir', '/w/results', ...withCa, '--method', 'context', '--num-neighbors', '5'],
      ['shutdown', ...common, ...withCa],
    ]);
  }
  // A server job that is not running (cancelled because its index jobs failed: `after` is satisfied all the same):
  // the evaluation task stops at once instead of waiting an hour for servers that will never come.
  rmSync(log, { force: true });
  writeFileSync(join(bin, 'squeue'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const refused = spawnSync('bash', [resolve('deploy/slurm', 'eval.sbatch')], { env, encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /the server job 1 is not running \(cancelled, failed or ended\); nothing to evaluate against/);
  assert.equal(existsSync(log), false, 'tttnn was not called');
});
