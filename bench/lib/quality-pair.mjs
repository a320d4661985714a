// Setting (d) of the quality bench: the tuned encoder ranks, the learned evaluator's vetoes
// (numbers, antonyms) stay, and the pair model (build/models/pair) decides on the best match:
// score = 0 when vetoed, else the pair model's probability. Pair scores are cached on disk
// (build/embed-cache/pair-<model id>.json) like embeddings.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export async function pairSetting(embedder, tuned) {
  const { PairModel } = await import('./pair-model.mjs');
  const pair = await PairModel.load();
  const file = path.join(root, 'build/embed-cache', `pair-${pair.id.replace(/[^\w.@-]/g, '_')}.json`);
  const memo = fs.existsSync(file) ? new Map(Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')))) : new Map();
  const model = tuned.defaultEvaluator?.evaluatorModel;
  const extra = { evaluator: 'learned', maxFalseHitRate: 1, ...(model ? { evaluatorModel: model } : {}) };
  async function rescore(rows) {
    const out = [];
    for (const r of rows) {
      if (r.matched === null || r.score <= 0) {
        out.push({ ...r, score: r.matched === null ? -Infinity : 0 });
        continue;
      }
      const key = `${r.query}\u0000${r.matched}`;
      if (!memo.has(key)) memo.set(key, await pair.score(r.query, r.matched));
      out.push({ ...r, score: memo.get(key) });
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(Object.fromEntries(memo)));
    return out;
  }
  return { embedder, extra, defaultThreshold: pair.thresholdFor(0.02), rescore };
}
