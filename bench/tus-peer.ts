// The peer of `npm run bench:upload`: @tus/server with its file store, the off-the-shelf resumable upload
// server a user would otherwise pick, on Node's http module (run under Bun like everything else here).
//
// Env: TUS_DIR (required) where uploads land; PORT (default 0). Serves tus 1.0.0 under /files and prints
// "listening on http://127.0.0.1:<port>".
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";

const directory = process.env.TUS_DIR;
if (!directory) throw new Error("TUS_DIR is required");

const tus = new Server({ path: "/files", datastore: new FileStore({ directory }) });
const http = createServer((req, res) => {
  void tus.handle(req, res);
});
http.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  const { port } = http.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}`);
});
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => http.close(() => process.exit(0)));
