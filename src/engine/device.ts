// Device names ("cpu", "cuda", "cuda:N") checked before they reach libtorch,
// so a missing GPU is reported in terms a user can act on.
import { native } from './native.js';

export function checkDevice(device: string | undefined): string | undefined {
  if (device === undefined || device === 'cpu') return device;
  const match = /^cuda(?::(\d+))?$/.exec(device);
  if (!match) throw new TypeError(`unknown device '${device}' (expected cpu, cuda or cuda:N)`);
  const count = native.cudaDeviceCount();
  const index = Number(match[1] ?? 0);
  if (count === 0) {
    throw new Error(
      `device '${device}' requested but this build has no CUDA device: build the addon against a CUDA ` +
        'PyTorch with TORCH_DIR=<site-packages>/torch npm run setup, on a machine with a GPU',
    );
  }
  if (index >= count) throw new Error(`device '${device}' requested but only ${count} CUDA device(s) exist`);
  return device;
}
