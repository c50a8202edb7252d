// `tttnn serve-lm`'s HTTP server: POST /v1/completions and
// /v1/chat/completions, the subset of OpenAI's API in completion-request.ts,
// so that a stock OpenAI client gets TTT-NN completions. Each request
// retrieves its prompt's neighbours, trains on them (its own LoRA adapter, or
// every weight, restored afterwards: eval/ttt-generate.ts), then generates —
// one request at a time with the model (request-queue.ts says why), the
// others waiting in a bounded line.
//
// The shard servers' protections, reused: the bearer token compared in
// constant time before the body is read (retrieval/auth.ts), the body read
// within a byte limit and a nesting depth (request-body.ts), the header,
// request and connection limits of their HTTP server (shard-server.ts
// createHttpServer), and a deadline per request. A client that disconnects
// (or a deadline that passes) stops its request's retrieval wait, training
// and generation, and frees its slot.
import { randomBytes, randomInt } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Retriever } from '../eval/retriever.js';
import { resolveSettings, type EvalSettings } from '../eval/settings.js';
import { generateWithTtt, type TttGeneration } from '../eval/ttt-generate.js';
import type { CausalLM } from '../models/index.js';
import { bearerToken, tokensEqual } from '../retrieval/auth.js';
import { SERVER_LIMITS, type ServerLimits } from '../retrieval/protocol.js';
import { HttpError, readJsonObject } from '../retrieval/request-body.js';
import { createHttpServer } from '../retrieval/shard-server.js';
import { TextStream, type BpeTokenizer, type ChatTemplate } from '../tokenizers/index.js';
import { FieldError, parseCompletionRequest, type CompletionRequest, type RequestLimits } from './completion-request.js';
import { RequestQueue, type QueueStats } from './request-queue.js';

export interface LmServerLimits extends RequestLimits, ServerLimits {
  maxBodyBytes: number;
  /** Seconds a request may take from arrival (queue included); then it stops. */
  deadlineSeconds: number;
  /** Requests waiting for the model at most; one more gets 503. */
  maxWaiting: number;
}

export interface LmServerOptions {
  model: CausalLM;
  tokenizer: BpeTokenizer;
  /** The tokenizer's chat template; without one /v1/chat/completions is refused. */
  chatTemplate?: ChatTemplate;
  /** The fleet; without one only ttt.neighbors 0 is served. */
  retriever?: Retriever;
  /** The name answers carry in `model`. */
  modelName: string;
  token: string;
  host: string;
  port: number;
  tls?: { cert: string; key: string };
  limits: LmServerLimits;
  /** What a request's `ttt` falls back to. */
  defaults: { neighbors: number; learningRate?: number; trainable: 'full' | 'lora' };
  log?: (line: string) => void;
}

export interface LmServerStats extends QueueStats {
  completed: number;
  /** Requests stopped because their client went away or their deadline passed. */
  cancelled: number;
}

export interface RunningLmServer {
  readonly url: string;
  readonly port: number;
  stats(): LmServerStats;
  close(): Promise<void>;
}

export const DEFAULT_LM_LIMITS: LmServerLimits = {
  ...SERVER_LIMITS,
  maxBodyBytes: 1 << 20,
  maxTokensCap: 1024,
  maxNeighbors: 1024,
  defaultMaxTokens: 16,
  deadlineSeconds: 600,
  maxWaiting: 16,
};

/** OpenAI's error shape: the openai client shows `message` and `param`. */
function errorBody(error: HttpError): unknown {
  const type = error.status === 401 ? 'authentication_error' : error.status >= 500 ? 'server_error' : 'invalid_request_error';
  return { error: { message: error.message, type, param: error instanceof FieldError ? error.field : null, code: null } };
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, close = false): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers, ...(close ? { connection: 'close' } : {}) });
  response.end(text);
}

/** The x-tttnn-neighbors header: "id:distance" of each neighbour trained on, nearest first (empty: none). */
function neighborsHeader(g: Pick<TttGeneration, 'neighbors'>): string {
  return g.neighbors.map((n) => `${n.id}:${n.distance.toPrecision(6)}`).join(',');
}

export async function startLmServer(o: LmServerOptions): Promise<RunningLmServer> {
  const queue = new RequestQueue(o.limits.maxWaiting);
  let completed = 0;
  let cancelled = 0;
  const facts = { modelType: o.model.modelType, contextLength: o.model.contextLength };
  const log = o.log ?? (() => undefined);

  const settingsFor = (r: CompletionRequest): EvalSettings => {
    const neighbors = r.ttt.neighbors ?? o.defaults.neighbors;
    if (neighbors > 0 && !o.retriever) throw new FieldError('ttt.neighbors', `this server has no fleet to retrieve from (started without --addresses): only 0 is served, got ${neighbors}`);
    const learningRate = r.ttt.learningRate ?? o.defaults.learningRate ?? (neighbors === 0 ? 1 : undefined); // unused with no neighbours
    try {
      return { ...resolveSettings('ttt', facts, { numNeighbors: Math.max(neighbors, 1), learningRate, trainable: r.ttt.trainable ?? o.defaults.trainable }), numNeighbors: neighbors };
    } catch (error) {
      throw new FieldError('ttt.learning_rate', (error as Error).message);
    }
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '').split('?')[0];
    const kind = path === '/v1/completions' ? 'completion' : path === '/v1/chat/completions' ? 'chat' : undefined;
    if (request.method !== 'POST' || kind === undefined) throw new HttpError(404, `no such endpoint ${request.method} ${path} (endpoints: POST /v1/completions, POST /v1/chat/completions)`);
    const given = bearerToken(request.headers.authorization);
    if (given === null || !tokensEqual(given, o.token)) throw new HttpError(401, 'missing or wrong bearer token (Authorization: Bearer <the contents of --token-file>)');
    const body = await readJsonObject(request, o.limits.maxBodyBytes, '(OpenAI completion fields)', `serve-lm's --max-body-bytes`);
    const r = parseCompletionRequest(kind, body, o.limits);
    let prompt = r.prompt!;
    let query = prompt;
    if (kind === 'chat') {
      if (!o.chatTemplate) throw new FieldError('messages', "this model's tokenizer has no chat template (tokenizer_config.json's chat_template, or chat_template.jinja): use /v1/completions with a prompt");
      prompt = o.chatTemplate.render(r.messages!);
      // Neighbours of what the user asked, not of the template's markup.
      query = [...r.messages!].reverse().find((m) => m.role === 'user')?.content ?? prompt;
    }
    const settings = settingsFor(r);
    const promptTokens = o.tokenizer.encode(prompt, { addSpecialTokens: kind === 'completion' }).length;
    if (promptTokens === 0) throw new FieldError(kind === 'chat' ? 'messages' : 'prompt', 'has no tokens');

    // Stop on disconnect or deadline.
    const controller = new AbortController();
    let finished = false;
    let stopReason = '';
    const stop = (reason: string): void => {
      stopReason ||= reason;
      controller.abort();
    };
    response.on('close', () => {
      if (!finished) stop('client gone');
    });
    const deadline = setTimeout(() => stop('deadline'), o.limits.deadlineSeconds * 1000);
    const id = `${kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomBytes(12).toString('hex')}`;
    const created = Math.floor(Date.now() / 1000);
    const model = o.modelName;
    const object = kind === 'chat' ? 'chat.completion' : 'text_completion';
    const chunk = (text: string | undefined, finishReason: string | null, first: boolean): unknown =>
      kind === 'chat'
        ? { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta: text === undefined ? {} : first ? { role: 'assistant', content: text } : { content: text }, finish_reason: finishReason }] }
        : { id, object: 'text_completion', created, model, choices: [{ index: 0, text: text ?? '', finish_reason: finishReason, logprobs: null }] };
    const sse = (data: unknown): void => {
      response.write(`data: ${JSON.stringify(data)}\n\n`);
    };
    let headSent = false;
    const streamHead = (neighbors: string): void => {
      if (headSent) return;
      headSent = true;
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-tttnn-neighbors': neighbors });
    };

    let release: (() => void) | undefined;
    try {
      release = await queue.acquire(controller.signal);
      const stream = new TextStream(o.tokenizer);
      let firstChunk = true;
      const eos = o.tokenizer.eosTokenId;
      const g = await generateWithTtt(o.model, o.tokenizer, o.retriever, { prompt, query, addSpecialTokens: kind === 'completion', maxNewTokens: r.maxTokens, sampling: { temperature: r.temperature, topP: r.topP, topK: r.topK }, seed: r.seed ?? randomInt(2 ** 32), settings, before: false }, {
        signal: controller.signal,
        onNeighbors: (neighbors) => r.stream && streamHead(neighborsHeader({ neighbors: [...neighbors] })),
        onToken: (_phase, token) => {
          if (!r.stream || token === eos) return;
          streamHead('');
          const text = stream.push(token);
          if (text) {
            sse(chunk(text, null, firstChunk));
            firstChunk = false;
          }
        },
      });
      if (g.aborted) {
        cancelled++;
        log(`${id}: stopped (${stopReason}) after ${g.neighbors.length} neighbours and ${g.after.length} tokens`);
        if (stopReason === 'deadline' && !headSent) throw new HttpError(504, `the request passed its deadline of ${o.limits.deadlineSeconds} s (serve-lm --deadline-seconds)`);
        if (!response.destroyed) response.end(); // a deadline mid-stream: the stream just ends
        return;
      }
      const finishReason = g.after.at(-1) === eos && eos !== undefined ? 'stop' : 'length';
      const usage = { prompt_tokens: g.promptTokens.length, completion_tokens: g.after.length, total_tokens: g.promptTokens.length + g.after.length };
      const ttt = { neighbors: g.neighbors.map((n) => ({ id: n.id, distance: n.distance })), partial: g.partial, learning_rate: settings.learningRate, trainable: settings.trainable, seconds: { retrieval: g.seconds.retrieval, training: g.seconds.training, generation: g.seconds.generationAfter } };
      if (r.stream) {
        streamHead(neighborsHeader(g));
        const rest = stream.finish();
        if (rest) sse(chunk(rest, null, firstChunk));
        sse({ ...(chunk(undefined, finishReason, false) as object), ...(r.includeUsageInStream ? { usage } : {}), ttt });
        response.end('data: [DONE]\n\n');
      } else {
        const text = o.tokenizer.decode(g.after, { skipSpecialTokens: true });
        const choice = kind === 'chat' ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: finishReason } : { index: 0, text, finish_reason: finishReason, logprobs: null };
        sendJson(response, 200, { id, object, created, model, choices: [choice], usage, ttt }, { 'x-tttnn-neighbors': neighborsHeader(g) });
      }
      completed++;
    } catch (error) {
      if (controller.signal.aborted && response.destroyed) {
        cancelled++;
        return;
      }
      if (headSent) {
        // Mid-stream: the status is gone; say it in the stream and end it.
        sse({ error: { message: (error as Error).message, type: 'server_error', param: null, code: null } });
        response.end();
        return;
      }
      if (stopReason === 'deadline') throw new HttpError(504, `the request passed its deadline of ${o.limits.deadlineSeconds} s waiting for the model (serve-lm --deadline-seconds)`);
      throw error;
    } finally {
      finished = true;
      clearTimeout(deadline);
      release?.();
    }
  };

  const server: Server = createHttpServer(o.tls, o.limits, (request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return;
      const httpError = error instanceof HttpError ? error : new HttpError(500, (error as Error).message);
      if (httpError.status >= 500) log(`error: ${httpError.message}`);
      // A request answered before its body was read closes the connection (shard-server.ts says why).
      sendJson(response, httpError.status, errorBody(httpError), httpError.status === 401 ? { 'www-authenticate': 'Bearer' } : {}, !request.complete);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${o.tls ? 'https' : 'http'}://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  return {
    url,
    port,
    stats: () => ({ ...queue.stats(), completed, cancelled }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
