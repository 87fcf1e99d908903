// Unfinished uploads, remembered in localStorage across reloads: adding the same file again finds its
// session by content hash (resume=true) and only the missing parts are sent.
import { uploads } from "./api.ts";

/** What is remembered of an unfinished upload across reloads. */
export interface Unfinished {
  sessionId: string;
  userId: string;
  name: string;
  size: number;
  sha256: string;
  percent: number;
}

const STORE = "filestore.uploads";

export function unfinished(userId: string): Unfinished[] {
  try {
    const all = JSON.parse(localStorage.getItem(STORE) ?? "[]") as Unfinished[];
    return all.filter((u) => u.userId === userId);
  } catch {
    return [];
  }
}

export function keep(u: Unfinished): void {
  const all = (JSON.parse(localStorage.getItem(STORE) ?? "[]") as Unfinished[]).filter(
    (x) => x.sessionId !== u.sessionId,
  );
  localStorage.setItem(STORE, JSON.stringify([...all, u]));
}

export function forget(sessionId: string): void {
  try {
    const all = JSON.parse(localStorage.getItem(STORE) ?? "[]") as Unfinished[];
    localStorage.setItem(STORE, JSON.stringify(all.filter((x) => x.sessionId !== sessionId)));
  } catch {
    localStorage.removeItem(STORE);
  }
}

/** Drops an unfinished upload for good (its parts are deleted on the server). */
export async function discard(sessionId: string): Promise<void> {
  forget(sessionId);
  await uploads.abortUploadSession({ sessionId }).catch(() => undefined);
}
