// The bodies of POST /v1/completions and /v1/chat/completions: the subset of
// OpenAI's API that serve-lm implements, checked field by field. A field of
// the wrong type, out of range or not in the subset is a 400 that names it
// (OpenAI's error shape carries it as `param`).
import { HttpError } from '../retrieval/request-body.js';
import type { ChatMessage } from '../tokenizers/index.js';

/** A 400 naming the field. */
export class FieldError extends HttpError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(400, `${field}: ${message}`);
  }
}

export interface TttRequest {
  /** Neighbours to train on (0: plain generation). */
  neighbors?: number;
  learningRate?: number;
  trainable?: 'full' | 'lora';
}

export interface CompletionRequest {
  kind: 'completion' | 'chat';
  model?: string;
  /** completions: the prompt; chat: the messages (rendered by the chat template). */
  prompt?: string;
  messages?: ChatMessage[];
  maxTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed?: number;
  stream: boolean;
  includeUsageInStream: boolean;
  ttt: TttRequest;
}

export interface RequestLimits {
  /** The most `max_tokens` a request may ask for. */
  maxTokensCap: number;
  /** The most `ttt.neighbors` (the shard servers' cap, LIMITS.maxK, or less). */
  maxNeighbors: number;
  /** `max_tokens` when absent (OpenAI's completions default is 16). */
  defaultMaxTokens: number;
}

const COMMON = ['model', 'max_tokens', 'temperature', 'top_p', 'top_k', 'seed', 'stream', 'stream_options', 'n', 'user', 'ttt'];
const FIELDS = { completion: [...COMMON, 'prompt'], chat: [...COMMON, 'messages', 'max_completion_tokens'] };

function integer(body: Record<string, unknown>, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new FieldError(field, `must be an integer, got ${JSON.stringify(v)}`);
  if (v < min || v > max) throw new FieldError(field, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function number(body: Record<string, unknown>, field: string, check: (v: number) => boolean, range: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new FieldError(field, `must be a number, got ${JSON.stringify(v)}`);
  if (!check(v)) throw new FieldError(field, `must be ${range}, got ${v}`);
  return v;
}

function boolean(body: Record<string, unknown>, field: string): boolean | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new FieldError(field, `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function messagesOf(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0) throw new FieldError('messages', 'must be a non-empty array of {role, content}');
  return v.map((m: unknown, i) => {
    const field = `messages[${i}]`;
    if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new FieldError(field, 'must be an object {role, content}');
    const { role, content } = m as Record<string, unknown>;
    if (typeof role !== 'string' || !['system', 'user', 'assistant', 'developer'].includes(role)) throw new FieldError(`${field}.role`, `must be "system", "user", "assistant" or "developer", got ${JSON.stringify(role)}`);
    if (typeof content !== 'string') throw new FieldError(`${field}.content`, `must be a string (content parts are not supported), got ${JSON.stringify(content)}`);
    return { role: role === 'developer' ? 'system' : role, content };
  });
}

function tttOf(v: unknown, limits: RequestLimits): TttRequest {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new FieldError('ttt', 'must be an object {neighbors, learning_rate, trainable}');
  const t = v as Record<string, unknown>;
  for (const key of Object.keys(t)) if (!['neighbors', 'learning_rate', 'trainable'].includes(key)) throw new FieldError(`ttt.${key}`, 'is not a field of ttt (fields: neighbors, learning_rate, trainable)');
  const neighbors = integer(t, 'neighbors', 0, limits.maxNeighbors);
  const learningRate = number(t, 'learning_rate', (x) => x > 0, 'positive');
  const trainable = t['trainable'];
  if (trainable !== undefined && trainable !== 'full' && trainable !== 'lora') throw new FieldError('ttt.trainable', `must be "full" or "lora", got ${JSON.stringify(trainable)}`);
  return { neighbors, learningRate, trainable };
}

/** The request in `body`, checked; throws FieldError naming the first bad field. */
export function parseCompletionRequest(kind: 'completion' | 'chat', body: Record<string, unknown>, limits: RequestLimits): CompletionRequest {
  for (const key of Object.keys(body)) if (!FIELDS[kind].includes(key)) throw new FieldError(key, `is not supported by this server (fields: ${FIELDS[kind].join(', ')})`);
  const model = body['model'];
  if (model !== undefined && typeof model !== 'string') throw new FieldError('model', `must be a string, got ${JSON.stringify(model)}`);
  integer(body, 'n', 1, 1); // one choice per request
  const user = body['user'];
  if (user !== undefined && typeof user !== 'string') throw new FieldError('user', `must be a string, got ${JSON.stringify(user)}`);
  let prompt: string | undefined;
  let messages: ChatMessage[] | undefined;
  if (kind === 'completion') {
    const p = body['prompt'];
    if (Array.isArray(p) && p.length === 1 && typeof p[0] === 'string') prompt = p[0];
    else if (typeof p === 'string') prompt = p;
    else throw new FieldError('prompt', `must be a string (or an array of one string), got ${JSON.stringify(p)?.slice(0, 80)}`);
    if (prompt.length === 0) throw new FieldError('prompt', 'must not be empty');
  } else {
    messages = messagesOf(body['messages']);
  }
  const maxField = kind === 'chat' && body['max_completion_tokens'] !== undefined ? 'max_completion_tokens' : 'max_tokens';
  const maxTokens = integer(body, maxField, 1, limits.maxTokensCap) ?? Math.min(limits.defaultMaxTokens, limits.maxTokensCap);
  const streamOptions = body['stream_options'];
  if (streamOptions !== undefined && streamOptions !== null && (typeof streamOptions !== 'object' || Array.isArray(streamOptions))) throw new FieldError('stream_options', 'must be an object {include_usage}');
  const includeUsage = streamOptions ? boolean(streamOptions as Record<string, unknown>, 'include_usage') : undefined;
  let ttt: TttRequest;
  try {
    ttt = tttOf(body['ttt'], limits);
  } catch (e) {
    if (e instanceof FieldError && !e.field.startsWith('ttt')) throw new FieldError(`ttt.${e.field}`, e.message.slice(e.field.length + 2));
    throw e;
  }
  return {
    kind,
    model: model,
    prompt,
    messages,
    maxTokens,
    temperature: number(body, 'temperature', (x) => x >= 0 && x <= 2, 'between 0 and 2') ?? 1,
    topP: number(body, 'top_p', (x) => x > 0 && x <= 1, 'in (0, 1]') ?? 1,
    topK: integer(body, 'top_k', 0, 2 ** 31 - 1) ?? 0,
    seed: integer(body, 'seed', 0, 2 ** 32 - 1),
    stream: boolean(body, 'stream') ?? false,
    includeUsageInStream: includeUsage ?? false,
    ttt,
  };
}
