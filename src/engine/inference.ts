// Forward passes that only read values (scoring, validation, embedding,
// generation): no autograd graph, and every intermediate tensor freed when
// the function returns (torch.inference_mode's purpose, with our scopes).
import { noGrad } from './autograd.js';
import { tidy } from './scope.js';

/** Runs `fn` without autograd, freeing the tensors it creates except those it returns. */
export function inference<R>(fn: () => R): R {
  return tidy(() => noGrad(fn));
}
