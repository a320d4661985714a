// SemanticCache's options, checked and resolved in one place. The defaults of what the wasm core
// does (eviction, limits, evaluators, index parameters, the 0.9 threshold) are the core's own,
// read from CacheCore.defaults(); the JS layer's defaults are JS_DEFAULTS below. The core is then
// configured with every field set, so no default is applied anywhere else.
import type { SemanticCacheOptions, VerifierOptions } from './api.js';
import type { Embedder } from './embedder.js';
import { SemcacheError } from './errors.js';
import { scopeKey } from './scope.js';
import { DEFAULT_MAX_ANSWER_BYTES, DEFAULT_MAX_PROMPT_CHARS } from './validate.js';
import { checkVerifier } from './verifier.js';
import type { CoreConfig } from './wasm/semcache_core.mjs';

/** The defaults of the options that the JS layer applies (documented on SemanticCacheOptions). */
export const JS_DEFAULTS = {
  evaluator: 'cosine',
  ttl: 0,
  snapshotEvery: 1000,
  snapshotIntervalMs: 30_000,
  maxPromptChars: DEFAULT_MAX_PROMPT_CHARS,
  maxAnswerBytes: DEFAULT_MAX_ANSWER_BYTES,
  joinWaitMs: 60_000,
} as const;

export type Evaluator = NonNullable<SemanticCacheOptions['evaluator']>;

/** A cache that may hold more entries than this gets the wider graph below. */
export const LARGE_CACHE_ENTRIES = 250_000;
/** The graph degree (HNSW's M) of a large cache's scopes. */
export const LARGE_CACHE_M = 32;

/**
 * The graph degree a cache's scopes get when `index.M` is left out: the core's (16), or 32 for a
 * cache that may grow past 250,000 entries (`maxEntries` above it, or 0: no limit). Why: at
 * efSearch 40 on real sentences, M 16 finds the exact best match for 95-96% of new queries up to
 * 300k entries but for 94% at a million, where M 32 finds 96% (and a stored near duplicate for
 * 99.3% instead of 97.2%) at about the same search time, for 128 bytes more per entry and puts a
 * third slower (docs/benchmarks.md, "scale: the graph's degree follows maxEntries"). A small
 * cache keeps the narrower graph's memory and put time.
 */
export function graphDegreeFor(maxEntries: number, smallM: number): number {
  return maxEntries === 0 || maxEntries > LARGE_CACHE_ENTRIES ? Math.max(smallM, LARGE_CACHE_M) : smallM;
}

/** The graph degree of a cache opened with `o`: its `index.M`, else the rule above. */
export function graphDegreeOf(o: Pick<SemanticCacheOptions, 'index' | 'maxEntries'>, defaults: Required<CoreConfig>): number {
  return o.index?.M ?? graphDegreeFor(o.maxEntries ?? defaults.maxEntries, defaults.M);
}

export interface ResolvedOptions {
  /** Every field set: what the core is created with. */
  core: Required<CoreConfig>;
  evaluator: Evaluator;
  /** The cosine threshold lookups use when they pass none. */
  threshold: number;
  ttl: number;
  snapshotEvery: number;
  snapshotIntervalMs: number;
  maxPromptChars: number;
  maxAnswerBytes: number;
  joinWaitMs: number;
  defaultScope: string;
  clock: () => number;
  verifier?: VerifierOptions;
}

/** What can be checked before the core loads; the core refuses the rest (INVALID_ARGUMENT too). */
export function checkOptions(o: SemanticCacheOptions): void {
  for (const k of ['ttl', 'maxEntries', 'maxBytes', 'snapshotEvery', 'snapshotIntervalMs', 'maxFalseHitRate', 'maxPromptChars', 'maxAnswerBytes', 'joinWaitMs'] as const) {
    checkNumber(k, o[k], 0);
  }
  if (o.threshold !== undefined) checkThreshold(o.threshold);
  if (o.maxFalseHitRate !== undefined && o.maxFalseHitRate > 1) {
    throw new SemcacheError('INVALID_ARGUMENT', `maxFalseHitRate must be in [0, 1], got ${o.maxFalseHitRate}`);
  }
  checkVerifier(o.verifier);
}

/** The options with every default applied; `defaults` is the core's CacheCore.defaults(). */
export function resolveOptions(o: SemanticCacheOptions, embedder: Embedder, dimensions: number, defaults: Required<CoreConfig>): ResolvedOptions {
  checkOptions(o);
  const threshold = o.threshold ?? embedder.defaultThreshold ?? defaults.threshold;
  checkThreshold(threshold);
  const evaluator = o.evaluator ?? JS_DEFAULTS.evaluator;
  const core: Required<CoreConfig> = {
    ...defaults,
    dimensions,
    space: o.space ?? defaults.space,
    eviction: o.eviction ?? defaults.eviction,
    maxEntries: o.maxEntries ?? defaults.maxEntries,
    maxBytes: o.maxBytes ?? defaults.maxBytes,
    evictFraction: o.evictFraction ?? defaults.evictFraction,
    threshold,
    // 'learned' needs its model first: the core starts as 'cosine' and switches once the model is
    // loaded (js/evaluator-model.ts).
    evaluator: evaluator === 'learned' ? 'cosine' : evaluator,
    margin: o.margin ?? defaults.margin,
    maxFalseHitRate: o.maxFalseHitRate ?? defaults.maxFalseHitRate,
    candidates: o.candidates ?? defaults.candidates,
    // an exact repeat of the text the embedder sees needs no embedding
    normalizedKeys: o.normalize === false ? false : defaults.normalizedKeys,
    M: graphDegreeOf(o, defaults),
    efConstruction: o.index?.efConstruction ?? defaults.efConstruction,
    efSearch: o.index?.efSearch ?? defaults.efSearch,
    flatLimit: o.index?.flatLimit ?? defaults.flatLimit,
  };
  return {
    core,
    evaluator,
    threshold,
    ttl: o.ttl ?? JS_DEFAULTS.ttl,
    snapshotEvery: o.snapshotEvery ?? JS_DEFAULTS.snapshotEvery,
    snapshotIntervalMs: o.snapshotIntervalMs ?? JS_DEFAULTS.snapshotIntervalMs,
    maxPromptChars: o.maxPromptChars ?? JS_DEFAULTS.maxPromptChars,
    maxAnswerBytes: o.maxAnswerBytes ?? JS_DEFAULTS.maxAnswerBytes,
    joinWaitMs: o.joinWaitMs ?? JS_DEFAULTS.joinWaitMs,
    defaultScope: scopeKey(o.scope),
    clock: o.clock ?? Date.now,
    verifier: o.verifier,
  };
}

function checkThreshold(t: unknown) {
  if (typeof t !== 'number' || !(t >= -1 && t <= 1)) {
    throw new SemcacheError('INVALID_ARGUMENT', `threshold must be a cosine similarity in [-1, 1], got ${String(t)}`);
  }
}

export function checkNumber(name: string, v: unknown, min: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new SemcacheError('INVALID_ARGUMENT', `${name} must be a finite number >= ${min}, got ${String(v)}`);
  }
}
