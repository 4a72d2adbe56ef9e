// "Book a time" (予約): for people who would rather plan than wait in the queue. Their
// bookings (upcoming ones can be cancelled or moved until the cut-off; past ones are named
// calmly — missing one is never held against anyone), and finding a free time: what about,
// for whom, whom they would like; the free times of the next weeks by day, always in the
// space's time zone with the date written out; choosing one shows what will be booked, with
// an optional first note and reminders by e-mail when mail is set up. When someone else was
// quicker, they are told kindly and the times are shown again.

import { bookAppointment, cancelAppointment, freeSlots, listAppointments, moveAppointment } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { confirmDialog } from '../dialogs.js';
import { FormState, checkboxField, radioField, selectField, submitButton, textField } from '../forms.js';
import { errorText, formatDay, formatTime, t } from '../i18n.js';
import { FOR_WHOM, PREFERENCES, TOPICS } from '../consult.js';
import { NOTE_MAX_CHARS, formatBooking, kindText } from '../appointments.js';
import { linkButton, pageTitle, requestErrorText } from './common.js';

const ANNOUNCE_DELAY_MS = 60;

export class AppointmentsPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.app = ctx.app;
    this.el = h('div', { class: 'page appointments-page' });
    this.live = h('p', { class: 'visually-hidden', role: 'status' });
    this.mineEl = h('section', { class: 'page-card narrow appt-mine', 'aria-labelledby': 'appt-mine-title' });
    this.findEl = h('section', { class: 'page-card narrow appt-find', 'aria-labelledby': 'appt-find-title' });
    this.mine = null;
    this.mineError = null;
    this.filters = new FormState('appt-filter', {
      topic: '',
      for_whom: this.app.me.role === 'family' ? 'family_member' : 'self',
      profession: 'any',
    });
    this.slots = null;
    this.slotsError = null;
    this.chosen = null;
    // The booking being moved, when moving.
    this.moving = null;
    this.confirm = new FormState('appt-confirm', { first_note: '', email_reminders: false, email: '' });
    this.unsubscribe = this.app.consult.subscribe((e) => {
      if (e.kind === 'appointment') this.loadMine();
    });
    this.loadMine();
  }

  destroy() {
    this.unsubscribe();
    clearTimeout(this.announceTimer);
  }

  title() {
    return t('appt.page.title');
  }

  announce(text) {
    clearTimeout(this.announceTimer);
    this.live.textContent = '';
    this.announceTimer = setTimeout(() => { this.live.textContent = text; }, ANNOUNCE_DELAY_MS);
  }

  render() {
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('appt.page.title')),
        h('p', { text: t('appt.page.lead') }),
        h('p', {}, linkButton('#/consult', t('appt.page.toDropIn')))),
      this.live,
      this.mineEl,
      this.findEl);
    this.renderMine();
    this.renderFind();
  }

  // ---- their bookings --------------------------------------------------------------------------

  async loadMine() {
    try {
      this.mine = await listAppointments();
      this.mineError = null;
    } catch (err) {
      this.mineError = err;
    }
    this.renderMine();
  }

  renderMine() {
    const focusedId = this.mineEl.contains(document.activeElement) ? document.activeElement.id : null;
    let content;
    if (this.mineError) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.mineError) });
    else if (!this.mine) content = h('p', { class: 'hint', text: t('settings.loading') });
    else {
      const upcoming = this.mine.filter((a) => a.state === 'booked' || a.state === 'open');
      const past = this.mine.filter((a) => a.state !== 'booked' && a.state !== 'open');
      content = [
        upcoming.length
          ? h('ul', { class: 'card-list' }, upcoming.map((a) => this.upcomingItem(a)))
          : h('p', { class: 'empty', text: t('appt.mine.none') }),
        past.length
          ? h('details', { class: 'appt-past' },
            h('summary', { text: t('appt.mine.past', { count: past.length }) }),
            h('ul', { class: 'plain-list' }, past.map((a) => h('li', {},
              formatBooking(a), ' — ', t(`appt.state.mine.${a.state}`),
              a.message ? h('span', { class: 'appt-message', text: ` ${t('appt.mine.message', { message: a.message })}` }) : null))))
          : null,
      ];
    }
    replaceChildren(this.mineEl,
      h('h2', { id: 'appt-mine-title', tabindex: '-1', text: t('appt.mine.title') }),
      content);
    if (focusedId) this.mineEl.querySelector(`#${CSS.escape(focusedId)}`)?.focus();
  }

  upcomingItem(a) {
    const buttons = [];
    if (a.state === 'open') {
      buttons.push(linkButton('#/consult', t('appt.mine.goIn'), { primary: true }));
    } else if (a.can_change) {
      buttons.push(
        h('button', { type: 'button', id: `appt-move-${a.id}`, text: t('appt.mine.move'), 'aria-label': t('appt.mine.moveLabel', { when: formatBooking(a) }), on: { click: () => this.startMove(a) } }),
        h('button', { type: 'button', class: 'quiet danger-text', id: `appt-cancel-${a.id}`, text: t('appt.mine.cancel'), 'aria-label': t('appt.mine.cancelLabel', { when: formatBooking(a) }), on: { click: () => this.cancel(a) } }));
    }
    return h('li', { class: 'app-card appt-booking', dataset: { appointment: String(a.id) } },
      h('p', { class: 'appt-when', text: formatBooking(a) }),
      h('p', { text: t('appt.mine.with', { handle: a.counsellor.handle || t('people.deletedMember'), kind: kindText(a) }) }),
      a.first_note ? h('p', { class: 'appt-note', text: t('appt.firstNote', { note: a.first_note }) }) : null,
      h('p', { class: 'hint', text: a.state === 'open' ? t('appt.mine.openNow') : (a.can_change ? t('appt.mine.canChange') : t('appt.mine.tooLateToChange')) }),
      buttons.length ? h('div', { class: 'button-row' }, buttons) : null);
  }

  async cancel(a) {
    const ok = await confirmDialog({
      title: t('appt.mine.cancelTitle'),
      message: t('appt.mine.cancelText', { when: formatBooking(a) }),
      confirmLabel: t('appt.mine.cancelConfirm'),
      cancelLabel: t('appt.mine.keep'),
    });
    if (!ok) return;
    try {
      await cancelAppointment(a.id);
      this.announce(t('appt.mine.cancelled'));
    } catch (err) {
      this.announce(err.code === 'too_late' ? t('appt.mine.tooLate') : requestErrorText(err));
    }
    await this.loadMine();
    this.mineEl.querySelector('#appt-mine-title')?.focus();
  }

  startMove(a) {
    this.moving = a;
    this.chosen = null;
    this.filters.values.topic = a.topic;
    this.filters.values.for_whom = a.for_whom;
    this.search();
  }

  // ---- finding a time ------------------------------------------------------------------------------

  async search(e) {
    e?.preventDefault();
    const f = this.filters;
    f.clearErrors();
    if (!TOPICS.includes(f.values.topic)) {
      f.setError('topic', () => t('consult.error.topic'));
      this.renderFind();
      f.focusFirstError(this.findEl);
      return;
    }
    this.chosen = null;
    this.slots = null;
    this.slotsError = null;
    this.renderFind();
    try {
      const v = f.values;
      this.slots = await freeSlots({
        for_whom: v.for_whom,
        topic: v.topic,
        profession: v.profession === 'any' ? '' : v.profession,
        counsellor: this.moving ? this.moving.counsellor.id : '',
      });
      this.announce(t('appt.find.found', { count: this.slots.slots.length }));
    } catch (err) {
      this.slotsError = err;
    }
    this.renderFind();
    this.findEl.querySelector('#appt-slots-title')?.focus();
  }

  choose(slot) {
    this.chosen = slot;
    this.confirm.clearErrors();
    this.renderFind();
    this.findEl.querySelector('#appt-confirm-title')?.focus();
  }

  async book(e) {
    e.preventDefault();
    const c = this.confirm;
    if (c.busy || !this.chosen) return;
    c.clearErrors();
    const note = c.values.first_note.trim();
    if (note.length > NOTE_MAX_CHARS) c.setError('first_note', () => t('form.error.tooLong', { max: NOTE_MAX_CHARS }));
    if (c.values.email_reminders && !/^[^\s@]+@[^\s@]+$/.test(c.values.email.trim())) c.setError('email', () => t('appt.confirm.emailError'));
    if (c.hasErrors()) {
      this.renderFind();
      c.focusFirstError(this.findEl);
      return;
    }
    c.busy = true;
    this.renderFind();
    const slot = this.chosen;
    const wasMoving = Boolean(this.moving);
    try {
      let done;
      if (this.moving) {
        done = await moveAppointment(this.moving.id, { starts_at: slot.starts_at, counsellor: slot.counsellor });
      } else {
        const body = {
          counsellor: slot.counsellor,
          starts_at: slot.starts_at,
          for_whom: this.filters.values.for_whom,
          topic: this.filters.values.topic,
        };
        if (note) body.first_note = note;
        if (c.values.email_reminders) {
          body.email_reminders = true;
          body.email = c.values.email.trim();
        }
        done = await bookAppointment(body);
      }
      c.busy = false;
      this.confirm = new FormState('appt-confirm', { first_note: '', email_reminders: false, email: '' });
      this.chosen = null;
      this.slots = null;
      this.moving = null;
      this.announce(t(wasMoving ? 'appt.confirm.moved' : 'appt.confirm.booked', { when: formatBooking(done) }));
      this.renderFind();
      await this.loadMine();
      this.mineEl.querySelector('#appt-mine-title')?.focus();
      return;
    } catch (err) {
      c.busy = false;
      if (err.code === 'slot_taken') {
        this.chosen = null;
        this.slotsError = null;
        try {
          const v = this.filters.values;
          this.slots = await freeSlots({ for_whom: v.for_whom, topic: v.topic, profession: v.profession === 'any' ? '' : v.profession, counsellor: this.moving ? this.moving.counsellor.id : '' });
        } catch (e2) {
          this.slotsError = e2;
        }
        this.takenNote = true;
        this.renderFind();
        this.findEl.querySelector('#appt-taken')?.focus();
        return;
      }
      if (err.field === 'email') c.setError('email', () => t('appt.confirm.emailError'));
      else if (err.field === 'first_note') c.setError('first_note', () => t('form.error.tooLong', { max: NOTE_MAX_CHARS }));
      else c.setFormError(() => (err.code === 'booking_limit' ? t('appt.confirm.limit') : err.code === 'too_late' ? t('appt.confirm.tooLate') : errorText(err)));
    }
    this.renderFind();
    c.focusFirstError(this.findEl);
  }

  renderFind() {
    const focusedId = this.findEl.contains(document.activeElement) ? document.activeElement.id : null;
    const f = this.filters;
    const counsellors = new Map((this.slots?.counsellors || []).map((c) => [c.counsellor.id, c]));
    const filterForm = this.moving
      ? h('div', { class: 'page-notice' },
        h('p', { text: t('appt.find.moving', { when: formatBooking(this.moving), handle: this.moving.counsellor.handle }) }),
        h('button', { type: 'button', class: 'quiet', id: 'appt-move-stop', text: t('appt.find.stopMoving'), on: { click: () => { this.moving = null; this.slots = null; this.chosen = null; this.renderFind(); this.findEl.querySelector('#appt-find-title')?.focus(); } } }))
      : h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => this.search(e) } },
        selectField(f, {
          name: 'topic',
          label: t('consult.form.topic'),
          options: [{ value: '', label: t('appt.find.chooseTopic') }, ...TOPICS.map((x) => ({ value: x, label: t(`consult.topic.${x}`) }))],
        }),
        radioField(f, { name: 'for_whom', legend: t('consult.form.forWhom'), options: FOR_WHOM.map((x) => ({ value: x, label: t(`consult.forWhom.${x}`) })) }),
        radioField(f, { name: 'profession', legend: t('consult.form.profession'), options: PREFERENCES.map((x) => ({ value: x, label: t(x === 'any' ? 'consult.preference.any' : `profession.${x}`) })) }),
        h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'primary', id: 'appt-search', text: t('appt.find.search') })));
    let results = null;
    if (this.slotsError) results = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.slotsError) });
    else if (this.slots) {
      const byDay = new Map();
      for (const s of this.slots.slots) {
        const day = formatDay(s.starts_at);
        if (!byDay.has(day)) byDay.set(day, []);
        byDay.get(day).push(s);
      }
      results = h('div', { class: 'appt-slots' },
        this.takenNote ? h('p', { class: 'page-notice', id: 'appt-taken', tabindex: '-1', text: t('appt.find.taken') }) : null,
        h('h3', { id: 'appt-slots-title', tabindex: '-1', text: t('appt.find.slotsTitle', { weeks: 4 }) }),
        byDay.size
          ? [...byDay].map(([day, list]) => h('div', { class: 'appt-day' },
            h('h4', { text: day }),
            h('ul', { class: 'plain-list appt-slot-list' }, list.map((s) => {
              const c = counsellors.get(s.counsellor);
              const who = c ? `${c.counsellor.handle}${c.professions.length ? `（${c.professions.map((p) => t(`profession.${p}`)).join('・')}）` : ''}` : '';
              return h('li', {}, h('button', {
                type: 'button',
                class: ['appt-slot', this.chosen === s && 'is-chosen'],
                id: `appt-slot-${s.counsellor}-${s.starts_at}`,
                'aria-pressed': String(this.chosen === s),
                text: t('appt.find.slot', { from: formatTime(s.starts_at), to: formatTime(s.ends_at), who }),
                on: { click: () => this.choose(s) },
              }));
            }))))
          : h('p', { class: 'empty', text: t('appt.find.none') }));
    }
    replaceChildren(this.findEl,
      h('h2', { id: 'appt-find-title', tabindex: '-1', text: this.moving ? t('appt.find.moveTitle') : t('appt.find.title') }),
      h('p', { class: 'hint', text: t('appt.find.lead') }),
      filterForm,
      results,
      this.chosen ? this.confirmPart(counsellors) : null);
    this.takenNote = false;
    if (focusedId) this.findEl.querySelector(`#${CSS.escape(focusedId)}`)?.focus();
  }

  confirmPart(counsellors) {
    const c = this.confirm;
    const s = this.chosen;
    const who = counsellors.get(s.counsellor)?.counsellor.handle || '';
    const mail = this.ctx.config?.mail;
    return h('form', { class: 'page-form appt-confirm', novalidate: true, 'aria-labelledby': 'appt-confirm-title', on: { submit: (e) => this.book(e) } },
      h('h3', { id: 'appt-confirm-title', tabindex: '-1', text: this.moving ? t('appt.confirm.moveTitle') : t('appt.confirm.title') }),
      h('dl', { class: 'consult-summary' },
        h('dt', { text: t('appt.confirm.when') }), h('dd', { text: formatBooking(s) }),
        h('dt', { text: t('appt.confirm.with') }), h('dd', { text: who }),
        h('dt', { text: t('appt.confirm.kind') }), h('dd', { text: kindText(this.moving || { topic: this.filters.values.topic, for_whom: this.filters.values.for_whom }) })),
      this.moving ? null : textField(c, { name: 'first_note', label: t('appt.confirm.note'), hint: t('appt.confirm.noteHint'), rows: 3, optional: true, max: NOTE_MAX_CHARS }),
      !this.moving && mail ? checkboxField(c, { name: 'email_reminders', label: t('appt.confirm.emailReminders'), hint: t('appt.confirm.emailRemindersHint'), onChange: () => { this.renderFind(); this.findEl.querySelector(`#${CSS.escape(c.id('email_reminders'))}`)?.focus(); } }) : null,
      !this.moving && mail && c.values.email_reminders ? textField(c, { name: 'email', type: 'email', autocomplete: 'email', label: t('appt.confirm.email'), hint: t('appt.confirm.emailHint') }) : null,
      h('p', { class: 'hint', text: t('appt.confirm.reminders') }),
      c.formErrorNode(),
      h('div', { class: 'button-row' }, submitButton(c, this.moving ? t('appt.confirm.moveSubmit') : t('appt.confirm.submit'), t('appt.confirm.submitting'), { big: true })));
  }
}
