import { describe, expect, test } from "bun:test";
import { FileKind } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { viewKind } from "./file-kinds.ts";

describe("viewKind", () => {
  const file = (name: string) => viewKind({ name, kind: FileKind.FILE });
  test("by extension, case-insensitive", () => {
    expect(["a.JPG", "b.webp", "c.avif", "d.svg", "e.gif"].map(file)).toEqual(Array(5).fill("image"));
    expect(["x.html", "y.ts", "README.md", "Makefile"].map(file)).toEqual(Array(4).fill("text"));
    expect([file("a.pdf"), file("a.mp3"), file("a.webm"), file("a.bin"), file("noext")]).toEqual([
      "pdf",
      "audio",
      "video",
      "other",
      "other",
    ]);
  });
  test("folders are folders whatever their name", () => {
    expect(viewKind({ name: "photo.jpg", kind: FileKind.FOLDER })).toBe("folder");
  });
});
