#!/usr/bin/env node
// npm run bench -- <name> [args...]: runs bench/<name>.mjs (a JS benchmark) with the args.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = path.dirname(fileURLToPath(import.meta.url));
const [name, ...rest] = process.argv.slice(2);
const available = fs.readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').map((f) => f.slice(0, -4));
if (!name || !available.includes(name)) {
  console.error(`usage: npm run bench -- <name>   (available: ${available.join(', ')})`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [path.join(dir, `${name}.mjs`), ...rest], { stdio: 'inherit' });
process.exit(r.status ?? 1);
