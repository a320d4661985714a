// `npm run bench -- gpt2-url`: what a page needs to run GPT-2 124M from a URL. A checkpoint of
// GPT-2 124M's shape (12 layers, 768-d, 50,257 tokens, 1,024 positions, with the causal-mask
// buffers Hugging Face's file carries: 548 MB, random seeded weights, so speed and memory only)
// is served on 127.0.0.1 in the Hugging Face layout with Range/ETag/CORS
// (tests/js/model-server.mjs), and a page on another origin loads it with Gpt2.load({ url },
// { format: 'int8' }) in the GPT-2 worker, twice:
//   cold:   downloaded (stored in OPFS as it arrives, straight into wasm memory), converted to int8;
//   stored: a new page, read back from OPFS with no request for the weights.
// Prints, last, one JSON line: safetensors_mb, int8_weight_mb (the model's weights after
// conversion), wasm_heap_mib (the worker's wasm memory after the load: the file and the int8
// copy were both in it at the peak), chromium_peak_rss_mib (the peak of all of this browser's
// processes' resident memory during the cold load, over the same before it), cold_load_s and
// stored_load_s (Gpt2.load's time, in the page), stored_weight_requests, kv_tok_s_32 (greedy, 32 tokens, KV cache, int8).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { putCheckpoint, serveModels } from '../tests/js/model-server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

const models = await serveModels();
const ck = putCheckpoint(models, 'gpt2-124m', { nEmbd: 768, nLayer: 12, nHead: 12, nPositions: 1024, attnBias: true }, 1);
const pages = http.createServer((req, res) => {
  const file = path.join(root, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
  if (!file.startsWith(root) || !fs.existsSync(file) || !fs.statSync(file).isFile()) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => pages.listen(0, '127.0.0.1', r));
const pageUrl = `http://127.0.0.1:${pages.address().port}/tests/js/fixtures/gpt2-resume.html`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-bench-gpt2-url-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

/** Resident memory of this browser's processes (those whose command line names its profile), MiB. */
function browserRss() {
  let kb = 0;
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(profile)) continue;
      kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // the process ended meanwhile
    }
  }
  return kb / 1024;
}

async function load(label) {
  const page = await context.newPage();
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.ready === true);
  const before = browserRss();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, browserRss())), 100);
  const r = await page.evaluate((u) => window.t.generate(u, null, 'int8', 32), `${models.url}/gpt2-124m`);
  clearInterval(timer);
  if (r.error) throw new Error(`${label}: ${r.error.code}: ${r.error.message}`);
  const seconds = r.loadMs / 1000;  // Gpt2.load alone, in the page
  await page.close();
  console.error(`bench gpt2-url: ${label} ${seconds.toFixed(1)} s, rss ${before.toFixed(0)} -> peak ${peak.toFixed(0)} MiB`);
  return { r, seconds, peakOver: peak - before };
}

const weightRequests = () => models.hits.filter((h) => h.path === '/gpt2-124m/model.safetensors').length;
try {
  const cold = await load('cold (download)');
  const requestsAfterCold = weightRequests();
  const stored = await load('stored (OPFS)');
  const mib = (n) => Number((n / 1048576).toFixed(1));
  console.log(JSON.stringify({
    model: "random (seeded) weights of GPT-2 124M's shape: memory and speed, no output quality",
    safetensors_mb: Number((ck.weights.length / 1e6).toFixed(1)),
    format: 'int8',
    int8_weight_mb: Number((cold.r.info.weightBytes / 1e6).toFixed(1)),
    wasm_heap_mib: mib(cold.r.info.wasmHeapBytes),
    chromium_peak_rss_mib: Math.round(cold.peakOver),
    stored_peak_rss_mib: Math.round(stored.peakOver),
    cold_load_s: Number(cold.seconds.toFixed(2)),
    stored_load_s: Number(stored.seconds.toFixed(2)),
    stored_weight_requests: weightRequests() - requestsAfterCold,
    kv_tok_s_32: Number(cold.r.stats.tokensPerSecond.toFixed(1)),
    load_average: os.loadavg().map((x) => Number(x.toFixed(2))),
  }));
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
  await models.close();
  pages.closeAllConnections();
  pages.close();
}
