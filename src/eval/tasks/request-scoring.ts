// A task's requests on a causal LM, as lm-evaluation-harness's HFLM answers
// them (lm_eval/api/model.py loglikelihood and _encode_pair, lm_eval/models/
// huggingface.py _loglikelihood_tokens and generate_until): the context's
// trailing whitespace moves to the continuation, context + continuation are
// tokenized together (with the tokenizer's own special tokens, as
// tok_encode's default) and split at the context's token count; an empty
// context becomes the prefix token (BOS, else EOS); inputs are cut from the
// left to the model's context; is_greedy compares the argmax tokens.
import { inference, logSoftmax, tensor } from '../../engine/index.js';
import { checkTokenIds, generate, type CausalLM } from '../../models/index.js';
import type { BpeTokenizer } from '../../tokenizers/index.js';
import { rollingLoglikelihood } from '../loglikelihood.js';
import type { TaskRequest } from './task.js';

export type RequestResult =
  | { type: 'loglikelihood'; loglikelihood: number; isGreedy: boolean }
  | { type: 'loglikelihood_rolling'; loglikelihood: number }
  | { type: 'generate_until'; text: string };

/** HFLM's (context_enc, continuation_enc) of a request. */
export function encodeRequest(tokenizer: BpeTokenizer, context: string, continuation: string): { context: number[]; continuation: number[] } {
  const prefix = tokenizer.scoringPrefixTokenId;
  if (context === '') {
    const cont = tokenizer.encode(continuation);
    if (prefix === undefined) throw new Error('the tokenizer has no beginning- or end-of-text token to stand for an empty context');
    return prefix !== cont[0] ? { context: [prefix], continuation: cont } : { context: cont.slice(0, 1), continuation: cont.slice(1) };
  }
  const spaces = context.length - context.replace(/\s+$/u, '').length;
  if (spaces > 0) {
    continuation = context.slice(-spaces) + continuation;
    context = context.slice(0, -spaces);
  }
  const whole = harnessEncode(tokenizer, context + continuation);
  const contextIds = harnessEncode(tokenizer, context);
  return { context: contextIds, continuation: whole.slice(contextIds.length) };
}

/** tok_encode's default: the tokenizer's special tokens (Llama's BOS; none for GPT-2), unless the text already starts with the prefix token's text. */
export function harnessEncode(tokenizer: BpeTokenizer, text: string): number[] {
  const prefix = tokenizer.scoringPrefixTokenId;
  const startsWithPrefix = prefix !== undefined && tokenizer.specialTokenCount > 0 && text.startsWith(tokenizer.decode([prefix]));
  return tokenizer.encode(text, { addSpecialTokens: !startsWithPrefix });
}

/** log p(continuation | context) and whether greedy decoding gives the continuation. */
export function scoreContinuation(model: CausalLM, context: readonly number[], continuation: readonly number[]): { loglikelihood: number; isGreedy: boolean } {
  if (continuation.length === 0) throw new Error('a request with an empty continuation (after tokenization) cannot be scored');
  if (continuation.length > model.contextLength) throw new Error(`a continuation of ${continuation.length} tokens is longer than the model's context (${model.contextLength})`);
  checkTokenIds(context, model, 'scoring');
  checkTokenIds(continuation, model, 'scoring');
  const input = [...context, ...continuation].slice(-(model.contextLength + 1)).slice(0, -1);
  const n = continuation.length;
  const device = model.parameters.device;
  const wasTraining = model.training;
  model.training = false;
  try {
    return inference(() => {
      const ids = tensor(input, { dtype: 'int64', shape: [1, input.length], device });
      const logProbs = logSoftmax(model.logits(ids).narrow(1, input.length - n, n), -1); // [1, n, V]
      const greedy = logProbs.argmax(-1).toNumbers();
      const targets = tensor([...continuation], { dtype: 'int64', shape: [1, n, 1], device });
      return { loglikelihood: logProbs.gather(2, targets).sum().item(), isGreedy: greedy.every((t, i) => t === continuation[i]) };
    });
  } finally {
    model.training = wasTraining;
  }
}

/**
 * Greedy generation until a stop string or max_gen_toks (HFLM
 * generate_until): the context, left-truncated to leave room for the
 * generated tokens, is extended greedily; EOS stops; the text is cut at the
 * first stop string.
 */
export function generateUntil(model: CausalLM, tokenizer: BpeTokenizer, context: string, until: readonly string[], maxGenToks: number): string {
  const room = model.contextLength - maxGenToks;
  if (room <= 0) throw new Error(`max_gen_toks ${maxGenToks} leaves no room for the context in the model's ${model.contextLength} tokens`);
  const prompt = harnessEncode(tokenizer, context).slice(-room);
  const eos = tokenizer.eosTokenId;
  const stops = [...until, ...(eos === undefined ? [] : [tokenizer.decode([eos])])];
  const out: number[] = [];
  let text = '';
  // One token at a time, so that a stop string ends generation where the harness's stopping criterion does.
  while (out.length < maxGenToks) {
    const next = generate(model, [...prompt, ...out], { maxNewTokens: 1 }).at(-1)!;
    if (next === eos) break;
    out.push(next);
    text = tokenizer.decode(out, { skipSpecialTokens: true });
    if (stops.some((s) => s !== '' && text.includes(s))) break;
  }
  for (const stop of stops) {
    if (stop === '') continue;
    const at = text.indexOf(stop);
    if (at >= 0) text = text.slice(0, at);
  }
  return text;
}

/** Every request of one document. */
export function scoreRequests(model: CausalLM, tokenizer: BpeTokenizer, requests: readonly TaskRequest[]): RequestResult[] {
  return requests.map((r) => {
    switch (r.type) {
      case 'loglikelihood': {
        const { context, continuation } = encodeRequest(tokenizer, r.context, r.continuation);
        return { type: 'loglikelihood', ...scoreContinuation(model, context, continuation) };
      }
      case 'loglikelihood_rolling': {
        const prefix = tokenizer.scoringPrefixTokenId;
        if (prefix === undefined) throw new Error('the tokenizer has no beginning- or end-of-text token');
        // HFLM.loglikelihood_rolling tokenizes with tok_encode's default: Llama's BOS is then the first scored token.
        return { type: 'loglikelihood_rolling', loglikelihood: rollingLoglikelihood(model, harnessEncode(tokenizer, r.text), prefix) };
      }
      case 'generate_until':
        return { type: 'generate_until', text: generateUntil(model, tokenizer, r.context, r.until, r.maxGenToks) };
    }
  });
}
