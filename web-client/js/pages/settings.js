// Settings: the handle and avatar; a passphrase (participants, family) or a password
// (counsellors, staff, admins) to sign in on another device; two-step sign-in for staff and
// admins; downloading everything stored about me; deleting my account.

import {
  changeSecret, deleteMe, exportMe, totpDisable, totpEnable, totpSetup, updateProfile,
} from '../api.js';
import { AvatarPicker } from '../avatar-picker.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import { FormState, handleErrorText, handleProblem, secretProblem, submitButton, textField } from '../forms.js';
import { t } from '../i18n.js';
import { pageTitle, requestErrorText } from './common.js';

const PASSWORD_ROLES = ['counsellor', 'staff', 'admin'];
const TOTP_ROLES = ['staff', 'admin'];

/** A card with a heading and a part that is drawn again on its own. */
class Part {
  constructor(title) {
    this.titleId = uniqueId('settings');
    this.title = title;
    this.body = h('div', { class: 'part-body' });
    this.el = h('section', { class: 'page-card settings-part', 'aria-labelledby': this.titleId });
    this.status = null;
  }

  frame(...children) {
    replaceChildren(this.el, h('h2', { id: this.titleId, text: this.title() }), ...children);
  }

  statusNode() {
    return h('p', { class: 'form-status', role: 'status', tabindex: '-1', text: this.status ? this.status() : '' });
  }

  /** Redraws after a request, then moves focus to the first error, or to the status line. */
  settle(form) {
    this.render();
    if (form.hasErrors()) form.focusFirstError(this.el);
    else this.el.querySelector('.form-status')?.focus();
  }
}

/** Groups a base32 secret in fours, so that it can be read and typed without losing one's place. */
function grouped(secret) {
  return (secret.match(/.{1,4}/g) || []).join(' ');
}

export class SettingsPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'page settings-page' });
    this.me = ctx.app.me;
    this.account = null; // from the export: whether a secret and two-step sign-in are set
    this.accountFailed = false;
    this.parts = [this.profilePart(), this.secretPart(), TOTP_ROLES.includes(this.me.role) ? this.totpPart() : null, this.dataPart(), this.deletePart()].filter(Boolean);
    this.loadAccount();
  }

  title() {
    return t('settings.title');
  }

  async loadAccount() {
    try {
      const { data } = await exportMe();
      this.account = data.account || {};
    } catch {
      this.accountFailed = true;
    }
    for (const p of this.parts) if (p.needsAccount) p.render();
  }

  render() {
    for (const p of this.parts) p.render();
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('settings.title')),
        h('p', { text: t('settings.lead') })),
      this.parts.map((p) => p.el));
  }

  // ---- handle and avatar --------------------------------------------------------------------

  profilePart() {
    const ctx = this.ctx;
    const part = new Part(() => t('settings.profileTitle'));
    const me = this.me;
    const form = new FormState('profile', { handle: me.handle });
    const avatar = { shape: me.avatar?.shape || 'circle', color: me.avatar?.color || 'sumi' };
    const picker = new AvatarPicker('profile', avatar, () => form.values.handle);
    part.render = () => {
      part.frame(
        h('p', { text: t('settings.profileLead') }),
        h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => submit(e) } },
          textField(form, { name: 'handle', label: t('enter.handleLabel'), hint: t('enter.handleHint'), spellcheck: false, onInput: () => picker.updatePreview() }),
          picker.render(),
          form.formErrorNode(),
          part.statusNode(),
          submitButton(form, t('settings.save'), t('settings.saving'))));
    };
    const submit = async (e) => {
      e.preventDefault();
      if (form.busy) return;
      form.clearErrors();
      part.status = null;
      const handle = form.values.handle;
      const problem = handleProblem(handle, ctx.config.limits);
      if (problem) {
        form.setError('handle', problem);
        part.render();
        form.focusFirstError(part.el);
        return;
      }
      const body = { avatar: { ...avatar } };
      if (handle.normalize('NFC') !== ctx.app.me.handle) body.handle = handle;
      form.busy = true;
      part.render();
      try {
        const person = await updateProfile(body);
        form.busy = false;
        form.values.handle = person.handle;
        part.status = () => t('settings.profileSaved');
        ctx.profileChanged(person);
        // The other parts name the handle too.
        for (const p of this.parts) if (p !== part) p.render();
      } catch (err) {
        form.busy = false;
        if (err.field === 'handle') form.setError('handle', handleErrorText(err, handle, ctx.config.limits));
        else form.setFormError(() => requestErrorText(err));
      }
      part.settle(form);
    };
    return part;
  }

  // ---- passphrase or password ---------------------------------------------------------------

  secretPart() {
    const ctx = this.ctx;
    const kind = PASSWORD_ROLES.includes(this.me.role) ? 'password' : 'passphrase';
    const part = new Part(() => t(`settings.${kind}Title`));
    part.needsAccount = true;
    const form = new FormState(`secret-${kind}`, { current: '', next: '', next2: '' });
    const min = ctx.config.limits?.secret_min_chars ?? 10;
    part.render = () => {
      const has = this.account ? Boolean(this.account.has_passphrase_or_password) : null;
      part.frame(
        h('p', { text: t(`settings.${kind}Lead`, { handle: ctx.app.me.handle }) }),
        kind === 'passphrase' ? h('p', { class: 'hint', text: t('settings.passphraseHow') }) : null,
        has === false ? h('p', { class: 'hint', text: t(`settings.${kind}NotSet`) }) : null,
        h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => submit(e) } },
          has === false ? null : textField(form, {
            name: 'current',
            label: has === null ? t(`settings.${kind}CurrentIfAny`) : t(`settings.${kind}Current`),
            type: 'password',
            autocomplete: 'current-password',
            optional: has === null,
          }),
          textField(form, { name: 'next', label: t(`settings.${kind}New`), hint: t(`settings.${kind}Hint`, { min }), type: 'password', autocomplete: 'new-password' }),
          textField(form, { name: 'next2', label: t(`settings.${kind}New2`), type: 'password', autocomplete: 'new-password' }),
          form.formErrorNode(),
          part.statusNode(),
          submitButton(form, has === false ? t(`settings.${kind}Set`) : t(`settings.${kind}Change`), t('settings.saving'))));
    };
    const submit = async (e) => {
      e.preventDefault();
      if (form.busy) return;
      const v = form.values;
      form.clearErrors();
      part.status = null;
      const has = this.account ? Boolean(this.account.has_passphrase_or_password) : null;
      if (has === true && !v.current) form.setError('current', () => t(`settings.${kind}CurrentMissing`));
      const problem = secretProblem(v.next, min);
      if (problem) form.setError('next', problem);
      else if (v.next !== v.next2) form.setError('next2', () => t('secret.error.mismatch'));
      if (form.hasErrors()) {
        part.render();
        form.focusFirstError(part.el);
        return;
      }
      form.busy = true;
      part.render();
      try {
        await changeSecret(kind, v.current ? { current: v.current, new: v.next } : { new: v.next });
        form.busy = false;
        if (this.account) this.account.has_passphrase_or_password = true;
        form.values = { current: '', next: '', next2: '' };
        part.status = () => t(`settings.${kind}Saved`, { handle: ctx.app.me.handle });
      } catch (err) {
        form.busy = false;
        if (err.field === 'current' || err.code === 'sign_in_failed') form.setError('current', () => t(`settings.${kind}CurrentWrong`));
        else if (err.field === 'new') form.setError('next', secretProblem(v.next, min) || (() => requestErrorText(err)));
        else form.setFormError(() => requestErrorText(err));
      }
      part.settle(form);
    };
    return part;
  }

  // ---- two-step sign-in -------------------------------------------------------------------

  totpPart() {
    const part = new Part(() => t('settings.totpTitle'));
    part.needsAccount = true;
    const form = new FormState('totp', { code: '' });
    let setup = null; // {secret, uri} while turning it on
    const codeField = () => textField(form, {
      name: 'code', label: t('settings.totpCode'), hint: t('settings.totpCodeHint'), autocomplete: 'one-time-code', inputmode: 'numeric', maxLength: 6, spellcheck: false,
    });
    part.render = () => {
      const on = this.account ? Boolean(this.account.two_step_sign_in) : null;
      let content;
      if (on === null) {
        content = h('p', { class: 'hint', text: this.accountFailed ? t('settings.stateUnknown') : t('settings.loading') });
      } else if (on) {
        content = [
          h('p', { class: 'state-on', text: t('settings.totpOn') }),
          h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => turnOff(e) } },
            h('p', { text: t('settings.totpOffLead') }),
            codeField(),
            form.formErrorNode(),
            part.statusNode(),
            submitButton(form, t('settings.totpTurnOff'), t('settings.saving'), { danger: true })),
        ];
      } else if (!setup) {
        content = [
          h('p', { text: t('settings.totpOff') }),
          h('p', { text: t('settings.totpLead') }),
          form.formErrorNode(),
          part.statusNode(),
          h('button', { type: 'button', class: 'primary', disabled: form.busy, text: t('settings.totpStart'), on: { click: () => start() } }),
        ];
      } else {
        const secretId = `${form.prefix}-secret`;
        content = [
          h('ol', { class: 'steps' },
            h('li', {},
              h('p', { text: t('settings.totpStep1') }),
              h('p', {}, h('a', { href: setup.uri, class: 'button-link', text: t('settings.totpOpenApp') }))),
            h('li', {},
              h('p', { id: `${secretId}-label`, text: t('settings.totpStep2') }),
              h('p', { id: secretId, class: 'totp-secret', 'aria-labelledby': `${secretId}-label`, text: grouped(setup.secret) })),
            h('li', {}, h('p', { text: t('settings.totpStep3') }))),
          h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => confirm(e) } },
            codeField(),
            form.formErrorNode(),
            part.statusNode(),
            h('div', { class: 'button-row' },
              h('button', { type: 'button', class: 'quiet', text: t('dialog.cancel'), on: { click: () => { setup = null; form.clearErrors(); part.render(); } } }),
              submitButton(form, t('settings.totpConfirm'), t('settings.saving')))),
        ];
      }
      part.frame(content);
    };
    const codeOk = () => {
      form.clearErrors();
      part.status = null;
      if (!/^\d{6}$/.test(form.values.code.trim())) {
        form.setError('code', () => t('signIn.error.totp'));
        part.render();
        form.focusFirstError(part.el);
        return false;
      }
      return true;
    };
    const finish = (err, message) => {
      form.busy = false;
      if (err) {
        if (err.field === 'code') form.setError('code', () => t('settings.totpWrong'));
        else form.setFormError(() => requestErrorText(err));
      } else {
        form.values.code = '';
        part.status = message;
      }
      part.settle(form);
    };
    const start = async () => {
      form.clearErrors();
      part.status = null;
      form.busy = true;
      part.render();
      try {
        setup = await totpSetup();
        form.busy = false;
        part.render();
        part.el.querySelector('.steps a')?.focus();
      } catch (err) {
        finish(err);
      }
    };
    const confirm = async (e) => {
      e.preventDefault();
      if (form.busy || !codeOk()) return;
      form.busy = true;
      part.render();
      try {
        await totpEnable(setup.secret, form.values.code.trim());
        setup = null;
        this.account.two_step_sign_in = true;
        finish(null, () => t('settings.totpEnabled'));
      } catch (err) {
        finish(err);
      }
    };
    const turnOff = async (e) => {
      e.preventDefault();
      if (form.busy || !codeOk()) return;
      form.busy = true;
      part.render();
      try {
        await totpDisable(form.values.code.trim());
        this.account.two_step_sign_in = false;
        finish(null, () => t('settings.totpDisabled'));
      } catch (err) {
        finish(err);
      }
    };
    return part;
  }

  // ---- my data -----------------------------------------------------------------------------

  dataPart() {
    const part = new Part(() => t('settings.dataTitle'));
    let busy = false;
    let error = null;
    part.render = () => {
      part.frame(
        h('p', { text: t('settings.dataLead') }),
        error ? h('p', { class: 'form-error', role: 'alert', text: error() }) : null,
        part.statusNode(),
        h('button', { type: 'button', class: 'primary', disabled: busy, text: busy ? t('settings.dataPreparing') : t('settings.dataDownload'), on: { click: () => download() } }));
    };
    const download = async () => {
      busy = true;
      error = null;
      part.status = null;
      part.render();
      try {
        const { text } = await exportMe();
        const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
        const a = h('a', { href: url, download: 'ibasho-my-data.json', hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 60_000);
        part.status = () => t('settings.dataDone');
      } catch (err) {
        error = () => requestErrorText(err);
      }
      busy = false;
      part.render();
      part.el.querySelector('button')?.focus();
    };
    return part;
  }

  // ---- deleting my account ---------------------------------------------------------------

  deletePart() {
    const ctx = this.ctx;
    const part = new Part(() => t('settings.deleteTitle'));
    const form = new FormState('delete', { confirm: '' });
    part.el.classList.add('danger-zone');
    part.render = () => {
      const handle = ctx.app.me.handle;
      part.frame(
        h('p', { text: t('settings.deleteLead') }),
        h('h3', { text: t('settings.deleteGoesTitle') }),
        h('ul', {},
          h('li', { text: t('settings.deleteGoes1') }),
          h('li', { text: t('settings.deleteGoes2') }),
          h('li', { text: t('settings.deleteGoes3') }),
          h('li', { text: t('settings.deleteGoes4') })),
        h('h3', { text: t('settings.deleteStaysTitle') }),
        h('ul', {},
          h('li', { text: t('settings.deleteStays1') }),
          h('li', { text: t('settings.deleteStays2') })),
        h('p', { text: t('settings.deleteExportFirst') }),
        h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => submit(e) } },
          textField(form, { name: 'confirm', label: t('settings.deleteConfirm', { handle }), spellcheck: false }),
          form.formErrorNode(),
          submitButton(form, t('settings.deleteSubmit'), t('settings.deleting'), { danger: true })));
    };
    const submit = async (e) => {
      e.preventDefault();
      if (form.busy) return;
      form.clearErrors();
      if (form.values.confirm.trim() !== ctx.app.me.handle) {
        form.setError('confirm', () => t('settings.deleteMismatch'));
        part.render();
        form.focusFirstError(part.el);
        return;
      }
      form.busy = true;
      part.render();
      try {
        await deleteMe(form.values.confirm.trim());
        form.busy = false;
        ctx.accountDeleted();
      } catch (err) {
        form.busy = false;
        if (err.field === 'confirm') form.setError('confirm', () => t('settings.deleteMismatch'));
        else form.setFormError(() => requestErrorText(err));
        part.render();
        form.focusFirstError(part.el);
      }
    };
    return part;
  }
}
