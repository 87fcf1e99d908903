// The Deno server's last-resort answer (an error no route answered) names a request id, as every 5xx does.
import { expect, spyOn, test } from "bun:test";
import { onError } from "../serve/deno.ts";

test("a 500 the app did not answer carries a request id, in the header and the message", async () => {
  const log = spyOn(console, "error").mockImplementation(() => {});
  const res = onError(new Error("boom"));
  const rid = res.headers.get("x-request-id");
  expect(rid).toBeTruthy();
  expect([res.status, await res.text()]).toEqual([500, `internal error (request id ${rid})\n`]);
  expect(String(log.mock.calls[0]?.[0])).toContain(rid as string);
  log.mockRestore();
});
