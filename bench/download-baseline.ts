// The baseline of `npm run bench:download`: a bare Bun.serve handler answering every GET with
// `Bun.file()` of one file. Bun handles Range on such a response itself (206, Content-Range) and sends the
// bytes with sendfile(2): the least any download endpoint on this runtime does. Bun.serve's defaults, as
// the filestore's server has them (an idle timeout of 10 s among them: a server on a network needs one, and
// without it Bun spends about 5% less CPU per ranged GET here).
//
// Env: BASELINE_FILE (required) the file to serve; PORT (default 0: the kernel picks one).
// Prints "listening on http://127.0.0.1:<port>".
const path = process.env.BASELINE_FILE;
if (!path) throw new Error("BASELINE_FILE is required");
const file = Bun.file(path);

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT || 0),
  fetch: () => new Response(file),
});
console.log(`listening on http://127.0.0.1:${server.port}`);
