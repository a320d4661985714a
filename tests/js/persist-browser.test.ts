// The OPFS store in real Chromium: entries survive a reload, two tabs share one cache (one owns
// the worker, the other is routed to it, hand-over on close), and a worker killed mid-burst
// leaves an intact database holding every acknowledged put.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fixturePage, launchChromium, offLocalhost, serveStatic } from './serve.js';

let server: Awaited<ReturnType<typeof serveStatic>>;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let profile: string;

beforeAll(async () => {
  server = await serveStatic();
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-opfs-'));
  browser = await launchChromium(profile);
});

afterAll(async () => {
  await browser?.context.close();
  await server?.close();
  fs.rmSync(profile, { recursive: true, force: true });
});

async function newPage(): Promise<Page> {
  const errors: string[] = [];
  return fixturePage(browser.context, server.url, 'tests/js/fixtures/persist-page.html', (page) => page.on('pageerror', (e) => errors.push(String(e))));
}

// Inside page.evaluate the page's globals are untyped.
type W = Record<string, any>;  // eslint-disable-line @typescript-eslint/no-explicit-any

it('entries survive a page reload', async () => {
  const page = await newPage();
  const first = await page.evaluate(async () => {
    const w = window as unknown as W;
    const c = await w.openCache('reload');
    const puts = [];
    for (let i = 0; i < 200; i++) puts.push(c.put(`reload question ${i} about subject ${i}`, `answer ${i}`, { metadata: { i } }));
    await Promise.all(puts);
    // the same words, not the same text: embedded and searched (an exact repeat is answered on the page)
    const hit = await c.get('reload question 17, about subject 17');
    w.cache = c;
    return { owner: c.isOwner, hit, stats: await c.stats() };
  });
  expect(first.owner).toBe(true);
  expect(first.hit).toMatchObject({ hit: true, answer: 'answer 17' });
  expect(first.stats).toMatchObject({ entries: 200, store: 'opfs' });
  // the page embeds (200 puts + 1 get) and says so in the stats and the get's timings
  expect(first.stats.embedCalls).toBe(201);
  expect(first.stats.time.embedMs).toBeGreaterThan(0);
  expect(first.hit.timings.totalMs).toBeGreaterThanOrEqual(first.hit.timings.embedMs);
  expect(typeof first.hit.timings.embedMs).toBe("number");
  // No close(): the reload kills the worker, as closing the tab would.
  await page.reload();
  await page.waitForFunction(() => (window as unknown as W).ready === true);
  const again = await page.evaluate(async () => {
    const c = await (window as unknown as W).openCache('reload');
    const answers = [];
    for (let i = 0; i < 200; i += 7) {
      const r = await c.get(`reload question ${i} about subject ${i}`);
      answers.push(r.hit && r.exact ? r.answer : null);
    }
    const para = await c.get('reload question 17 about subject 17?');
    const out: W = { answers, para, stats: await c.stats(), integrity: await c.integrityCheck() };
    out.computed = await c.getOrCompute('a question nobody asked before', () => 'computed here');
    out.cached = await c.getOrCompute('a question nobody asked before', () => 'never called');
    await c.close();
    return out;
  });
  expect(again.answers).toEqual(Array.from({ length: 29 }, (_, k) => `answer ${k * 7}`));
  expect(again.para).toMatchObject({ hit: true, answer: 'answer 17', metadata: { i: 17 } });
  expect(again.stats.entries).toBe(200);
  expect(again.computed).toMatchObject({ hit: false, answer: 'computed here' });
  expect(again.computed.id).toBeGreaterThan(0);
  expect(again.cached).toMatchObject({ hit: true, answer: 'computed here', id: again.computed.id });
  expect(again.integrity).toBe('ok');
  await page.close();
  expect(offLocalhost(browser.requests)).toEqual([]);
});

it('two tabs write and read at once, the owner hands over on close, nothing is lost', async () => {
  const [a, b] = [await newPage(), await newPage()];
  const openIn = (p: Page) => p.evaluate(async () => {
    const w = window as unknown as W;
    w.cache = await w.openCache('tabs');
    return w.cache.isOwner as boolean;
  });
  expect(await openIn(a)).toBe(true);
  expect(await openIn(b)).toBe(false);
  const burst = (p: Page, tag: string, from: number, to: number) =>
    p.evaluate(async ([tag, from, to]) => {
      const c = (window as unknown as W).cache;
      const acked: number[] = [];
      const puts = [];
      for (let i = from as number; i < (to as number); i++) {
        puts.push(c.put(`tab ${tag} question ${i} topic ${tag}${i}`, `${tag}-${i}`).then(() => acked.push(i)));
      }
      await Promise.all(puts);
      return acked.length;
    }, [tag, from, to] as const);
  // Both tabs write at the same time.
  const [na, nb] = await Promise.all([burst(a, 'a', 0, 150), burst(b, 'b', 0, 150)]);
  expect([na, nb]).toEqual([150, 150]);
  // Each reads the other's entries.
  const read = (p: Page, tag: string) => p.evaluate(async (tag) => {
    const c = (window as unknown as W).cache;
    const out = [];
    for (let i = 0; i < 150; i += 10) {
      const r = await c.get(`tab ${tag} question ${i} topic ${tag}${i}`);
      out.push(r.hit ? r.answer : null);
    }
    return out;
  }, tag);
  expect(await read(a, 'b')).toEqual(Array.from({ length: 15 }, (_, k) => `b-${k * 10}`));
  expect(await read(b, 'a')).toEqual(Array.from({ length: 15 }, (_, k) => `a-${k * 10}`));
  // The owner leaves while the other tab keeps writing: its calls move to its own new worker.
  const during = burst(b, 'b', 150, 300);
  await a.evaluate(() => (window as unknown as W).cache.close());
  expect(await during).toBe(150);
  // The lock reaches b some time after a's close() returns (it may have acked all of b's puts
  // itself). With a gone, only b's own worker can answer these calls, so b owns once they return.
  const after = await b.evaluate(async () => {
    const c = (window as unknown as W).cache;
    const out = { stats: await c.stats(), rows: await c.rowCount(), integrity: await c.integrityCheck() };
    return { ...out, owner: c.isOwner };
  });
  expect(after.owner).toBe(true);
  expect(after.stats.entries).toBe(450);
  expect(after.rows).toBe(450);
  expect(after.integrity).toBe('ok');
  // A third tab joins as a client of the new owner and sees everything.
  const c = await newPage();
  expect(await openIn(c)).toBe(false);
  expect(await read(c, 'a')).toEqual(Array.from({ length: 15 }, (_, k) => `a-${k * 10}`));
  const last = await c.evaluate(async () => (await (window as unknown as W).cache.get('tab b question 299 topic b299')).answer);
  expect(last).toBe('b-299');
  await c.evaluate(() => (window as unknown as W).cache.close());
  await b.evaluate(() => (window as unknown as W).cache.close());
  await Promise.all([a.close(), b.close(), c.close()]);
});

it('a verifier runs on the calling page: inside its band it decides, late or throwing it is a miss, in any tab', async () => {
  const [a, b] = [await newPage(), await newPage()];
  // Each page's verifier answers what window.verdict says: 'yes', 'no', 'slow' (yes, too late) or 'throw'.
  const open = (p: Page) =>
    p.evaluate(async () => {
      const w = window as unknown as W;
      w.calls = [];
      w.verdict = 'yes';
      w.cache = await w.openCache('verifier', {
        verifier: {
          fn: async (q: string, cached: string, answer: string, o: { signal: AbortSignal }) => {
            w.calls.push([q, cached, answer, o.signal instanceof AbortSignal]);
            if (w.verdict === 'throw') throw new Error('judge down');
            if (w.verdict === 'slow') await new Promise((r) => setTimeout(r, 600));
            return w.verdict !== 'no';
          },
          band: [0.5, 0.99],
          timeoutMs: 150,
          onVerifierError: (e: Error) => w.calls.push(['error', e.message]),
        },
      });
      return w.cache.isOwner as boolean;
    });
  expect(await open(a)).toBe(true);
  const q = 'how do I reset my router password please';
  const ra = await a.evaluate(async (q) => {
    const w = window as unknown as W;
    const c = w.cache;
    await c.put('how do I reset my router password', 'Hold reset for 10 s.');
    const out: W = { yes: await c.get(q) };
    for (const v of ['no', 'slow', 'throw']) {
      w.verdict = v;
      out[v] = await c.get(q);
    }
    w.verdict = 'yes';
    out.exact = await c.get('how do I reset my router password');
    out.computed = await c.getOrCompute(q, () => 'computed');
    return { ...out, calls: w.calls, stats: await c.stats() };
  }, q);
  expect(ra.yes).toMatchObject({ hit: true, verified: true, answer: 'Hold reset for 10 s.' });
  expect(ra.no).toMatchObject({ hit: false, verified: true });
  expect(ra.slow.hit).toBe(false);
  expect(ra.throw.hit).toBe(false);
  expect(ra.exact).toMatchObject({ hit: true, exact: true });  // score 1: outside the band, not asked
  expect(ra.computed).toMatchObject({ hit: true, answer: 'Hold reset for 10 s.' });
  expect(ra.calls).toEqual([
    ...Array.from({ length: 4 }, () => [q, 'how do I reset my router password', 'Hold reset for 10 s.', true]),
    ['error', 'judge down'],
    [q, 'how do I reset my router password', 'Hold reset for 10 s.', true],
  ]);
  expect(ra.stats).toMatchObject({ verifierCalls: 5, verifierTimeouts: 1, verifierErrors: 1 });
  // Another tab's lookups run in the owner's worker, and its own verifier is the one asked.
  expect(await open(b)).toBe(false);
  const rb = await b.evaluate(async (q) => {
    const w = window as unknown as W;
    const yes = await w.cache.get(q);
    w.verdict = 'no';
    return { yes, no: await w.cache.get(q), calls: w.calls.length };
  }, q);
  expect(rb).toMatchObject({ yes: { hit: true, verified: true }, no: { hit: false, verified: true }, calls: 2 });
  expect(await a.evaluate(() => (window as unknown as W).calls.length)).toBe(6);
  await b.evaluate(() => (window as unknown as W).cache.close());
  await a.evaluate(() => (window as unknown as W).cache.close());
  await Promise.all([a.close(), b.close()]);
});

it('a worker terminated mid-burst: the database is intact and every acknowledged put is there', async () => {
  const page = await newPage();
  const r = await page.evaluate(async () => {
    const w = window as unknown as W;
    const c = await w.openCache('crash');
    const acked: number[] = [];
    const failed: string[] = [];
    let killed = false;
    let next = 0;
    const lane = async () => {
      while (next < 3000 && !killed) {
        const i = next++;
        try {
          await c.put(`crash question ${i} about ${i}`, `crash answer ${i}`);
          acked.push(i);
          if (acked.length === 400 && !killed) {
            killed = true;
            c.terminateWorker();
          }
        } catch (e) {
          failed.push((e as { code: string }).code);
        }
      }
    };
    await Promise.all(Array.from({ length: 24 }, lane));
    await c.close();
    const d = await w.openCache('crash');
    const missing = [];
    for (const i of acked) {
      const g = await d.get(`crash question ${i} about ${i}`);
      if (!(g.hit && g.exact && g.answer === `crash answer ${i}`)) missing.push(i);
    }
    const out = { acked: acked.length, failed: [...new Set(failed)], nFailed: failed.length, missing, integrity: await d.integrityCheck(), rows: await d.rowCount(), entries: (await d.stats()).entries };
    await d.close();
    return out;
  });
  expect(r.acked).toBeGreaterThanOrEqual(400);
  expect(r.nFailed).toBeGreaterThan(0);  // puts in flight when the worker died were rejected
  expect(r.failed).toEqual(['WORKER_DIED']);
  expect(r.integrity).toBe('ok');
  expect(r.missing).toEqual([]);
  expect(r.rows).toBeGreaterThanOrEqual(r.acked);
  expect(r.entries).toBe(r.rows);
  await page.close();
});

it('origin quota exceeded: evicts and retries, then a clear QUOTA_EXCEEDED', async () => {
  const page = await newPage();
  const cdp = await browser.context.newCDPSession(page);
  const usage = await page.evaluate(async () => (await navigator.storage.estimate()).usage ?? 0);
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: usage + 8 * 1024 * 1024 });
  try {
    const r = await page.evaluate(async () => {
      const c = await (window as unknown as W).openCache('quota', { snapshotEvery: 0, snapshotIntervalMs: 0 });
      const pad = 'q'.repeat(8000);
      for (let g = 0; g < 1500; g += 25) {
        await Promise.all(Array.from({ length: 25 }, (_, k) => c.put(`quota question ${g + k}`, `${g + k} ${pad}`)));
      }
      const s = await c.stats();
      const last = await c.get('quota question 1499');
      let code = 'ok';
      let message = '';
      try {
        await c.put('bigger than the quota', 'z'.repeat(7 * 1024 * 1024));
      } catch (e) {
        code = (e as { code: string }).code;
        message = (e as Error).message;
      }
      const out = { entries: s.entries, evictions: s.evictions, last: last.hit, code, message, integrity: await c.integrityCheck(), after: (await c.get('quota question 1499')).hit };
      await c.close();
      return out;
    });
    expect(r.code, r.message).toBe('QUOTA_EXCEEDED');
    expect(r.entries).toBeLessThan(1500);
    expect(r.evictions).toBeGreaterThan(0);
    expect(r.last).toBe(true);
    expect(r.after).toBe(true);
    expect(r.integrity).toBe('ok');
  } finally {
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url });
    await page.close();
  }
});

it('feedback offsets persist on OPFS: close and reopen, and a killed worker after a snapshot', async () => {
  const page = await newPage();
  const r = await page.evaluate(async () => {
    const w = window as unknown as W;
    const A = 'how do I reset my router password', B = 'what is the boiling point of water at sea level';
    const para = (q: string) => `${q} please`;
    const opts = { snapshotEvery: 0, snapshotIntervalMs: 0 };
    const out: Record<string, unknown> = {};
    const c1 = await w.openCache('feedback', opts);
    const a = await c1.put(A, 'Hold reset for 10 s.');
    await c1.put(B, '100 degrees Celsius.');
    for (let i = 0; i < 20; i++) await c1.put(`filler question number ${i} about gardens`, `f${i}`);
    out.before = (await c1.get(para(A))).hit;
    out.offset = (await c1.feedback(a.id, { correct: false })).thresholdOffset;
    out.after = (await c1.get(para(A))).hit;
    await c1.close();
    const c2 = await w.openCache('feedback', opts);
    out.snapshotA = (await c2.get(para(A))).hit;
    const hitB = await c2.get(para(B));
    out.hitB = hitB.hit;
    await c2.feedback(hitB.id, { correct: false });
    c2.terminateWorker();  // a crash: the snapshot on disk predates B's feedback
    await c2.close();
    const c3 = await w.openCache('feedback', opts);
    out.replay = [(await c3.get(para(A))).hit, (await c3.get(para(B))).hit, (await c3.get(B)).hit];
    out.integrity = await c3.integrityCheck();
    await c3.close();
    return out;
  });
  expect(r).toMatchObject({ before: true, after: false, snapshotA: false, hitB: true, replay: [false, false, true], integrity: 'ok' });
  expect(r.offset).toBeGreaterThanOrEqual(0.05);
  await page.close();
});

it('the index snapshot is one plain OPFS file per cache, replaced by the next, and rebuilt from the rows when damaged', async () => {
  const page = await newPage();
  const r = await page.evaluate(async () => {
    const w = window as unknown as W;
    const opts = { snapshotEvery: 0, snapshotIntervalMs: 0 };
    const Q = 'question number 7 about rivers and lakes';
    const snapshots = async () => {
      const d = await (await navigator.storage.getDirectory()).getDirectoryHandle('.semcache-snapfile-snapshots');
      const out: [string, number][] = [];
      for await (const [name, h] of (d as any).entries()) out.push([name, (await (h as FileSystemFileHandle).getFile()).size]);
      return { d, files: out.sort() };
    };
    const probe = async (c: any) => [(await c.stats()).entries, (await c.get(Q)).hit, (await c.get(`${Q} please`)).hit];
    const c1 = await w.openCache('snapfile', opts);
    for (let i = 0; i < 40; i++) await c1.put(`question number ${i} about rivers and lakes`, `answer ${i}`);
    await c1.flush();
    const first = (await snapshots()).files;
    await c1.put('one more question about mountains', 'a mountain answer');
    await c1.flush();
    const second = (await snapshots()).files;
    await c1.close();
    const c2 = await w.openCache('snapfile', opts);
    const loaded = await probe(c2);
    await c2.close();
    // garbage of the same length: the core's checksum refuses it, the rows rebuild the index
    const { d, files } = await snapshots();
    const out = await (await d.getFileHandle(files[0]![0])).createWritable();
    await out.write(new Uint8Array(files[0]![1]).fill(7));
    await out.close();
    const c3 = await w.openCache('snapfile', opts);
    const rebuilt = await probe(c3);
    await c3.close();
    return { first, second, loaded, rebuilt };
  });
  expect(r.first).toHaveLength(1);
  expect(r.first[0]![1]).toBeGreaterThan(1000);
  expect(r.second).toHaveLength(1);
  expect(r.second[0]![0]).not.toBe(r.first[0]![0]);
  expect(r.loaded).toEqual([41, true, true]);
  expect(r.rebuilt).toEqual([41, true, true]);
  await page.close();
});
