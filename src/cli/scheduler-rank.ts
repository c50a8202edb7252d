// `--rank auto --world-size auto`: a process's rank and the number of
// processes, read from what the scheduler that started it sets, so that a
// Slurm array, an srun step or a Kubernetes Indexed Job needs no per-task
// command line. A pure function of an environment object, so every mapping
// is testable without a scheduler.

/** A rank, the world size, and which variables they came from (for messages). */
export interface SchedulerRank {
  rank: number;
  worldSize: number;
  source: string;
}

/**
 * The variable a Kubernetes Indexed Job does not set but tttnn's chart does
 * (deploy/k8s): the Job's `completions`, i.e. the world size.
 */
export const K8S_WORLD_SIZE_VARIABLE = 'TTTNN_WORLD_SIZE';

type Env = Readonly<Record<string, string | undefined>>;

function integerVariable(env: Env, name: string, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') throw new Error(`${name} is not set`);
  const n = Number(raw.trim());
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}="${raw}" is not an integer of at least ${min}`);
  return n;
}

/**
 * A Slurm job array (`sbatch --array=0-2`): the task's offset from the
 * array's first id, in steps of the array's stride. Only an evenly spaced
 * range maps onto ranks 0..COUNT-1; a list such as `--array=1,5,7` does not,
 * and is refused rather than leaving ranks unevaluated.
 */
function fromSlurmArray(env: Env): SchedulerRank {
  const id = integerVariable(env, 'SLURM_ARRAY_TASK_ID', 0);
  const min = integerVariable(env, 'SLURM_ARRAY_TASK_MIN', 0);
  const count = integerVariable(env, 'SLURM_ARRAY_TASK_COUNT', 1);
  const step = env['SLURM_ARRAY_TASK_STEP'] === undefined ? 1 : integerVariable(env, 'SLURM_ARRAY_TASK_STEP', 1);
  const offset = id - min;
  if (offset % step !== 0 || offset / step >= count) {
    throw new Error(`SLURM_ARRAY_TASK_ID=${id} is not one of ${count} evenly spaced ids from SLURM_ARRAY_TASK_MIN=${min} (step ${step}); submit the array as a range, e.g. --array=0-${count - 1}`);
  }
  return { rank: offset / step, worldSize: count, source: 'SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_COUNT' };
}

/** Tasks of one Slurm job step (`srun --ntasks N`): SLURM_PROCID of SLURM_NTASKS. */
function fromSlurmTasks(env: Env): SchedulerRank {
  const worldSize = integerVariable(env, 'SLURM_NTASKS', 1);
  const rank = integerVariable(env, 'SLURM_PROCID', 0);
  if (rank >= worldSize) throw new Error(`SLURM_PROCID=${rank} is not below SLURM_NTASKS=${worldSize}`);
  return { rank, worldSize, source: 'SLURM_PROCID, SLURM_NTASKS' };
}

/** A Kubernetes Indexed Job: JOB_COMPLETION_INDEX, with the world size the chart sets. */
function fromKubernetes(env: Env): SchedulerRank {
  const rank = integerVariable(env, 'JOB_COMPLETION_INDEX', 0);
  if (env[K8S_WORLD_SIZE_VARIABLE] === undefined) {
    throw new Error(`JOB_COMPLETION_INDEX is set but ${K8S_WORLD_SIZE_VARIABLE} is not: set it to the Job's completions (deploy/k8s does), or pass --world-size`);
  }
  const worldSize = integerVariable(env, K8S_WORLD_SIZE_VARIABLE, 1);
  if (rank >= worldSize) throw new Error(`JOB_COMPLETION_INDEX=${rank} is not below ${K8S_WORLD_SIZE_VARIABLE}=${worldSize}: the Job's completions and ${K8S_WORLD_SIZE_VARIABLE} differ`);
  return { rank, worldSize, source: `JOB_COMPLETION_INDEX, ${K8S_WORLD_SIZE_VARIABLE}` };
}

/**
 * The rank and world size the scheduler gives this process. A Slurm array
 * wins over the job's tasks (a batch script of an array also has
 * SLURM_PROCID=0 and SLURM_NTASKS=1); Kubernetes comes last.
 */
export function rankFromEnvironment(env: Env): SchedulerRank {
  if (env['SLURM_ARRAY_TASK_ID'] !== undefined) return fromSlurmArray(env);
  if (env['SLURM_PROCID'] !== undefined || env['SLURM_NTASKS'] !== undefined) return fromSlurmTasks(env);
  if (env['JOB_COMPLETION_INDEX'] !== undefined) return fromKubernetes(env);
  throw new Error(
    '--rank auto: no scheduler variables found. Under a Slurm array these are SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and SLURM_ARRAY_TASK_COUNT; ' +
      `under srun SLURM_PROCID and SLURM_NTASKS; in a Kubernetes Indexed Job JOB_COMPLETION_INDEX and ${K8S_WORLD_SIZE_VARIABLE}. Outside a scheduler pass --rank R --world-size W`,
  );
}

/** `--rank` / `--world-size` as given: a number, 'auto', or absent. */
export type RankArg = number | 'auto' | undefined;

/**
 * The rank and world size of a command: the flags as given, or, when either
 * is `auto`, the scheduler's, with a given number that disagrees an error.
 */
export function resolveRank(rank: RankArg, worldSize: RankArg, env: Env): { rank?: number; worldSize?: number } {
  if (rank !== 'auto' && worldSize !== 'auto') return { rank, worldSize };
  const found = rankFromEnvironment(env);
  if (typeof rank === 'number' && rank !== found.rank) throw new Error(`--rank ${rank} differs from rank ${found.rank} of the scheduler (${found.source}); pass --rank auto`);
  if (typeof worldSize === 'number' && worldSize !== found.worldSize) throw new Error(`--world-size ${worldSize} differs from world size ${found.worldSize} of the scheduler (${found.source}); pass --world-size auto`);
  return { rank: found.rank, worldSize: found.worldSize };
}

/** commander parser for --rank / --world-size: a non-negative integer or `auto`. */
export function rankOrAutoArg(flag: string): (value: string) => number | 'auto' {
  return (value) => {
    if (value.trim() === 'auto') return 'auto';
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer or auto, got "${value}"`);
    return n;
  };
}
