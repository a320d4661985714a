// A fake OpenAI-compatible LLM on 127.0.0.1 that counts calls: JSON and SSE replies, scripted
// failures, and a record of the headers it saw. (Implemented in fake-servers.mjs, shared with
// the benchmarks.)
import { answerFor as answer, startFakeUpstream as start } from './fake-servers.mjs';

export interface FakeUpstream {
  url: string;
  calls: { path: string; body: Record<string, unknown>; auth?: string }[];
  /** Authorization header values answered with 401. */
  rejectKeys: Set<string>;
  /** Next replies are this status with this body (then back to normal). */
  failNext(status: number, body: string, times?: number): void;
  close(): Promise<void>;
}

export const answerFor: (body: Record<string, unknown>) => string = answer;
export const startFakeUpstream: () => Promise<FakeUpstream> = start;
