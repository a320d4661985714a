// The labelled data the quality harness and the evaluator trainer share, and the one split
// between them: every 5th QQP pair (by line number) is validation, never used for training.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED = process.env.SEMCACHE_SHARED_DIR ?? path.resolve(root, '../shared');

/** GPTCache's mock_data: [{origin, similar}] (999 pairs). */
export function mockData() {
  return JSON.parse(fs.readFileSync(path.join(SHARED, 'data/gptcache-mock/mock_data.json'), 'utf8'));
}

/** QQP dev pairs [{a, b, label, index}] split into train (4/5) and validation (1/5). */
export function qqpSplit() {
  const lines = zlib.gunzipSync(fs.readFileSync(path.join(SHARED, 'data/qqp/pairs-dev.jsonl.gz'))).toString('utf8').split('\n');
  const train = [], val = [];
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const { a, b, label } = JSON.parse(line);
    (index % 5 === 0 ? val : train).push({ a, b, label, index });
  });
  return { train, val };
}
