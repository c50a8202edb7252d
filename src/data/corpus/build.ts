// Assembling the embedded multi-domain corpus in Pile format:
//   OUT/train/00.jsonl  OUT/val/00.jsonl  OUT/test/00.jsonl
//   OUT/licenses/<source>.txt   OUT/manifest.json
// Each domain gets an equal share of the byte budget, spread over its
// sources; units are taken in a hash order (so a cap samples a whole source,
// not its alphabetically first files); every document goes to train, val or
// test by a hash of its key, so the split is deterministic and stable.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PileDocument } from '../jsonl.js';
import { proportionalWeights, taskName } from '../tasks.js';
import { fetchPackage } from './fetch.js';
import { SOURCES, type CorpusSource } from './sources.js';
import { chunkText } from './text-extract.js';

export const SPLITS = ['train', 'val', 'test'] as const;
export type Split = (typeof SPLITS)[number];

export interface BuildOptions {
  out: string;
  /** Total size in MB (10^6 bytes); default 60. */
  sizeMB?: number;
  /** pile_set_names to include (default all). */
  domains?: string[];
  cacheDir: string;
  /** Fractions of documents for val and test (default 0.05 each). */
  valFraction?: number;
  testFraction?: number;
  /** Longer documents are cut at paragraph boundaries (default 32 KB). */
  maxDocumentBytes?: number;
  log?: (message: string) => void;
  /** Replace the catalogue (tests). */
  sources?: CorpusSource[];
}

export interface SplitCounts {
  documents: number;
  bytes: number;
}

export interface Manifest {
  format: 'tttnn-corpus/1';
  sizeMB: number;
  domains: Record<string, { task: string; sources: string[] } & Record<Split, SplitCounts>>;
  skipped: { source: string; reason: string }[];
  /** pile_all weights: proportional to each task's bytes (sum 100). */
  weights: Record<string, number>;
}

/** A stable number in [0, 1) from a string. */
export function unitHash(key: string): number {
  return createHash('sha1').update(key).digest().readUInt32BE(0) / 2 ** 32;
}

export function splitOf(key: string, valFraction: number, testFraction: number): Split {
  const h = unitHash(`split:${key}`);
  return h < testFraction ? 'test' : h < testFraction + valFraction ? 'val' : 'train';
}

interface Pending {
  order: number;
  line: string;
}

interface DomainDocument {
  key: string;
  split: Split;
  bytes: number;
  line: string;
}

/**
 * A small domain can draw no test (or val) document by hash alone; then the
 * training documents with the lowest split hashes move there, so every
 * domain with at least 3 documents is evaluated. Deterministic like the hash.
 */
function ensureHeldOut(documents: DomainDocument[]): void {
  if (documents.length < 3) return;
  for (const split of ['test', 'val'] as const) {
    if (documents.some((d) => d.split === split)) continue;
    const train = documents.filter((d) => d.split === 'train');
    if (train.length < 2) continue;
    train.sort((a, b) => unitHash(`split:${a.key}`) - unitHash(`split:${b.key}`))[0]!.split = split;
  }
}

export function buildCorpus(options: BuildOptions): Manifest {
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));
  const sources = options.sources ?? SOURCES;
  const allDomains = [...new Set(sources.map((s) => s.domain))].sort();
  const domains = options.domains ?? allDomains;
  for (const d of domains) {
    if (!allDomains.includes(d)) throw new Error(`unknown domain "${d}" (domains: ${allDomains.join(', ')})`);
  }
  const sizeMB = options.sizeMB ?? 60;
  const domainBudget = (sizeMB * 1e6) / domains.length;
  const valFraction = options.valFraction ?? 0.05;
  const testFraction = options.testFraction ?? 0.05;
  const maxBytes = options.maxDocumentBytes ?? 32_000;

  mkdirSync(join(options.out, 'licenses'), { recursive: true });
  const pending: Record<Split, Pending[]> = { train: [], val: [], test: [] };
  const manifest: Manifest = { format: 'tttnn-corpus/1', sizeMB, domains: {}, skipped: [], weights: {} };

  for (const domain of domains) {
    const entry = { task: taskName(domain), sources: [] as string[], train: { documents: 0, bytes: 0 }, val: { documents: 0, bytes: 0 }, test: { documents: 0, bytes: 0 } };
    manifest.domains[domain] = entry;
    const domainSources = sources.filter((s) => s.domain === domain);
    const domainDocuments: DomainDocument[] = [];
    let used = 0;
    domainSources.forEach((source, k) => {
      // Leftover budget of earlier, smaller sources passes to the later ones.
      const budget = (domainBudget - used) / (domainSources.length - k);
      let root = '';
      try {
        if (source.package) root = fetchPackage(source.package, options.cacheDir);
      } catch (error) {
        const reason = (error as Error).message;
        manifest.skipped.push({ source: source.id, reason });
        log(`corpus: skipped ${source.id}: ${reason}`);
        return;
      }
      keepLicense(source, root, options.out);
      let taken = 0;
      const units = source.units(root).map((unit) => ({ unit, order: unitHash(`${source.id}:${unit}`) }));
      units.sort((a, b) => a.order - b.order);
      for (const { unit } of units) {
        if (taken >= budget) break;
        let texts: string[];
        try {
          texts = source.documents(root, unit);
        } catch (error) {
          log(`corpus: ${source.id}: skipped unit ${unit}: ${(error as Error).message}`);
          continue;
        }
        texts.flatMap((t) => chunkText(t, maxBytes)).forEach((text, i) => {
          if (taken >= budget || text.trim().length === 0) return;
          const key = `${source.id}:${unit}:${i}`;
          const document: PileDocument = { text, meta: { pile_set_name: domain, source: source.id } };
          const bytes = Buffer.byteLength(text);
          domainDocuments.push({ key, split: splitOf(key, valFraction, testFraction), bytes, line: JSON.stringify(document) });
          taken += bytes;
        });
      }
      used += taken;
      entry.sources.push(source.id);
      log(`corpus: ${domain.padEnd(18)} ${source.id.padEnd(34)} ${(taken / 1e6).toFixed(2)} MB from ${units.length} units`);
    });
    ensureHeldOut(domainDocuments);
    for (const d of domainDocuments) {
      pending[d.split].push({ order: unitHash(`order:${d.key}`), line: d.line });
      entry[d.split].documents++;
      entry[d.split].bytes += d.bytes;
    }
  }

  // Documents of all domains interleaved in a fixed pseudo-random order (training reads files front to back).
  for (const split of SPLITS) {
    pending[split].sort((a, b) => a.order - b.order);
    writeAtomically(join(options.out, split, '00.jsonl'), pending[split].map((p) => `${p.line}\n`).join(''));
  }
  const bytesPerTask = Object.fromEntries(Object.values(manifest.domains).map((d) => [d.task, d.train.bytes + d.val.bytes + d.test.bytes]));
  // Its domains only resemble the Pile's: pile_all weights follow this corpus's own bytes.
  manifest.weights = proportionalWeights(bytesPerTask);
  writeAtomically(join(options.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function keepLicense(source: CorpusSource, root: string, out: string): void {
  const target = join(out, 'licenses', `${source.id.replace(/[^A-Za-z0-9._-]+/g, '_')}.txt`);
  const found = source.license.map((f) => join(root, f)).find((f) => root !== '' && existsSync(f));
  if (found) {
    // Written anew, not copied: copyFileSync keeps the source's mode (a package's 0666 file
    // would be world-writable here); a new file gets 0666 less the user's umask.
    writeFileSync(target, readFileSync(found));
  } else if (source.package && 'npm' in source.package && existsSync(join(root, 'package.json'))) {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { license?: string; name?: string };
    writeFileSync(target, `${pkg.name ?? source.id}: license "${pkg.license ?? 'unknown'}" (from package.json; no licence file in the package)\n`);
  } else if (!source.package) {
    writeFileSync(target, `${source.id}: generated by tttnn (no third-party text).\n`);
  }
}

function writeAtomically(path: string, content: string): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, content);
  renameSync(temporary, path);
}

/** The manifest of a built corpus directory. */
export function readManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path}: missing (not a corpus built by tttnn corpus build)`);
  return JSON.parse(readFileSync(path, 'utf8')) as Manifest;
}
