// The wasm core inside the real workerd runtime (Miniflare from npm): modules imported as
// modules, no eval, no compiling wasm from bytes.
import path from 'node:path';
import { Miniflare } from 'miniflare';
import { expect, it } from 'vitest';
import { root } from './helpers.js';

it('runs the cache in workerd with the wasm imported as a module', async () => {
  const mf = new Miniflare({
    modules: true,
    scriptPath: path.join(root, 'tests/js/fixtures/workerd-core.mjs'),
    modulesRoot: root,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-01-01',
  });
  try {
    const res = await mf.dispatchFetch('http://localhost/');
    const text = await res.text();
    expect(res.status, text).toBe(200);
    expect(JSON.parse(text)).toEqual({ hit: true, answer: '299,792 km/s', miss: false });
  } finally {
    await mf.dispose();
  }
});
