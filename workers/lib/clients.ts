// Connect clients between services: over HTTP in services mode, in memory in the all-in-one mode.
import type { DescService } from "@bufbuild/protobuf";
import {
  type Client,
  createClient,
  createRouterTransport,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { internalCallerInterceptor } from "./interceptors.ts";
import type { ServiceModule } from "./server.ts";

/** A binary Connect transport to another worker, presenting the internal secret. */
export function httpTransport(baseUrl: string, internalSecret: string | undefined): Transport {
  return createConnectTransport({
    baseUrl,
    httpVersion: "1.1",
    useBinaryFormat: true,
    interceptors: internalSecret ? [internalCallerInterceptor(internalSecret)] : [],
  });
}

/** An in-memory transport to a module, through the same server-side interceptors as the network. */
export function memoryTransport(
  module: ServiceModule,
  serverInterceptors: Interceptor[],
  internalSecret: string,
): Transport {
  return createRouterTransport((router) => module.routes(router), {
    router: { interceptors: serverInterceptors },
    transport: { interceptors: [internalCallerInterceptor(internalSecret)] },
  });
}

export const clientFor = <S extends DescService>(service: S, transport: Transport): Client<S> =>
  createClient(service, transport);
