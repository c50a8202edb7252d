// `tttnn train`: masked-LM or causal-LM training with checkpoints and resume.
import { type Command, Option } from 'commander';
import { integerArg, numberArg } from './parse.js';
import type { Precision } from '../engine/precision.js';
import { applyPrecision, precisionOption } from './precision-option.js';
import { LORA_TARGET_MODULES } from '../models/lora-targets.js';
import { applyDevice, deviceOption } from './device-option.js';


export function registerTrainCommand(program: Command): void {
  program
    .command('train')
    .description(
      'train a model with masked-LM or causal-LM loss from JSONL files. Checkpoints (Hugging Face layout plus optimizer and trainer state) go to OUT/checkpoint-<step>; running the same command again resumes from the newest one',
    )
    .addOption(new Option('--objective <objective>', 'mlm (masked LM, an encoder) or causal (next token, a decoder); default: the preset\'s or the model\'s').choices(['mlm', 'causal']))
    .option('--preset <name>', 'start from a preset: tiny-gpt (causal, 4 layers, d 256) or tiny-roberta (MLM encoder)')
    .option('--config <file>', 'start from a random model with this config.json (needs --tokenizer)')
    .option('--init <dir>', 'start from this checkpoint directory (fine-tuning)')
    .option('--tokenizer <dir>', "tokenizer directory (default: the preset's, or the --init checkpoint's)")
    .requiredOption('--data <files...>', 'training files (.jsonl, .jsonl.zst or .parquet), read in order, repeated as epochs')
    .option('--val <file>', 'validation JSONL file')
    .requiredOption('--out <dir>', 'output directory for checkpoints and log.jsonl')
    .option('--logdir <dir>', 'TensorBoard event files (train/loss, train/learning_rate, train/tokens_per_second, train/grad_norm per step; val/loss, val/perplexity): default OUT/tensorboard (tensorboard --logdir OUT)')
    .option('--batch-size <n>', 'sequences per step (default: the preset\'s, else 8)', integerArg('--batch-size'))
    .option('--seq-len <n>', 'tokens per sequence (default: the preset\'s, else the model context)', integerArg('--seq-len'))
    .option('--lr <rate>', 'peak learning rate (default: the preset\'s, else 5e-4)', numberArg('--lr'))
    .addOption(new Option('--adam-eps <eps>', 'AdamW epsilon').default(1e-8).argParser(numberArg('--adam-eps')))
    .option('--weight-decay <wd>', 'AdamW decoupled weight decay (default 0.01)', numberArg('--weight-decay'))
    .requiredOption('--max-steps <n>', 'optimizer steps to train for', integerArg('--max-steps'))
    .addOption(new Option('--schedule <kind>', 'learning rate schedule (step: the original\'s 10x drop every 1.5M sequences)').choices(['step', 'cosine', 'constant']))
    .addOption(new Option('--step-every-sequences <n>', 'step schedule: sequences between drops').default(1_500_000).argParser(integerArg('--step-every-sequences')))
    .addOption(new Option('--step-factor <f>', 'step schedule: multiplier at each drop').default(0.1).argParser(numberArg('--step-factor')))
    .option('--warmup <steps>', 'linear warm-up steps (default: the preset\'s, else 0)', integerArg('--warmup'))
    .addOption(new Option('--grad-clip <norm>', 'clip the gradient norm to this').default(1.0).argParser(numberArg('--grad-clip')))
    .addOption(new Option('--eval-every <steps>', 'validate every this many steps (0: only at the end)').default(0).argParser(integerArg('--eval-every')))
    .addOption(new Option('--val-batches <n>', 'batches of --val per validation').default(20).argParser(integerArg('--val-batches')))
    .addOption(new Option('--save-every <steps>', 'checkpoint every this many steps (0: only at the end)').default(0).argParser(integerArg('--save-every')))
    .addOption(new Option('--save-total-limit <n>', 'checkpoints kept').default(2).argParser(integerArg('--save-total-limit')))
    .addOption(new Option('--seed <n>', 'random seed (dropout, masking, initialisation)').default(0).argParser(integerArg('--seed')))
    .addOption(new Option('--packing <mode>', 'truncate: one sequence per document (the original\'s MLM data); chunk: every token, in seq-len pieces (default for causal)').choices(['truncate', 'chunk']))
    .option('--time-limit <seconds>', 'checkpoint and stop after this long (resume later)', numberArg('--time-limit'))
    .option('--target-val-loss <nats>', 'checkpoint and stop once a validation loss (every --eval-every steps) is at or below this', numberArg('--target-val-loss'))
    .option('--lora', "train a LoRA adapter on the frozen --init model instead of every weight (PEFT's LoRA: output + B A x * alpha / rank); checkpoints hold the adapter in PEFT's format (adapter_config.json + adapter_model.safetensors: PeftModel.from_pretrained loads it; tttnn score --adapter and eval --lora-init read it)")
    .addOption(new Option('--lora-rank <r>', "LoRA's rank (PEFT's r, peft/tuners/lora/config.py:632)").default(8).argParser(integerArg('--lora-rank')))
    .addOption(new Option('--lora-alpha <a>', "LoRA's alpha; scaling alpha / rank (PEFT's lora_alpha, config.py:652)").default(8).argParser(numberArg('--lora-alpha')))
    .addOption(new Option('--lora-dropout <p>', "dropout on the adapter's input (PEFT's lora_dropout, config.py:653)").default(0).argParser(numberArg('--lora-dropout')))
    .option('--lora-targets <names>', `comma-separated module names to adapt (default: PEFT's for the model type: ${Object.entries(LORA_TARGET_MODULES).map(([type, t]) => `${type} ${t.modules.join(', ')} (${t.source})`).join('; ')})`)
    .addOption(precisionOption('fp32'))
    .addOption(deviceOption())
    .action(async (options: Record<string, unknown>) => {
      await applyPrecision(options['precision'] as Precision, 'train');
      await applyDevice(options['device'] as string, 'train');
      const { manualSeed } = await import('../engine/index.js');
      const { train } = await import('../train/trainer.js');
      const { ProgressLine } = await import('./progress-line.js');
      manualSeed(options['seed'] as number); // initialisation of a fresh model
      const line = new ProgressLine('train', { unit: 'steps', total: options['maxSteps'] as number });
      const result = await train({
        ...(options as object),
        data: options['data'] as string[],
        out: options['out'] as string,
        maxSteps: options['maxSteps'] as number,
        lora: options['lora']
          ? { rank: options['loraRank'] as number, alpha: options['loraAlpha'] as number, dropout: options['loraDropout'] as number, targets: (options['loraTargets'] as string | undefined)?.split(',').map((t) => t.trim()) }
          : undefined,
        progress: (text) => line.log(text),
        onStep: (s) => line.update(s.step, `loss ${s.loss.toFixed(3)}${s.valLoss === null ? '' : `, val ${s.valLoss.toFixed(3)}`}, ${s.tokensPerSecond.toFixed(0)} tok/s`),
      });
      line.finish(`${result.steps} steps (${result.stopReason}), val loss ${result.finalValLoss?.toFixed(4) ?? '-'}`);
      console.log(JSON.stringify(result));
    });
}
