// A large file on a drop link's page goes through a multipart session of the drop routes
// (workers/upload/drop-sessions.ts): created with the file's name and size (the link's cap and the owner's
// quota answer before any byte), its parts sent in parallel with the drive's part loop (upload-parts.ts)
// under the share token and the session's key, then completed. A failure aborts the session, so that the
// owner's quota is not held by an upload nobody will finish.
import { DROP_PATH, DROP_SESSION_KEY_HEADER, SHARE_TOKEN_HEADER } from "../../core/data-paths.ts";
import { progressOf } from "./upload-item.ts";
import {
  PARTS_IN_PARALLEL,
  type PartItem,
  type PartPlan,
  PartSlots,
  partsOnServer,
  sendParts,
} from "./upload-parts.ts";

/** A refused call of the drop routes: its status and the server's message. */
export class DropError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface DropSession {
  sessionId: string;
  key: string;
  partSize: string;
  partCount: number;
  partUrl: string;
}

/** Parts in flight over all the files of the page. */
const slots = new PartSlots(PARTS_IN_PARALLEL);

/** Sends `file` to the drop link `shareId` through a session; resolves with the name it got. */
export async function sendInSession(
  shareId: string,
  token: string,
  file: File,
  onProgress: (sent: number) => void,
): Promise<string> {
  const base = `${DROP_PATH}${shareId}/sessions`;
  const headers = (key = "") => ({ [SHARE_TOKEN_HEADER]: token, [DROP_SESSION_KEY_HEADER]: key });
  const call = async <T>(path: string, method: string, key?: string, body?: string): Promise<T> => {
    const res = await fetch(`${base}${path}`, { method, headers: headers(key), body });
    const answer = (await res.json().catch(() => ({}))) as T & { code?: string; message?: string };
    if (!res.ok) throw new DropError(res.status, answer.message ?? "");
    return answer;
  };
  const s = await call<DropSession>("", "POST", "", JSON.stringify({ name: file.name, size: file.size }));
  const item: PartItem = { file, state: "uploading", inflight: new Map(), samples: [], sent: 0 };
  const plan: PartPlan = {
    partCount: s.partCount,
    partSize: Number(s.partSize),
    urlsOf: (n) => ({ plane: `${s.partUrl}${n}` }),
    credentials: async () => headers(s.key),
  };
  const done = new Set<number>();
  const changed = () => onProgress(progressOf(item));
  const at = `/${s.sessionId}`;
  try {
    for (let retried = false; ; retried = true) {
      await sendParts(item, plan, done, { slots, lanes: PARTS_IN_PARALLEL, changed, sent: changed });
      try {
        const { file: stored } = await call<{ file: { name: string } }>(`${at}/complete`, "POST", s.key);
        return stored.name;
      } catch (err) {
        // Parts the server lost or rejected: take its list and send what is missing, once.
        if (retried || !(err instanceof DropError) || !err.message.startsWith("missing parts")) throw err;
        done.clear();
        partsOnServer(item, plan, done, (await call<{ parts: [] }>(at, "GET", s.key)).parts);
      }
    }
  } catch (err) {
    // The other lanes stop at their next part; what is in flight goes now.
    item.state = "failed";
    for (const p of item.inflight.values()) p.xhr.abort();
    await call(at, "DELETE", s.key).catch(() => undefined);
    throw err;
  }
}
