// Reading torch.save files of plain Python values: dicts, lists, tuples,
// strings, numbers and numpy scalars, such as the original's
// results/*/aggregate_stats.pth (a dict task -> list of dicts of metrics,
// some of them numpy.float64). The pickle is read with the safe subset in
// pickle.ts; the only globals accepted are the three a numpy scalar needs,
// and none of them runs code: numpy.dtype and the scalar's raw bytes are
// decoded here. Tensors (persistent ids) are refused: loadTorchBin reads those.
import { unpickle } from './pickle.js';
import { ZipReader } from './zip.js';

/** numpy.dtype(code, align, copy) and its BUILD state's byte order. */
class NumpyDtype {
  littleEndian = true;
  constructor(readonly code: string) {}
}
class Global {
  constructor(readonly name: 'scalar' | 'dtype' | 'encode') {}
}

function resolveGlobal(path: string): (module: string, name: string) => unknown {
  return (module, name) => {
    // numpy >= 2 pickles the same function from numpy._core.
    if ((module === 'numpy.core.multiarray' || module === 'numpy._core.multiarray') && name === 'scalar') return new Global('scalar');
    if (module === 'numpy' && name === 'dtype') return new Global('dtype');
    // Protocol 2 (torch.save's) pickles bytes as _codecs.encode(latin-1 text, 'latin1').
    if (module === '_codecs' && name === 'encode') return new Global('encode');
    throw new Error(`${path}: refusing to load the Python global ${module}.${name}: only plain values and numpy scalars are read, and no code from the file is run`);
  };
}

/** A numpy scalar's value from its dtype and raw bytes. */
function decodeScalar(path: string, dtype: NumpyDtype, raw: Buffer): number | boolean {
  const le = dtype.littleEndian;
  const need = (n: number): void => {
    if (raw.length !== n) throw new Error(`${path}: numpy scalar of dtype ${dtype.code} has ${raw.length} bytes, expected ${n}`);
  };
  switch (dtype.code) {
    case 'f8':
      need(8);
      return le ? raw.readDoubleLE(0) : raw.readDoubleBE(0);
    case 'f4':
      need(4);
      return le ? raw.readFloatLE(0) : raw.readFloatBE(0);
    case 'i8':
      need(8);
      return Number(le ? raw.readBigInt64LE(0) : raw.readBigInt64BE(0));
    case 'i4':
      need(4);
      return le ? raw.readInt32LE(0) : raw.readInt32BE(0);
    case 'b1':
      need(1);
      return raw[0] !== 0;
    default:
      throw new Error(`${path}: unsupported numpy scalar dtype ${dtype.code}`);
  }
}

function reduce(path: string): (callable: unknown, args: unknown[]) => unknown {
  return (callable, args) => {
    if (!(callable instanceof Global)) throw new Error(`${path}: unexpected call in the pickle`);
    switch (callable.name) {
      case 'dtype':
        return new NumpyDtype(String(args[0]));
      case 'encode': {
        const [text, encoding] = args;
        if (typeof text !== 'string' || encoding !== 'latin1') throw new Error(`${path}: _codecs.encode is only read for latin1 text`);
        return Buffer.from(text, 'latin1');
      }
      case 'scalar': {
        const [dtype, raw] = args;
        if (!(dtype instanceof NumpyDtype) || !Buffer.isBuffer(raw)) throw new Error(`${path}: numpy scalar without a dtype and bytes`);
        return decodeScalar(path, dtype, raw);
      }
    }
  };
}

/** BUILD on a dtype: its state tuple (version, byte order, ...) says the byte order ('>' big-endian; '<', '=' and '|' little here). */
function build(object: unknown, state: unknown): unknown {
  if (object instanceof NumpyDtype && Array.isArray(state) && state[1] === '>') object.littleEndian = false;
  return object;
}

/** The value saved by torch.save (zip format): dicts become Maps, lists and tuples arrays, numpy scalars numbers. */
export function loadTorchValues(path: string): unknown {
  let zip: ZipReader;
  try {
    zip = new ZipReader(path);
  } catch (error) {
    throw new Error(`${path}: not a zip-format torch.save file (${(error as Error).message})`);
  }
  try {
    const pklName = [...zip.entries.keys()].find((name) => name.endsWith('/data.pkl') || name === 'data.pkl');
    if (!pklName) throw new Error(`${path}: no data.pkl in the archive`);
    return unpickle(
      zip.read(pklName),
      {
        resolveGlobal: resolveGlobal(path),
        reduce: reduce(path),
        persistentLoad: () => {
          throw new Error(`${path}: holds tensors; only plain values are read here`);
        },
        build,
      },
      path,
    );
  } finally {
    zip.close();
  }
}
