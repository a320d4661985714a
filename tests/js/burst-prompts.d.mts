export const BURST: string[];
export const BURST_USE: string[];
