// The answers of a batch's conflicts: one question at a time, "Apply to all" answers the rest, except a
// "replace" for an entry that cannot be replaced; the answers map to the contract's policies.
import { describe, expect, test } from "bun:test";
import { ConflictPolicy } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { type Choice, type Conflict, conflictResolver, policyOf } from "./conflicts.ts";

/** A scripted user: answers in order, recording what was asked and how many questions were open at once. */
function user(answers: { choice: Choice; all: boolean }[]) {
  const asked: Conflict[] = [];
  let open = 0;
  let mostOpen = 0;
  const ask = async (c: Conflict) => {
    asked.push(c);
    mostOpen = Math.max(mostOpen, ++open);
    await new Promise((r) => setTimeout(r, 5));
    open--;
    const a = answers.shift();
    if (!a) throw new Error(`asked more than scripted: ${c.name}`);
    return a;
  };
  return { ask, asked, mostOpen: () => mostOpen };
}

const conflict = (name: string, canReplace = true): Conflict => ({ name, canReplace, more: true });

describe("conflictResolver", () => {
  test("asks about each conflict, one at a time, when no answer applies to all", async () => {
    const u = user([
      { choice: "rename", all: false },
      { choice: "skip", all: false },
      { choice: "replace", all: false },
    ]);
    const resolve = conflictResolver(u.ask);
    const got = await Promise.all(["a", "b", "c"].map((n) => resolve(conflict(n))));
    expect(got).toEqual(["rename", "skip", "replace"]);
    expect(u.asked.map((c) => c.name)).toEqual(["a", "b", "c"]);
    expect(u.mostOpen()).toBe(1);
  });

  test("an answer applied to all answers the rest without asking", async () => {
    const u = user([{ choice: "rename", all: true }]);
    const resolve = conflictResolver(u.ask);
    const got = await Promise.all(["a", "b", "c"].map((n) => resolve(conflict(n, n !== "b"))));
    expect(got).toEqual(["rename", "rename", "rename"]);
    expect(u.asked).toHaveLength(1);
  });

  test("'replace' for all still asks about an entry that cannot be replaced (a folder)", async () => {
    const u = user([
      { choice: "replace", all: true },
      { choice: "skip", all: false },
    ]);
    const resolve = conflictResolver(u.ask);
    const got = await Promise.all([
      resolve(conflict("a")),
      resolve(conflict("dir", false)),
      resolve(conflict("c")),
    ]);
    expect(got).toEqual(["replace", "skip", "replace"]);
    expect(u.asked.map((c) => c.name)).toEqual(["a", "dir"]);
  });

  test("a question that fails does not stop the next ones", async () => {
    let first = true;
    const resolve = conflictResolver(async () => {
      if (first) {
        first = false;
        throw new Error("dialog failed");
      }
      return { choice: "skip", all: false };
    });
    await expect(resolve(conflict("a"))).rejects.toThrow("dialog failed");
    expect(await resolve(conflict("b"))).toBe("skip");
  });

  test("keep both is RENAME, replace is REPLACE", () => {
    expect(policyOf("rename")).toBe(ConflictPolicy.RENAME);
    expect(policyOf("replace")).toBe(ConflictPolicy.REPLACE);
  });
});
