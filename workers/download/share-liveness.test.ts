// The share liveness cache: what it keeps and for how long (the link's expiry by its own clock, the hard
// TTL), what drops it (events about the owner on "links" and "files", anything it cannot read, a reload),
// and that an answer asked for before an event is never stored after it.
import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import {
  WatchFilesResponse_Change as Change,
  FileSchema,
} from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { encodeFileEvent, publishers } from "../lib/bus/events.ts";
import { memoryBus } from "../lib/bus/memory.ts";
import { createLogger } from "../lib/log.ts";
import { followShareEvents, LiveShares } from "./share-liveness.ts";

const A = { shareId: "s".repeat(24), fileId: "f1" };
const B = { shareId: "t".repeat(24), fileId: "f2" };

function fixture(ttlMs = 60_000) {
  const clock = { now: 1_000_000 };
  const shares = new LiveShares<string>(ttlMs, () => clock.now);
  return { clock, shares };
}

/** Until `cond` holds, yielding to the bus's delivery (bounded: a failing test ends). */
async function settled(cond: () => boolean) {
  for (let i = 0; i < 200 && !cond(); i++) await Bun.sleep(1);
  return cond();
}

describe("LiveShares", () => {
  test("keeps an answer until the link's expiry by its own clock, and no longer than the TTL", () => {
    const { clock, shares } = fixture(10_000);
    shares.set(A, "alice", "a", clock.now + 5_000, shares.epoch());
    shares.set(B, "bob", "b", 0, shares.epoch()); // no expiry
    expect(shares.get(A)).toBe("a");
    expect(shares.get({ ...A, versionId: "v1" })).toBeUndefined(); // a version's URL is its own entry
    clock.now += 5_000; // the link's expiry: gone at once, whatever the TTL says
    expect(shares.get(A)).toBeUndefined();
    expect(shares.get(B)).toBe("b");
    clock.now += 5_000; // the TTL: the bound if an event is lost
    expect(shares.get(B)).toBeUndefined();
  });

  test("an event of an owner drops that owner's entries only; clear drops all", () => {
    const { clock, shares } = fixture();
    const A2 = { ...A, fileId: "f3" };
    for (const [k, owner] of [
      [A, "alice"],
      [A2, "alice"],
      [B, "bob"],
    ] as const)
      shares.set(k, owner, k.fileId, clock.now + 60_000, shares.epoch());
    shares.dropOwner("alice");
    expect([shares.get(A), shares.get(A2), shares.get(B)]).toEqual([undefined, undefined, "f2"]);
    shares.clear();
    expect(shares.get(B)).toBeUndefined();
  });

  test("an answer asked for before an event is not stored (it may predate a revoke)", () => {
    const { clock, shares } = fixture();
    const asked = shares.epoch();
    shares.dropOwner("someone"); // the event arrives while meta is being asked
    shares.set(A, "alice", "a", clock.now + 60_000, asked);
    expect(shares.get(A)).toBeUndefined();
    shares.set(A, "alice", "a", clock.now + 60_000, shares.epoch());
    expect(shares.get(A)).toBe("a");
  });

  test("requests that miss together share one call, but none joins a call asked before an event", async () => {
    const { shares } = fixture();
    let asked = 0;
    const release: Array<() => void> = [];
    const ask = (epoch: number) =>
      new Promise<string>((resolve) => {
        asked++;
        release.push(() => resolve(`answer@${epoch}`));
      });
    const first = shares.shared(A, ask);
    const second = shares.shared(A, ask);
    const other = shares.shared(B, ask); // another key: its own call
    expect(asked).toBe(2);
    shares.dropOwner("alice"); // a revoke's event while the call is under way
    const after = shares.shared(A, ask);
    expect(asked).toBe(3);
    for (const r of release) r();
    expect(await Promise.all([first, second, other, after])).toEqual([
      "answer@0",
      "answer@0",
      "answer@0",
      "answer@1",
    ]);
    // Done: the next miss asks again.
    void shares.shared(A, ask);
    expect(asked).toBe(4);
  });

  test("a TTL of 0 keeps nothing", () => {
    const { clock, shares } = fixture(0);
    shares.set(A, "alice", "a", clock.now + 60_000, shares.epoch());
    expect(shares.get(A)).toBeUndefined();
  });
});

describe("followShareEvents", () => {
  const file = (ownerId: string, id: string) =>
    encodeFileEvent({
      ownerId,
      op: "delete",
      change: Change.DELETED,
      file: create(FileSchema, { id, name: "x" }),
    });

  async function following() {
    const bus = memoryBus({ retain: 100 });
    const { clock, shares } = fixture();
    const stop = new AbortController();
    await followShareEvents(bus, shares, stop.signal, createLogger("test"));
    const fill = () => {
      shares.set(A, "alice", "a", clock.now + 60_000, shares.epoch());
      shares.set(B, "bob", "b", clock.now + 60_000, shares.epoch());
    };
    fill();
    return { bus, shares, stop, fill };
  }

  test("links events (revoke or edit of a share, a file's links revoked, an owner disabled) drop the owner's entries", async () => {
    const { bus, shares, stop, fill } = await following();
    const events = publishers(bus);
    for (const kind of ["share", "file-links", "owner"] as const) {
      events.linkRevoked({ kind, id: "x", ownerId: "alice" });
      expect(await settled(() => shares.get(A) === undefined)).toBe(true);
      expect(shares.get(B)).toBe("b");
      fill();
    }
    stop.abort();
  });

  test("a file event of the owner (a target trashed, moved, replaced) drops their entries", async () => {
    const { bus, shares, stop } = await following();
    await bus.publish("files", file("bob", "f9"));
    expect(await settled(() => shares.get(B) === undefined)).toBe(true);
    expect(shares.get(A)).toBe("a");
    stop.abort();
  });

  test("an event it cannot read drops everything (it might have been about any link)", async () => {
    const { bus, shares, stop } = await following();
    await bus.publish("links", "not json");
    expect(await settled(() => shares.size === 0)).toBe(true);
    stop.abort();
  });

  test("other topics change nothing; after abort nothing is followed", async () => {
    const { bus, shares, stop } = await following();
    await bus.publish("uploads", JSON.stringify({ ownerId: "alice" }));
    await bus.publish("blobs", JSON.stringify({ sha256: "0" }));
    await Bun.sleep(20);
    expect([shares.get(A), shares.get(B)]).toEqual(["a", "b"]);
    stop.abort();
    await Bun.sleep(5);
    await bus.publish("links", JSON.stringify({ kind: "share", id: "x", ownerId: "alice" }));
    await Bun.sleep(20);
    expect(shares.get(A)).toBe("a");
  });
});
