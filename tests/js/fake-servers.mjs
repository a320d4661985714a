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

/** A fake OpenAI-compatible LLM: JSON and SSE replies, scripted failures, the headers it saw. */
export function startFakeUpstream() {
  return startFake((req, res, body) => {
    const text = answerFor(body);
    const chat = req.url === '/v1/chat/completions';
    if (body.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pieces = ['Ans', 'wer', text.slice(6)];
      pieces.forEach((p, i) => {
        const choice = chat ? { index: 0, delta: i ? { content: p } : { role: 'assistant', content: p }, finish_reason: null } : { index: 0, text: p, finish_reason: null };
        res.write(`data: ${JSON.stringify({ id: 'x', object: 'chunk', choices: [choice] })}\n\n`);
      });
      const end = chat ? { index: 0, delta: {}, finish_reason: 'stop' } : { index: 0, text: '', finish_reason: 'stop' };
      res.write(`data: ${JSON.stringify({ id: 'x', object: 'chunk', choices: [end] })}\n\n`);
      res.end('data: [DONE]\n\n');
      return;
    }
    const choice = chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' } : { index: 0, text, finish_reason: 'stop' };
    json(res, 200, JSON.stringify({ id: 'up-1', object: chat ? 'chat.completion' : 'text_completion', model: body.model, choices: [choice] }));
  });
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
