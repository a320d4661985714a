#!/usr/bin/env node
// Embed benchmark: the converted USE-lite ONNX model on ONNX Runtime Web (wasm, in Node)
// against the original TF.js model on tfjs-backend-cpu, on the same 12-token QQP questions.
// Tokenization (the package's reference JS tokenizer) is done up front and not timed:
// both sides get the same ids. Each configuration runs in its own process, because ORT's
// thread count is fixed once its wasm is loaded.
//
// Prints one JSON line last:
//   {"p50_ms", "sentences_per_s", "tfjs_sentences_per_s", "speedup_vs_tfjs", ...}
// where p50_ms / sentences_per_s are single prompts, one session.run each, 1 wasm thread
// (what a page without cross-origin isolation gets), with the default int8 model (model_q8.onnx);
// fp32_* are the exact float32 conversion in the same conditions, *_2t the default with 2
// threads, fp32_batch16_sentences_per_s 16 prompts per run (the int8 model runs one text per
// run: its activation scales are per tensor). The machine may be shared: cpu_ms_per_sentence
// (process CPU time) and load_avg_1m say how much of the wall time was really ours.
// chromium_p50_ms / chromium_fp32_p50_ms: the same single-prompt runs in a Chromium page, back to
// back; chromium_after_idle_p50_ms: int8 runs each after 200 ms idle, as a page asks questions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = process.env.SEMCACHE_SHARED_DIR || path.resolve(ROOT, '../shared');
// the converted original ('use-lite', what the TF.js comparison is about) unless --model NAME
const MODEL_DIR = path.join(ROOT, 'dist/models', process.argv.includes('--model') ? process.argv[process.argv.indexOf('--model') + 1] : 'use-lite');
const PROMPT_TOKENS = 12;
const N_SENTENCES = 64;

const args = process.argv.slice(2);
const opt = (name, def) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : def; };
const quantile = (xs, q) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))]; };

async function prompts() {
  const { referenceTokenizer } = await import('../tools/convert-use/tfjs-reference.mjs');
  const tokenize = referenceTokenizer();
  const lines = zlib.gunzipSync(fs.readFileSync(path.join(SHARED, 'data/qqp/pairs-dev.jsonl.gz'))).toString('utf8').split('\n');
  const out = [];
  for (const line of lines) {
    if (!line) continue;
    const ids = tokenize(JSON.parse(line).a);
    if (ids.length === PROMPT_TOKENS) out.push(ids);
    if (out.length === N_SENTENCES) break;
  }
  if (out.length < N_SENTENCES) throw new Error(`only ${out.length} QQP questions of ${PROMPT_TOKENS} tokens`);
  return out;
}

async function benchOurs(threads, runs, dtype) {
  const ort = await import('onnxruntime-web/wasm');
  ort.env.wasm.wasmPaths = path.dirname(require.resolve('onnxruntime-web')) + '/';
  ort.env.wasm.numThreads = threads;
  const manifest = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, 'manifest.json'), 'utf8'));
  const file = dtype === 'fp32' ? manifest.model.file : manifest.variants.q8.file;
  const session = await ort.InferenceSession.create(fs.readFileSync(path.join(MODEL_DIR, file)));
  const sentences = await prompts();
  const feeds = (rows) => {
    const T = Math.max(...rows.map((r) => r.length));
    const ids = new Int32Array(rows.length * T);
    rows.forEach((r, i) => ids.set(r, i * T));
    return {
      input_ids: new ort.Tensor('int32', ids, [rows.length, T]),
      lengths: new ort.Tensor('int32', Int32Array.from(rows.map((r) => r.length)), [rows.length]),
    };
  };
  for (let i = 0; i < 30; i++) await session.run(feeds([sentences[i % sentences.length]]));
  const times = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const s = performance.now();
    const out = await session.run(feeds([sentences[i % sentences.length]])); // new tensors every run
    if (out.embeddings.dims[1] !== 512) throw new Error('bad output');
    times.push(performance.now() - s);
  }
  const total = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const batches = Math.ceil(runs / 16);
  const tb = performance.now();
  for (let i = 0; i < batches; i++) {
    const rows = Array.from({ length: 16 }, (_, j) => sentences[(i * 16 + j) % sentences.length]);
    await session.run(feeds(rows));
  }
  const batchTotal = performance.now() - tb;
  return { threads, p50_ms: quantile(times, 0.5), p90_ms: quantile(times, 0.9), sentences_per_s: runs / (total / 1000), cpu_ms_per_sentence: (cpu.user + cpu.system) / 1000 / runs, batch16_sentences_per_s: (batches * 16) / (batchTotal / 1000) };
}

async function benchTfjs(n) {
  const { loadReferenceModel } = await import('../tools/convert-use/tfjs-reference.mjs');
  const ref = await loadReferenceModel();
  const sentences = (await prompts()).slice(0, n);
  for (let i = 0; i < 3; i++) await ref.embedIds([sentences[i]]);
  const times = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const s of sentences) { const t = performance.now(); await ref.embedIds([s]); times.push(performance.now() - t); }
  const total = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { p50_ms: quantile(times, 0.5), sentences_per_s: sentences.length / (total / 1000), cpu_ms_per_sentence: (cpu.user + cpu.system) / 1000 / sentences.length };
}

/** The same single-prompt runs in Chromium (a page, ORT's wasm build, 1 thread: a page without
 * cross-origin isolation gets no more), served by the package's own static server. */
async function benchChromium(dtypes, runs) {
  const { chromium } = await import('playwright-core');
  const { parseConfig } = await import('../dist/server/config.js');
  const { startServer } = await import('../dist/server/main.js');
  const server = await startServer(parseConfig(['--port', '0', '--storage', 'memory']), () => {});
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'], headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/cache/stats`);
    const sentences = (await prompts()).map((r) => Array.from(r));
    return await page.evaluate(async ({ dtypes, runs, sentences }) => {
      const ort = await import('/ort/ort.wasm.bundle.min.mjs');
      ort.env.wasm.wasmPaths = '/ort/';
      ort.env.wasm.numThreads = 1;
      const manifest = await (await fetch('/dist/models/use-lite/manifest.json')).json();
      const out = {};
      for (const dtype of dtypes) {
        const file = dtype === 'fp32' ? manifest.model.file : manifest.variants.q8.file;
        const bytes = new Uint8Array(await (await fetch(`/dist/models/use-lite/${file}`)).arrayBuffer());
        const session = await ort.InferenceSession.create(bytes);
        const feeds = (ids) => ({ input_ids: new ort.Tensor('int32', Int32Array.from(ids), [1, ids.length]), lengths: new ort.Tensor('int32', Int32Array.of(ids.length), [1]) });
        for (let i = 0; i < 50; i++) await session.run(feeds(sentences[i % sentences.length]));
        const times = [];
        for (let i = 0; i < runs; i++) {
          const f = feeds(sentences[i % sentences.length]);
          const t = performance.now();
          await session.run(f);
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        out[dtype] = { p50_ms: times[Math.floor(runs / 2)], p90_ms: times[Math.floor(runs * 0.9)] };
        // As a page asks: after the user typed for a while, not straight after the last run.
        const idle = [];
        for (let i = 0; i < 60; i++) {
          await new Promise((r) => setTimeout(r, 200));
          const f = feeds(sentences[i % sentences.length]);
          const t = performance.now();
          await session.run(f);
          idle.push(performance.now() - t);
        }
        idle.sort((a, b) => a - b);
        out[dtype].after_idle_p50_ms = idle[30];
        await session.release();
      }
      return out;
    }, { dtypes, runs, sentences });
  } finally {
    await browser.close();
    await server.close();
  }
}

const worker = opt('--worker');
if (worker) {
  const res = worker === 'tfjs' ? await benchTfjs(+opt('--n', N_SENTENCES)) : await benchOurs(+opt('--threads', 1), +opt('--runs', 400), opt('--dtype', 'q8'));
  process.stdout.write(JSON.stringify(res) + '\n');
} else {
  const { convert, MODELS } = await import('../tools/convert-use/convert.mjs');
  convert({ log: (m) => console.error(m) });
  convert({ out: MODELS['use-lite-cache'].out, tuned: MODELS['use-lite-cache'].tuned, log: (m) => console.error(m) });
  const self = fileURLToPath(import.meta.url);
  const run = (...a) => {
    const out = execFileSync(process.execPath, [self, '--worker', ...a], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return JSON.parse(out.trim().split('\n').pop());
  };
  const t1 = run('ours', '--threads', '1');
  console.error(`ours, 1 thread: ${JSON.stringify(t1)}`);
  // the default model (fine-tuned, same architecture): the same runs, right after
  const d1 = run('ours', '--threads', '1', '--model', 'use-lite-cache');
  console.error(`default (use-lite-cache), 1 thread: ${JSON.stringify(d1)}`);
  const bytesOf = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'dist/models', name, 'manifest.json'), 'utf8')).variants.q8.bytes;
  const f1 = run('ours', '--threads', '1', '--dtype', 'fp32');
  console.error(`ours fp32, 1 thread: ${JSON.stringify(f1)}`);
  const t2 = run('ours', '--threads', '2');
  console.error(`ours, 2 threads: ${JSON.stringify(t2)}`);
  const tf = run('tfjs');
  console.error(`tfjs cpu: ${JSON.stringify(tf)}`);
  const ch = await benchChromium(['q8', 'fp32'], 400);
  console.error(`ours in Chromium, 1 thread: ${JSON.stringify(ch)}`);
  const r = (x, d = 2) => Number(x.toFixed(d));
  console.log(JSON.stringify({
    p50_ms: r(t1.p50_ms),
    sentences_per_s: r(t1.sentences_per_s, 1),
    tfjs_sentences_per_s: r(tf.sentences_per_s, 2),
    speedup_vs_tfjs: r(t1.sentences_per_s / tf.sentences_per_s, 1),
    threads: 1,
    prompt_tokens: PROMPT_TOKENS,
    p90_ms: r(t1.p90_ms),
    dtype: 'q8',
    fp32_p50_ms: r(f1.p50_ms),
    fp32_sentences_per_s: r(f1.sentences_per_s, 1),
    fp32_batch16_sentences_per_s: r(f1.batch16_sentences_per_s, 1),
    p50_ms_2t: r(t2.p50_ms),
    sentences_per_s_2t: r(t2.sentences_per_s, 1),
    chromium_p50_ms: r(ch.q8.p50_ms),
    chromium_fp32_p50_ms: r(ch.fp32.p50_ms),
    chromium_after_idle_p50_ms: r(ch.q8.after_idle_p50_ms),
    tfjs_p50_ms: r(tf.p50_ms, 1),
    cpu_ms_per_sentence: r(t1.cpu_ms_per_sentence),
    tfjs_cpu_ms_per_sentence: r(tf.cpu_ms_per_sentence, 1),
    // the default model, tuned for caching: same graph, same size, same speed expected
    default_model: 'use-lite-cache',
    default_p50_ms: r(d1.p50_ms),
    default_sentences_per_s: r(d1.sentences_per_s, 1),
    default_q8_bytes: bytesOf('use-lite-cache'),
    use_lite_q8_bytes: bytesOf('use-lite'),
    load_avg_1m: r(os.loadavg()[0]),
  }));
}
