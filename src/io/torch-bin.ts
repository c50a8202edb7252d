// Reading pytorch_model.bin: the zip format of torch.save (PyTorch >= 1.6).
//
// The archive holds <root>/data.pkl, a pickled state dict whose tensors
// refer to storages by key, and <root>/data/<key>, each storage's raw
// little-endian bytes. The pickle is read with the safe subset in pickle.ts:
// only the globals below are accepted, and none of them runs code.
import { tensor, tidy, keep, type DType, type Tensor } from '../engine/index.js';
import { unpickle, type PyDict } from './pickle.js';
import { ZipReader } from './zip.js';

const STORAGE_DTYPES: Record<string, DType> = {
  FloatStorage: 'float32',
  DoubleStorage: 'float64',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  BoolStorage: 'bool',
};
const ELEMENT_BYTES: Record<DType, number> = { float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, bool: 1 };

// What the allowed globals turn into while unpickling.
class StorageType {
  constructor(readonly dtype: DType) {}
}
class Callable {
  constructor(readonly name: 'OrderedDict' | 'rebuild_tensor' | 'rebuild_parameter') {}
}
class StorageRef {
  constructor(
    readonly key: string,
    readonly dtype: DType,
    readonly numel: number,
  ) {}
}
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

function resolveGlobal(path: string): (module: string, name: string) => unknown {
  return (module, name) => {
    if (module === 'collections' && name === 'OrderedDict') return new Callable('OrderedDict');
    if (module === 'torch._utils' && name === '_rebuild_tensor_v2') return new Callable('rebuild_tensor');
    if (module === 'torch._utils' && name === '_rebuild_parameter') return new Callable('rebuild_parameter');
    // Own keys only: `name in` would also find Object.prototype's (torch.constructor, torch.__proto__).
    if (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name)) return new StorageType(STORAGE_DTYPES[name] as DType);
    throw new Error(
      `${path}: refusing to load the Python global ${module}.${name}: only state dicts of tensors are read, ` +
        'and no code from the file is run. Re-save the weights as a plain state_dict or as safetensors.',
    );
  };
}

function reduce(path: string): (callable: unknown, args: unknown[]) => unknown {
  return (callable, args) => {
    if (!(callable instanceof Callable)) throw new Error(`${path}: unexpected call in the pickle`);
    switch (callable.name) {
      case 'OrderedDict':
        return new Map();
      case 'rebuild_tensor': {
        const [storage, offset, size, stride] = args as [StorageRef, number, number[], number[]];
        if (!(storage instanceof StorageRef)) throw new Error(`${path}: tensor without a storage`);
        return new TensorRef(storage, offset, size, stride);
      }
      case 'rebuild_parameter':
        return args[0];
    }
  };
}

function persistentLoad(path: string): (pid: unknown) => unknown {
  return (pid) => {
    const [kind, type, key, , numel] = pid as [string, unknown, string, string, number];
    if (kind !== 'storage' || !(type instanceof StorageType)) throw new Error(`${path}: unsupported persistent id ${String(kind)}`);
    return new StorageRef(String(key), type.dtype, numel);
  };
}

/**
 * A tensor's view of its storage must stay inside it and may not repeat
 * elements: an expanded tensor (stride 0) of a 1-element storage would
 * become 2^32 floats when copied out, so the memory a file can make us
 * allocate stays bounded by the file's own size.
 */
function checkView(path: string, ref: TensorRef): void {
  const count = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!Array.isArray(ref.size) || !Array.isArray(ref.stride) || ref.size.length !== ref.stride.length || !ref.size.every(count) || !ref.stride.every(count) || !count(ref.offset)) {
    throw new Error(`${path}: a tensor of storage ${ref.storage.key} has a malformed size, stride or offset`);
  }
  const numel = ref.size.reduce((a, b) => a * b, 1);
  if (numel === 0) return;
  const last = ref.offset + ref.size.reduce((sum, n, i) => sum + (n - 1) * (ref.stride[i] as number), 0);
  if (last >= ref.storage.numel) throw new Error(`${path}: a tensor of storage ${ref.storage.key} reaches element ${last}, outside its ${ref.storage.numel}-element storage`);
  if (numel > ref.storage.numel) {
    throw new Error(`${path}: a tensor of storage ${ref.storage.key} is an expanded view (${numel} elements over a ${ref.storage.numel}-element storage); re-save it with .contiguous().clone()`);
  }
}

/** Reads every tensor of a torch.save'd state dict (nested dicts give dotted names). */
export function loadTorchBin(path: string): Map<string, Tensor> {
  let zip: ZipReader;
  try {
    zip = new ZipReader(path);
  } catch (error) {
    throw new Error(
      `${path}: not a zip-format torch.save file (${(error as Error).message}); ` +
        'files from PyTorch < 1.6 must be re-saved with a newer PyTorch',
    );
  }
  try {
    const pklName = [...zip.entries.keys()].find((name) => name.endsWith('/data.pkl') || name === 'data.pkl');
    if (!pklName) throw new Error(`${path}: no data.pkl in the archive`);
    const root = pklName.slice(0, pklName.length - 'data.pkl'.length);
    const state = unpickle(
      zip.read(pklName),
      {
        resolveGlobal: resolveGlobal(path),
        reduce: reduce(path),
        persistentLoad: persistentLoad(path),
        build: (object) => object, // OrderedDict._metadata: not needed
      },
      path,
    );
    if (!(state instanceof Map)) throw new Error(`${path}: the pickle is not a state dict`);

    const storages = new Map<string, Tensor>();
    const out = new Map<string, Tensor>();
    try {
      const visit = (prefix: string, dict: PyDict): void => {
        for (const [key, value] of dict) {
          const name = prefix + String(key);
          if (value instanceof TensorRef) out.set(name, materialize(value));
          else if (value instanceof Map) visit(`${name}.`, value);
        }
      };
      const materialize = (ref: TensorRef): Tensor => {
        let storage = storages.get(ref.storage.key);
        if (!storage) {
          const bytes = zip.read(`${root}data/${ref.storage.key}`);
          const expected = ref.storage.numel * ELEMENT_BYTES[ref.storage.dtype];
          if (bytes.length < expected) throw new Error(`${path}: storage ${ref.storage.key} is truncated`);
          storage = keep(
            tensor(new Uint8Array(bytes.buffer, bytes.byteOffset, expected), { dtype: ref.storage.dtype, shape: [ref.storage.numel] }),
          );
          storages.set(ref.storage.key, storage);
        }
        const s = storage;
        checkView(path, ref);
        return tidy(() => s.asStrided(ref.size, ref.stride, ref.offset).contiguous().clone());
      };
      visit('', state as PyDict);
    } finally {
      for (const s of storages.values()) s.dispose();
    }
    return out;
  } finally {
    zip.close();
  }
}
