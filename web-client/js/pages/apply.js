// Applying to come in: a contact address, for whom, an optional message, and consent to a
// text that says exactly what is kept, why, and for how long. Then a thank-you page.

import { apply } from '../api.js';
import { charCount, h, replaceChildren } from '../dom.js';
import { FormState, checkboxField, radioField, submitButton, textField } from '../forms.js';
import { getLang, t } from '../i18n.js';
import { linkButton, pageTitle, requestErrorText } from './common.js';

export class ApplyPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'page apply-page' });
    this.form = new FormState('apply', { email: '', relation: null, message: '', consent: false });
    this.done = null;
  }

  title() {
    return this.done ? t('apply.thanksTitle') : t('apply.title');
  }

  max() {
    return this.ctx.config.limits?.application_message_max_chars ?? 2000;
  }

  render() {
    if (this.done) {
      this.renderThanks();
      return;
    }
    const f = this.form;
    const days = this.ctx.config.retention_days;
    const consentTextId = f.id('consent-text');
    const consent = checkboxField(f, { name: 'consent', label: t('apply.consentLabel') });
    // The checkbox is described by the consent text itself, so a screen reader reads what is agreed to.
    const box = consent.querySelector('input');
    box.setAttribute('aria-describedby', [consentTextId, f.errors.has('consent') ? `${f.id('consent')}-error` : null].filter(Boolean).join(' '));

    replaceChildren(this.el,
      h('div', { class: 'page-card narrow' },
        pageTitle(t('apply.title')),
        h('p', { class: 'lead-small', text: t('apply.lead') }),
        h('p', { text: t('apply.after') }),
        h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => this.submit(e) } },
          textField(f, { name: 'email', label: t('apply.email'), hint: t('apply.emailHint'), type: 'email', autocomplete: 'email', inputmode: 'email', spellcheck: false, maxLength: 254 }),
          radioField(f, {
            name: 'relation',
            legend: t('apply.relation'),
            options: [
              { value: 'self', label: t('relation.self'), description: t('relation.selfDesc') },
              { value: 'family', label: t('relation.family'), description: t('relation.familyDesc') },
            ],
          }),
          textField(f, { name: 'message', label: t('apply.message'), hint: t('apply.messageHint'), optional: true, rows: 5, max: this.max() }),
          h('section', { class: 'consent', 'aria-labelledby': f.id('consent-title') },
            h('h2', { id: f.id('consent-title'), text: t('apply.consentTitle') }),
            h('div', { id: consentTextId, class: 'consent-text' },
              h('p', { text: t('apply.consentWhat') }),
              h('ul', {},
                h('li', { text: t('apply.consentEmail') }),
                h('li', { text: t('apply.consentRelation') }),
                h('li', { text: t('apply.consentMessage') }),
                h('li', { text: t('apply.consentDate') }),
                h('li', { text: t('apply.consentLang') })),
              h('p', { text: t('apply.consentWhy') }),
              h('p', { text: t('apply.consentWho') }),
              h('p', { text: t('apply.consentHowLong', { days }) }),
              h('p', { class: 'hint', text: t('apply.consentVersion', { version: this.ctx.config.consent_version || '' }) })),
            consent),
          f.formErrorNode(),
          submitButton(f, t('apply.submit'), t('apply.sending'), { big: true }))));
  }

  renderThanks() {
    replaceChildren(this.el,
      h('div', { class: 'page-card narrow' },
        pageTitle(t('apply.thanksTitle')),
        h('p', { class: 'lead-small', text: t('apply.thanksLead') }),
        h('p', {}, t('apply.thanksMail', { email: this.done.email })),
        h('p', { text: t('apply.thanksWait') }),
        h('p', { text: t('apply.thanksSpam') }),
        h('p', { class: 'hint', text: t('apply.thanksDelete', { days: this.ctx.config.retention_days }) }),
        h('p', {}, linkButton('#/', t('apply.backHome')))));
  }

  validate() {
    const f = this.form;
    const v = f.values;
    f.clearErrors();
    const email = v.email.trim();
    if (!email) f.setError('email', () => t('apply.error.emailRequired'));
    else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) f.setError('email', () => t('apply.error.email'));
    if (!v.relation) f.setError('relation', () => t('apply.error.relation'));
    if (charCount(v.message) > this.max()) f.setError('message', () => t('form.error.tooLong', { max: this.max() }));
    if (!v.consent) f.setError('consent', () => t('apply.error.consent'));
    return !f.hasErrors();
  }

  async submit(e) {
    e.preventDefault();
    const f = this.form;
    if (f.busy) return;
    if (!this.validate()) {
      this.render();
      f.focusFirstError(this.el);
      return;
    }
    f.busy = true;
    this.render();
    const v = f.values;
    try {
      await apply({ email: v.email.trim(), relation: v.relation, message: v.message, consent: true, lang: getLang() });
      f.busy = false;
      this.done = { email: v.email.trim() };
      this.render();
      this.ctx.pageChanged(this);
    } catch (err) {
      f.busy = false;
      const max = this.max();
      const byField = {
        email: () => t('apply.error.email'),
        relation: () => t('apply.error.relation'),
        consent: () => t('apply.error.consent'),
        message: err.code === 'too_long' ? () => t('form.error.tooLong', { max }) : () => t('apply.error.messageChars'),
      };
      if (err.field && byField[err.field]) f.setError(err.field, byField[err.field]);
      else f.setFormError(() => requestErrorText(err));
      this.render();
      f.focusFirstError(this.el);
    }
  }
}
