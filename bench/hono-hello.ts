// The baseline: a bare Hono hello-world on Bun.serve, the same runtime and framework as the gateway.
// Run as its own process so it never shares an event loop with the harness or the system under test.
import { Hono } from "hono";

const app = new Hono();
app.get("/", (c) => c.json({ hello: "world" }));

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(process.env.PORT || 0), // 0: the kernel picks a free port; we print it
  fetch: app.fetch,
});
process.stdout.write(`hono hello listening on ${server.url}\n`);
process.on("SIGTERM", () => {
  server.stop(true);
  process.exit(0);
});
