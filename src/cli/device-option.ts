// `--device cpu|cuda|cuda:N`, shared by score, eval, index build and train:
// the flag, and checking it against this machine once the engine is loaded.
// The model's parameters are placed there when it loads; every tensor a step
// makes is made on the device of the model's parameters
// (model.parameters.device), so nothing else takes the flag.
import { InvalidArgumentError, Option } from 'commander';

const DEVICE_SYNTAX = /^(cpu|cuda(:\d+)?)$/;

export function deviceOption(): Option {
  return new Option(
    '--device <device>',
    "where the model's weights and every tensor of its steps live: cpu, cuda or cuda:N (needs the addon built against a CUDA PyTorch and a GPU; `tttnn info` says how many CUDA devices it sees)",
  )
    .default('cpu')
    .argParser((value: string) => {
      if (!DEVICE_SYNTAX.test(value)) throw new InvalidArgumentError(`expected cpu, cuda or cuda:N, got '${value}'`);
      return value;
    });
}

/** Refuses a device this machine does not have (with what to do), and says where a non-CPU model runs (stderr). */
export async function applyDevice(device: string, command: string): Promise<string> {
  // Imported here so that `--help` works before the addon is built (precision-option.ts).
  const { checkDevice } = await import('../engine/index.js');
  checkDevice(device);
  if (device !== 'cpu') console.error(`tttnn ${command}: the model runs on ${device}`);
  return device;
}
