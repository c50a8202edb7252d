// --rank auto / --world-size auto: every scheduler mapping, the precedence
// between them, the errors (each naming the variable), and `tttnn eval`
// refusing `auto` outside a scheduler before it loads anything.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { rankFromEnvironment, rankOrAutoArg, resolveRank } from '../../src/cli/scheduler-rank.js';

test('a Slurm array: rank = (task id - min) / step, world size = task count', () => {
  assert.deepEqual(rankFromEnvironment({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '3' }), { rank: 2, worldSize: 3, source: 'SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT' });
  assert.equal(rankFromEnvironment({ SLURM_ARRAY_TASK_ID: '11', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '4' }).rank, 1, '--array=10-13');
  assert.deepEqual(
    { ...rankFromEnvironment({ SLURM_ARRAY_TASK_ID: '14', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_STEP: '2' }), source: '' },
    { rank: 2, worldSize: 3, source: '' }, '--array=10-14:2',
  );
  // The array wins over the batch script's own SLURM_PROCID / SLURM_NTASKS.
  assert.equal(rankFromEnvironment({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '3', SLURM_PROCID: '0', SLURM_NTASKS: '1' }).rank, 1);
});

test('a Slurm array that is not an evenly spaced range, or lacks a variable, is refused by name', () => {
  assert.throws(() => rankFromEnvironment({ SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '3' }), /SLURM_ARRAY_TASK_ID=7 is not one of 3 evenly spaced ids .*--array=0-2/);
  assert.throws(() => rankFromEnvironment({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '3', SLURM_ARRAY_TASK_STEP: '2' }), /not one of 3 evenly spaced ids/);
  assert.throws(() => rankFromEnvironment({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_COUNT: '3' }), /SLURM_ARRAY_TASK_MIN is not set/);
  assert.throws(() => rankFromEnvironment({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: 'x' }), /SLURM_ARRAY_TASK_COUNT="x" is not an integer of at least 1/);
});

test('srun tasks: SLURM_PROCID of SLURM_NTASKS', () => {
  assert.deepEqual(rankFromEnvironment({ SLURM_PROCID: '3', SLURM_NTASKS: '4' }), { rank: 3, worldSize: 4, source: 'SLURM_PROCID, SLURM_NTASKS' });
  assert.throws(() => rankFromEnvironment({ SLURM_PROCID: '4', SLURM_NTASKS: '4' }), /SLURM_PROCID=4 is not below SLURM_NTASKS=4/);
  assert.throws(() => rankFromEnvironment({ SLURM_PROCID: '0' }), /SLURM_NTASKS is not set/);
});

test('a Kubernetes Indexed Job: JOB_COMPLETION_INDEX with TTTNN_WORLD_SIZE', () => {
  assert.deepEqual(rankFromEnvironment({ JOB_COMPLETION_INDEX: '2', TTTNN_WORLD_SIZE: '3' }), { rank: 2, worldSize: 3, source: 'JOB_COMPLETION_INDEX, TTTNN_WORLD_SIZE' });
  assert.throws(() => rankFromEnvironment({ JOB_COMPLETION_INDEX: '0' }), /JOB_COMPLETION_INDEX is set but TTTNN_WORLD_SIZE is not/);
  assert.throws(() => rankFromEnvironment({ JOB_COMPLETION_INDEX: '3', TTTNN_WORLD_SIZE: '3' }), /JOB_COMPLETION_INDEX=3 is not below TTTNN_WORLD_SIZE=3/);
  assert.throws(() => rankFromEnvironment({ JOB_COMPLETION_INDEX: '-1', TTTNN_WORLD_SIZE: '3' }), /JOB_COMPLETION_INDEX="-1"/);
});

test('no scheduler: an error naming every variable looked for', () => {
  assert.throws(() => rankFromEnvironment({ HOME: '/root' }), (error: Error) => {
    for (const name of ['SLURM_ARRAY_TASK_ID', 'SLURM_ARRAY_TASK_MIN', 'SLURM_ARRAY_TASK_COUNT', 'SLURM_PROCID', 'SLURM_NTASKS', 'JOB_COMPLETION_INDEX', 'TTTNN_WORLD_SIZE', '--rank R --world-size W']) {
      assert.ok(error.message.includes(name), name);
    }
    return true;
  });
});

test('resolveRank: numbers pass through; auto takes the scheduler\'s; a given number that disagrees is an error', () => {
  const env = { SLURM_PROCID: '1', SLURM_NTASKS: '2' };
  assert.deepEqual(resolveRank(1, 4, {}), { rank: 1, worldSize: 4 });
  assert.deepEqual(resolveRank(undefined, undefined, env), { rank: undefined, worldSize: undefined }, 'without auto the environment is not read');
  assert.deepEqual(resolveRank('auto', 'auto', env), { rank: 1, worldSize: 2 });
  assert.deepEqual(resolveRank('auto', undefined, env), { rank: 1, worldSize: 2 });
  assert.deepEqual(resolveRank('auto', 2, env), { rank: 1, worldSize: 2 });
  assert.throws(() => resolveRank('auto', 3, env), /--world-size 3 differs from world size 2 of the scheduler \(SLURM_PROCID, SLURM_NTASKS\)/);
  assert.throws(() => resolveRank(0, 'auto', env), /--rank 0 differs from rank 1/);
  assert.equal(rankOrAutoArg('--rank')('auto'), 'auto');
  assert.equal(rankOrAutoArg('--rank')('5'), 5);
  assert.throws(() => rankOrAutoArg('--rank')('-1'), /--rank must be a non-negative integer or auto, got "-1"/);
});

test('tttnn eval --rank auto outside a scheduler fails with the variables to set, before loading the model', () => {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SLURM_') && k !== 'JOB_COMPLETION_INDEX'));
  const run = spawnSync(process.execPath, [resolve('bin/tttnn.js'), 'eval', '--method', 'dynamic', '--model', '/nonexistent-model', '--data', '/nonexistent.jsonl', '--results-dir', '/tmp/none', '--rank', 'auto', '--world-size', 'auto'], { encoding: 'utf8', env });
  assert.equal(run.status, 1);
  assert.match(run.stderr, /--rank auto: no scheduler variables found.*SLURM_ARRAY_TASK_ID/);
  const help = spawnSync(process.execPath, [resolve('bin/tttnn.js'), 'eval', '--help'], { encoding: 'utf8' });
  assert.match(help.stdout.replace(/\s+/g, ' '), /--rank <r> .*auto: from the scheduler/);
});
