#!/usr/bin/env node
// npm run bench -- NAME [options]: builds what the benchmark needs, runs bench/NAME.mjs.
// Every benchmark prints, last, one JSON line of results.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const [name, ...rest] = process.argv.slice(2);
const available = fs.readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').map((f) => f.slice(0, -4));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- NAME [options]\n  NAME: ${available.join(', ')}`);
  process.exit(2);
}
const build = spawnSync(process.execPath, [path.join(root, 'tools/build.mjs')], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) process.exit(1);
const r = spawnSync(process.execPath, [path.join(here, `${name}.mjs`), ...rest], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
