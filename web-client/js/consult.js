// Private consultations (docs/protocol.md, "Private consultations"; docs/consult.md): what
// this page knows of them and the frames that change it. A participant or family member asks,
// waits and talks in a private room; a counsellor says whether they take consults, is offered
// requests, talks in each consult they accepted, writes private notes, hands a consult on or
// marks it urgent, and — as a supervisor — observes; staff see the queue. The pages
// (pages/consult.js, pages/console.js, pages/consults.js) show it and listen for changes.
//
// After every `welcome` the server sends the consult state again (a requester's status; a
// counsellor's own state, consults and offer; the queue) before it reads the next frame, so
// a `ping` sent right after `welcome` is answered only when all of that has arrived: what was
// not sent again has ended while this page was away.

import { h } from './dom.js';
import { errorText, formatBooking, t } from './i18n.js';
import { Timeline } from './timeline.js';

export const TOPICS = ['daily_life', 'health', 'family', 'work_or_school', 'relationships', 'other'];
export const FOR_WHOM = ['self', 'family_member'];
export const PROFESSIONS = ['clinical_psychologist', 'social_worker', 'other'];
/** What a requester may prefer: anyone, or one of the two professions people ask for. */
export const PREFERENCES = ['any', 'clinical_psychologist', 'social_worker'];
export const OUTCOMES = ['continue_next_time', 'referred_to_medical_care', 'referred_to_public_service', 'other'];
export const ENDS = ['completed', 'cancelled', 'left_message', 'closed', 'missed'];
export const AVAILABILITIES = ['available', 'away', 'offline'];
/** `consult.notes_max_chars` as shipped; the server checks the limit it was given. */
export const NOTES_MAX_CHARS = 10_000;

const CASES_KEY = 'ibasho.consult.cases';
const NOTICE_KEY = 'consult';

/** Whether `role` may ask for a consult. */
export function asksForConsults(role) {
  return role === 'participant' || role === 'family';
}

/** Whether `role` sees the queue (counsellors, staff, admins). */
export function seesConsultQueue(role) {
  return role === 'counsellor' || role === 'staff' || role === 'admin';
}

function readCases() {
  try {
    const list = JSON.parse(sessionStorage.getItem(CASES_KEY) || '[]');
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function writeCases(list) {
  try {
    if (list.length) sessionStorage.setItem(CASES_KEY, JSON.stringify(list));
    else sessionStorage.removeItem(CASES_KEY);
  } catch {
    // Drafts are a convenience; the saved notes are on the server.
  }
}

/**
 * A consult's private room: the conversation, with the ordinary timeline (durable posts,
 * stamps, resuming with `since`). It is never listed with the other rooms. Writing is held
 * while `held()` gives a reason (the consult ended, was handed on, or is waiting for the next
 * counsellor), and an observing supervisor only reads.
 */
export class ConsultConversation {
  /**
   * @param {object} app  what the modules share (main.js)
   * @param {{room: string, mode: string, name: () => string, held?: () => string|null,
   *   changed?: () => void}} options
   */
  constructor(app, { room, mode, name, held = null, changed = null }) {
    this.app = app;
    this.id = room;
    this.mode = mode;
    this.info = { id: room, kind: 'consult', name: '', topic: '' };
    this.isLobby = false;
    this.isProgramme = false;
    this.isConsult = true;
    this.nameFn = name;
    this.heldFn = held;
    this.changedFn = changed;
    this.lastSeq = 0;
    this.joined = false;
    this.joining = false;
    // The room was closed (the consult ended): what was said stays on screen, read only.
    this.closed = false;
    this.members = new Map();
    this.watchers = 0;
    this.unread = false;
    this.timeline = new Timeline(this);
    if (mode === 'view_only') this.timeline.form.hidden = true;
    this.el = h('div', { class: ['consult-chat', mode === 'view_only' && 'is-observing'] }, this.timeline.el);
  }

  displayName() {
    return this.nameFn();
  }

  isMuted() {
    return false;
  }

  stageHolds() {
    return false;
  }

  mayHost() {
    return false;
  }

  /** Why writing is held now, in words; null when one may write. */
  heldNote() {
    if (this.closed) return t('consult.chat.closed');
    return this.heldFn?.() || null;
  }

  /** Whether anything was said here (worth showing after the end). */
  hasMessages() {
    return this.timeline.order.length > 0;
  }

  /** Whether `account` is in the room now. */
  present(account) {
    return this.members.has(account);
  }

  /** Joins (or, with `since`, resumes) the room. */
  async join() {
    if (this.joining || this.closed || !this.app.conn?.isOpen) return;
    this.joining = true;
    const resume = this.lastSeq > 0;
    try {
      const frame = { type: 'join', room: this.id, mode: this.mode };
      if (resume) frame.since = this.lastSeq;
      const reply = await this.app.conn.request(frame);
      this.applyJoined(reply, resume);
      if (resume) this.timeline.resendPending();
    } catch (err) {
      if (err.code === 'unknown_room') {
        // It ended meanwhile; what was said stays readable here.
        this.close();
      } else if (err.code !== 'disconnected' && err.code !== 'timeout') {
        this.app.notify(t('consult.chat.joinFailed', { error: errorText(err) }), { sticky: true });
      }
    } finally {
      this.joining = false;
    }
  }

  applyJoined(frame, resume) {
    this.joined = true;
    this.members.clear();
    for (const m of frame.presence?.members || []) this.members.set(m.person.id, m);
    this.watchers = frame.presence?.watchers || 0;
    if (!resume || frame.reset) this.timeline.reset(frame.messages || [], Boolean(frame.has_older));
    else for (const e of frame.missed || []) this.applyEvent(e);
    this.lastSeq = Math.max(this.lastSeq, frame.room.last_seq);
    this.timeline.refreshPermissions();
    this.changedFn?.();
  }

  applyEvent({ seq, event }) {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    if (this.timeline.apply(event)) {
      // Something new from the other side (shown on a tab that is not open).
      this.unread = true;
      this.changedFn?.();
    }
  }

  /** Frames about this room. */
  onFrame(frame) {
    switch (frame.type) {
      case 'event':
        this.applyEvent(frame);
        break;
      case 'member_joined':
        this.members.set(frame.member.person.id, frame.member);
        this.changedFn?.();
        break;
      case 'member_left':
        this.members.delete(frame.account);
        this.changedFn?.();
        break;
      case 'watchers':
        this.watchers = frame.count;
        break;
      case 'room_closed':
      case 'removed':
        this.close();
        break;
      default:
        break;
    }
  }

  /** Writing ends here; the conversation stays readable. */
  close() {
    this.closed = true;
    this.joined = false;
    this.members.clear();
    // Nothing more can be written here: the composer goes, the words stay.
    this.timeline.form.hidden = true;
    this.refresh();
    this.changedFn?.();
  }

  /** Leaves the room (a supervisor who stops observing). */
  async leave() {
    if (!this.joined || !this.app.conn?.isOpen) return;
    try {
      await this.app.conn.request({ type: 'leave', room: this.id });
    } catch {
      // Not in it any more is as good as left.
    }
    this.joined = false;
  }

  /** The composer and stamps follow what may be done now. */
  refresh() {
    this.timeline.refreshPermissions();
  }

  rerender() {
    this.timeline.rerender();
  }

  destroy() {
    this.timeline.destroy();
    this.el.remove();
  }
}

/**
 * What this page knows of consults, for whoever is signed in: a requester's consult, a
 * counsellor's state, offer and consults, the queue. Pages subscribe to hear of changes.
 */
export class ConsultController {
  constructor(app) {
    this.app = app;
    this.listeners = new Set();
    // The pages showing consults now, by kind ('ask', 'console'): otherwise changes are noticed.
    this.views = new Set();

    // ---- a requester's side
    // The latest `consult_status` (an ended one stays until the person closes it).
    this.status = null;
    // The consult room's conversation, once a counsellor took the request.
    this.conversation = null;
    // The supervisor observing, when one is.
    this.observedBy = null;
    // Set by a `consult_status` after the latest `welcome`.
    this.statusSinceWelcome = false;
    // Whether the server has told its state since this page loaded (until then, the pages
    // say they are loading rather than show a form that may not be the right screen).
    this.ready = false;

    // ---- a counsellor's side
    // `{profile, availability}` from the `counsellor` frame.
    this.counsellor = null;
    // `{consult: summary, until}`.
    this.offer = null;
    this.offerSinceWelcome = false;
    // consult id → a case: `{consult, summary, room, observing, released, notes, outcome,
    // saved, observedBy, conversation}`.
    this.cases = new Map();
    // The last `consult_presence` of each consult: who has its room open.
    this.presence = new Map();
    this.casesSinceWelcome = new Set();
    // The tab shown on the console.
    this.activeCase = null;

    // ---- everyone who works here
    // The latest `consult_queue`, with `receivedAt` on the server's clock.
    this.queue = null;

    if (this.app.me?.role === 'counsellor') this.restoreCases();
  }

  get role() {
    return this.app.me?.role;
  }

  /** Forgets what this tab kept (signing out). */
  static forgetTab() {
    writeCases([]);
  }

  destroy() {
    this.conversation?.destroy();
    for (const c of this.cases.values()) c.conversation?.destroy();
    this.listeners.clear();
    this.views.clear();
  }

  subscribe(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A page shows consults now (`kind`: 'ask' or 'console'); returns the function that undoes it. */
  attachView(kind) {
    this.views.add(kind);
    return () => this.views.delete(kind);
  }

  changed(kind, detail = {}) {
    for (const fn of [...this.listeners]) fn({ kind, ...detail });
    this.app.navChanged?.();
    // The closed page says whether a consult goes on.
    if (kind === 'status' && this.app.hours?.keptOut) this.app.hours.render();
  }

  /** A calm notice with a way to the consult page, when that page is not shown. */
  noticeOutside(view, text, link) {
    if (this.views.has(view)) return;
    this.app.notify(text, { sticky: true, key: NOTICE_KEY, link });
  }

  // ---- the connection ------------------------------------------------------------------

  /** After every `welcome`: what was not sent again by the answer to a ping has ended. */
  welcome() {
    this.statusSinceWelcome = false;
    this.offerSinceWelcome = false;
    this.casesSinceWelcome = new Set();
    if (this.conversation) this.conversation.joined = false;
    for (const c of this.cases.values()) if (c.conversation) c.conversation.joined = false;
    this.app.conn.ping().then(() => this.afterWelcome(), () => {
      // The connection dropped again; the next welcome tries once more.
    });
  }

  afterWelcome() {
    if (!this.ready) {
      this.ready = true;
      this.changed('ready');
    }
    if (this.status && this.status.phase !== 'ended' && !this.statusSinceWelcome) {
      // It ended while this page was away; how, the server no longer says.
      this.applyStatus({ consult: this.status.consult, phase: 'ended', urgent: false, observed: false, crisis: false });
    }
    if (this.offer && !this.offerSinceWelcome) {
      this.offer = null;
      this.changed('offer');
    }
    for (const c of this.cases.values()) {
      if (!c.released && !this.casesSinceWelcome.has(c.consult)) this.release(c.consult, 'away');
    }
  }

  disconnected() {
    if (this.conversation) this.conversation.joined = false;
    for (const c of this.cases.values()) if (c.conversation) c.conversation.joined = false;
  }

  /** The space opened or closed (the requester's form says whether one may ask now). */
  openingChanged() {
    this.changed('opening');
  }

  /** Consult frames, and frames about a consult room; returns whether `frame` was one. */
  onFrame(frame) {
    switch (frame.type) {
      case 'consult_status':
        this.applyStatus(frame);
        return true;
      case 'consult_observed':
        this.applyObserved(frame);
        return true;
      case 'counsellor':
        this.applyCounsellor(frame);
        return true;
      case 'consult_offer':
        this.applyOffer(frame);
        return true;
      case 'consult_withdrawn':
        if (this.offer?.consult.consult === frame.consult) {
          this.offer = null;
          this.changed('offer', { withdrawn: true });
        }
        return true;
      case 'consult_assigned':
        this.applyAssigned(frame);
        return true;
      case 'consult_released':
        this.release(frame.consult, frame.why);
        return true;
      case 'consult_queue':
        this.applyQueue(frame);
        return true;
      case 'consult_presence':
        this.presence.set(frame.consult, frame);
        this.changed('presence', { consult: frame.consult });
        return true;
      case 'appointment':
        this.applyAppointment(frame);
        return true;
      default: {
        const conversation = this.conversationFor(frame.room);
        if (!conversation) return false;
        conversation.onFrame(frame);
        return true;
      }
    }
  }

  /**
   * A booking changed, or a reminder of it. The person is told of reminders, of the room
   * opening, of a cancellation by the counsellor and of a counsellor who could not come; the
   * counsellor of bookings made, moved or cancelled by the person — each with a way to the page.
   */
  applyAppointment({ event, appointment: a, reminder }) {
    this.changed('appointment', { event, appointment: a });
    const mine = a.requester?.id === this.app.me?.id;
    const when = formatBooking(a);
    let text = null;
    let link = null;
    if (mine) {
      if (event === 'reminder') text = t(`appt.notice.${reminder === 'soon' ? 'soon' : 'dayBefore'}`, { when, handle: a.counsellor.handle });
      else if (event === 'opened') text = t('appt.notice.opened', { when });
      else if (event === 'cancelled' && a.cancelled_by !== 'requester') text = t('appt.notice.cancelled', { when, message: a.message || '' });
      else if (event === 'counsellor_absent') text = t('appt.notice.absent');
      link = event === 'opened' || event === 'counsellor_absent' || reminder === 'soon'
        ? { href: '#/consult', text: t('appt.notice.toConsult') }
        : { href: '#/appointments', text: t('appt.notice.toBookings') };
    } else if (a.counsellor?.id === this.app.me?.id) {
      if (event === 'booked' || event === 'moved') text = t('appt.notice.newBooking', { when, handle: a.requester.handle });
      else if (event === 'cancelled' && a.cancelled_by === 'requester') text = t('appt.notice.cancelledByPerson', { when, handle: a.requester.handle });
      link = { href: '#/console', text: t('consult.notice.openConsole') };
    }
    if (text) this.app.notify(text, { sticky: true, key: `appointment-${a.id}`, link });
  }

  conversationFor(room) {
    if (!room) return null;
    if (this.conversation?.id === room) return this.conversation;
    for (const c of this.cases.values()) if (c.conversation?.id === room) return c.conversation;
    return null;
  }

  rerender() {
    this.conversation?.rerender();
    for (const c of this.cases.values()) c.conversation?.rerender();
  }

  // ---- asking --------------------------------------------------------------------------

  /** Whether a request is open (waiting, or a consult under way). */
  get open() {
    return Boolean(this.status && this.status.phase !== 'ended');
  }

  async ask({ topic, forWhom, profession, firstMessage }) {
    const frame = { type: 'consult_request', topic, for_whom: forWhom, channel: 'text' };
    if (profession && profession !== 'any') frame.profession = profession;
    if (firstMessage && firstMessage.trim()) frame.first_message = firstMessage;
    const reply = await this.app.conn.request(frame);
    this.applyStatus(reply);
  }

  applyStatus(s) {
    this.statusSinceWelcome = true;
    const before = this.status;
    if (before && before.phase === 'ended' && s.phase === 'ended' && before.consult === s.consult) return;
    // A status about another consult than the one shown (a new request from another tab).
    if (before && before.consult !== s.consult && this.conversation) {
      this.conversation.destroy();
      this.conversation = null;
      this.observedBy = null;
    }
    this.status = s;
    if (!s.observed) this.observedBy = null;
    if (s.phase === 'ended') {
      this.observedBy = null;
      this.conversation?.close();
    } else if (s.room && (s.phase === 'active' || s.phase === 'interrupted')) {
      if (this.conversation && this.conversation.id !== s.room) {
        this.conversation.destroy();
        this.conversation = null;
      }
      if (!this.conversation) {
        this.conversation = new ConsultConversation(this.app, {
          room: s.room,
          mode: 'chat_only',
          name: () => t('consult.chat.nameRequester', { handle: this.status?.counsellor?.handle || t('consult.counsellorUnknown') }),
          held: () => (this.status?.phase === 'waiting' ? t('consult.chat.heldWaiting') : null),
          changed: () => this.changed('conversation'),
        });
      }
      if (!this.conversation.joined) this.conversation.join();
    } else if (this.conversation && !this.conversation.joined && !this.conversation.closed) {
      // Waiting for the next counsellor: still a member, the conversation follows on.
      this.conversation.join();
    }
    this.conversation?.refresh();
    this.changed('status', { before });
    this.noticeStatus(before, s);
  }

  /** Outside the consult page, changes that matter are noticed calmly, with a way there. */
  noticeStatus(before, s) {
    const link = { href: '#/consult', text: t('consult.notice.open') };
    const was = before?.consult === s.consult ? before.phase : null;
    if (s.phase === was) return;
    if (s.phase === 'active' && !before) {
      this.noticeOutside('ask', t('consult.notice.ongoing', { handle: s.counsellor?.handle || t('consult.counsellorUnknown') }), link);
    } else if (s.phase === 'active' && was !== 'interrupted') {
      this.noticeOutside('ask', t('consult.notice.arrived', { handle: s.counsellor?.handle || t('consult.counsellorUnknown') }), link);
    } else if (s.phase === 'active') {
      this.noticeOutside('ask', t('consult.notice.back'), link);
    } else if (s.phase === 'interrupted') {
      this.noticeOutside('ask', t('consult.notice.interrupted'), link);
    } else if (s.phase === 'waiting' && was) {
      this.noticeOutside('ask', t('consult.notice.waitingAgain'), link);
    } else if (s.phase === 'ended' && was) {
      this.noticeOutside('ask', t('consult.notice.ended'), link);
    }
  }

  applyObserved({ consult, supervisor, on = true }) {
    if (this.status?.consult === consult) {
      this.observedBy = on ? supervisor : null;
      this.status = { ...this.status, observed: on };
      this.changed('observed');
      if (on) {
        this.noticeOutside('ask', t('consult.notice.observed', { handle: supervisor.handle }), { href: '#/consult', text: t('consult.notice.open') });
      }
    }
    const c = this.cases.get(consult);
    if (c && !c.observing) {
      c.observedBy = on ? supervisor : null;
      this.changed('cases', { consult });
    }
  }

  async cancel() {
    await this.app.conn.request({ type: 'consult_cancel', consult: this.status.consult });
  }

  async leaveMessage(body) {
    await this.app.conn.request({ type: 'consult_leave_message', consult: this.status.consult, body });
  }

  async endAsRequester() {
    await this.app.conn.request({ type: 'consult_end', consult: this.status.consult });
  }

  /** The ended screen was closed: back to the form. */
  dismissEnded() {
    if (this.open) return;
    this.status = null;
    this.observedBy = null;
    this.conversation?.destroy();
    this.conversation = null;
    this.changed('status', { before: null });
  }

  // ---- counselling ---------------------------------------------------------------------

  applyCounsellor(frame) {
    this.counsellor = { profile: frame.profile, availability: frame.availability };
    this.changed('counsellor');
  }

  async setAvailability(availability) {
    const reply = await this.app.conn.request({ type: 'counsellor_status', availability });
    this.applyCounsellor(reply);
  }

  applyOffer(frame) {
    this.offerSinceWelcome = true;
    const fresh = this.offer?.consult.consult !== frame.consult.consult;
    this.offer = { consult: frame.consult, until: frame.until };
    this.changed('offer', { fresh });
    if (fresh) this.noticeOutside('console', t('consult.notice.offer'), { href: '#/console', text: t('consult.notice.openConsole') });
  }

  async answerOffer(accept) {
    const consult = this.offer?.consult.consult;
    if (consult === undefined) return;
    try {
      await this.app.conn.request({ type: accept ? 'consult_accept' : 'consult_decline', consult });
    } finally {
      if (this.offer?.consult.consult === consult) {
        this.offer = null;
        this.changed('offer');
      }
    }
  }

  applyAssigned({ consult: summary, room, observing, resumed, notes = '', outcome = '' }) {
    const id = summary.consult;
    this.casesSinceWelcome.add(id);
    const existing = this.cases.get(id);
    if (this.offer?.consult.consult === id) {
      this.offer = null;
      this.changed('offer');
    }
    // The same consult again (a reconnect, a change of its summary): it goes on as it is. A
    // supervisor who observed it and now takes it over starts anew, as a member who writes.
    if (existing && !existing.released && existing.room === room && existing.conversation && existing.observing === observing) {
      existing.summary = summary;
      if (!existing.conversation.joined) existing.conversation.join();
      existing.conversation.refresh();
      this.storeCases();
      this.changed('cases', { consult: id });
      return;
    }
    if (existing) existing.conversation?.destroy();
    const c = {
      consult: id,
      summary,
      room,
      observing,
      released: null,
      // This tab's draft if it has one, else what the server kept.
      notes: existing?.notes || notes || '',
      outcome: existing?.outcome || outcome || '',
      saved: existing?.saved || (notes || outcome ? { at: null, notes, outcome } : null),
      observedBy: null,
      conversation: null,
    };
    c.conversation = new ConsultConversation(this.app, {
      room,
      mode: observing ? 'view_only' : 'chat_only',
      name: () => t(observing ? 'console.case.observingName' : 'console.case.name', { handle: c.summary.requester.handle || t('people.deletedMember') }),
      held: () => (observing ? t('console.case.observingHeld') : null),
      changed: () => this.changed('conversation', { consult: id }),
    });
    this.cases.set(id, c);
    if (this.activeCase === null || !this.cases.has(this.activeCase)) this.activeCase = id;
    c.conversation.join();
    this.storeCases();
    this.changed('cases', { consult: id, added: true, resumed, observing });
    if (!observing && !resumed) {
      this.noticeOutside('console', t('consult.notice.assigned', { handle: summary.requester.handle }), { href: '#/console', text: t('consult.notice.openConsole') });
    }
  }

  /** The counsellor no longer has the consult (`why`: ended, transferred, grace_over, away). */
  release(consult, why) {
    const c = this.cases.get(consult);
    if (!c) return;
    if (c.observing) {
      // Observing ends with the consult; a supervisor writes no notes.
      this.closeCase(consult, { leave: false });
      this.app.notify(t('console.case.observingEnded', { handle: c.summary.requester.handle }));
      return;
    }
    c.released = why;
    c.conversation?.close();
    this.storeCases();
    this.changed('cases', { consult, released: why });
    this.noticeOutside('console', t(`console.released.${why}`, { handle: c.summary.requester.handle }), { href: '#/console', text: t('consult.notice.openConsole') });
  }

  /** Takes a consult's tab away (a finished one, or stopping observing). */
  async closeCase(consult, { leave = true } = {}) {
    const c = this.cases.get(consult);
    if (!c) return;
    if (leave && c.observing) {
      // Tell the server, so that both sides stop seeing that someone observes.
      await this.app.conn.request({ type: 'consult_observe', consult, on: false }).catch(() => {});
      await c.conversation?.leave().catch?.(() => {});
    }
    c.conversation?.destroy();
    this.cases.delete(consult);
    if (this.activeCase === consult) this.activeCase = [...this.cases.keys()][0] ?? null;
    this.storeCases();
    this.changed('cases', { consult, closed: true });
  }

  showCase(consult) {
    if (!this.cases.has(consult)) return;
    this.activeCase = consult;
    this.changed('tab', { consult });
  }

  /** The notes being written, kept so that a reload of this tab does not lose them. */
  draft(consult, { notes, outcome }) {
    const c = this.cases.get(consult);
    if (!c) return;
    if (notes !== undefined) c.notes = notes;
    if (outcome !== undefined) c.outcome = outcome;
    this.storeCases();
  }

  async saveNotes(consult) {
    const c = this.cases.get(consult);
    if (!c) return;
    const frame = { type: 'consult_notes', consult, notes: c.notes };
    if (c.outcome) frame.outcome = c.outcome;
    await this.app.conn.request(frame);
    c.saved = { at: Date.now(), notes: c.notes, outcome: c.outcome };
    this.storeCases();
    this.changed('notes', { consult });
  }

  async transfer(consult, { to = null, profession = null, note }) {
    const frame = { type: 'consult_transfer', consult, note };
    if (to) frame.to = to;
    if (profession) frame.profession = profession;
    await this.app.conn.request(frame);
  }

  async flag(consult) {
    await this.app.conn.request({ type: 'consult_flag', consult });
  }

  async endCase(consult) {
    await this.app.conn.request({ type: 'consult_end', consult });
  }

  async observe(consult) {
    await this.app.conn.request({ type: 'consult_observe', consult });
  }

  /** Counsellors' cases that ended or were handed on, kept in this tab for their notes. */
  storeCases() {
    if (this.role !== 'counsellor') return;
    writeCases([...this.cases.values()].filter((c) => !c.observing).map((c) => ({
      consult: c.consult,
      summary: c.summary,
      room: c.room,
      released: c.released,
      notes: c.notes,
      outcome: c.outcome,
      saved: c.saved,
    })));
  }

  restoreCases() {
    for (const c of readCases()) {
      if (typeof c?.consult !== 'number' || !c.summary) continue;
      // Still open ones come back from the server (`consult_assigned`); until then they wait.
      this.cases.set(c.consult, {
        consult: c.consult,
        summary: c.summary,
        room: c.room,
        observing: false,
        released: c.released || null,
        notes: c.notes || '',
        outcome: c.outcome || '',
        saved: c.saved || null,
        observedBy: null,
        conversation: null,
      });
      this.activeCase ??= c.consult;
    }
  }

  // ---- the queue -----------------------------------------------------------------------

  applyQueue(frame) {
    this.queue = { ...frame, receivedAt: this.app.conn?.serverNow() ?? Date.now() };
    this.changed('queue');
  }

  async refreshQueue() {
    const reply = await this.app.conn.request({ type: 'consult_queue' });
    this.applyQueue(reply);
  }
}
