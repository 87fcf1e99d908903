// A query of a hot path built and compiled once per database, then run with new parameters: Kysely's
// builder and compiler cost more than the statement itself for a query of a few joins (about 200 µs
// against 50 µs for a shared file's download target on SQLite), and bun:sqlite caches the prepared
// statement by its SQL text, so the text staying the same makes it a prepared statement too.
import type { CompiledQuery } from "kysely";
import type { Db } from "./database.ts";

/** Where a parameter of the compiled statement comes from: a named argument or a constant of the builder. */
type Slot<K extends string> = { arg: K } | { value: unknown };

/** A marker no real argument equals: the builder receives it in place of each named argument. */
const marker = (key: string) => `\u0000prepared:${key}`;

/**
 * `build` once per database (with markers in place of the arguments), then the compiled statement with the
 * arguments put where the markers were. Every argument must reach the statement as a parameter exactly
 * once (checked when compiling): a builder that inlines a value, or a shape that depends on the
 * arguments, cannot be prepared this way.
 */
export function preparedQuery<K extends string, O>(
  keys: readonly K[],
  build: (db: Db, args: Record<K, string>) => { compile(): CompiledQuery<O> },
): (db: Db, args: Record<K, unknown>) => Promise<O[]> {
  const compiled = new WeakMap<Db, { query: CompiledQuery<O>; slots: Slot<K>[] }>();
  const compile = (db: Db) => {
    const markers = Object.fromEntries(keys.map((k) => [k, marker(k)])) as Record<K, string>;
    const query = build(db, markers).compile();
    const slots = query.parameters.map((v): Slot<K> => {
      const arg = keys.find((k) => v === marker(k));
      return arg === undefined ? { value: v } : { arg };
    });
    for (const k of keys) {
      if (slots.filter((s) => "arg" in s && s.arg === k).length !== 1)
        throw new Error(`preparedQuery: argument ${k} is not exactly one parameter of the statement`);
    }
    const entry = { query, slots };
    compiled.set(db, entry);
    return entry;
  };
  return async (db, args) => {
    // A database with plugins (the plan suites' recorders, db/plans.ts) sees each query built with its
    // arguments, as an unprepared one would be: a plugin sees queries only as they are built.
    if (db.getExecutor().plugins.length > 0) {
      const query = build(db, args as Record<K, string>).compile();
      return (await db.executeQuery<O>(query)).rows;
    }
    const { query, slots } = compiled.get(db) ?? compile(db);
    const parameters = slots.map((s) => ("arg" in s ? args[s.arg] : s.value));
    return (await db.executeQuery<O>({ ...query, parameters })).rows;
  };
}
