import { describe, expect, test } from "bun:test";
import { metricsEndpoint } from "./expose.ts";
import { httpMetrics, measured } from "./http.ts";
import { MetricsRegistry } from "./registry.ts";
import { routeTemplate } from "./routes.ts";

/** The value of one sample line of `text`, by its exact name and labels. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe("route templates", () => {
  test("ids, hashes and names never reach a label", () => {
    const cases: Array<[string, string | undefined]> = [
      ["/upload/v1/files", "/upload/v1/files"],
      ["/upload/v1/form", "/upload/v1/form"],
      ["/upload/v1/sessions/AbC_123/parts/7", "/upload/v1/sessions/{id}/parts/{n}"],
      ["/upload/v1/tus/", "/upload/v1/tus/"],
      ["/upload/v1/tus/Zq9", "/upload/v1/tus/{id}"],
      ["/download/v1/files/f1", "/download/v1/files/{id}"],
      ["/download/v1/by-sha1/0123abcd", "/download/v1/by-sha1/{sha1}"],
      ["/download/v1/links/f1", "/download/v1/links/{id}"],
      ["/download/v1/thumbnails/aa/256", "/download/v1/thumbnails/{sha256}/{px}"],
      ["/filestore.upload.v1.UploadService/CreateUploadSession", "/{rpc}"],
      ["/metrics", "/metrics"],
      ["/secret-report.pdf", undefined],
      ["/upload/v1/sessions/x/parts", undefined],
      ["/file/anything", undefined],
    ];
    for (const [path, template] of cases) expect([path, routeTemplate(path)]).toEqual([path, template]);
  });
});

describe("HTTP metrics", () => {
  test("count requests by template, method and status, and declared bytes each way", async () => {
    const registry = new MetricsRegistry();
    const handler = measured(httpMetrics(registry, "upload"), async (req: Request) => {
      if (req.url.includes("/parts/9")) return new Response("no such part\n", { status: 404 });
      await req.arrayBuffer();
      return new Response("ok!", { status: 201, headers: { "content-length": "3" } });
    });
    const put = (n: number, body: string) =>
      handler(
        new Request(`http://w/upload/v1/sessions/S3cr3tSession/parts/${n}?token=t0k`, {
          method: "PUT",
          body,
          headers: { "content-length": String(body.length) },
        }),
      );
    expect((await put(1, "hello")).status).toBe(201);
    expect((await put(2, "world!")).status).toBe(201);
    expect((await put(9, "x")).status).toBe(404);
    await handler(new Request("http://w/odd/path/with-a-name.txt", { method: "PROPFIND" }));
    const text = registry.text();
    const route = 'route="/upload/v1/sessions/{id}/parts/{n}"';
    expect(
      sample(
        text,
        `filestore_http_server_duration_seconds_count{service="upload",method="PUT",${route},status="201"}`,
      ),
    ).toBe(2);
    expect(
      sample(
        text,
        `filestore_http_server_duration_seconds_count{service="upload",method="PUT",${route},status="404"}`,
      ),
    ).toBe(1);
    expect(sample(text, `filestore_http_server_request_bytes_total{service="upload",${route}}`)).toBe(12);
    expect(sample(text, `filestore_http_server_response_bytes_total{service="upload",${route}}`)).toBe(6);
    expect(
      sample(
        text,
        'filestore_http_server_duration_seconds_count{service="upload",method="OTHER",route="other",status="201"}',
      ),
    ).toBe(1);
    expect(text).not.toContain("S3cr3tSession");
    expect(text).not.toContain("with-a-name");
    expect(text).not.toContain("t0k");
  });

  test("a handler that answers at once stays synchronous (the download fast path)", () => {
    const registry = new MetricsRegistry();
    const handler = measured(httpMetrics(registry, "download"), () => new Response(null, { status: 304 }));
    const res = handler(new Request("http://w/download/v1/files/f1"));
    expect(res).toBeInstanceOf(Response);
    expect(registry.text()).toContain(
      'filestore_http_server_duration_seconds_count{service="download",method="GET",route="/download/v1/files/{id}",status="304"} 1',
    );
  });

  test("a HEAD answer's Content-Length is not counted as bytes sent", async () => {
    const registry = new MetricsRegistry();
    const handler = measured(
      httpMetrics(registry, "download"),
      () => new Response(null, { headers: { "content-length": "1000" } }),
    );
    await handler(new Request("http://w/download/v1/files/f1", { method: "HEAD" }));
    expect(registry.text()).not.toContain("filestore_http_server_response_bytes_total");
  });
});

describe("/metrics endpoint", () => {
  const text = () => "filestore_x 1\n";
  const get = (headers: Record<string, string> = {}, method = "GET") =>
    new Request("http://h/metrics", { method, headers });

  test("a public port without METRICS_TOKEN has no endpoint", async () => {
    const endpoint = metricsEndpoint({ token: undefined, requireToken: true, text });
    expect((await endpoint(get())).status).toBe(404);
  });

  test("with a token: 401 without or with a wrong one, the text with the right one", async () => {
    const endpoint = metricsEndpoint({ token: "s3cret-token", requireToken: true, text });
    expect((await endpoint(get())).status).toBe(401);
    expect((await endpoint(get({ authorization: "Bearer s3cret-tokeN" }))).status).toBe(401);
    expect((await endpoint(get({ authorization: "Basic s3cret-token" }))).status).toBe(401);
    const ok = await endpoint(get({ authorization: "Bearer s3cret-token" }));
    expect(ok.status).toBe(200);
    expect(ok.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    expect(await ok.text()).toBe("filestore_x 1\n");
    expect((await endpoint(get({ authorization: "Bearer s3cret-token" }, "POST"))).status).toBe(405);
  });

  test("an internal port without a token is open", async () => {
    const endpoint = metricsEndpoint({ token: "", requireToken: false, text });
    expect(await (await endpoint(get())).text()).toBe("filestore_x 1\n");
  });
});
