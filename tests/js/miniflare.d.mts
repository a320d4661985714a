import type { Miniflare } from 'miniflare';
export function workerMiniflare(o: { script: string; persist?: string; bindings?: Record<string, string>; durable?: boolean }): Miniflare;
export function workerdRssMB(): number;
export function edgeMiniflare(o: { persist: string; upstreamUrl: string; embeddingsUrl: string; vars?: Record<string, string> }): Miniflare;
