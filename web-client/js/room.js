// One joined room: its state (mode, presence, last sequence number seen, mute) and its view
// (header, chat, people, and for the plaza the map). Timeline events are applied here in
// sequence order, each at most once. A programme's room also shows the programme (when, where
// it stands, whom it is for), the hosts' pinned notice and stage, the notice before its end,
// an invitation to join in when a host offers it, and the hosts' own controls.

import { archiveRoomDialog } from './staff.js';
import { h, replaceChildren, uniqueId } from './dom.js';
import { formatPeriod, formatTime, t } from './i18n.js';
import { LobbyMap } from './lobby.js';
import { pinDialog, setStage, unpin } from './host.js';
import { Presence } from './presence.js';
import { ageBandsText, categoryBadge, hostsRoom, phaseBadge } from './programmes.js';
import { Timeline } from './timeline.js';

// How long a polite announcement waits, so that a region just emptied is read out again.
const ANNOUNCE_DELAY_MS = 60;

export class RoomSession {
  constructor(app, info, mode, controller) {
    this.app = app;
    this.controller = controller;
    this.id = info.id;
    this.info = info;
    this.mode = mode;
    this.isLobby = info.kind === 'lobby';
    this.isProgramme = info.kind === 'programme';
    // A host let me join in (the server says so with `voice`, and in every `joined`).
    this.voiced = false;
    // Whether I put the invitation to join in aside ("keep watching").
    this.inviteDismissed = false;
    // As a host: whom I let join in (the server does not list them).
    this.voicedPeople = new Set();
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
    this.panel = null;
    if (this.isProgramme) {
      // The parts that announce are made once and kept, so that changes to them are read out.
      this.notes = h('div', { class: 'programme-notes' });
      this.endingEl = h('p', { class: 'programme-ending', role: 'status' });
      this.invite = h('div', { class: 'voice-invite', hidden: true });
      this.live = h('p', { class: 'visually-hidden', role: 'status' });
      this.hostBox = h('div', { class: 'host-box' });
      this.panel = h('div', { class: 'programme-panel' }, this.notes, this.endingEl, this.invite, this.hostBox, this.live);
    }
    this.el.append(this.head, this.panel,
      h('div', { class: 'room-body' },
        h('div', { class: 'room-main' }, this.map ? this.map.el : null, this.timeline.el),
        this.presence.el));
    this.renderHead();
  }

  /** A programme's host here (or staff, who may do what hosts do anywhere). */
  mayHost() {
    return this.app.isStaff || hostsRoom(this.info, this.app.me);
  }

  /** Whether `person` hosts this programme. */
  isHost(person) {
    return hostsRoom(this.info, person);
  }

  /** On stage, only hosts, staff and the people they let in write (stamps are for everyone). */
  stageHolds() {
    return this.isProgramme && Boolean(this.info.stage) && !this.mayHost() && !this.voiced;
  }

  isActive() {
    return this.controller.activeId === this.id && !this.el.hidden;
  }

  /** Says `text` politely, if this room is the one shown. */
  announce(text) {
    if (!this.live || !this.isActive()) return;
    this.live.textContent = '';
    setTimeout(() => { this.live.textContent = text; }, ANNOUNCE_DELAY_MS);
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
    const focusKey = this.head.contains(document.activeElement) ? document.activeElement.dataset?.fkey : null;
    const staff = this.app.isStaff;
    const topic = this.isLobby ? (this.info.topic || t('room.lobbyTopic')) : this.info.topic;
    const p = this.info.programme;
    const ages = p ? ageBandsText(p.age_bands) : null;
    replaceChildren(this.head,
      h('div', { class: 'room-title' },
        h('h2', { id: this.titleId, tabindex: '-1', dataset: { fkey: 'title' }, text: this.displayName() }),
        p ? h('p', { class: 'programme-meta' },
          categoryBadge(p.category), ' ', phaseBadge(p.phase, p.start), ' ',
          h('span', { class: 'programme-when', text: formatPeriod({ start: p.start, end: p.end }) })) : null,
        topic ? h('p', { class: 'topic', text: topic }) : null,
        ages ? h('p', { class: 'programme-ages', text: ages }) : null,
        h('p', { class: 'mode-line', text: t('mode.current', { mode: t(`mode.${this.mode}`) }) })),
      h('div', { class: 'room-actions' },
        h('button', { type: 'button', class: 'quiet', dataset: { fkey: 'mode' }, text: t('mode.change'), on: { click: () => this.controller.changeMode(this) } }),
        h('button', { type: 'button', class: 'quiet', dataset: { fkey: 'leave' }, text: t('room.leave'), on: { click: () => this.controller.leave(this) } }),
        // A programme's room closes with its session; calling it off is on the programmes page.
        staff && !this.isLobby && !this.isProgramme ? h('button', { type: 'button', class: 'quiet danger-text', dataset: { fkey: 'archive' }, text: t('room.archive'), on: { click: () => archiveRoomDialog(this) } }) : null));
    if (focusKey) this.head.querySelector(`[data-fkey="${focusKey}"]`)?.focus();
    this.renderPanel();
  }

  /** The programme's notes (pinned notice, stage), the invitation to join in, the host controls. */
  renderPanel() {
    if (!this.panel) return;
    const info = this.info;
    const host = this.mayHost();
    replaceChildren(this.notes,
      info.pinned ? h('div', { class: 'pinned' },
        h('p', { class: 'pinned-label', text: t('programme.pinnedLabel') }),
        h('p', { class: 'pinned-text', text: info.pinned })) : null,
      info.stage ? h('p', { class: 'stage-line' },
        h('span', { class: 'badge stage-badge', text: t('programme.stageBadge') }), ' ',
        t(host || this.voiced ? 'programme.stageOnHost' : 'programme.stageOn')) : null);

    const invited = this.voiced && this.mode === 'view_only' && !this.inviteDismissed;
    const hadFocus = this.invite.contains(document.activeElement);
    this.invite.hidden = !invited;
    if (invited) {
      replaceChildren(this.invite,
        h('p', { class: 'voice-invite-title', text: t('programme.voiceInvite') }),
        h('p', { text: t('programme.voiceInviteText') }),
        h('div', { class: 'button-row' },
          h('button', { type: 'button', class: 'primary', text: t('programme.joinIn'), on: { click: () => this.controller.joinIn(this) } }),
          h('button', { type: 'button', class: 'quiet', text: t('programme.keepWatching'), on: { click: () => this.dismissInvite() } })));
    } else {
      this.invite.replaceChildren();
      if (hadFocus) this.el.querySelector('h2')?.focus();
    }

    if (!host) {
      this.hostBox.replaceChildren();
      return;
    }
    const focusKey = this.hostBox.contains(document.activeElement) ? document.activeElement.dataset.fkey : null;
    const titleId = `${this.titleId}-host`;
    replaceChildren(this.hostBox,
      h('section', { class: 'host-controls', 'aria-labelledby': titleId },
        h('h3', { id: titleId, text: t('host.title') }),
        h('div', { class: 'button-row' },
          h('button', { type: 'button', class: 'small', dataset: { fkey: 'pin' }, text: info.pinned ? t('host.pinChange') : t('host.pin'), on: { click: () => pinDialog(this) } }),
          info.pinned ? h('button', { type: 'button', class: 'small', dataset: { fkey: 'unpin' }, text: t('host.unpin'), on: { click: () => unpin(this) } }) : null,
          h('button', {
            type: 'button',
            class: ['small', info.stage && 'primary'],
            dataset: { fkey: 'stage' },
            text: info.stage ? t('host.stageOff') : t('host.stageOn'),
            on: { click: () => setStage(this, !info.stage) },
          })),
        h('p', { class: 'hint', text: t('host.hint') })));
    if (focusKey) (this.hostBox.querySelector(`[data-fkey="${focusKey}"]`) || this.hostBox.querySelector('[data-fkey="pin"]'))?.focus();
  }

  dismissInvite() {
    this.inviteDismissed = true;
    this.renderPanel();
    this.el.querySelector('h2')?.focus();
  }

  /**
   * The room as the server now describes it (the room list, or `room_updated`): a programme
   * room's phase, pinned notice and stage; anything that changed is said politely.
   */
  described(info) {
    const before = this.info;
    this.info = { ...this.info, name: info.name, topic: info.topic, programme: info.programme ?? this.info.programme, pinned: info.pinned ?? null, stage: Boolean(info.stage) };
    const same = before.name === this.info.name && before.topic === this.info.topic
      && JSON.stringify(before.programme) === JSON.stringify(this.info.programme)
      && (before.pinned ?? null) === this.info.pinned && Boolean(before.stage) === this.info.stage;
    if (same) return;
    if (this.isProgramme) {
      if (before.programme?.phase !== 'live' && this.info.programme?.phase === 'live') this.announce(t('programme.started'));
      if ((before.pinned ?? null) !== this.info.pinned) this.announce(this.info.pinned ? t('programme.pinnedNow', { text: this.info.pinned }) : t('programme.unpinnedNow'));
      if (Boolean(before.stage) !== this.info.stage) {
        this.announce(t(this.info.stage ? 'programme.stageStarted' : 'programme.stageEnded'));
        this.timeline.refreshPermissions();
      }
    }
    this.renderHead();
  }

  /** `voice`: a host let me join in, or took it back. */
  voiceChanged(on) {
    this.voiced = on;
    this.inviteDismissed = false;
    this.renderHead();
    this.timeline.refreshPermissions();
    if (on && this.mode === 'view_only') {
      if (this.isActive()) this.announce(t('programme.voiceInvite'));
      else this.app.notify(t('programme.voiceInviteIn', { room: this.displayName() }), { sticky: true });
    } else if (on) {
      this.announce(t('programme.voiceGiven'));
    } else if (this.info.stage) {
      this.announce(t('programme.voiceTaken'));
    }
  }

  /** `session_ending`: said in the room, and in the notices when another room is shown. */
  sessionEnding({ ends_at: endsAt, minutes }) {
    const text = t('programme.ending', { minutes, time: formatTime(endsAt) });
    this.endingEl.textContent = text;
    if (!this.isActive()) this.app.notify(t('programme.endingIn', { room: this.displayName(), minutes }));
  }

  // ---- applying server frames -------------------------------------------------------------

  /** A `joined` reply: the first join, a mode change, or a resume after reconnecting. */
  applyJoined(frame, { since }) {
    this.info = { ...frame.room, pinned: frame.room.pinned ?? null, stage: Boolean(frame.room.stage) };
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
    // After a reload or a reconnect, the server says whether a host let me join in.
    this.voiced = Boolean(frame.voice);
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
