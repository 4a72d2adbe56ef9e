// "Talk to someone": a participant's or family member's private consult with a counsellor.
// One page, four screens that follow the consult's state (consult.js): the short form (what
// about, for whom, whom they would like, a first message if they want), the waiting room
// (where they stand, an estimate when there is one, withdrawing, leaving a message for the
// next opening), the conversation (who the counsellor is, an interruption, a supervisor who
// observes, ending it), and a calm word at the end. The crisis contacts are on every screen,
// first when something said suggests it. A new screen is announced by its heading taking
// focus; changes within a screen are said politely, once each.

import { charCount, h, replaceChildren } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { FormState, radioField, submitButton, textField } from '../forms.js';
import { errorText, formatBooking, formatPeriod, t } from '../i18n.js';
import { openingAt } from '../opening.js';
import { FOR_WHOM, PREFERENCES, TOPICS } from '../consult.js';
import { crisisSection, minutesText, personLine } from '../consult-views.js';
import { linkButton, pageTitle, requestErrorText } from './common.js';

// How long a polite announcement waits, so that a region just emptied is read out again.
const ANNOUNCE_DELAY_MS = 60;

export class ConsultPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.app = ctx.app;
    this.consult = ctx.app.consult;
    this.el = h('div', { class: 'page consult-page' });
    // Changes within a screen are said here, politely.
    this.live = h('p', { class: 'visually-hidden', role: 'status' });
    this.body = h('div', { class: 'consult-body' });
    this.form = new FormState('consult', {
      topic: '',
      for_whom: this.app.me.role === 'family' ? 'family_member' : 'self',
      profession: 'any',
      first_message: '',
    });
    this.leave = new FormState('consult-leave', { body: '' });
    this.leaveOpen = false;
    this.busy = false;
    this.shown = null;
    this.unsubscribe = this.consult.subscribe((e) => this.changed(e));
    this.detach = this.consult.attachView('ask');
    // The notice that may have led here has said its piece.
    this.app.dismissNotice('consult');
  }

  destroy() {
    this.unsubscribe();
    this.detach();
    clearTimeout(this.announceTimer);
  }

  /** 'loading', 'form', 'waiting', 'talking' or 'ended'. */
  screen() {
    const s = this.consult.status;
    if (!s && !this.consult.ready) return 'loading';
    if (!s) return 'form';
    if (s.phase === 'ended') return 'ended';
    if (s.phase === 'waiting') return 'waiting';
    return 'talking';
  }

  title() {
    const s = this.consult.status;
    switch (this.screen()) {
      case 'waiting':
        return t('consult.title.waiting');
      case 'talking':
        return t('consult.title.talking', { handle: s.counsellor?.handle || t('consult.counsellorUnknown') });
      case 'ended':
        return t(`consult.ended.${s.end || 'unknown'}.title`);
      default:
        return t('consult.title.form');
    }
  }

  announce(text) {
    clearTimeout(this.announceTimer);
    this.live.textContent = '';
    this.announceTimer = setTimeout(() => { this.live.textContent = text; }, ANNOUNCE_DELAY_MS);
  }

  /** Something changed in the consult: a new screen, or what changed said within this one. */
  changed(e) {
    if (e.kind === 'opening') {
      if (this.screen() === 'form') this.renderKeepingFocus();
      return;
    }
    if (e.kind === 'presence') {
      if (this.screen() !== 'talking' || e.consult !== this.consult.status?.consult) return;
      const before = this.counsellorHere;
      this.updateTalking();
      if (this.counsellorHere && !before) this.announce(t('appt.talk.counsellorHere'));
      return;
    }
    if (e.kind !== 'status' && e.kind !== 'observed' && e.kind !== 'ready') return;
    const screen = this.screen();
    if (screen !== this.shown) {
      this.leaveOpen = false;
      this.render();
      this.ctx.pageChanged(this);
      return;
    }
    const s = this.consult.status;
    if (!s) return;
    // The crisis contacts coming to the top are said once; what else changed, after.
    const crisisNow = e.kind === 'status' && e.before && !e.before.crisis && s.crisis;
    if (screen === 'waiting') {
      const before = e.before;
      this.updateWaiting();
      if (crisisNow) this.announce(t('consult.crisis.announce'));
      else if (e.kind === 'status' && before && before.position !== s.position) this.announce(this.positionText(s));
    } else if (screen === 'talking') {
      this.updateTalking();
      if (crisisNow) this.announce(t('consult.crisis.announce'));
      else if (e.kind === 'observed') this.announce(this.observedText());
      else if (e.kind === 'status' && e.before?.phase !== s.phase) {
        this.announce(s.phase === 'interrupted' ? t('consult.talk.interrupted') : t('consult.talk.back'));
      }
    }
  }

  render() {
    this.shown = this.screen();
    const content = {
      loading: () => h('div', { class: 'page-card narrow' }, pageTitle(t('consult.title.form')), h('p', { class: 'hint', text: t('settings.loading') })),
      form: () => this.formScreen(),
      waiting: () => this.waitingScreen(),
      talking: () => this.talkingScreen(),
      ended: () => this.endedScreen(),
    }[this.shown]();
    replaceChildren(this.body, content);
    replaceChildren(this.el, this.live, this.body);
    // A conversation moved into view follows on at the bottom, where the person was.
    this.consult.conversation?.timeline.shown();
  }

  /** Draws the screen again, keeping focus on the same control (a language change, the hours). */
  renderKeepingFocus() {
    const active = document.activeElement;
    const key = this.body.contains(active) ? (active.id || active.dataset?.fkey) : null;
    this.render();
    if (!key) return;
    const again = this.body.querySelector(`#${CSS.escape(key)}`) || this.body.querySelector(`[data-fkey="${CSS.escape(key)}"]`);
    again?.focus();
  }

  // ---- the form ------------------------------------------------------------------------------

  formScreen() {
    const f = this.form;
    const config = this.ctx.config;
    const at = openingAt(this.app.hours?.opening);
    const closed = at && !at.open;
    const max = this.app.limits?.max_message_chars ?? 2000;
    const lead = h('div', { class: 'consult-intro' },
      h('p', { class: 'lead-small', text: t('consult.form.lead') }),
      h('ul', { class: 'plain-list' },
        h('li', { text: t('consult.form.who') }),
        h('li', { text: t('consult.form.private') }),
        h('li', { text: t('consult.form.howto') })));
    const formEl = closed
      ? h('div', { class: 'page-notice consult-closed' },
        h('p', { text: t('consult.form.closed') }),
        h('p', { text: at.next ? t('consult.form.closedNext', { when: formatPeriod(at.next) }) : t('opening.nextUnknown') }))
      : h('form', { class: 'page-form consult-form', novalidate: true, on: { submit: (e) => this.submit(e) } },
        radioField(f, {
          name: 'topic',
          legend: t('consult.form.topic'),
          hint: t('consult.form.topicHint'),
          options: TOPICS.map((x) => ({ value: x, label: t(`consult.topic.${x}`) })),
        }),
        radioField(f, {
          name: 'for_whom',
          legend: t('consult.form.forWhom'),
          options: FOR_WHOM.map((x) => ({ value: x, label: t(`consult.forWhom.${x}`), description: t(`consult.forWhom.${x}.desc`) })),
        }),
        radioField(f, {
          name: 'profession',
          legend: t('consult.form.profession'),
          hint: t('consult.form.professionHint'),
          options: PREFERENCES.map((x) => ({ value: x, label: t(x === 'any' ? 'consult.preference.any' : `profession.${x}`), description: t(`consult.preference.${x}.desc`) })),
        }),
        textField(f, {
          name: 'first_message',
          label: t('consult.form.firstMessage'),
          hint: t('consult.form.firstMessageHint'),
          rows: 4,
          optional: true,
          max,
        }),
        f.formErrorNode(),
        h('div', { class: 'button-row' }, submitButton(f, t('consult.form.submit'), t('consult.form.submitting'), { big: true })));
    return [
      h('div', { class: 'page-card narrow' },
        pageTitle(t('consult.title.form')),
        lead,
        formEl),
      h('section', { class: 'page-card narrow appt-invite', 'aria-labelledby': 'appt-invite-title' },
        h('h2', { id: 'appt-invite-title', text: t('appt.invite.title') }),
        h('p', { text: t('appt.invite.text') }),
        linkButton('#/appointments', t('appt.invite.link'))),
      h('div', { class: 'page-card narrow crisis-card' }, crisisSection(config)),
    ];
  }

  async submit(e) {
    e.preventDefault();
    const f = this.form;
    if (f.busy) return;
    const v = f.values;
    const max = this.app.limits?.max_message_chars ?? 2000;
    f.clearErrors();
    if (!TOPICS.includes(v.topic)) f.setError('topic', () => t('consult.error.topic'));
    if (charCount(v.first_message) > max) f.setError('first_message', () => t('form.error.tooLong', { max }));
    if (f.hasErrors()) {
      this.render();
      f.focusFirstError(this.body);
      return;
    }
    f.busy = true;
    this.renderKeepingFocus();
    try {
      await this.consult.ask({ topic: v.topic, forWhom: v.for_whom, profession: v.profession, firstMessage: v.first_message });
      f.busy = false;
      f.values.first_message = '';
      f.values.topic = '';
    } catch (err) {
      f.busy = false;
      if (err.code === 'too_long' || (err.code === 'invalid_input' && v.first_message.trim())) {
        f.setError('first_message', () => (err.code === 'too_long' ? t('form.error.tooLong', { max }) : t('consult.error.firstMessage')));
      } else if (err.code === 'closed') {
        const ms = err.frame?.retry_after_ms;
        f.setFormError(() => (ms ? t('consult.error.closedUntil', { when: formatPeriod({ start: Date.now() + ms }) }) : t('consult.error.closed')));
      } else {
        f.setFormError(() => errorText(err));
      }
      if (this.screen() !== 'form') return;
      this.render();
      f.focusFirstError(this.body);
    }
  }

  // ---- waiting -------------------------------------------------------------------------------

  positionText(s) {
    if (!s.position) return t('consult.wait.positionUnknown');
    return s.position <= 1 ? t('consult.wait.next') : t('consult.wait.ahead', { count: s.position - 1 });
  }

  waitText(s) {
    if (typeof s.estimated_wait_ms !== 'number') return t('consult.wait.noEstimate');
    if (s.estimated_wait_ms < 60_000) return t('consult.wait.soon');
    return t('consult.wait.estimate', { minutes: minutesText(s.estimated_wait_ms) });
  }

  waitingScreen() {
    const s = this.consult.status;
    const conversation = this.consult.conversation;
    this.waitLines = h('div', { class: 'consult-wait' });
    this.crisisTop = h('div', { class: 'consult-crisis-top' });
    this.crisisBottom = h('div', { class: 'page-card narrow crisis-card' });
    const leaveId = 'consult-leave-part';
    const leaveToggle = h('button', {
      type: 'button',
      class: 'quiet',
      id: 'consult-leave-toggle',
      'aria-expanded': String(this.leaveOpen),
      'aria-controls': leaveId,
      text: t('consult.leave.toggle'),
      on: { click: () => this.toggleLeave() },
    });
    const card = h('div', { class: 'page-card narrow consult-waiting' },
      pageTitle(t('consult.title.waiting')),
      this.crisisTop,
      this.waitLines,
      h('p', { text: conversation ? t('consult.wait.again') : t('consult.wait.stay') }),
      h('p', { class: 'hint', text: t('consult.wait.elsewhere') }),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'quiet', dataset: { fkey: 'cancel' }, text: t('consult.wait.cancel'), on: { click: () => this.cancel() } })));
    const leavePart = this.leaveOpen ? this.leaveForm() : null;
    const leaveCard = h('section', { class: 'page-card narrow consult-leave', 'aria-labelledby': 'consult-leave-title' },
      h('h2', { id: 'consult-leave-title', text: t('consult.leave.title') }),
      h('p', { text: t('consult.leave.lead') }),
      leaveToggle,
      h('div', { id: leaveId, hidden: !this.leaveOpen }, leavePart));
    const transcript = conversation && conversation.hasMessages()
      ? h('section', { class: 'page-card narrow consult-transcript', 'aria-labelledby': 'consult-so-far' },
        h('h2', { id: 'consult-so-far', text: t('consult.wait.soFar') }),
        conversation.el)
      : null;
    this.updateWaiting();
    return [card, leaveCard, transcript, this.crisisBottom];
  }

  updateWaiting() {
    const s = this.consult.status;
    replaceChildren(this.waitLines,
      s.appointment ? h('p', { class: 'consult-notice', text: t('appt.talk.absentWaiting', { when: formatBooking(s.appointment) }) }) : null,
      h('p', { class: 'consult-position', text: this.positionText(s) }),
      h('p', { class: 'consult-estimate', text: this.waitText(s) }));
    this.placeCrisis(s.crisis);
  }

  /** The contacts first, calmly, when something said suggests it; at the end otherwise. */
  placeCrisis(prominent) {
    const config = this.ctx.config;
    if (prominent) {
      if (!this.crisisTop.firstChild) replaceChildren(this.crisisTop, crisisSection(config, { prominent: true, lead: t('consult.crisis.leadNow') }));
      this.crisisBottom.hidden = true;
    } else {
      this.crisisTop.replaceChildren();
      if (!this.crisisBottom.firstChild) replaceChildren(this.crisisBottom, crisisSection(config));
      this.crisisBottom.hidden = false;
    }
  }

  leaveForm() {
    const f = this.leave;
    const max = this.app.limits?.max_message_chars ?? 2000;
    return h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => this.submitLeave(e) } },
      textField(f, { name: 'body', label: t('consult.leave.label'), hint: t('consult.leave.hint'), rows: 4, max }),
      f.formErrorNode(),
      h('div', { class: 'button-row' }, submitButton(f, t('consult.leave.submit'), t('consult.leave.submitting'))));
  }

  toggleLeave() {
    this.leaveOpen = !this.leaveOpen;
    this.render();
    if (this.leaveOpen) this.body.querySelector('#consult-leave-body')?.focus();
    else this.body.querySelector('#consult-leave-toggle')?.focus();
  }

  async submitLeave(e) {
    e.preventDefault();
    const f = this.leave;
    if (f.busy) return;
    const body = f.values.body;
    const max = this.app.limits?.max_message_chars ?? 2000;
    f.clearErrors();
    if (!body.trim()) f.setError('body', () => t('consult.leave.empty'));
    else if (charCount(body) > max) f.setError('body', () => t('form.error.tooLong', { max }));
    if (f.hasErrors()) {
      this.render();
      f.focusFirstError(this.body);
      return;
    }
    f.busy = true;
    this.renderKeepingFocus();
    try {
      await this.consult.leaveMessage(body);
      f.busy = false;
      f.values.body = '';
    } catch (err) {
      f.busy = false;
      f.setFormError(() => (err.code === 'consult_state' ? t('consult.leave.tooLate') : errorText(err)));
      if (this.screen() !== 'waiting') return;
      this.render();
      f.focusFirstError(this.body);
    }
  }

  /** Asks with `dialog` first; then, if the screen is still `screen`, does `act`. */
  async confirmThen(dialog, screen, act) {
    const ok = await confirmDialog(dialog);
    if (!ok || this.screen() !== screen) return;
    try {
      await act();
    } catch (err) {
      this.announce(requestErrorText(err));
    }
  }

  cancel() {
    return this.confirmThen({
      title: t('consult.cancel.title'),
      message: t('consult.cancel.text'),
      confirmLabel: t('consult.cancel.confirm'),
      cancelLabel: t('consult.cancel.keep'),
    }, 'waiting', () => this.consult.cancel());
  }

  // ---- talking -------------------------------------------------------------------------------

  observedText() {
    const who = this.consult.observedBy?.handle;
    return who ? t('consult.talk.observedBy', { handle: who }) : t('consult.talk.observed');
  }

  talkingScreen() {
    const s = this.consult.status;
    const conversation = this.consult.conversation;
    this.talkNotices = h('div', { class: 'consult-notices' });
    this.crisisTop = h('div', { class: 'consult-crisis-top' });
    this.crisisBottom = h('div', { class: 'page-card crisis-card' });
    const card = h('div', { class: 'page-card consult-talking' },
      h('div', { class: 'consult-talk-head' },
        h('div', {},
          pageTitle(t('consult.title.talking', { handle: s.counsellor?.handle || t('consult.counsellorUnknown') })),
          s.counsellor ? h('p', { class: 'consult-with' }, t('consult.talk.counsellor'), ' ', personLine(s.counsellor)) : null,
          h('p', { class: 'hint', text: t('consult.talk.private') })),
        h('div', { class: 'button-row' },
          h('button', { type: 'button', class: 'quiet danger-text', dataset: { fkey: 'end' }, text: t('consult.talk.end'), on: { click: () => this.end() } }))),
      this.crisisTop,
      this.talkNotices,
      conversation ? conversation.el : h('p', { class: 'hint', text: t('consult.talk.joining') }));
    this.updateTalking();
    return [card, this.crisisBottom];
  }

  updateTalking() {
    const s = this.consult.status;
    const notes = [];
    this.counsellorHere = Boolean(this.consult.presence.get(s.consult)?.counsellor_here);
    if (s.appointment) {
      notes.push(h('p', { class: 'consult-notice appt-booked-time', text: t('appt.talk.booked', { when: formatBooking(s.appointment) }) }));
      notes.push(h('p', { class: ['consult-notice', 'appt-presence', this.counsellorHere ? 'is-here' : 'is-waiting'], text: t(this.counsellorHere ? 'appt.talk.counsellorHere' : 'appt.talk.waitingCounsellor') }));
    }
    if (s.phase === 'interrupted') notes.push(h('p', { class: 'consult-notice is-waiting', text: t('consult.talk.interrupted') }));
    if (s.observed) notes.push(h('p', { class: 'consult-notice', text: this.observedText() }));
    replaceChildren(this.talkNotices, notes);
    this.placeCrisis(s.crisis);
  }

  end() {
    return this.confirmThen({
      title: t('consult.endConfirm.title'),
      message: t('consult.endConfirm.text'),
      confirmLabel: t('consult.endConfirm.confirm'),
      cancelLabel: t('consult.endConfirm.keep'),
    }, 'talking', () => this.consult.endAsRequester());
  }

  // ---- the end -------------------------------------------------------------------------------

  endedScreen() {
    const s = this.consult.status;
    const end = s.end || 'unknown';
    const conversation = this.consult.conversation;
    const closed = end === 'closed';
    const next = closed ? openingAt(this.app.hours?.opening) : null;
    const prominent = closed || s.crisis;
    const card = h('div', { class: 'page-card narrow consult-ended' },
      pageTitle(t(`consult.ended.${end}.title`)),
      h('p', { class: 'lead-small', text: t(`consult.ended.${end}.text`) }),
      closed && next && !next.open && next.next ? h('p', { text: t('consult.ended.closed.next', { when: formatPeriod(next.next) }) }) : null,
      prominent ? crisisSection(this.ctx.config, { prominent: true, lead: t('consult.crisis.leadClosed') }) : null,
      h('p', { text: t('consult.ended.again') }),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'primary', dataset: { fkey: 'dismiss' }, text: t('consult.ended.dismiss'), on: { click: () => this.dismiss() } }),
        linkButton('#/', t('consult.ended.toSpace'))));
    const transcript = conversation && conversation.hasMessages()
      ? h('section', { class: 'page-card consult-transcript', 'aria-labelledby': 'consult-said' },
        h('h2', { id: 'consult-said', text: t('consult.ended.transcript') }),
        h('p', { class: 'hint', text: t('consult.ended.transcriptHint') }),
        conversation.el)
      : null;
    return [card, transcript, prominent ? null : h('div', { class: 'page-card narrow crisis-card' }, crisisSection(this.ctx.config))];
  }

  dismiss() {
    this.consult.dismissEnded();
  }
}
