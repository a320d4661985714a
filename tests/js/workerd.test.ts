// The wasm core inside the real workerd runtime (Miniflare from npm): modules imported as
// modules, no eval, no compiling wasm from bytes.
import { expect, it } from 'vitest';
import { workerMiniflare } from './miniflare.mjs';

it('runs the cache in workerd with the wasm imported as a module', async () => {
  const mf = workerMiniflare({ script: 'tests/js/fixtures/workerd-core.mjs' });
  try {
    const res = await mf.dispatchFetch('http://localhost/');
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toEqual({ hit: true, answer: '299,792 km/s', miss: false });
  } finally {
    await mf.dispose();
  }
});
