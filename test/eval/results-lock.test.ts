// Two evaluation processes on one results directory, method and rank (issue
// 35, point 10): the second is refused naming the first's pid; a lock left by
// a process that died is taken over; one from another host names the file to
// delete. The first process is a real child process.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lockResults } from '../../src/eval/results-lock.js';

const LOCK_MODULE = new URL('../../src/eval/results-lock.js', import.meta.url).href;

test('a second evaluation on the same results directory and rank is refused with the holder\'s pid; a dead holder\'s lock is taken over', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tttnn-results-lock-'));
  const child = spawn(process.execPath, ['--input-type=module', '-e', `const { lockResults } = await import(${JSON.stringify(LOCK_MODULE)}); lockResults(${JSON.stringify(dir)}, 'ttt', 0); console.log('locked'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => c.toString().includes('locked') && resolve());
      child.once('exit', (code) => reject(new Error(`the child exited with ${code}`)));
    });
    const lock = join(dir, 'ttt', 'rank0.lock');
    assert.equal((JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid, child.pid);
    assert.throws(() => lockResults(dir, 'ttt', 0), new RegExp(`rank0\\.lock: another evaluation \\(pid ${child.pid} on .*\\) is writing ttt rank 0 in .*; running both would evaluate every document twice\\. Wait for it, or use another --results-dir or --rank`));
    lockResults(dir, 'ttt', 1); // another rank is another lock
    lockResults(dir, 'random', 0); // and another method
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    lockResults(dir, 'ttt', 0); // the holder died: taken over
    assert.equal((JSON.parse(readFileSync(lock, 'utf8')) as { pid: number }).pid, process.pid);
    lockResults(dir, 'ttt', 0); // again by the same process: fine
    mkdirSync(join(dir, 'context'));
    writeFileSync(join(dir, 'context', 'rank0.lock'), JSON.stringify({ pid: 1, host: 'node-elsewhere', started: 'then' }));
    assert.throws(() => lockResults(dir, 'context', 0), /pid 1 on node-elsewhere, since then.*if that process is gone, delete .*context\/rank0\.lock/);
    assert.ok(existsSync(lock));
  } finally {
    child.kill('SIGKILL');
  }
});
