// Server-sent events as the OpenAI APIs send them: reading an upstream stream while passing
// every byte through, and writing one from events made elsewhere.
import type { AnswerMeta } from './answer.js';

/** What a stream of one API kind told us: the text pieces as they come, then the verdict. */
export interface StreamCollector {
  /** One event's `data` (and its `event:` name, when it has one); returns the text piece it
   * carried, if any. */
  onEvent(data: string, event: string | undefined): string | undefined;
  /** After the last byte: the answer's pieces and metadata, or null when it is not cacheable
   * (cut short, a tool call, a refusal, an error event…). */
  result(): (AnswerMeta & { chunks: string[] }) | null;
}

/**
 * Passes `upstream` through unchanged while `collector` reads its events; `onPiece` sees each
 * text piece as it arrives (for calls waiting on this one). `done` resolves with the collector's
 * verdict once the stream ended or its reader went away (null when no complete answer came).
 */
export function teeSse(upstream: ReadableStream<Uint8Array>, collector: StreamCollector, onPiece?: (piece: string) => void) {
  let buffer = '';
  const dec = new TextDecoder();
  let resolveDone!: (r: (AnswerMeta & { chunks: string[] }) | null) => void;
  const done = new Promise<(AnswerMeta & { chunks: string[] }) | null>((r) => (resolveDone = r));
  const read = (text: string) => {
    buffer += text.replace(/\r\n?/g, '\n');
    let i: number;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const lines = buffer.slice(0, i).split('\n');
      buffer = buffer.slice(i + 2);
      const field = (name: string) => lines.filter((l) => l.startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).replace(/^ /, ''));
      const data = field('data').join('\n');
      if (!data) continue;
      const piece = collector.onEvent(data, field('event')[0]);
      if (piece) onPiece?.(piece);
    }
  };
  const stream = tapStream(upstream, {
    chunk: (bytes) => read(dec.decode(bytes, { stream: true })),
    end(ok) {
      if (ok) read(dec.decode() + '\n\n');  // an unterminated last event still counts
      // The verdict is the protocol's, not the transport's: a reader may stop once it has the
      // end marker ([DONE], response.completed), as the OpenAI SDK does; a stream that broke
      // or was left before that has no complete answer and is not stored.
      resolveDone(collector.result());
    },
  });
  return { stream, done };
}

/**
 * `src` passed through, chunk by chunk as its reader pulls, with `chunk` seeing each one and
 * `end` called once: true after the last chunk, false when the source broke or the reader
 * cancelled (the client went away).
 */
export function tapStream<T>(src: ReadableStream<T>, on: { chunk(c: T): void; end(ok: boolean): void }): ReadableStream<T> {
  const reader = src.getReader();
  let ended = false;
  const end = (ok: boolean) => {
    if (!ended) on.end(ok);
    ended = true;
  };
  return new ReadableStream<T>({
    async pull(controller) {
      let r: ReadableStreamReadResult<T>;
      try {
        r = await reader.read();
      } catch (e) {
        end(false);
        controller.error(e);
        return;
      }
      if (r.done) {
        end(true);
        controller.close();
        return;
      }
      controller.enqueue(r.value);
      on.chunk(r.value);
    },
    cancel(reason) {
      end(false);
      return reader.cancel(reason);
    },
  });
}

/** An SSE body fed by `produce` (an async source of encoded events); an error from it ends the
 * stream with that error, as a broken upstream would. */
export function sseBody(produce: (emit: (bytes: Uint8Array) => void) => Promise<void>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      produce((b) => controller.enqueue(b)).then(
        () => controller.close(),
        (e) => controller.error(e),
      );
    },
  });
}
