// `filestore df`: the signed-in user's storage usage against their quota (FileService.GetUsage).
import { FileService, type GetUsageResponse } from "../proto/gen/filestore/file/v1/file_pb.ts";
import type { Command, Handler } from "./commands.ts";
import { formatBytes } from "./progress.ts";
import { Session } from "./session.ts";

/** The --json object: bytes as numbers; quotaBytes 0 means unlimited. Add fields, never rename. */
export function usageJson(u: GetUsageResponse) {
  return {
    usedBytes: Number(u.usedBytes),
    reservedBytes: Number(u.reservedBytes),
    quotaBytes: Number(u.quotaBytes),
    availableBytes:
      u.quotaBytes === 0n ? null : Math.max(0, Number(u.quotaBytes - u.usedBytes - u.reservedBytes)),
    files: Number(u.files),
    trashBytes: Number(u.trashBytes),
    versionBytes: Number(u.versionBytes),
  };
}

/** The human lines: "Used 1.2 GiB of 10 GiB (12%)", then what it is made of. */
export function usageLines(u: GetUsageResponse): string[] {
  const used = Number(u.usedBytes);
  const quota = Number(u.quotaBytes);
  const share = quota > 0 ? ` (${Math.min(100, Math.floor((used / quota) * 100))}%)` : "";
  const lines = [
    `Used       ${formatBytes(used)} of ${quota > 0 ? formatBytes(quota) : "unlimited"}${share}`,
  ];
  if (quota > 0) lines.push(`Available  ${formatBytes(usageJson(u).availableBytes ?? 0)}`);
  lines.push(
    `Files      ${u.files}`,
    `In trash   ${formatBytes(Number(u.trashBytes))}`,
    `Versions   ${formatBytes(Number(u.versionBytes))}`,
  );
  if (u.reservedBytes > 0n) lines.push(`Uploading  ${formatBytes(Number(u.reservedBytes))} reserved`);
  return lines;
}

const df: Handler = async (env, _args, options) => {
  const usage = await new Session(env.server, env.store).client(FileService).getUsage({});
  if (options.json === true) env.out(JSON.stringify(usageJson(usage)));
  else for (const line of usageLines(usage)) env.out(line);
  return 0;
};

export const DF: Command = {
  name: "df",
  usage: "",
  summary: "show your storage usage and quota",
  details: `Usage counts every file at its full size (files in the trash too, until purged, and kept versions);
folders count nothing. With --json: one object {usedBytes,reservedBytes,quotaBytes,availableBytes,files,
trashBytes,versionBytes}; quotaBytes 0 and availableBytes null mean unlimited.`,
  options: { json: { type: "boolean", description: "one JSON object (fields above)" } },
  minArgs: 0,
  maxArgs: 0,
  run: df,
};
