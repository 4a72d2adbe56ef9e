// The staff's consult page: the queue as it stands (counts, waits, who is on duty — never
// what anyone said), marking a waiting request urgent, each counsellor's profile (professions,
// how many consults at once, whether they supervise), and the messages people left when no one
// was free, to be handled.

import { listCounsellors, updateCounsellor } from '../api.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import { FormState, checkboxField, checkboxGroupField, submitButton, textField } from '../forms.js';
import { t } from '../i18n.js';
import { PROFESSIONS } from '../consult.js';
import { LeftMessages, QueueView } from '../consult-views.js';
import { pageTitle, requestErrorText } from './common.js';
import { RulesEditor, StaffAppointments } from '../appointments.js';

// The most consults one counsellor may take at once (the server's COUNSELLOR_MAX_CAPACITY).
const MAX_CAPACITY = 10;

export class ConsultsPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.app = ctx.app;
    this.el = h('div', { class: 'page consults-page' });
    this.live = h('p', { class: 'visually-hidden', role: 'status' });
    this.queue = new QueueView(this.app, { flag: true, say: (text) => this.say(text) });
    this.queueCard = h('div', { class: 'page-card' }, this.queue.el);
    this.profilesEl = h('section', { class: 'page-card counsellor-profiles', 'aria-labelledby': 'profiles-title' });
    this.messages = new LeftMessages();
    this.messagesCard = h('div', { class: 'page-card' }, this.messages.el);
    this.counsellors = null;
    this.profilesError = null;
    this.appointments = new StaffAppointments(this.app, { say: (text) => this.say(text) });
    this.appointments.load();
    // Bookable times for a counsellor staff choose.
    this.rulesFor = '';
    this.rulesPick = h('div', { class: 'page-card appt-rules-pick' });
    this.rules = new RulesEditor(this.app, { staff: true, counsellor: () => this.rulesFor || null, say: (text) => this.say(text) });
    // account → {form: FormState, result: null | {ok, text}}
    this.forms = new Map();
    this.unsubscribe = this.app.consult.subscribe((e) => {
      if (e.kind === 'queue') this.queue.render();
    });
    this.loadCounsellors();
  }

  destroy() {
    this.unsubscribe();
    clearTimeout(this.sayTimer);
  }

  title() {
    return t('consults.title');
  }

  say(text) {
    clearTimeout(this.sayTimer);
    this.live.textContent = '';
    this.sayTimer = setTimeout(() => { this.live.textContent = text; }, 60);
  }

  render() {
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('consults.title')),
        h('p', { text: t('consults.lead') })),
      this.live,
      this.queueCard,
      this.profilesEl,
      this.appointments.el,
      this.rulesPick,
      this.rules.el,
      this.messagesCard);
    this.queue.render();
    this.appointments.render();
    this.renderRulesPick();
    this.rules.render();
    this.renderProfiles();
    this.messages.render();
  }

  /** Whose bookable times staff edit: a counsellor from the profiles. */
  renderRulesPick() {
    const id = 'appt-rules-for';
    const select = h('select', { id, on: { change: (e) => { this.rulesFor = e.target.value; this.rules.load(); } } },
      h('option', { value: '', text: t('appt.staff.chooseCounsellor') }),
      (this.counsellors || []).map((c) => h('option', { value: c.account, selected: c.account === this.rulesFor ? true : null, text: c.handle })));
    replaceChildren(this.rulesPick,
      h('h2', { text: t('appt.staff.rulesTitle') }),
      h('div', { class: 'field' }, h('label', { for: id, text: t('appt.staff.rulesFor') }), select));
  }

  // ---- counsellor profiles --------------------------------------------------------------------

  async loadCounsellors() {
    try {
      this.counsellors = await listCounsellors();
      this.profilesError = null;
      for (const c of this.counsellors) {
        if (!this.forms.has(c.account)) this.forms.set(c.account, { form: this.formFor(c), result: null });
      }
    } catch (err) {
      this.profilesError = err;
    }
    this.renderProfiles();
    this.renderRulesPick();
  }

  formFor(c) {
    return new FormState(`counsellor-${c.account}`, {
      professions: PROFESSIONS.filter((p) => c.professions.includes(p)),
      capacity: String(c.capacity),
      supervisor: c.supervisor,
    });
  }

  renderProfiles() {
    const focusedId = this.profilesEl.contains(document.activeElement) ? document.activeElement.id : null;
    let content;
    if (this.profilesError) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.profilesError) });
    else if (!this.counsellors) content = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.counsellors.length) content = h('p', { class: 'empty', text: t('consults.noCounsellors') });
    else content = h('ul', { class: 'card-list' }, this.counsellors.map((c) => this.profileItem(c)));
    replaceChildren(this.profilesEl,
      h('div', { class: 'queue-head' },
        h('h2', { id: 'profiles-title', text: t('consults.profilesTitle') }),
        h('button', { type: 'button', class: 'quiet small', id: 'profiles-reload', text: t('staffPage.reload'), on: { click: () => this.loadCounsellors() } })),
      h('p', { class: 'hint', text: t('consults.profilesLead') }),
      content);
    if (focusedId) this.profilesEl.querySelector(`#${CSS.escape(focusedId)}`)?.focus();
  }

  profileItem(c) {
    const { form: f, result } = this.forms.get(c.account);
    const titleId = uniqueId('counsellor');
    return h('li', { class: 'app-card counsellor-profile', dataset: { account: c.account } },
      h('form', {
        class: 'page-form',
        novalidate: true,
        'aria-labelledby': titleId,
        on: { submit: (e) => this.save(e, c) },
      },
      h('h3', { id: titleId, text: c.handle }),
      checkboxGroupField(f, {
        name: 'professions',
        legend: t('consults.professions'),
        options: PROFESSIONS.map((p) => ({ value: p, label: t(`profession.${p}`) })),
      }),
      textField(f, {
        name: 'capacity',
        type: 'number',
        inputmode: 'numeric',
        label: t('consults.capacity'),
        hint: t('consults.capacityHint', { max: MAX_CAPACITY }),
        minValue: 1,
        maxValue: MAX_CAPACITY,
      }),
      checkboxField(f, { name: 'supervisor', label: t('consults.supervisor'), hint: t('consults.supervisorHint') }),
      f.formErrorNode(),
      h('div', { class: 'button-row' },
        submitButton(f, t('consults.save'), t('consults.saving')),
        result ? h('p', { class: result.ok ? 'form-status' : 'form-error', role: result.ok ? 'status' : 'alert', text: result.text }) : null)));
  }

  async save(e, c) {
    e.preventDefault();
    const entry = this.forms.get(c.account);
    const f = entry.form;
    if (f.busy) return;
    f.clearErrors();
    entry.result = null;
    const capacity = Number(f.values.capacity);
    if (!f.values.professions.length) f.setError('professions', () => t('consults.error.professions'));
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_CAPACITY) f.setError('capacity', () => t('consults.error.capacity', { max: MAX_CAPACITY }));
    if (f.hasErrors()) {
      this.renderProfiles();
      f.focusFirstError(this.profilesEl);
      return;
    }
    f.busy = true;
    this.renderProfiles();
    try {
      const saved = await updateCounsellor(c.account, { professions: f.values.professions, capacity, supervisor: Boolean(f.values.supervisor) });
      const i = this.counsellors.findIndex((x) => x.account === c.account);
      if (i >= 0) this.counsellors[i] = saved;
      entry.form = this.formFor(saved);
      entry.result = { ok: true, text: t('consults.saved', { handle: saved.handle }) };
      this.say(entry.result.text);
    } catch (err) {
      f.busy = false;
      if (err.field === 'professions') f.setError('professions', () => t('consults.error.professions'));
      else if (err.field === 'capacity') f.setError('capacity', () => t('consults.error.capacity', { max: MAX_CAPACITY }));
      else f.setFormError(() => requestErrorText(err));
    }
    this.renderProfiles();
    const again = this.forms.get(c.account).form;
    if (again.hasErrors()) again.focusFirstError(this.profilesEl);
    else this.profilesEl.querySelector(`[data-account="${CSS.escape(c.account)}"] button[type="submit"]`)?.focus();
  }
}
