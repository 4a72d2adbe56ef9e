// The rooms: the list to choose from, joining in a chosen mode, showing one joined room at a
// time, leaving, routing server frames to the right room, and re-joining everything with
// `since` after a reconnect. The rooms joined in this tab survive a page reload. A
// programme's room is joined in the modes the programme allows; when it is full for people
// who write, watching is offered instead.

import { asksForConsults } from './consult.js';
import { confirmDialog, formDialog } from './dialogs.js';
import { h, replaceChildren, uniqueId } from './dom.js';
import { errorText, t } from './i18n.js';
import { AGE_BANDS, hostsRoom, phaseKey, timeRange } from './programmes.js';
import { RoomSession } from './room.js';
import { createRoomDialog } from './staff.js';

const MODES = ['participant', 'chat_only', 'view_only'];
const JOINED_KEY = 'ibasho.joined';
const ACTIVE_KEY = 'ibasho.active';

function modeKey(kind) {
  return `ibasho.mode.${kind === 'lobby' || kind === 'programme' ? kind : 'chat'}`;
}

function rememberedMode(kind) {
  try {
    const m = localStorage.getItem(modeKey(kind));
    return MODES.includes(m) ? m : null;
  } catch {
    return null;
  }
}

function rememberMode(kind, mode) {
  try {
    localStorage.setItem(modeKey(kind), mode);
  } catch {
    // Only a default; fine to lose.
  }
}

function readSession(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key) || 'null');
  } catch {
    return null;
  }
}

function writeSession(key, value) {
  try {
    if (value === null) sessionStorage.removeItem(key);
    else sessionStorage.setItem(key, JSON.stringify(value));
  } catch {
    // A reload then starts from the room list; nothing else is lost.
  }
}

// The server's built-in name for the plaza. It is the product's word, not content someone
// wrote, so it is shown in the reader's language; a plaza renamed by its operators is not.
const DEFAULT_LOBBY_NAME = 'ひろば';

export function roomName(info) {
  if (info.kind === 'lobby' && (!info.name || info.name === DEFAULT_LOBBY_NAME)) return t('nav.lobbyKind');
  return info.name;
}

export class RoomsController {
  constructor(app, { nav, views, home }) {
    this.app = app;
    this.navEl = nav;
    this.viewsEl = views;
    this.homeEl = home;
    this.rooms = [];
    this.sessions = new Map();
    this.activeId = null;
    this.navTitleId = uniqueId('nav-title');
  }

  destroy() {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
    this.navEl.replaceChildren();
    this.homeEl.replaceChildren();
  }

  /** Forgets the rooms of this tab (signing out). */
  static forgetTab() {
    writeSession(JOINED_KEY, null);
    writeSession(ACTIVE_KEY, null);
  }

  // ---- the room list ----------------------------------------------------------------------

  setRooms(rooms) {
    // The plaza first, then the rest as the server lists them. A programme room that has
    // closed is over: it is not listed, not even to staff. A consult's room is private to the
    // people in it and is never listed (the server does not list it either).
    this.rooms = [...rooms]
      .filter((r) => !(r.kind === 'programme' && r.archived) && r.kind !== 'consult')
      .sort((a, b) => (a.kind === 'lobby' ? 0 : 1) - (b.kind === 'lobby' ? 0 : 1));
    for (const info of this.rooms) this.sessions.get(info.id)?.described(info);
    this.renderNav();
    this.renderHome();
  }

  /** A room's description changed (`room_updated`: a pinned notice, the stage). */
  roomUpdated(info) {
    const i = this.rooms.findIndex((r) => r.id === info.id);
    if (i >= 0) this.rooms[i] = { ...this.rooms[i], ...info };
    this.sessions.get(info.id)?.described(info);
  }

  roomName(info) {
    return roomName(info);
  }

  renderNav() {
    const items = this.rooms.map((info) => {
      const session = this.sessions.get(info.id);
      const statusId = uniqueId('room-status');
      if (info.archived) {
        return h('li', { class: 'room-item archived' },
          h('span', { class: 'room-name', text: this.roomName(info) }),
          h('span', { class: 'room-status', text: t('nav.archived') }));
      }
      const status = session
        ? [t('nav.joinedAs', { mode: t(`mode.${session.mode}`) }), session.unread ? t('nav.newActivity') : null].filter(Boolean).join('・')
        : t('nav.notJoined');
      const p = info.programme;
      // A programme room says when it is and where it stands instead of its description.
      const topic = p ? t('nav.programmeTopic', { time: timeRange(p.start, p.end), phase: t(`phase.${phaseKey(p.phase, p.start)}`) }) : info.topic;
      return h('li', { class: ['room-item', session && 'joined', session?.unread && 'unread'] },
        h('button', {
          type: 'button',
          class: 'room-link',
          dataset: { room: info.id },
          'aria-current': this.activeId === info.id ? 'true' : null,
          'aria-describedby': statusId,
          on: { click: () => this.open(info) },
        },
        h('span', { class: 'room-name', text: this.roomName(info) }),
        topic ? h('span', { class: 'room-topic', text: topic }) : null),
        h('span', { class: 'room-status', id: statusId }, session?.unread ? h('span', { class: 'dot', 'aria-hidden': 'true' }) : null, status));
    });
    const focusedRoom = this.navEl.contains(document.activeElement) ? document.activeElement.dataset?.room : null;
    replaceChildren(this.navEl,
      h('h2', { id: this.navTitleId, text: t('nav.title') }),
      h('ul', { class: 'room-list' }, items),
      this.app.isStaff ? h('button', { type: 'button', class: 'quiet create-room', text: t('nav.createRoom'), on: { click: () => createRoomDialog(this.app) } }) : null);
    this.navEl.setAttribute('aria-labelledby', this.navTitleId);
    if (focusedRoom) this.navEl.querySelector(`[data-room="${CSS.escape(focusedRoom)}"]`)?.focus();
  }

  renderHome() {
    const lobby = this.rooms.find((r) => r.kind === 'lobby');
    replaceChildren(this.homeEl,
      h('h2', { id: 'home-title', tabindex: '-1', text: t('home.title', { handle: this.app.me.handle }) }),
      h('p', { text: t('home.where') }),
      h('p', {}, t('home.programmes'), ' ', h('a', { href: '#/timetable', text: t('home.timetableLink') })),
      asksForConsults(this.app.me.role) ? h('p', {}, t('home.consult'), ' ', h('a', { href: '#/consult', text: t('home.consultLink') })) : null,
      this.app.me.role === 'counsellor' ? h('p', {}, t('home.console'), ' ', h('a', { href: '#/console', text: t('home.consoleLink') })) : null,
      lobby && !this.sessions.has(lobby.id) ? h('div', { class: 'home-lobby' },
        h('p', { text: t('home.lobby') }),
        h('button', { type: 'button', class: 'primary big', text: t('home.enterLobby'), on: { click: () => this.open(lobby) } })) : null);
    this.homeEl.hidden = this.activeId !== null;
  }

  rerender() {
    this.renderNav();
    this.renderHome();
    for (const s of this.sessions.values()) s.rerender();
  }

  // ---- showing ----------------------------------------------------------------------------

  show(id, { focus = false } = {}) {
    this.activeId = id && this.sessions.has(id) ? id : null;
    for (const s of this.sessions.values()) s.el.hidden = s.id !== this.activeId;
    this.homeEl.hidden = this.activeId !== null;
    const active = this.sessions.get(this.activeId);
    if (active) {
      active.unread = false;
      active.timeline.shown();
      active.map?.resize();
    }
    writeSession(ACTIVE_KEY, this.activeId);
    this.renderNav();
    if (focus) (active ? active.el.querySelector('h2') : this.homeEl.querySelector('h2'))?.focus();
  }

  /** The space is shown again after a page of its own: the map measures itself anew. */
  revealed() {
    const active = this.sessions.get(this.activeId);
    if (!active) return;
    active.timeline.shown();
    active.map?.resize();
  }

  /** The room list's action: show a joined room, or choose a mode and join. */
  async open(info) {
    if (this.sessions.has(info.id)) {
      this.show(info.id, { focus: true });
      return;
    }
    const joined = await this.chooseModeAndJoin(info, null);
    if (joined) this.show(info.id, { focus: true });
  }

  /** A programme room from the timetable: shown if joined, else joined through the mode dialog. */
  async openById(id) {
    let info = this.rooms.find((r) => r.id === id);
    if (!info && this.app.conn?.isOpen) {
      // The timetable may have heard of the room a moment before the room list did.
      try {
        const reply = await this.app.conn.request({ type: 'list_rooms' });
        this.setRooms(reply.rooms);
      } catch {
        // Said below like a room that is not there.
      }
      info = this.rooms.find((r) => r.id === id);
    }
    if (!info) {
      this.app.notify(t('programme.notOpen'));
      return;
    }
    await this.open(info);
  }

  /** The ways one may be in this room: a programme's own, except for its hosts and staff. */
  modesFor(info) {
    const p = info.programme;
    if (!p || this.app.isStaff || hostsRoom(info, this.app.me)) return MODES;
    return MODES.filter((m) => p.modes.includes(m));
  }

  /** The mode dialog; joins (or re-joins in the new mode) from inside it so errors show there. */
  async chooseModeAndJoin(info, session) {
    const kind = info.kind;
    const modes = this.modesFor(info);
    const remembered = rememberedMode(kind);
    let current = session ? session.mode : (remembered || 'participant');
    if (!modes.includes(current)) current = modes[0];
    const name = this.roomName(info);
    const describe = (m) => {
      if (m === 'participant') return t(`mode.participant.${kind === 'lobby' || kind === 'programme' ? kind : 'chat'}`);
      return t(`mode.${m}.desc`);
    };
    const p = info.programme;
    const intro = [
      p && modes.length < MODES.length ? t('programme.modesIntro') : null,
      t('mode.dialogIntro'),
    ].filter(Boolean).join(' ');
    // Set when the space closed meanwhile (participants and families).
    let closed = false;
    // Set when a programme is full for people who write, and watching is allowed.
    let full = false;
    const result = await formDialog({
      title: session ? t('mode.changeTitle', { room: name }) : t('mode.dialogTitle', { room: name }),
      intro,
      submitLabel: session ? t('mode.changeSubmit') : t('mode.enter'),
      fields: [{ name: 'mode', type: 'radio', label: t('mode.legend'), value: current, options: modes.map((m) => ({ value: m, label: t(`mode.${m}`), description: describe(m) })) }],
      onSubmit: async ({ mode }) => {
        try {
          const joined = await this.join(info, mode, session ? { since: session.lastSeq } : {});
          rememberMode(kind, mode);
          return joined;
        } catch (err) {
          // Closed meanwhile: the dialog goes, and the calm closed page says when it opens.
          if (err.code === 'closed') {
            closed = true;
            this.app.hours?.refused(err.frame);
            return null;
          }
          if (err.code === 'room_full' && p && !session && mode !== 'view_only' && modes.includes('view_only')) {
            full = true;
            return null;
          }
          // A group for some age bands: said gently, with where to turn.
          if (err.code === 'not_allowed' && p?.age_bands?.length) {
            const ages = AGE_BANDS.filter((b) => p.age_bands.includes(b)).map((b) => t(`age.${b}`)).join(t('list.sep'));
            throw new Error(t('programme.notYourAge', { ages }));
          }
          throw new Error(errorText(err));
        }
      },
    });
    // Focus came back from the dialog to where it was opened; the closed page is what is there now.
    if (closed) this.app.hours?.focus();
    if (full) return this.offerWatching(info);
    return result;
  }

  /** "Full — you can still watch": asks, then joins (or stays) as a watcher. */
  async offerWatching(info) {
    const ok = await confirmDialog({
      title: t('programme.fullTitle', { room: this.roomName(info) }),
      message: t('programme.fullText'),
      confirmLabel: t('programme.fullWatch'),
      cancelLabel: t('dialog.cancel'),
    });
    if (!ok) return null;
    try {
      return await this.join(info, 'view_only');
    } catch (err) {
      if (err.code === 'closed') {
        this.app.hours?.refused(err.frame);
        return null;
      }
      this.app.notify(errorText(err));
      return null;
    }
  }

  /** A host let a watcher join in: into the room again in a writing mode, from the last event seen. */
  async joinIn(session) {
    const modes = this.modesFor(session.info);
    const mode = ['participant', 'chat_only'].find((m) => modes.includes(m));
    if (!mode) return;
    try {
      await this.join(session.info, mode, { since: session.lastSeq });
      this.app.notify(t('room.modeChanged', { mode: t(`mode.${mode}`) }));
      this.renderNav();
      session.el.querySelector('textarea')?.focus();
    } catch (err) {
      this.app.notify(errorText(err));
    }
  }

  async changeMode(session) {
    const before = session.mode;
    const done = await this.chooseModeAndJoin(session.info, session);
    if (done && session.mode !== before) {
      this.app.notify(t('room.modeChanged', { mode: t(`mode.${session.mode}`) }));
      this.renderNav();
    }
  }

  /** Sends `join`. A new room gets its session; a known one is refreshed (mode change, resume). */
  async join(info, mode, { since = null } = {}) {
    let session = this.sessions.get(info.id);
    const isNew = !session;
    if (isNew) session = new RoomSession(this.app, info, mode, this);
    const frame = { type: 'join', room: info.id, mode };
    if (since !== null && since !== undefined) frame.since = since;
    let reply;
    try {
      reply = await this.app.conn.request(frame);
    } catch (err) {
      if (isNew) session.destroy();
      throw err;
    }
    if (isNew) {
      this.sessions.set(info.id, session);
      this.viewsEl.append(session.el);
    }
    session.applyJoined(reply, { since });
    this.persist();
    this.renderNav();
    this.renderHome();
    return session;
  }

  async leave(session) {
    try {
      await this.app.conn.request({ type: 'leave', room: session.id });
    } catch (err) {
      // Not in it any more is as good as left; anything else, say so and stay.
      if (err.code !== 'not_joined' && err.code !== 'unknown_room') {
        this.app.notify(errorText(err), { room: session });
        return;
      }
    }
    const name = session.displayName();
    this.drop(session.id);
    this.app.notify(t('room.left', { room: name }));
  }

  /** Removes a room's view (left, closed, removed) and shows another. */
  drop(id) {
    const session = this.sessions.get(id);
    if (!session) return;
    const wasActive = this.activeId === id;
    session.destroy();
    this.sessions.delete(id);
    this.persist();
    if (wasActive) {
      const next = [...this.sessions.keys()][0] || null;
      this.show(next, { focus: true });
    } else {
      this.renderNav();
    }
    this.renderHome();
  }

  persist() {
    writeSession(JOINED_KEY, [...this.sessions.values()].map((s) => ({ id: s.id, mode: s.mode })));
  }

  // ---- connection lifecycle ---------------------------------------------------------------

  /** After the first welcome of this page: back into the rooms this tab was in. */
  async restore() {
    const saved = readSession(JOINED_KEY) || [];
    const active = readSession(ACTIVE_KEY);
    await Promise.all(saved.map(async ({ id, mode }) => {
      const info = this.rooms.find((r) => r.id === id && !r.archived);
      if (!info || !MODES.includes(mode)) return;
      try {
        await this.join(info, mode);
      } catch (err) {
        if (err.code === 'closed') {
          this.app.hours?.refused(err.frame);
          return;
        }
        this.app.notify(t('room.rejoinFailed', { room: this.roomName(info), error: errorText(err) }), { sticky: true });
      }
    }));
    this.persist();
    this.show(this.sessions.has(active) ? active : ([...this.sessions.keys()][0] || null));
  }

  /**
   * The space closed to this person: the server has taken them out of every room. The views
   * go; the list of rooms this tab was in stays, to go back into when it opens. Returns
   * whether the person was in any room.
   */
  closeAll() {
    const wasInside = this.sessions.size > 0;
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
    this.activeId = null;
    this.renderNav();
    this.renderHome();
    return wasInside;
  }

  /**
   * The space has opened while this page waited on the closed page: back into the rooms this
   * tab was in when it closed, or else into the plaza if a way to be there was chosen before.
   */
  async enterOnOpening({ focus = false } = {}) {
    const saved = (readSession(JOINED_KEY) || []).filter(({ id }) => this.rooms.some((r) => r.id === id && !r.archived));
    if (!saved.length) {
      // Only in a way this person chose before: nobody is made visible without choosing.
      // Without one, the welcome panel offers the plaza and the ways to be there.
      const lobby = this.rooms.find((r) => r.kind === 'lobby' && !r.archived);
      const mode = lobby && rememberedMode(lobby.kind);
      if (mode) {
        writeSession(JOINED_KEY, [{ id: lobby.id, mode }]);
        writeSession(ACTIVE_KEY, lobby.id);
      }
    }
    await this.restore();
    if (focus) this.show(this.activeId, { focus: true });
  }

  disconnected() {
    for (const s of this.sessions.values()) s.joined = false;
  }

  /** After a reconnect: re-join every room with the same mode, from the last event seen. */
  resume() {
    for (const session of [...this.sessions.values()]) {
      this.join(session.info, session.mode, { since: session.lastSeq })
        .then(() => session.timeline.resendPending())
        .catch((err) => {
          if (err.code === 'disconnected' || err.code === 'timeout') return; // the next reconnect retries
          if (err.code === 'closed') {
            this.app.hours?.refused(err.frame);
            return;
          }
          const name = session.displayName();
          this.drop(session.id);
          this.app.notify(t('room.rejoinFailed', { room: name, error: errorText(err) }), { sticky: true });
        });
    }
  }

  /** Frames that are not replies to a request. */
  onFrame(frame) {
    const session = frame.room ? this.sessions.get(frame.room) : null;
    switch (frame.type) {
      case 'rooms':
        this.setRooms(frame.rooms);
        break;
      case 'event':
        session?.applyEvent(frame);
        break;
      case 'member_joined':
        session?.memberJoined(frame.member);
        break;
      case 'member_left':
        session?.memberLeft(frame.account);
        break;
      case 'watchers':
        session?.setWatchers(frame.count);
        break;
      case 'positions':
        session?.map?.applyPositions(frame.moves, Boolean(frame.full));
        break;
      case 'muted':
        session?.setMuted(frame.until);
        break;
      case 'unmuted':
        session?.setMuted(null);
        break;
      case 'room_updated':
        this.roomUpdated(frame.room);
        break;
      case 'voice':
        session?.voiceChanged(Boolean(frame.on));
        break;
      case 'session_ending':
        session?.sessionEnding(frame);
        break;
      case 'removed':
        if (session) {
          const name = session.displayName();
          this.drop(session.id);
          this.app.notify([t('room.removed', { room: name }), frame.reason ? t('room.removedReason', { reason: frame.reason }) : null].filter(Boolean).join(' '), { sticky: true });
        }
        break;
      case 'room_closed':
        if (session) {
          const name = session.displayName();
          const programme = Boolean(session.info.programme);
          this.drop(session.id);
          let text = t('room.closed', { room: name });
          // A programme called off says why; one that reached its end thanks people calmly.
          if (programme) text = frame.reason ? t('programme.calledOff', { room: name, reason: frame.reason }) : t('programme.ended', { room: name });
          this.app.notify(text, { sticky: true });
        }
        break;
      default:
        break;
    }
  }
}
