// One WebSocket to the server, kept alive: hello/welcome, request ids matched to replies,
// an application heartbeat (browsers cannot see WebSocket pings), and reconnecting with
// backoff. What to do after a reconnect (re-joining rooms, re-sending posts) is the app's
// business: it is told through `onWelcome(frame, { resumed })`. The server's clock, from
// `welcome` and `pong`, corrects this device's for deadlines the server sets (a consult offer's).

import { fetchMe } from './api.js';

export const PROTOCOL_VERSION = 1;
const PING_EVERY_MS = 20_000;
const PONG_WITHIN_MS = 10_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 15_000;

// Close codes from docs/protocol.md that must not be retried blindly.
const CLOSE_UNAUTHORIZED = 4001;
const CLOSE_UNSUPPORTED_VERSION = 4003;
const CLOSE_TOO_MANY_CONNECTIONS = 4029;
const CLOSE_POLICY_ABUSE = 4000;
const CLOSE_SLOW_CONSUMER = 4008;

/** A refused or failed request; `code` is a protocol error code or `disconnected`/`timeout`. */
export class RequestError extends Error {
  constructor(code, frame = null) {
    super(frame?.message || code);
    this.code = code;
    this.frame = frame;
  }
}

export class Connection {
  /**
   * @param {object} options
   * @param {string | (() => string)} options.token  the access token, or where to get the current one
   * @param {() => Promise<string>} [options.renewToken]  renews an access token the server no
   *   longer takes: 'ok', 'ended' (sign in again), or 'network'/'error' (try again later)
   * @param {(welcome: object, info: {resumed: boolean}) => void} options.onWelcome
   * @param {(frame: object) => void} options.onFrame   frames that answer no pending request
   * @param {(status: string, info?: object) => void} options.onStatus
   *   'connecting' | 'open' | 'reconnecting' | 'stopped'
   * @param {(reason: string) => void} options.onFatal
   *   'unauthorized' | 'unsupported_version' | 'too_many_connections'
   */
  constructor({ token, renewToken, onWelcome, onFrame, onStatus, onFatal }) {
    this.getToken = typeof token === 'function' ? token : () => token;
    this.renewToken = renewToken || null;
    // Set when a renewed token has not yet led to a welcome: a second refusal then is final.
    this.renewedSinceWelcome = false;
    this.onWelcome = onWelcome;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.onFatal = onFatal;
    this.ws = null;
    this.status = 'stopped';
    this.nextId = 1;
    // Request ids carry a prefix of this page's own: the server sends a few replies (a consult
    // status, a counsellor's state, the consult queue) to every connection of the account with
    // the id of the request, and another tab must not take them for answers to its own.
    this.idPrefix = `${Math.random().toString(36).slice(2, 8)}-`;
    // How far the server's clock is ahead of this device's, in milliseconds.
    this.clockOffset = 0;
    this.pending = new Map();
    this.attempts = 0;
    this.everWelcomed = false;
    this.retryTimer = null;
    this.pingTimer = null;
    this.stopped = true;
    this.signedOut = false;
    this.onOnline = () => {
      if (this.status === 'reconnecting') this.retryNow();
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    this.connect();
  }

  /** For signing out: closes for good. */
  stop() {
    this.stopped = true;
    this.signedOut = true;
    window.removeEventListener('online', this.onOnline);
    clearTimeout(this.retryTimer);
    this.stopHeartbeat();
    if (this.ws) {
      const ws = this.ws;
      this.detach(ws);
      ws.close(1000);
    }
    this.failPending('disconnected');
    this.setStatus('stopped');
  }

  /**
   * Reconnects at once, quietly (the account changed its name or avatar: the server reads
   * them when a connection opens). The rooms are resumed as after any reconnect.
   */
  restart() {
    if (this.stopped || !this.ws) return;
    const ws = this.ws;
    this.detach(ws);
    this.stopHeartbeat();
    try {
      ws.close(1000);
    } catch {
      // Already closing.
    }
    this.failPending('disconnected');
    this.connect({ quiet: true });
  }

  /** Reconnects now rather than after the backoff (the person asked, or the network is back). */
  retryNow() {
    if (this.signedOut) return;
    this.stopped = false;
    clearTimeout(this.retryTimer);
    if (!this.ws) this.connect();
  }

  get isOpen() {
    return this.status === 'open';
  }

  /** The time now on the server's clock (milliseconds), as well as this page can tell. */
  serverNow() {
    return Date.now() + this.clockOffset;
  }

  /** A `server_time` read at `receivedAt`, asked for at `sentAt` (half the round trip is the guess). */
  adjustClock(serverTime, sentAt, receivedAt) {
    if (typeof serverTime !== 'number') return;
    this.clockOffset = serverTime - (sentAt + receivedAt) / 2;
  }

  newId() {
    const id = `${this.idPrefix}${this.nextId}`;
    this.nextId += 1;
    return id;
  }

  setStatus(status, info) {
    this.status = status;
    this.onStatus?.(status, info);
  }

  connect({ quiet = false } = {}) {
    clearTimeout(this.retryTimer);
    this.setStatus(this.everWelcomed ? 'reconnecting' : 'connecting', quiet ? { quiet } : undefined);
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    let ws;
    try {
      // Browsers cannot set headers on a WebSocket, so the token rides as a subprotocol.
      ws = new WebSocket(url, ['ibasho.v1', `ibasho.bearer.${this.getToken()}`]);
    } catch {
      this.scheduleReconnect(1006);
      return;
    }
    this.ws = ws;
    this.upgraded = false;
    ws.onopen = () => {
      this.upgraded = true;
      this.sendHello(ws);
    };
    ws.onmessage = (e) => this.receive(e.data);
    ws.onclose = (e) => this.closed(ws, e.code);
    ws.onerror = () => {
      // A close event always follows; that is where recovery happens.
    };
  }

  detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    if (this.ws === ws) this.ws = null;
  }

  sendHello(ws) {
    const id = this.newId();
    const sentAt = Date.now();
    this.pending.set(id, {
      resolve: (welcome) => {
        this.adjustClock(welcome.server_time, sentAt, Date.now());
        this.attempts = 0;
        this.renewedSinceWelcome = false;
        const resumed = this.everWelcomed;
        this.everWelcomed = true;
        this.setStatus('open');
        this.startHeartbeat();
        this.onWelcome(welcome, { resumed });
      },
      reject: () => {
        // An unsupported version closes the socket with 4003; handled in `closed`.
      },
      timer: null,
    });
    ws.send(JSON.stringify({ type: 'hello', id, protocol: PROTOCOL_VERSION }));
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    if (!frame || typeof frame.type !== 'string') return;
    const key = frame.id === undefined || frame.id === null ? null : String(frame.id);
    const waiting = key !== null ? this.pending.get(key) : undefined;
    if (waiting) {
      this.pending.delete(key);
      clearTimeout(waiting.timer);
      if (frame.type === 'error') waiting.reject(new RequestError(frame.code, frame));
      else waiting.resolve(frame);
      // A room list is news for everyone, whoever asked for it.
      if (frame.type !== 'rooms') return;
    }
    this.onFrame(frame);
  }

  /** Sends a request and resolves with its reply (rejects with a RequestError). */
  request(frame, { timeoutMs = 15_000 } = {}) {
    if (!this.ws || this.status !== 'open') {
      return Promise.reject(new RequestError('disconnected'));
    }
    const id = this.newId();
    return new Promise((resolve, reject) => {
      const entry = { resolve, reject, timer: null };
      if (timeoutMs) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new RequestError('timeout'));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      this.ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Sends a frame that has no reply (`move`). Returns whether it went out. */
  send(frame) {
    if (!this.ws || this.status !== 'open') return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  failPending(code) {
    for (const entry of this.pending.values()) {
      clearTimeout(entry.timer);
      entry.reject(new RequestError(code));
    }
    this.pending.clear();
  }

  startHeartbeat() {
    this.stopHeartbeat();
    this.pingTimer = setInterval(() => {
      this.ping(PONG_WITHIN_MS).catch((e) => {
        // A half-open connection never closes by itself; without a pong, assume it is dead.
        if (e.code === 'timeout' && this.ws) this.drop();
      });
    }, PING_EVERY_MS);
  }

  /** Sends `ping`; the `pong` also sets the server's clock. Resolves with the pong. */
  async ping(timeoutMs = PONG_WITHIN_MS) {
    const sentAt = Date.now();
    const pong = await this.request({ type: 'ping' }, { timeoutMs });
    this.adjustClock(pong.server_time, sentAt, Date.now());
    return pong;
  }

  stopHeartbeat() {
    clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  /** Abandons the current socket at once (a dead peer's close handshake could take minutes). */
  drop() {
    const ws = this.ws;
    if (!ws) return;
    this.detach(ws);
    try {
      ws.close(1000);
    } catch {
      // Already closing.
    }
    this.closed(ws, 1006, true);
  }

  async closed(ws, code, alreadyDetached = false) {
    const { upgraded } = this;
    if (!alreadyDetached) this.detach(ws);
    this.stopHeartbeat();
    this.failPending('disconnected');
    if (this.stopped) return;
    if (code === CLOSE_UNAUTHORIZED) return this.unauthorized();
    if (code === CLOSE_UNSUPPORTED_VERSION) return this.fatal('unsupported_version');
    if (code === CLOSE_TOO_MANY_CONNECTIONS) return this.fatal('too_many_connections');
    if (!upgraded) {
      // A refused upgrade (401) looks like any network failure from here: ask plainly.
      try {
        const me = await fetchMe(this.getToken());
        if (this.stopped) return;
        if (!me) return this.unauthorized();
      } catch {
        // The server is unreachable; keep trying.
      }
      if (this.stopped) return;
    }
    this.scheduleReconnect(code);
  }

  /**
   * The server refused the token (expired, or the account changed: a new role, suspension).
   * A renewable session gets a fresh token and reconnects; otherwise this is the end.
   */
  async unauthorized() {
    if (this.renewToken && !this.renewedSinceWelcome) {
      this.renewedSinceWelcome = true;
      this.setStatus('reconnecting', { delay: 0 });
      const result = await this.renewToken();
      if (this.stopped) return;
      if (result === 'ok') {
        this.connect();
        return;
      }
      if (result === 'network' || result === 'error') {
        this.renewedSinceWelcome = false;
        this.scheduleReconnect(1006);
        return;
      }
    }
    this.fatal('unauthorized');
  }

  fatal(reason) {
    this.stopped = true;
    this.setStatus('stopped', { reason });
    this.onFatal(reason);
  }

  scheduleReconnect(code) {
    const exp = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** this.attempts);
    // Jitter keeps a restarted server from being hit by everyone in the same instant.
    let delay = Math.min(BACKOFF_MAX_MS, exp * (0.75 + Math.random() * 0.5));
    if (code === CLOSE_SLOW_CONSUMER && this.attempts === 0) delay = 100;
    if (code === CLOSE_POLICY_ABUSE) delay = Math.max(delay, 5_000);
    this.attempts += 1;
    this.setStatus('reconnecting', { delay });
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
