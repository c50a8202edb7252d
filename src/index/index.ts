// Index building, loading and splitting (FAISS through the native addon).
export { FaissIndex, IndexFileChangedError, type SearchResult } from './faiss-index.js';
export { embedTexts, type Embedder } from './embed.js';
export { buildIndex, indexFileName, type IndexBuildOptions } from './build.js';
export { splitIndex, sliceRanges } from './split.js';
export { checkEmbedderDimension, checkIndexMatchesData, checkIndexMatchesEmbedder } from './compat.js';
