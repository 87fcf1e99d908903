// A signed-in conversation with one server: Connect clients (generated from the protos) whose calls carry
// a fresh access token, refreshed automatically shortly before it expires (or when the server says it
// no longer accepts it), and the same for plain HTTP requests to the data plane.
import type { DescService } from "@bufbuild/protobuf";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { AccountService, type TokenPair } from "../proto/gen/filestore/account/v1/account_pb.ts";
import type { CredentialStore, Credentials } from "./credentials.ts";
import { retryInterceptor } from "./network.ts";
import { request } from "./pool.ts";

/** Not signed in, or the session ended (exit code 3). */
export class AuthError extends Error {}

/**
 * Refresh this long before the access token expires, so that a call never leaves with a dying token: a
 * minute, or a third of the token's lifetime when that is short.
 */
export const refreshMargin = (c: Credentials) =>
  Math.min(60_000, Math.max(0, c.accessTokenExpiresAt - (c.accessTokenIssuedAt ?? 0)) / 3);

const fresh = (c: Credentials, now = Date.now()) => c.accessTokenExpiresAt - now > refreshMargin(c);

export function connectTransport(server: string, interceptors: Interceptor[] = []): Transport {
  return createConnectTransport({
    baseUrl: server,
    httpVersion: "1.1",
    useBinaryFormat: true,
    interceptors: [retryInterceptor(server), ...interceptors],
  });
}

export function credentialsFrom(
  pair: TokenPair | undefined,
  user: { id: string; username: string },
): Credentials {
  if (!pair?.accessTokenExpiresAt || !pair.refreshTokenExpiresAt) {
    throw new ConnectError("the server sent no tokens", Code.Internal);
  }
  return {
    username: user.username,
    userId: user.id,
    accessToken: pair.accessToken,
    accessTokenIssuedAt: Date.now(),
    accessTokenExpiresAt: timestampMs(pair.accessTokenExpiresAt),
    refreshToken: pair.refreshToken,
    refreshTokenExpiresAt: timestampMs(pair.refreshTokenExpiresAt),
  };
}

export class Session {
  /** Clients of this transport carry the caller's access token. */
  readonly transport: Transport;
  /** AccountService without a token (Signup, Signin, Refresh, Signout are public). */
  readonly accounts: Client<typeof AccountService>;
  private refreshing: Promise<string> | undefined;

  constructor(
    readonly server: string,
    readonly store: CredentialStore,
  ) {
    this.accounts = createClient(AccountService, connectTransport(server));
    this.transport = connectTransport(server, [this.authInterceptor]);
  }

  client<S extends DescService>(service: S): Client<S> {
    return createClient(service, this.transport);
  }

  credentials(): Credentials {
    const c = this.store.get(this.server);
    if (!c) throw new AuthError(`not signed in to ${this.server}: run filestore login`);
    return c;
  }

  /** A valid access token; `rejected` is one the server just refused, which forces a refresh. */
  async accessToken(rejected?: string): Promise<string> {
    const c = this.credentials();
    if (c.accessToken !== rejected && fresh(c)) {
      return c.accessToken;
    }
    this.refreshing ??= this.refresh(rejected ?? c.accessToken).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private refresh(stale: string): Promise<string> {
    return this.store.withLock(async () => {
      const c = this.credentials();
      // Another filestore process may have refreshed while this one waited for the lock.
      if (c.accessToken !== stale && fresh(c)) {
        return c.accessToken;
      }
      if (c.refreshTokenExpiresAt <= Date.now()) {
        this.store.set(this.server, undefined);
        throw new AuthError(`your session on ${this.server} expired: run filestore login`);
      }
      let tokens: TokenPair | undefined;
      try {
        ({ tokens } = await this.accounts.refresh({ refreshToken: c.refreshToken }));
      } catch (err) {
        if (ConnectError.from(err).code !== Code.Unauthenticated) throw err;
        this.store.set(this.server, undefined);
        throw new AuthError(
          `your session on ${this.server} ended (signed out elsewhere?): run filestore login`,
        );
      }
      const next = credentialsFrom(tokens, { id: c.userId, username: c.username });
      this.store.set(this.server, next);
      return next.accessToken;
    });
  }

  private readonly authInterceptor: Interceptor = (next) => async (req) => {
    const token = await this.accessToken();
    req.header.set("authorization", `Bearer ${token}`);
    try {
      return await next(req);
    } catch (err) {
      // A streamed request cannot be replayed; a unary one can, once, with a new token.
      if (req.stream || ConnectError.from(err).code !== Code.Unauthenticated) throw err;
      req.header.set("authorization", `Bearer ${await this.accessToken(token)}`);
      return await next(req);
    }
  };

  /** The server's URL for a path it returned (data-plane paths are relative to the gateway). */
  url(pathOrUrl: string): URL {
    return new URL(pathOrUrl, `${this.server}/`);
  }

  /**
   * fetch() to the data plane with the access token; a 401 is retried once with a refreshed token (so the
   * body is one that can be sent twice: bytes or a Blob, such as a slice of a file).
   */
  async fetch(
    url: URL | string,
    init: RequestInit & { body?: Uint8Array | Blob | null } = {},
  ): Promise<Response> {
    const send = (token: string) => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${token}`);
      return request(url, { ...init, headers });
    };
    const token = await this.accessToken();
    const res = await send(token);
    if (res.status !== 401) return res;
    await res.body?.cancel();
    return send(await this.accessToken(token));
  }
}
