#!/usr/bin/env node
// Every development probe (dev-probes.mjs) with the default setting's score for its best match,
// one line each, best score first, and the default's threshold: which rewordings miss and by how
// much, which near misses come close, and which the vetoes stop (score 0). The protocol is the
// quality bench's (bench/lib/quality-runs.mjs runProbes: every cached question in one scope).
// Never reads the probe set in tests/.
//   node tools/evaluator-dev/probe-report.mjs [--evaluator-model FILE]
import fs from 'node:fs';
import { OnnxEmbedder, SemanticCache } from 'semcache';
import { runProbes } from '../../bench/lib/quality-runs.mjs';
import { devProbeCases } from './dev-probes.mjs';

const i = process.argv.indexOf('--evaluator-model');
const model = i > 0 ? { evaluatorModel: new Uint8Array(fs.readFileSync(process.argv[i + 1])) } : {};
const embedder = await OnnxEmbedder.load();
const c = await SemanticCache.open({ embedder, evaluator: 'learned', ...model });
const threshold = (await c.stats()).evaluatorThreshold;
await c.close();

const rows = await runProbes(embedder, { evaluator: 'learned', ...model, maxFalseHitRate: 1 }, devProbeCases());
const line = (r) => {
  const hit = r.score >= threshold;
  const verdict = r.expect === 'hit' ? (hit && r.own ? 'hit ' : hit ? 'WRONG' : 'miss') : hit ? 'FALSE' : 'ok  ';
  const other = r.expect === 'hit' && !r.own ? ` (best match: "${r.matched}")` : '';
  return `${r.score.toFixed(3)}  cos ${r.similarity.toFixed(3)}  ${verdict}  ${r.kind.padEnd(11)} ${r.query}  ~  ${r.cached}${other}`;
};
for (const [title, want] of [['rewordings (must hit)', 'hit'], ['near misses (must not hit)', 'miss']]) {
  const set = rows.filter((r) => r.expect === want).sort((a, b) => b.score - a.score);
  const hits = set.filter((r) => r.score >= threshold && (want === 'miss' || r.own)).length;
  console.log(`\n${title}: ${hits} of ${set.length} hit at the default threshold ${threshold.toFixed(4)}`);
  for (const r of set) console.log(line(r));
}
