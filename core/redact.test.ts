import { describe, expect, test } from "bun:test";
import { redactFields, redactText } from "./redact.ts";

const jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";

describe("redaction", () => {
  test("fields named like credentials are masked whole, at any depth; others kept", () => {
    expect(
      redactFields({
        authorization: "Bearer abc",
        Cookie: "s=1",
        password: "hunter2",
        refreshToken: "r-123",
        internal_secret: "s",
        sig: "x",
        rid: "req-1",
        code: "NotFound",
        nested: { appPassword: "ap", ok: 1 },
        nothing: null,
      }),
    ).toEqual({
      authorization: "[redacted]",
      Cookie: "[redacted]",
      password: "[redacted]",
      refreshToken: "[redacted]",
      internal_secret: "[redacted]",
      sig: "[redacted]",
      rid: "req-1",
      code: "NotFound",
      nested: { appPassword: "[redacted]", ok: 1 },
      nothing: null,
    });
  });

  test("credentials inside text are masked: bearer tokens, JWTs, signing query parameters", () => {
    expect(redactText(`failed: Authorization: Bearer ${jwt} at x`)).toBe(
      "failed: Authorization: Bearer [redacted] at x",
    );
    expect(redactText(`token ${jwt}.`)).toBe("token [redacted].");
    expect(
      redactText(
        "GET https://s3/b/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AK%2F1&X-Amz-Signature=abc123&x=1 failed",
      ),
    ).toBe(
      "GET https://s3/b/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=[redacted]&X-Amz-Signature=[redacted]&x=1 failed",
    );
    expect(redactText("/download/v1/links/f1?expires=9&gen=1&sig=AbC_-x")).toBe(
      "/download/v1/links/f1?expires=9&gen=1&sig=[redacted]",
    );
    expect(redactText("/file/download?filehash=ab&token=t0k3n&username=u")).toBe(
      "/file/download?filehash=ab&token=[redacted]&username=u",
    );
    expect(redactText("plain text with no secrets")).toBe("plain text with no secrets");
  });
});
