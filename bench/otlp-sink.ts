// Where a traced filestore's spans go in the benchmark: an OTLP/HTTP endpoint that takes every export
// and throws it away, as a collector on another machine would cost this one nothing more than the send.
const sink = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT || 0),
  async fetch(req) {
    await req.arrayBuffer();
    return Response.json({});
  },
});
process.stdout.write(`otlp sink listening on ${sink.url}\n`);
process.on("SIGTERM", () => {
  sink.stop(true);
  process.exit(0);
});

export {};
