export function rng(seed: number): { next(): number; gauss(): number };
export function normalize(v: Float32Array): Float32Array;
export function randomUnit(dim: number, r?: { next(): number; gauss(): number }): Float32Array;
export function toyVector(text: string, dim?: number): Float32Array;
export function toyEmbedder(dim?: number): (texts: string[]) => Promise<Float32Array[]>;
