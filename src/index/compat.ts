// Checks that an index, the data file it indexes and the embedder that will
// query it belong together, naming both files when they do not.
import type { DocumentSource } from '../data/document-store.js';
import type { FaissIndex } from './faiss-index.js';

/** The index's vectors must not outnumber the data file's lines (offset by the slice's first line). */
export function checkIndexMatchesData(index: FaissIndex, indexPath: string, store: DocumentSource, begin = 0): void {
  const vectors = index.size;
  if (begin + vectors > store.size) {
    throw new Error(`${indexPath} has ${vectors} vectors from line ${begin} but ${store.path} has only ${store.size} lines: the index was built from another file`);
  }
}

/**
 * The embedder's output size must equal the dimension of the vectors it will
 * be compared with: an index file's, or the fleet's servers'. The one check
 * behind index builds, shard servers, `tttnn query` and evaluation.
 */
export function checkEmbedderDimension(embedder: string, hiddenSize: number, holder: string, dimension: number): void {
  if (dimension !== hiddenSize) {
    throw new Error(`${holder} holds ${dimension}-dimensional vectors but ${embedder} makes ${hiddenSize}-dimensional ones`);
  }
}

export function checkIndexMatchesEmbedder(index: FaissIndex, indexPath: string, hiddenSize: number, embedderDir: string): void {
  checkEmbedderDimension(`the embedder ${embedderDir}`, hiddenSize, indexPath, index.dimension);
}
