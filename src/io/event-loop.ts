// Long computations here are synchronous native calls (a training step, a
// window's forward pass). Between them a loop awaits yieldToEventLoop(), so
// that signal handlers (Ctrl-C), timers and sockets get their turn: awaiting
// an already-resolved promise would only run microtasks, never a SIGINT handler.
import { setImmediate } from 'node:timers/promises';

/** Resolves after the event loop has run its pending callbacks once. */
export function yieldToEventLoop(): Promise<void> {
  return setImmediate();
}
