// The command line itself: help, version, errors, info.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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

test('an unknown command or missing option fails with a message', () => {
  const unknown = run('frobnicate');
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /unknown command 'frobnicate'/);
  const missing = run('score', '--text-file', 'x');
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /required option '--model <dir>' not specified/);
});

test('info reports the engine build as JSON', () => {
  const info = run('info', '--json');
  assert.equal(info.status, 0);
  const parsed = JSON.parse(info.stdout) as { torchVersion: string; threads: number; blas: string };
  assert.match(parsed.torchVersion, /^\d+\.\d+/);
  assert.ok(parsed.threads >= 1);
  assert.match(parsed.blas, /OpenBLAS|unknown/);
});
