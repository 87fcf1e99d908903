// The completion lease of a multipart session. CompleteUploadSession takes the session ("completing",
// held by a random attempt id) and renews its lease while it works: a third of the lease at a time, so a
// long tail hash (a 64 GiB file read again after a restart) never looks dead, while a crashed process is
// noticed one lease after its last renewal, whatever the file's size. A later CompleteUploadSession (or a
// part sent) then takes the session over from the dead attempt and cleans up after it; the dead attempt
// cannot record a file afterwards (meta completes the session with its file only for its holder).
import { randomUUID } from "node:crypto";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  TransitionUploadSessionRequest_Transition as T,
  type UploadSessionRecord,
} from "../../proto/gen/filestore/meta/v1/uploads_pb.ts";
import { aborted } from "../lib/errors.ts";
import type { SessionDeps } from "./sessions.ts";

/** A completion that lost its session to another one (it stalled past the lease). */
export const TAKEN_OVER =
  "this completion stalled and another CompleteUploadSession took the upload over: call it again for the result";

/** The default lease (UPLOAD_COMPLETION_LEASE_SECONDS). */
export const DEFAULT_COMPLETION_LEASE_MS = 60_000;

export const leaseMsOf = (deps: SessionDeps) => deps.completionLeaseMs ?? DEFAULT_COMPLETION_LEASE_MS;

export interface Lease {
  owner: string;
  /** The attempt it took the session over from (its leftovers are to be discarded), if any. */
  previousOwner?: string;
  /** True once a renewal found the session held by another attempt. */
  lost(): boolean;
  release(): void;
}

/** Takes the session's completion (from "open", or from an attempt that stopped renewing); undefined if busy. */
export async function takeCompletion(deps: SessionDeps, id: string): Promise<Lease | undefined> {
  const owner = randomUUID();
  const leaseMs = leaseMsOf(deps);
  const taken = await deps.meta.transitionUploadSession({
    id,
    transition: T.BEGIN_COMPLETION,
    owner,
    leaseMs: BigInt(leaseMs),
  });
  if (!taken.done) return undefined;
  let lost = false;
  const timer = setInterval(
    () => {
      deps.meta
        .transitionUploadSession({ id, transition: T.RENEW, owner })
        .then((r) => {
          if (!r.done) lost = true;
        })
        .catch(() => undefined); // meta unreachable for a moment: the next renewal tries again
    },
    Math.max(1, Math.floor(leaseMs / 3)),
  );
  timer.unref?.();
  return {
    owner,
    previousOwner: taken.previousOwner || undefined,
    lost: () => lost,
    release: () => clearInterval(timer),
  };
}

/**
 * Before a part is stored into a session that is being completed: a completion that stopped renewing its
 * lease is abandoned (the session reopens, and what the dead attempt left is discarded); a live one makes
 * the part wait (Aborted: send it again once CompleteUploadSession has answered).
 */
export async function reopenAbandoned(deps: SessionDeps, s: UploadSessionRecord): Promise<void> {
  const reopened = await deps.meta.transitionUploadSession({
    id: s.id,
    transition: T.REOPEN,
    leaseMs: BigInt(leaseMsOf(deps)),
  });
  if (!reopened.done) throw aborted(busyMessage(deps, s));
  if (reopened.previousOwner) await deps.blobs.discardAssembly(s.id, reopened.previousOwner);
}

/** Why a completing session cannot be used now, and when a stalled completion may be taken over. */
export function busyMessage(deps: SessionDeps, s: UploadSessionRecord): string {
  const since = s.completingSince ? Number(timestampMs(s.completingSince)) : deps.now();
  const wait = Math.max(1, Math.ceil((since + leaseMsOf(deps) - deps.now()) / 1000));
  return (
    "the upload session is being completed: wait for that answer, or call CompleteUploadSession again in " +
    `${wait} s (a completion that stopped is taken over then)`
  );
}
