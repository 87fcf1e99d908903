// Keeps the keyboard focus on the same control when the list is redrawn under it. The list redraws at any
// time (live updates, a reload after an action), also while a dialog opened from a row is open: the
// control that had the focus is then replaced by a new one for the same entry, found again by the entry's
// id (rows and tiles carry data-id) and the control's own key (its label, link or text).

/** What identifies a control across redraws. */
export interface FocusSpot {
  /** The id of the entry (row or tile) the control is in; undefined outside the entries. */
  entryId: string | undefined;
  key: string | null;
}

const keyOf = (el: Element) => el.getAttribute("aria-label") ?? el.getAttribute("href") ?? el.textContent;

export function spotOf(el: Element): FocusSpot {
  return { entryId: el.closest<HTMLElement>(".entry[data-id]")?.dataset.id, key: keyOf(el) };
}

/** The control at `spot` under `root` now, if it is still there. */
export function findSpot(root: ParentNode, spot: FocusSpot): HTMLElement | undefined {
  const scope =
    spot.entryId === undefined ? root : root.querySelector(`.entry[data-id="${CSS.escape(spot.entryId)}"]`);
  for (const el of scope?.querySelectorAll<HTMLElement>("button, a, input") ?? [])
    if (keyOf(el) === spot.key) return el;
  return undefined;
}

/**
 * Remembers the focused control (before a dialog opens); the returned function puts the focus back on it,
 * or on its entry's new control when the list was redrawn meanwhile. Only its first call does anything (a
 * dialog gives the focus back as it closes and again on its close event, whichever comes first).
 */
export function rememberFocus(): () => void {
  const was = document.activeElement;
  if (!(was instanceof HTMLElement) || was === document.body) return () => undefined;
  const spot = spotOf(was);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (was.isConnected) was.focus();
    // A control outside the entries that left the page has nothing to stand in for it.
    else if (spot.entryId !== undefined) findSpot(document, spot)?.focus();
  };
}
