// Figures from the protocols' rows (bench/lib/quality-runs.mjs): each row holds the score of the
// query's best match, and a threshold t hits exactly when score >= t.
export const pct = (x) => Math.round(x * 1000) / 10;
const share = (rows, f) => (rows.length ? rows.filter(f).length / rows.length : 0);

/** QQP single-scope rows at threshold t: duplicates hit, non-duplicates hit (%). */
export function qqpAt(rows, t) {
  const dup = rows.filter((r) => r.label === 1), non = rows.filter((r) => r.label === 0);
  return { threshold: t, dup_hit: pct(share(dup, (r) => r.score >= t)), false_hit: pct(share(non, (r) => r.score >= t)) };
}

/** The threshold with the most duplicate hits among those letting at most maxFalse of the
 * non-duplicates hit, chosen on these rows themselves (an oracle threshold: say so). */
export function qqpAtFalseHitRate(rows, maxFalse) {
  const non = rows.filter((r) => r.label === 0).map((r) => r.score).sort((a, b) => b - a);
  const allowed = Math.floor(maxFalse * non.length);
  // strictly above the (allowed+1)-th highest non-duplicate score
  const t = allowed < non.length ? nextUp(non[allowed]) : -Infinity;
  return qqpAt(rows, t);
}

/** The smallest float32-ish step above x, so that score >= result means score > x. */
function nextUp(x) {
  return x + Math.max(Math.abs(x) * 1e-7, 1e-9);
}

/** P(score of a random duplicate > score of a random non-duplicate), ties half. */
export function auc(rows) {
  const pos = rows.filter((r) => r.label === 1).map((r) => r.score);
  const neg = rows.filter((r) => r.label === 0).map((r) => r.score).sort((a, b) => a - b);
  let s = 0;
  for (const p of pos) {
    let lo = 0, hi = neg.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (neg[m] < p) lo = m + 1;
      else hi = m;
    }
    let eq = lo;
    while (eq < neg.length && neg[eq] === p) eq++;
    s += lo + (eq - lo) / 2;
  }
  return Math.round((s / (pos.length * neg.length)) * 1000) / 1000;
}

/** Rows with `right` (mock_data, populated cache) at threshold t: right and wrong hits (%). */
export function rightWrongAt(rows, t) {
  return { threshold: t, right: pct(share(rows, (r) => r.score >= t && r.right)), wrong: pct(share(rows, (r) => r.score >= t && !r.right)) };
}

/** The threshold with the most right hits among those with at most `budget` wrong hits
 * (chosen on these rows: an oracle threshold). */
export function rightWrongAtBudget(rows, budget) {
  const sorted = rows.slice().sort((a, b) => b.score - a.score);
  let right = 0, wrong = 0, out = { right: 0, wrong: 0, threshold: Infinity };
  for (let i = 0; i < sorted.length; i++) {
    sorted[i].right ? right++ : wrong++;
    if (i + 1 < sorted.length && sorted[i + 1].score === sorted[i].score) continue;  // ties pass together
    if (wrong <= budget * rows.length && right > out.right) out = { right, wrong, threshold: sorted[i].score };
  }
  return { threshold: out.threshold, right: pct(out.right / rows.length), wrong: pct(out.wrong / rows.length) };
}

/** Probe rows at threshold t. */
export function probesAt(rows, t) {
  const hits = rows.filter((r) => r.expect === 'hit'), misses = rows.filter((r) => r.expect === 'miss');
  const rightHit = (r) => r.score >= t && r.own;
  const of = (kinds) => hits.filter((r) => kinds.includes(r.kind));
  const failed = [...hits.filter((r) => !rightHit(r)), ...misses.filter((r) => r.score >= t)];
  return {
    threshold: t,
    probes_hit: pct(share(hits, rightHit)),
    probes_case_punct_hit: pct(share(of(['case', 'punctuation']), rightHit)),
    probes_paraphrase_hit: pct(share(of(['paraphrase']), rightHit)),
    probes_false_hit: pct(share(misses, (r) => r.score >= t)),
    probes_wrong_hit: pct(share(hits, (r) => r.score >= t && !r.own)),
    cases: rows.length,
    failed: failed.map((r) => `${r.expect === 'hit' ? 'missed' : 'hit'} [${r.kind}] ${JSON.stringify(r.query)} ~ ${JSON.stringify(r.cached)} (${r.score.toFixed(3)})`),
  };
}
