// A real single-node Slurm cluster for a test: munged, slurmctld and slurmd
// (Debian's munge and slurm-wlm) as foreground child processes of the test,
// with a generated slurm.conf, key and state directories under a temporary
// directory and ports of their own, so that nothing of the machine's own
// configuration (/etc/slurm, /etc/munge, systemd) is used or changed. Slurm's
// daemons must run as root; `slurmMissing()` says why a test cannot run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, totalmem } from 'node:os';
import { join } from 'node:path';

const DAEMONS = ['munged', 'slurmctld', 'slurmd'];
const CLIENTS = ['sbatch', 'squeue', 'scontrol', 'sinfo', 'srun', 'scancel'];

/** Why a Slurm cluster cannot be started here, or undefined when it can. */
export function slurmMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'Slurm\'s daemons run as root and this test is not root (CI runs as root: bash scripts/setup.sh --test installs slurmctld, slurmd, slurm-client and munge)';
  const absent = [...DAEMONS, ...CLIENTS].filter((b) => spawnSync('sh', ['-c', `command -v ${b}`], { env: withSbin(process.env) }).status !== 0);
  if (absent.length > 0) return `not installed: ${absent.join(', ')} (bash scripts/setup.sh --test installs Debian's slurmctld, slurmd, slurm-client and munge)`;
  return undefined;
}

/** Root's daemons live in /usr/sbin, which a non-login PATH may lack. */
function withSbin(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, PATH: `${env['PATH'] ?? ''}:/usr/sbin:/sbin` };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface SlurmCluster {
  /** The environment Slurm's commands need (SLURM_CONF, PATH with /usr/sbin). */
  env: NodeJS.ProcessEnv;
  /** The daemons' logs, for a failing test's message. */
  logs(): string;
  stop(): Promise<void>;
}

function slurmConf(dir: string, node: string, ports: [number, number]): string {
  // A node of 16 CPUs whatever this machine has (config_overrides keeps slurmd
  // from draining it): the server job and the evaluation array run at once.
  const memoryMB = Math.floor((totalmem() / 2 ** 20) * 0.8);
  return [
    'ClusterName=tttnntest', `SlurmctldHost=${node}(127.0.0.1)`, `SlurmctldPort=${ports[0]}`, `SlurmdPort=${ports[1]}`,
    'SlurmUser=root', 'SlurmdUser=root', 'AuthType=auth/munge', `AuthInfo=socket=${join(dir, 'munge.socket')}`, 'CredType=cred/munge',
    `StateSaveLocation=${join(dir, 'state')}`, `SlurmdSpoolDir=${join(dir, 'spool')}`,
    `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`, `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
    `SlurmctldLogFile=${join(dir, 'slurmctld.log')}`, `SlurmdLogFile=${join(dir, 'slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'SelectType=select/cons_tres', 'SelectTypeParameters=CR_CPU',
    'SlurmdParameters=config_overrides', 'MpiDefault=none', 'ReturnToService=2', 'SchedulerType=sched/backfill',
    'JobAcctGatherType=jobacct_gather/none', 'AccountingStorageType=accounting_storage/none', 'SwitchType=switch/none',
    // Finished jobs stay visible to scontrol for the test's checks.
    'MinJobAge=3600', 'PlugStackConfig=/dev/null',
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=16 RealMemory=${memoryMB} State=UNKNOWN`,
    'PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
  ].join('\n') + '\n';
}

async function until(what: string, ready: () => boolean, timeoutMs: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`Slurm test cluster: ${what} not ready after ${timeoutMs / 1000} s\n${logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Cancels every job of this private cluster and waits (bounded) until they
 * are gone: job steps outlive slurmd (proctrack/linuxproc), so a test that
 * failed half-way would otherwise leave its servers running.
 */
async function cancelJobs(env: NodeJS.ProcessEnv): Promise<void> {
  const queued = (): string[] => spawnSync('squeue', ['--noheader', '--format=%A'], { env, encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
  const jobs = queued();
  if (jobs.length === 0) return;
  spawnSync('scancel', jobs, { env });
  const deadline = Date.now() + 30_000;
  while (queued().length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
}

/** Starts munged, slurmctld and slurmd; resolves once the node is idle. */
export async function startSlurmCluster(dir: string): Promise<SlurmCluster> {
  for (const sub of ['state', 'spool']) mkdirSync(join(dir, sub), { recursive: true });
  const node = hostname().split('.')[0] as string;
  const conf = join(dir, 'slurm.conf');
  writeFileSync(conf, slurmConf(dir, node, [await freePort(), await freePort()]));
  writeFileSync(join(dir, 'munge.key'), randomBytes(1024), { mode: 0o600 });
  const env = withSbin({ ...process.env, SLURM_CONF: conf });
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const start = (command: string, args: string[]): void => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (c: Buffer) => output.push(`${command}: ${c.toString()}`));
    child.stderr.on('data', (c: Buffer) => output.push(`${command}: ${c.toString()}`));
    children.push(child);
  };
  const logs = (): string => {
    const files = ['slurmctld.log', 'slurmd.log'].map((f) => join(dir, f)).filter(existsSync).map((f) => `--- ${f}\n${readFileSync(f, 'utf8').slice(-3000)}`);
    return [output.join('').slice(-3000), ...files].join('\n');
  };
  const stop = async (): Promise<void> => {
    await cancelJobs(env);
    // slurmd first, so that it does not report its node down to a live slurmctld; each gets a bounded wait.
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    start('munged', ['--foreground', '--force', `--key-file=${join(dir, 'munge.key')}`, `--socket=${join(dir, 'munge.socket')}`,
      `--pid-file=${join(dir, 'munged.pid')}`, `--log-file=${join(dir, 'munged.log')}`, `--seed-file=${join(dir, 'munge.seed')}`]);
    await until('munged', () => existsSync(join(dir, 'munge.socket')), 15_000, logs);
    start('slurmctld', ['-D', '-i', '-f', conf]);
    start('slurmd', ['-D', '-f', conf]);
    await until('the node', () => spawnSync('sinfo', ['--noheader', '--format=%T'], { env, encoding: 'utf8' }).stdout.trim() === 'idle', 60_000, logs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { env, logs, stop };
}
