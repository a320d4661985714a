export function tinyBert(o?: { vocab?: number; hidden?: number; maxPositions?: number; seed?: number }): Uint8Array;
