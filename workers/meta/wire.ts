// MetaService from its configuration: opens and migrates the database it alone owns, and closes it on
// stop; the same in its own process (main.ts) and in the all-in-one process.
import type { ConfigOf } from "../lib/config.ts";
import type { Worker } from "../lib/worker.ts";
import { loadMetaConfig } from "./config.ts";
import { migrateToLatest, openDatabase } from "./db/database.ts";
import { metaModule } from "./service.ts";

/** The sections of the configuration MetaService reads. */
export const metaSections = { meta: loadMetaConfig };
export type MetaWorkerConfig = ConfigOf<typeof metaSections>;

export async function createMetaWorker(config: MetaWorkerConfig): Promise<Worker> {
  const db = openDatabase(config.meta.databaseUrl);
  await migrateToLatest(db);
  return {
    module: metaModule(db, Date.now, {
      maxFolderDepth: config.meta.maxFolderDepth,
      versionsKeep: config.meta.versionsKeep,
      defaultQuotaBytes: config.meta.defaultQuotaBytes,
      serverSecret: config.internalSecret,
    }),
    start() {},
    async stop() {
      await db.destroy();
    },
  };
}
