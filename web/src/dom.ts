// A tiny DOM builder. Text always becomes text nodes and attributes go through setAttribute, so a user's
// string (a file name above all) can never turn into markup; no HTML-parsing sink is used anywhere
// (safety.test.ts checks).

export type Child = Node | string | number | null | undefined | false | Child[];
type Handler = (ev: Event) => void;
export type Props = Record<string, string | number | boolean | null | undefined | Handler>;

function append(el: Node, child: Child): void {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(el, c);
    return;
  }
  el.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
}

/** h("button", { class: "x", onclick: fn }, "text", child…): properties "value" and "checked" are set as such. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, v] of Object.entries(props ?? {})) {
    if (v === null || v === undefined || v === false) continue;
    if (typeof v === "function") el.addEventListener(key.slice(2), v);
    else if (key === "value" || key === "checked") (el as unknown as Record<string, unknown>)[key] = v;
    else el.setAttribute(key === "className" ? "class" : key, v === true ? "" : String(v));
  }
  for (const c of children) append(el, c);
  return el;
}

/** Replaces an element's children. */
export function mount(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  for (const c of children) append(el, c);
}

export const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T | null =>
  root.querySelector<T>(sel);
