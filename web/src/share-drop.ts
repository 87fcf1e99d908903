// A drop link's page: drag & drop or pick files, each uploaded with a PUT to the drop route (the share
// token in X-Share-Token), or above MULTIPART_THRESHOLD through a multipart session with parts in
// parallel (share-drop-session.ts), with its own progress bar. The page lists only this visitor's uploads: the
// server shows nothing of the folder, and answers each upload with the name it got (a name already
// there gets a suffix, never an overwrite).
import { DROP_PATH, SHARE_TOKEN_HEADER } from "../../core/data-paths.ts";
import { h, mount } from "./dom.ts";
import { bytes } from "./format.ts";
import { DropError, sendInSession } from "./share-drop-session.ts";
import { type OpenedShare, shareSummary } from "./share-visit.ts";
import { MULTIPART_THRESHOLD } from "./upload-parts.ts";

/** One upload's PUT with progress; resolves with the stored name, rejects with the server's message. */
function put(s: OpenedShare, file: File, onProgress: (n: number) => void): Promise<string> {
  const xhr = new XMLHttpRequest();
  return new Promise((resolve, reject) => {
    xhr.open("PUT", `${DROP_PATH}${s.id}?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader(SHARE_TOKEN_HEADER, s.token);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      let body: { message?: string; file?: { name?: string } } = {};
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Not JSON: the status says enough.
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(body.file?.name ?? file.name);
      reject(new Error(messageFor(xhr.status, body.message)));
    };
    xhr.onerror = () => reject(new Error("The connection failed. Try again."));
    xhr.send(file);
  });
}

function messageFor(status: number, message = ""): string {
  if (status === 404) return "This link no longer takes uploads: it was revoked or has expired.";
  if (status === 401) return "This link was changed or has ended since you opened it. Open the link again.";
  if (status === 413) return message || "This file is larger than the link accepts.";
  return message ? sentence(message) : `The server answered ${status}.`;
}

const sentence = (message: string) => message.charAt(0).toUpperCase() + message.slice(1);

export function dropPage(main: HTMLElement, s: OpenedShare): void {
  const cap = Number(s.info.maxFileBytes);
  const mine = h("ul", { class: "drop-list", id: "drop-list", "aria-label": "Your uploads" });
  const picker = h("input", { type: "file", multiple: true, hidden: true, id: "drop-picker" });
  const zone = h(
    "div",
    { class: "drop-zone", id: "drop-zone", tabindex: 0 },
    h("p", null, "Drop files here to send them"),
    h("button", { type: "button", class: "primary", onclick: () => picker.click() }, "Choose files"),
    cap > 0 && h("p", { class: "muted" }, `Up to ${bytes(cap)} per file.`),
  );
  const send = (list: Iterable<File>) => {
    for (const file of list) void sendOne(file);
  };
  const sendOne = async (file: File) => {
    const bar = h("progress", { max: Math.max(file.size, 1), value: 0 });
    const state = h("span", { class: "state" }, "Sending…");
    const inSession = file.size > MULTIPART_THRESHOLD;
    // data-via says how it went (a session or one PUT): the browser tests look.
    const row = h("li", { class: "upload", "data-via": inSession ? "session" : "put" });
    row.append(h("span", { class: "name" }, file.name), bar, state);
    mine.append(row);
    if (cap > 0 && file.size > cap) {
      state.textContent = `Too large: this link accepts up to ${bytes(cap)} per file.`;
      state.classList.add("error");
      return;
    }
    try {
      const progress = (n: number) => {
        bar.value = n;
      };
      const name = inSession
        ? await sendInSession(s.id, s.token, file, progress)
        : await put(s, file, progress);
      bar.value = Math.max(file.size, 1);
      state.textContent = name === file.name ? "Sent" : `Sent as ${name}`;
    } catch (err) {
      state.textContent =
        err instanceof DropError ? messageFor(err.status, err.message) : sentence((err as Error).message);
      state.classList.add("error");
    }
  };
  picker.addEventListener("change", () => {
    send(picker.files ?? []);
    picker.value = "";
  });
  // Files dropped anywhere on the page are taken (the zone is where people aim).
  main.addEventListener("dragover", (e) => {
    e.preventDefault();
    zone.classList.add("dragging");
  });
  main.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  main.addEventListener("drop", (e) => {
    e.preventDefault();
    zone.classList.remove("dragging");
    send(e.dataTransfer?.files ?? []);
  });
  mount(
    main,
    shareSummary(s),
    h("p", null, "Files you send here go to the owner of this link. You see only your own uploads."),
    zone,
    picker,
    h("h2", null, "Your uploads"),
    mine,
  );
}
