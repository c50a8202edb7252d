// What `tttnn info --model DIR` prints about a loaded model: the
// architecture tttnn recognised (model_type, causal or encoder, class) and
// the settings it runs with, read back from the parsed config — so a user
// sees, before a long run, that the grouped-query heads, the rope type,
// tied embeddings or sliding windows were taken as the checkpoint means them.
import type { AnyModel } from './language-model.js';
import { RobertaModel } from './roberta.js';
import { RopeDecoderForCausalLM } from './rope-decoder.js';

export function summarizeModel(model: AnyModel): Record<string, string | number | boolean> {
  const base: Record<string, string | number | boolean> = {
    modelType: model.modelType,
    kind: model.kind,
    checkpointClass: Array.isArray(model.rawConfig['architectures']) ? String(model.rawConfig['architectures'][0]) : '-',
    parameters: model.parameters.count(),
    contextLength: model.contextLength,
    vocabSize: model.vocabSize,
  };
  if (model instanceof RopeDecoderForCausalLM) {
    const c = model.config;
    const windows = [...new Set(c.slidingWindows.map((w) => (w === undefined ? 'full' : String(w))))];
    return {
      ...base,
      layers: c.numLayers, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize,
      heads: c.numHeads, kvHeads: c.numKvHeads, headDim: c.headDim,
      rope: `${c.rope.scaling.type}, theta ${c.rope.theta}, rotary dims ${c.rope.rotaryDim}/${c.headDim}`,
      tiedEmbeddings: c.tieWordEmbeddings,
      biases: Object.entries(c.biases).filter(([, on]) => on).map(([name]) => name).join(', ') || 'none',
      attention: windows.join(', '),
    };
  }
  if (model instanceof RobertaModel) {
    const c = model.config;
    return { ...base, layers: c.numLayers, hiddenSize: c.hiddenSize, heads: c.numHeads, positions: model.flavor.positions, mlmHead: model.hasMlmHead };
  }
  return base;
}
