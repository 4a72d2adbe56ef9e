// Guest entry, on the home page while the server allows it (`guest_entry` in /api/config): a
// handle and an avatar, nothing else. A trial: the account lives in this browser only.

import { enterAsGuest } from './api.js';
import { AvatarPicker, randomAvatar } from './avatar-picker.js';
import { h } from './dom.js';
import { handleErrorText } from './forms.js';
import { t } from './i18n.js';

export class GuestEntry {
  /**
   * @param {object} limits  `limits` of /api/config
   * @param {(signedIn: {token, me}) => void} onEntered
   */
  constructor(limits, onEntered) {
    this.limits = limits;
    this.onEntered = onEntered;
    this.values = { handle: '', avatar: randomAvatar() };
    this.handleError = null;
    this.formError = null;
    this.busy = false;
    this.root = h('section', { class: 'home-section guest-entry', 'aria-labelledby': 'guest-title' });
    this.picker = new AvatarPicker('guest', this.values.avatar, () => this.values.handle);
  }

  render() {
    const v = this.values;
    const handleInput = h('input', {
      id: 'enter-handle',
      name: 'handle',
      type: 'text',
      autocomplete: 'off',
      spellcheck: 'false',
      required: true,
      value: v.handle,
      'aria-describedby': this.handleError ? 'enter-handle-hint enter-handle-error' : 'enter-handle-hint',
      'aria-invalid': this.handleError ? 'true' : null,
      on: { input: (e) => { v.handle = e.target.value; this.picker.updatePreview(); } },
    });
    const form = h('form', { class: 'enter-form', novalidate: true, on: { submit: (e) => this.submit(e) } },
      h('div', { class: 'field' },
        h('label', { for: 'enter-handle', text: t('enter.handleLabel') }),
        h('p', { id: 'enter-handle-hint', class: 'hint', text: t('enter.handleHint') }),
        handleInput,
        this.handleError ? h('p', { id: 'enter-handle-error', class: 'field-error', text: this.handleError() }) : null),
      this.picker.render(),
      this.formError ? h('p', { class: 'form-error', role: 'alert', text: this.formError() }) : null,
      h('button', { type: 'submit', class: 'primary big', disabled: this.busy, text: this.busy ? t('enter.entering') : t('enter.submit') }));
    this.root.replaceChildren(
      h('h2', { id: 'guest-title', text: t('guest.title') }),
      h('p', { text: t('guest.lead') }),
      h('p', { class: 'hint', text: t('guest.note') }),
      form);
    return this.root;
  }

  async submit(e) {
    e.preventDefault();
    if (this.busy) return;
    const handle = this.values.handle.trim();
    this.formError = null;
    if (!handle) {
      this.handleError = () => t('enter.handleRequired');
      this.render();
      this.root.querySelector('#enter-handle').focus();
      return;
    }
    this.busy = true;
    this.handleError = null;
    this.render();
    try {
      const signedIn = await enterAsGuest(handle, { ...this.values.avatar });
      this.busy = false;
      this.onEntered(signedIn);
    } catch (err) {
      this.busy = false;
      if (err.code === 'invalid_handle' || err.code === 'handle_taken') {
        this.handleError = handleErrorText(err, handle, this.limits);
        this.render();
        this.root.querySelector('#enter-handle').focus();
      } else {
        this.formError = () => t(`enter.error.${err.code}`, {}, t('enter.error.other'));
        this.render();
      }
    }
  }
}
