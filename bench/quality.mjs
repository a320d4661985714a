#!/usr/bin/env node
// Hit quality of the bundled encoders and evaluators, on data no trainer read:
//  - QQP validation (bench/lib/quality-data.mjs: split by question components), two protocols:
//    one question per scope (GPTCache's), and all of the split's `a` questions in one populated
//    cache, where a hit on another question is wrong;
//  - GPTCache's mock_data (999 pairs, every origin in one scope);
//  - the project's probe set (tests/js/quality-probes.mjs).
// Settings (--settings, comma-separated; default all but the baselines):
//   use_lite_raw       the original USE lite, cosine at 0.95, prompts not normalized (main before this work)
//   use_lite           the original USE lite ('use-lite'), cosine at 0.95
//   tuned_cosine       the fine-tuned default model, cosine at its calibrated threshold
//   tuned_learned      the fine-tuned model + the learned evaluator at maxFalseHitRate 0.02
//   use_lite_learned   the original USE lite + a learned evaluator trained on it (--baseline-model FILE)
//   pair               the tuned model's top candidates decided by the pair model (tools/finetune-encoder)
// Thresholds: "at 5% / 2%" and "at <= 1% / 2% wrong" are oracle thresholds chosen on the
// reported rows themselves (the usual way to compare rankings); "default" is the setting a user
// gets, calibrated on the QQP calib part only. Embeddings are cached on disk (build/embed-cache).
// --probes dev: the development probe set (tools/evaluator-dev/dev-probes.mjs) instead of the
// held-out test set in tests/ (what features and operating points are tuned against).
//   node bench/quality.mjs [--settings a,b] [--limit N] [--probes test|dev] [--baseline-model FILE] [--evaluator-model FILE]
import fs from 'node:fs';
import { OnnxEmbedder, SemanticCache, USE_LITE_THRESHOLD } from 'semcache';
import { qqpSplit } from './lib/quality-data.mjs';
import { cachedEmbedder } from './lib/embed-cache.mjs';
import { runSingle, runPopulated, runMock, runProbes } from './lib/quality-runs.mjs';
import { auc, probesAt, qqpAt, qqpAtFalseHitRate, rightWrongAt, rightWrongAtBudget } from './lib/quality-metrics.mjs';
import { pairSetting } from './lib/quality-pair.mjs';
import { probeCases } from '../tests/js/quality-probes.mjs';
import { devProbeCases } from '../tools/evaluator-dev/dev-probes.mjs';

const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? process.argv[i + 1] : d;
};
const limit = Number(arg('--limit', '0')) || Infinity;
const wanted = arg('--settings', 'use_lite,tuned_cosine,tuned_learned,pair').split(',');
const log = (s) => process.stderr.write(`${s}\n`);
const probeSet = arg('--probes', 'test');
if (!['test', 'dev'].includes(probeSet)) throw new Error(`--probes must be test or dev, got '${probeSet}'`);
const probeSetCases = probeSet === 'dev' ? devProbeCases() : probeCases();
const t0 = performance.now();

const val = qqpSplit().val.slice(0, limit);
const needsTuned = wanted.some((w) => !w.startsWith('use_lite'));
const tuned = needsTuned ? await OnnxEmbedder.load() : null;
const embedders = { tuned: tuned && cachedEmbedder(tuned), original: cachedEmbedder(await OnnxEmbedder.load({ model: 'use-lite' })) };

/** The learned evaluator's probability threshold for a false-hit rate, as a cache computes it. */
async function learnedThreshold(embedder, extra, rate) {
  const c = await SemanticCache.open({ embedder, evaluator: 'learned', ...extra, maxFalseHitRate: rate });
  const t = (await c.stats()).evaluatorThreshold;
  await c.close();
  return t;
}

const SETTINGS = {
  use_lite_raw: async () => ({ embedder: embedders.original, extra: { normalize: false }, defaultThreshold: USE_LITE_THRESHOLD }),
  use_lite: async () => ({ embedder: embedders.original, extra: {}, defaultThreshold: USE_LITE_THRESHOLD }),
  tuned_cosine: async () => ({ embedder: embedders.tuned, extra: { evaluator: 'cosine' }, defaultThreshold: tuned.defaultThreshold }),
  tuned_learned: async () => {
    // --evaluator-model FILE: another evaluator model for the tuned encoder (training experiments)
    const model = arg('--evaluator-model') ? new Uint8Array(fs.readFileSync(arg('--evaluator-model'))) : tuned.defaultEvaluator?.evaluatorModel;
    const extra = { evaluator: 'learned', ...(model ? { evaluatorModel: model } : {}) };
    return { embedder: embedders.tuned, extra: { ...extra, maxFalseHitRate: 1 }, defaultThreshold: await learnedThreshold(embedders.tuned, extra, 0.02) };
  },
  use_lite_learned: async () => {
    const file = arg('--baseline-model');
    if (!file) throw new Error('use_lite_learned needs --baseline-model FILE (tools/train-evaluator.mjs --model use-lite --out FILE)');
    const extra = { evaluator: 'learned', evaluatorModel: new Uint8Array(fs.readFileSync(file)), normalize: false };
    return { embedder: embedders.original, extra: { ...extra, maxFalseHitRate: 1 }, defaultThreshold: await learnedThreshold(embedders.original, extra, 0.02) };
  },
  pair: () => pairSetting(embedders.tuned, tuned),
};

async function measure(name) {
  const ts = performance.now();
  const s = await SETTINGS[name]();
  const rescore = s.rescore ?? (async (rows) => rows);
  const single = await rescore(await runSingle(s.embedder, val, s.extra));
  const populated = await runPopulated(s.embedder, val, s.extra);
  const pop = await rescore(populated.rows);
  const mock = await rescore(await runMock(s.embedder, s.extra));
  const probes = await rescore(await runProbes(s.embedder, s.extra, probeSetCases));
  const at5 = qqpAtFalseHitRate(single, 0.05), at2 = qqpAtFalseHitRate(single, 0.02);
  const t = s.defaultThreshold;
  const out = {
    qqp_val: { pairs: single.length, dup_hit_at_5pct: at5.dup_hit, dup_hit_at_2pct: at2.dup_hit, auc: auc(single), threshold_at_5pct: at5.threshold, threshold_at_2pct: at2.threshold, at_default: qqpAt(single, t) },
    populated: { entries: populated.entries, queries: pop.length, at_default: rightWrongAt(pop, t), at_qqp_5pct: rightWrongAt(pop, at5.threshold), at_qqp_2pct: rightWrongAt(pop, at2.threshold), best_at_2pct_wrong: rightWrongAtBudget(pop, 0.02) },
    mock: { pairs: mock.length, at_default: rightWrongAt(mock, t), at_1pct_wrong: rightWrongAtBudget(mock, 0.01), at_2pct_wrong: rightWrongAtBudget(mock, 0.02) },
    probes: probesAt(probes, t),
    seconds: Math.round((performance.now() - ts) / 1000),
  };
  const q = out.qqp_val, p = out.populated, m = out.mock, pr = out.probes;
  log(`\n${name} (default threshold ${t}, ${out.seconds} s)`);
  log(`  QQP val, one question per scope (${q.pairs} pairs): duplicates hit ${q.dup_hit_at_5pct}% at 5% false hits, ${q.dup_hit_at_2pct}% at 2%; AUC ${q.auc}; default: ${q.at_default.dup_hit}% duplicates, ${q.at_default.false_hit}% false hits`);
  log(`  QQP val, populated cache (${p.entries} questions, ${p.queries} duplicate queries): default ${p.at_default.right}% right, ${p.at_default.wrong}% wrong; at the 5% threshold ${p.at_qqp_5pct.right}% / ${p.at_qqp_5pct.wrong}%; at 2% ${p.at_qqp_2pct.right}% / ${p.at_qqp_2pct.wrong}%`);
  log(`  mock_data: default ${m.at_default.right}% right, ${m.at_default.wrong}% wrong; best at <= 1% wrong ${m.at_1pct_wrong.right}% (${m.at_1pct_wrong.wrong}%), at <= 2% ${m.at_2pct_wrong.right}% (${m.at_2pct_wrong.wrong}%)`);
  log(`  probes (${pr.cases}): rewordings hit ${pr.probes_hit}% (case/punctuation ${pr.probes_case_punct_hit}%, paraphrases ${pr.probes_paraphrase_hit}%), near misses hit ${pr.probes_false_hit}%, rewordings hitting another question ${pr.probes_wrong_hit}%`);
  for (const f of pr.failed) log(`    ${f}`);
  return out;
}

const results = {};
for (const name of wanted) {
  if (!SETTINGS[name]) throw new Error(`unknown setting '${name}' (${Object.keys(SETTINGS).join(', ')})`);
  results[name] = await measure(name);
}

// The default pipeline: what SemanticCache.open({ embedder: await OnnxEmbedder.load() }) runs.
const defaultName = tuned?.defaultEvaluator ? 'tuned_learned' : 'tuned_cosine';
const d = results[defaultName];
const summary = d && {
  setting: defaultName,
  qqp_val_dup_hit_at_5pct: d.qqp_val.dup_hit_at_5pct,
  qqp_val_dup_hit_at_2pct: d.qqp_val.dup_hit_at_2pct,
  auc: d.qqp_val.auc,
  default_false_hit: d.qqp_val.at_default.false_hit,
  default_dup_hit: d.qqp_val.at_default.dup_hit,
  populated_right_at_default: d.populated.at_default.right,
  populated_wrong_at_default: d.populated.at_default.wrong,
  mock_right_at_default: d.mock.at_default.right,
  mock_wrong_at_default: d.mock.at_default.wrong,
  probes_hit: d.probes.probes_hit,
  probes_case_punct_hit: d.probes.probes_case_punct_hit,
  probes_paraphrase_hit: d.probes.probes_paraphrase_hit,
  probes_false_hit: d.probes.probes_false_hit,
};
for (const r of Object.values(results)) delete r.probes.failed;
log(`\n${((performance.now() - t0) / 1000).toFixed(0)} s in all`);
console.log(JSON.stringify({ qqp_val_pairs: val.length, probe_set: probeSet, settings: results, tuned: summary }));
