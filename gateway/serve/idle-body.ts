// A request body that fails when its sender goes quiet: a read that waits longer than `idleMs` for the
// next chunk errors the stream. Only time spent waiting on the sender counts (the stream is pulled, never
// read ahead), so a slow consumer is not mistaken for a stalled client. Web-standard: for runtimes whose
// server has no such timer of its own (Deno.serve).

export class BodyIdleError extends Error {
  override name = "BodyIdleError";
  constructor(readonly idleMs: number) {
    super(`no byte of the request body arrived for ${Math.round(idleMs / 1000)} s: the request was cut`);
  }
}

export interface IdleBody {
  stream: ReadableStream<Uint8Array>;
  /**
   * Drops what the handler left unread, once it has answered. Deno keeps a connection whose request body
   * was left half-read beyond the reach of its server (and of every timer) until the client sends the rest.
   */
  release(): void;
}

/** `source` as a stream that errors with BodyIdleError (and calls `onIdle`) after `idleMs` without a chunk. */
export function idleBody(
  source: ReadableStream<Uint8Array>,
  idleMs: number,
  onIdle: (err: BodyIdleError) => void,
): IdleBody {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let ended = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        reader ??= source.getReader();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const idle = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new BodyIdleError(idleMs)), idleMs);
        });
        try {
          const r = await Promise.race([reader.read(), idle]);
          if (r.done) {
            ended = true;
            c.close();
          } else c.enqueue(r.value);
        } catch (err) {
          ended = true;
          if (err instanceof BodyIdleError) {
            reader.cancel(err).catch(() => undefined);
            onIdle(err);
          }
          c.error(err);
        } finally {
          clearTimeout(timer);
        }
      },
      cancel(reason) {
        ended = true;
        return (reader ?? source).cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    release() {
      if (ended) return;
      ended = true;
      (reader ?? source).cancel("the answer was sent").catch(() => undefined);
    },
  };
}
