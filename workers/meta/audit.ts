// The audit log of administrative actions: appended by AdminService after each change, listed newest
// first by (at, id) through the audit_events_at index, or one target's through audit_events_target. The
// page token is the last (at, id) seen, so pages stay stable while new events arrive.
import type { Db } from "./db/database.ts";
import type { AuditEventsTable } from "./db/schema.ts";

export type AuditRow = AuditEventsTable;

/** Columns are bounded; details are cut rather than refused (an audit write must not fail a change). */
const LIMITS = {
  actor_username: 64,
  action: 40,
  target_username: 64,
  client_address: 64,
  details: 1000,
} as const;

export async function appendAuditEvent(
  db: Db,
  event: Omit<AuditRow, "id" | "at">,
  now: number,
): Promise<AuditRow> {
  const row: AuditRow = { ...event, id: crypto.randomUUID(), at: now };
  for (const [k, n] of Object.entries(LIMITS)) {
    const key = k as keyof typeof LIMITS;
    row[key] = [...row[key]].slice(0, n).join("");
  }
  await db.insertInto("audit_events").values(row).execute();
  return row;
}

export class BadPageTokenError extends Error {}

const encodeToken = (r: AuditRow) => btoa(`${r.at}:${r.id}`);

function decodeToken(token: string): { at: number; id: string } {
  let text: string;
  try {
    text = atob(token);
  } catch {
    throw new BadPageTokenError();
  }
  const m = /^(\d{1,16}):([0-9a-f-]{36})$/.exec(text);
  if (!m) throw new BadPageTokenError();
  return { at: Number(m[1]), id: m[2] as string };
}

/** A page of events newest first (one target's when targetId is set); `next` is "" on the last page. */
export async function listAuditEvents(
  db: Db,
  page: { limit: number; token: string; targetId: string },
): Promise<{ events: AuditRow[]; next: string }> {
  const after = page.token ? decodeToken(page.token) : undefined;
  const rows = await db
    .selectFrom("audit_events")
    .selectAll()
    .$if(page.targetId !== "", (q) => q.where("target_id", "=", page.targetId))
    .$if(after !== undefined, (q) =>
      q.where((eb) =>
        eb.or([
          eb("at", "<", after?.at ?? 0),
          eb.and([eb("at", "=", after?.at ?? 0), eb("id", "<", after?.id ?? "")]),
        ]),
      ),
    )
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(page.limit + 1)
    .execute();
  const events = rows.slice(0, page.limit).map((r) => ({ ...r, at: Number(r.at) }));
  const last = events.at(-1);
  return { events, next: rows.length > page.limit && last ? encodeToken(last) : "" };
}
