// The few places where the two dialects need different SQL ask here.
import { type Kysely, MysqlAdapter } from "kysely";

/** True on MySQL/MariaDB, false on SQLite. */
export const isMysql = <DB>(db: Kysely<DB>): boolean => db.getExecutor().adapter instanceof MysqlAdapter;
