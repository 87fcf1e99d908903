// A transfer job as operators see it (filestore.transfer.v1.TransferJob) from meta's record of it: what
// TransferService answers and what the transfer worker publishes on the event bus at each state change.
import { create } from "@bufbuild/protobuf";
import type { TransferJobRecord } from "../../proto/gen/filestore/meta/v1/transfer_pb.ts";
import {
  JobState,
  type TransferJob,
  TransferJobSchema,
} from "../../proto/gen/filestore/transfer/v1/transfer_pb.ts";

export const JOB_STATES: Record<string, JobState> = {
  queued: JobState.QUEUED,
  running: JobState.RUNNING,
  done: JobState.DONE,
  failed: JobState.FAILED,
};

export function publicJob(j: TransferJobRecord): TransferJob {
  return create(TransferJobSchema, {
    blobSha256: j.blobSha256,
    state: JOB_STATES[j.state] ?? JobState.UNSPECIFIED,
    attempts: j.attempts,
    lastError: j.lastError,
    updatedAt: j.updatedAt,
    size: j.size,
    createdAt: j.createdAt,
  });
}
