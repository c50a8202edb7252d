// The command line itself: help, version, errors, info.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

test('--help lists the subcommands and --version prints the package version', () => {
  const help = run('--help');
  assert.equal(help.status, 0);
  for (const command of ['info', 'score']) assert.match(help.stdout, new RegExp(`\\n  ${command} `));
  const version = run('--version');
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(version.stdout.trim(), pkg.version);
});

test('--help of every command works before the native addon is built: no command loads it at startup', () => {
  // A module hook that fails the process if anything imports the addon's loader (src/engine/native.ts).
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-cli-'));
  const hook = join(dir, 'refuse-native.mjs');
  writeFileSync(hook, "export async function resolve(specifier, context, next) {\n  const resolved = await next(specifier, context);\n  if (resolved.url.endsWith('/engine/native.js')) throw new Error('the native addon was imported by ' + context.parentURL);\n  return resolved;\n}\n");
  const register = `data:text/javascript,import { register } from 'node:module'; register(${JSON.stringify(pathToFileURL(hook).href)});`;
  for (const command of [[], ['serve'], ['eval'], ['probe'], ['query'], ['shutdown'], ['index', 'build'], ['train'], ['demo'], ['report'], ['score'], ['generate'], ['serve-lm']]) {
    const help = spawnSync(process.execPath, ['--import', register, CLI, ...command, '--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, `${command.join(' ')} --help: ${help.stderr}`);
  }
  // The hook does refuse the addon: a command that needs it fails under it.
  const info = spawnSync(process.execPath, ['--import', register, CLI, 'info'], { encoding: 'utf8' });
  assert.notEqual(info.status, 0);
  assert.match(info.stderr, /the native addon was imported by/);
});

test('an unknown command or missing option fails with a message', () => {
  const unknown = run('frobnicate');
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const missing = run('score', '--text-file', 'x');
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /required option '--model <dir>' not specified/);
});

test('info reports the engine build: the CPU, what computes GEMMs and why, oneDNN and bf16 support', () => {
  const info = run('info', '--json');
  assert.equal(info.status, 0);
  const parsed = JSON.parse(info.stdout) as {
    torchVersion: string; threads: number; blas: string; precisionAuto: string;
    cpu: { vendor: string; family: number; avx2: boolean; nativeBf16: boolean };
    gemm: { backend: string; reason: string; onednnIsa: string };
  };
  assert.match(parsed.torchVersion, /^\d+\.\d+/);
  assert.ok(parsed.threads >= 1);
  assert.match(parsed.blas, /OpenBLAS|unknown/);
  assert.match(parsed.cpu.vendor, /GenuineIntel|AuthenticAMD/);
  assert.ok(parsed.cpu.family >= 6);
  assert.match(parsed.gemm.backend, /^(openblas|onednn)$/);
  assert.ok(parsed.gemm.reason.length > 0);
  assert.equal(parsed.precisionAuto, parsed.cpu.nativeBf16 ? 'bf16' : 'fp32');
  // The text form names each of them.
  const text = run('info');
  assert.equal(text.status, 0);
  for (const row of ['CPU', 'vector ISA', 'fp32 GEMM', 'OpenBLAS', 'oneDNN', 'bf16', 'threads']) assert.match(text.stdout, new RegExp(`^${row} `, 'm'));
  assert.match(text.stdout, new RegExp(`fp32 GEMM +${parsed.gemm.backend} `));
  // libtorch's version and the file it was loaded from, the addon, and the CUDA device count in words.
  const withLibrary = parsed as unknown as { torchLibrary: string; addon: string; cudaDevices: number };
  assert.match(withLibrary.torchLibrary, /libtorch_cpu\.so/);
  assert.match(text.stdout, new RegExp(`^libtorch +${parsed.torchVersion.replace(/\./g, '\\.')} from /.*libtorch_cpu\\.so`, 'm'));
  assert.match(text.stdout, /^addon +\/.*tttnn_native\.node/m);
  assert.match(text.stdout, new RegExp(`^CUDA +${withLibrary.cudaDevices} CUDA devices?`, 'm'));
});

test('--device is accepted by score, eval, index build and train; a device this machine lacks is refused clearly', () => {
  const bad = run('score', '--model', 'm', '--text-file', 'x', '--device', 'gpu');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /option '--device <device>' argument 'gpu' is invalid. expected cpu, cuda or cuda:N/);
  const info = JSON.parse(run('info', '--json').stdout) as { cudaDevices: number; cudaBuild: boolean };
  const commands = [
    ['score', '--model', '/nonexistent-model', '--text-file', '/nonexistent-text'],
    ['eval', '--model', '/nonexistent-model', '--data', '/nonexistent-data', '--results-dir', '/nonexistent-results'],
    ['index', 'build', '--data', '/nonexistent-data', '--embedder', '/nonexistent-embedder', '--out', '/nonexistent-out'],
    ['train', '--preset', 'tiny-gpt', '--data', '/nonexistent-data', '--out', '/nonexistent-out', '--max-steps', '1'],
  ];
  // A device index past the last GPU is refused on every machine, before any file is read.
  const past = `cuda:${info.cudaDevices}`;
  const expected = info.cudaDevices > 0 ? new RegExp(`only ${info.cudaDevices} CUDA device`) : info.cudaBuild ? /this CUDA build sees 0 CUDA devices/ : /built against a CPU-only libtorch/;
  for (const command of commands) {
    const name = command[0] === 'index' ? 'index build' : command[0];
    assert.match(run(...command.slice(0, command[0] === 'index' ? 2 : 1), '--help').stdout, /--device <device>/, `${name} --help`);
    const refused = run(...command, '--device', past);
    assert.notEqual(refused.status, 0, `${name} --device ${past}`);
    assert.match(refused.stderr, expected, `${name} --device ${past}: ${refused.stderr}`);
  }
});

test('--precision takes fp32, bf16 or auto, and says what runs', () => {
  const bad = run('score', '--model', 'm', '--text-file', 'x', '--precision', 'fp16');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /option '--precision <p>' argument 'fp16' is invalid. Allowed choices are fp32, bf16, auto/);
  const missing = run('score', '--model', '/nonexistent-model', '--text-file', '/nonexistent-text', '--precision', 'bf16');
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /tttnn score: precision (bf16 mixed|fp32: bf16 was requested, but this CPU has no AMX or AVX512_BF16)/);
  for (const command of [['train'], ['eval'], ['score'], ['index', 'build'], ['demo']]) {
    assert.match(run(...command, '--help').stdout, /--precision <p>/, `${command.join(' ')} --help`);
  }
});
