// A static file server on 127.0.0.1 for browser tests, and a Chromium launcher (Debian's
// chromium through playwright-core) whose pages may only talk to that server.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { root } from './helpers.js';

export const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.css': 'text/css',
  '.onnx': 'application/octet-stream',
};

export async function serveStatic(dir = root): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const rel = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = path.join(dir, rel);
    if (!file.startsWith(dir) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * A persistent context (OPFS needs a profile directory) that records every request's URL.
 * Without `profileDir` it uses a fresh temporary profile, which close() removes.
 */
export async function launchChromium(profileDir?: string) {
  const dir = profileDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'semcache-chromium-'));
  const context: BrowserContext = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    headless: true,
  });
  const requests: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const close = async () => {
    await context.close();
    if (!profileDir) fs.rmSync(dir, { recursive: true, force: true });
  };
  return { context, requests, close };
}

export function offLocalhost(urls: string[]): string[] {
  return urls.filter((u) => {
    if (u.startsWith('data:') || u.startsWith('blob:') || u.startsWith('about:')) return false;
    const host = new URL(u).hostname;
    return host !== '127.0.0.1' && host !== 'localhost' && host !== '[::1]';
  });
}

/** A new page of a fixture (its path from the repository's root), once the page set window.ready. */
export async function fixturePage(context: BrowserContext, serverUrl: string, fixture: string, onPage?: (page: Page) => void): Promise<Page> {
  const page = await context.newPage();
  onPage?.(page);
  await page.goto(`${serverUrl}/${fixture}`);
  await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  return page;
}

/** The OPFS fixture page (tests/js/fixtures/persist-page.html) with its requests to workers
 * counted in window.sent, but for the verbs in `notes` (notes of hits answered on the page). */
export async function countingOpfsPage(context: BrowserContext, serverUrl: string, notes: string[]): Promise<Page> {
  const page = await fixturePage(context, serverUrl, 'tests/js/fixtures/persist-page.html');
  await page.evaluate((notes) => {
    const w = window as unknown as { sent: number };
    w.sent = 0;
    const post = Worker.prototype.postMessage;
    Worker.prototype.postMessage = function (this: Worker, ...args: Parameters<Worker['postMessage']>) {
      if (!notes.includes((args[0] as { verb?: string })?.verb ?? '')) w.sent++;
      return post.apply(this, args);
    } as Worker['postMessage'];
  }, notes);
  return page;
}
