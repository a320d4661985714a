// Packs the tarball once for every consumer test, with the real `npm pack` (so its prepack
// builds what is missing), into build/consumers/.
import fs from 'node:fs';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { consumersDir, root, run, type PackInfo } from './helpers.js';

export default function setup(project: TestProject) {
  fs.mkdirSync(consumersDir, { recursive: true });
  for (const f of fs.readdirSync(consumersDir)) if (f.endsWith('.tgz')) fs.rmSync(path.join(consumersDir, f));
  const out = run('npm', ['pack', '--json', '--pack-destination', consumersDir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const json = JSON.parse(out.stdout)[0];
  const info: PackInfo = {
    tarball: path.join(consumersDir, json.filename),
    size: json.size,
    unpackedSize: json.unpackedSize,
    entryCount: json.entryCount,
    files: json.files.map((f: { path: string; size: number }) => ({ path: f.path, size: f.size })),
  };
  fs.writeFileSync(path.join(consumersDir, 'pack.json'), JSON.stringify({ ...info, files: undefined }, null, 2));
  project.provide('pack', info);
}
