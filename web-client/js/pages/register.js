// Registering from an invitation link (`#/register?token=…`). The link is checked first; a
// link that cannot be used gets a clear, kind page and nothing else. Otherwise: a handle and
// an avatar, and for participants an optional age band and for whom they come; roles that
// sign in with a password choose one. A link that gives an existing account its access back
// asks for nothing but (for those roles) a new password.

import { previewInvitation, register } from '../api.js';
import { AvatarPicker, randomAvatar } from '../avatar-picker.js';
import { h, replaceChildren } from '../dom.js';
import { FormState, handleErrorText, handleProblem, radioField, secretProblem, submitButton, textField } from '../forms.js';
import { t } from '../i18n.js';
import { linkButton, pageTitle, requestErrorText } from './common.js';

export const AGE_BANDS = ['under_20', '20s', '30s', '40s', '50s', '60_plus'];

export class RegisterPage {
  constructor(ctx, token) {
    this.ctx = ctx;
    this.token = token || '';
    this.el = h('div', { class: 'page register-page' });
    // 'checking' | 'invalid' | 'failed' | 'form'
    this.state = this.token ? 'checking' : 'invalid';
    this.invitation = null;
    this.avatar = randomAvatar();
    this.form = new FormState('register', { handle: '', age_band: '', relation: 'self', password: '', password2: '' });
    this.picker = new AvatarPicker('register', this.avatar, () => this.form.values.handle);
    if (this.token) this.check();
  }

  title() {
    if (this.state === 'invalid') return t('register.invalidTitle');
    if (this.invitation?.reset) return t('register.resetTitle');
    return t('register.title');
  }

  async check() {
    this.state = 'checking';
    try {
      this.invitation = await previewInvitation(this.token);
      this.form.values.relation = this.invitation.role === 'family' ? 'family' : 'self';
      this.state = 'form';
    } catch (err) {
      this.state = err.code === 'invitation_invalid' || err.code === 'not_found' ? 'invalid' : 'failed';
      this.error = err;
    }
    this.render();
    this.ctx.pageChanged(this);
  }

  secretMin() {
    return this.ctx.config.limits?.secret_min_chars ?? 10;
  }

  render() {
    if (this.state === 'checking') {
      replaceChildren(this.el, h('div', { class: 'page-card narrow' }, h('p', { class: 'loading', role: 'status', text: t('register.checking') })));
      return;
    }
    if (this.state === 'invalid') {
      replaceChildren(this.el,
        h('div', { class: 'page-card narrow invitation-invalid' },
          pageTitle(t('register.invalidTitle')),
          h('p', { class: 'lead-small', text: t('register.invalidLead') }),
          h('p', { text: t('register.invalidWhy') }),
          h('p', { text: t('register.invalidAsk') }),
          h('p', {}, linkButton('#/', t('register.toHome')))));
      return;
    }
    if (this.state === 'failed') {
      replaceChildren(this.el,
        h('div', { class: 'page-card narrow' },
          pageTitle(t('register.title')),
          h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.error) }),
          h('button', { type: 'button', class: 'primary', text: t('app.retry'), on: { click: () => { this.render(); this.check(); } } })));
      return;
    }
    const inv = this.invitation;
    const f = this.form;
    const passwordFields = inv.needs_password ? [
      textField(f, { name: 'password', label: inv.reset ? t('register.newPassword') : t('register.password'), hint: t('register.passwordHint', { min: this.secretMin() }), type: 'password', autocomplete: 'new-password' }),
      textField(f, { name: 'password2', label: t('register.password2'), type: 'password', autocomplete: 'new-password' }),
    ] : [];

    let body;
    if (inv.reset) {
      body = [
        pageTitle(t('register.resetTitle')),
        h('p', { class: 'lead-small', text: t('register.resetLead') }),
        h('p', { text: inv.needs_password ? t('register.resetPassword') : t('register.resetOther') }),
        h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => this.submit(e) } },
          passwordFields,
          f.formErrorNode(),
          submitButton(f, t('register.resetSubmit'), t('register.sending'), { big: true })),
      ];
    } else {
      const limits = this.ctx.config.limits || {};
      body = [
        pageTitle(t('register.title')),
        h('p', { class: 'lead-small', text: t('register.lead') }),
        inv.role !== 'participant' && inv.role !== 'family' ? h('p', { class: 'role-note', text: t('register.asRole', { role: t(`role.${inv.role}`) }) }) : null,
        h('p', { text: t('enter.anonymous') }),
        h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => this.submit(e) } },
          textField(f, {
            name: 'handle',
            label: t('enter.handleLabel'),
            hint: t('register.handleHint', { min: limits.handle_min_chars ?? 2, max: limits.handle_max_chars ?? 24 }),
            spellcheck: false,
            onInput: () => this.picker.updatePreview(),
          }),
          this.picker.render(),
          inv.needs_password ? null : radioField(f, {
            name: 'relation',
            legend: t('register.relation'),
            options: [
              { value: 'self', label: t('relation.self'), description: t('relation.selfDesc') },
              { value: 'family', label: t('relation.family'), description: t('relation.familyDesc') },
            ],
          }),
          inv.needs_password ? null : radioField(f, {
            name: 'age_band',
            legend: t('register.ageBand'),
            hint: t('register.ageBandHint'),
            optional: true,
            options: [{ value: '', label: t('age.none') }, ...AGE_BANDS.map((b) => ({ value: b, label: t(`age.${b}`) }))],
          }),
          passwordFields,
          f.formErrorNode(),
          submitButton(f, t('register.submit'), t('register.sending'), { big: true })),
      ];
    }
    replaceChildren(this.el, h('div', { class: 'page-card narrow' }, body));
  }

  validate() {
    const f = this.form;
    const v = f.values;
    const inv = this.invitation;
    f.clearErrors();
    if (!inv.reset) {
      const problem = handleProblem(v.handle, this.ctx.config.limits);
      if (problem) f.setError('handle', problem);
    }
    if (inv.needs_password) {
      const problem = secretProblem(v.password, this.secretMin());
      if (problem) f.setError('password', problem);
      else if (v.password !== v.password2) f.setError('password2', () => t('secret.error.mismatch'));
    }
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
    const inv = this.invitation;
    const v = f.values;
    const body = { token: this.token };
    if (!inv.reset) {
      body.handle = v.handle;
      body.avatar = { ...this.avatar };
      if (!inv.needs_password) {
        body.relation = v.relation;
        if (v.age_band) body.age_band = v.age_band;
      }
    }
    if (inv.needs_password) body.password = v.password;
    f.busy = true;
    this.render();
    try {
      const signedIn = await register(body);
      f.busy = false;
      this.ctx.signedIn(signedIn, { welcome: true });
    } catch (err) {
      f.busy = false;
      if (err.code === 'invitation_invalid') {
        this.state = 'invalid';
        this.render();
        this.ctx.pageChanged(this);
        return;
      }
      if (err.field === 'handle') f.setError('handle', handleErrorText(err, v.handle, this.ctx.config.limits));
      else if (err.field === 'password') f.setError('password', secretProblem(v.password, this.secretMin()) || (() => requestErrorText(err)));
      else f.setFormError(() => requestErrorText(err));
      this.render();
      f.focusFirstError(this.el);
    }
  }
}
