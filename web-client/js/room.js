// One joined room: its state (mode, presence, last sequence number seen, mute) and its view
// (header, chat, people, and for the plaza the map). Timeline events are applied here in
// sequence order, each at most once.

import { archiveRoomDialog } from './staff.js';
import { h, replaceChildren, uniqueId } from './dom.js';
import { formatTime, t } from './i18n.js';
import { LobbyMap } from './lobby.js';
import { Presence } from './presence.js';
import { Timeline } from './timeline.js';

export class RoomSession {
  constructor(app, info, mode, controller) {
    this.app = app;
    this.controller = controller;
    this.id = info.id;
    this.info = info;
    this.mode = mode;
    this.isLobby = info.kind === 'lobby';
    this.lastSeq = 0;
    this.members = new Map();
    this.watchers = 0;
    this.mutedUntil = null;
    this.muteTimer = null;
    this.removedPeople = new Map();
    this.unread = false;
    // Whether the server has us in this room on the current connection.
    this.joined = false;

    this.titleId = uniqueId('room-title');
    this.el = h('section', { class: ['room-view', this.isLobby && 'is-lobby'], 'aria-labelledby': this.titleId, hidden: true, dataset: { room: this.id } });
    this.timeline = new Timeline(this);
    this.presence = new Presence(this);
    this.map = this.isLobby ? new LobbyMap(this) : null;
    this.head = h('header', { class: 'room-head' });
    this.el.append(this.head,
      h('div', { class: 'room-body' },
        h('div', { class: 'room-main' }, this.map ? this.map.el : null, this.timeline.el),
        this.presence.el));
    this.renderHead();
  }

  displayName() {
    return this.controller.roomName(this.info);
  }

  isMuted() {
    return this.mutedUntil !== null && this.mutedUntil > Date.now();
  }

  destroy() {
    clearTimeout(this.muteTimer);
    this.timeline.destroy();
    this.map?.destroy();
    this.el.remove();
  }

  rerender() {
    this.renderHead();
    this.presence.render();
    this.timeline.rerender();
    this.map?.relabel();
    this.map?.invalidate();
  }

  renderHead() {
    const staff = this.app.isStaff;
    const topic = this.isLobby ? (this.info.topic || t('room.lobbyTopic')) : this.info.topic;
    replaceChildren(this.head,
      h('div', { class: 'room-title' },
        h('h2', { id: this.titleId, tabindex: '-1', text: this.displayName() }),
        topic ? h('p', { class: 'topic', text: topic }) : null,
        h('p', { class: 'mode-line', text: t('mode.current', { mode: t(`mode.${this.mode}`) }) })),
      h('div', { class: 'room-actions' },
        h('button', { type: 'button', class: 'quiet', text: t('mode.change'), on: { click: () => this.controller.changeMode(this) } }),
        h('button', { type: 'button', class: 'quiet', text: t('room.leave'), on: { click: () => this.controller.leave(this) } }),
        staff && !this.isLobby ? h('button', { type: 'button', class: 'quiet danger-text', text: t('room.archive'), on: { click: () => archiveRoomDialog(this) } }) : null));
  }

  // ---- applying server frames -------------------------------------------------------------

  /** A `joined` reply: the first join, a mode change, or a resume after reconnecting. */
  applyJoined(frame, { since }) {
    this.info = frame.room;
    this.mode = frame.mode;
    this.joined = true;
    const ownBefore = this.members.get(this.app.me.id)?.pos;
    this.setPresence(frame.presence);
    if (since === null || since === undefined || frame.reset) {
      this.timeline.reset(frame.messages || [], Boolean(frame.has_older));
    } else {
      for (const e of frame.missed || []) this.applyEvent(e);
    }
    // Every event up to the room's last_seq is now reflected (the server holds the room's
    // write lock while it answers a join).
    this.lastSeq = Math.max(this.lastSeq, frame.room.last_seq);
    this.setMuted(frame.muted_until ?? null, { quiet: true });
    this.renderHead();
    this.timeline.refreshPermissions();
    this.map?.relabel();
    this.map?.membersChanged();
    // A new connection starts at the spawn point; walk back to where this person stood.
    if (this.map && ownBefore && since !== null && since !== undefined && this.mode !== 'view_only') {
      this.map.moveSelfTo(ownBefore.x, ownBefore.y);
    }
  }

  /** A live or replayed event; anything at or below what was seen already is a duplicate. */
  applyEvent({ seq, event }) {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    const fromOthers = this.timeline.apply(event);
    if (fromOthers && this.controller.activeId !== this.id) {
      this.unread = true;
      this.controller.renderNav();
    }
  }

  setPresence(presence) {
    this.members.clear();
    for (const m of presence.members) this.members.set(m.person.id, { ...m });
    this.watchers = presence.watchers;
    this.presence.render();
  }

  memberJoined(member) {
    const old = this.members.get(member.person.id);
    this.members.set(member.person.id, { ...member, pos: member.pos || (member.mode !== 'view_only' ? old?.pos : undefined) });
    this.presence.render();
    this.map?.membersChanged();
  }

  memberLeft(account) {
    this.members.delete(account);
    this.presence.render();
    this.map?.membersChanged();
  }

  setWatchers(count) {
    this.watchers = count;
    this.presence.render();
  }

  setMuted(until, { quiet = false } = {}) {
    clearTimeout(this.muteTimer);
    const wasMuted = this.mutedUntil !== null;
    this.mutedUntil = until && until > Date.now() ? until : null;
    if (this.mutedUntil) {
      // setTimeout cannot wait longer than about 24.8 days; a mute is at most a week.
      const wait = Math.min(this.mutedUntil - Date.now() + 250, 2 ** 31 - 1);
      this.muteTimer = setTimeout(() => this.setMuted(null), wait);
      if (!quiet) this.app.notify(t('composer.muted', { time: formatTime(this.mutedUntil) }), { room: this });
    } else if (wasMuted && !quiet) {
      this.app.notify(t('composer.mutedEnded'), { room: this });
    }
    this.timeline.refreshPermissions();
  }
}
