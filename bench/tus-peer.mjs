// The peer of `npm run bench:upload`: @tus/server with its file store, the off-the-shelf resumable upload
// server a user would otherwise pick, run the way its users run it: on Node (its package declares
// `engines.node`; it is a Node http handler). Plain JavaScript so that Node runs it as it is.
//
// Env: TUS_DIR (required) where uploads land; PORT (default 0). Serves tus 1.0.0 under /files and prints
// "listening on http://127.0.0.1:<port>".
import { createServer } from "node:http";
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";

const directory = process.env.TUS_DIR;
if (!directory) throw new Error("TUS_DIR is required");

const tus = new Server({ path: "/files", datastore: new FileStore({ directory }) });
const http = createServer((req, res) => {
  void tus.handle(req, res);
});
http.listen(Number(process.env.PORT || 0), "127.0.0.1", () => {
  console.log(`listening on http://127.0.0.1:${http.address().port}`);
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => http.close(() => process.exit(0)));
