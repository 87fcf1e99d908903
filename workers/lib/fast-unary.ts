// A direct path for the common case of a Connect unary call — POST, `application/json` or
// `application/proto`, uncompressed, no timeout, a small declared body — that skips Connect's generic
// handler (async iterables, stream adapters, linked abort controllers). It runs the same interceptors and
// implementation and answers in the Connect wire format; anything else returns undefined and takes the
// full handler. In-process callers (the all-in-one gateway) use it; it roughly doubles unary throughput.
import { create, type DescMessage, type DescMethod, type DescService, isMessage } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  type ConnectRouter,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { createMethodSerializationLookup, getJsonOptions } from "@connectrpc/connect/protocol";
import { codeToHttpStatus, errorToJsonBytes } from "@connectrpc/connect/protocol-connect";

export type UnaryFn = (req: unknown, ctx: HandlerContext) => unknown;
export type Next = (req: UnaryRequest) => Promise<UnaryResponse>;

/** Wraps `call` in interceptors, the first one outermost (as Connect applies them). */
export function chainInterceptors(interceptors: readonly Interceptor[], call: Next): Next {
  let next = call;
  for (let i = interceptors.length - 1; i >= 0; i--)
    next = (interceptors[i] as Interceptor)(next as never) as Next;
  return next;
}

/**
 * The innermost step of a served unary call, under the server's interceptors: the implementation called
 * with its HandlerContext, its answer (a message or an init object) as a UnaryResponse.
 */
export function implementationStep(
  impl: UnaryFn,
  method: DescMethod,
  url: string,
  timeoutMs: () => number | undefined,
  responseHeader: Headers,
  responseTrailer: Headers,
): Next {
  return async (r) => {
    const ctx: HandlerContext = {
      service: method.parent,
      method,
      requestMethod: "POST",
      url,
      signal: r.signal,
      protocolName: "connect",
      timeoutMs,
      requestHeader: r.header,
      responseHeader,
      responseTrailer,
      values: r.contextValues,
    };
    const out = await impl(r.message, ctx);
    const message = isMessage(out, method.output) ? out : create(method.output, out as never);
    return {
      stream: false,
      service: method.parent,
      method,
      header: responseHeader,
      trailer: responseTrailer,
      message,
    } as UnaryResponse;
  };
}

interface Entry {
  method: DescMethod;
  impl: UnaryFn;
  serialization: ReturnType<typeof createMethodSerializationLookup>;
}

/** `{}`: the whole body of most calls that take no arguments (GetUserInfo), read without a JSON parser. */
const isEmptyJson = (b: Uint8Array, binary: boolean) =>
  !binary && b.length === 2 && b[0] === 0x7b && b[1] === 0x7d;

export class FastUnary {
  private readonly entries = new Map<string, Entry>();
  /**
   * Encodings of response messages already sent. A handler that answers from a cache returns the same
   * message object again and gets the same bytes without re-encoding (JSON encoding is the costliest step
   * of a small call). Handlers treat a message as immutable once returned, as shared cached values must be.
   */
  private readonly encoded = new WeakMap<object, { json?: Uint8Array; binary?: Uint8Array }>();

  constructor(
    private readonly interceptors: Interceptor[],
    private readonly maxBytes: number,
  ) {}

  /** A router that registers with `router` and also records every unary implementation for the fast path. */
  capture(router: ConnectRouter): ConnectRouter {
    const record = (method: DescMethod, fn: unknown, self: unknown) => {
      if (method.methodKind !== "unary" || typeof fn !== "function") return;
      this.entries.set(`/${method.parent.typeName}/${method.name}`, {
        method,
        impl: fn.bind(self) as UnaryFn,
        serialization: createMethodSerializationLookup(method, undefined, getJsonOptions(undefined), {
          readMaxBytes: this.maxBytes,
          writeMaxBytes: 0xffffffff,
        }),
      });
    };
    const wrapper: ConnectRouter = {
      get handlers() {
        return router.handlers;
      },
      service(desc: DescService, impl: object, options?: object) {
        for (const m of desc.methods) record(m, (impl as Record<string, unknown>)[m.localName], impl);
        router.service(desc, impl as never, options);
        return wrapper;
      },
      rpc(method: DescMethod, impl: unknown, options?: object) {
        record(method, impl, undefined);
        router.rpc(method as never, impl as never, options);
        return wrapper;
      },
    } as ConnectRouter;
    return wrapper;
  }

  private encode(message: object, binary: boolean, serialization: Entry["serialization"]): Uint8Array {
    const memo = this.encoded.get(message) ?? {};
    const key = binary ? "binary" : "json";
    let bytes = memo[key];
    if (!bytes) {
      bytes = serialization.getO(binary).serialize(message as never);
      memo[key] = bytes;
      this.encoded.set(message, memo);
    }
    return bytes;
  }

  /** A body of undeclared length, refusing more than maxBytes. */
  private async readUndeclared(req: Request): Promise<Uint8Array> {
    if (!req.body) return new Uint8Array(0);
    const chunks: Uint8Array[] = [];
    let size = 0;
    for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > this.maxBytes) {
        throw new ConnectError(
          `message size ${size} is larger than configured readMaxBytes ${this.maxBytes}`,
          Code.ResourceExhausted,
        );
      }
      chunks.push(chunk);
    }
    return chunks.length === 1 ? (chunks[0] as Uint8Array) : Buffer.concat(chunks);
  }

  /** The response, or undefined when this call needs the full Connect handler. */
  async handle(path: string, req: Request, values: ContextValues): Promise<Response | undefined> {
    const entry = this.entries.get(path);
    if (!entry || req.method !== "POST") return undefined;
    const contentType = req.headers.get("content-type");
    const binary = contentType === "application/proto";
    if (!binary && contentType !== "application/json") return undefined;
    if (req.headers.has("content-encoding") || req.headers.has("connect-timeout-ms")) return undefined;
    // A declared oversized body gets the full handler's refusal without being read.
    if (Number(req.headers.get("content-length")) > this.maxBytes) return undefined;

    const { method, impl, serialization } = entry;
    const responseHeader = new Headers({ "content-type": contentType });
    const responseTrailer = new Headers();
    let status = 200;
    let body: Uint8Array;
    try {
      let input: DescMessage;
      try {
        const bytes = req.headers.has("content-length")
          ? new Uint8Array(await req.arrayBuffer())
          : await this.readUndeclared(req);
        input = (
          isEmptyJson(bytes, binary) ? create(method.input) : serialization.getI(binary).parse(bytes)
        ) as never;
      } catch (err) {
        if (err instanceof ConnectError && err.code === Code.ResourceExhausted) throw err;
        throw new ConnectError(
          `cannot decode the request: ${ConnectError.from(err).rawMessage}`,
          Code.InvalidArgument,
        );
      }
      const base = {
        service: method.parent,
        requestMethod: "POST",
        url: req.url,
        signal: req.signal,
      };
      const next = chainInterceptors(
        this.interceptors,
        implementationStep(impl, method, req.url, () => undefined, responseHeader, responseTrailer),
      );
      const res = await next({
        ...base,
        stream: false,
        method,
        header: req.headers,
        contextValues: values,
        message: input,
      } as never);
      if (res.header !== responseHeader) for (const [k, v] of res.header) responseHeader.set(k, v);
      if (res.trailer !== responseTrailer) for (const [k, v] of res.trailer) responseTrailer.set(k, v);
      body = this.encode(res.message, binary, serialization);
    } catch (err) {
      const error = ConnectError.from(err);
      status = codeToHttpStatus(error.code);
      responseHeader.set("content-type", "application/json");
      for (const [k, v] of error.metadata) responseHeader.set(k, v);
      body = errorToJsonBytes(error, {});
    }
    // Connect unary sends trailers as "trailer-" prefixed headers.
    for (const [k, v] of responseTrailer) responseHeader.append(`trailer-${k}`, v);
    return new Response(body as Uint8Array<ArrayBuffer>, { status, headers: responseHeader });
  }
}
