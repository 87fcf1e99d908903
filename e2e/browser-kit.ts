// What the browser suites share: Debian's Chromium driven by playwright-core against one all-in-one
// server per suite, and the user's gestures (sign in, drop files, open a row's ⋯ menu, download).
// Screenshots go to artifacts/screenshots/ (not committed). Without /usr/bin/chromium the suites are
// skipped with a message, except under CI, where they must run.
import { afterAll, beforeAll, describe } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Browser,
  type BrowserContext,
  type CDPSession,
  chromium,
  type ElementHandle,
  type Page,
} from "playwright-core";
import { MODE, ROOT, startAllInOne, startStack, uniqueName } from "./harness.ts";

const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const SHOTS = join(ROOT, "artifacts", "screenshots");
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  throw new Error(`the browser tests need Chromium at ${CHROMIUM} under CI (apt-get install chromium)`);
}
if (!haveChromium)
  console.warn(`browser tests SKIPPED: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
// One run is enough: the UI is the same in both modes and is tested against the all-in-one server.
export const browserSuite = haveChromium && MODE === "allinone" ? describe : describe.skip;
/** For suites that check what the services stack serves too (its Deno gateway, data planes): both modes. */
export const browserSuiteBothModes = haveChromium ? describe : describe.skip;

/** Limits the page's upload bandwidth (bytes/s; -1: no limit) over CDP; the session, to change it again. */
export async function throttleUploads(
  page: Page,
  bytesPerSecond: number,
  session?: CDPSession,
): Promise<CDPSession> {
  const cdp = session ?? (await page.context().newCDPSession(page));
  if (!session) await cdp.send("Network.enable");
  await cdp.send("Network.emulateNetworkConditions", {
    offline: false,
    latency: 0,
    downloadThroughput: -1,
    uploadThroughput: bytesPerSecond,
  });
  return cdp;
}

export interface Watched {
  page: Page;
  dialogs: string[];
  errors: string[];
}

export interface BrowserKit {
  readonly server: { gatewayUrl: string; stop(): Promise<unknown> };
  readonly browser: Browser;
  readonly contexts: BrowserContext[];
  /** A temporary folder for the files the tests make, removed at the end. */
  readonly dir: string;
  open(viewport?: { width: number; height: number }): Promise<Watched>;
  shot(page: Page, name: string): Promise<Buffer>;
  writeFile(name: string, data: Uint8Array | string): string;
  dropFiles(page: Page, paths: string[]): Promise<void>;
  signInWithKeyboard(page: Page, username: string, password: string): Promise<void>;
  row(page: Page, name: string): ReturnType<Page["locator"]>;
  /** Opens the entry's ⋯ menu and picks `label` ("Rename", "Delete"…). */
  menuAction(page: Page, name: string, label: string): Promise<void>;
  downloadVia(page: Page, name: string): Promise<Uint8Array>;
}

/**
 * Starts the server and the browser for the enclosing describe (call it inside one). `env`: the server's
 * settings; `stack`: the stack of the test mode (services mode: every service its own process) instead
 * of the all-in-one server.
 */
export function browserKit(opts: { env?: Record<string, string>; stack?: boolean } = {}): BrowserKit {
  let server: BrowserKit["server"];
  let browser: Browser;
  let dir: string;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    dir = mkdtempSync(join(tmpdir(), "filestore-browser-"));
    server = opts.stack ? await startStack(opts.env) : await startAllInOne(opts.env);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  }, 60_000);
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const kit: BrowserKit = {
    get server() {
      return server;
    },
    get browser() {
      return browser;
    },
    contexts,
    get dir() {
      return dir;
    },
    async open(viewport = { width: 1280, height: 800 }) {
      const context = await browser.newContext({ viewport, acceptDownloads: true });
      contexts.push(context);
      const page = await context.newPage();
      const w: Watched = { page, dialogs: [], errors: [] };
      page.on("dialog", (d) => {
        w.dialogs.push(d.message());
        void d.dismiss();
      });
      page.on("pageerror", (e) => w.errors.push(String(e)));
      await page.goto(server.gatewayUrl);
      return w;
    },
    shot: (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true }),
    writeFile(name, data) {
      const sub = mkdtempSync(join(dir, "f-"));
      const path = join(sub, name);
      writeFileSync(path, data);
      return path;
    },
    /** Drops files on the drive as a user would: a drop event whose DataTransfer holds real files. */
    async dropFiles(page, paths) {
      const input = (await page.evaluateHandle(() => {
        const i = document.createElement("input");
        i.type = "file";
        i.multiple = true;
        i.hidden = true;
        document.body.append(i);
        return i;
      })) as ElementHandle<HTMLInputElement>;
      await input.setInputFiles(paths);
      await input.evaluate((i) => {
        const dt = new DataTransfer();
        for (const f of i.files ?? []) dt.items.add(f);
        const target = document.getElementById("main") as HTMLElement;
        for (const type of ["dragenter", "dragover", "drop"]) {
          target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }));
        }
        i.remove();
      });
    },
    async signInWithKeyboard(page, username, password) {
      await page.waitForSelector("#username");
      await page.focus("#username");
      await page.keyboard.type(username);
      await page.keyboard.press("Tab");
      await page.keyboard.type(password);
      await page.keyboard.press("Enter");
      await page.waitForSelector("#signout");
    },
    row: (page, name) => page.locator("tr.entry", { has: page.getByText(name, { exact: true }) }),
    async menuAction(page, name, label) {
      await page.getByRole("button", { name: `Actions for ${name}`, exact: true }).click();
      await page.getByRole("menuitem", { name: `${label} ${name}`, exact: true }).click();
    },
    /** Downloads through the menu and returns the bytes; an error the page shows fails at once with its text. */
    async downloadVia(page, name) {
      const shown = page.locator("#alert:not(:empty)");
      // Never rejects, so that it can stay pending once the download has won.
      const error = shown.waitFor({ timeout: 60_000 }).then(
        () => shown.textContent(),
        () => "",
      );
      const [download] = await Promise.all([
        Promise.race([page.waitForEvent("download"), error]),
        kit.menuAction(page, name, "Download"),
      ]);
      if (download === null || typeof download === "string") throw new Error(`the page says: ${download}`);
      const to = join(dir, `download-${uniqueName("d")}`);
      await download.saveAs(to);
      return new Uint8Array(readFileSync(to));
    },
  };
  return kit;
}
