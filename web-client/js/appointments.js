// Appointments (予約制; docs/consult.md, "Appointments"): booking a time with a counsellor
// beside the drop-in queue. This module has what the pages share: how a booked time is
// written (always in the space's time zone, the date written out), the counsellor's (or
// staff's) editor of bookable times with a preview, a counsellor's list of bookings, and the
// staff's day view, monthly counts and CSV. The person's own page is pages/appointments.js.

import {
  appointmentsCsv, appointmentsDay, appointmentsMonth, cancelAppointment, createSlotRule,
  deleteSlotRule, listAppointments, listSlotRules, previewSlotRule,
} from './api.js';
import { h, replaceChildren, saveBlob, uniqueId } from './dom.js';
import { confirmDialog, formDialog } from './dialogs.js';
import { FormState, checkboxField, checkboxGroupField, submitButton, textField } from './forms.js';
import { errorText, formatBooking, formatDay, formatTime, spaceTimeZone, t } from './i18n.js';
import { FOR_WHOM, TOPICS } from './consult.js';
import { requestErrorText } from './pages/common.js';

export const WEEKDAYS = ['MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU'];
/** `appointments.note_max_chars` as shipped; the server checks the limit it was given. */
export const NOTE_MAX_CHARS = 1000;
export const STATES = ['booked', 'open', 'held', 'missed', 'cancelled', 'moved', 'counsellor_absent'];

export { formatBooking };

/** `YYYY-MM-DD` of `ms` in the space's time zone. */
export function localDate(ms) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: spaceTimeZone(), year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day}`;
}

/** The kind of a booking in words: 「家族のこと・ご家族のこと」. */
export function kindText(a) {
  return t('appt.kind', { topic: t(`consult.topic.${a.topic}`), forWhom: t(`appt.forWhom.${a.for_whom}`) });
}

function ruleText(r) {
  const days = r.rrule ? (r.rrule.match(/BYDAY=([A-Z,]+)/)?.[1] || '').split(',').filter(Boolean) : [];
  const when = r.rrule
    ? t('appt.rule.weeklyText', { days: days.length ? days.map((d) => t(`appt.weekday.${d}`)).join(t('appt.rule.daySep')) : t('appt.rule.sameDay'), from: r.first_date })
    : t('appt.rule.once', { date: r.first_date });
  const kinds = (r.for_whom?.length ? r.for_whom.map((f) => t(`appt.forWhom.${f}`)).join(t('appt.rule.daySep')) : t('appt.rule.anyone'))
    + (r.topics?.length ? t('appt.rule.topicsText', { topics: r.topics.map((x) => t(`consult.topic.${x}`)).join(t('appt.rule.daySep')) }) : '');
  return t('appt.rule.text', { when, start: r.start, end: r.end, slot: r.slot_minutes, buffer: r.buffer_minutes, kinds })
    + (r.outside_hours ? t('appt.rule.outsideHours') : '');
}

/**
 * Asks for the message that goes to the people whose bookings are cancelled, then `send`s it;
 * resolves true when it was sent.
 */
function messageDialog({ title, intro, submitLabel, button, send }) {
  return formDialog({
    title,
    intro,
    submitLabel,
    cancelLabel: t('appt.cancel.keep'),
    danger: true,
    returnFocus: button,
    fields: [{ name: 'message', type: 'textarea', label: t('appt.cancel.message'), hint: t('appt.cancel.messageHint'), maxLength: NOTE_MAX_CHARS, rows: 3 }],
    onSubmit: async ({ message }) => {
      if (!message.trim()) throw new Error(t('appt.cancel.messageEmpty'));
      try {
        await send(message);
      } catch (err) {
        throw new Error(errorText(err));
      }
      return true;
    },
  });
}

function slotList(slots) {
  if (!slots.length) return h('p', { class: 'empty', text: t('appt.rule.previewNone') });
  const byDay = new Map();
  for (const s of slots) {
    const day = formatDay(s.starts_at);
    if (!byDay.has(day)) byDay.set(day, []);
    byDay.get(day).push(s);
  }
  return h('ul', { class: 'plain-list appt-preview' }, [...byDay].map(([day, list]) => h('li', {},
    h('strong', { text: day }), ' ',
    list.map((s) => `${formatTime(s.starts_at)}〜${formatTime(s.ends_at)}`).join(t('appt.rule.daySep')))));
}

/**
 * Bookable times: the rules in force, a form to publish one (one day, or weekly on chosen
 * days) with a preview before saving, and deleting one — which, when bookings lie in it,
 * asks for a message to the people first. A counsellor edits their own; staff choose whose
 * (`counsellor()` gives it) and may allow times outside the opening hours.
 */
export class RulesEditor {
  constructor(app, { staff = false, counsellor = () => null, say = () => {} } = {}) {
    this.app = app;
    this.staff = staff;
    this.counsellorFn = counsellor;
    this.say = say;
    this.prefix = uniqueId('rules');
    this.el = h('section', { class: 'page-card appt-rules', 'aria-labelledby': `${this.prefix}-title` });
    this.rules = null;
    this.error = null;
    this.preview = null;
    this.result = null;
    this.form = this.freshForm();
  }

  freshForm() {
    return new FormState(this.prefix, {
      first_date: localDate(Date.now() + 86_400_000),
      start: '13:00',
      end: '17:00',
      weekly: false,
      weekdays: [],
      slot_minutes: '50',
      buffer_minutes: '10',
      for_whom: [],
      topics: [],
      outside_hours: false,
    });
  }

  async load() {
    const who = this.counsellorFn();
    if (this.staff && !who) {
      this.rules = [];
      this.render();
      return;
    }
    try {
      this.rules = await listSlotRules(this.staff ? who : null);
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.render();
  }

  body() {
    const v = this.form.values;
    const body = {
      first_date: v.first_date,
      start: v.start,
      end: v.end,
      rrule: v.weekly && v.weekdays.length ? `FREQ=WEEKLY;BYDAY=${WEEKDAYS.filter((d) => v.weekdays.includes(d)).join(',')}` : '',
      slot_minutes: Number(v.slot_minutes),
      buffer_minutes: Number(v.buffer_minutes),
      for_whom: v.for_whom,
      topics: v.topics,
    };
    if (this.staff) {
      body.counsellor = this.counsellorFn();
      body.outside_hours = Boolean(v.outside_hours);
    }
    return body;
  }

  check() {
    const f = this.form;
    const v = f.values;
    f.clearErrors();
    if (!/^\d{4}-\d{2}-\d{2}$/.test(v.first_date)) f.setError('first_date', () => t('appt.rule.error.date'));
    if (!/^\d{2}:\d{2}$/.test(v.start)) f.setError('start', () => t('appt.rule.error.time'));
    if (!/^\d{2}:\d{2}$/.test(v.end) || v.end <= v.start) f.setError('end', () => t('appt.rule.error.end'));
    if (v.weekly && !v.weekdays.length) f.setError('weekdays', () => t('appt.rule.error.weekdays'));
    const slot = Number(v.slot_minutes);
    if (!Number.isInteger(slot) || slot < 10 || slot > 180) f.setError('slot_minutes', () => t('appt.rule.error.slot'));
    const buffer = Number(v.buffer_minutes);
    if (!Number.isInteger(buffer) || buffer < 0 || buffer > 120) f.setError('buffer_minutes', () => t('appt.rule.error.buffer'));
    if (this.staff && !this.counsellorFn()) f.setFormError(() => t('appt.rule.error.counsellor'));
    return !f.hasErrors();
  }

  async previewNow() {
    this.result = null;
    if (!this.check()) {
      this.render();
      this.form.focusFirstError(this.el);
      return;
    }
    try {
      this.preview = (await previewSlotRule(this.body())).slots;
      this.say(t('appt.rule.previewSaid', { count: this.preview.length }));
    } catch (err) {
      this.preview = null;
      this.form.setFormError(() => requestErrorText(err));
    }
    this.render();
    this.el.querySelector(`#${this.prefix}-preview-title`)?.focus();
  }

  async publish(e) {
    e.preventDefault();
    const f = this.form;
    if (f.busy) return;
    this.result = null;
    if (!this.check()) {
      this.render();
      f.focusFirstError(this.el);
      return;
    }
    f.busy = true;
    this.render();
    try {
      await createSlotRule(this.body());
      this.form = this.freshForm();
      this.preview = null;
      this.result = t('appt.rule.published');
      this.say(this.result);
      await this.load();
      this.el.querySelector(`#${this.prefix}-title`)?.focus();
      return;
    } catch (err) {
      f.busy = false;
      f.setFormError(() => requestErrorText(err));
    }
    this.render();
    f.focusFirstError(this.el);
  }

  async remove(rule, button) {
    const ok = await confirmDialog({
      title: t('appt.rule.deleteTitle'),
      message: ruleText(rule),
      confirmLabel: t('appt.rule.delete'),
      cancelLabel: t('dialog.cancel'),
      danger: true,
    });
    if (!ok) return;
    try {
      await deleteSlotRule(rule.id);
    } catch (err) {
      if (err.code !== 'appointments_booked') {
        this.say(requestErrorText(err));
        return;
      }
      const booked = err.body?.appointments || [];
      const done = await messageDialog({
        title: t('appt.rule.bookedTitle', { count: booked.length }),
        intro: t('appt.rule.bookedIntro', { list: booked.map((a) => `${formatBooking(a)} ${a.requester.handle || t('people.deletedMember')}`).join(' / ') }),
        submitLabel: t('appt.rule.bookedSubmit'),
        button,
        send: (message) => deleteSlotRule(rule.id, message),
      });
      if (!done) return;
    }
    this.say(t('appt.rule.deleted'));
    await this.load();
    this.el.querySelector(`#${this.prefix}-title`)?.focus();
  }

  render() {
    const f = this.form;
    const focusedId = this.el.contains(document.activeElement) ? document.activeElement.id : null;
    let list;
    if (this.error) list = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.error) });
    else if (!this.rules) list = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.rules.length) list = h('p', { class: 'empty', text: t('appt.rule.none') });
    else {
      list = h('ul', { class: 'card-list' }, this.rules.map((r) => {
        const button = h('button', { type: 'button', class: 'quiet small danger-text', id: `${this.prefix}-del-${r.id}`, text: t('appt.rule.delete'), 'aria-label': t('appt.rule.deleteLabel', { rule: ruleText(r) }) });
        button.addEventListener('click', () => this.remove(r, button));
        return h('li', { class: 'app-card appt-rule' }, h('p', { text: ruleText(r) }), button);
      }));
    }
    const v = f.values;
    const form = h('form', { class: 'page-form', novalidate: true, 'aria-labelledby': `${this.prefix}-add`, on: { submit: (e) => this.publish(e) } },
      h('h3', { id: `${this.prefix}-add`, text: t('appt.rule.addTitle') }),
      h('div', { class: 'field-row' },
        textField(f, { name: 'first_date', type: 'date', label: v.weekly ? t('appt.rule.firstDate') : t('appt.rule.date') }),
        textField(f, { name: 'start', type: 'time', label: t('appt.rule.start') }),
        textField(f, { name: 'end', type: 'time', label: t('appt.rule.end') })),
      checkboxField(f, { name: 'weekly', label: t('appt.rule.weekly'), onChange: () => { this.render(); this.el.querySelector(`#${CSS.escape(f.id('weekly'))}`)?.focus(); } }),
      v.weekly ? checkboxGroupField(f, { name: 'weekdays', legend: t('appt.rule.weekdays'), options: WEEKDAYS.map((d) => ({ value: d, label: t(`appt.weekday.${d}`) })) }) : null,
      h('div', { class: 'field-row' },
        textField(f, { name: 'slot_minutes', type: 'number', inputmode: 'numeric', label: t('appt.rule.slot'), minValue: 10, maxValue: 180 }),
        textField(f, { name: 'buffer_minutes', type: 'number', inputmode: 'numeric', label: t('appt.rule.buffer'), minValue: 0, maxValue: 120 })),
      checkboxGroupField(f, { name: 'for_whom', legend: t('appt.rule.forWhom'), hint: t('appt.rule.forWhomHint'), optional: true, options: FOR_WHOM.map((x) => ({ value: x, label: t(`consult.forWhom.${x}`) })) }),
      checkboxGroupField(f, { name: 'topics', legend: t('appt.rule.topics'), hint: t('appt.rule.topicsHint'), optional: true, options: TOPICS.map((x) => ({ value: x, label: t(`consult.topic.${x}`) })) }),
      this.staff ? checkboxField(f, { name: 'outside_hours', label: t('appt.rule.outside'), hint: t('appt.rule.outsideHint') }) : null,
      f.formErrorNode(),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', id: `${this.prefix}-preview`, text: t('appt.rule.preview'), on: { click: () => this.previewNow() } }),
        submitButton(f, t('appt.rule.publish'), t('appt.rule.publishing')),
        this.result ? h('p', { class: 'form-status', text: this.result }) : null));
    const preview = this.preview
      ? h('div', { class: 'appt-preview-box' },
        h('h4', { id: `${this.prefix}-preview-title`, tabindex: '-1', text: t('appt.rule.previewTitle', { count: this.preview.length }) }),
        slotList(this.preview))
      : null;
    replaceChildren(this.el,
      h('h2', { id: `${this.prefix}-title`, tabindex: '-1', text: this.staff ? t('appt.rule.titleStaff') : t('appt.rule.title') }),
      h('p', { class: 'hint', text: t('appt.rule.lead') }),
      list,
      form,
      preview);
    if (focusedId) this.el.querySelector(`#${CSS.escape(focusedId)}`)?.focus();
  }
}

/** A counsellor's bookings from today: who (handle only), the kind, the first note; cancelling with a message. */
export class CounsellorBookings {
  constructor(app, { say = () => {} } = {}) {
    this.app = app;
    this.say = say;
    this.el = h('section', { class: 'page-card appt-bookings', 'aria-labelledby': 'counsellor-bookings-title' });
    this.list = null;
    this.error = null;
  }

  async load() {
    try {
      this.list = await listAppointments();
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.render();
  }

  async cancel(a, button) {
    const done = await messageDialog({
      title: t('appt.cancel.counsellorTitle'),
      intro: t('appt.cancel.counsellorIntro', { when: formatBooking(a), handle: a.requester.handle || t('people.deletedMember') }),
      submitLabel: t('appt.cancel.submit'),
      button,
      send: (message) => cancelAppointment(a.id, message),
    });
    if (!done) return;
    this.say(t('appt.cancel.done'));
    await this.load();
  }

  render() {
    let content;
    if (this.error) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.error) });
    else if (!this.list) content = h('p', { class: 'hint', text: t('settings.loading') });
    else {
      const shown = this.list.filter((a) => a.state !== 'moved');
      content = shown.length
        ? h('ul', { class: 'card-list' }, shown.map((a) => {
          const button = a.state === 'booked'
            ? h('button', { type: 'button', class: 'quiet small danger-text', text: t('appt.cancel.counsellorButton'), 'aria-label': t('appt.cancel.counsellorLabel', { when: formatBooking(a) }) })
            : null;
          button?.addEventListener('click', () => this.cancel(a, button));
          return h('li', { class: 'app-card appt-booking', dataset: { appointment: String(a.id) } },
            h('p', { class: 'appt-when', text: formatBooking(a) }),
            h('p', { text: t('appt.counsellorLine', { handle: a.requester.handle || t('people.deletedMember'), kind: kindText(a) }) }),
            a.first_note ? h('p', { class: 'appt-note', text: t('appt.firstNote', { note: a.first_note }) }) : null,
            h('p', { class: `appt-state is-${a.state}`, text: t(`appt.state.${a.state}`) }),
            button);
        }))
        : h('p', { class: 'empty', text: t('appt.counsellorNone') });
    }
    replaceChildren(this.el,
      h('div', { class: 'queue-head' },
        h('h2', { id: 'counsellor-bookings-title', text: t('appt.counsellorTitle') }),
        h('button', { type: 'button', class: 'quiet small', text: t('staffPage.reload'), on: { click: () => this.load() } })),
      h('p', { class: 'hint', text: t('appt.counsellorLead') }),
      content);
  }
}

/** Staff: the day per counsellor (times, kinds, states — never who or what), the month's counts, the CSV. */
export class StaffAppointments {
  constructor(app, { say = () => {} } = {}) {
    this.app = app;
    this.say = say;
    this.el = h('section', { class: 'page-card appt-staff', 'aria-labelledby': 'appt-staff-title' });
    this.form = new FormState('appt-staff', { date: localDate(Date.now()), month: localDate(Date.now()).slice(0, 7) });
    this.day = null;
    this.month = null;
    this.error = null;
  }

  async load() {
    const { date, month } = this.form.values;
    try {
      [this.day, this.month] = await Promise.all([appointmentsDay(date), appointmentsMonth(month)]);
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.render();
  }

  async download(button) {
    try {
      const { blob, name } = await appointmentsCsv(this.form.values.month);
      saveBlob(blob, name);
    } catch (err) {
      this.say(requestErrorText(err));
    }
    button.focus();
  }

  counts(c) {
    const keys = ['booked', 'held', 'missed', 'cancelled', 'counsellor_absent', 'upcoming'];
    return keys.map((k) => h('td', { text: String(c[k] ?? 0) }));
  }

  render() {
    const f = this.form;
    const focusedId = this.el.contains(document.activeElement) ? document.activeElement.id : null;
    const dayPart = !this.day ? null
      : !this.day.counsellors.length ? h('p', { class: 'empty', text: t('appt.staff.dayNone') })
        : h('ul', { class: 'card-list' }, this.day.counsellors.map((c) => h('li', { class: 'app-card' },
          h('h4', { text: c.counsellor.handle || t('people.deletedMember') }),
          h('ul', { class: 'plain-list' }, c.appointments.map((a) => h('li', {},
            `${formatTime(a.starts_at)}〜${formatTime(a.ends_at)} `, kindText(a), ' — ', t(`appt.state.${a.state}`)))))));
    const heads = ['appt.staff.counsellor', 'appt.staff.booked', 'appt.staff.held', 'appt.staff.missed', 'appt.staff.cancelled', 'appt.staff.counsellor_absent', 'appt.staff.upcoming'];
    const monthPart = !this.month ? null
      : h('table', { class: 'data-table' },
        h('caption', { text: t('appt.staff.monthCaption', { month: this.month.month }) }),
        h('thead', {}, h('tr', {}, heads.map((k) => h('th', { scope: 'col', text: t(k) })))),
        h('tbody', {},
          this.month.counsellors.map((c) => h('tr', {}, h('th', { scope: 'row', text: c.counsellor.handle || t('people.deletedMember') }), this.counts(c))),
          h('tr', { class: 'total' }, h('th', { scope: 'row', text: t('appt.staff.total') }), this.counts(this.month.total))));
    const csv = h('button', { type: 'button', id: 'appt-staff-csv', text: t('appt.staff.csv') });
    csv.addEventListener('click', () => this.download(csv));
    replaceChildren(this.el,
      h('h2', { id: 'appt-staff-title', text: t('appt.staff.title') }),
      h('p', { class: 'hint', text: t('appt.staff.lead') }),
      h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => { e.preventDefault(); this.load(); } } },
        h('div', { class: 'field-row' },
          textField(f, { name: 'date', type: 'date', label: t('appt.staff.date') }),
          textField(f, { name: 'month', type: 'month', label: t('appt.staff.month'), hint: t('appt.staff.monthHint') })),
        h('div', { class: 'button-row' }, h('button', { type: 'submit', id: 'appt-staff-show', text: t('appt.staff.show') }), csv)),
      this.error ? h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.error) }) : null,
      this.day ? h('h3', { text: t('appt.staff.dayTitle', { date: this.day.date }) }) : null,
      dayPart,
      monthPart);
    if (focusedId) this.el.querySelector(`#${CSS.escape(focusedId)}`)?.focus();
  }
}

