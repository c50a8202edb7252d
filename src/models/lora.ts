// LoRA (Hu et al. 2021) as PEFT implements it (peft/tuners/lora/layer.py):
// each targeted dense layer W gains B A, A [r, in] and B [out, r], its
// output becoming W x + B(A(dropout(x))) * alpha / r; the base weights are
// frozen (requiresGrad false: no gradient buffers, no weight-gradient GEMMs)
// and only A and B train. Adapters are read and written in PEFT's format:
// a directory with adapter_config.json and adapter_model.safetensors whose
// tensors are named base_model.model.<module>.lora_A.weight / lora_B.weight,
// which PeftModel.from_pretrained loads.
//
// Which layers: the model's dense layers (ParameterSet.denseLayers, named by
// Hugging Face module names) that PEFT's target-module rule matches, so any
// architecture whose layers are built with layers.ts gets LoRA.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { keep, noGrad, rand, tidy, zeros, type Tensor } from '../engine/index.js';
import { writeJsonFile } from '../io/checkpoint.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import type { Dense } from './layers.js';
import type { Model } from './language-model.js';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, matchesTarget, type LoraConfig } from './lora-config.js';

/** in and out features of a dense layer, whatever its layout. */
function features(layer: Dense): { inFeatures: number; outFeatures: number } {
  const [rows, cols] = layer.w.shape as [number, number];
  return layer.layout === 'conv1d' ? { inFeatures: rows, outFeatures: cols } : { inFeatures: cols, outFeatures: rows };
}

/** The key PEFT saves a module's adapter tensor under. */
const peftKey = (module: string, which: 'A' | 'B'): string => `base_model.model.${module}.lora_${which}.weight`;

/** How the adapter starts: PEFT's default (A kaiming-uniform with a = sqrt(5), B zeros; seed with manualSeed first) or a PEFT adapter directory. */
export type LoraInit = { from: 'peft-default' } | { from: 'directory'; dir: string };

/** One adapted layer. */
interface AdaptedLayer {
  module: string;
  layer: Dense;
  a: Tensor;
  b: Tensor;
}

export class LoraAdapter {
  private constructor(
    readonly model: Model,
    readonly config: LoraConfig,
    private readonly layers: AdaptedLayer[],
  ) {}

  /**
   * Adapts the targeted dense layers of `model` and freezes every base
   * weight. The model then computes base + adapter until `detach`.
   */
  static attach(model: Model, config: LoraConfig, init: LoraInit): LoraAdapter {
    const modules = [...model.parameters.denseLayers()].filter(([name]) => matchesTarget(name, config.targets));
    if (modules.length === 0) {
      const names = [...model.parameters.denseLayers().keys()];
      throw new Error(`LoRA target modules ${JSON.stringify(config.targets)} match none of ${model.modelType}'s dense layers (e.g. ${names.slice(0, 4).join(', ')})`);
    }
    if (modules.some(([, layer]) => layer.adapter)) throw new Error('the model already has a LoRA adapter attached');
    const loaded = init.from === 'directory' ? loadSafetensors(join(init.dir, ADAPTER_WEIGHTS)) : undefined;
    const layers: AdaptedLayer[] = [];
    try {
      for (const [module, layer] of modules) {
        const { inFeatures, outFeatures } = features(layer);
        const device = layer.w.device;
        let a: Tensor;
        let b: Tensor;
        if (loaded) {
          const file = join((init as { dir: string }).dir, ADAPTER_WEIGHTS);
          a = takeTensor(loaded, peftKey(module, 'A'), [config.rank, inFeatures], file);
          b = takeTensor(loaded, peftKey(module, 'B'), [outFeatures, config.rank], file);
          a = placed(a, device);
          b = placed(b, device);
        } else {
          // nn.init.kaiming_uniform_(A, a=sqrt(5)): bound = gain * sqrt(3 / fan_in), gain = sqrt(2 / (1 + 5)) -> 1 / sqrt(in).
          const bound = 1 / Math.sqrt(inFeatures);
          a = keep(tidy(() => rand([config.rank, inFeatures], { device }).mul(2 * bound).sub(bound)));
          b = keep(zeros([outFeatures, config.rank], { device }));
        }
        layers.push({ module, layer, a: a.requiresGrad_(true), b: b.requiresGrad_(true) });
      }
      if (loaded && loaded.size > 0) {
        throw new Error(`${join((init as { dir: string }).dir, ADAPTER_WEIGHTS)}: tensors for modules the target modules do not match here: ${[...loaded.keys()].slice(0, 4).join(', ')}`);
      }
    } catch (error) {
      for (const l of layers) [l.a, l.b].forEach((t) => t.dispose());
      for (const t of loaded?.values() ?? []) t.dispose();
      throw error;
    }
    const adapter = new LoraAdapter(model, config, layers);
    const scaling = config.rsLora ? config.alpha / Math.sqrt(config.rank) : config.alpha / config.rank;
    for (const l of layers) l.layer.adapter = { a: l.a, b: l.b, scaling, dropout: config.dropout, training: () => adapter.model.training };
    for (const t of model.parameters.list()) t.requiresGrad_(false);
    return adapter;
  }

  /** The modules adapted, in the model's order. */
  modules(): string[] {
    return this.layers.map((l) => l.module);
  }

  /** PEFT's tensor names (base_model.model.<module>.lora_A.weight, ...), in the order of `list`. */
  names(): string[] {
    return this.layers.flatMap((l) => [peftKey(l.module, 'A'), peftKey(l.module, 'B')]);
  }

  /** The trainable tensors: each layer's A then B. */
  list(): Tensor[] {
    return this.layers.flatMap((l) => [l.a, l.b]);
  }

  /** Scalar parameters in the adapter. */
  count(): number {
    return this.list().reduce((n, t) => n + t.numel, 0);
  }

  /** Writes the adapter as PEFT does (adapter_config.json + adapter_model.safetensors); PeftModel.from_pretrained loads it. */
  save(dir: string): void {
    const c = this.config;
    const tensors = new Map(this.names().map((name, i) => [name, this.list()[i] as Tensor]));
    mkdirSync(dir, { recursive: true });
    saveSafetensors(join(dir, ADAPTER_WEIGHTS), tensors, { format: 'pt' });
    writeJsonFile(join(dir, ADAPTER_CONFIG), {
      peft_type: 'LORA', task_type: 'CAUSAL_LM', r: c.rank, lora_alpha: c.alpha, lora_dropout: c.dropout,
      target_modules: typeof c.targets === 'string' ? c.targets : [...c.targets], bias: 'none', use_rslora: c.rsLora ?? false, use_dora: false,
      fan_in_fan_out: this.layers.some((l) => l.layer.layout === 'conv1d'), init_lora_weights: true, modules_to_save: null,
      layers_to_transform: null, layers_pattern: null, rank_pattern: {}, alpha_pattern: {}, inference_mode: true, base_model_name_or_path: null, revision: null,
    });
  }

  /** Removes the adapter from the model's layers and unfreezes the base weights. */
  detach(): void {
    for (const l of this.layers) {
      delete l.layer.adapter;
      l.a.dispose();
      l.b.dispose();
    }
    this.layers.length = 0;
    for (const t of this.model.parameters.list()) t.requiresGrad_(true);
  }
}

/** Removes `key` from `tensors` after checking its shape; the error names the file and the tensor. */
function takeTensor(tensors: Map<string, Tensor>, key: string, shape: number[], file: string): Tensor {
  const t = tensors.get(key);
  if (!t) throw new Error(`${file}: no tensor ${key} (the adapter's target modules and the model's layers disagree)`);
  tensors.delete(key);
  const actual = t.shape;
  if (actual.length !== shape.length || actual.some((s, i) => s !== shape[i])) {
    t.dispose();
    throw new Error(`${file}: ${key} has shape [${actual.join(', ')}] but the rank and the layer imply [${shape.join(', ')}]`);
  }
  return t;
}

/** `t` as float32 on `device`, kept outside every scope. */
function placed(t: Tensor, device: string): Tensor {
  if (t.dtype === 'float32' && t.device === device) return keep(t);
  const out = keep(noGrad(() => t.to({ dtype: 'float32', device })));
  t.dispose();
  return out;
}
