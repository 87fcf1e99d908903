// Names taken where uploads go, checked before any byte is sent. An upload session's conflict policy is
// fixed when the session is created and applied at completion, so asking only when completion fails would
// mean sending the bytes again (and asking after a long upload instead of at its start). One listing per
// folder and batch (the files picked or dropped together) tells which names are taken; a name taken after
// that listing still fails under FAIL with NAME_TAKEN, which the queue answers by asking then.
import { ConflictPolicy, FileKind } from "../../proto/gen/filestore/file/v1/file_pb.ts";
import { files } from "./api.ts";
import { askConflict } from "./conflict-dialog.ts";
import { conflictResolver, policyOf } from "./conflicts.ts";

/** Names compare as the server stores them: NFC (a Mac's file picker may hand them over decomposed). */
const nfc = (name: string) => name.normalize("NFC");

export class UploadBatch {
  private readonly ask = conflictResolver(askConflict);
  private readonly listed = new Map<string, Promise<Map<string, FileKind>>>();

  /** `size`: how many files the batch holds ("Apply to all" only makes sense for more than one). */
  constructor(private readonly size: number) {}

  /** The folder's entries by name, listed once for the batch. */
  private names(parentId: string): Promise<Map<string, FileKind>> {
    let p = this.listed.get(parentId);
    if (!p) {
      p = listNames(parentId);
      this.listed.set(parentId, p);
      p.catch(() => this.listed.delete(parentId));
    }
    return p;
  }

  /**
   * The policy an upload of `name` into the folder goes under: FAIL when the name is free, else the answer.
   * `shown`: how the dialog names it (its path within a dropped folder).
   */
  async policyFor(parentId: string, name: string, shown = name): Promise<ConflictPolicy | "skip"> {
    const kind = (await this.names(parentId)).get(nfc(name));
    if (kind === undefined) return ConflictPolicy.FAIL;
    return this.choose(shown, kind === FileKind.FILE);
  }

  /** Asks about a taken name (within the batch's one-dialog-at-a-time and "Apply to all"). */
  async choose(shown: string, canReplace: boolean): Promise<ConflictPolicy | "skip"> {
    const choice = await this.ask({ name: shown, canReplace, more: this.size > 1 });
    return choice === "skip" ? "skip" : policyOf(choice);
  }
}

async function listNames(parentId: string): Promise<Map<string, FileKind>> {
  const names = new Map<string, FileKind>();
  for (let pageToken = ""; ; ) {
    const page = await files.listFiles({ parentId, pageSize: 1000, pageToken });
    for (const f of page.files) names.set(f.name, f.kind);
    if (!page.nextPageToken) return names;
    pageToken = page.nextPageToken;
  }
}
