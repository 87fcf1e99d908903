// The fast allprop renderer writes exactly what the general one does, for files (with and without a
// SHA-1, names needing escapes) and folders.
import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { FileKind, FileSchema } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { allpropXml } from "./allprop.ts";
import { responseXml } from "./props.ts";
import { entryOf } from "./tree.ts";

const file = (over: Partial<{ name: string; kind: FileKind; sha1: string }>) =>
  entryOf(
    create(FileSchema, {
      id: "0b6f2f8e-1d7c-4a53-9a8e-2f3d5c6e7f80",
      name: over.name ?? "report.pdf",
      kind: over.kind ?? FileKind.FILE,
      size: 123_456n,
      sha256: "ab".repeat(32),
      sha1: over.sha1 ?? "cd".repeat(20),
      createdAt: timestampFromMs(1_700_000_000_123),
      updatedAt: timestampFromMs(1_733_000_000_999),
    }),
  );

describe("allpropXml", () => {
  for (const [what, e] of [
    ["a file", file({})],
    ["a file without its SHA-1 yet", file({ sha1: "" })],
    ["a name needing escapes", file({ name: `a & b <"c">'.txt` })],
    ["an unknown type", file({ name: "noext" })],
    ["a folder", file({ kind: FileKind.FOLDER, name: "Été & co" })],
  ] as const) {
    test(`${what}: the same as responseXml, without and with a lock`, () => {
      const href = "/dav/x/%C3%A9t%C3%A9%20%26";
      for (const locks of ["", "<d:activelock><d:locktype><d:write/></d:locktype></d:activelock>"])
        expect(allpropXml(href, e, locks)).toBe(
          responseXml(href, e, { kind: "allprop" }, undefined, undefined, locks),
        );
    });
  }
});
