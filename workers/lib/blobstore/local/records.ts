// A multipart session's part records (local store): 64 bytes per part in parts/<sessionId>/records, part
// n's at (n - 1) × 64, "<offset> <size> <attempt>\n" once its bytes are durable (zeros: absent, or being
// written); and the session's data and records files, opened once per process for its part writers.
import { closeSync, readSync, writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { fsyncPath, isNotFound, openOrCreate, SyncGroup } from "./durable.ts";
import type { Layout } from "./layout.ts";

/** A complete part record: offset, size and the attempt that wrote it (a re-send gets another). */
const RECORD = /^(\d{1,16}) (\d{1,16}) ([0-9a-f-]{36})\n\0*$/;
export const SLOT = 64;
const EMPTY_SLOT = new Uint8Array(SLOT);

/** A complete part as its record says. */
export interface PartRecord {
  offset: number;
  size: number;
  /** The record's text: it names the attempt, so a part re-sent meanwhile (by any process) is noticed. */
  line: string;
}

/** The record in a slot, or undefined (zeros: absent or being written; a torn write does not parse). */
export function parseRecord(slot: Uint8Array): PartRecord | undefined {
  if (slot.byteLength !== SLOT || slot[0] === 0) return undefined;
  const text = Buffer.from(slot.buffer, slot.byteOffset, slot.byteLength).toString("latin1");
  const m = RECORD.exec(text);
  return m ? { offset: Number(m[1]), size: Number(m[2]), line: text.replace(/\0+$/, "") } : undefined;
}

/** Part n's slot in an open records file (zeros past its end). */
export function slotIn(fd: number, n: number): Uint8Array {
  const slot = new Uint8Array(SLOT);
  readSync(fd, slot, 0, SLOT, (n - 1) * SLOT);
  return slot;
}

/** Every record of a session's records file (sparse: index n - 1). */
export async function readRecords(path: string): Promise<(PartRecord | undefined)[]> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
  const records: (PartRecord | undefined)[] = [];
  for (let at = 0; at + SLOT <= bytes.byteLength; at += SLOT)
    records.push(parseRecord(bytes.subarray(at, at + SLOT)));
  return records;
}

/** Writes a slot (a record, or zeros) as part n's: durable once the records file is synced. */
export function writeSlot(fd: number, n: number, slot: Uint8Array): void {
  writeSync(fd, slot, 0, SLOT, (n - 1) * SLOT);
}

/**
 * A session's data and records files, opened once for the part writers of this process at a time, so
 * that their syncs are shared (SyncGroup).
 */
export interface SessionFiles {
  data: number;
  records: number;
  dataSync: SyncGroup;
  recordsSync: SyncGroup;
  users: number;
}

/** Empties part n's record (durably) before its bytes change: the part stops counting first. */
export async function clearRecord(files: SessionFiles, n: number): Promise<void> {
  writeSlot(files.records, n, EMPTY_SLOT);
  await files.recordsSync.sync();
}

/** The open session files of this process, shared by the part writers of each session. */
export class OpenSessions {
  private readonly open = new Map<string, SessionFiles>();
  constructor(private readonly layout: Layout) {}

  async acquire(sessionId: string): Promise<SessionFiles> {
    const { layout, open } = this;
    let f = open.get(sessionId);
    if (!f) {
      const opened = [openOrCreate(layout.dataPath(sessionId)), openOrCreate(layout.recordsPath(sessionId))];
      const [data, records] = opened.map((o) => o.fd) as [number, number];
      if (opened.some((o) => o.created)) await fsyncPath(layout.partDir(sessionId)); // their names survive a crash
      f = open.get(sessionId); // opened meanwhile by another writer
      if (f) {
        closeSync(data);
        closeSync(records);
      } else {
        f = { data, records, dataSync: new SyncGroup(data), recordsSync: new SyncGroup(records), users: 0 };
        open.set(sessionId, f);
      }
    }
    f.users++;
    return f;
  }

  release(sessionId: string, f: SessionFiles): void {
    if (--f.users > 0) return;
    if (this.open.get(sessionId) === f) this.open.delete(sessionId);
    closeSync(f.data);
    closeSync(f.records);
  }

  /** The session is being deleted: writers still at work keep their descriptors; later ones reopen. */
  forget(sessionId: string): void {
    this.open.delete(sessionId);
  }
}
