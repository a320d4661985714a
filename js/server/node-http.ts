// Serves a fetch-style handler with node:http (Node 20 has Request/Response but no server for
// them). Streams both ways; a client disconnect aborts the request's signal.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';

export interface NodeServer {
  url: string;
  server: http.Server;
  close(): Promise<void>;
}

export async function serveHandler(
  handler: (request: Request) => Promise<Response>,
  options: { port?: number; host?: string; fallback?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean } = {},
): Promise<NodeServer> {
  const server = http.createServer(async (req, res) => {
    if (options.fallback?.(req, res)) return;
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    try {
      const host = req.headers.host ?? 'localhost';
      const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
      const request = new Request(`http://${host}${req.url ?? '/'}`, {
        method: req.method,
        headers: req.headers as Record<string, string>,
        body: hasBody ? (Readable.toWeb(req) as ReadableStream<Uint8Array>) : undefined,
        signal: ac.signal,
        // @ts-expect-error Node's fetch needs this for streamed request bodies
        duplex: 'half',
      });
      const response = await handler(request);
      const headers: Record<string, string> = {};
      response.headers.forEach((v, k) => (headers[k] = v));
      res.writeHead(response.status, headers);
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
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `internal error: ${(e as Error)?.message ?? e}`, type: 'api_error' } }));
      } else {
        res.destroy(e as Error);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    server,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
