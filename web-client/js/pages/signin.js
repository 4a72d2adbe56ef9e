// Signing in: a handle or e-mail address and a passphrase or password; a six-digit code when
// two-step sign-in is on. Repeated failures make the server wait longer each time (429 with
// Retry-After); the page says how long, kindly, and keeps the button off until then.

import { signIn } from '../api.js';
import { h, replaceChildren } from '../dom.js';
import { FormState, submitButton, textField } from '../forms.js';
import { t } from '../i18n.js';
import { linkButton, pageTitle, requestErrorText } from './common.js';

export class SignInPage {
  /** @param {string|null} next  the route to open after signing in */
  constructor(ctx, { next = null, notice = null } = {}) {
    this.ctx = ctx;
    this.next = next;
    this.notice = notice;
    this.el = h('div', { class: 'page signin-page' });
    this.form = new FormState('signin', { login: '', secret: '', totp: '' });
    this.needTotp = false;
    this.waitUntil = 0;
    this.waitTimer = null;
  }

  title() {
    return t('signIn.title');
  }

  destroy() {
    clearTimeout(this.waitTimer);
  }

  render() {
    const f = this.form;
    const waiting = this.waitUntil > Date.now();
    const submit = submitButton(f, t('signIn.submit'), t('signIn.sending'), { big: true });
    if (waiting) submit.disabled = true;
    replaceChildren(this.el,
      h('div', { class: 'page-card narrow' },
        pageTitle(t('signIn.title')),
        this.notice ? h('p', { class: 'page-notice', text: this.notice() }) : null,
        h('p', { text: t('signIn.lead') }),
        h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => this.submit(e) } },
          textField(f, { name: 'login', label: t('signIn.login'), hint: t('signIn.loginHint'), autocomplete: 'username', spellcheck: false }),
          textField(f, { name: 'secret', label: t('signIn.secret'), type: 'password', autocomplete: 'current-password' }),
          this.needTotp ? textField(f, {
            name: 'totp',
            label: t('signIn.totp'),
            hint: t('signIn.totpHint'),
            autocomplete: 'one-time-code',
            inputmode: 'numeric',
            maxLength: 6,
            spellcheck: false,
          }) : null,
          f.formErrorNode(),
          submit),
        h('div', { class: 'page-aside' },
          h('h2', { text: t('signIn.helpTitle') }),
          h('p', { text: t('signIn.noPassphrase') }),
          h('p', { text: t('signIn.forgot') }),
          h('p', {}, linkButton('#/apply', t('signIn.applyLink'))))));
  }

  async submit(e) {
    e.preventDefault();
    const f = this.form;
    if (f.busy || this.waitUntil > Date.now()) return;
    const v = f.values;
    f.clearErrors();
    if (!v.login.trim()) f.setError('login', () => t('signIn.error.login'));
    if (!v.secret) f.setError('secret', () => t('signIn.error.secret'));
    if (this.needTotp && !/^\d{6}$/.test(v.totp.trim())) f.setError('totp', () => t('signIn.error.totp'));
    if (f.hasErrors()) {
      this.render();
      f.focusFirstError(this.el);
      return;
    }
    f.busy = true;
    this.render();
    try {
      const body = { login: v.login.trim(), secret: v.secret };
      if (this.needTotp) body.totp = v.totp.trim();
      const signedIn = await signIn(body);
      f.busy = false;
      this.ctx.signedIn(signedIn, { next: this.next });
    } catch (err) {
      f.busy = false;
      let focus = null;
      if (err.code === 'totp_required') {
        this.needTotp = true;
        f.setError('totp', () => t('signIn.totpNeeded'));
      } else if (err.code === 'sign_in_failed') {
        f.setFormError(() => (this.needTotp ? t('signIn.error.failedTotp') : t('signIn.error.failed')));
        v.totp = '';
        focus = 'secret';
      } else if (err.code === 'rate_limited') {
        const seconds = err.retryAfter || 1;
        this.startWait(seconds);
        f.setFormError(() => t('signIn.error.wait', { seconds }));
      } else if (err.code === 'suspended') {
        f.setFormError(() => t('signIn.error.suspended'));
      } else {
        f.setFormError(() => requestErrorText(err));
      }
      this.render();
      if (focus) this.el.querySelector(`#${f.id(focus)}`)?.focus();
      else f.focusFirstError(this.el);
    }
  }

  /** Keeps the button off while the server would refuse anyway, then turns it on again. */
  startWait(seconds) {
    clearTimeout(this.waitTimer);
    this.waitUntil = Date.now() + seconds * 1000;
    this.waitTimer = setTimeout(() => {
      this.waitUntil = 0;
      const button = this.el.querySelector('button[type="submit"]');
      if (button) button.disabled = false;
    }, seconds * 1000);
  }
}
