// Serves a fetch-style handler with node:http (Node 20 has Request/Response but no server for
// them). Streams both ways; a client disconnect aborts the request's signal. The Request's URL
// is built from the request path alone: the Host header names no route (it is handed over as
// ClientInfo.host for the Origin and Host checks).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ClientInfo } from './access.js';

export interface NodeServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

/** Methods a fetch Request can carry (TRACE, TRACK and CONNECT make its constructor throw). */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export async function serveHandler(
  handler: (request: Request, info?: ClientInfo) => Promise<Response>,
  options: {
    port?: number;
    host?: string;
    fallback?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
    /** Node's own deadlines for a whole request and for its headers (ms). Defaults 60,000 / 20,000. */
    requestTimeoutMs?: number;
    headersTimeoutMs?: number;
  } = {},
): Promise<NodeServer> {
  const server = http.createServer(
    { requestTimeout: options.requestTimeoutMs ?? 60_000, headersTimeout: options.headersTimeoutMs ?? 20_000 },
    async (req, res) => {
      if (!METHODS.has(req.method ?? '')) {
        res.writeHead(405, { 'content-type': 'application/json', allow: 'GET, POST, OPTIONS', 'x-semcache': 'bypass', connection: 'close' });
        res.end(JSON.stringify({ error: { message: `method ${req.method} is not allowed`, type: 'invalid_request_error', code: 'METHOD_NOT_ALLOWED' } }));
        return;
      }
      if (options.fallback?.(req, res)) return;
      const ac = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) ac.abort();
      });
      try {
        const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
        const headers = new Headers();
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        const request = new Request(new URL(pathOf(req.url), 'http://localhost'), {
          method: req.method,
          headers,
          body: hasBody ? bodyStream(req) : undefined,
          signal: ac.signal,
          // @ts-expect-error Node's fetch needs this for streamed request bodies
          duplex: 'half',
        });
        const response = await handler(request, { address: req.socket.remoteAddress, host: req.headers.host ?? '' });
        const out: Record<string, string> = {};
        response.headers.forEach((v, k) => (out[k] = v));
        res.writeHead(response.status, out);
        if (!response.body) {
          res.end();
          return;
        }
        for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
          if (!res.write(chunk)) await new Promise((r) => res.once('drain', r));
        }
        res.end();
      } catch (e) {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json', 'x-semcache': 'bypass' });
          res.end(JSON.stringify({ error: { message: `internal error: ${(e as Error)?.message ?? e}`, type: 'api_error', code: 'INTERNAL' } }));
        } else {
          res.destroy(e as Error);
        }
      }
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    server,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeIdleConnections();
      }),
  };
}

/** The path and query of a request target: origin-form as is; absolute-form loses its host. */
function pathOf(target: string | undefined): string {
  if (!target) return '/';
  if (target.startsWith('/')) return target.startsWith('//') ? `/${target.replace(/^\/+/, '')}` : target;
  try {
    const u = new URL(target);
    return `${u.pathname}${u.search}`;
  } catch {
    return '/';
  }
}

/**
 * The request body as a web stream that reads from the socket only when the handler asks for
 * the next chunk: a reader that stops at the size limit leaves the rest unread, never buffered
 * (Readable.toWeb in Node 20 reads ahead without bound).
 */
function bodyStream(req: http.IncomingMessage): ReadableStream<Uint8Array> {
  const it = req[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { done, value } = await it.next();
        if (done) controller.close();
        else controller.enqueue(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
      },
      cancel() {
        req.pause();
      },
    },
    { highWaterMark: 0 },
  );
}
