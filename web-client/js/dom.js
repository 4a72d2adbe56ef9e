// Small DOM helpers. Everything user-provided goes in as text nodes: nothing here parses
// strings as markup, so no caller can do it by accident.

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Builds an element. `props` keys: `class`, `text`, `hidden`, `on` (event map), `dataset`,
 * and anything else as an attribute (`false`/`null` leaves it out, `true` sets it empty).
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

/** Like `h`, in the SVG namespace. */
export function s(tag, props = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

function applyProps(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'text') el.textContent = value;
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'hidden') el.hidden = true;
    else if (key === 'value' && 'value' in el && el.namespaceURI !== SVG_NS) el.value = value;
    else if (key === 'checked' || key === 'disabled' || key === 'required') el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's children. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

let uid = 0;
/** A document-unique id, for label/aria wiring. */
export function uniqueId(prefix = 'id') {
  uid += 1;
  return `${prefix}-${uid}`;
}

const motionQuery = typeof matchMedia === 'function' ? matchMedia('(prefers-reduced-motion: reduce)') : null;

export function prefersReducedMotion() {
  return Boolean(motionQuery && motionQuery.matches);
}

export function onReducedMotionChange(fn) {
  motionQuery?.addEventListener('change', fn);
}

/**
 * Makes the buttons inside `container` one tab stop, moved between with the arrow keys,
 * so that a row of eight stamps per message does not mean eight Tab presses per message.
 */
export function rovingToolbar(container) {
  const buttons = () => [...container.querySelectorAll('button:not([disabled])')];
  const focusAt = (index) => {
    const list = buttons();
    if (!list.length) return;
    const i = (index + list.length) % list.length;
    list.forEach((b, j) => { b.tabIndex = j === i ? 0 : -1; });
    list[i].focus();
  };
  container.addEventListener('keydown', (e) => {
    const list = buttons();
    const i = list.indexOf(document.activeElement);
    if (i < 0) return;
    const keys = { ArrowRight: i + 1, ArrowDown: i + 1, ArrowLeft: i - 1, ArrowUp: i - 1, Home: 0, End: list.length - 1 };
    if (e.key in keys) {
      e.preventDefault();
      focusAt(keys[e.key]);
    }
  });
  container.addEventListener('focusin', (e) => {
    const list = buttons();
    if (list.includes(e.target)) list.forEach((b) => { b.tabIndex = b === e.target ? 0 : -1; });
  });
  resetRoving(container);
}

/** Gives the first enabled button of a roving toolbar the tab stop (after re-rendering). */
export function resetRoving(container) {
  const list = [...container.querySelectorAll('button')];
  const current = list.find((b) => b.tabIndex === 0 && !b.disabled);
  list.forEach((b) => { b.tabIndex = -1; });
  const keep = current || list.find((b) => !b.disabled);
  if (keep) keep.tabIndex = 0;
}

/** Counts characters the way the server does: NFC, CRLF as one, by code point. */
export function charCount(text) {
  return [...text.replace(/\r\n/g, '\n').normalize('NFC')].length;
}

/**
 * Swaps `oldEl` for `newEl`, keeping keyboard focus on the matching control (by its
 * `data-fkey`), so that re-rendering a message after a stamp does not throw focus away.
 */
export function replacePreservingFocus(oldEl, newEl) {
  const active = document.activeElement;
  const key = active && oldEl.contains(active) ? active.dataset?.fkey : null;
  oldEl.replaceWith(newEl);
  if (key) {
    const again = newEl.querySelector(`[data-fkey="${CSS.escape(key)}"]`);
    if (again && !again.disabled) again.focus();
    else newEl.querySelector('button:not([disabled]), textarea')?.focus();
  }
}

/** A v4 UUID; crypto.randomUUID exists only in secure contexts (not plain http on a LAN). */
export function newUuid() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((n) => n.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** Saves `blob` as a download named `name` (a CSV, say). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
