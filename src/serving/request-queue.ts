// Requests take turns with the model: one holds it at a time (`slots`, 1 by
// default), the others wait in order, at most `maxWaiting` of them; one more
// is refused (503) at once rather than left to time out. Why one slot: a
// request trains the shared model — its own LoRA adapter attached to it, or
// every weight, restored afterwards — so a second request running in between
// would see that training. Taking turns is what keeps requests apart, and on
// a CPU the model's steps could not run faster side by side anyway.
// A waiter whose client goes away (its signal aborts) leaves the line.
import { HttpError } from '../retrieval/request-body.js';

export interface QueueStats {
  active: number;
  waiting: number;
  /** Requests that got a slot, since the start. */
  served: number;
}

export class RequestQueue {
  private active = 0;
  private served = 0;
  private readonly waiters: { grant: () => void; signal?: AbortSignal; onAbort: () => void }[] = [];

  constructor(
    private readonly maxWaiting: number,
    private readonly slots = 1,
  ) {}

  stats(): QueueStats {
    return { active: this.active, waiting: this.waiters.length, served: this.served };
  }

  /** Resolves with the slot's release once it is this request's turn; rejects (503) when the line is full, or when `signal` aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(new HttpError(499, 'the client went away'));
    if (this.active < this.slots && this.waiters.length === 0) return Promise.resolve(this.take());
    if (this.waiters.length >= this.maxWaiting) return Promise.reject(new HttpError(503, `the server is busy: ${this.active} request(s) running and ${this.waiters.length} waiting, its --max-waiting; retry later`));
    return new Promise((resolve, reject) => {
      const waiter = {
        grant: () => {
          signal?.removeEventListener('abort', waiter.onAbort);
          resolve(this.take());
        },
        signal,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(new HttpError(499, 'the client went away'));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private take(): () => void {
    this.active++;
    this.served++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiters.shift()?.grant();
    };
  }
}
