// js/rpc.ts over a real MessageChannel: results, coded errors, transferred buffers, and pending
// calls rejected when the other side is gone.
import { MessageChannel } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { SemcacheError } from 'semcache';
import { RpcClient, serveRpc, type RpcContext, type RpcPort } from '../../dist/rpc.js';

function pair() {
  const { port1, port2 } = new MessageChannel();
  return { server: port1 as unknown as RpcPort, client: port2 as unknown as RpcPort, close: () => (port1.close(), port2.close()) };
}

it('answers calls, re-creates coded errors and transfers buffers', async () => {
  const { server, client, close } = pair();
  let never: () => void = () => {};
  serveRpc(server, {
    add: (a: number, b: number) => a + b,
    sum: (v: Float32Array) => v.reduce((s, x) => s + x, 0),
    fail: () => {
      throw new SemcacheError('STORE_FAILED', 'disk on fire');
    },
    hang: () => new Promise<void>((r) => (never = r)),
  });
  (server as unknown as { start(): void }).start();
  const rpc = new RpcClient(client);
  (client as unknown as { start(): void }).start();
  expect(await rpc.call('add', [2, 3])).toBe(5);
  const v = Float32Array.from([1, 2, 3.5]);
  expect(await rpc.call('sum', [v])).toBe(6.5);
  expect(v.byteLength).toBe(0);  // transferred, not copied
  const err = await rpc.call('fail').catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SemcacheError);
  expect(err).toMatchObject({ code: 'STORE_FAILED', message: 'disk on fire' });
  await expect(rpc.call('nope')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  // The other side dies with calls pending: they are rejected, and so is every later call.
  const pending = [rpc.call('hang'), rpc.call('hang')];
  await new Promise((r) => setTimeout(r, 20));
  expect(rpc.pendingCalls).toBe(2);
  rpc.fail(new SemcacheError('WORKER_DIED', 'the worker was terminated'));
  for (const p of pending) await expect(p).rejects.toMatchObject({ code: 'WORKER_DIED' });
  await expect(rpc.call('add', [1, 1])).rejects.toMatchObject({ code: 'WORKER_DIED' });
  never();
  close();
});

it('streams events before the result and cancels a handler through the caller\'s AbortSignal', async () => {
  const { server, client, close } = pair();
  let cancelledWith: unknown;
  serveRpc(server, {
    async count(this: RpcContext, n: number) {
      for (let i = 0; i < n; i++) {
        if (this.signal.aborted) {
          cancelledWith = this.signal.reason;
          throw new SemcacheError('ABORTED', `stopped at ${i}`);
        }
        this.emit({ i });
        await new Promise((r) => setTimeout(r, 2));
      }
      return `counted ${n}`;
    },
    async finishesAnyway(this: RpcContext) {
      await new Promise((r) => setTimeout(r, 20));
      return this.signal.aborted ? 'saw the cancel' : 'no cancel';
    },
  });
  (server as unknown as { start(): void }).start();
  const rpc = new RpcClient(client);
  (client as unknown as { start(): void }).start();

  const seen: unknown[] = [];
  expect(await rpc.call('count', [5], { onEvent: (e) => seen.push(e) })).toBe('counted 5');
  expect(seen).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));

  const ctl = new AbortController();
  const got: number[] = [];
  const stopped = rpc.call('count', [1000], {
    signal: ctl.signal,
    onEvent: (e) => {
      got.push((e as { i: number }).i);
      if (got.length === 3) ctl.abort();
    },
  });
  await expect(stopped).rejects.toMatchObject({ name: 'SemcacheError', code: 'ABORTED' });
  expect(cancelledWith).toMatchObject({ code: 'ABORTED' });  // the handler's signal fired
  expect(got).toEqual([0, 1, 2]);  // no event is delivered after the abort
  expect(rpc.pendingCalls).toBe(0);

  // an aborted call rejects even when the handler ends normally; a signal aborted before the
  // call never reaches the worker
  const ctl2 = new AbortController();
  const late = rpc.call('finishesAnyway', [], { signal: ctl2.signal });
  ctl2.abort();
  await expect(late).rejects.toMatchObject({ code: 'ABORTED' });
  await expect(rpc.call('count', [1], { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'ABORTED' });
  expect(await rpc.call('count', [2])).toBe('counted 2');  // still serving
  close();
});

it('keeps a call whose serving side went away pending until resend() hands it to the successor', async () => {
  const { server, client, close } = pair();
  let owner = 'leaving';
  const seen: string[] = [];
  serveRpc(server, {
    work(n: number) {
      seen.push(owner);
      if (owner === 'leaving') throw new SemcacheError('CLOSED', 'the owner left');
      return n * 2;
    },
    gone: () => {
      throw new SemcacheError('WORKER_DIED', 'gone for good');
    },
    fail: () => {
      throw new SemcacheError('STORE_FAILED', 'disk on fire');
    },
  });
  (server as unknown as { start(): void }).start();
  const rpc = new RpcClient(client, { retryOn: ['CLOSED', 'WORKER_DIED'], maxRetries: 1 });
  (client as unknown as { start(): void }).start();
  const call = rpc.call('work', [21]);
  await new Promise((r) => setTimeout(r, 30));
  expect(seen).toEqual(['leaving']);
  expect(rpc.pendingCalls).toBe(1);  // answered CLOSED, still waiting
  owner = 'next';
  rpc.resend();
  expect(await call).toBe(42);
  expect(seen).toEqual(['leaving', 'next']);
  // other codes reject at once; a retryable one rejects once maxRetries are spent
  await expect(rpc.call('fail')).rejects.toMatchObject({ code: 'STORE_FAILED' });
  const gone = rpc.call('gone');
  await new Promise((r) => setTimeout(r, 30));
  rpc.resend();
  await expect(gone).rejects.toMatchObject({ code: 'WORKER_DIED', message: 'gone for good' });
  close();
});
