// serve-lm (serving/lm-server.ts) on real components — a tiny GPT-2, a real
// fleet on 127.0.0.1 — called by the official `openai` npm client: completion,
// chat and streaming give what generateWithTtt gives in process under the
// same seed and settings; two concurrent requests give what each gives alone;
// a client that disconnects mid-stream frees the model; bad requests get 4xx
// naming the field; and `tttnn serve-lm` starts from the command line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { generateWithTtt } from '../../src/eval/ttt-generate.js';
import { resolveSettings } from '../../src/eval/settings.js';
import type { CausalLM } from '../../src/models/index.js';
import { readToken, writeNewToken } from '../../src/retrieval/auth.js';
import { DEFAULT_LM_LIMITS, startLmServer, type RunningLmServer } from '../../src/serving/lm-server.js';
import { ChatTemplate, gpt2Tokenizer } from '../../src/tokenizers/index.js';
import { rawRequest } from '../helpers/http.js';
import { DOCS, startTinyTtt, type TinyTtt } from '../helpers/tiny-ttt.js';

const CLI = new URL('../../../bin/tttnn.js', import.meta.url).pathname;
const TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}";
const tokenizer = gpt2Tokenizer();
const TTT = { neighbors: 2, learning_rate: 1e-2, trainable: 'lora' };
let tiny: TinyTtt;
let model: CausalLM;
let server: RunningLmServer;
let token = '';
let client: OpenAI;

before(async () => {
  tiny = await startTinyTtt('serve-lm');
  const config = join(tiny.modelDir, 'tokenizer_config.json');
  writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(config, 'utf8')), chat_template: TEMPLATE }));
  const apiTokenFile = join(tiny.dir, 'api-token');
  token = writeNewToken(apiTokenFile);
  model = tiny.tinyGpt();
  server = await startLmServer({
    model, tokenizer, chatTemplate: ChatTemplate.load(tiny.modelDir), retriever: await tiny.retriever(), modelName: 'tiny', token, host: '127.0.0.1', port: 0,
    limits: { ...DEFAULT_LM_LIMITS, maxTokensCap: 1000, maxBodyBytes: 64 * 1024 }, defaults: { neighbors: 3, trainable: 'full', learningRate: 1e-2 },
  });
  client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: token, maxRetries: 0 });
});

after(async () => {
  await server?.close();
  model?.dispose();
  await tiny?.stop();
});

/** What generateWithTtt gives in process on a fresh copy of the model. */
async function inProcess(prompt: string, o: { maxNewTokens: number; seed: number; neighbors: number; trainable: 'full' | 'lora'; chat?: { query: string } }): Promise<{ text: string; neighbors: number[] }> {
  const fresh = tiny.tinyGpt();
  try {
    const settings = { ...resolveSettings('ttt', { modelType: 'gpt2', contextLength: 64 }, { numNeighbors: Math.max(1, o.neighbors), learningRate: 1e-2, trainable: o.trainable }), numNeighbors: o.neighbors };
    const g = await generateWithTtt(fresh, tokenizer, await tiny.retriever(), { prompt, maxNewTokens: o.maxNewTokens, sampling: { temperature: 1, topP: 1, topK: 0 }, seed: o.seed, settings, before: false, addSpecialTokens: !o.chat, query: o.chat?.query });
    return { text: tokenizer.decode(g.after, { skipSpecialTokens: true }), neighbors: g.neighbors.map((n) => n.id) };
  } finally {
    fresh.dispose();
  }
}

// The ttt extension object is not in the openai client's types; it sends unknown body fields as given.
type WithTtt<T> = T & { ttt?: typeof TTT | { neighbors: number } };

test('completions: the openai client gets the TTT-NN continuation, usage, the ttt object and x-tttnn-neighbors', async () => {
  const prompt = DOCS[1]!;
  const { data, response } = await client.completions.create({ model: 'tiny', prompt, max_tokens: 10, seed: 5, ttt: TTT } as WithTtt<OpenAI.CompletionCreateParamsNonStreaming>).withResponse();
  const expected = await inProcess(prompt, { maxNewTokens: 10, seed: 5, neighbors: 2, trainable: 'lora' });
  assert.equal(data.choices[0]!.text, expected.text);
  assert.equal(data.model, 'tiny');
  assert.deepEqual(data.usage, { prompt_tokens: tokenizer.encode(prompt).length, completion_tokens: 10, total_tokens: tokenizer.encode(prompt).length + 10 });
  assert.equal(data.choices[0]!.finish_reason, 'length');
  const ttt = (data as unknown as { ttt: { neighbors: { id: number }[]; trainable: string } }).ttt;
  assert.deepEqual(ttt.neighbors.map((n) => n.id), expected.neighbors);
  assert.equal(ttt.neighbors[0]!.id, 1, 'the prompt is training document 1');
  assert.equal(ttt.trainable, 'lora');
  assert.deepEqual(response.headers.get('x-tttnn-neighbors')!.split(',').map((p) => Number(p.split(':')[0])), expected.neighbors);
  // The server's defaults (3 neighbours, full weights) apply without a ttt object.
  const plain = await client.completions.create({ model: 'tiny', prompt, max_tokens: 6, seed: 5 });
  assert.equal(plain.choices[0]!.text, (await inProcess(prompt, { maxNewTokens: 6, seed: 5, neighbors: 3, trainable: 'full' })).text);
});

test('chat completions render the chat template; streaming sends the same text in chunks', async () => {
  const messages = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: DOCS[2]! }];
  const chat = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 8, seed: 9, ttt: TTT } as WithTtt<OpenAI.ChatCompletionCreateParamsNonStreaming>);
  const rendered = `<|system|>Be brief.\n<|user|>${DOCS[2]}\n<|assistant|>`;
  const expected = await inProcess(rendered, { maxNewTokens: 8, seed: 9, neighbors: 2, trainable: 'lora', chat: { query: DOCS[2]! } });
  assert.equal(chat.choices[0]!.message.content, expected.text);
  assert.equal(chat.choices[0]!.message.role, 'assistant');
  assert.equal(chat.usage!.prompt_tokens, tokenizer.encode(rendered).length);
  const stream = await client.chat.completions.create({ model: 'tiny', messages, max_tokens: 8, seed: 9, stream: true, stream_options: { include_usage: true }, ttt: TTT } as WithTtt<OpenAI.ChatCompletionCreateParamsStreaming>);
  const pieces: string[] = [];
  let finish: string | null | undefined;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    pieces.push(chunk.choices[0]?.delta.content ?? '');
    finish = chunk.choices[0]?.finish_reason ?? finish;
    usage = chunk.usage ?? usage;
  }
  assert.ok(pieces.filter((p) => p !== '').length > 1, `several chunks: ${JSON.stringify(pieces)}`);
  assert.equal(pieces.join(''), expected.text);
  assert.equal(finish, 'length');
  assert.equal(usage?.completion_tokens, 8);
  // Completions stream too.
  const completionStream = await client.completions.create({ model: 'tiny', prompt: DOCS[3]!, max_tokens: 6, seed: 2, stream: true, ttt: { neighbors: 0 } } as WithTtt<OpenAI.CompletionCreateParamsStreaming>);
  let text = '';
  for await (const chunk of completionStream) text += chunk.choices[0]?.text ?? '';
  assert.equal(text, (await inProcess(DOCS[3]!, { maxNewTokens: 6, seed: 2, neighbors: 0, trainable: 'full' })).text);
});

test('two concurrent seeded requests get what each gets alone; neither sees the other\'s training', async () => {
  const ask = (prompt: string, seed: number): Promise<string> =>
    client.completions.create({ model: 'tiny', prompt, max_tokens: 8, seed, ttt: { ...TTT, trainable: 'full' } } as WithTtt<OpenAI.CompletionCreateParamsNonStreaming>).then((r) => r.choices[0]!.text);
  const aloneA = await ask(DOCS[0]!, 1);
  const aloneB = await ask(DOCS[2]!, 2);
  const [a, b] = await Promise.all([ask(DOCS[0]!, 1), ask(DOCS[2]!, 2)]);
  assert.equal(a, aloneA);
  assert.equal(b, aloneB);
  assert.notEqual(aloneA, aloneB);
});

test('a client that disconnects mid-stream frees the model for the next request', async () => {
  const before = server.stats();
  const stream = await client.completions.create({ model: 'tiny', prompt: DOCS[0]!, max_tokens: 1000, seed: 1, stream: true, ttt: { neighbors: 0 } } as WithTtt<OpenAI.CompletionCreateParamsStreaming>);
  let chunks = 0;
  for await (const chunk of stream) {
    if (chunk.choices[0]?.text) chunks++;
    if (chunks === 3) break; // leaving the loop aborts the request
  }
  for (let i = 0; i < 200 && server.stats().active > 0; i++) await new Promise((r) => setTimeout(r, 25));
  const stats = server.stats();
  assert.equal(stats.active, 0, 'the slot is free');
  assert.equal(stats.cancelled, before.cancelled + 1, 'the request was stopped, not finished');
  assert.equal(stats.completed, before.completed);
  const next = await client.completions.create({ model: 'tiny', prompt: DOCS[1]!, max_tokens: 3, ttt: { neighbors: 0 } } as WithTtt<OpenAI.CompletionCreateParamsNonStreaming>);
  assert.equal(next.usage!.completion_tokens, 3);
});

test('bad requests get 4xx naming the field: types, max_tokens over the cap, unknown fields, no token, a huge body, chat without a template', async () => {
  const address = server.url.replace('http://', '');
  const post = (body: unknown, headers: Record<string, string> = { authorization: `Bearer ${token}` }, path = '/v1/completions') =>
    rawRequest(address, 'POST', path, { 'content-type': 'application/json', ...headers }, typeof body === 'string' ? body : JSON.stringify(body));
  const param = (r: { body: string }): string => (JSON.parse(r.body) as { error: { param: string } }).error.param;
  const cases: [unknown, string][] = [
    [{ prompt: 'hi', temperature: 'hot' }, 'temperature'],
    [{ prompt: 'hi', max_tokens: 1001 }, 'max_tokens'],
    [{ prompt: 'hi', max_tokens: 2.5 }, 'max_tokens'],
    [{ prompt: 42 }, 'prompt'],
    [{ prompt: 'hi', stream: 'yes' }, 'stream'],
    [{ prompt: 'hi', ttt: { neighbors: 'five' } }, 'ttt.neighbors'],
    [{ prompt: 'hi', ttt: { trainable: 'half' } }, 'ttt.trainable'],
    [{ prompt: 'hi', ttt: { learning_rate: -1 } }, 'ttt.learning_rate'],
    [{ prompt: 'hi', logit_bias: {} }, 'logit_bias'],
  ];
  for (const [body, field] of cases) {
    const r = await post(body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.body}`);
    assert.equal(param(r), field, r.body);
  }
  // The openai client surfaces the field too.
  await assert.rejects(client.completions.create({ model: 'tiny', prompt: 'hi', max_tokens: 5000 }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 400 && e.param === 'max_tokens');
  assert.equal((await post({ prompt: 'hi' }, {})).status, 401, 'no token');
  assert.equal((await post({ prompt: 'hi' }, { authorization: 'Bearer wrong-token-of-enough-length' })).status, 401, 'wrong token');
  await assert.rejects(new OpenAI({ baseURL: `${server.url}/v1`, apiKey: 'not-the-token', maxRetries: 0 }).completions.create({ model: 'tiny', prompt: 'hi' }), (e: InstanceType<typeof OpenAI.APIError>) => e.status === 401);
  const huge = await post(JSON.stringify({ prompt: 'x'.repeat(200 * 1024) }));
  assert.equal(huge.status, 413, huge.body);
  assert.equal((await post('{"prompt": ', undefined)).status, 400, 'not JSON');
  assert.equal((await rawRequest(address, 'GET', '/v1/completions', { authorization: `Bearer ${token}` })).status, 404);
  // A model without a chat template refuses chat, naming messages.
  const bare = await startLmServer({ model, tokenizer, modelName: 'tiny', token, host: '127.0.0.1', port: 0, limits: DEFAULT_LM_LIMITS, defaults: { neighbors: 0, trainable: 'full' } });
  try {
    const r = await rawRequest(bare.url.replace('http://', ''), 'POST', '/v1/chat/completions', { 'content-type': 'application/json', authorization: `Bearer ${token}` }, JSON.stringify({ messages: [{ role: 'user', content: 'hi' }] }));
    assert.equal(r.status, 400);
    assert.equal(param(r), 'messages');
    assert.match(r.body, /no chat template/);
    const neighbours = await rawRequest(bare.url.replace('http://', ''), 'POST', '/v1/completions', { 'content-type': 'application/json', authorization: `Bearer ${token}` }, JSON.stringify({ prompt: 'hi', ttt: { neighbors: 2 } }));
    assert.equal(param(neighbours), 'ttt.neighbors', 'no fleet: neighbours refused');
  } finally {
    await bare.close();
  }
});

test('a request past its deadline stops with 504 and frees the model', async () => {
  const hurried = await startLmServer({ model, tokenizer, modelName: 'tiny', token, host: '127.0.0.1', port: 0, limits: { ...DEFAULT_LM_LIMITS, maxTokensCap: 1000, deadlineSeconds: 0.2 }, defaults: { neighbors: 0, trainable: 'full' } });
  try {
    const started = performance.now();
    const r = await rawRequest(hurried.url.replace('http://', ''), 'POST', '/v1/completions', { 'content-type': 'application/json', authorization: `Bearer ${token}` }, JSON.stringify({ prompt: DOCS[0], max_tokens: 1000 }));
    assert.equal(r.status, 504, r.body);
    assert.match(r.body, /deadline of 0.2 s/);
    assert.ok(performance.now() - started < 5000, 'stopped soon after the deadline, not after 1000 tokens');
    assert.deepEqual([hurried.stats().active, hurried.stats().cancelled, hurried.stats().completed], [0, 1, 0]);
  } finally {
    await hurried.close();
  }
});

test('tttnn serve-lm starts from the command line and answers the openai client', async () => {
  const child = spawn(process.execPath, [CLI, 'serve-lm', '--model', tiny.modelDir, '--api-token-file', join(tiny.dir, 'api-token'), '--embedder', tiny.embedderDir, '--addresses', tiny.addresses, '--token-file', tiny.tokenFile, '--port', '0', '--learning-rate', '1e-2', '--num-neighbors', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /listening on (\S+) /.exec(out);
        if (m) resolve(m[1]!);
      });
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.once('exit', (code) => reject(new Error(`serve-lm exited ${code}: ${err}`)));
    });
    const cli = new OpenAI({ baseURL: `${url}/v1`, apiKey: readToken(join(tiny.dir, 'api-token')), maxRetries: 0 });
    const r = await cli.completions.create({ model: 'gpt', prompt: DOCS[1]!, max_tokens: 5, seed: 4 });
    assert.equal(r.choices[0]!.text, (await inProcess(DOCS[1]!, { maxNewTokens: 5, seed: 4, neighbors: 2, trainable: 'full' })).text);
    assert.equal(r.model, 'gpt', 'the model directory\'s name');
  } finally {
    child.kill('SIGTERM');
  }
});
