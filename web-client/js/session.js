// Who is signed in on this device, and with which token.
//
// - A signed-in account (registration or sign-in) holds a short-lived access token in memory
//   and in this tab's sessionStorage, and an HttpOnly refresh cookie the page never sees. The
//   token is renewed shortly before it expires, on page load when none is held, and when the
//   server says it is no longer valid. Each renewal rotates the cookie.
// - A guest (or a sign-in link from the admin CLI) holds one long-lived token in localStorage
//   and no cookie: it cannot be renewed.
//
// Renewals are serialised across this browser's tabs (Web Locks): they share one cookie, and
// presenting a cookie that another tab has just rotated would end the session everywhere.

const ACCESS_KEY = 'ibasho.access';
const GUEST_KEY = 'ibasho.token';
// Set while a refresh cookie probably exists, so that visitors do not ask for one in vain.
const MARK_KEY = 'ibasho.session';
const LEASE_KEY = 'ibasho.refreshing';
const LOCK_NAME = 'ibasho.refresh';
const RETRY_MS = 15_000;

function read(storage, key) {
  try {
    return storage.getItem(key);
  } catch {
    return null;
  }
}

function write(storage, key, value) {
  try {
    if (value === null) storage.removeItem(key);
    else storage.setItem(key, value);
  } catch {
    // Private modes may refuse storage; the session then lasts as long as the page.
  }
}

const sleep = (ms) => new Promise((r) => { setTimeout(r, ms); });

/** Runs `fn` while no other tab of this browser renews. */
async function exclusively(fn) {
  if (navigator.locks?.request) return navigator.locks.request(LOCK_NAME, fn);
  // Without Web Locks (plain http on a LAN address): a lease in localStorage narrows the race.
  const deadline = Date.now() + 8000;
  while (Number(read(localStorage, LEASE_KEY) || 0) > Date.now() && Date.now() < deadline) await sleep(100);
  write(localStorage, LEASE_KEY, String(Date.now() + 8000));
  try {
    return await fn();
  } finally {
    write(localStorage, LEASE_KEY, null);
  }
}

class Session {
  constructor() {
    this.token = null;
    // 'session' (renewable) or 'guest' (one long-lived token), or null.
    this.kind = null;
    this.expiresAt = 0;
    this.lifetimeMs = 0;
    this.timer = null;
    this.inflight = null;
    this.endedListeners = new Set();
    document.addEventListener('visibilitychange', () => {
      // Timers sleep in background tabs; catch up when the tab is seen again.
      if (document.visibilityState === 'visible' && this.kind === 'session' && this.dueSoon()) this.renewOnSchedule();
    });
  }

  get signedIn() {
    return this.token !== null;
  }

  /** Calls `fn` when the session ends by itself (the refresh cookie no longer works). */
  onEnded(fn) {
    this.endedListeners.add(fn);
  }

  /** From storage: an access token of this tab that is still good, or a guest token. */
  restoreFromStorage() {
    try {
      const saved = JSON.parse(read(sessionStorage, ACCESS_KEY) || 'null');
      if (saved?.token && saved.exp - Date.now() > 10_000) {
        this.token = saved.token;
        this.kind = 'session';
        this.expiresAt = saved.exp;
        this.lifetimeMs = saved.ttl || 15 * 60_000;
        this.schedule();
        return true;
      }
    } catch {
      // Unreadable: start over.
    }
    const guest = read(localStorage, GUEST_KEY);
    if (guest) {
      this.token = guest;
      this.kind = 'guest';
      return true;
    }
    return false;
  }

  /** Whether a refresh cookie may exist (this browser signed in and did not sign out). */
  mayRefresh() {
    return read(localStorage, MARK_KEY) === '1';
  }

  /** A signed-in answer (`{token, expires_in}`) from registration, sign-in or refresh. */
  adopt({ token, expires_in: expiresIn }) {
    this.token = token;
    this.kind = 'session';
    this.lifetimeMs = Math.max(30, Number(expiresIn) || 900) * 1000;
    this.expiresAt = Date.now() + this.lifetimeMs;
    write(sessionStorage, ACCESS_KEY, JSON.stringify({ token, exp: this.expiresAt, ttl: this.lifetimeMs }));
    write(localStorage, MARK_KEY, '1');
    write(localStorage, GUEST_KEY, null);
    this.schedule();
  }

  /** A long-lived token: guest entry, or a sign-in link printed by `ibasho admin create`. */
  adoptGuest(token) {
    clearTimeout(this.timer);
    this.token = token;
    this.kind = 'guest';
    this.expiresAt = 0;
    write(localStorage, GUEST_KEY, token);
    write(sessionStorage, ACCESS_KEY, null);
  }

  dueSoon() {
    return this.expiresAt - Date.now() < this.earlyMs();
  }

  earlyMs() {
    // A minute ahead, or a quarter of a short lifetime.
    return Math.min(60_000, this.lifetimeMs / 4);
  }

  schedule(delay = null) {
    clearTimeout(this.timer);
    if (this.kind !== 'session') return;
    const wait = delay ?? Math.max(1000, this.expiresAt - Date.now() - this.earlyMs());
    // setTimeout cannot wait longer than about 24.8 days.
    this.timer = setTimeout(() => this.renewOnSchedule(), Math.min(wait, 2 ** 31 - 1));
  }

  async renewOnSchedule() {
    const result = await this.renew();
    if (result === 'network' || result === 'error') this.schedule(RETRY_MS);
  }

  /**
   * A fresh access token through the refresh cookie: 'ok', 'ended' (the session is over:
   * sign in again), or 'network'/'error' (try later; nothing is lost yet).
   */
  renew() {
    if (this.kind === 'guest') return Promise.resolve('ended');
    if (!this.inflight) {
      this.inflight = exclusively(() => this.refreshNow()).finally(() => { this.inflight = null; });
    }
    return this.inflight;
  }

  async refreshNow() {
    let response;
    try {
      // The cookie jar is shared, so this carries the newest cookie even if another tab
      // renewed a moment ago (it held the lock until its answer was in).
      response = await fetch('/api/session/refresh', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
    } catch {
      return 'network';
    }
    if (response.ok) {
      try {
        const body = await response.json();
        this.adopt(body);
        return 'ok';
      } catch {
        return 'error';
      }
    }
    if (response.status === 401 || response.status === 403) {
      const wasSignedIn = this.signedIn;
      this.clear();
      if (wasSignedIn) for (const fn of this.endedListeners) fn();
      return 'ended';
    }
    return 'error';
  }

  /** Ends this device's session on the server (best effort) and forgets every token. */
  async signOut() {
    if (this.kind === 'session' || this.mayRefresh()) {
      try {
        await fetch('/api/session/sign-out', { method: 'POST', credentials: 'same-origin', cache: 'no-store' });
      } catch {
        // The cookie stays until it expires; the tokens are forgotten anyway.
      }
    }
    this.clear();
  }

  /** Forgets every token on this device. */
  clear() {
    clearTimeout(this.timer);
    this.token = null;
    this.kind = null;
    this.expiresAt = 0;
    write(sessionStorage, ACCESS_KEY, null);
    write(localStorage, GUEST_KEY, null);
    write(localStorage, MARK_KEY, null);
  }
}

export const session = new Session();

/**
 * A sign-in link from `ibasho admin create` carries a token in the fragment (`#token=…`,
 * never sent to any server). Takes it and removes it from the address bar so that it does not
 * linger in history or get copied along with the address.
 */
export function takeTokenFromLocation() {
  const hash = location.hash.startsWith('#') ? location.hash.slice(1) : location.hash;
  if (hash.startsWith('/')) return null;
  const params = new URLSearchParams(hash);
  const token = params.get('token');
  if (!token) return null;
  params.delete('token');
  const rest = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${location.search}${rest ? `#${rest}` : '#/'}`);
  return token;
}
