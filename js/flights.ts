// Misses in flight: while the LLM answers a prompt that missed, a call whose prompt would hit
// that prompt (same scope, the cache's own evaluator deciding) waits for that answer instead of
// calling the LLM again. One registry per cache; the server, the edge shards, getOrCompute and
// the SDK adapters all go through it (cache.begin).
//
// A joined call sees the answer as it is produced (pieces, for streams) and then its end. It
// waits at most `waitMs` for each next piece or the end; past that, or when the first call fails,
// it is told so and calls the LLM itself. A flight nobody settles (a leader that died) stops
// being joined once it has been silent for `waitMs`.
import { SemcacheError } from './errors.js';
import type { GetResult } from './api.js';

/** How a flight ended: its answer (and the stored entry's id, when known), or why it has none. */
export type FlightEnd = { answer: string; metadata?: unknown; id: number | null } | { failed: string };

/** The pieces after the ones already seen, and the end once there is one. */
export interface FlightProgress {
  pieces: string[];
  end?: FlightEnd;
}

/** The first call of a burst: it calls the LLM and tells the others what came back. */
export interface Leader {
  /** Hands one more piece of the answer (a stream's delta) to the calls that joined. */
  piece(text: string): void;
  /** The complete answer: joined calls get it at once, then it is stored like put() (its
   * embedding is not computed again). Resolves with the stored entry's id. */
  done(answer: string, options?: { metadata?: unknown; ttl?: number }): Promise<{ id: number }>;
  /** No answer to share (the LLM failed, or answered with something not cached): the joined
   * calls call the LLM themselves. */
  fail(reason: string): void;
}

/** A call that joined a similar miss in flight. */
export interface Joined {
  /** Cosine similarity of this prompt to the one in flight. */
  readonly similarity: number;
  /** The prompt in flight. */
  readonly prompt: string;
  /** Pieces past the first `from`, and the end if it came: resolves as soon as there is
   * something new, or with `{failed}` after waitMs of silence. */
  next(from: number): Promise<FlightProgress>;
}

/** The answer of a joined flight (its end), pieces and all. */
export async function joinedAnswer(joined: Joined): Promise<FlightEnd> {
  for (let seen = 0; ; ) {
    const p = await joined.next(seen);
    seen += p.pieces.length;
    if (p.end) return p.end;
  }
}

/**
 * A joined call's answer piece by piece as the call in flight produces it (starting from `first`,
 * its first progress, when already read); a flight that was not streamed yields its whole
 * answer as one piece. Returns the answer's metadata; throws when the call in flight failed.
 */
export async function* joinedPieces(join: Joined, first?: FlightProgress): AsyncGenerator<string, unknown> {
  for (let p = first ?? (await join.next(0)), seen = 0; ; p = await join.next(seen)) {
    yield* p.pieces;
    seen += p.pieces.length;
    if (!p.end) continue;
    if ('failed' in p.end) throw new SemcacheError('UPSTREAM_FAILED', `the similar call this one joined failed: ${p.end.failed}`);
    if (seen === 0) yield p.end.answer;
    return p.end.metadata;
  }
}

/** joinedPieces with a callback: emits each piece, resolves with the answer's metadata. */
export async function followJoined(join: Joined, first: FlightProgress | undefined, emit: (piece: string) => void): Promise<unknown> {
  const pieces = joinedPieces(join, first);
  for (let r = await pieces.next(); ; r = await pieces.next()) {
    if (r.done) return r.value;
    emit(r.value);
  }
}

/** A leader with no registry behind it (joining turned off): `done` only stores. */
export function soloLeader(store: (answer: string, options: { metadata?: unknown; ttl?: number }) => Promise<{ id: number }>): Leader {
  return { piece() {}, done: (answer, options = {}) => store(answer, options), fail() {} };
}

/** Where pending prompts are looked up: an index deciding like the cache's own lookups. */
export interface PendingIndex {
  add(scope: string, prompt: string, vector: Float32Array): number;
  remove(id: number): void;
  /** The pending prompt that a lookup of this one would hit, if any. */
  match(scope: string, prompt: string, vector: Float32Array, threshold?: number): { id: number; similarity: number; score: number } | undefined;
}

class Flight {
  readonly pieces: string[] = [];
  end?: FlightEnd;
  private wake = new Set<() => void>();
  lastNews: number;

  constructor(
    readonly prompt: string,
    private readonly clock: () => number,
  ) {
    this.lastNews = clock();
  }

  push(piece: string) {
    if (this.end) return;
    this.pieces.push(piece);
    this.news();
  }

  settle(end: FlightEnd) {
    if (this.end) return;
    this.end = end;
    this.news();
  }

  private news() {
    this.lastNews = this.clock();
    for (const w of this.wake) w();
    this.wake.clear();
  }

  async next(from: number, waitMs: number): Promise<FlightProgress> {
    if (this.pieces.length <= from && !this.end) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.wake.add(resolve);
        timer = setTimeout(() => {
          this.wake.delete(resolve);
          resolve();
        }, waitMs);
      });
      clearTimeout(timer);
    }
    const pieces = this.pieces.slice(from);
    if (this.end) return { pieces, end: this.end };
    if (!pieces.length) return { pieces, end: { failed: `the similar call in flight sent nothing for ${waitMs} ms` } };
    return { pieces };
  }
}

export class Flights {
  private readonly byId = new Map<number, Flight>();
  /** Flights ended so far: a caller whose lookup ran before one ended may have missed its answer. */
  ended = 0;

  constructor(
    private readonly index: PendingIndex,
    /** The longest a joined call waits for news. */
    readonly waitMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Joins the flight this prompt would hit, if there is one that is still alive. */
  join(scope: string, prompt: string, vector: Float32Array, threshold?: number, accept: (score: number) => boolean = () => true): Joined | undefined {
    for (;;) {
      const m = this.index.match(scope, prompt, vector, threshold);
      if (!m) return undefined;
      const f = this.byId.get(m.id);
      if (!f) {
        this.index.remove(m.id);  // cannot happen unless a caller broke the pairing; heal it
        continue;
      }
      if (!f.end && this.clock() - f.lastNews > this.waitMs) {
        this.drop(m.id, f, { failed: 'the call in flight went silent' });
        continue;
      }
      if (!accept(m.score)) return undefined;
      return { similarity: m.similarity, prompt: f.prompt, next: (from) => f.next(from, this.waitMs) };
    }
  }

  /** Registers this prompt as in flight; `store` keeps the answer (put with the known vector). */
  lead(scope: string, prompt: string, vector: Float32Array, store: (answer: string, options: { metadata?: unknown; ttl?: number }) => Promise<{ id: number }>): Leader {
    const f = new Flight(prompt, this.clock);
    const id = this.index.add(scope, prompt, vector);
    this.byId.set(id, f);
    let closed = false;
    return {
      piece: (text) => f.push(text),
      done: async (answer, options = {}) => {
        if (closed) throw new Error('this flight has ended');
        closed = true;
        f.settle({ answer, metadata: options.metadata, id: null });
        try {
          // still joinable until stored: a call arriving now gets the answer, not a second LLM call
          return await store(answer, options);
        } finally {
          this.drop(id, f);
        }
      },
      fail: (reason) => {
        if (closed) return;
        closed = true;
        this.drop(id, f, { failed: reason });
      },
    };
  }

  /** Flights that have not ended (tests, stats). */
  get size(): number {
    return this.byId.size;
  }

  private drop(id: number, f: Flight, end?: FlightEnd) {
    if (end) f.settle(end);
    if (this.byId.get(id) === f) {
      this.byId.delete(id);
      this.index.remove(id);
      this.ended++;
    }
  }
}

type GetHit = Extract<GetResult, { hit: true }>;
type GetMiss = Extract<GetResult, { hit: false }>;

/** cache.begin's answer: a hit; or a miss that joined a similar one in flight (`join`), or that
 * is now in flight itself (`lead`: call the LLM, then `done` or `fail`). */
export type BeginResult = GetHit | (GetMiss & { lead: Leader; join?: undefined }) | (GetMiss & { join: Joined; lead?: undefined });
