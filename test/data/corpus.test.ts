// The corpus builder: text extraction, the math generator, and real builds
// from npm and Debian packages (a few small domains, cached per test run).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildCorpus, readManifest, splitOf } from '../../src/data/corpus/build.js';
import { DM_MODULES, dmMathematicsDocument } from '../../src/data/corpus/dm-mathematics.js';
import { corpusStats } from '../../src/data/corpus/stats.js';
import { SOURCES, corpusDomains, type CorpusSource } from '../../src/data/corpus/sources.js';
import { chunkText, htmlToText, roffToText, splitFortunes } from '../../src/data/corpus/text-extract.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const cache = mkdtempSync(join(tmpdir(), 'tttnn-cache-'));

test('text extraction: HTML, roff, fortunes, chunking', () => {
  assert.equal(
    htmlToText('<html><head><title>x</title></head><body><nav>menu</nav><h1>Title</h1><p>A &amp; B &lt;c&gt; &#8212; &#x41;</p><script>var x;</script><ul><li>one</li><li>two</li></ul></body></html>'),
    'Title\n\nA & B <c> — A\n\none\n\ntwo',
  );
  assert.equal(roffToText('.\\" comment\n.TH PRINTF 3\n.SH NAME\nprintf \\- formatted output\n.SH DESCRIPTION\nThe \\fBprintf\\fP function\n.BR fprintf (3)\n'), 'NAME\nprintf - formatted output\n\nDESCRIPTION\nThe printf function\nfprintf (3)');
  assert.deepEqual(splitFortunes('first\n%\nsecond\nline\n%\n'), ['first', 'second\nline']);
  const text = Array.from({ length: 50 }, (_, i) => `Paragraph ${i} ${'word '.repeat(20)}`).join('\n\n');
  const chunks = chunkText(text, 1000);
  assert.ok(chunks.length > 5);
  assert.ok(chunks.every((c) => Buffer.byteLength(c) <= 1000));
  assert.equal(chunks.join('\n\n').replace(/\s+/g, ' ').trim(), text.replace(/\s+/g, ' ').trim());
  assert.ok(chunkText('é'.repeat(5000), 1000).every((c) => Buffer.byteLength(c) <= 1000));
});

test('DM Mathematics documents are deterministic, cover every module, and their answers are right', () => {
  assert.equal(dmMathematicsDocument(5), dmMathematicsDocument(5));
  assert.notEqual(dmMathematicsDocument(5), dmMathematicsDocument(16));
  assert.equal(DM_MODULES.length, 11);
  // Check the linear-equation module (index 2) by substituting each answer back.
  const lines = dmMathematicsDocument(2).split('\n');
  assert.ok(lines.length >= 40);
  for (let i = 0; i < lines.length; i += 2) {
    const m = /^Solve (-?\d+)\*(\w) ([+-]) (\d+) = (-?\d+) for \w\.$/.exec(lines[i]!);
    assert.ok(m, lines[i]);
    const [a, sign, b, rhs] = [Number(m[1]), m[3], Number(m[4]), Number(m[5])];
    assert.equal(a * Number(lines[i + 1]) + (sign === '+' ? b : -b), rhs);
  }
  // And the GCD module (index 4).
  const gcdLines = dmMathematicsDocument(4).split('\n');
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  for (let i = 0; i < gcdLines.length; i += 2) {
    const [, a, b] = /of (\d+) and (\d+)\./.exec(gcdLines[i]!)!;
    assert.equal(Number(gcdLines[i + 1]), gcd(Number(a), Number(b)));
  }
});

test('the catalogue covers at least 15 domains', () => {
  assert.ok(corpusDomains().length >= 15, corpusDomains().join(', '));
  assert.ok(SOURCES.every((s) => s.id && s.domain));
});

test('the split is a stable hash: about 5% val and 5% test', () => {
  const counts = { train: 0, val: 0, test: 0 };
  for (let i = 0; i < 20000; i++) counts[splitOf(`key ${i}`, 0.05, 0.05)]++;
  assert.ok(Math.abs(counts.test - 1000) < 150 && Math.abs(counts.val - 1000) < 150, JSON.stringify(counts));
  assert.equal(splitOf('stable', 0.05, 0.05), splitOf('stable', 0.05, 0.05));
});

test('a build from real npm and Debian packages: splits, caps, licences, manifest = stats, deterministic', async () => {
  const domains = ['Gutenberg (PG-19)', 'FreeLaw', 'DM Mathematics', 'HackerNews'];
  const out = mkdtempSync(join(tmpdir(), 'tttnn-corpus-'));
  const log: string[] = [];
  const manifest = buildCorpus({ out, sizeMB: 2, domains, cacheDir: cache, valFraction: 0.15, testFraction: 0.15, log: (m) => log.push(m) });
  assert.deepEqual(Object.keys(manifest.domains).sort(), [...domains].sort());
  assert.deepEqual(manifest.skipped, [], JSON.stringify(manifest.skipped));
  for (const split of ['train', 'val', 'test']) assert.ok(existsSync(join(out, split, '00.jsonl')));
  for (const [domain, entry] of Object.entries(manifest.domains)) {
    const total = entry.train.bytes + entry.val.bytes + entry.test.bytes;
    // Each domain gets 2 MB / 4 = 500 KB; the last document may run over by at most one document (32 KB).
    assert.ok(total > 300_000 && total <= 532_000, `${domain}: ${total} bytes`);
    assert.ok(entry.test.documents > 0 && entry.val.documents > 0, `${domain} has test and val documents`);
  }
  assert.ok(readdirSync(join(out, 'licenses')).length >= 4);
  assert.match(readFileSync(join(out, 'licenses', 'deb_fortunes.txt'), 'utf8'), /Copyright|copyright/);
  // The manifest agrees with the files.
  const stats = await corpusStats(out);
  for (const [domain, entry] of Object.entries(manifest.domains)) {
    for (const split of ['train', 'val', 'test'] as const) assert.deepEqual(stats[domain]?.[split], entry[split], `${domain} ${split}`);
  }
  assert.equal(Math.round(Object.values(manifest.weights).reduce((a, b) => a + b, 0)), 100);
  // Rebuilding (from the cache) gives byte-identical files.
  const again = mkdtempSync(join(tmpdir(), 'tttnn-corpus-'));
  buildCorpus({ out: again, sizeMB: 2, domains, cacheDir: cache, valFraction: 0.15, testFraction: 0.15, log: () => undefined });
  for (const split of ['train', 'val', 'test']) {
    assert.equal(readFileSync(join(again, split, '00.jsonl'), 'utf8'), readFileSync(join(out, split, '00.jsonl'), 'utf8'));
  }
  // Documents of several domains are interleaved in the training file.
  const firstDomains = readFileSync(join(out, 'train', '00.jsonl'), 'utf8').split('\n').slice(0, 40).filter(Boolean).map((l) => (JSON.parse(l) as { meta: { pile_set_name: string } }).meta.pile_set_name);
  assert.ok(new Set(firstDomains).size >= 3);
  assert.deepEqual(readManifest(out).domains, manifest.domains);
});

test('a source that cannot be fetched is reported and skipped; the rest is built', () => {
  const broken: CorpusSource = { id: 'npm:does-not-exist', domain: 'Broken', package: { npm: 'tttnn-no-such-package-0d1e2f' }, license: [], units: () => [], documents: () => [] };
  const generated = SOURCES.find((s) => s.domain === 'DM Mathematics')!;
  const out = mkdtempSync(join(tmpdir(), 'tttnn-corpus-'));
  const manifest = buildCorpus({ out, sizeMB: 0.2, cacheDir: cache, sources: [broken, generated], log: () => undefined });
  assert.equal(manifest.skipped.length, 1);
  assert.equal(manifest.skipped[0]!.source, 'npm:does-not-exist');
  assert.match(manifest.skipped[0]!.reason, /npm pack tttnn-no-such-package-0d1e2f failed/);
  assert.ok(manifest.domains['DM Mathematics']!.train.documents > 0);
  assert.throws(() => buildCorpus({ out, cacheDir: cache, domains: ['Nope'] }), /unknown domain "Nope"/);
});

test('tttnn corpus stats prints per-domain counts', () => {
  const out = mkdtempSync(join(tmpdir(), 'tttnn-corpus-'));
  execFileSync(process.execPath, [CLI, 'corpus', 'build', '--out', out, '--size', '0.3', '--domains', 'DM Mathematics', '--cache', cache], { stdio: 'pipe' });
  const text = execFileSync(process.execPath, [CLI, 'corpus', 'stats', out], { encoding: 'utf8' });
  assert.match(text, /^domain\s+train docs\s+train MB\s+val docs/m);
  assert.match(text, /^DM Mathematics\s+\d+\s+0\.\d\d/m);
  assert.match(text, /^total\s+\d+/m);
});

test('a small domain still gets one val and one test document', () => {
  // Six documents: by hash alone (5% each) they would most likely all be training documents.
  const small: CorpusSource = { id: 'generated:small', domain: 'Small', license: [], units: () => ['u'], documents: () => Array.from({ length: 6 }, (_, i) => `document ${i} `.repeat(20)) };
  const out = mkdtempSync(join(tmpdir(), 'tttnn-corpus-'));
  const { domains } = buildCorpus({ out, sizeMB: 1, cacheDir: cache, sources: [small], log: () => undefined });
  assert.deepEqual([domains['Small']!.train.documents, domains['Small']!.val.documents, domains['Small']!.test.documents], [4, 1, 1]);
  for (const split of ['train', 'val', 'test']) {
    assert.equal(readFileSync(join(out, split, '00.jsonl'), 'utf8').split('\n').filter(Boolean).length, domains['Small']![split as 'train' | 'val' | 'test'].documents);
  }
});

test("the corpus's files, licence copies included, get 0666 less the umask, not a package file's world-writable mode (issue 35)", () => {
  // A package already in the cache (as fetchPackage leaves one) whose LICENSE is mode 0666.
  const cacheDir = mkdtempSync(join(tmpdir(), 'tttnn-cache-mode-'));
  const root = join(cacheDir, 'npm', 'tttnn-mode-package', 'package');
  mkdirSync(root, { recursive: true });
  writeFileSync(join(cacheDir, 'npm', 'tttnn-mode-package', '.complete'), 'test');
  writeFileSync(join(root, 'LICENSE'), 'Copyright the authors; permission is granted.\n');
  chmodSync(join(root, 'LICENSE'), 0o666);
  const source: CorpusSource = { id: 'npm:tttnn-mode-package', domain: 'Modes', package: { npm: 'tttnn-mode-package' }, license: ['LICENSE'], units: () => ['u'], documents: () => Array.from({ length: 6 }, (_, i) => `text ${i} `.repeat(20)) };
  const out = mkdtempSync(join(tmpdir(), 'tttnn-corpus-mode-'));
  const previous = process.umask(0o027);
  try {
    buildCorpus({ out, sizeMB: 1, cacheDir, sources: [source], log: () => undefined });
  } finally {
    process.umask(previous);
  }
  const licence = join(out, 'licenses', 'npm_tttnn-mode-package.txt');
  assert.equal(readFileSync(licence, 'utf8'), 'Copyright the authors; permission is granted.\n');
  assert.equal(statSync(licence).mode & 0o777, 0o640, 'the licence copy: 0666 less umask 027');
  assert.equal(statSync(join(out, 'train', '00.jsonl')).mode & 0o777, 0o640);
  assert.equal(statSync(join(out, 'manifest.json')).mode & 0o777, 0o640);
});
