// Entry for Deno: `deno run --allow-net --allow-env --allow-read gateway/deno-main.ts` (HOST, PORT and the
// rest as for gateway/main.ts), serving with header, idle-body and keep-alive timeouts (serve/deno.ts).
import { address, app, limits } from "./main.ts";
import { serveWithTimeouts } from "./serve/deno.ts";

await serveWithTimeouts(app.fetch as Parameters<typeof serveWithTimeouts>[0], { ...address, limits });
