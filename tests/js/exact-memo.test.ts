// The page's memo of exact repeats (js/exact-memo.ts) on its own: announcements that overtake a
// reply, workers of another life, a page frozen meanwhile, TTLs and the size limits.
import { expect, it } from 'vitest';
import { ExactMemo } from '../../dist/exact-memo.js';

const lower = (p: string) => p.toLowerCase();
const hit = (id: number, answer = `answer ${id}`) => ({ id, answer, matchedPrompt: `Prompt ${id}` });

function memo(limits = { maxEntries: 100, maxBytes: 1 << 20 }, clock = () => 1000) {
  return new ExactMemo(limits, lower, clock);
}

it('answers what it learned, under the normalized key and scope only, with a copy of the metadata', () => {
  const m = memo();
  const key = m.keyOf('{}', 'How Are You?');
  m.learn(key, { ...hit(1), metadata: { a: 1 } }, { epoch: 1, seq: 0, expiresAt: 0 }, m.generation);
  expect(m.keyOf('{}', 'how are you?')).toBe(key);
  const h = m.get(m.keyOf('{}', 'HOW ARE YOU?'))!;
  expect(h).toMatchObject({ hit: true, exact: true, id: 1, answer: 'answer 1', similarity: 1, score: 1, tier: 'local' });
  (h.metadata as { a: number }).a = 2;
  expect(m.get(key)!.metadata).toEqual({ a: 1 });
  expect(m.get(m.keyOf('{"namespace":"x"}', 'How Are You?'))).toBeUndefined();
});

it('does not learn an answer whose removal was announced before the reply arrived', () => {
  const m = memo();
  m.change({ epoch: 1, seq: 1, ids: [7] });  // overtook the reply stamped before it
  m.learn('k7', hit(7), { epoch: 1, seq: 0, expiresAt: 0 }, m.generation);
  expect(m.get('k7')).toBeUndefined();
  // a removal announced before the stamp was seen by that lookup: learned
  m.learn('k8', hit(8), { epoch: 1, seq: 1, expiresAt: 0 }, m.generation);
  expect(m.get('k8')?.id).toBe(8);
  // and one after it drops it
  m.change({ epoch: 1, seq: 2, ids: [8] });
  expect(m.get('k8')).toBeUndefined();
  // a clear (ids null) after the stamp: nothing from before it is learned
  m.change({ epoch: 1, seq: 3, ids: null });
  m.learn('k9', hit(9), { epoch: 1, seq: 2, expiresAt: 0 }, m.generation);
  expect(m.get('k9')).toBeUndefined();
});

it('cannot check a stamp older than the announcements it kept, so does not learn from it', () => {
  const m = memo();
  for (let s = 1; s <= 600; s++) m.change({ epoch: 1, seq: s, ids: [100000 + s] });
  m.learn('old', hit(1), { epoch: 1, seq: 10, expiresAt: 0 }, m.generation);
  expect(m.get('old')).toBeUndefined();
  m.learn('recent', hit(2), { epoch: 1, seq: 590, expiresAt: 0 }, m.generation);
  expect(m.get('recent')?.id).toBe(2);
});

it("a newer worker's epoch drops everything; an older one's messages are ignored", () => {
  const m = memo();
  m.learn('a', hit(1), { epoch: 5, seq: 3, expiresAt: 0 }, m.generation);
  m.change({ epoch: 6, seq: 1, ids: [42] });
  expect(m.get('a')).toBeUndefined();
  m.learn('b', hit(2), { epoch: 5, seq: 9, expiresAt: 0 }, m.generation);  // a reply from the old worker
  expect(m.get('b')).toBeUndefined();
  m.learn('c', hit(3), { epoch: 6, seq: 1, expiresAt: 0 }, m.generation);
  m.change({ epoch: 5, seq: 10, ids: [3] });  // ignored: another life's ids
  expect(m.get('c')?.id).toBe(3);
});

it('after reset (a frozen page), replies to calls sent before it are not learned', () => {
  const m = memo();
  m.learn('a', hit(1), { epoch: 1, seq: 0, expiresAt: 0 }, m.generation);
  const before = m.generation;
  m.reset();
  expect(m.get('a')).toBeUndefined();
  m.learn('b', hit(2), { epoch: 1, seq: 0, expiresAt: 0 }, before);
  expect(m.get('b')).toBeUndefined();
  m.learn('b', hit(2), { epoch: 1, seq: 0, expiresAt: 0 }, m.generation);
  expect(m.get('b')?.id).toBe(2);
});

it('expires entries by their own expiry time', () => {
  let now = 1000;
  const m = memo(undefined, () => now);
  m.learn('t', hit(1), { epoch: 1, seq: 0, expiresAt: 1500 }, m.generation);
  m.learn('late', hit(2), { epoch: 1, seq: 0, expiresAt: 900 }, m.generation);  // already expired
  expect(m.get('late')).toBeUndefined();
  expect(m.get('t')?.id).toBe(1);
  now = 1500;
  expect(m.get('t')).toBeUndefined();
  expect(m.size).toBe(0);
});

it('keeps at most maxEntries answers and maxBytes of text, least recently used first out', () => {
  const m = memo({ maxEntries: 2, maxBytes: 1 << 20 });
  const s = { epoch: 1, seq: 0, expiresAt: 0 };
  m.learn('a', hit(1), s, m.generation);
  m.learn('b', hit(2), s, m.generation);
  m.get('a');  // a is now the most recent
  m.learn('c', hit(3), s, m.generation);
  expect([m.get('a')?.id, m.get('b')?.id, m.get('c')?.id]).toEqual([1, undefined, 3]);
  const small = memo({ maxEntries: 100, maxBytes: 200 });
  small.learn('x', hit(1, 'y'.repeat(60)), s, small.generation);
  small.learn('z', hit(2, 'w'.repeat(60)), s, small.generation);  // 2 x ~150 bytes > 200
  expect([small.get('x')?.id, small.get('z')?.id]).toEqual([undefined, 2]);
  small.learn('huge', hit(3, 'h'.repeat(500)), s, small.generation);  // larger than the budget: never kept
  expect(small.get('huge')).toBeUndefined();
  expect(small.get('z')?.id).toBe(2);
});

it('one id has one key: an entry learned again under another key moves', () => {
  const m = memo();
  const s = { epoch: 1, seq: 0, expiresAt: 0 };
  m.learn('k1', hit(1), s, m.generation);
  m.learn('k2', hit(1), s, m.generation);
  expect(m.get('k1')).toBeUndefined();
  m.forgetId(1);
  expect(m.get('k2')).toBeUndefined();
  m.learn('{"namespace":"a"}\u0000q', hit(2), s, m.generation);
  m.learn('{"namespace":"b"}\u0000q', hit(3), s, m.generation);
  m.forgetScope('{"namespace":"a"}');
  expect([m.get('{"namespace":"a"}\u0000q')?.id, m.get('{"namespace":"b"}\u0000q')?.id]).toEqual([undefined, 3]);
});
