// grpc.health.v1.Health: "" and every registered service report SERVING until shutdown begins.
import type { ConnectRouter } from "@connectrpc/connect";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  Health,
  HealthCheckResponse_ServingStatus as Status,
} from "../../proto/gen/grpc/health/v1/health_pb.ts";

export class HealthState {
  private readonly statuses = new Map<string, Status>();
  private readonly waiters = new Set<() => void>();

  set(service: string, status: Status): void {
    this.statuses.set(service, status);
    for (const wake of this.waiters) wake();
  }
  get(service: string): Status | undefined {
    return this.statuses.get(service);
  }
  all(): Map<string, Status> {
    return this.statuses;
  }
  /** Marks everything NOT_SERVING (load balancers stop sending new calls). */
  drain(): void {
    for (const name of this.statuses.keys()) this.set(name, Status.NOT_SERVING);
  }
  changed(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        resolve();
      };
      this.waiters.add(wake);
      signal.addEventListener("abort", wake, { once: true });
    });
  }
}

export function healthRoutes(state: HealthState) {
  return (router: ConnectRouter) =>
    router.service(Health, {
      check(req) {
        const status = state.get(req.service);
        if (status === undefined) throw new ConnectError(`unknown service "${req.service}"`, Code.NotFound);
        return { status };
      },
      list() {
        return { statuses: Object.fromEntries([...state.all()].map(([k, status]) => [k, { status }])) };
      },
      async *watch(req, ctx) {
        let last: Status | undefined;
        while (!ctx.signal.aborted) {
          const status = state.get(req.service) ?? Status.SERVICE_UNKNOWN;
          if (status !== last) yield { status };
          last = status;
          await state.changed(ctx.signal);
        }
      },
    });
}
