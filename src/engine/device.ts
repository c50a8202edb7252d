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
      native.buildInfo().cudaBuild
        ? `device '${device}' requested but this CUDA build sees 0 CUDA devices (no GPU, or no NVIDIA driver: check nvidia-smi); use --device cpu`
        : `device '${device}' requested but this addon is built against a CPU-only libtorch: build it against a CUDA ` +
            'PyTorch (TORCH_DIR=<site-packages>/torch npm run setup, or scripts/gpu-check.sh) on a machine with a GPU',
    );
  }
  if (index >= count) throw new Error(`device '${device}' requested but only ${count} CUDA device(s) exist`);
  return device;
}
