// The `tttnn` command line: one subcommand per capability. Each subcommand
// lives in its own file and registers itself on the program here.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerInfoCommand } from './info.js';
import { registerScoreCommand } from './score.js';
import { registerCorpusCommand } from './corpus.js';
import { registerTrainCommand } from './train.js';
import { registerTokenizerCommand } from './tokenizer.js';
import { registerIndexCommand } from './index-command.js';
import { registerServeCommands } from './serve.js';
import { registerEvalCommand } from './eval.js';
import { registerDemoCommand } from './demo.js';
import { registerReportCommand } from './report.js';
import { registerGenerateCommand } from './generate.js';
import { registerServeLmCommand } from './serve-lm.js';
import { namingPath } from '../io/path-errors.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('tttnn')
    .description('Test-time training on nearest neighbors (TTT-NN) for language models')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .showHelpAfterError();
  registerInfoCommand(program);
  registerScoreCommand(program);
  registerCorpusCommand(program);
  registerTokenizerCommand(program);
  registerTrainCommand(program);
  registerIndexCommand(program);
  registerServeCommands(program);
  registerEvalCommand(program);
  registerReportCommand(program);
  registerGenerateCommand(program);
  registerServeLmCommand(program);
  registerDemoCommand(program);
  return program;
}

export async function run(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    // Node's fs errors carry the path as a field but not always in the message.
    const path = (error as NodeJS.ErrnoException | undefined)?.path;
    const named = path === undefined ? error : namingPath(error, path, 'use');
    console.error(`tttnn: ${named instanceof Error ? named.message : String(named)}`);
    process.exitCode = 1;
  }
}
