// Index building, loading and splitting (FAISS through the native addon).
export { FaissIndex, type SearchResult } from './faiss-index.js';
export { IndexFileChangedError } from './index-file-check.js';
export { embedTexts, embeddingDimension, type Embedder } from './embed.js';
export { loadEmbedder, isSentenceTransformersDir } from './sentence-transformers.js';
export { recipeOf, readRecipe, writeRecipe, checkRecipe, checkRecipesMatch, describeRecipe, RECIPE_FILE, type EmbeddingRecipe } from './embedding-recipe.js';
export { buildIndex, indexFileBegin, indexFileName, type IndexBuildOptions } from './build.js';
export { splitIndex, sliceRanges } from './split.js';
export { checkEmbedderDimension, checkIndexMatchesData, checkIndexMatchesEmbedder } from './compat.js';
export { squaredL2 } from './distance.js';
