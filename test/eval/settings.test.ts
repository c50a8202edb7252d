// The evaluation settings' one declaration (src/eval/settings.ts) is what
// the command line, --preset paper, --help and docs/DESIGN.md are made of:
// every declared flag reaches the settings, an unknown flag is refused, and
// the table of defaults in DESIGN.md is the declaration's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Command } from 'commander';
import { evalOverrides, registerEvalCommand } from '../../src/cli/eval.js';
import { METHOD_REGISTRY } from '../../src/eval/methods/index.js';
import { flagOf, resolveSettings, SETTINGS, type AnySetting } from '../../src/eval/settings.js';
import { settingsMarkdownTable } from '../../src/eval/settings-help.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const REQUIRED = ['--model', 'm', '--data', 'd.jsonl', '--results-dir', 'r'];
/** The options of `tttnn eval` that are not evaluation settings (adding one is a choice this list records). */
const COMMAND_OPTIONS = ['method', 'preset', 'model', 'tokenizer', 'embedder', 'addresses', 'tokenFile', 'ca', 'data', 'tasks', 'numFewshot', 'taskData', 'resultsDir', 'precision', 'onMissingShard', 'forceMix', 'maxLineBytes', 'device'];

/** Parses `tttnn eval ARGS` with the real command, its action replaced by one that reads the overrides. */
function parse(args: string[]): { overrides: Record<string, unknown>; warnings: string[] } {
  const program = new Command().exitOverride();
  const command = registerEvalCommand(program);
  let out: { overrides: Record<string, unknown>; warnings: string[] } | undefined;
  command.exitOverride().action(() => {
    const warnings: string[] = [];
    out = { overrides: evalOverrides(command, (line) => warnings.push(line)), warnings };
  });
  program.parse(['eval', ...REQUIRED, ...args], { from: 'user' });
  return out as { overrides: Record<string, unknown>; warnings: string[] };
}

/** For each flag form of a setting: the words typed and the value they must give, unlike the default. */
function typedValues(d: AnySetting): { args: string[]; value: unknown }[] {
  const flag = flagOf(d.key);
  switch (d.type.kind) {
    case 'none':
      return [];
    case 'integer':
      return [{ args: [flag, '7'], value: 7 }];
    case 'number':
      return [{ args: [flag, '0.125'], value: 0.125 }];
    case 'number-or-infinity':
      return [{ args: [flag, '0.5'], value: 0.5 }, { args: [flag, 'inf'], value: Infinity }];
    case 'rank':
      return [{ args: [flag, '1'], value: 1 }, { args: [flag, 'auto'], value: 'auto' }];
    case 'path':
      return [{ args: [flag, 'some/dir'], value: 'some/dir' }];
    case 'list':
      return [{ args: [flag, 'q_proj,v_proj'], value: ['q_proj', 'v_proj'] }, { args: [flag, 'c_attn'], value: ['c_attn'] }];
    case 'choice':
      return d.type.choices.map((c) => ({ args: [flag, c], value: c }));
    case 'switch':
      return [{ args: [flag], value: true }];
    case 'off-switch':
      return [{ args: [`--no-${flag.slice(2)}`], value: false }];
    case 'toggle':
      return [{ args: [flag], value: true }, { args: [`--no-${flag.slice(2)}`], value: false }];
  }
}

test('every declared setting typed on the command line reaches the evaluation, and only the typed ones do', () => {
  assert.deepEqual(parse([]).overrides, {}, 'nothing typed, nothing overridden: the defaults stay the method\'s');
  let checked = 0;
  for (const d of SETTINGS) {
    for (const { args, value } of typedValues(d)) {
      assert.deepEqual(parse(args).overrides, { [d.key]: value }, `${args.join(' ')}`);
      checked++;
    }
  }
  assert.ok(checked >= SETTINGS.length - 2, `${checked} flag forms checked`);
});

test('the eval command has no option that is neither a declared setting nor one of its own', () => {
  const program = new Command();
  const command = registerEvalCommand(program);
  const declared = new Set<string>(SETTINGS.map((d) => d.key));
  for (const option of command.options) {
    const key = option.attributeName();
    assert.ok(declared.has(key) || COMMAND_OPTIONS.includes(key), `--${option.long?.replace(/^--/, '')} is neither declared in settings.ts nor listed as a command option`);
  }
  for (const d of SETTINGS) {
    if (d.type.kind !== 'none') assert.ok(command.options.some((o) => o.attributeName() === d.key), `${d.key} has no option`);
  }
});

test('--preset paper refuses every setting it pins and accepts the ones it leaves free', () => {
  for (const d of SETTINGS) {
    for (const { args } of typedValues(d)) {
      if (d.paper === 'pinned') assert.throws(() => parse(['--preset', 'paper', ...args]), /--preset paper uses the original's value of --/, args.join(' '));
      else assert.doesNotThrow(() => parse(['--preset', 'paper', ...args]), args.join(' '));
    }
  }
});

test('a setting the method does not use is passed on with a warning that names the methods that use it', () => {
  const { overrides, warnings } = parse(['--method', 'ttt', '--context-mode', 'windows']);
  assert.deepEqual(overrides, { contextMode: 'windows' });
  assert.deepEqual(warnings, ['tttnn eval: --context-mode does not change --method ttt (it is used by: context)']);
  assert.deepEqual(parse(['--method', 'context', '--context-mode', 'windows']).warnings, []);
});

test('an unknown flag is refused, not dropped', () => {
  const r = spawnSync(process.execPath, [CLI, 'eval', ...REQUIRED, '--num-neighbours', '3'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /unknown option '--num-neighbours'/);
});

test('each method\'s defaults come from its declaration, and every default resolves and passes its check', () => {
  const model = { modelType: 'gpt2', contextLength: 1024 };
  for (const method of METHOD_REGISTRY) {
    const s = resolveSettings(method.name, model);
    assert.equal(s.numNeighbors, method.defaults.numNeighbors.value);
    assert.equal(s.distanceThreshold, method.defaults.distanceThreshold.value);
    assert.equal(s.splitText, method.defaults.splitText.value);
    assert.equal(s.learningRate, 2e-5);
    assert.equal(s.stride, 1024, 'stride follows --max-length');
  }
  assert.equal(resolveSettings('ttt', model, { maxLength: 512 }).stride, 512);
  assert.throws(() => resolveSettings('ttt', { modelType: 'llama', contextLength: 64 }), /no default learning rate for model type llama: pass --learning-rate/);
});

test('docs/DESIGN.md shows the table of defaults the declaration makes (npm run docs:settings rewrites it)', () => {
  const design = readFileSync(new URL('../../../docs/DESIGN.md', import.meta.url), 'utf8');
  const [, table] = /<!-- settings-table:start -->\n([\s\S]*?)\n<!-- settings-table:end -->/.exec(design) ?? [];
  assert.ok(table, 'DESIGN.md has the settings-table markers');
  assert.equal(table, settingsMarkdownTable());
});
