// A minimal WatchFiles client for benchmarks: a Connect server stream (JSON, enveloped) over one fetch,
// counting the change messages that arrive. No generated client: thousands of these run in one process.

export interface WatchStream {
  /** Change messages received so far. */
  events(): number;
  /** True when the stream ended with an error or broke before close(). */
  failed(): boolean;
  close(): void;
}

const envelope = (json: string) => {
  const body = new TextEncoder().encode(json);
  const out = new Uint8Array(5 + body.length);
  new DataView(out.buffer).setUint32(1, body.length);
  out.set(body, 5);
  return out;
};

/** Opens FileService.WatchFiles for the token's user; messages are counted as they come. */
export function watchChanges(gatewayUrl: string, token: string): WatchStream {
  const abort = new AbortController();
  let events = 0;
  let failed = false;
  let closed = false;
  void (async () => {
    const res = await fetch(`${gatewayUrl}/filestore.file.v1.FileService/WatchFiles`, {
      method: "POST",
      headers: { "content-type": "application/connect+json", authorization: `Bearer ${token}` },
      body: envelope("{}"),
      signal: abort.signal,
    });
    if (res.status !== 200 || !res.body) throw new Error(`WatchFiles answered ${res.status}`);
    let pending = new Uint8Array(0);
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      const buf = new Uint8Array(pending.length + chunk.length);
      buf.set(pending);
      buf.set(chunk, pending.length);
      let at = 0;
      while (buf.length - at >= 5) {
        const flags = buf[at] as number;
        const len = new DataView(buf.buffer, buf.byteOffset + at + 1, 4).getUint32(0);
        if (buf.length - at - 5 < len) break;
        if (flags & 0x02) {
          // The end of the stream: an error unless its JSON is empty.
          const end = new TextDecoder().decode(buf.subarray(at + 5, at + 5 + len));
          if (end.includes('"error"')) throw new Error(`WatchFiles ended: ${end}`);
        } else events++;
        at += 5 + len;
      }
      pending = buf.slice(at);
    }
    if (!closed) throw new Error("WatchFiles ended early");
  })().catch(() => {
    if (!closed) failed = true;
  });
  return {
    events: () => events,
    failed: () => failed,
    close() {
      closed = true;
      abort.abort();
    },
  };
}
