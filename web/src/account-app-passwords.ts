// The account page's app passwords (for WebDAV, rclone and scripts): create one with a name (its secret
// shown this once), see when each was last used, revoke.
import type { AppPassword } from "../../proto/gen/filestore/account/v1/account_pb.ts";
import { account } from "./api.ts";
import { confirmAction } from "./dialogs.ts";
import { h, mount } from "./dom.ts";
import { date } from "./format.ts";
import type { Notices } from "./notices.ts";
import { actionForm, field, listTable, secretOnce, section, showError } from "./page-parts.ts";

export function appPasswordsSection(say: Notices): HTMLElement {
  const list = h("div", { class: "table-wrap" });
  const created = h("div");
  const [nameLabel, name] = field("app-password-name", "Name (where you will use it)", {
    required: true,
    maxlength: 100,
    placeholder: "rclone on my laptop",
  });
  const { form } = actionForm(
    {
      label: "Create an app password",
      submit: "Create app password",
      run: async () => {
        const r = await account.createAppPassword({ name: name.value.trim() });
        mount(
          created,
          secretOnce(
            "app-password-secret",
            `App password “${r.appPassword?.name ?? ""}”`,
            r.secret,
            "Copy it now: it is not shown again. Use it with your username in place of your password.",
          ),
        );
        form.reset();
        reload();
        return undefined;
      },
    },
    nameLabel,
    name,
  );
  const revoke = async (p: AppPassword) => {
    if (
      !(await confirmAction("Revoke app password", `Programs using “${p.name}” will stop working.`, "Revoke"))
    )
      return;
    try {
      await account.revokeAppPassword({ id: p.id });
      say.say(`Revoked ${p.name}`);
      reload();
    } catch (err) {
      say.fail(err);
    }
  };
  const reload = () => {
    account
      .listAppPasswords({})
      .then(({ appPasswords }) =>
        mount(
          list,
          appPasswords.length === 0
            ? h("p", { class: "muted" }, "No app passwords yet.")
            : listTable(
                "App passwords",
                ["Name", "Created", "Last used", ""],
                appPasswords.map((p) =>
                  h(
                    "tr",
                    { class: "app-password" },
                    h("td", { class: "name" }, p.name),
                    h("td", { class: "date" }, date(p.createdAt)),
                    h("td", { class: "date" }, p.lastUsedAt ? date(p.lastUsedAt) : "Never"),
                    h(
                      "td",
                      { class: "buttons" },
                      h(
                        "button",
                        { type: "button", "aria-label": `Revoke ${p.name}`, onclick: () => void revoke(p) },
                        "Revoke",
                      ),
                    ),
                  ),
                ),
              ),
        ),
      )
      .catch((err) => showError(list, err));
  };
  reload();
  return section(
    "app-passwords",
    "App passwords",
    h(
      "p",
      { class: "muted" },
      "For WebDAV, rclone and scripts: each program gets its own password, which you can revoke alone. They cannot open this web app or change your account.",
    ),
    form,
    created,
    list,
  );
}
