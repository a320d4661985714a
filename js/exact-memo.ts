// Exact repeats answered on the page (OpfsCacheOptions.exactOnPage): the OPFS cache lives in a
// worker, and the round trip to it (two thread wake-ups, ~1 ms after an idle moment) is most of
// an exact hit's time. The page keeps the answers of the entries it has put or exact-hit, keyed
// by scope and normalized prompt (the core's normalizePrompt: the worker's exact key), and
// answers a repeat from them without a message.
//
// Staying right: the worker announces every entry that leaves its core (deleted, replaced,
// evicted, expired, cleared) on a BroadcastChannel, numbered (`seq`) within the worker's life
// (`epoch`). An answer the page learns carries the seq the worker read before it looked the
// entry up, so an announcement that overtook it (another channel, no order between them) is
// found in the recent ones kept here and the answer is not learned. TTLs are checked against
// the entry's own expiry. This page's own delete/clear/put act on the memo at once; another
// tab's reach it one message later, as if that tab had acted a moment later.
import type { GetHit } from './api.js';

/** What a worker's reply says about the answer it carries (get: an exact hit; put). */
export interface MemoStamp {
  epoch: number;
  /** The worker's seq before the lookup or put: every removal after it has a larger one. */
  seq: number;
  /** The entry's expiry (Date.now() ms, 0: never). */
  expiresAt: number;
}

/** A removal announcement: ids gone from the core, or null (all of them). */
export interface MemoChange {
  epoch: number;
  seq: number;
  ids: number[] | null;
}

export interface ExactMemoLimits {
  /** Answers kept (least recently used go first). */
  maxEntries: number;
  /** Their prompts' and answers' size, in UTF-16 code units × 2. */
  maxBytes: number;
}

interface Memo {
  id: number;
  answer: string;
  matchedPrompt: string;
  metadata: unknown;
  expiresAt: number;
  bytes: number;
}

/** Announcements kept to check answers that arrive after them. */
const KEPT_CHANGES = 512;

export class ExactMemo {
  private readonly byKey = new Map<string, Memo>();
  private readonly keysById = new Map<number, string>();
  private bytes = 0;
  private epoch = -Infinity;
  /** Recent announcements of this epoch, by seq; `floor`: the seq below which none are kept. */
  private changes: MemoChange[] = [];
  private floor = 0;
  /** Bumped by reset(): replies to calls sent before it are not learned from. */
  generation = 0;

  constructor(
    private readonly limits: ExactMemoLimits,
    /** The worker's exact key of a prompt (its normalized form, or itself). */
    private readonly form: (prompt: string) => string,
    private readonly clock: () => number = Date.now,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  /** The memo's key of a prompt in a scope (its canonical key). */
  keyOf(scopeKey: string, prompt: string): string {
    return `${scopeKey}\u0000${this.form(prompt)}`;
  }

  /** The hit for a repeat, or undefined (not known, or expired). */
  get(key: string): GetHit | undefined {
    const m = this.byKey.get(key);
    if (!m) return undefined;
    if (m.expiresAt > 0 && m.expiresAt <= this.clock()) {
      this.drop(key);
      return undefined;
    }
    this.byKey.delete(key);  // most recently used last
    this.byKey.set(key, m);
    return {
      hit: true,
      id: m.id,
      answer: m.answer,
      similarity: 1,
      score: 1,
      matchedPrompt: m.matchedPrompt,
      exact: true,
      // a copy per hit, as a read from the store would be
      metadata: m.metadata === undefined ? undefined : structuredClone(m.metadata),
      candidates: [{ id: m.id, similarity: 1 }],
      timings: { embedMs: 0, searchMs: 0, storeMs: 0, totalMs: 0 },
      tier: 'local',
    };
  }

  /** Keeps an answer the worker vouched for, unless an announcement since its stamp removed it.
   * `generation`: this memo's when the call was sent. The memo keeps `hit.metadata` as given:
   * the caller passes a copy no one else holds. */
  learn(key: string, hit: { id: number; answer: string; matchedPrompt: string; metadata?: unknown }, stamp: MemoStamp, generation: number): void {
    if (generation !== this.generation || !this.current(stamp.epoch) || stamp.seq < this.floor) return;
    for (const c of this.changes) if (c.seq > stamp.seq && (c.ids === null || c.ids.includes(hit.id))) return;
    if (stamp.expiresAt > 0 && stamp.expiresAt <= this.clock()) return;
    const bytes = 2 * (key.length + hit.answer.length + hit.matchedPrompt.length);
    if (bytes > this.limits.maxBytes || this.limits.maxEntries < 1) return;
    this.drop(key);
    const old = this.keysById.get(hit.id);
    if (old !== undefined) this.drop(old);
    this.byKey.set(key, { id: hit.id, answer: hit.answer, matchedPrompt: hit.matchedPrompt, metadata: hit.metadata, expiresAt: stamp.expiresAt, bytes });
    this.keysById.set(hit.id, key);
    this.bytes += bytes;
    for (const k of this.byKey.keys()) {
      if (this.byKey.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.drop(k);
    }
  }

  /** A worker's announcement (or a stamp of a newer worker: everything known is dropped). */
  change(c: MemoChange): void {
    if (!this.current(c.epoch)) return;
    if (c.ids === null) this.clear();
    else for (const id of c.ids) this.forgetId(id);
    this.changes.push(c);
    if (this.changes.length > KEPT_CHANGES) this.floor = this.changes.shift()!.seq;
  }

  /** This page removed entries itself (delete, clear of a scope): gone now, not a message later. */
  forgetId(id: number): void {
    const key = this.keysById.get(id);
    if (key !== undefined) this.drop(key);
  }

  forgetKey(key: string): void {
    this.drop(key);
  }

  /** Every answer of one scope (its canonical key). */
  forgetScope(scopeKey: string): void {
    const prefix = `${scopeKey}\u0000`;
    for (const k of [...this.byKey.keys()]) if (k.startsWith(prefix)) this.drop(k);
  }

  /** Drops every answer; announcements are still needed to check replies in flight. */
  clear(): void {
    this.byKey.clear();
    this.keysById.clear();
    this.bytes = 0;
  }

  /** Drops every answer and every reply in flight: the page was frozen or restored from the
   * back/forward cache, and announcements may have been missed meanwhile. A call sent after
   * this looks up after them, so its stamp needs none of them. */
  reset(): void {
    this.clear();
    this.changes = [];
    this.floor = 0;
    this.generation++;
  }

  /** False for an older worker's epoch; a newer one starts over (its seq restarts). */
  private current(epoch: number): boolean {
    if (epoch < this.epoch) return false;
    if (epoch > this.epoch) {
      this.clear();
      this.changes = [];
      this.floor = 0;
      this.epoch = epoch;
    }
    return true;
  }

  private drop(key: string) {
    const m = this.byKey.get(key);
    if (!m) return;
    this.byKey.delete(key);
    if (this.keysById.get(m.id) === key) this.keysById.delete(m.id);
    this.bytes -= m.bytes;
  }
}
