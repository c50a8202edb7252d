// One evaluation process per results directory, method and rank: two that
// share them would both evaluate every document and append the same result
// lines twice (issue 35). The first takes a lock file beside its results,
// holding its pid and host; a second is refused with them. The lock goes
// when its process exits; one left by a process that died (kill -9, a
// crash) on this host is taken over, one from another host is reported with
// how to remove it.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

interface LockHolder {
  pid: number;
  host: string;
  started: string;
}

/** Lock files this process holds, removed when it exits. */
const held = new Set<string>();
let cleanupInstalled = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by another user
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return typeof holder.pid === 'number' && typeof holder.host === 'string' ? holder : null;
  } catch {
    return null; // being written, or garbage: treated as stale below only when it stays so
  }
}

/**
 * Takes `<dir>/<label>/rank<rank>.lock` for this process (again, harmlessly,
 * when it holds it already), or throws naming the process that holds it.
 */
export function lockResults(dir: string, label: string, rank: number): void {
  const path = join(dir, label, `rank${rank}.lock`);
  if (held.has(path)) return;
  mkdirSync(join(dir, label), { recursive: true });
  const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        writeSync(fd, `${JSON.stringify(me)}\n`);
      } finally {
        closeSync(fd);
      }
      held.add(path);
      if (!cleanupInstalled) {
        cleanupInstalled = true;
        process.on('exit', () => held.forEach((p) => rmSync(p, { force: true })));
      }
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`${path}: cannot create the results lock (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const holder = readHolder(path);
    if (holder && holder.host === me.host && (holder.pid === process.pid || !alive(holder.pid))) {
      rmSync(path, { force: true }); // ours from an earlier run of this process, or its holder died: take it over
      continue;
    }
    const who = holder ? `pid ${holder.pid} on ${holder.host}, since ${holder.started}` : 'a process that left it unreadable';
    throw new Error(
      `${path}: another evaluation (${who}) is writing ${label} rank ${rank} in ${dir}; running both would evaluate every document twice. Wait for it, or use another --results-dir or --rank${holder && holder.host !== me.host ? `; if that process is gone, delete ${path}` : ''}`,
    );
  }
  throw new Error(`${path}: could not take the results lock; delete it if no evaluation is running`);
}
