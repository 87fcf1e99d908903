// The upload worker's settings.
import { type Env, int } from "../lib/config.ts";
import { envBool } from "../lib/env-bool.ts";

export interface UploadConfig {
  /** Largest file accepted by an upload (bytes). */
  maxBytes: number;
  /** Legacy /file/fastupload may link anyone's content by SHA-1 alone (unsafe; off by default). */
  legacyTrustSha1: boolean;
  /**
   * How long a multipart upload session stays open, and how often expired ones are swept (and blobs
   * still without SHA-1 get it filled in: see workers/upload/sha1.ts).
   */
  sessionTtlSeconds: number;
  sweepSeconds: number;
  /** A user's upload sessions open (or being completed) at once; 0: no limit. */
  maxOpenSessionsPerUser: number;
  /**
   * Sessions a drop link's visitors hold open at once, per link; 0: no limit. Separate from the owner's
   * cap, so that visitors cannot stop the owner from uploading (their sessions reserve the owner's quota
   * until they complete or expire all the same).
   */
  maxOpenDropSessionsPerLink: number;
  /**
   * How long a multipart completion may show no sign of life (its process died) before another
   * CompleteUploadSession takes it over; a running completion renews it every third of it.
   */
  completionLeaseSeconds: number;
}

export function loadUploadConfig(env: Env): UploadConfig {
  return {
    maxBytes: int(env, "MAX_UPLOAD_BYTES", 64 * 1024 ** 3),
    legacyTrustSha1: envBool(env, "LEGACY_TRUST_SHA1", false),
    sessionTtlSeconds: int(env, "UPLOAD_SESSION_TTL_SECONDS", 12 * 3600),
    sweepSeconds: int(env, "UPLOAD_SWEEP_SECONDS", 600),
    maxOpenSessionsPerUser: int(env, "UPLOAD_MAX_OPEN_SESSIONS_PER_USER", 100),
    maxOpenDropSessionsPerLink: int(env, "SHARE_DROP_MAX_OPEN_SESSIONS", 50),
    completionLeaseSeconds: Math.max(1, int(env, "UPLOAD_COMPLETION_LEASE_SECONDS", 60)),
  };
}
