// `filestore transfers [stats]`: the transfer queue (local disk → S3) for operators, through
// TransferService: its jobs newest first (ListTransferJobs), or its figures (GetTransferStats). The server
// allows it to users named in ADMIN_USERS only.
import type { Client } from "@connectrpc/connect";
import {
  type GetTransferStatsResponse,
  JobState,
  type TransferJob,
  TransferService,
} from "../proto/gen/filestore/transfer/v1/transfer_pb.ts";
import { intOption, type OptionValues, UsageError } from "./args.ts";
import type { Command, Handler } from "./commands.ts";
import { isoTime } from "./json-output.ts";
import { formatBytes, formatDuration } from "./progress.ts";
import { Session } from "./session.ts";

const STATES: Record<string, JobState> = {
  queued: JobState.QUEUED,
  running: JobState.RUNNING,
  done: JobState.DONE,
  failed: JobState.FAILED,
};
const stateName = (s: JobState) => Object.keys(STATES).find((k) => STATES[k] === s) ?? "unknown";

/** The --json object of a job. Add fields, never rename. */
export const jobJson = (j: TransferJob) => ({
  sha256: j.blobSha256,
  state: stateName(j.state),
  attempts: j.attempts,
  size: Number(j.size),
  lastError: j.lastError,
  createdAt: isoTime(j.createdAt),
  updatedAt: isoTime(j.updatedAt),
});

/** One line: last change, state, attempts, size, SHA-256, and the last error when there is one. */
export const jobRow = (j: TransferJob) =>
  `${(isoTime(j.updatedAt) ?? "").slice(0, 19).replace("T", " ")}  ${stateName(j.state).padEnd(8)} ${String(j.attempts).padStart(2)}  ${formatBytes(Number(j.size)).padStart(10)}  ${j.blobSha256}${j.lastError ? `  ${j.lastError}` : ""}`;

/** The --json object of the figures. Add fields, never rename. */
export const statsJson = (s: GetTransferStatsResponse) => ({
  queued: Number(s.queued),
  running: Number(s.running),
  failed: Number(s.failed),
  done: Number(s.done),
  doneLastHour: Number(s.doneLastHour),
  localBlobs: Number(s.localBlobs),
  oldestQueuedAt: isoTime(s.oldestQueuedAt),
  oldestQueuedAgeSeconds: Number(s.oldestQueuedAge?.seconds ?? 0n),
  bytesWaiting: Number(s.bytesWaiting),
});

export const statsLines = (s: GetTransferStatsResponse) => {
  const j = statsJson(s);
  return [
    `Queued      ${j.queued}${j.oldestQueuedAt ? ` (the oldest waiting ${formatDuration(j.oldestQueuedAgeSeconds)})` : ""}`,
    `Running     ${j.running}`,
    `Failed      ${j.failed}${j.failed > 0 ? " (dead letters: retry them with TransferService.RetryDeadLetter)" : ""}`,
    `Done        ${j.done} (${j.doneLastHour} in the last hour)`,
    `To move     ${formatBytes(j.bytesWaiting)}`,
    `Local blobs ${j.localBlobs}`,
  ];
};

function stateOption(options: OptionValues): JobState {
  const s = options.state;
  if (s === undefined) return JobState.UNSPECIFIED;
  const state = typeof s === "string" ? STATES[s] : undefined;
  if (state === undefined)
    throw new UsageError(`--state must be one of ${Object.keys(STATES).join(", ")}`, "transfers");
  return state;
}

/** Up to `limit` jobs, a page at a time. */
async function jobs(client: Client<typeof TransferService>, options: OptionValues): Promise<TransferJob[]> {
  const limit = intOption(options, "limit", 50, 1, 100_000);
  const state = stateOption(options);
  const out: TransferJob[] = [];
  let pageToken = "";
  do {
    const page = await client.listTransferJobs({
      state,
      oldestFirst: options.oldest === true,
      pageSize: Math.min(1000, limit - out.length),
      pageToken,
    });
    out.push(...page.jobs);
    pageToken = page.nextPageToken;
  } while (pageToken && out.length < limit);
  return out;
}

const transfers: Handler = async (env, args, options) => {
  const [sub] = args;
  if (sub !== undefined && sub !== "stats")
    throw new UsageError(`unknown transfers subcommand "${sub}" (only stats)`, "transfers");
  const client = new Session(env.server, env.store).client(TransferService);
  const json = options.json === true;
  if (sub === "stats") {
    const s = await client.getTransferStats({});
    if (json) env.out(JSON.stringify(statsJson(s)));
    else for (const line of statsLines(s)) env.out(line);
    return 0;
  }
  const list = await jobs(client, options);
  if (json) env.out(JSON.stringify(list.map(jobJson)));
  else for (const j of list) env.out(jobRow(j));
  return 0;
};

export const TRANSFERS: Command = {
  name: "transfers",
  usage: "[stats]",
  summary: "the transfer queue to S3 (operators named in ADMIN_USERS): its jobs, or its figures",
  details: `Without an argument, the transfer jobs, most recently changed first (--oldest: least recently
first), of one state with --state (queued, running, done or failed: failed jobs are the dead letters), up to
--limit (default 50): a line each with the last change, state, attempts, size, SHA-256 and last error.
"stats" prints the jobs by state, how long the oldest queued job has waited, the jobs done in the last hour,
the bytes still to move and the blobs still on local disk. With --json: the jobs an array of
{sha256,state,attempts,size,lastError,createdAt,updatedAt}; stats one object {queued,running,failed,done,
doneLastHour,localBlobs,oldestQueuedAt,oldestQueuedAgeSeconds,bytesWaiting} (oldestQueuedAt null when
nothing is queued).`,
  options: {
    state: { type: "string", value: "state", description: "only jobs in this state" },
    limit: { type: "string", value: "n", description: "at most this many jobs (default 50)" },
    oldest: { type: "boolean", description: "least recently changed first" },
    json: { type: "boolean", description: "print JSON (shapes above)" },
  },
  minArgs: 0,
  maxArgs: 1,
  run: transfers,
};
