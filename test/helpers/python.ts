// Runs Python reference code (Debian's python3-torch / python3-faiss) from
// tests and benchmarks. These are independent references, never runtime
// dependencies of tttnn.
//
// Debian's packages belong to /usr/bin/python3; the python3 first on PATH may
// be another interpreter without them. TTTNN_REFERENCE_PYTHON overrides.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Python reference modules shared by tests (importable from every script runPython runs). */
const REFERENCE_DIR = fileURLToPath(new URL('../../../test/reference/', import.meta.url));

export const referencePython = process.env['TTTNN_REFERENCE_PYTHON'] ?? '/usr/bin/python3';

/**
 * Runs `script` with `input` as JSON on stdin; the script prints one JSON
 * document on stdout, which is returned. Throws with Python's stderr on failure.
 * `env` adds variables for the reference process only (a benchmark may give
 * its PyTorch the OpenBLAS kernels this CPU deserves). `python` is the
 * interpreter (the benchmarks also run PyTorch 2.x from .venv-ref/bin/python).
 */
export function runPython<T>(script: string, input: unknown = null, timeoutMs = 300_000, env: Record<string, string> = {}, python = referencePython): T {
  const result = spawnSync(python, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    timeout: timeoutMs,
    env: { ...process.env, ...env, PYTHONHASHSEED: '0', PYTHONPATH: [REFERENCE_DIR, process.env['PYTHONPATH']].filter(Boolean).join(':') },
  });
  if (result.error) throw new Error(`${python}: ${result.error.message}`);
  if (result.status !== 0) {
    throw new Error(
      `reference python failed (exit ${result.status}); is python3-torch installed for ${python}? ` +
        `(npm run setup installs it)\n${result.stderr}`,
    );
  }
  return JSON.parse(result.stdout) as T;
}
