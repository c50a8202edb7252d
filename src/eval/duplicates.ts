// The leakage audit: a neighbour identical to the document it was retrieved
// for, by text (whole, or the scored part) or at distance 0. The runner
// counts them per document (and drops them with --exclude-duplicates); the
// demo's retrieval gate counts them over its queries; the report's explorer
// flags them beside each neighbour.
import type { RetrievedNeighbor } from './retriever.js';

export function isDuplicate(n: Pick<RetrievedNeighbor, 'distance' | 'text'>, ...documentTexts: string[]): boolean {
  return n.distance === 0 || documentTexts.includes(n.text);
}
