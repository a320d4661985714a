#!/usr/bin/env node
// npm start [-- options]: builds what is missing or stale, then runs the server
// (dist/server/main.js). `npm start -- --help` lists the options.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const help = args.includes('--help') || args.includes('-h');
const build = spawnSync(process.execPath, [path.join(root, 'tools/build.mjs'), ...(help ? ['js'] : [])], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);
const r = spawnSync(process.execPath, [path.join(root, 'dist/server/main.js'), ...args], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
