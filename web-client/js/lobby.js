// The plaza map: a canvas with everyone's avatar. Your own moves at once with the keys (or
// walks to where you click) and is sent at most ten times a second; other people's avatars
// glide between the positions the server batches every tick, or jump when the person
// prefers reduced motion. A visually hidden list mirrors the map for screen readers.

import { COLOR_HEX, drawAvatar } from './avatars.js';
import { h, onReducedMotionChange, prefersReducedMotion, uniqueId } from './dom.js';
import { t } from './i18n.js';

const MOVE_INTERVAL_MS = 100;
const KEY_STEP = 12;
const WALK_SPEED = 320; // map units per second
const GLIDE_MS = 90; // time constant of the glide towards the latest position
const SNAP_DISTANCE = 400; // further than this is a jump, not a walk
const LIST_THROTTLE_MS = 250;
const SELF_ECHO_QUIET_MS = 1500;
const AVATAR_RADIUS = 22; // map units

const KEYS = {
  ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1],
  a: [-1, 0], d: [1, 0], w: [0, -1], s: [0, 1], A: [-1, 0], D: [1, 0], W: [0, -1], S: [0, 1],
};

export class LobbyMap {
  constructor(room) {
    this.room = room;
    this.app = room.app;
    this.size = this.app.lobbyMap;
    this.display = new Map();
    this.listItems = new Map();
    this.walkTarget = null;
    this.lastLocalMove = 0;
    this.lastSentAt = 0;
    this.pendingMove = null;
    this.sendTimer = null;
    this.listTimer = null;
    this.raf = null;
    this.lastFrame = 0;
    this.scale = 1;

    const helpId = uniqueId('map-help');
    this.help = h('p', { class: 'hint map-help', id: helpId });
    this.canvas = h('canvas', {
      class: 'lobby-canvas',
      tabindex: '0',
      // Screen readers pass arrow keys through to an application; the list below is the
      // readable version of the map.
      role: 'application',
      'aria-describedby': helpId,
      on: {
        keydown: (e) => this.onKey(e),
        pointerdown: (e) => this.onPointer(e),
        focus: () => this.invalidate(),
        blur: () => this.invalidate(),
      },
    });
    this.list = h('ul', { id: 'map-people', class: 'visually-hidden' });
    this.el = h('div', { class: 'map-wrap' }, this.canvas, this.help, this.list);

    this.resizeObserver = new ResizeObserver(() => this.resize());
    this.resizeObserver.observe(this.el);
    onReducedMotionChange(() => this.invalidate());
    this.relabel();
  }

  destroy() {
    this.resizeObserver.disconnect();
    cancelAnimationFrame(this.raf);
    clearTimeout(this.sendTimer);
    clearTimeout(this.listTimer);
  }

  get me() {
    return this.app.me;
  }

  /** My own member entry, if I have an avatar (watchers have none). */
  self() {
    if (this.room.mode === 'view_only') return null;
    const m = this.room.members.get(this.me.id);
    return m && m.pos ? m : null;
  }

  relabel() {
    const watching = this.room.mode === 'view_only';
    this.canvas.setAttribute('aria-label', watching ? t('map.labelWatching') : t('map.label'));
    this.help.textContent = watching ? t('map.helpWatching') : t('map.help');
    this.list.setAttribute('aria-label', t('map.peopleTitle'));
    this.renderList();
  }

  // ---- updates from the server ----------------------------------------------------------

  /** Members joined, left or changed mode. */
  membersChanged() {
    this.invalidate();
    this.scheduleList();
  }

  applyPositions(moves, full) {
    const now = performance.now();
    for (const move of moves) {
      const m = this.room.members.get(move.account);
      if (!m) continue;
      if (move.account === this.me.id) {
        // My own avatar is driven locally; the echo of an older position would pull it back.
        // A key frame while I stand still puts it right (say, after the server clamped it).
        if (!full || this.walkTarget || now - this.lastLocalMove < SELF_ECHO_QUIET_MS || this.pendingMove) continue;
      }
      m.pos = { x: move.x, y: move.y };
    }
    this.invalidate();
    this.scheduleList();
  }

  // ---- my own movement ------------------------------------------------------------------

  onKey(e) {
    const dir = KEYS[e.key];
    if (e.key === 'Escape') this.walkTarget = null;
    if (!dir || e.altKey || e.ctrlKey || e.metaKey) return;
    e.preventDefault();
    const me = this.self();
    if (!me) return;
    this.walkTarget = null;
    const step = e.shiftKey ? KEY_STEP * 3 : KEY_STEP;
    this.moveSelfTo(me.pos.x + dir[0] * step, me.pos.y + dir[1] * step);
  }

  onPointer(e) {
    const me = this.self();
    if (!me) return;
    const rect = this.canvas.getBoundingClientRect();
    const x = ((e.clientX - rect.left) / rect.width) * this.size.width;
    const y = ((e.clientY - rect.top) / rect.height) * this.size.height;
    this.canvas.focus();
    e.preventDefault();
    if (prefersReducedMotion()) this.moveSelfTo(x, y);
    else {
      this.walkTarget = { x: this.clampX(x), y: this.clampY(y) };
      this.invalidate();
    }
  }

  clampX(x) {
    return Math.max(0, Math.min(this.size.width - 1, Math.round(x)));
  }

  clampY(y) {
    return Math.max(0, Math.min(this.size.height - 1, Math.round(y)));
  }

  moveSelfTo(x, y) {
    const me = this.self();
    if (!me) return;
    me.pos = { x: this.clampX(x), y: this.clampY(y) };
    this.display.set(this.me.id, { ...me.pos });
    this.lastLocalMove = performance.now();
    this.queueMove(me.pos);
    this.invalidate();
    this.scheduleList();
  }

  /** Sends the latest position, at most every MOVE_INTERVAL_MS (the server ticks at 10 Hz). */
  queueMove(pos) {
    this.pendingMove = { x: pos.x, y: pos.y };
    if (this.sendTimer) return;
    const wait = Math.max(0, this.lastSentAt + MOVE_INTERVAL_MS - performance.now());
    this.sendTimer = setTimeout(() => {
      this.sendTimer = null;
      const move = this.pendingMove;
      this.pendingMove = null;
      if (!move) return;
      this.lastSentAt = performance.now();
      this.app.conn.send({ type: 'move', room: this.room.id, x: move.x, y: move.y });
    }, wait);
  }

  // ---- drawing --------------------------------------------------------------------------

  resize() {
    const width = this.el.clientWidth;
    if (!width) return;
    const aspect = this.size.height / this.size.width;
    // Keep the whole map in view on short screens too.
    const maxHeight = Math.max(220, window.innerHeight * 0.6);
    const cssWidth = Math.min(width, maxHeight / aspect);
    const cssHeight = cssWidth * aspect;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.width = `${cssWidth}px`;
    this.canvas.style.height = `${cssHeight}px`;
    this.canvas.width = Math.round(cssWidth * dpr);
    this.canvas.height = Math.round(cssHeight * dpr);
    this.scale = this.canvas.width / this.size.width;
    this.dpr = dpr;
    this.invalidate();
  }

  invalidate() {
    if (this.raf === null) this.raf = requestAnimationFrame((ts) => this.frame(ts));
  }

  frame(ts) {
    this.raf = null;
    const dt = this.lastFrame ? Math.min(100, ts - this.lastFrame) : 16;
    this.lastFrame = ts;
    const reduced = prefersReducedMotion();
    let moving = false;

    if (this.walkTarget) {
      const me = this.self();
      if (!me) this.walkTarget = null;
      else {
        const dx = this.walkTarget.x - me.pos.x;
        const dy = this.walkTarget.y - me.pos.y;
        const dist = Math.hypot(dx, dy);
        const step = (WALK_SPEED * dt) / 1000;
        if (dist <= step) {
          this.moveSelfTo(this.walkTarget.x, this.walkTarget.y);
          this.walkTarget = null;
        } else {
          this.moveSelfTo(me.pos.x + (dx / dist) * step, me.pos.y + (dy / dist) * step);
          moving = true;
        }
      }
    }

    const seen = new Set();
    for (const m of this.room.members.values()) {
      if (!m.pos || m.mode === 'view_only') continue;
      const id = m.person.id;
      seen.add(id);
      let d = this.display.get(id);
      if (!d) {
        d = { ...m.pos };
        this.display.set(id, d);
      }
      const dx = m.pos.x - d.x;
      const dy = m.pos.y - d.y;
      if (reduced || id === this.me.id || Math.hypot(dx, dy) > SNAP_DISTANCE) {
        d.x = m.pos.x;
        d.y = m.pos.y;
      } else if (Math.abs(dx) > 0.3 || Math.abs(dy) > 0.3) {
        const k = 1 - Math.exp(-dt / GLIDE_MS);
        d.x += dx * k;
        d.y += dy * k;
        moving = true;
      } else {
        d.x = m.pos.x;
        d.y = m.pos.y;
      }
    }
    for (const id of this.display.keys()) if (!seen.has(id)) this.display.delete(id);

    this.draw();
    if (moving) this.invalidate();
    else this.lastFrame = 0;
  }

  draw() {
    const ctx = this.canvas.getContext('2d');
    const { width: W, height: H } = this.size;
    const k = this.scale;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);

    // A quiet floor with a rug, a pond and a few trees, so the space reads as a place.
    ctx.fillStyle = '#f2eee4';
    ctx.fillRect(0, 0, W * k, H * k);
    ctx.fillStyle = '#e2dccd';
    for (let x = 40; x < W; x += 80) for (let y = 40; y < H; y += 80) {
      ctx.beginPath();
      ctx.arc(x * k, y * k, 2 * k, 0, Math.PI * 2);
      ctx.fill();
    }
    roundRect(ctx, W * 0.32 * k, H * 0.3 * k, W * 0.36 * k, H * 0.4 * k, 40 * k);
    ctx.fillStyle = '#ebe1cf';
    ctx.fill();
    ctx.beginPath();
    ctx.ellipse(W * 0.86 * k, H * 0.8 * k, 70 * k, 40 * k, 0, 0, Math.PI * 2);
    ctx.fillStyle = '#d5e6ec';
    ctx.fill();
    for (const [tx, ty, r] of [[0.08, 0.14, 34], [0.15, 0.86, 28], [0.9, 0.15, 30], [0.52, 0.9, 22]]) {
      ctx.beginPath();
      ctx.arc(W * tx * k, H * ty * k, r * k, 0, Math.PI * 2);
      ctx.fillStyle = '#d3e3c8';
      ctx.fill();
    }

    const people = [...this.room.members.values()]
      .filter((m) => m.pos && m.mode !== 'view_only' && this.display.has(m.person.id))
      .map((m) => ({ m, d: this.display.get(m.person.id) }))
      .sort((a, b) => a.d.y - b.d.y);
    const radius = Math.max(12 * (this.dpr || 1), AVATAR_RADIUS * k);
    const fontPx = Math.round(Math.max(11, Math.min(15, 13 * (k / (this.dpr || 1)) * 1.4)) * (this.dpr || 1));
    ctx.font = `${fontPx}px system-ui, "Hiragino Sans", "Noto Sans CJK JP", "Noto Sans JP", "Yu Gothic UI", Meiryo, sans-serif`;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    for (const { m, d } of people) {
      const own = m.person.id === this.me.id;
      const cx = d.x * k;
      const cy = d.y * k;
      ctx.beginPath();
      ctx.ellipse(cx, cy + radius * 0.95, radius * 0.8, radius * 0.25, 0, 0, Math.PI * 2);
      ctx.fillStyle = 'rgba(60, 50, 40, 0.12)';
      ctx.fill();
      if (own) {
        ctx.beginPath();
        ctx.arc(cx, cy, radius + 6 * (this.dpr || 1), 0, Math.PI * 2);
        ctx.fillStyle = 'rgba(255, 255, 255, 0.85)';
        ctx.fill();
        ctx.lineWidth = 3 * (this.dpr || 1);
        ctx.strokeStyle = '#2d6a93';
        ctx.stroke();
      }
      drawAvatar(ctx, m.person.avatar, cx, cy, radius);
      const label = own ? t('map.selfLabel', { handle: m.person.handle }) : m.person.handle;
      const tw = ctx.measureText(label).width;
      const pad = 4 * (this.dpr || 1);
      const ly = cy + radius + 6 * (this.dpr || 1);
      roundRect(ctx, cx - tw / 2 - pad, ly - pad / 2, tw + pad * 2, fontPx + pad, 6 * (this.dpr || 1));
      ctx.fillStyle = own ? 'rgba(45, 106, 147, 0.95)' : 'rgba(255, 253, 249, 0.92)';
      ctx.fill();
      ctx.strokeStyle = own ? 'transparent' : (COLOR_HEX[m.person.avatar?.color] || '#888');
      ctx.lineWidth = 1 * (this.dpr || 1);
      if (!own) ctx.stroke();
      ctx.fillStyle = own ? '#ffffff' : '#2f2a26';
      ctx.fillText(label, cx, ly);
    }
  }

  // ---- the readable mirror --------------------------------------------------------------

  scheduleList() {
    if (this.listTimer) return;
    this.listTimer = setTimeout(() => {
      this.listTimer = null;
      this.renderList();
    }, LIST_THROTTLE_MS);
  }

  /** Updates items in place, so a screen reader reading the list is not thrown back. */
  renderList() {
    const people = [...this.room.members.values()]
      .filter((m) => m.pos && m.mode !== 'view_only')
      .sort((a, b) => a.person.handle.localeCompare(b.person.handle));
    const keep = new Set();
    let before = null;
    for (const m of people.reverse()) {
      const id = m.person.id;
      keep.add(id);
      const own = id === this.me.id;
      const handle = own ? t('map.selfLabel', { handle: m.person.handle }) : m.person.handle;
      const text = t('map.position', { handle, x: m.pos.x, y: m.pos.y });
      let li = this.listItems.get(id);
      if (!li) {
        li = h('li', { dataset: { account: id } });
        this.listItems.set(id, li);
      }
      if (li.textContent !== text) li.textContent = text;
      li.dataset.x = String(m.pos.x);
      li.dataset.y = String(m.pos.y);
      if (li.nextSibling !== before || li.parentNode !== this.list) this.list.insertBefore(li, before);
      before = li;
    }
    for (const [id, li] of this.listItems) {
      if (!keep.has(id)) {
        li.remove();
        this.listItems.delete(id);
      }
    }
  }
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.roundRect(x, y, w, h, r);
}
