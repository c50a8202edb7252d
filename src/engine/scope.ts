// Deterministic memory management for tensors.
//
// A scope (`tidy(fn)`) records every tensor created while `fn` runs and
// disposes all of them when it returns, except the tensors found in its
// result, which move to the enclosing scope. `keep(t)` takes a tensor out of
// every scope (model parameters, optimizer state, caches): its owner then
// disposes it. Tensors created outside any scope are owned by their caller.
//
// Scopes are synchronous: an async function would let other work create
// tensors inside the scope while it waits.

/** What a scope can free. `Tensor` is the only implementation. */
export interface Disposable {
  dispose(): void;
}

const scopes: Set<Disposable>[] = [];

/** Called by the Tensor constructor. */
export function trackInScope(tensor: Disposable): void {
  scopes[scopes.length - 1]?.add(tensor);
}

/** Runs `fn`, then frees every tensor it created that is not part of its result. */
export function tidy<R>(fn: () => R): R {
  const scope = new Set<Disposable>();
  scopes.push(scope);
  let result: R | undefined;
  try {
    result = fn();
    if (result instanceof Promise) {
      throw new TypeError('tidy(): the function returned a Promise; scopes are synchronous (tidy each step inside)');
    }
    return result;
  } finally {
    scopes.pop();
    const kept = new Set<Disposable>();
    collectTracked(result, scope, kept, new Set());
    const parent = scopes[scopes.length - 1];
    for (const tensor of scope) {
      if (kept.has(tensor)) parent?.add(tensor);
      else tensor.dispose();
    }
  }
}

/** Exempts `tensor` from every open scope; the caller disposes it. */
export function keep<D extends Disposable>(tensor: D): D {
  for (const scope of scopes) scope.delete(tensor);
  return tensor;
}

/** Number of open scopes (for tests and assertions). */
export function scopeDepth(): number {
  return scopes.length;
}

// Finds the tensors of `scope` inside a result: the value itself, arrays,
// Maps and plain objects, to any depth.
function collectTracked(value: unknown, scope: Set<Disposable>, kept: Set<Disposable>, seen: Set<object>): void {
  if (value === null || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (scope.has(value as Disposable)) {
    kept.add(value as Disposable);
    return;
  }
  if (Array.isArray(value)) {
    for (const item of value) collectTracked(item, scope, kept, seen);
  } else if (value instanceof Map) {
    for (const item of value.values()) collectTracked(item, scope, kept, seen);
  } else if (Object.getPrototypeOf(value) === Object.prototype) {
    for (const item of Object.values(value)) collectTracked(item, scope, kept, seen);
  }
}
