#!/usr/bin/env node
// What each lexical veto of the learned evaluator costs and buys, before training with it: the
// share of QQP train (and calib) duplicates and non-duplicates it would force to a miss, and the
// development probes (dev-probes.mjs) it fires on, through the wasm core's own features. A veto
// is worth having when it fires on far more non-duplicates and near misses than duplicates and
// rewordings. Never reads QQP validation or the probe set in tests/.
//   node tools/evaluator-dev/veto-report.mjs [--examples N]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { qqpSplit } from '../../bench/lib/quality-data.mjs';
import { devProbeCases } from './dev-probes.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const examples = Number(process.argv[process.argv.indexOf('--examples') + 1] || 0) || 0;
const { default: createSemcacheCore } = await import(path.join(root, 'dist/wasm/semcache_core.mjs'));
const M = await createSemcacheCore({ wasmBinary: fs.readFileSync(path.join(root, 'dist/wasm/semcache_core.wasm')) });
const VETOES = ['numberClash', 'polarityClash', 'negationDiff', 'entityClash', 'orderClash'];
const names = M.EvaluatorModel.featureNames();
const idx = Object.fromEntries(VETOES.map((v) => [v, names.indexOf(v)]));

const { train, calib } = qqpSplit();
const docs = new Set();
for (const p of train) docs.add(p.a.replace(/\n/g, ' ')), docs.add(p.b.replace(/\n/g, ' '));
const bytes = M.EvaluatorModel.fromCorpus([...docs].join('\n'), 2);
const ptr = M._malloc(bytes.length);
M.HEAPU8.set(bytes, ptr);
const model = new M.EvaluatorModel(ptr, bytes.length);
M._free(ptr);

const fires = (q, c) => {
  const f = model.features(q, c, 1, 1, null, null);
  return VETOES.filter((v) => f[idx[v]] > 0);
};
const report = {};
for (const [part, pairs] of [['train', train], ['calib', calib]]) {
  const tally = Object.fromEntries(VETOES.map((v) => [v, { dup: 0, non: 0, dupExamples: [] }]));
  let dups = 0, nons = 0, dupAny = 0, nonAny = 0;
  for (const p of pairs) {
    const f = fires(p.b, p.a);
    p.label ? dups++ : nons++;
    if (f.length) p.label ? dupAny++ : nonAny++;
    for (const v of f) {
      p.label ? tally[v].dup++ : tally[v].non++;
      if (p.label && tally[v].dupExamples.length < examples) tally[v].dupExamples.push(`${p.a} | ${p.b}`);
    }
  }
  const pct = (n, d) => Math.round((1000 * n) / d) / 10;
  report[part] = { duplicates: dups, non_duplicates: nons, any_veto: { dup: pct(dupAny, dups), non: pct(nonAny, nons) } };
  for (const v of VETOES) {
    report[part][v] = { dup: pct(tally[v].dup, dups), non: pct(tally[v].non, nons) };
    for (const e of tally[v].dupExamples) process.stderr.write(`${part} ${v} vetoes duplicate: ${e}\n`);
  }
}
const probes = { rewordings_vetoed: [], near_misses_vetoed: 0, near_misses: 0 };
for (const c of devProbeCases()) {
  const f = fires(c.query, c.cached);
  if (c.expect === 'hit' && f.length) probes.rewordings_vetoed.push(`${c.query} (${f.join(', ')})`);
  if (c.expect === 'miss') probes.near_misses++, (probes.near_misses_vetoed += f.length > 0);
  if (c.expect === 'miss' && !f.length) process.stderr.write(`dev near miss not vetoed [${c.kind}]: ${c.query} ~ ${c.cached}\n`);
}
report.dev_probes = probes;
console.log(JSON.stringify(report, null, 1));
