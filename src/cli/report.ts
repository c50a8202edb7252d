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
    .description('aggregate result files (all ranks merged) per task and for pile_all, with bootstrap intervals, comparison tables, plots (SVG and PNG) and an HTML report')
    .requiredOption('--results-dir <dir>', 'results directory of an evaluation (<method>/<task>.rank<R>.jsonl files)')
    .addOption(new Option('--compare <dir...>', 'further results directories to compare with the first (e.g. another learning rate or model)').default([]))
    .requiredOption('--out <dir>', 'directory for report.html, summary.md, comparison.txt, aggregates.json and plots/ (and tasks.md, tasks.json for downstream tasks)')
    .option('--weights <file>', 'task weights for pile_all: a corpus manifest.json or {"task": weight} (default: the Pile\'s weights when every task is a Pile task, else proportional to bytes)')
    .addOption(new Option('--resamples <n>', 'bootstrap resamples of documents').default(1000).argParser(integerArg('--resamples')))
    .addOption(new Option('--seed <n>', 'bootstrap seed').default(1216).argParser(integerArg('--seed')))
    .option('--no-median-filter', "keep every document, a shorter curve (fewer neighbours under the distance threshold) keeping its last value; by default, as the original's process_results.py:345-346, the documents whose curve length differs from their task's median are dropped")
    .option('--interpolation-validation <dir>', 'results directory of an interpolation run on validation documents: its best alpha (pile_all) is reported on the test documents, beside the oracle choices')
    .addOption(new Option('--published <dir...>', "the original's published results directory (<run>/aggregate_stats.pth, baseline_<method>/comparison.txt): overlaid as \"published\" rows and curves").default([]))
    .action(async (o: ReportCommandOptions) => {
      const { writeReport } = await import('../report/report.js');
      const { writeTaskReport } = await import('../report/task-report.js');
      const { loadResults } = await import('../report/aggregate.js');
      // Downstream tasks (RESULTS/tasks/): tasks.md and tasks.json; a directory may hold only those.
      const tasks = writeTaskReport(o.resultsDir, o.out, { resamples: o.resamples, seed: o.seed, warn: (line) => console.warn(`warning: ${line}`) });
      if (tasks) console.log(`${tasks.markdown}\n\ntasks report: ${tasks.files[0]}\n`);
      if (tasks && loadResults(o.resultsDir).byMethod.size === 0) return;
      const result = await writeReport({
        resultsDir: o.resultsDir, compare: o.compare, out: o.out, weights: o.weights, resamples: o.resamples, seed: o.seed,
        medianFilter: o.medianFilter, interpolationValidation: o.interpolationValidation, published: o.published,
        warn: (line) => console.warn(`warning: ${line}`),
      });
      console.log(result.markdown);
      console.log(`\nreport: ${result.files.find((f) => f.endsWith('report.html'))}`);
    });
}
