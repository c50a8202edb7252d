// The reference venv (.venv-ref/ at the repo root: CPU torch, transformers,
// peft, made by scripts/setup-ref-venv.sh from the local pip store), where
// tests compare tttnn with the Python libraries themselves.
// TTTNN_REF_VENV_PYTHON overrides the interpreter. Missing is a failure,
// never a skip.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** The reference venv's python; throws, saying how to make it, when it is missing. */
export function refVenvPython(): string {
  const python = process.env['TTTNN_REF_VENV_PYTHON'] ?? `${REPO_ROOT}.venv-ref/bin/python`;
  if (!existsSync(python)) throw new Error(`the reference venv's python (${python}) is missing: run \`bash scripts/setup-ref-venv.sh\` (or set TTTNN_REF_VENV_PYTHON)`);
  return python;
}
