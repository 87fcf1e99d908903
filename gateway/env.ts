// Reading the environment without runtime imports (Deno, Bun and Node alike).

type EnvMap = Record<string, string | undefined>;

export function readEnv(): EnvMap {
  const g = globalThis as unknown as {
    process?: { env: EnvMap };
    Deno?: { env: { toObject(): EnvMap } };
  };
  if (g.Deno) return g.Deno.env.toObject();
  return g.process?.env ?? {};
}
