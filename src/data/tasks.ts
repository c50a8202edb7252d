// Tasks: documents grouped by meta.pile_set_name, named pile_<name> as in
// lm-evaluation-harness, with the Pile's weights (percent of the Pile) for
// the pile_all aggregate. A corpus with other domains gets task names
// derived from its set names, and weights proportional to its bytes.

/** pile_set_name -> task name, for the Pile's 22 sets. */
export const PILE_TASKS: Record<string, string> = {
  ArXiv: 'pile_arxiv',
  BookCorpus2: 'pile_bookcorpus2',
  Books3: 'pile_books3',
  'DM Mathematics': 'pile_dm-mathematics',
  'Enron Emails': 'pile_enron',
  EuroParl: 'pile_europarl',
  FreeLaw: 'pile_freelaw',
  Github: 'pile_github',
  'Gutenberg (PG-19)': 'pile_gutenberg',
  HackerNews: 'pile_hackernews',
  'NIH ExPorter': 'pile_nih-exporter',
  OpenSubtitles: 'pile_opensubtitles',
  OpenWebText2: 'pile_openwebtext2',
  PhilPapers: 'pile_philpapers',
  'Pile-CC': 'pile_pile-cc',
  'PubMed Abstracts': 'pile_pubmed-abstracts',
  'PubMed Central': 'pile_pubmed-central',
  StackExchange: 'pile_stackexchange',
  'USPTO Backgrounds': 'pile_uspto',
  'Ubuntu IRC': 'pile_ubuntu-irc',
  'Wikipedia (en)': 'pile_wikipedia',
  YoutubeSubtitles: 'pile_youtubesubtitles',
};

/** Percent of the Pile per task (REFERENCE.md); pile_all = Σ weight · value / 100. */
export const PILE_WEIGHTS: Record<string, number> = {
  pile_arxiv: 8.96,
  pile_bookcorpus2: 0.75,
  pile_books3: 12.07,
  'pile_dm-mathematics': 1.24,
  pile_enron: 0.14,
  pile_europarl: 0.73,
  pile_freelaw: 6.12,
  pile_github: 7.59,
  pile_gutenberg: 2.17,
  pile_hackernews: 0.62,
  'pile_nih-exporter': 0.3,
  pile_opensubtitles: 1.55,
  pile_openwebtext2: 10.01,
  pile_philpapers: 0.38,
  'pile_pile-cc': 18.11,
  'pile_pubmed-abstracts': 3.07,
  'pile_pubmed-central': 14.4,
  pile_stackexchange: 5.13,
  'pile_ubuntu-irc': 0.88,
  pile_uspto: 3.65,
  pile_wikipedia: 1.53,
  pile_youtubesubtitles: 0.6,
};

/** The task of a document's pile_set_name: the Pile's name, else pile_<slug>. */
export function taskName(pileSetName: string | undefined): string {
  const name = pileSetName ?? 'unknown';
  return PILE_TASKS[name] ?? `pile_${name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

/**
 * Weights for pile_all: the Pile's when every task is a Pile task, otherwise
 * proportional to each task's bytes (summing to 100).
 */
export function taskWeights(bytesPerTask: Record<string, number>): Record<string, number> {
  const tasks = Object.keys(bytesPerTask);
  if (tasks.length > 0 && tasks.every((t) => t in PILE_WEIGHTS)) {
    return Object.fromEntries(tasks.map((t) => [t, PILE_WEIGHTS[t] as number]));
  }
  return proportionalWeights(bytesPerTask);
}

/** Weights proportional to each task's bytes, summing to 100. */
export function proportionalWeights(bytesPerTask: Record<string, number>): Record<string, number> {
  const tasks = Object.keys(bytesPerTask);
  const total = tasks.reduce((sum, t) => sum + (bytesPerTask[t] as number), 0);
  return Object.fromEntries(tasks.map((t) => [t, total === 0 ? 0 : (100 * (bytesPerTask[t] as number)) / total]));
}
