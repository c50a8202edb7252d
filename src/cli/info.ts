// `tttnn info`: what the engine runs on — the CPU and its vector ISA, which
// library computes fp32 GEMMs and why, OpenBLAS's kernel set, oneDNN's ISA,
// what `--precision auto` means here, libtorch (version and the file it was
// loaded from), the addon file, threads, CUDA devices. With --model DIR: the
// architecture tttnn recognises in a checkpoint directory and how it reads it.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';

const yesNo = (value: boolean): string => (value ? 'yes' : 'no');

export function registerInfoCommand(program: Command): void {
  program
    .command('info')
    .description('print what the engine runs on: CPU and vector ISA (AVX2, AVX-512, AVX512_BF16, AMX), the fp32 GEMM backend and why, OpenBLAS kernels, oneDNN ISA, bf16 support, libtorch version and where it was loaded from, the addon file, threads, CUDA devices')
    .option('--json', 'print JSON instead of text')
    .option('--model <dir>', 'instead: load this checkpoint directory (a causal LM, an encoder or a sentence-transformers directory) and print the architecture recognised (model_type, class, layers, heads, rope, tied embeddings, windows), its tokenizer and, for an embedder, its pooling')
    .action(async (options: { json?: boolean; model?: string }) => {
      if (options.model !== undefined) return printModel(options.model, options.json ?? false);
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

/** `tttnn info --model DIR`: the model as tttnn loads it. */
async function printModel(dir: string, json: boolean): Promise<void> {
  const { loadModel, summarizeModel, describePooling } = await import('../models/index.js');
  const { isSentenceTransformersDir, loadEmbedder } = await import('../index/index.js');
  const { loadTokenizer } = await import('../tokenizers/index.js');
  const out: Record<string, unknown> = { dir };
  if (isSentenceTransformersDir(dir)) {
    const embedder = loadEmbedder(dir);
    try {
      Object.assign(out, summarizeModel(embedder.model), { sentenceTransformers: true, pooling: describePooling(embedder.pooling!), maxSeqLength: embedder.maxLength, lowercase: embedder.lowercase ?? false });
    } finally {
      embedder.model.dispose();
    }
  } else {
    const model = loadModel(dir);
    try {
      Object.assign(out, summarizeModel(model));
      if (model.kind === 'encoder') out['pooling'] = `${describePooling({ modes: ['mean'], normalize: false })} (the original's embedding)`;
    } finally {
      model.dispose();
    }
  }
  if (existsSync(join(dir, 'tokenizer.json')) || existsSync(join(dir, 'vocab.json'))) {
    const tokenizer = loadTokenizer(dir);
    Object.assign(out, { tokenizer: tokenizer.kind, tokenizerVocab: tokenizer.vocabSize, bosTokenId: tokenizer.bosTokenId ?? null, eosTokenId: tokenizer.eosTokenId ?? null, scoringPrefixTokenId: tokenizer.scoringPrefixTokenId ?? null });
  }
  if (json) console.log(JSON.stringify(out, null, 2));
  else for (const [k, v] of Object.entries(out)) console.log(`${k.padEnd(21)} ${String(v)}`);
}
