// `bun bench/zip-paths.ts`: why a folder ZIP is slower than a whole-file download on the all-in-one's
// Bun.serve, measured rather than guessed (issue 18's bench row: ZIP ≥ 0.8 × whole file). One server
// (bench/zip-paths-server.ts) answers the same bytes — ZIP_PATHS_FILES slices of a payload, each after a
// 64-byte stand-in for a local header — in each way Bun lets a handler send file bytes; curl fetches each
// in turn (rows alternate within a round, as in bench/download.ts), and the table gives the server's CPU
// time per GiB (robust on a shared machine) and MB/s (wall time, noisy there), medians over rounds, and
// whether the response kept its Content-Length. Before the rows: whether a Blob made of file slices keeps
// their bytes (a sized body of parts would give sendfile and Content-Length at once).
//
// Env: BENCH_ROUNDS (default 5), BENCH_PORT_RANGE, ZIP_PATHS_FILES (64), ZIP_PATHS_FILE_SIZE (4 MiB).
import { join } from "node:path";
import { downloadRequests } from "./download-requests.ts";
import { BenchError, benchPort, cpuMs, createHarness, makePayload, median } from "./harness.ts";

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const FILES = Number(process.env.ZIP_PATHS_FILES ?? 64);
const FILE_SIZE = Number(process.env.ZIP_PATHS_FILE_SIZE ?? 4 * MiB);
const ROUNDS = Number(process.env.BENCH_ROUNDS || 5);
const GETS = 3;

const harness = createHarness("filestore-bench-zip-paths");
const { tmp, start, run, runMain } = harness;
const payloadSize = FILES * FILE_SIZE;
const { wholeFile } = downloadRequests({ tmp, run, size: payloadSize, connections: 1 });

const ROWS = [
  { name: "whole file: Bun.file() (sendfile)", path: "/whole", size: payloadSize },
  { name: "ZIP today: slices' streams + CRC-32", path: "/stream?crc=1", size: 0 },
  { name: "  same, CRC-32 stored (not computed)", path: "/stream?crc=0", size: 0 },
  { name: "reused read buffer + CRC-32", path: "/buffer?crc=1", size: 0 },
  { name: "  same, CRC-32 stored (not computed)", path: "/buffer?crc=0", size: 0 },
];

async function main(): Promise<number> {
  const payload = join(tmp, "payload.bin");
  await makePayload(payload, payloadSize);
  const server = await start(
    "server",
    [process.execPath, "bench/zip-paths-server.ts"],
    {
      ZIP_PATHS_PAYLOAD: payload,
      ZIP_PATHS_FILES: String(FILES),
      ZIP_PATHS_FILE_SIZE: String(FILE_SIZE),
      PORT: benchPort(),
    },
    /listening on (http:\/\/\S+)/,
  );
  const pid = server.proc.pid;
  const parts = await fetch(`${server.url}/blob-parts`);
  const partsLength = (await parts.arrayBuffer()).byteLength;
  console.log(
    `new Blob([header, Bun.file().slice(), …]) sent ${partsLength} bytes of ${FILES * (64 + FILE_SIZE)}` +
      (partsLength < payloadSize ? " (the file parts are dropped)" : ""),
  );
  const framing: string[] = [];
  for (const row of ROWS) {
    const res = await fetch(`${server.url}${row.path}`);
    const bytes = (await res.arrayBuffer()).byteLength;
    row.size = bytes;
    const length = res.headers.get("content-length");
    framing.push(
      length !== null ? `Content-Length ${length}` : (res.headers.get("transfer-encoding") ?? "?"),
    );
    if (bytes < payloadSize) throw new BenchError(`${row.path} sent ${bytes} bytes`);
  }
  const cpu = ROWS.map(() => [] as number[]);
  const speed = ROWS.map(() => [] as number[]);
  for (let round = 0; round <= ROUNDS; round++) {
    for (let k = 0; k < ROWS.length; k++) {
      const i = (round + k) % ROWS.length; // each round starts one row further on
      const row = ROWS[i] as (typeof ROWS)[number];
      let [ms, bytes, seconds] = [0, 0, 0];
      for (let g = 0; g < GETS; g++) {
        const c0 = cpuMs(pid);
        const t = await wholeFile(`${server.url}${row.path}`, [], pid, row.size);
        ms += cpuMs(pid) - c0;
        bytes += t.bytes;
        seconds += t.seconds;
      }
      if (round === 0) continue; // warm-up
      cpu[i]?.push((ms * GiB) / bytes);
      speed[i]?.push(bytes / 1e6 / seconds);
    }
  }
  console.log(
    `${ROUNDS} rounds (+1 warm-up) of ${GETS} GETs per row, ${FILES} × ${FILE_SIZE / MiB} MiB; medians`,
  );
  const base = median(speed[0] as number[]);
  for (const [i, row] of ROWS.entries()) {
    const mbs = median(speed[i] as number[]);
    console.log(
      `${row.name.padEnd(40)} ${median(cpu[i] as number[])
        .toFixed(0)
        .padStart(5)} ms CPU/GiB ` +
        `${mbs.toFixed(0).padStart(6)} MB/s ${(mbs / base).toFixed(2)} ×  ${framing[i]}`,
    );
  }
  return 0;
}

await runMain(main);
