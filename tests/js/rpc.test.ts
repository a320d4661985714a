// js/rpc.ts over a real MessageChannel: results, coded errors, transferred buffers, and pending
// calls rejected when the other side is gone.
import { MessageChannel } from 'node:worker_threads';
import { expect, it } from 'vitest';
import { SemcacheError } from 'semcache';
import { RpcClient, serveRpc, type RpcPort } from '../../dist/rpc.js';

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
