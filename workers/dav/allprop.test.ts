// The fast allprop renderer writes exactly what the general one does, for files (with and without a
// SHA-1, names needing escapes) and folders.
import { describe, expect, test } from "bun:test";
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { FileKind, FileSchema } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { packDoubles, packStrings } from "../lib/packed-columns.ts";
import { allpropListedXml, allpropXml } from "./allprop.ts";
import { responseXml } from "./props.ts";
import { entryOf, entryOfListed, listedOfColumns } from "./tree.ts";
import { esc } from "./xml.ts";

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

describe("allpropListedXml", () => {
  test("a page's columns render as responseXml renders their entries, hrefs escaped in two parts", () => {
    const names = ["report.pdf", `a & b <"c">'.txt`, "Été", "noext"];
    const page = listedOfColumns({
      $typeName: "filestore.meta.v1.DavEntryColumns",
      id: { $typeName: "filestore.meta.v1.PackedStrings", ...packStrings(names.map((_, i) => `id-${i}`)) },
      name: { $typeName: "filestore.meta.v1.PackedStrings", ...packStrings(names) },
      folder: [false, false, true, false],
      size: packDoubles([123_456, 0, 0, 2 ** 40]),
      createdMs: packDoubles([1_700_000_000_123, 0, 1_700_000_000_005, -1_500]),
      updatedMs: packDoubles([1_733_000_000_999, 1, 1_733_000_000_000, 1_733_000_000_050]),
      sha256: {
        $typeName: "filestore.meta.v1.PackedStrings",
        ...packStrings(["ab".repeat(32), "ef".repeat(32), "", "01".repeat(32)]),
      },
      sha1: { $typeName: "filestore.meta.v1.PackedStrings", ...packStrings(["cd".repeat(20), "", "", ""]) },
    });
    expect(page.map((r) => r.name)).toEqual(names);
    // A folder whose path needs escaping itself ("'" is left alone by encodeURIComponent).
    const base = "/dav/it's/";
    for (const r of page) {
      const href = `${base}${encodeURIComponent(r.name)}${r.folder ? "/" : ""}`;
      const escaped = `${esc(base)}${esc(encodeURIComponent(r.name))}${r.folder ? "/" : ""}`;
      const e = entryOfListed(r, "parent");
      for (const locks of ["", "<d:activelock/>"])
        expect(allpropListedXml(escaped, r, locks)).toBe(
          responseXml(href, e, { kind: "allprop" }, undefined, undefined, locks),
        );
    }
  });
});
