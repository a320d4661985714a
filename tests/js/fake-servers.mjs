// Fake OpenAI-compatible services on 127.0.0.1 for tests and benchmarks (plain JS so that
// `node bench/*.mjs` can use them too): an LLM and an embeddings endpoint, both counting calls.
import http from 'node:http';
import { toyVector } from './toy-vector.mjs';

/** The fake LLM's answer: depends on the last user message's length and the model only. */
export function answerFor(body) {
  const msgs = body.messages ?? (Array.isArray(body.input) ? body.input : undefined);
  const text = (c) => (Array.isArray(c) ? c.map((p) => p.text ?? '').join('\n') : c);
  const last = msgs ? text(msgs.filter((m) => m.role === 'user').at(-1)?.content) : String(body.input ?? body.prompt);
  return `Answer #${String(last).length} from ${String(body.model)}.`;
}

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${server.address().port}`)));
}

function readBody(req) {
  return new Promise((resolve) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => resolve(raw));
  });
}

const json = (res, status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(body);

/**
 * What both fakes share: the JSON body parsed (400 when it is not JSON), every call recorded,
 * scripted failures (`failNext`) answered before `respond` sees the request.
 */
async function startFake(respond) {
  const calls = [];
  let failures = [];
  const server = http.createServer(async (req, res) => {
    const raw = await readBody(req);
    let body;
    try {
      body = JSON.parse(raw || '{}');
    } catch {
      json(res, 400, '{"error":{"message":"bad json"}}');
      return;
    }
    calls.push({ path: req.url ?? '', body, auth: req.headers.authorization });
    const fail = failures.shift();
    if (fake.delayMs) await sleep(fake.delayMs);
    if (fail) json(res, fail.status, fail.body);
    else await respond(req, res, body);
  });
  const url = await listen(server);
  const fake = {
    url,
    calls,
    /** Every reply (failures too) waits this long first: concurrent requests overlap. */
    delayMs: 0,
    failNext(status, body, times = 1) {
      failures = Array.from({ length: times }, () => ({ status, body }));
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
  return fake;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A fake OpenAI-compatible LLM: JSON and SSE replies, scripted failures, the headers it saw. An
 * answer is one token per word: max_tokens / max_completion_tokens below its length cut it with
 * finish_reason 'length'; replies carry usage (and a usage chunk when stream_options asks).
 * Authorization values put in `rejectKeys` get a 401, as a real upstream answers a bad key.
 */
export async function startFakeUpstream() {
  const rejectKeys = new Set();
  const pause = () => (fake.pieceDelayMs ? sleep(fake.pieceDelayMs) : undefined);
  const fake = await startFake(async (req, res, body) => {
    if (rejectKeys.has(req.headers.authorization)) {
      json(res, 401, '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}');
      return;
    }
    const words = answerFor(body).split(' ');
    const max = body.max_completion_tokens ?? body.max_tokens ?? body.max_output_tokens;
    const n = typeof max === 'number' && max < words.length ? max : words.length;
    const finish = n < words.length ? 'length' : 'stop';
    const text = words.slice(0, n).join(' ');
    const usage = { prompt_tokens: 7, completion_tokens: n, total_tokens: 7 + n };
    if (req.url === '/v1/responses') {
      await respondResponses(res, body, text, finish, usage, pause);
      return;
    }
    const chat = req.url === '/v1/chat/completions';
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pieces = text.length > 6 ? ['Ans', 'wer', text.slice(6)] : [text];
      for (const [i, p] of pieces.entries()) {
        if (i) await pause();
        const choice = chat ? { index: 0, delta: i ? { content: p } : { role: 'assistant', content: p }, finish_reason: null } : { index: 0, text: p, finish_reason: null };
        res.write(`data: ${JSON.stringify({ id: 'x', object: 'chunk', choices: [choice] })}\n\n`);
      }
      const end = chat ? { index: 0, delta: {}, finish_reason: finish } : { index: 0, text: '', finish_reason: finish };
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chunk', choices: [end] })}\n\n`);
      if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id: 'x', object: 'chunk', choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    const choice = chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: finish } : { index: 0, text, finish_reason: finish };
    json(res, 200, JSON.stringify({ id: 'up-1', object: chat ? 'chat.completion' : 'text_completion', model: body.model, choices: [choice], usage }));
  });
  // pieceDelayMs: a streamed reply waits this long between its text pieces
  return Object.assign(fake, { rejectKeys, pieceDelayMs: 0 });
}

let responseCount = 0;

/**
 * OpenAI's Responses API (`POST /v1/responses`) as its documentation shows it: one message item
 * with one output_text part; `status: 'incomplete'` when max_output_tokens cut it; streamed as
 * typed SSE events (`event:` + `data:` with `sequence_number`), ending with response.completed
 * (or response.incomplete) and no [DONE].
 */
async function respondResponses(res, body, text, finish, usage, pause) {
  const id = `resp_fake${++responseCount}`;
  const msgId = `msg_fake${responseCount}`;
  const status = finish === 'length' ? 'incomplete' : 'completed';
  const part = { type: 'output_text', text, annotations: [] };
  const item = { id: msgId, type: 'message', status: 'completed', role: 'assistant', content: [part] };
  const response = (st, output, u) => ({
    id, object: 'response', created_at: 1_700_000_000, status: st, error: null,
    incomplete_details: st === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null, max_output_tokens: body.max_output_tokens ?? null, model: body.model,
    output, parallel_tool_calls: true, previous_response_id: null, store: true, temperature: body.temperature ?? 1,
    text: { format: { type: 'text' } }, tool_choice: 'auto', tools: [], top_p: 1, truncation: 'disabled',
    usage: u ? { input_tokens: u.prompt_tokens, input_tokens_details: { cached_tokens: 0 }, output_tokens: u.completion_tokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: u.total_tokens } : null,
    user: null, metadata: {},
  });
  if (!body.stream) {
    json(res, 200, JSON.stringify(response(status, [item], usage)));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let seq = 0;
  const send = (type, data) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
  send('response.created', { response: response('in_progress', [], null) });
  send('response.in_progress', { response: response('in_progress', [], null) });
  send('response.output_item.added', { output_index: 0, item: { id: msgId, type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
  const at = { item_id: msgId, output_index: 0, content_index: 0 };
  send('response.content_part.added', { ...at, part: { type: 'output_text', text: '', annotations: [] } });
  for (const [i, p] of (text.length > 6 ? ['Ans', 'wer', text.slice(6)] : [text]).entries()) {
    if (i) await pause();
    send('response.output_text.delta', { ...at, delta: p, logprobs: [] });
  }
  send('response.output_text.done', { ...at, text, logprobs: [] });
  send('response.content_part.done', { ...at, part });
  send('response.output_item.done', { output_index: 0, item });
  send(`response.${status}`, { response: response(status, [item], usage) });
  res.end();
}

/** Bag of words (tests/js/toy-vector.mjs): paraphrases sharing most words get a high cosine. */
export function bagOfWords(text, dim) {
  return Array.from(toyVector(text, dim));
}

/**
 * A fake OpenAI-compatible `POST /v1/embeddings`, counting calls: bag-of-words vectors, or those
 * of `embed` (async (texts) => vectors), e.g. a real model's.
 */
export function startFakeEmbeddings({ dim = 64, embed = async (texts) => texts.map((t) => bagOfWords(t, dim)) } = {}) {
  return startFake(async (req, res, body) => {
    if (req.url !== '/v1/embeddings' || req.method !== 'POST') {
      json(res, 404, '{"error":{"message":"not found"}}');
      return;
    }
    const inputs = (Array.isArray(body.input) ? body.input : [body.input]).map(String);
    const data = (await embed(inputs)).map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v) }));
    json(res, 200, JSON.stringify({ object: 'list', data, model: body.model, usage: { prompt_tokens: 0, total_tokens: 0 } }));
  });
}
