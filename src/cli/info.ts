// `tttnn info`: what the engine runs on — the CPU and its vector ISA, which
// library computes fp32 GEMMs and why, OpenBLAS's kernel set, oneDNN's ISA,
// what `--precision auto` means here, libtorch (version and the file it was
// loaded from), the addon file, threads, CUDA devices.
import type { Command } from 'commander';

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description('print what the engine runs on: CPU and vector ISA (AVX2, AVX-512, AVX512_BF16, AMX), the fp32 GEMM backend and why, OpenBLAS kernels, oneDNN ISA, bf16 support, libtorch version and where it was loaded from, the addon file, threads, CUDA devices')
    .option('--json', 'print JSON instead of text')
    .action(async (options: { json?: boolean }) => {
      // Imported here so `tttnn --help` works even before the addon is built.
      const { engineInfo, resolvePrecision } = await import('../engine/index.js');
      const info = engineInfo();
      const auto = resolvePrecision('auto');
      if (options.json) {
        console.log(JSON.stringify({ ...info, precisionAuto: auto.effective }, null, 2));
        return;
      }
      const { cpu, gemm } = info;
      console.log(`CPU           ${cpu.brand || '?'} (${cpu.vendor}, family ${cpu.family} model ${cpu.model})`);
      console.log(`vector ISA    AVX2 ${yesNo(cpu.avx2)}, AVX-512 ${yesNo(cpu.avx512)}, AVX512_BF16 ${yesNo(cpu.avx512Bf16)}, AMX-BF16 ${yesNo(cpu.amxBf16)}`);
      console.log(`fp32 GEMM     ${gemm.backend} (${gemm.reason}; TTTNN_GEMM=openblas|onednn|auto overrides)`);
      console.log(`OpenBLAS      ${gemm.openblasCore ? `${gemm.openblasCore} kernels` : 'not the BLAS here'} — ${info.blas}`);
      console.log(`oneDNN        ${gemm.onednnAvailable ? `${gemm.onednnVersion}, ISA ${gemm.onednnIsa}` : 'not found (libdnnl.so.2)'}`);
      console.log(`bf16          ${auto.note.replace(/^precision /, '--precision auto: ')}`);
      console.log(`libtorch      ${info.torchVersion} from ${info.torchLibrary}${info.cudaBuild ? ' (CUDA build)' : ''}`);
      console.log(`addon         ${info.addon}${process.env['TTTNN_ADDON'] ? ' (TTTNN_ADDON)' : ''}`);
      console.log(`threads       ${info.threads}`);
      console.log(`CUDA          ${info.cudaDevices} CUDA device${info.cudaDevices === 1 ? '' : 's'}${info.cudaDevices === 0 ? ' (everything runs on the CPU; --device cuda is refused)' : ''}`);
    });
}
