// A core lookup's result as the caller gets it: the hit with its row (or none, when the row is
// gone or an exact key collided), and the candidates of any result. SemanticCache's lookups by
// meaning, exact and in one turn (a page's copy) all end here.
import type { GetHit, Timings } from './api.js';
import type { Embedding } from './embedding.js';
import type { CacheRow } from './store.js';
import type { CoreLookupResult } from './wasm/semcache_core.mjs';
import type { CoreRef, Writer } from './writer.js';

/** The hit of `r` with its row; undefined if the row is gone (the entry then leaves the core) or,
 * on the exact path (`prompt` given), the row's prompt has another form. */
export function hitOf(
  c: CoreRef,
  writer: Writer,
  embedding: Pick<Embedding, 'form'>,
  r: CoreLookupResult,
  row: CacheRow | undefined,
  prompt: string | undefined,
  timings: Timings,
  t0: number,
): GetHit | undefined {
  if (!row) {
    // The core and the store disagree (a row deleted elsewhere): trust the store.
    c.core.remove(r.id);
    writer.forget([r.id]);
    return undefined;
  }
  // a 64-bit hash collision (the key is of the normalized text: "HOW…?" finds "how…")
  if (prompt !== undefined && row.prompt !== prompt && embedding.form(row.prompt) !== embedding.form(prompt)) return undefined;
  writer.touch(r.id);
  timings.totalMs = performance.now() - t0;
  return {
    hit: true,
    id: r.id,
    answer: row.answer,
    similarity: r.similarity,
    score: r.score,
    matchedPrompt: row.prompt,
    exact: r.exact,
    metadata: row.metadata,
    candidates: candidatesOf(r),
    timings,
    tier: 'local',
  };
}

export function candidatesOf(r: CoreLookupResult): { id: number; similarity: number }[] {
  const out: { id: number; similarity: number }[] = [];
  for (let i = 0; i < r.candidateIds.length; i++) out.push({ id: r.candidateIds[i]!, similarity: r.candidateSimilarities[i]! });
  return out;
}
