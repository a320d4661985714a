// `npm run bench -- gpt2`: runs bench_gpt2 natively (build/native/bench_gpt2) and in wasm under
// Node (build/wasm/bench_gpt2.cjs), one after the other, and prints, last, one JSON line:
//   {"brown_gpt2": {weights, kv_tok_s_32, kv_tok_s_128, kv_tok_s_256, nokv_tok_s_256,
//                   kv_speedup_256, wasm_over_native, best_format, native: {...},
//                   fidelity: {f32|f16|int8: {...}}, formats: {f32|f16|int8: {...}}},
//    "gpt2_124m_random_weights": {weights, the same speed fields, formats (speed only)}}
// Two models, two purposes:
//   brown_gpt2 is a trained checkpoint (../shared/models/brown-gpt2): its fidelity block is the
//     only fidelity this bench reports. Per format (in wasm): against reference.json, written by
//     the checkpoint's trainer (ref_first16_max_err: max |logit - reference| over the 16 logits it
//     stores; ref_argmax_match; ref_greedy_32_match: how many of the reference's 32 greedy tokens
//     this format's own greedy run reproduces, position by position), and against our f32
//     (max_logit_err over the whole vocabulary; greedy_agree, teacher-forced over 64 tokens).
//   gpt2_124m_random_weights has GPT-2 124M's shape (12 layers, 768-d, 50,257 tokens) and random
//     weights: it measures speed at that size and nothing about output quality.
// Speed figures are wasm's for the format fastest in wasm at 128 tokens of context (by CPU time);
// wasm_over_native is wasm time / native time per token there (tokens/s native / tokens/s wasm);
// cpu / native_cpu / *_cpu use process CPU time instead of wall time (the machine may be shared:
// load_average shows how much).
// Flags: --quick (fewer timed steps), --shared <dir> (default ../shared next to the repo).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const sharedIdx = args.indexOf('--shared');
const shared = sharedIdx >= 0 ? path.resolve(args[sharedIdx + 1]) : (process.env.SEMCACHE_SHARED_DIR ?? path.resolve(root, '../shared'));
const modelDir = path.join(shared, 'models/brown-gpt2');

const nativeBin = path.join(root, 'build/native/bench_gpt2');
const wasmBin = path.join(root, 'build/wasm/bench_gpt2.cjs');
for (const f of [nativeBin, wasmBin, path.join(modelDir, 'model.safetensors'), path.join(modelDir, 'reference.json')])
  if (!fs.existsSync(f)) {
    console.error(`bench gpt2: missing ${f} (build native and wasm first: npm run build)`);
    process.exit(1);
  }

function run(cmd, argv) {
  const t0 = performance.now();
  // the 3.1.6 glue would fetch() the .wasm path under Node 20: without fetch it reads the file
  const out = execFileSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 24, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = out.trim().split('\n').pop();
  console.error(`bench gpt2: ${path.basename(argv.find((a) => a.includes('bench_gpt2')) ?? cmd)} ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return JSON.parse(line);
}

const extra = quick ? ['--quick'] : [];
const native = run(nativeBin, [modelDir, ...extra]);
const wasm = run(process.execPath, ['--no-experimental-fetch', wasmBin, modelDir, ...extra]);
console.error(JSON.stringify({ native, wasm }));

const round = (x, d = 2) => Number(x.toFixed(d));
// wall-clock figures (what a user waits) and CPU-time figures (what this process alone costs: on
// a shared machine the neighbours' load inflates wall time, differently for each run)
function pick(r, cpu = false) {
  const k = (name) => r[(cpu ? 'cpu_' : '') + name];
  return {
    kv_tok_s_32: k('kv_tok_s_32'),
    kv_tok_s_128: k('kv_tok_s_128'),
    kv_tok_s_256: k('kv_tok_s_256'),
    nokv_tok_s_256: k('nokv_tok_s_256'),
    kv_speedup_256: round(k('kv_tok_s_256') / k('nokv_tok_s_256'), 1),
  };
}
const reference = JSON.parse(fs.readFileSync(path.join(modelDir, 'reference.json'), 'utf8'));

/** One format's output after reference.json's prompt, against the reference (and our f32). */
function fidelity(r) {
  const ref16 = reference.last_logits_first16;
  if (r.logits_first16.length !== ref16.length) throw new Error('bench gpt2: logits_first16 length differs from reference.json');
  let same = 0;
  reference.greedy_32_ids.forEach((t, i) => { same += r.greedy_32[i] === t ? 1 : 0; });
  return {
    ref_first16_max_err: round(Math.max(...ref16.map((x, i) => Math.abs(x - r.logits_first16[i]))), 5),
    ref_max_logit_err: round(Math.abs(r.max_logit - reference.last_logits_max), 5),
    ref_argmax_match: r.argmax === reference.last_logits_argmax,
    ref_greedy_32_match: same,
    max_logit_err_vs_f32: r.max_logit_err,
    greedy_agree_vs_f32: r.greedy_agree,
  };
}

const result = {};
const labels = {
  brown_gpt2: 'trained: the brown-gpt2 checkpoint (6 layers, 256-d); speed and fidelity',
  gpt2_124m_random_weights: "random (seeded), GPT-2 124M's shape (12 layers, 768-d); speed only, no fidelity",
};
for (const model of ['brown_gpt2', 'gpt2_124m_random_weights']) {
  const w = wasm.models[model], n = native.models[model];
  const formats = {};
  for (const f of Object.keys(w)) {
    formats[f] = {
      wasm: pick(w[f]),
      native: pick(n[f]),
      wasm_cpu: pick(w[f], true),
      native_cpu: pick(n[f], true),
      wasm_over_native_128: round(n[f].kv_tok_s_128 / w[f].kv_tok_s_128),
      wasm_over_native_128_cpu: round(n[f].cpu_kv_tok_s_128 / w[f].cpu_kv_tok_s_128),
      weight_mb: w[f].weight_mb,
    };
  }
  // the best format is picked by CPU time: wall time on a shared machine can swap the order
  const best = Object.keys(w).reduce((a, b) => (w[b].cpu_kv_tok_s_128 > w[a].cpu_kv_tok_s_128 ? b : a));
  result[model] = {
    weights: labels[model],
    ...pick(w[best]),
    wasm_over_native: round(n[best].kv_tok_s_128 / w[best].kv_tok_s_128),
    wasm_over_native_cpu: round(n[best].cpu_kv_tok_s_128 / w[best].cpu_kv_tok_s_128),
    best_format: best,
    native: pick(n[best]),
    cpu: pick(w[best], true),
    native_cpu: pick(n[best], true),
    ...(model === 'brown_gpt2' ? { fidelity: Object.fromEntries(Object.keys(w).map((f) => [f, fidelity(w[f])])) } : {}),
    formats,
  };
}
result.load_average = os.loadavg().map((x) => round(x));
console.log(JSON.stringify(result));
