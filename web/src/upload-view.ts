// The upload panel: total progress, one row per file (progress, speed, time left, pause/resume/cancel),
// and the unfinished uploads of an earlier visit. Rows are built once and updated in place, so keyboard
// focus stays on the button the user is on.
import { h, mount } from "./dom.ts";
import { bytes, duration, percent, rate } from "./format.ts";
import { discard, type Unfinished, unfinished } from "./unfinished-uploads.ts";
import { isOver, pathOf, progressOf, speedOf, type UploadItem, type UploadState } from "./upload-item.ts";
import type { UploadQueue } from "./uploads.ts";

const labels: Record<UploadState, string> = {
  queued: "Waiting",
  hashing: "Checking content",
  checking: "Looking for a copy on the server",
  uploading: "Uploading",
  paused: "Paused",
  completing: "Finishing",
  done: "Done",
  failed: "Failed",
  canceled: "Canceled",
  skipped: "Skipped",
};

interface Row {
  el: HTMLLIElement;
  state: HTMLElement;
  bar: HTMLProgressElement;
  figures: HTMLElement;
  note: HTMLElement;
  buttons: HTMLElement;
  lastState?: UploadState;
}

/** The elements of one file's row, empty. */
function newRow(it: UploadItem): Row {
  const state = h("span", { class: "state" });
  const bar = h("progress", { max: 100, value: 0, "aria-label": `Progress of ${it.name}` });
  const figures = h("span", { class: "figures" });
  const note = h("span", { class: "note" });
  const buttons = h("span", { class: "buttons" });
  const el = h(
    "li",
    { class: "upload", "data-id": it.id },
    h("span", { class: "name", title: it.name }, pathOf(it)),
    state,
    bar,
    figures,
    note,
    buttons,
  );
  return { el, state, bar, figures, note, buttons };
}

/** What can be done with a file in its state. */
function buttonsFor(queue: UploadQueue, it: UploadItem) {
  const b = (label: string, onclick: () => void) =>
    h("button", { type: "button", class: "small", onclick, "aria-label": `${label} ${it.name}` }, label);
  switch (it.state) {
    case "queued":
    case "hashing":
    case "checking":
    case "uploading":
      return [b("Pause", () => queue.pause(it.id)), b("Cancel", () => void queue.cancel(it.id))];
    case "paused":
      return [b("Resume", () => queue.resume(it.id)), b("Cancel", () => void queue.cancel(it.id))];
    case "failed":
      return [b("Retry", () => queue.resume(it.id)), b("Cancel", () => void queue.cancel(it.id))];
    default:
      return [];
  }
}

/** Brings a row up to date with its file (its buttons only when the state changed). */
function updateRow(queue: UploadQueue, row: Row, it: UploadItem): void {
  const done = progressOf(it);
  const pct = it.state === "done" ? 100 : percent(done, it.file.size);
  row.bar.value = pct;
  row.el.dataset.state = it.state;
  row.state.textContent =
    it.state === "hashing" ? `${labels.hashing} ${percent(it.hashed, it.file.size)} %` : labels[it.state];
  const speed = speedOf(it);
  row.figures.textContent = [
    `${pct} %`,
    `${bytes(done)} of ${bytes(it.file.size)}`,
    it.parts && it.state !== "done" && `${it.parts.done} of ${it.parts.count} parts sent`,
    it.state === "uploading" && speed > 0 && rate(speed),
    it.state === "uploading" && speed > 0 && `${duration((it.file.size - done) / speed)} left`,
  ]
    .filter(Boolean)
    .join(" · ");
  row.note.textContent = it.error ?? it.note ?? "";
  row.note.className = it.error ? "note error" : "note";
  row.note.setAttribute("role", it.error ? "alert" : "status");
  if (row.lastState !== it.state) {
    const focused = row.buttons.contains(document.activeElement);
    mount(row.buttons, buttonsFor(queue, it));
    if (focused) (row.buttons.querySelector("button") ?? row.el).focus?.();
    row.lastState = it.state;
  }
}

/** The unfinished uploads of an earlier visit that are not in the queue again. */
function renderEarlier(earlier: HTMLElement, left: Unfinished[], pickAgain: () => void, render: () => void) {
  if (left.length === 0) return mount(earlier);
  mount(
    earlier,
    h("h3", null, "Unfinished uploads"),
    h("p", { class: "muted" }, "Add the same file again to continue where it stopped."),
    h(
      "ul",
      { class: "unfinished" },
      left.map((u) =>
        h(
          "li",
          { "data-session": u.sessionId },
          h("span", { class: "name" }, u.name),
          h("span", { class: "figures" }, `${u.percent} % of ${bytes(u.size)}`),
          h(
            "button",
            { type: "button", class: "small", onclick: pickAgain, "aria-label": `Resume ${u.name}` },
            "Resume…",
          ),
          h(
            "button",
            {
              type: "button",
              class: "small",
              "aria-label": `Discard ${u.name}`,
              onclick: async () => {
                await discard(u.sessionId);
                render();
              },
            },
            "Discard",
          ),
        ),
      ),
    ),
  );
}

/** The queue's panel; `signal` ends its drawing (the page left while the queue goes on). */
export function uploadPanel(
  queue: UploadQueue,
  userId: () => string,
  pickAgain: () => void,
  signal?: AbortSignal,
): HTMLElement {
  const totalBar = h("progress", {
    id: "total-progress",
    max: 100,
    value: 0,
    "aria-label": "Total upload progress",
  });
  const totalText = h("p", { class: "figures", id: "total-figures" });
  const list = h("ul", { class: "queue", "aria-label": "Upload queue" });
  const earlier = h("div", { class: "earlier" });
  const clear = h(
    "button",
    { type: "button", class: "link", onclick: () => queue.clearFinished() },
    "Clear finished",
  );
  // Folded, the panel is one line (its title, a summary, Show): it folds by itself once every upload is
  // over, and the user can fold or unfold it at any time.
  const body = h("div", { id: "upload-body" }, totalBar, totalText, list, earlier);
  const summary = h("span", { class: "summary muted", id: "upload-summary" });
  const fold: HTMLButtonElement = h(
    "button",
    {
      type: "button",
      class: "link",
      "aria-expanded": "true",
      "aria-controls": "upload-body",
      onclick: () => setFolded(!body.hidden),
    },
    "Hide",
  );
  const setFolded = (folded: boolean) => {
    body.hidden = folded;
    panel.classList.toggle("folded", folded);
    fold.setAttribute("aria-expanded", String(!folded));
    fold.textContent = folded ? "Show" : "Hide";
  };
  const panel = h(
    "section",
    { id: "uploads", class: "uploads", "aria-label": "Uploads", hidden: true },
    h("div", { class: "head" }, h("h2", null, "Uploads"), summary, h("span", null, clear, " ", fold)),
    body,
  );
  /** Folds the panel a moment after the last upload ends (long enough to see "Done"). */
  let foldTimer: ReturnType<typeof setTimeout> | undefined;
  let foldedByItself = false;
  const foldWhenOver = (over: boolean) => {
    if (!over) {
      clearTimeout(foldTimer);
      foldTimer = undefined;
      if (foldedByItself) setFolded(false);
      foldedByItself = false;
      return;
    }
    if (foldTimer || foldedByItself) return;
    foldTimer = setTimeout(() => {
      foldTimer = undefined;
      foldedByItself = true;
      setFolded(true);
    }, 1500);
  };
  const rows = new Map<number, Row>();

  const render = () => {
    const seen = new Set<number>();
    for (const it of queue.items) {
      seen.add(it.id);
      let row = rows.get(it.id);
      if (!row) {
        row = newRow(it);
        rows.set(it.id, row);
      }
      if (row.el.parentNode !== list) list.appendChild(row.el);
      updateRow(queue, row, it);
    }
    for (const [id, row] of rows) {
      if (!seen.has(id)) {
        row.el.remove();
        rows.delete(id);
      }
    }
    const t = queue.totals();
    const pct = percent(t.done, t.size);
    totalBar.value = pct;
    totalBar.hidden = queue.items.length === 0;
    totalText.textContent =
      queue.items.length === 0
        ? ""
        : [
            `${pct} % of ${bytes(t.size)}`,
            t.speed > 0 && rate(t.speed),
            t.speed > 0 && `about ${duration((t.size - t.done) / t.speed)} left`,
          ]
            .filter(Boolean)
            .join(" · ");
    const active = new Set(queue.items.map((i) => i.sessionId));
    const left = unfinished(userId()).filter((u) => !active.has(u.sessionId));
    renderEarlier(earlier, left, pickAgain, render);
    panel.hidden = queue.items.length === 0 && earlier.childElementCount === 0;
    const ended = queue.items.filter(isOver);
    const uploaded = ended.filter((i) => i.state === "done").length;
    summary.textContent =
      queue.items.length === 0
        ? ""
        : ended.length === queue.items.length
          ? `${uploaded} uploaded`
          : `${ended.length} of ${queue.items.length} · ${pct} %`;
    foldWhenOver(queue.items.length > 0 && ended.length === queue.items.length && left.length === 0);
  };

  // Progress events come many times a second: draw at most once a frame.
  let scheduled = false;
  const off = queue.onChange(() => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(() => {
      scheduled = false;
      render();
    });
  });
  signal?.addEventListener("abort", off);
  render();
  return panel;
}
