// The If request header (RFC 4918 10.4): parsed into lists of conditions (state tokens and entity tags,
// each possibly negated), untagged or tagged with the resource they apply to, and evaluated against the
// resources' current lock tokens and ETags. A header that does not follow the grammar is a 400.

/** One condition of a list: a state token (a lock token, or any other URI) or an ETag, maybe negated. */
export interface Condition {
  not: boolean;
  kind: "token" | "etag";
  value: string;
}

/** A list: true when every condition is; `resource` the tag's URL (undefined: the request URI). */
export interface IfList {
  resource?: string;
  conditions: Condition[];
}

export class BadIfHeaderError extends Error {}

/** The lists of an If header. Throws BadIfHeaderError when it does not follow the grammar. */
export function parseIf(header: string): IfList[] {
  const lists: IfList[] = [];
  let i = 0;
  let tagged: boolean | undefined;
  let resource: string | undefined;
  const fail = (why: string): never => {
    throw new BadIfHeaderError(`malformed If header: ${why}`);
  };
  const skip = () => {
    while (i < header.length && (header[i] === " " || header[i] === "\t")) i++;
  };
  const until = (close: string) => {
    const end = header.indexOf(close, i + 1);
    if (end < 0) fail(`unclosed ${header[i]}`);
    const inner = header.slice(i + 1, end);
    i = end + 1;
    return inner;
  };
  for (skip(); i < header.length; skip()) {
    const c = header[i];
    if (c === "<") {
      // A resource tag: it starts the tagged lists (no untagged list may precede or follow).
      if (tagged === false) fail("tagged and untagged lists mixed");
      tagged = true;
      resource = until(">").trim();
      if (!resource) fail("empty resource tag");
      skip();
      if (header[i] !== "(") fail("a resource tag without a list");
      continue;
    }
    if (c !== "(") fail(`unexpected ${JSON.stringify(c)}`);
    if (tagged === undefined) tagged = false;
    i++;
    const conditions: Condition[] = [];
    for (skip(); header[i] !== ")"; skip()) {
      if (i >= header.length) fail("unclosed list");
      let not = false;
      if (header.slice(i, i + 3).toLowerCase() === "not") {
        not = true;
        i += 3;
        skip();
      }
      if (header[i] === "<") {
        const token = until(">").trim();
        if (!token || /\s/.test(token)) fail("bad state token");
        conditions.push({ not, kind: "token", value: token });
      } else if (header[i] === "[") {
        const etag = until("]").trim();
        if (!/^(W\/)?"[^"]*"$/.test(etag)) fail("bad entity tag");
        conditions.push({ not, kind: "etag", value: etag });
      } else fail("a condition is a <state-token> or an [entity-tag]");
    }
    i++;
    if (conditions.length === 0) fail("empty list");
    lists.push({ resource: tagged ? resource : undefined, conditions });
  }
  if (lists.length === 0) fail("no list");
  return lists;
}

/** Every state token the header names (whether or not negated): the lock tokens it submits. */
export const submittedTokens = (lists: IfList[]) =>
  new Set(lists.flatMap((l) => l.conditions.filter((c) => c.kind === "token").map((c) => c.value)));

/** What a resource is now, for evaluating conditions on it: its lock tokens and ETag (none: unmapped). */
export interface ResourceState {
  tokens: Set<string>;
  etag?: string;
}

/** Weak comparison (RFC 9110 8.8.3.2), as an If header's ETag conditions use. */
const weakEqual = (a: string, b: string) => a.replace(/^W\//, "") === b.replace(/^W\//, "");

function listHolds(list: IfList, state: ResourceState): boolean {
  return list.conditions.every((c) => {
    const match =
      c.kind === "token"
        ? state.tokens.has(c.value)
        : state.etag !== undefined && weakEqual(c.value, state.etag);
    return c.not ? !match : match;
  });
}

/**
 * Whether the If header holds (RFC 4918 10.4): true when any list holds for the resource it applies to.
 * `stateOf(resource)`: the state of a tagged list's resource (undefined resource: the request URI).
 */
export async function ifHolds(
  lists: IfList[],
  stateOf: (resource: string | undefined) => Promise<ResourceState>,
): Promise<boolean> {
  const states = new Map<string | undefined, Promise<ResourceState>>();
  for (const list of lists) {
    let state = states.get(list.resource);
    if (!state) {
      state = stateOf(list.resource);
      states.set(list.resource, state);
    }
    if (listHolds(list, await state)) return true;
  }
  return false;
}
