// Hash routes: `#/`, `#/apply`, `#/register?token=…`, `#/sign-in`, `#/settings`, `#/staff`,
// `#/admin`. The fragment never reaches the server, so an invitation token in it stays out of
// server and proxy logs.

let handler = () => {};

/** The route shown now: its path and query parameters. */
export function currentRoute() {
  const raw = location.hash.replace(/^#/, '');
  if (!raw.startsWith('/')) return { path: '/', params: new URLSearchParams() };
  const q = raw.indexOf('?');
  const path = (q < 0 ? raw : raw.slice(0, q)).replace(/\/+$/, '') || '/';
  return { path, params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** Calls `fn` whenever the route changes (links, back and forward, `navigate`). */
export function onRouteChange(fn) {
  handler = fn;
  window.addEventListener('hashchange', () => handler());
}

/**
 * Goes to `path` (e.g. '/settings'). `replace` swaps the history entry, so that a used
 * invitation link, say, is not one Back press away.
 */
export function navigate(path, { replace = false } = {}) {
  const hash = `#${path}`;
  if (replace) {
    history.replaceState(history.state, '', `${location.pathname}${location.search}${hash}`);
    handler();
  } else if (location.hash === hash) {
    handler();
  } else {
    location.hash = hash;
  }
}
