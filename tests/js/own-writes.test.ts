// A page's record of its own writes to an OPFS cache (js/opfs-page-index.ts OwnWrites), on its
// own: the page's copy of the entries may answer only once it holds every batch those writes
// made, in this worker's life; writes in flight, a failed write and another worker's life hold it.
import { expect, it } from 'vitest';
import { OwnWrites } from '../../dist/opfs-page-index.js';

const reply = <T>(epoch: number, seq: number, value?: T) => Promise.resolve({ value, epoch, seq });

it('holds the copy while a write is in flight and until it has applied that write\'s batch', async () => {
  const own = new OwnWrites();
  expect(own.covers(5, 0)).toBe(true);  // nothing written yet
  let done!: (r: { value: undefined; epoch: number; seq: number }) => void;
  const p = own.track(new Promise<{ value: undefined; epoch: number; seq: number }>((r) => (done = r)));
  expect(own.clean).toBe(false);
  expect(own.covers(5, 100)).toBe(false);  // in flight: whatever the copy holds
  done({ value: undefined, epoch: 5, seq: 12 });
  await p;
  expect(own.clean).toBe(true);
  expect(own.covers(5, 11)).toBe(false);
  expect(own.covers(5, 12)).toBe(true);
  // the highest position wins, whatever order the replies come in
  await own.track(reply(5, 20));
  await own.track(reply(5, 15));
  expect(own.covers(5, 19)).toBe(false);
  expect(own.covers(5, 20)).toBe(true);
});

it('a failed write holds the copy until a reply to a call sent with no write pending', async () => {
  const own = new OwnWrites();
  await own.track(reply(5, 3));
  await expect(own.track(Promise.reject(new Error('QUOTA_EXCEEDED')))).rejects.toThrow('QUOTA');
  expect(own.covers(5, 1000)).toBe(false);
  own.saw({ epoch: 5, seq: 9 }, false);  // sent while a write was pending: says nothing
  expect(own.covers(5, 1000)).toBe(false);
  own.saw({ epoch: 5, seq: 9 }, true);
  expect(own.covers(5, 8)).toBe(false);
  expect(own.covers(5, 9)).toBe(true);
});

it('writes of an older worker life are in a newer life\'s copy; a newer life holds an older copy', async () => {
  const own = new OwnWrites();
  await own.track(reply(5, 40));
  // a new worker opened the store (seqs go on, or start again after a reset): its copy has them
  expect(own.covers(6, 2)).toBe(true);
  await own.track(reply(6, 3));
  expect(own.epoch).toBe(6);
  expect(own.covers(6, 2)).toBe(false);
  expect(own.covers(6, 3)).toBe(true);
  expect(own.covers(5, 1000)).toBe(false);  // a copy of the older life: made again first
  // a late reply of the older life changes nothing
  own.saw({ epoch: 5, seq: 99 }, true);
  expect(own.covers(6, 3)).toBe(true);
});
