#!/usr/bin/env node
// Embed benchmark: USE lite, one 12-token QQP question per inference, the same token ids for
// every runtime (tokenized up front, not timed). Two comparisons, each of like with like:
//   fp32 vs fp32: the exact float32 ONNX conversion on ONNX Runtime Web (wasm, 1 thread, in Node)
//     against the original TF.js model on TF.js's fastest backend that runs here offline,
//     tfjs-backend-wasm (SIMD, 1 thread); tfjs-backend-cpu (the wrapper's own) is reported too;
//   int8 vs fp32: the default int8 model (model_q8.onnx) against fp32, both on ONNX Runtime.
// Every configuration gets the same warm-up (WARMUP runs) and the same number of timed runs
// (--runs, default RUNS), in its own process (ORT's thread count is fixed once its wasm loads).
//
// Prints one JSON line last (times per prompt; ratios are p50 over p50):
//   p50_ms, p90_ms, sentences_per_s        int8 default, ORT, 1 thread
//   fp32_p50_ms, fp32_sentences_per_s      fp32, ORT, 1 thread
//   tfjs_p50_ms, tfjs_sentences_per_s      fp32, TF.js on tfjs_backend ('wasm'), 1 thread
//   fp32_speedup_vs_tfjs                   tfjs_p50_ms / fp32_p50_ms    (fp32 against fp32)
//   fp32_speedup_vs_tfjs_cpu_time          the same by process CPU time per sentence (steadier
//                                          than wall time when the machine is shared)
//   int8_speedup_vs_fp32                   fp32_p50_ms / p50_ms         (both ORT)
//   tfjs_cpu_p50_ms, tfjs_cpu_sentences_per_s   fp32, TF.js on tfjs-backend-cpu
//   p50_ms_2t, sentences_per_s_2t          int8 with 2 ORT threads
//   fp32_batch16_sentences_per_s           fp32, 16 prompts per run (the int8 model runs one
//                                          text per run: its activation scales are per tensor)
//   chromium_p50_ms / chromium_fp32_p50_ms the same single-prompt runs in a Chromium page, back
//                                          to back; chromium_after_idle_p50_ms: int8, each run
//                                          after 200 ms idle (IDLE_RUNS runs), as a page asks
//   warmup_runs, timed_runs; cpu_ms_per_sentence (process CPU time) and load_avg_1m say how much
//   of the wall time was ours on a shared machine.
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
const WARMUP = 30;
const RUNS = 200;
const IDLE_RUNS = 60;

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

async function benchOurs(threads, runs, dtype, warmup) {
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
  for (let i = 0; i < warmup; i++) await session.run(feeds([sentences[i % sentences.length]]));
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

async function benchTfjs(backend, runs, warmup) {
  const { loadReferenceModel } = await import('../tools/convert-use/tfjs-reference.mjs');
  const ref = await loadReferenceModel({ backend, threads: 1 });
  const sentences = await prompts();
  for (let i = 0; i < warmup; i++) await ref.embedIds([sentences[i % sentences.length]]);
  const times = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    const [v] = await ref.embedIds([sentences[i % sentences.length]]);
    if (v.length !== 512) throw new Error('bad output');
    times.push(performance.now() - t);
  }
  const total = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { backend: ref.backend, p50_ms: quantile(times, 0.5), p90_ms: quantile(times, 0.9), sentences_per_s: runs / (total / 1000), cpu_ms_per_sentence: (cpu.user + cpu.system) / 1000 / runs };
}

/** The same single-prompt runs in Chromium (a page, ORT's wasm build, 1 thread: a page without
 * cross-origin isolation gets no more), served by the package's own static server. */
async function benchChromium(dtypes, runs, warmup) {
  const { chromium } = await import('playwright-core');
  const { parseConfig } = await import('../dist/server/config.js');
  const { startServer } = await import('../dist/server/main.js');
  const server = await startServer(parseConfig(['--port', '0', '--storage', 'memory']), () => {});
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'], headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(`${server.url}/cache/stats`);
    const sentences = (await prompts()).map((r) => Array.from(r));
    return await page.evaluate(async ({ dtypes, runs, warmup, idleRuns, sentences }) => {
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
        for (let i = 0; i < warmup; i++) await session.run(feeds(sentences[i % sentences.length]));
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
        for (let i = 0; i < idleRuns; i++) {
          await new Promise((r) => setTimeout(r, 200));
          const f = feeds(sentences[i % sentences.length]);
          const t = performance.now();
          await session.run(f);
          idle.push(performance.now() - t);
        }
        idle.sort((a, b) => a - b);
        out[dtype].after_idle_p50_ms = idle[Math.floor(idleRuns / 2)];
        await session.release();
      }
      return out;
    }, { dtypes, runs, warmup, idleRuns: IDLE_RUNS, sentences });
  } finally {
    await browser.close();
    await server.close();
  }
}

const worker = opt('--worker');
const runs = +opt('--runs', RUNS);
if (worker) {
  const res = worker === 'tfjs'
    ? await benchTfjs(opt('--backend', 'wasm'), runs, WARMUP)
    : await benchOurs(+opt('--threads', 1), runs, opt('--dtype', 'q8'), WARMUP);
  process.stdout.write(JSON.stringify(res) + '\n');
} else {
  const { convert, MODELS } = await import('../tools/convert-use/convert.mjs');
  convert({ log: (m) => console.error(m) });
  convert({ out: MODELS['use-lite-cache'].out, tuned: MODELS['use-lite-cache'].tuned, log: (m) => console.error(m) });
  const self = fileURLToPath(import.meta.url);
  const run = (label, ...a) => {
    const out = execFileSync(process.execPath, [self, '--worker', ...a, '--runs', String(runs)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const res = JSON.parse(out.trim().split('\n').pop());
    console.error(`${label}: ${JSON.stringify(res)}`);
    return res;
  };
  const t1 = run('ORT int8, 1 thread', 'ours', '--threads', '1');
  // the default model (fine-tuned, same architecture): the same runs, right after
  const d1 = run('ORT int8, 1 thread, default (use-lite-cache)', 'ours', '--threads', '1', '--model', 'use-lite-cache');
  const bytesOf = (name) => JSON.parse(fs.readFileSync(path.join(ROOT, 'dist/models', name, 'manifest.json'), 'utf8')).variants.q8.bytes;
  const f1 = run('ORT fp32, 1 thread', 'ours', '--threads', '1', '--dtype', 'fp32');
  const t2 = run('ORT int8, 2 threads', 'ours', '--threads', '2');
  const tf = run('TF.js fp32, wasm backend, 1 thread', 'tfjs', '--backend', 'wasm');
  const tfc = run('TF.js fp32, cpu backend', 'tfjs', '--backend', 'cpu');
  const ch = await benchChromium(['q8', 'fp32'], runs, WARMUP);
  console.error(`ORT in Chromium, 1 thread: ${JSON.stringify(ch)}`);
  const r = (x, d = 2) => Number(x.toFixed(d));
  console.log(JSON.stringify({
    p50_ms: r(t1.p50_ms),
    sentences_per_s: r(t1.sentences_per_s, 1),
    fp32_p50_ms: r(f1.p50_ms),
    fp32_sentences_per_s: r(f1.sentences_per_s, 1),
    tfjs_backend: tf.backend,
    tfjs_p50_ms: r(tf.p50_ms),
    tfjs_sentences_per_s: r(tf.sentences_per_s, 1),
    fp32_speedup_vs_tfjs: r(tf.p50_ms / f1.p50_ms, 1),
    fp32_speedup_vs_tfjs_cpu_time: r(tf.cpu_ms_per_sentence / f1.cpu_ms_per_sentence, 1),
    int8_speedup_vs_fp32: r(f1.p50_ms / t1.p50_ms),
    tfjs_cpu_p50_ms: r(tfc.p50_ms, 1),
    tfjs_cpu_sentences_per_s: r(tfc.sentences_per_s, 2),
    threads: 1,
    prompt_tokens: PROMPT_TOKENS,
    warmup_runs: WARMUP,
    timed_runs: runs,
    p90_ms: r(t1.p90_ms),
    fp32_p90_ms: r(f1.p90_ms),
    tfjs_p90_ms: r(tf.p90_ms),
    dtype: 'q8',
    fp32_batch16_sentences_per_s: r(f1.batch16_sentences_per_s, 1),
    p50_ms_2t: r(t2.p50_ms),
    sentences_per_s_2t: r(t2.sentences_per_s, 1),
    chromium_p50_ms: r(ch.q8.p50_ms),
    chromium_fp32_p50_ms: r(ch.fp32.p50_ms),
    chromium_after_idle_p50_ms: r(ch.q8.after_idle_p50_ms),
    cpu_ms_per_sentence: r(t1.cpu_ms_per_sentence),
    fp32_cpu_ms_per_sentence: r(f1.cpu_ms_per_sentence),
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
