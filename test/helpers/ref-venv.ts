// The reference venv (.venv-ref/, built by scripts/setup-ref-venv.sh from the
// local pip store): today's CPU PyTorch, transformers, sentence-transformers,
// tokenizers and lm-evaluation-harness, the peers the model-family parity
// tests compare with. TTTNN_REF_VENV_PYTHON overrides the interpreter.
//
// A test that needs it fails (never skips) when it is missing, in CI and
// locally, saying how to build it.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runPythonWith } from './python.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The reference venv's interpreter; throws, naming the fix, when it is not there. */
export function refVenvPython(): string {
  const path = process.env['TTTNN_REF_VENV_PYTHON'] ?? `${REPO_ROOT}.venv-ref/bin/python`;
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`bash scripts/setup-ref-venv.sh\` (or set TTTNN_REF_VENV_PYTHON to a python with torch, transformers, tokenizers and lm-eval)`);
  }
  return path;
}

/** runPython (python.ts) in the reference venv. */
export function runRefVenvPython<T>(script: string, input: unknown = null, timeoutMs = 300_000): T {
  return runPythonWith<T>(refVenvPython(), script, input, timeoutMs);
}
