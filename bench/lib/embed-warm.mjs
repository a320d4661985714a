#!/usr/bin/env node
// Fills the embedding cache (bench/lib/embed-cache.mjs) for a bundled model with every QQP and
// mock_data text in the form the cache embeds (normalized), in N processes at once: on a shared
// machine each process gets its own slice of the CPU. Each writes a shard file; the next
// cachedEmbedder merges them.
//   node bench/lib/embed-warm.mjs [--model use-lite-cache] [--jobs 3]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { embedKey, mockData, qqpPairs } from './quality-data.mjs';
import { cachedEmbedder } from './embed-cache.mjs';

const arg = (k, d) => {
  const i = process.argv.indexOf(k);
  return i > 0 ? process.argv[i + 1] : d;
};
const model = arg('--model', 'use-lite-cache');
const jobs = Number(arg('--jobs', '3'));
const texts = [...new Set([...qqpPairs().flatMap((p) => [p.a, p.b]), ...mockData().flatMap((d) => [d.origin, d.similar])].map(embedKey))].sort();

const shard = arg('--shard');
if (shard !== undefined) {
  const { OnnxEmbedder } = await import('semcache');
  const e = cachedEmbedder(await OnnxEmbedder.load({ model }), { shard });
  const mine = texts.filter((_, i) => i % jobs === Number(shard));
  await e.embed(mine);
} else {
  const { OnnxEmbedder } = await import('semcache');
  cachedEmbedder(await OnnxEmbedder.load({ model }));  // merges leftover shards first
  const t0 = performance.now();
  await Promise.all(Array.from({ length: jobs }, (_, k) => new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--model', model, '--jobs', String(jobs), '--shard', String(k)], { stdio: 'inherit' });
    p.on('exit', (c) => (c === 0 ? resolve() : reject(new Error(`shard ${k} exited with ${c}`))));
  })));
  const e = cachedEmbedder(await OnnxEmbedder.load({ model }));  // merge
  process.stderr.write(`embed-warm: ${model}: ${e.size()} texts cached (${texts.length} wanted) in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
}
