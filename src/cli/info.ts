// `tttnn info`: what the engine runs on (libtorch version, BLAS, threads, devices).
import type { Command } from 'commander';

export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description('print the tensor engine build: libtorch version, BLAS, threads, CUDA devices')
    .option('--json', 'print JSON instead of text')
    .action(async (options: { json?: boolean }) => {
      // Imported here so `tttnn --help` works even before the addon is built.
      const { engineInfo } = await import('../engine/index.js');
      const info = engineInfo();
      if (options.json) {
        console.log(JSON.stringify(info, null, 2));
        return;
      }
      console.log(`libtorch      ${info.torchVersion}`);
      console.log(`BLAS          ${info.blas}`);
      console.log(`threads       ${info.threads}`);
      console.log(`CUDA devices  ${info.cudaDevices}`);
    });
}
