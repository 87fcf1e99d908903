// The usage line under the file list: how much of the quota the signed-in user's files take
// (FileService.GetUsage; files in the trash and kept versions count too), refreshed after each load.
import { files } from "./api.ts";
import { h, mount } from "./dom.ts";
import { bytes, percent } from "./format.ts";

export function usageBar(): { el: HTMLElement; refresh: () => void } {
  const el = h("div", { class: "usage", "data-testid": "usage" });
  let pending = false;
  const refresh = () => {
    if (pending) return;
    pending = true;
    files
      .getUsage({})
      .then((u) => {
        const used = Number(u.usedBytes);
        const quota = Number(u.quotaBytes);
        const share = quota > 0 ? percent(used, quota) : 0;
        el.classList.toggle("full", quota > 0 && share >= 90);
        mount(
          el,
          quota > 0
            ? h("progress", { max: "100", value: String(share), "aria-label": "Storage used" })
            : null,
          h(
            "span",
            null,
            quota > 0
              ? `${bytes(used)} of ${bytes(quota)} used (${share}%)`
              : `${bytes(used)} used (no quota)`,
            Number(u.trashBytes) > 0 ? ` · ${bytes(Number(u.trashBytes))} in the trash` : "",
          ),
        );
      })
      // The line is a courtesy: when it cannot be read, it stays as it was.
      .catch(() => undefined)
      .finally(() => {
        pending = false;
      });
  };
  return { el, refresh };
}
