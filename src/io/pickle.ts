// A safe subset of Python's pickle, for reading torch.save checkpoints.
//
// Python's pickle can call any importable function; this reader never runs
// code. It understands the opcodes of protocols 2-5 that torch.save emits
// and resolves every global (GLOBAL / STACK_GLOBAL) through an allowlist the
// caller provides: a global that is not on it stops the load with an error
// naming it.

/** A reference to a Python global, as the caller's allowlist resolved it. */
export type GlobalResolver = (module: string, name: string) => unknown;
/** Calls a resolved global with its arguments (REDUCE / NEWOBJ). */
export type Reducer = (callable: unknown, args: unknown[]) => unknown;
/** Resolves a persistent id (BINPERSID), e.g. torch's storage references. */
export type PersistentLoader = (pid: unknown) => unknown;

export interface UnpicklerHooks {
  resolveGlobal: GlobalResolver;
  reduce: Reducer;
  persistentLoad: PersistentLoader;
  /** BUILD: set state on an object; default ignores it. */
  build?: (object: unknown, state: unknown) => unknown;
}

const MARK = Symbol('mark');

/** A Python dict with insertion order and non-string keys; here a Map. */
export type PyDict = Map<unknown, unknown>;

export function unpickle(data: Buffer, hooks: UnpicklerHooks, source = 'pickle'): unknown {
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let p = 0;

  const fail = (message: string): never => {
    throw new Error(`${source}: ${message} (at byte ${p})`);
  };
  const need = (n: number): void => {
    if (p + n > data.length) fail('truncated pickle');
  };
  const u8 = (): number => (need(1), data.readUInt8(p++));
  const u16 = (): number => (need(2), (p += 2), data.readUInt16LE(p - 2));
  const u32 = (): number => (need(4), (p += 4), data.readUInt32LE(p - 4));
  const i32 = (): number => (need(4), (p += 4), data.readInt32LE(p - 4));
  const u64 = (): number => (need(8), (p += 8), Number(data.readBigUInt64LE(p - 8)));
  const bytes = (n: number): Buffer => (need(n), (p += n), data.subarray(p - n, p));
  const line = (): string => {
    const end = data.indexOf(0x0a, p);
    if (end < 0) fail('unterminated text line');
    const text = data.toString('latin1', p, end);
    p = end + 1;
    return text;
  };
  const pop = (): unknown => (stack.length === 0 ? fail('stack underflow') : stack.pop());
  const top = (): unknown => (stack.length === 0 ? fail('stack underflow') : stack[stack.length - 1]);
  const popMark = (): unknown[] => {
    const index = stack.lastIndexOf(MARK);
    if (index < 0) fail('MARK expected');
    const items = stack.splice(index);
    items.shift();
    return items;
  };
  const setItems = (dict: unknown, items: unknown[]): void => {
    if (!(dict instanceof Map)) fail('SETITEM(S) on a non-dict');
    for (let i = 0; i + 1 < items.length; i += 2) (dict as PyDict).set(items[i], items[i + 1]);
  };
  const appendItems = (list: unknown, items: unknown[]): void => {
    if (!Array.isArray(list)) fail('APPEND(S) on a non-list');
    for (const item of items) (list as unknown[]).push(item); // not push(...items): a million items would overflow the stack
  };
  // Little-endian two's complement, in time linear in its length (a byte-by-byte BigInt shift
  // is quadratic: a 1 MB LONG4 took minutes).
  const longFromBytes = (b: Buffer): number => {
    if (b.length === 0) return 0;
    let value = BigInt(`0x${Buffer.from(b).reverse().toString('hex')}`);
    if ((b[b.length - 1] as number) & 0x80) value -= 1n << BigInt(8 * b.length);
    return Number(value);
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: // PROTO
        u8();
        break;
      case 0x95: // FRAME
        u64();
        break;
      case 0x2e: // STOP
        return pop();
      case 0x28: // MARK
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
        stack.push([]);
        break;
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x74: // TUPLE
        stack.push(popMark());
        break;
      case 0x85: // TUPLE1
        stack.push([pop()]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case 0x71: // BINPUT
        memo.set(u8(), top());
        break;
      case 0x72: // LONG_BINPUT
        memo.set(u32(), top());
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top());
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const key = op === 0x68 ? u8() : u32();
        if (!memo.has(key)) fail(`memo key ${key} missing`);
        stack.push(memo.get(key));
        break;
      }
      case 0x4a: // BININT
        stack.push(i32());
        break;
      case 0x4b: // BININT1
        stack.push(u8());
        break;
      case 0x4d: // BININT2
        stack.push(u16());
        break;
      case 0x8a: // LONG1
        stack.push(longFromBytes(bytes(u8())));
        break;
      case 0x8b: // LONG4
        stack.push(longFromBytes(bytes(u32())));
        break;
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(data.readDoubleBE(p));
        p += 8;
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x58: // BINUNICODE
        stack.push(bytes(u32()).toString('utf8'));
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(bytes(u8()).toString('utf8'));
        break;
      case 0x8d: // BINUNICODE8
        stack.push(bytes(u64()).toString('utf8'));
        break;
      case 0x55: // SHORT_BINSTRING
        stack.push(bytes(u8()).toString('latin1'));
        break;
      case 0x54: // BINSTRING
        stack.push(bytes(u32()).toString('latin1'));
        break;
      case 0x43: // SHORT_BINBYTES
        stack.push(Buffer.from(bytes(u8())));
        break;
      case 0x42: // BINBYTES
        stack.push(Buffer.from(bytes(u32())));
        break;
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = line();
        stack.push(hooks.resolveGlobal(module, line()));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(hooks.resolveGlobal(module as string, name as string));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop();
        const callable = pop();
        stack.push(hooks.reduce(callable, Array.isArray(args) ? args : fail('REDUCE arguments must be a tuple')));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop();
        const cls = pop();
        stack.push(hooks.reduce(cls, Array.isArray(args) ? args : fail('NEWOBJ arguments must be a tuple')));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop();
        const object = pop();
        stack.push(hooks.build ? hooks.build(object, state) : object);
        break;
      }
      case 0x51: // BINPERSID
        stack.push(hooks.persistentLoad(pop()));
        break;
      case 0x73: {
        // SETITEM
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x61: {
        // APPEND
        const item = pop();
        appendItems(top(), [item]);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case 0x30: // POP
        pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)} (only the subset torch.save writes is read)`);
    }
  }
}
