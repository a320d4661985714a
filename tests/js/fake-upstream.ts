// A fake OpenAI-compatible LLM on 127.0.0.1 that counts calls: JSON and SSE replies, scripted
// failures, and a record of the headers it saw.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeUpstream {
  url: string;
  calls: { path: string; body: Record<string, unknown>; auth?: string }[];
  /** Next replies are this status with this body (then back to normal). */
  failNext(status: number, body: string, times?: number): void;
  close(): Promise<void>;
}

export function answerFor(body: Record<string, unknown>): string {
  const msgs = body.messages as { role: string; content: string }[] | undefined;
  const last = msgs ? msgs.filter((m) => m.role === 'user').at(-1)?.content : String(body.prompt);
  return `Answer #${String(last).length} from ${String(body.model)}.`;
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const calls: FakeUpstream['calls'] = [];
  let failures: { status: number; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw || '{}');
      calls.push({ path: req.url ?? '', body, auth: req.headers.authorization });
      const fail = failures.shift();
      if (fail) {
        res.writeHead(fail.status, { 'content-type': 'application/json' }).end(fail.body);
        return;
      }
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
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'up-1', object: chat ? 'chat.completion' : 'text_completion', model: body.model, choices: [choice] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    failNext(status, body, times = 1) {
      failures = Array.from({ length: times }, () => ({ status, body }));
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}
