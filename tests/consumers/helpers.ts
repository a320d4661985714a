// What the consumer tests share: the packed tarball (packed once by setup.ts), the snippets they
// run (taken from README.md and docs/install.md, so the documentation is what is tested), and
// consumer projects under build/consumers/ whose registry packages stay installed between runs
// while semcache itself is installed afresh from each run's tarball.
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const consumersDir = path.join(root, 'build/consumers');

export interface PackInfo {
  tarball: string;
  size: number;
  unpackedSize: number;
  entryCount: number;
  files: { path: string; size: number }[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    pack: PackInfo;
  }
}

export const packed = (): PackInfo => inject('pack');

/** Where npm finds this Node's headers, so node-gyp compiles offline (as tools/setup.sh does). */
export const nodePrefix = path.dirname(path.dirname(fs.realpathSync(process.execPath)));

/**
 * The code block marked `<!-- consumer: name -->` in README.md, docs/install.md or
 * docs/adapters.md. Several
 * blocks may carry the same name: they are joined in order (e.g. a snippet and its config).
 */
export function snippet(name: string, lang = 'js'): string {
  const marker = `<!-- consumer: ${name} -->`;
  const found: string[] = [];
  for (const doc of ['README.md', 'docs/install.md', 'docs/adapters.md']) {
    const text = fs.readFileSync(path.join(root, doc), 'utf8');
    const re = new RegExp(`${escape(marker)}\\s*\\n\`\`\`${escape(lang)}\\n([\\s\\S]*?)\`\`\``, 'g');
    for (const m of text.matchAll(re)) found.push(m[1]!);
  }
  if (!found.length) throw new Error(`no \`\`\`${lang} block marked ${marker} in README.md, docs/install.md or docs/adapters.md`);
  return found.join('\n');
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command and returns its exit status and output. */
export function tryRun(cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  return { status: r.status, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '') };
}

/** The same; throws with its output when it fails. */
export function run(cmd: string, args: string[], opts: SpawnSyncOptions = {}): RunResult {
  const res = tryRun(cmd, args, opts);
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd ?? '.'}) failed with ${res.status}:\n${res.stdout}\n${res.stderr}`);
  return res;
}

/** The same, without blocking the event loop (for tests that serve requests meanwhile). */
export function runAsync(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 300_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      if (status === 0) resolve({ status, stdout, stderr });
      else reject(new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd ?? '.'}) failed with ${status}:\n${stdout}\n${stderr}`));
    });
  });
}

/** npm as a consumer runs it, quiet; `--prefer-offline` reuses the npm cache the repository's own install filled. */
export function npm(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): RunResult {
  return run('npm', [...args, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], { cwd, env: { ...process.env, ...env } });
}

export interface ProjectSpec {
  /** package.json without name/private/type (added) and without semcache (added from the tarball). */
  pkg: Record<string, unknown>;
  /** Files written into the project on every run (paths relative to it). */
  files: Record<string, string>;
  /** Environment for `npm install` (e.g. building better-sqlite3 from source). */
  installEnv?: NodeJS.ProcessEnv;
}

/**
 * A consumer project in build/consumers/<name>: installed from the registry when its
 * package.json (or this Node/npm) changed, and in every case semcache reinstalled from this run's
 * tarball, the way `npm install ./semcache-x.tgz` puts it there.
 */
export function project(name: string, spec: ProjectSpec): string {
  const dir = path.join(consumersDir, 'projects', name);
  const deps = { semcache: 'file:semcache.tgz', ...(spec.pkg.dependencies as object) };
  const pkg = { name: `consumer-${name}`, private: true, type: 'module', ...spec.pkg, dependencies: deps };
  const stamp = crypto.createHash('sha256').update(JSON.stringify({ pkg, node: process.version, npm: run('npm', ['--version']).stdout.trim() })).digest('hex');
  const stampFile = path.join(dir, '.semcache-consumer-stamp');
  const fresh = !fs.existsSync(stampFile) || fs.readFileSync(stampFile, 'utf8') !== stamp;
  if (fresh) {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  }
  fs.copyFileSync(packed().tarball, path.join(dir, 'semcache.tgz'));
  if (fresh) {
    npm(dir, ['install'], spec.installEnv);
  } else {
    fs.rmSync(path.join(dir, 'node_modules/semcache'), { recursive: true, force: true });
    npm(dir, ['install', './semcache.tgz'], spec.installEnv);
  }
  for (const [file, text] of Object.entries(spec.files)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  if (fresh) fs.writeFileSync(stampFile, stamp);
  return dir;
}

/** Versions the consumer projects install: the ones this repository tests with. */
export function devVersion(pkgName: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  const v = pkg.devDependencies?.[pkgName] ?? pkg.dependencies?.[pkgName];
  if (!v) throw new Error(`${pkgName} is not a dependency of the repository`);
  return v;
}
