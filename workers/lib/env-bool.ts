// On/off settings from the environment, read one way by every module: a value that says neither stops the
// process at start rather than meaning "off" unnoticed.

const TRUE = ["1", "true", "yes", "on"];
const FALSE = ["0", "false", "no", "off"];

/**
 * The setting `name`: 1, true, yes or on; 0, false, no or off (any case, spaces around ignored); unset or
 * empty: `fallback`. Throws on anything else.
 */
export function envBool(env: Record<string, string | undefined>, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === "") return fallback;
  if (TRUE.includes(raw)) return true;
  if (FALSE.includes(raw)) return false;
  throw new Error(`${name} must be true or false (or 1/0, yes/no, on/off), got "${env[name]}"`);
}
