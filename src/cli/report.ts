// `tttnn report`: merged aggregates, bootstrap intervals, comparison tables,
// plots and a self-contained HTML report from evaluation result files.
import { type Command, Option } from 'commander';
import { integerArg } from './parse.js';

interface ReportCommandOptions {
  resultsDir: string;
  compare: string[];
  out: string;
  weights?: string;
  resamples: number;
  seed: number;
  medianFilter: boolean;
  interpolationValidation?: string;
  published: string[];
}

export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('aggregate result files (all ranks merged) per task and for pile_all, with bootstrap intervals, comparison tables, plots (SVG and PNG) and an HTML report (with the generation before and after TTT-NN where the results directory holds generation-example.json, as the demo writes)')
    .requiredOption('--results-dir <dir>', 'results directory of an evaluation (<method>/<task>.rank<R>.jsonl files)')
    .addOption(new Option('--compare <dir...>', 'further results directories to compare with the first (e.g. another learning rate or model)').default([]))
    .requiredOption('--out <dir>', 'directory for report.html, summary.md, comparison.txt, aggregates.json and plots/')
    .option('--weights <file>', 'task weights for pile_all: a corpus manifest.json or {"task": weight} (default: the Pile\'s weights when every task is a Pile task, else proportional to bytes)')
    .addOption(new Option('--resamples <n>', 'bootstrap resamples of documents').default(1000).argParser(integerArg('--resamples')))
    .addOption(new Option('--seed <n>', 'bootstrap seed').default(1216).argParser(integerArg('--seed')))
    .option('--no-median-filter', "keep every document, a shorter curve (fewer neighbours under the distance threshold) keeping its last value; by default, as the original's process_results.py:345-346, the documents whose curve length differs from their task's median are dropped")
    .option('--interpolation-validation <dir>', 'results directory of an interpolation run on validation documents: its best alpha (pile_all) is reported on the test documents, beside the oracle choices')
    .addOption(new Option('--published <dir...>', "the original's published results directory (<run>/aggregate_stats.pth, baseline_<method>/comparison.txt): overlaid as \"published\" rows and curves").default([]))
    .action(async (o: ReportCommandOptions) => {
      const { writeReport } = await import('../report/report.js');
      const result = await writeReport({
        resultsDir: o.resultsDir, compare: o.compare, out: o.out, weights: o.weights, resamples: o.resamples, seed: o.seed,
        medianFilter: o.medianFilter, interpolationValidation: o.interpolationValidation, published: o.published,
        warn: (line) => console.warn(`warning: ${line}`),
      });
      console.log(result.markdown);
      if (result.generationExample) {
        const { generationExampleMarkdown } = await import('../report/generation-example.js');
        console.log(`\n${generationExampleMarkdown(result.generationExample)}`);
      }
      console.log(`\nreport: ${result.files.find((f) => f.endsWith('report.html'))}`);
    });
}
