// The Enter screen: a few welcoming words, a handle, an avatar. Nothing else is asked.

import { enterAsGuest, storeToken } from './api.js';
import { COLORS, SHAPES, avatarMark } from './avatars.js';
import { h, replaceChildren } from './dom.js';
import { t } from './i18n.js';

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

export class EnterScreen {
  /** @param {HTMLElement} root  @param {(signedIn: {token, me}) => void} onEntered */
  constructor(root, onEntered) {
    this.root = root;
    this.onEntered = onEntered;
    // A random start so that a crowd of newcomers does not all look alike.
    this.values = { handle: '', shape: pick(SHAPES), color: pick(COLORS) };
    this.handleError = null;
    this.formError = null;
    this.busy = false;
  }

  show() {
    this.root.hidden = false;
    this.render();
  }

  hide() {
    this.root.hidden = true;
    this.root.replaceChildren();
  }

  render() {
    if (this.root.hidden) return;
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
      on: { input: (e) => { v.handle = e.target.value; this.updatePreview(); } },
    });
    this.preview = h('div', { class: 'enter-preview', 'aria-hidden': 'true' });

    const form = h('form', { class: 'enter-form', novalidate: true, on: { submit: (e) => this.submit(e) } },
      h('div', { class: 'field' },
        h('label', { for: 'enter-handle', text: t('enter.handleLabel') }),
        h('p', { id: 'enter-handle-hint', class: 'hint', text: t('enter.handleHint') }),
        handleInput,
        this.handleError ? h('p', { id: 'enter-handle-error', class: 'field-error', text: this.handleError }) : null,
      ),
      this.radioGroup('shape', SHAPES, t('enter.shapeLegend'), (shape) => ({ shape, color: v.color }), (shape) => t(`shape.${shape}`)),
      this.radioGroup('color', COLORS, t('enter.colorLegend'), (color) => ({ shape: v.shape, color }), (color) => t(`color.${color}`)),
      h('div', { class: 'enter-preview-row' },
        h('p', { class: 'hint', text: t('enter.previewLabel') }),
        this.preview,
      ),
      this.formError ? h('p', { class: 'form-error', role: 'alert', text: this.formError }) : null,
      h('button', { type: 'submit', class: 'primary big', disabled: this.busy, text: this.busy ? t('enter.entering') : t('enter.submit') }),
    );

    replaceChildren(this.root,
      h('div', { class: 'enter-card' },
        h('h1', { id: 'enter-title', text: t('enter.title') }),
        h('div', { class: 'enter-welcome' },
          h('p', { class: 'lead', text: t('enter.lead') }),
          h('p', { text: t('enter.anonymous') }),
          h('p', { text: t('enter.watching') }),
          h('p', { text: t('enter.leaving') }),
        ),
        form,
      ));
    this.updatePreview();
  }

  radioGroup(name, options, legend, avatarFor, labelFor) {
    return h('fieldset', { class: `choices choices-${name}` },
      h('legend', { text: legend }),
      h('div', { class: 'choice-grid' },
        options.map((value) => h('label', { class: 'choice' },
          h('input', {
            type: 'radio',
            name,
            value,
            checked: this.values[name] === value,
            class: 'choice-input',
            on: { change: () => { this.values[name] = value; this.refreshMarks(); } },
          }),
          h('span', { class: 'choice-face', dataset: { [name]: value } },
            avatarMark(avatarFor(value), { size: 32 }),
            h('span', { class: 'choice-name', text: labelFor(value) }),
          ),
        )),
      ));
  }

  /** Each group previews its options in the other group's current choice. */
  refreshMarks() {
    for (const face of this.root.querySelectorAll('.choice-face')) {
      const avatar = face.dataset.shape
        ? { shape: face.dataset.shape, color: this.values.color }
        : { shape: this.values.shape, color: face.dataset.color };
      face.querySelector('svg').replaceWith(avatarMark(avatar, { size: 32 }));
    }
    this.updatePreview();
  }

  updatePreview() {
    if (!this.preview) return;
    replaceChildren(this.preview,
      avatarMark({ shape: this.values.shape, color: this.values.color }, { size: 56 }),
      h('span', { class: 'enter-preview-name', text: this.values.handle.trim() || t('enter.previewNoName') }),
    );
  }

  async submit(e) {
    e.preventDefault();
    if (this.busy) return;
    const handle = this.values.handle.trim();
    this.formError = null;
    if (!handle) {
      this.handleError = t('enter.handleRequired');
      this.render();
      this.root.querySelector('#enter-handle').focus();
      return;
    }
    this.busy = true;
    this.handleError = null;
    this.render();
    try {
      const signedIn = await enterAsGuest(handle, { shape: this.values.shape, color: this.values.color });
      storeToken(signedIn.token);
      this.busy = false;
      this.onEntered(signedIn);
    } catch (err) {
      this.busy = false;
      if (err.code === 'invalid_handle' || err.code === 'handle_taken') {
        this.handleError = `${t(`enter.error.${err.code}`)}${err.detail ? ` (${err.detail})` : ''}`;
        this.render();
        this.root.querySelector('#enter-handle').focus();
      } else {
        this.formError = t(`enter.error.${err.code}`, {}, t('enter.error.other'));
        this.render();
      }
    }
  }
}
