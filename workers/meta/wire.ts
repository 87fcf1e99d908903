// MetaService from its configuration: opens and migrates the database it alone owns, and closes it on
// stop; the same in its own process (main.ts) and in the all-in-one process.
import type { ConfigOf } from "../lib/config.ts";
import { createLogger } from "../lib/log.ts";
import type { Worker } from "../lib/worker.ts";
import { loadMetaConfig } from "./config.ts";
import { migrateToLatest, openDatabase } from "./db/database.ts";
import { metaModule } from "./service.ts";
import { resumeSubtreeMoves } from "./subtree-moves.ts";

const log = createLogger("meta");

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
    start() {
      // Trashes and restores of folders a crash cut short end now, in the background: their folders
      // already look as they will (in the trash, or still in it), and any call on one finishes it first.
      resumeSubtreeMoves(db).then(
        (n) => n > 0 && log.info("finished folder moves cut short", { count: n }),
        (err) => log.warn("could not finish folder moves cut short", { err: String(err) }),
      );
    },
    async stop() {
      await db.destroy();
    },
  };
}
