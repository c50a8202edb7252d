// Switching gradient recording off, e.g. for evaluation and weight updates.
import { native } from './native.js';

/** Runs `fn` without recording operations for autograd (torch.no_grad). */
export function noGrad<R>(fn: () => R): R {
  const previous = native.isGradEnabled();
  native.setGradEnabled(false);
  try {
    const result = fn();
    if (result instanceof Promise) throw new TypeError('noGrad(): the function returned a Promise; wrap synchronous work only');
    return result;
  } finally {
    native.setGradEnabled(previous);
  }
}

export function isGradEnabled(): boolean {
  return native.isGradEnabled();
}
