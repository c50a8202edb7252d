// Argument parsers shared by the subcommands: a bad value names its flag.

export function integerArg(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got "${value}"`);
    return n;
  };
}

export function numberArg(flag: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} must be a non-negative number, got "${value}"`);
    return n;
  };
}

/** A non-negative number, or `inf` / `Infinity` (a threshold that keeps everything). */
export function numberOrInfinityArg(flag: string): (value: string) => number {
  const finite = numberArg(flag);
  return (value) => (/^(inf|infinity)$/i.test(value.trim()) ? Infinity : finite(value));
}

/** A comma-separated list of names ("q_proj,v_proj"), none empty. */
export function listArg(flag: string): (value: string) => string[] {
  return (value) => {
    const names = value.split(',').map((n) => n.trim());
    if (names.some((n) => n === '')) throw new Error(`${flag} takes comma-separated names, got "${value}"`);
    return names;
  };
}

/** `name=value` pairs of a repeatable flag (FAISS search parameters such as nprobe=32). */
export function collectParam(flag: string): (value: string, previous: Record<string, number>) => Record<string, number> {
  return (value, previous) => {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(-?[0-9.eE+-]+)$/.exec(value);
    if (!m || !Number.isFinite(Number(m[2]))) throw new Error(`${flag} expects name=number (e.g. nprobe=32), got "${value}"`);
    return { ...previous, [m[1] as string]: Number(m[2]) };
  };
}
