// Database spans on both dialects: one CLIENT span per statement, under the span of the work that ran
// it, with the operation, the table and the statement with placeholders, never a parameter's value; and
// the trace context a transfer job keeps in its outbox row.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { context, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { recordSpans } from "../../../core/tracing/testing.ts";
import { activeTracer, withSpan } from "../../../core/tracing/tracer.ts";
import * as transfer from "../transfer.ts";
import type { Db } from "./database.ts";
import { testDatabases } from "./testing.ts";

for (const target of testDatabases()) {
  describe(`database spans on ${target.dialect}`, () => {
    let db: Db;
    let drop: () => Promise<void>;
    let recording: ReturnType<typeof recordSpans>;
    beforeAll(async () => {
      ({ db, drop } = await target.open());
      recording = recordSpans(new AsyncLocalStorageContextManager());
    });
    afterAll(async () => {
      await recording.stop();
      await drop();
    });

    test("a statement is a span under the active one: operation, table, placeholders only", async () => {
      recording.reset();
      const parent = activeTracer()?.startSpan("request");
      const secret = "value-that-must-not-show";
      await withSpan(parent as NonNullable<typeof parent>, () =>
        db.selectFrom("users").select("id").where("username", "=", secret).execute(),
      );
      parent?.end();
      const [span] = recording.spans().filter((s) => s.kind === SpanKind.CLIENT);
      expect(span?.name).toBe("SELECT users");
      expect(span?.attributes).toMatchObject({
        "db.system.name": target.dialect,
        "db.operation.name": "SELECT",
        "db.collection.name": "users",
      });
      expect(String(span?.attributes["db.query.text"])).toContain("?");
      expect(JSON.stringify(span?.attributes)).not.toContain(secret);
      expect(span?.parentSpanContext?.spanId).toBe(parent?.spanContext().spanId as string);
    });

    test("a failing statement is an error span; inserts and updates are named for their table", async () => {
      recording.reset();
      await expect(
        db
          .insertInto("users")
          .values({ id: "x" } as never)
          .execute(),
      ).rejects.toThrow();
      await db.updateTable("transfer_jobs").set({ attempts: 1 }).where("blob_sha256", "=", "0").execute();
      const [insert, update] = recording.spans();
      expect([insert?.name, insert?.status.code]).toEqual(["INSERT users", SpanStatusCode.ERROR]);
      expect(update?.name).toBe("UPDATE transfer_jobs");
    });

    test("a transfer job keeps the traceparent of the work that recorded it; none outside a trace", async () => {
      const work = activeTracer()?.startSpan("upload") as NonNullable<
        ReturnType<typeof activeTracer>
      > extends {
        startSpan(...a: never[]): infer S;
      }
        ? S
        : never;
      const traced = "a".repeat(64);
      await withSpan(work, () => transfer.enqueueTransfer(db, traced, 1));
      work.end();
      const { traceId, spanId } = work.spanContext();
      expect((await transfer.getJob(db, traced))?.traceparent).toBe(`00-${traceId}-${spanId}-01`);
      const untraced = "c".repeat(64);
      await context.with(context.active(), () => transfer.enqueueTransfer(db, untraced, 1));
      expect((await transfer.getJob(db, untraced))?.traceparent).toBeNull();
    });
  });
}
