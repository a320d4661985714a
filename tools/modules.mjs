// The module graph of a worker entry, as workerd loads it: every file reachable by static imports,
// typed by extension the way workers/edge/wrangler.onnx.toml uploads it. Dynamic imports are not
// followed (workerd resolves them at run time, among the modules uploaded).
import fs from 'node:fs';
import path from 'node:path';
import { init, parse } from 'es-module-lexer';

await init;

const MODULE_TYPES = [
  [/\.m?js$/, 'ESModule'],
  [/\.wasm$/, 'CompiledWasm'],
  [/\.(onnx|bin)$/, 'Data'],
  [/\.json$/, 'Text'],
];

function moduleType(file) {
  const t = MODULE_TYPES.find(([re]) => re.test(file));
  if (!t) throw new Error(`no module type for ${file}`);
  return t[1];
}

const importsOf = (file) => parse(fs.readFileSync(file, 'utf8'))[0];

/** Every module reachable from `entry` (an absolute path) by relative static imports: [{ type, path }]. */
export function collectModules(entry) {
  const seen = new Map();
  const queue = [entry];
  while (queue.length) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    seen.set(file, moduleType(file));
    if (seen.get(file) !== 'ESModule') continue;
    for (const i of importsOf(file)) {
      if (i.d === -1 && i.n?.startsWith('.')) queue.push(path.resolve(path.dirname(file), i.n));
    }
  }
  return [...seen].map(([p, type]) => ({ type, path: p }));
}

/** Whether a module graph holds an import() of a computed name (Miniflare cannot follow those). */
export function hasComputedImport(modules) {
  return modules.some((m) => m.type === 'ESModule' && importsOf(m.path).some((i) => i.d > -1 && i.n === undefined));
}
