// The options of a share link as a form (share-dialog.ts creates with it, share-links.ts edits with it):
// password, expiry (a day, the link ends at its end), maximum downloads (0: no limit), and for a folder
// the mode (view, or drop: an upload-only folder) with a per-file cap for drop links.
import { type Timestamp, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { type Share, ShareMode } from "../../proto/gen/filestore/share/v1/share_pb.ts";
import { h } from "./dom.ts";
import { field } from "./page-parts.ts";

export interface ShareOptions {
  /** "" : none given (create: no password; edit: unchanged unless clearPassword). */
  password: string;
  clearPassword: boolean;
  expiresAt?: Timestamp;
  maxDownloads: bigint;
  maxFileBytes: bigint;
  mode: ShareMode;
}

const MiB = 1024 * 1024;
const dayOf = (t: Timestamp | undefined) => {
  if (!t) return "";
  const d = new Date(Number(t.seconds) * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
};

/** The form's fields, the element for what is off in them, and the form's submit handler. */
export function shareOptionFields(opts: { folder: boolean; current?: Share; prefix: string }) {
  const c = opts.current;
  const p = opts.prefix;
  const [passwordLabel, password] = field(
    `${p}-password`,
    c?.hasPassword ? "New password (leave empty to keep it)" : "Password (optional)",
    {
      type: "password",
      autocomplete: "new-password",
    },
  );
  const clear = h("input", { type: "checkbox", id: `${p}-clear-password` });
  const [expiryLabel, expiry] = field(`${p}-expires`, "Expires at the end of (optional)", {
    type: "date",
    value: dayOf(c?.expiresAt),
  });
  const [maxLabel, max] = field(`${p}-max-downloads`, "Maximum downloads (0: no limit)", {
    type: "number",
    min: 0,
    step: 1,
    value: String(c?.maxDownloads ?? 0n),
  });
  const mode = h(
    "select",
    { id: `${p}-mode`, disabled: Boolean(c) },
    h("option", { value: "view" }, "View and download"),
    h("option", { value: "drop" }, "Upload only (drop folder)"),
  );
  mode.value = c?.mode === ShareMode.DROP ? "drop" : "view";
  const [capLabel, cap] = field(`${p}-max-file`, "Largest file accepted, MiB (0: no cap)", {
    type: "number",
    min: 0,
    step: 1,
    value: String(Number(c?.maxFileBytes ?? 0n) / MiB),
  });
  const capRow = h("div", { class: "field" }, capLabel, cap);
  const syncMode = () => {
    capRow.hidden = mode.value !== "drop";
  };
  mode.addEventListener("change", syncMode);
  syncMode();
  const el = h(
    "div",
    { class: "share-options" },
    h("div", { class: "field" }, passwordLabel, password),
    c?.hasPassword &&
      h("label", { class: "check-line", for: `${p}-clear-password` }, clear, "Remove the password"),
    h("div", { class: "field" }, expiryLabel, expiry),
    h("div", { class: "field" }, maxLabel, max),
    opts.folder &&
      h("div", { class: "field" }, h("label", { for: `${p}-mode` }, "People with the link can"), mode),
    opts.folder && capRow,
  );
  const read = (): ShareOptions | string => {
    const downloads = Number(max.value || "0");
    if (!Number.isInteger(downloads) || downloads < 0)
      return "Maximum downloads must be a whole number, 0 or more.";
    const capMiB = Number(cap.value || "0");
    if (!(capMiB >= 0)) return "The largest file must be 0 or more MiB.";
    let expiresAt: Timestamp | undefined;
    if (expiry.value) {
      const end = new Date(`${expiry.value}T23:59:59`);
      if (Number.isNaN(end.getTime()) || end.getTime() <= Date.now())
        return "The expiry must be a day from today on.";
      expiresAt = timestampFromMs(end.getTime());
    }
    return {
      password: password.value,
      clearPassword: clear.checked,
      expiresAt,
      maxDownloads: BigInt(downloads),
      maxFileBytes: mode.value === "drop" ? BigInt(Math.round(capMiB * MiB)) : 0n,
      mode: mode.value === "drop" ? ShareMode.DROP : ShareMode.VIEW,
    };
  };
  const error = h("p", { class: "error", role: "alert" });
  /** A form's submit handler: shows what is off in `error`, else runs `act` with the options read. */
  const onSubmit = (act: (o: ShareOptions) => Promise<void>) => async (e: Event) => {
    e.preventDefault();
    const o = read();
    error.textContent = typeof o === "string" ? o : "";
    if (typeof o !== "string") await act(o);
  };
  return { el, error, onSubmit };
}
