// Fake OpenAI-compatible services on 127.0.0.1 for tests and benchmarks (plain JS so that
// `node bench/*.mjs` can use them too): an LLM and an embeddings endpoint, both counting calls.
import http from 'node:http';
import { toyVector } from './toy-vector.mjs';

/** The fake LLM's answer: depends on the last user message's length and the model only. */
export function answerFor(body) {
  const msgs = body.messages;
  const last = msgs ? msgs.filter((m) => m.role === 'user').at(-1)?.content : String(body.prompt);
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
    if (fail) json(res, fail.status, fail.body);
    else respond(req, res, body);
  });
  const url = await listen(server);
  return {
    url,
    calls,
    failNext(status, body, times = 1) {
      failures = Array.from({ length: times }, () => ({ status, body }));
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/**
 * A fake OpenAI-compatible LLM: JSON and SSE replies, scripted failures, the headers it saw. An
 * answer is one token per word: max_tokens / max_completion_tokens below its length cut it with
 * finish_reason 'length'; replies carry usage (and a usage chunk when stream_options asks).
 * Authorization values put in `rejectKeys` get a 401, as a real upstream answers a bad key.
 */
export async function startFakeUpstream() {
  const rejectKeys = new Set();
  const fake = await startFake((req, res, body) => {
    if (rejectKeys.has(req.headers.authorization)) {
      json(res, 401, '{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","code":"invalid_api_key"}}');
      return;
    }
    const words = answerFor(body).split(' ');
    const max = body.max_completion_tokens ?? body.max_tokens;
    const n = typeof max === 'number' && max < words.length ? max : words.length;
    const finish = n < words.length ? 'length' : 'stop';
    const text = words.slice(0, n).join(' ');
    const usage = { prompt_tokens: 7, completion_tokens: n, total_tokens: 7 + n };
    const chat = req.url === '/v1/chat/completions';
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pieces = text.length > 6 ? ['Ans', 'wer', text.slice(6)] : [text];
      pieces.forEach((p, i) => {
        const choice = chat ? { index: 0, delta: i ? { content: p } : { role: 'assistant', content: p }, finish_reason: null } : { index: 0, text: p, finish_reason: null };
        res.write(`data: ${JSON.stringify({ id: 'x', object: 'chunk', choices: [choice] })}\n\n`);
      });
      const end = chat ? { index: 0, delta: {}, finish_reason: finish } : { index: 0, text: '', finish_reason: finish };
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chunk', choices: [end] })}\n\n`);
      if (body.stream_options?.include_usage) res.write(`data: ${JSON.stringify({ id: 'x', object: 'chunk', choices: [], usage })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    const choice = chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: finish } : { index: 0, text, finish_reason: finish };
    json(res, 200, JSON.stringify({ id: 'up-1', object: chat ? 'chat.completion' : 'text_completion', model: body.model, choices: [choice], usage }));
  });
  return Object.assign(fake, { rejectKeys });
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
