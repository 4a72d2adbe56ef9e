// A room's chat: the message list (newest at the bottom, older pages on scrolling up),
// stamps, editing and deleting one's own messages, and the composer with posts that stay
// "sending…" until the server has stored them.

import { avatarMark } from './avatars.js';
import { confirmDialog } from './dialogs.js';
import { charCount, h, newUuid, prefersReducedMotion, replacePreservingFocus, resetRoving, rovingToolbar, uniqueId } from './dom.js';
import { errorText, formatDateTime, formatTime, t } from './i18n.js';
import { hostsRoom } from './programmes.js';
import { moderateDialog, staffDeleteDialog } from './staff.js';

export const STAMP_EMOJI = {
  wave: '👋', heart: '❤️', smile: '😊', thanks: '🙏', clap: '👏', tea: '🍵', sparkle: '✨', eyes: '👀',
};

const NEAR_BOTTOM_PX = 48;

export class Timeline {
  /** @param {import('./room.js').RoomSession} room */
  constructor(room) {
    this.room = room;
    this.app = room.app;
    this.messages = new Map();
    this.order = [];
    this.hasOlder = false;
    this.loadingOlder = false;
    // Whether scrolling back reached the first message (worth saying only then).
    this.reachedStart = false;
    this.pending = new Map();
    this.editing = null;
    this.statusTimer = null;
    // Whether to follow new messages: true while the person is at the bottom.
    this.pinned = true;
    this.autoScrolling = false;
    this.build();
  }

  get me() {
    return this.app.me;
  }

  /** Stamps: anyone who is not only watching and not muted, on stage too. */
  get canReact() {
    return this.room.mode !== 'view_only' && !this.room.isMuted() && !this.heldNote();
  }

  /** Why the room holds writing now (a consult that ended, say), in words; null if it does not. */
  heldNote() {
    return this.room.heldNote?.() || null;
  }

  /** Writing and editing: as stamps, but not while the hosts hold the stage. */
  get canWrite() {
    return this.canReact && !this.room.stageHolds();
  }

  build() {
    const ids = { log: uniqueId('log'), composer: uniqueId('composer') };
    this.olderButton = h('button', { type: 'button', class: 'quiet older', on: { click: () => this.loadOlder() } });
    this.olderNote = h('p', { class: 'older-note hint' });
    this.empty = h('p', { class: 'timeline-empty hint' });
    // New messages are announced politely. Each message's body and controls sit in
    // aria-live="off" parts, so a stamp or an edit updates them without re-reading anything.
    this.list = h('ol', { class: 'timeline' });
    this.log = h('div', { class: 'timeline-log', id: ids.log, role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions' }, this.list);
    this.pendingList = h('ol', { class: 'timeline pending-list' });
    // Focusable so that the history can be scrolled with the keyboard.
    this.scroller = h('div', { class: 'timeline-scroll', tabindex: '0', role: 'region' },
      this.olderButton, this.olderNote, this.log, this.pendingList, this.empty);

    this.textarea = h('textarea', {
      id: ids.composer,
      rows: 2,
      on: {
        input: () => this.updateCounter(),
        keydown: (e) => {
          // Enter sends; Shift+Enter is a new line; Enter while an IME is composing
          // (Japanese input) only confirms the conversion.
          if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
            e.preventDefault();
            this.submit();
          }
        },
      },
    });
    this.label = h('label', { for: ids.composer, class: 'visually-hidden' });
    this.counter = h('span', { class: 'counter', id: `${ids.composer}-count` });
    this.status = h('p', { class: 'composer-status', role: 'status', id: `${ids.composer}-status` });
    this.note = h('p', { class: 'composer-note', id: `${ids.composer}-note` });
    this.sendButton = h('button', { type: 'submit', class: 'primary' });
    this.textarea.setAttribute('aria-describedby', `${this.note.id} ${this.counter.id} ${this.status.id}`);
    this.form = h('form', { class: 'composer', on: { submit: (e) => { e.preventDefault(); this.submit(); } } },
      this.label, this.textarea,
      h('div', { class: 'composer-row' }, this.counter, this.status, this.sendButton),
      this.note);

    this.el = h('div', { class: 'chat' }, this.scroller, this.form);
    this.scroller.addEventListener('scroll', () => {
      if (!this.autoScrolling) this.pinned = this.nearBottom();
    });
    this.scroller.addEventListener('scrollend', () => {
      this.autoScrolling = false;
      this.pinned = this.nearBottom();
    });

    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadOlder();
    }, { root: this.scroller, rootMargin: '120px 0px 0px 0px' });
    this.observer.observe(this.olderButton);
    this.relabel();
  }

  destroy() {
    this.observer.disconnect();
    clearTimeout(this.statusTimer);
    clearTimeout(this.autoScrollTimer);
  }

  /** Texts that depend on the language or on the room's state. */
  relabel() {
    this.scroller.setAttribute('aria-label', t('room.chatLabel', { room: this.room.displayName() }));
    this.label.textContent = t('composer.label');
    this.textarea.placeholder = t('composer.placeholder');
    this.sendButton.textContent = t('composer.send');
    this.refreshComposer();
    this.refreshOlder();
    this.updateCounter();
  }

  /** After a language change: every message is rebuilt, silently (nothing new happened). */
  rerender() {
    this.relabel();
    this.log.setAttribute('aria-busy', 'true');
    for (const id of this.order) {
      const msg = this.messages.get(id);
      const old = this.list.querySelector(`[data-message="${id}"]`);
      if (!msg || !old) continue;
      const li = this.renderMessage(msg);
      this.fillFoot(li, msg);
      replacePreservingFocus(old, li);
    }
    this.log.removeAttribute('aria-busy');
    for (const p of this.pending.values()) this.renderPending(p);
  }

  // ---- model ----------------------------------------------------------------------------

  oldestSeq() {
    return this.order.length ? this.messages.get(this.order[0]).seq : null;
  }

  /** Replaces everything with a page of messages (first join, or a resume reset). */
  reset(messages, hasOlder) {
    this.messages.clear();
    this.order = [];
    // A whole page at once is not news: keep screen readers from reading it all out.
    this.log.setAttribute('aria-busy', 'true');
    this.list.replaceChildren();
    for (const m of messages) this.insert(m, false);
    this.log.removeAttribute('aria-busy');
    this.hasOlder = hasOlder;
    this.reachedStart = false;
    for (const p of [...this.pending.values()]) {
      if (p.messageId && this.messages.has(p.messageId)) this.removePending(p);
    }
    this.refreshOlder();
    this.scrollToBottom(false);
  }

  insert(message, live) {
    if (this.messages.has(message.id)) return;
    const msg = { ...message, reactions: (message.reactions || []).map((r) => ({ stamp: r.stamp, by: [...r.by] })) };
    this.messages.set(msg.id, msg);
    let index = this.order.length;
    while (index > 0 && this.messages.get(this.order[index - 1]).seq > msg.seq) index -= 1;
    this.order.splice(index, 0, msg.id);
    const el = this.renderMessage(msg);
    const next = this.order[index + 1];
    const nextEl = next ? this.list.querySelector(`[data-message="${next}"]`) : null;
    const stick = this.pinned || this.nearBottom();
    this.list.insertBefore(el, nextEl);
    // The controls arrive a moment later, inside their silent part, so that the
    // announcement of a new message is its author and text, not eight stamp names.
    if (live) setTimeout(() => { if (el.isConnected) this.fillFoot(el, this.messages.get(msg.id)); }, 0);
    else this.fillFoot(el, msg);
    for (const p of [...this.pending.values()]) if (p.messageId === msg.id) this.removePending(p);
    this.refreshOlder();
    if (live && (stick || msg.author.id === this.me.id)) this.scrollToBottom(true);
  }

  /** Applies a timeline event (already de-duplicated by sequence number). */
  apply(event) {
    switch (event.kind) {
      case 'posted':
        this.insert(event.message, true);
        return event.message.author.id !== this.me.id;
      case 'edited': {
        const m = this.messages.get(event.message_id);
        if (m) {
          m.body = event.body;
          m.edited_at = event.edited_at;
          this.updateMessage(m.id);
        }
        return false;
      }
      case 'deleted': {
        const m = this.messages.get(event.message_id);
        if (m) {
          m.deleted = true;
          m.deleted_by_staff = event.by_staff;
          m.body = '';
          m.reactions = [];
          if (this.editing?.id === m.id) this.editing = null;
          this.updateMessage(m.id);
        }
        return false;
      }
      case 'reacted': {
        const m = this.messages.get(event.message_id);
        if (m) {
          let r = m.reactions.find((x) => x.stamp === event.stamp);
          if (!r) {
            r = { stamp: event.stamp, by: [] };
            m.reactions.push(r);
          }
          const has = r.by.includes(event.account);
          if (event.on && !has) r.by.push(event.account);
          if (!event.on && has) r.by = r.by.filter((a) => a !== event.account);
          this.updateMessage(m.id);
        }
        return false;
      }
      default:
        return false;
    }
  }

  async loadOlder() {
    if (this.loadingOlder || !this.hasOlder || !this.app.conn.isOpen) return;
    const before = this.oldestSeq();
    if (before === null) return;
    this.loadingOlder = true;
    this.refreshOlder();
    try {
      const reply = await this.app.conn.request({ type: 'history', room: this.room.id, before_seq: before, limit: this.app.limits.history_page });
      const heightBefore = this.scroller.scrollHeight;
      const topBefore = this.scroller.scrollTop;
      // Screen readers should not read a page of old messages out as if they were new.
      this.log.setAttribute('aria-busy', 'true');
      for (const m of reply.messages) this.insert(m, false);
      this.log.removeAttribute('aria-busy');
      this.hasOlder = reply.has_older;
      this.reachedStart = !reply.has_older;
      this.scroller.scrollTo({ top: topBefore + (this.scroller.scrollHeight - heightBefore), behavior: 'instant' });
    } catch (err) {
      this.flash(errorText(err));
    } finally {
      this.loadingOlder = false;
      this.refreshOlder();
    }
  }

  refreshOlder() {
    this.olderButton.hidden = !this.hasOlder;
    this.olderButton.disabled = this.loadingOlder;
    this.olderButton.textContent = this.loadingOlder ? t('timeline.loadingOlder') : t('timeline.loadOlder');
    this.olderNote.hidden = this.hasOlder || !this.reachedStart;
    this.olderNote.textContent = t('timeline.noOlder');
    this.empty.hidden = this.order.length > 0 || this.pending.size > 0;
    this.empty.textContent = t('timeline.empty');
  }

  // ---- scrolling ------------------------------------------------------------------------

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom(smooth) {
    const behavior = smooth && !prefersReducedMotion() ? 'smooth' : 'instant';
    this.pinned = true;
    if (this.scroller.scrollHeight - this.scroller.clientHeight - this.scroller.scrollTop < 1) return;
    this.autoScrolling = behavior === 'smooth';
    this.scroller.scrollTo({ top: this.scroller.scrollHeight, behavior });
    if (this.autoScrolling) {
      // Not every browser fires `scrollend`; never stay deaf to the person's own scrolling.
      clearTimeout(this.autoScrollTimer);
      this.autoScrollTimer = setTimeout(() => { this.autoScrolling = false; }, 1000);
    }
  }

  /** When the room is shown again: follow on at the bottom if that is where the person was. */
  shown() {
    if (this.pinned) this.scrollToBottom(false);
  }

  // ---- rendering ------------------------------------------------------------------------

  /** Updates a message in place (see `build`: only its silent parts change). */
  updateMessage(id) {
    const msg = this.messages.get(id);
    const li = this.list.querySelector(`[data-message="${id}"]`);
    if (!msg || !li) return;
    li.classList.toggle('deleted', Boolean(msg.deleted));
    const head = li.querySelector('.msg-head');
    const edited = head.querySelector('.edited');
    if (msg.edited_at && !msg.deleted && !edited) head.append(this.editedMark());
    if (msg.deleted && edited) edited.remove();
    this.fillBody(li, msg);
    this.fillFoot(li, msg);
  }

  editedMark() {
    return h('span', { class: 'edited', text: t('timeline.edited') });
  }

  renderMessage(msg) {
    const own = msg.author.id === this.me.id;
    const headId = uniqueId('msg-head');
    const time = h('time', { datetime: new Date(msg.created_at).toISOString(), title: formatDateTime(msg.created_at), text: formatTime(msg.created_at) });
    const head = h('div', { class: 'msg-head', id: headId },
      avatarMark(msg.author.avatar, { size: 22 }),
      // An empty handle is an account that was deleted; its words stay.
      h('span', { class: 'msg-author', text: msg.author.handle || t('people.deletedMember') }),
      isStaffRole(msg.author.role) ? h('span', { class: 'badge', text: t('people.staff') }) : null,
      this.room.isConsult && msg.author.role === 'counsellor' ? h('span', { class: 'badge', text: t('role.counsellor') }) : null,
      time,
      msg.edited_at && !msg.deleted ? this.editedMark() : null,
    );
    const li = h('li', { class: ['msg', own && 'own', msg.deleted && 'deleted'], dataset: { message: msg.id, seq: String(msg.seq) } },
      head,
      h('div', { class: 'msg-main', 'aria-live': 'off' }),
      h('div', { class: 'msg-foot', 'aria-live': 'off' }));
    this.fillBody(li, msg);
    return li;
  }

  fillBody(li, msg) {
    const main = li.querySelector('.msg-main');
    let content;
    if (msg.deleted) {
      content = h('p', { class: 'msg-body deleted-note', text: msg.deleted_by_staff ? t('timeline.deletedByStaff') : t('timeline.deleted') });
    } else if (this.editing?.id === msg.id) {
      content = this.renderEditor(msg);
    } else {
      content = h('p', { class: 'msg-body', text: msg.body });
    }
    const old = main.firstElementChild;
    if (!old) main.append(content);
    else if (!(old.tagName === 'P' && content.tagName === 'P' && old.className === content.className && old.textContent === content.textContent)) {
      replacePreservingFocus(old, content);
    }
  }

  fillFoot(li, msg) {
    const foot = li.querySelector('.msg-foot');
    const headId = li.querySelector('.msg-head').id;
    const content = msg && !msg.deleted
      ? h('div', { class: 'msg-controls' }, this.renderStamps(msg, headId), this.renderActions(msg, msg.author.id === this.me.id, headId))
      : null;
    const old = foot.firstElementChild;
    if (old && content) replacePreservingFocus(old, content);
    else if (old) old.remove();
    else if (content) foot.append(content);
  }

  renderStamps(msg, headId) {
    const bar = h('div', { class: 'stamps', role: 'toolbar', 'aria-label': t('timeline.stamps'), 'aria-describedby': headId });
    const canReact = this.canReact;
    for (const stamp of this.app.stamps) {
      const r = msg.reactions.find((x) => x.stamp === stamp);
      const count = r ? r.by.length : 0;
      const mine = Boolean(r && r.by.includes(this.me.id));
      const label = t(`stamp.${stamp}`);
      bar.append(h('button', {
        type: 'button',
        class: ['stamp', count > 0 && 'has-count'],
        'aria-pressed': mine ? 'true' : 'false',
        'aria-label': t('timeline.stampCount', { label, count }),
        title: label,
        disabled: !canReact,
        dataset: { fkey: `stamp-${stamp}` },
        on: { click: () => this.react(msg, stamp, !mine) },
      },
      h('span', { class: 'stamp-emoji', 'aria-hidden': 'true', text: STAMP_EMOJI[stamp] || stamp }),
      count > 0 ? h('span', { class: 'stamp-count', 'aria-hidden': 'true', text: String(count) }) : null));
    }
    rovingToolbar(bar);
    resetRoving(bar);
    return bar;
  }

  renderActions(msg, own, headId) {
    const actions = h('div', { class: 'msg-actions' });
    const button = (text, fkey, onClick, cls = 'quiet small') => h('button', {
      type: 'button', class: cls, text, 'aria-describedby': headId, dataset: { fkey }, on: { click: onClick },
    });
    if (own) {
      if (this.canWrite && this.editing?.id !== msg.id) actions.append(button(t('timeline.edit'), 'edit', () => this.startEdit(msg)));
      // A room that holds writing (a consult that ended) keeps what was said as it was.
      if (!this.heldNote()) actions.append(button(t('timeline.delete'), 'delete', () => this.deleteOwn(msg)));
    } else if (this.room.isConsult) {
      // A consult is between the two people in it: nobody moderates there.
    } else if (this.app.isStaff) {
      actions.append(button(t('timeline.staffDelete'), 'staff-delete', () => staffDeleteDialog(this.room, msg)));
      if (!isStaffRole(msg.author.role) && !hostsRoom(this.room.info, msg.author)) {
        actions.append(button(t('people.moderateShort'), 'moderate', () => moderateDialog(this.room, msg.author)));
      }
    } else if (this.room.isProgramme && this.room.mayHost() && !isStaffRole(msg.author.role) && !hostsRoom(this.room.info, msg.author)) {
      // A host of this programme: mute or remove, as staff do (deleting stays with staff).
      actions.append(button(t('people.moderateShort'), 'moderate', () => moderateDialog(this.room, msg.author)));
    }
    return actions;
  }

  renderEditor(msg) {
    const id = uniqueId('edit');
    const area = h('textarea', { id, rows: 3, value: this.editing.draft, dataset: { fkey: 'editor' } });
    const error = h('p', { class: 'form-error', role: 'alert', hidden: !this.editing.error, text: this.editing.error || '' });
    const save = async () => {
      const body = area.value;
      if (!body.trim()) return;
      if (body === msg.body) return this.stopEdit(msg.id);
      try {
        await this.app.conn.request({ type: 'edit', room: this.room.id, message_id: msg.id, body });
        this.stopEdit(msg.id);
      } catch (err) {
        this.editing.error = errorText(err);
        this.updateMessage(msg.id);
      }
    };
    area.addEventListener('input', () => { this.editing.draft = area.value; });
    area.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        save();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        this.stopEdit(msg.id);
      }
    });
    return h('form', { class: 'msg-editor', on: { submit: (e) => { e.preventDefault(); save(); } } },
      h('label', { for: id, class: 'visually-hidden', text: t('timeline.editLabel') }),
      area,
      error,
      h('div', { class: 'editor-buttons' },
        h('button', { type: 'button', class: 'quiet small', text: t('timeline.cancel'), on: { click: () => this.stopEdit(msg.id) } }),
        h('button', { type: 'submit', class: 'primary small', text: t('timeline.save') })));
  }

  startEdit(msg) {
    this.editing = { id: msg.id, draft: msg.body, error: null };
    this.updateMessage(msg.id);
    const area = this.list.querySelector(`[data-message="${msg.id}"] textarea`);
    area?.focus();
    area?.setSelectionRange(area.value.length, area.value.length);
  }

  stopEdit(id) {
    this.editing = null;
    this.updateMessage(id);
    this.list.querySelector(`[data-message="${id}"] [data-fkey="edit"]`)?.focus();
  }

  async deleteOwn(msg) {
    const ok = await confirmDialog({
      title: t('timeline.deleteTitle'),
      message: t('timeline.deleteMessage'),
      confirmLabel: t('timeline.deleteConfirm'),
      cancelLabel: t('timeline.cancel'),
      danger: true,
    });
    if (!ok) return;
    try {
      await this.app.conn.request({ type: 'delete', room: this.room.id, message_id: msg.id });
    } catch (err) {
      this.flash(errorText(err));
    }
  }

  async react(msg, stamp, on) {
    try {
      await this.app.conn.request({ type: 'react', room: this.room.id, message_id: msg.id, stamp, on });
    } catch (err) {
      this.flash(errorText(err));
    }
  }

  // ---- composer and pending posts -------------------------------------------------------

  refreshComposer() {
    const held = this.heldNote();
    const watching = this.room.mode === 'view_only';
    const muted = this.room.isMuted();
    const stage = !watching && !muted && this.room.stageHolds();
    const off = Boolean(held) || watching || muted || stage;
    this.textarea.disabled = off;
    this.sendButton.disabled = off;
    this.form.classList.toggle('is-disabled', off);
    if (held) this.note.textContent = held;
    else if (watching) this.note.textContent = t('composer.viewOnly');
    else if (muted) this.note.textContent = t('composer.muted', { time: formatTime(this.room.mutedUntil) });
    else if (stage) this.note.textContent = t('composer.stage');
    else this.note.textContent = '';
    this.note.hidden = !this.note.textContent;
  }

  /** Called when mode or mute changes: composer, stamps and edit buttons follow. */
  refreshPermissions() {
    this.refreshComposer();
    for (const id of this.order) this.updateMessage(id);
  }

  updateCounter() {
    const max = this.app.limits.max_message_chars;
    const count = charCount(this.textarea.value);
    this.counter.textContent = t('composer.count', { count, max });
    this.counter.classList.toggle('over', count > max);
  }

  flash(text) {
    clearTimeout(this.statusTimer);
    this.status.textContent = text;
    this.statusTimer = setTimeout(() => { this.status.textContent = ''; }, 10_000);
  }

  submit() {
    if (!this.canWrite) return;
    const body = this.textarea.value;
    if (!body.trim()) return;
    const max = this.app.limits.max_message_chars;
    if (charCount(body) > max) {
      this.flash(t('composer.tooLong', { max }));
      return;
    }
    this.textarea.value = '';
    this.updateCounter();
    this.status.textContent = '';
    const p = { cid: newUuid(), body, status: 'sending', error: null, messageId: null, el: null, inFlight: false };
    this.pending.set(p.cid, p);
    this.renderPending(p);
    this.refreshOlder();
    this.scrollToBottom(true);
    this.sendPending(p);
  }

  async sendPending(p) {
    if (p.inFlight || p.messageId || !this.pending.has(p.cid)) return;
    if (!this.app.conn.isOpen || !this.room.joined) return;
    p.status = 'sending';
    p.inFlight = true;
    this.renderPending(p);
    try {
      const ack = await this.app.conn.request({ type: 'post', room: this.room.id, body: p.body, client_msg_id: p.cid });
      p.messageId = ack.message_id;
      if (this.messages.has(p.messageId)) this.removePending(p);
    } catch (err) {
      if (err.code === 'disconnected') return; // re-sent with the same client_msg_id on resume
      if (err.code === 'rate_limited') {
        this.flash(t('error.rate_limited.retrying'));
        setTimeout(() => this.sendPending(p), Math.max(200, err.frame?.retry_after_ms || 1000));
        return;
      }
      p.status = 'failed';
      p.error = err;
      this.renderPending(p);
    } finally {
      p.inFlight = false;
    }
  }

  /** After a reconnect and re-join: posts that never got their ack go out again. */
  resendPending() {
    for (const p of this.pending.values()) if (p.status === 'sending' && !p.messageId) this.sendPending(p);
  }

  removePending(p) {
    this.pending.delete(p.cid);
    p.el?.remove();
    this.refreshOlder();
  }

  renderPending(p) {
    const failed = p.status === 'failed';
    const li = h('li', { class: ['msg', 'own', 'pending', failed && 'failed'], dataset: { pending: p.cid } },
      h('div', { class: 'msg-head' },
        avatarMark(this.me.avatar, { size: 22 }),
        h('span', { class: 'msg-author', text: this.me.handle }),
        h('span', { class: 'pending-status', text: failed ? t('timeline.failed', { error: errorText(p.error) }) : t('timeline.sending') })),
      h('p', { class: 'msg-body', text: p.body }),
      failed ? h('div', { class: 'msg-actions' },
        h('button', { type: 'button', class: 'quiet small', text: t('timeline.retry'), dataset: { fkey: 'retry' }, on: { click: () => { p.status = 'sending'; this.sendPending(p); } } }),
        h('button', { type: 'button', class: 'quiet small', text: t('timeline.discard'), dataset: { fkey: 'discard' }, on: { click: () => this.discard(p) } })) : null);
    if (p.el && p.el.isConnected) replacePreservingFocus(p.el, li);
    else this.pendingList.append(li);
    p.el = li;
  }

  discard(p) {
    this.removePending(p);
    // The words are not lost: they go back into the composer if it is empty.
    if (!this.textarea.value) {
      this.textarea.value = p.body;
      this.updateCounter();
    }
    this.textarea.focus();
  }
}

export function isStaffRole(role) {
  return role === 'staff' || role === 'admin';
}
