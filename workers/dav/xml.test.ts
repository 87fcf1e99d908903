// Request XML: namespaces resolved, DOCTYPE (entities, external or not) refused, sizes bounded; values
// written back with their namespaces; PROPFIND bodies read into what they ask for.
import { describe, expect, test } from "bun:test";
import { propRequestOf } from "./propfind.ts";
import { BadXmlError, innerXml, MAX_XML_BYTES, parseXml, readBodyText } from "./xml.ts";

describe("parseXml", () => {
  test("namespaces and mixed content", () => {
    const el = parseXml(`<a:p xmlns:a="DAV:" xmlns:z="urn:z"><z:v>x<z:b/>y</z:v></a:p>`);
    expect(el?.ns).toBe("DAV:");
    expect(el?.name).toBe("p");
    const v = el?.children[0];
    expect([v?.ns, v?.name]).toEqual(["urn:z", "v"]);
    expect(innerXml(v as NonNullable<typeof v>)).toBe(`x<n0:b xmlns:n0="urn:z"/>y`);
    expect(parseXml("  \n")).toBeUndefined();
  });

  test("DOCTYPE, billion laughs, XXE and malformed documents are BadXmlError", () => {
    const bad = [
      `<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>`,
      `<!DOCTYPE a [<!ENTITY l "ll"><!ENTITY l2 "&l;&l;">]><a>&l2;</a>`,
      `<a>`,
      `<a></b>`,
      `<a>&undefined;</a>`,
      `text`,
    ];
    for (const b of bad) expect(() => parseXml(b)).toThrow(BadXmlError);
  });

  test("bodies over the bound are refused (413) with or without Content-Length", async () => {
    const big = "x".repeat(MAX_XML_BYTES + 1);
    const withLength = new Request("http://h/", { method: "POST", body: big });
    await expect(readBodyText(withLength)).rejects.toMatchObject({ status: 413 });
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const chunked = new Request("http://h/", { method: "POST", body: stream, duplex: "half" } as RequestInit);
    await expect(readBodyText(chunked)).rejects.toMatchObject({ status: 413 });
    expect(await readBodyText(new Request("http://h/", { method: "POST", body: "<a/>" }))).toBe("<a/>");
  });
});

describe("propRequestOf", () => {
  test("allprop (also for an empty body), propname, named props; anything else is 400", () => {
    expect(propRequestOf(undefined)).toEqual({ kind: "allprop" });
    expect(propRequestOf(parseXml(`<propfind xmlns="DAV:"><propname/></propfind>`))).toEqual({
      kind: "propname",
    });
    expect(
      propRequestOf(
        parseXml(
          `<d:propfind xmlns:d="DAV:"><d:prop><d:getetag/><x:y xmlns:x="urn:x"/></d:prop></d:propfind>`,
        ),
      ),
    ).toEqual({
      kind: "prop",
      props: [
        { ns: "DAV:", name: "getetag" },
        { ns: "urn:x", name: "y" },
      ],
    });
    expect(() => propRequestOf(parseXml(`<propfind xmlns="urn:not-dav"><allprop/></propfind>`))).toThrow(
      BadXmlError,
    );
    expect(() => propRequestOf(parseXml(`<propfind xmlns="DAV:"/>`))).toThrow(BadXmlError);
  });
});
