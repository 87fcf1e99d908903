// The fields a multipart form sends before its file: legacy clients send their token that way, so a form
// upload without other credentials is the one request whose body the edge reads before it knows the
// sender. It stops reading once MAX_FIELDS_BYTES came (plus the rest of the chunk that brought them), then
// hands the body on whole: the bytes read, then the rest.
import { boundaryOf, MultipartError, readMultipart } from "../../core/multipart.ts";

/** Most bytes of a form read before its file field while the sender is unknown. */
export const MAX_FIELDS_BYTES = 64 * 1024;

export class FormFieldsError extends Error {
  override name = "FormFieldsError";
}

export interface FormFields {
  fields: Record<string, string>;
  /** The request again, with its whole body, for the worker. */
  request: Request;
}

/** The fields before the file field of a multipart/form-data request (none for another body). */
export async function fieldsBeforeFile(req: Request, maxBytes = MAX_FIELDS_BYTES): Promise<FormFields> {
  const boundary = boundaryOf(req.headers.get("content-type"));
  if (!boundary || !req.body) return { fields: {}, request: req };
  const reader = req.body.getReader();
  const read: Uint8Array[] = [];
  let size = 0;
  const counted = new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        // No more reads once maxBytes came without the file field (the last chunk may run past it).
        if (size >= maxBytes) {
          return c.error(
            new FormFieldsError(
              `the form sends more than ${maxBytes / 1024} KiB before its file field: send the token ` +
                "in an Authorization header or the query string, or as a short field before the file",
            ),
          );
        }
        const r = await reader.read();
        if (r.done) return c.close();
        size += r.value.byteLength;
        read.push(r.value);
        c.enqueue(r.value);
      },
    },
    { highWaterMark: 0 },
  );
  const fields: Record<string, string> = Object.create(null);
  try {
    for await (const part of readMultipart(counted, boundary, { maxParts: 64 })) {
      // Leaving the loop leaves the file's bytes unread.
      if (part.name === "file") break;
      fields[part.name] = await new Response(part.body).text();
    }
  } catch (err) {
    if (err instanceof MultipartError) throw new FormFieldsError(`malformed form: ${err.message}`);
    throw err;
  }
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      for (const chunk of read) c.enqueue(chunk);
    },
    async pull(c) {
      const r = await reader.read();
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  const request = new Request(req.url, {
    method: req.method,
    headers: req.headers,
    body,
    signal: req.signal,
    duplex: "half",
  } as RequestInit);
  return { fields, request };
}
