// Form building blocks for the entry pages. A form keeps its values and errors outside the
// DOM, so that a page can be drawn again (another language, an error) without losing what was
// typed. Errors are functions that return text, so they follow a language switch too. Each
// control is tied to its hint and error with aria-describedby, and marked aria-invalid.

import { charCount, h } from './dom.js';
import { t } from './i18n.js';

export class FormState {
  /** @param {string} prefix  unique in the document: ids are `${prefix}-${name}` */
  constructor(prefix, values = {}) {
    this.prefix = prefix;
    this.values = values;
    this.errors = new Map();
    this.formError = null;
    this.busy = false;
  }

  id(name) {
    return `${this.prefix}-${name}`;
  }

  /** `text` is a string or a function returning one (translated when drawn). */
  setError(name, text) {
    this.errors.set(name, text);
  }

  setFormError(text) {
    this.formError = text;
  }

  clearErrors() {
    this.errors.clear();
    this.formError = null;
  }

  hasErrors() {
    return this.errors.size > 0 || this.formError !== null;
  }

  errorText(name) {
    const e = this.errors.get(name);
    return typeof e === 'function' ? e() : (e ?? null);
  }

  /** The attributes that tie a control to its hint and error. */
  describe(name, hint) {
    const ids = [hint ? `${this.id(name)}-hint` : null, this.errors.has(name) ? `${this.id(name)}-error` : null].filter(Boolean);
    return {
      'aria-describedby': ids.length ? ids.join(' ') : null,
      'aria-invalid': this.errors.has(name) ? 'true' : null,
    };
  }

  errorNode(name) {
    if (!this.errors.has(name)) return null;
    return h('p', { id: `${this.id(name)}-error`, class: 'field-error', text: this.errorText(name) });
  }

  formErrorNode() {
    if (this.formError === null) return null;
    const text = typeof this.formError === 'function' ? this.formError() : this.formError;
    return h('p', { class: 'form-error', role: 'alert', text });
  }

  /** Moves focus to the first control with an error (or the form error), after drawing. */
  focusFirstError(root) {
    const first = [...this.errors.keys()]
      .map((name) => root.querySelector(`[name="${CSS.escape(this.id(name))}"]`) || root.querySelector(`#${CSS.escape(this.id(name))}`))
      .find(Boolean);
    if (first) first.focus();
    else root.querySelector('.form-error')?.focus?.();
  }
}

function labelText(label, optional) {
  return optional ? [label, h('span', { class: 'optional', text: t('form.optional') })] : label;
}

/**
 * A text input or textarea. `max` shows a live character count; `onInput(value)` runs on
 * every change.
 */
export function textField(form, {
  name, label, hint, type = 'text', autocomplete = 'off', optional = false, maxLength, max,
  inputmode, rows, spellcheck, onInput, autofocus = false, minValue, maxValue,
}) {
  const id = form.id(name);
  const counterId = max ? `${id}-count` : null;
  const counter = max ? h('p', { id: counterId, class: 'counter', 'aria-live': 'polite' }) : null;
  const updateCounter = () => {
    if (!counter) return;
    const n = charCount(form.values[name] || '');
    counter.textContent = t('composer.count', { count: n, max });
    counter.classList.toggle('over', n > max);
  };
  const common = {
    id,
    name: id,
    required: !optional,
    autocomplete,
    spellcheck: spellcheck === undefined ? null : String(spellcheck),
    inputmode,
    maxlength: maxLength,
    // The range of a number field (`max` is the character count above).
    min: minValue,
    max: maxValue,
    step: type === 'number' ? 1 : null,
    'data-autofocus': autofocus ? true : null,
    ...form.describe(name, hint),
    on: {
      input: (e) => {
        form.values[name] = e.target.value;
        updateCounter();
        onInput?.(e.target.value);
      },
    },
  };
  const control = rows
    ? h('textarea', { ...common, rows, value: form.values[name] ?? '' })
    : h('input', { ...common, type, value: form.values[name] ?? '' });
  updateCounter();
  return h('div', { class: 'field' },
    h('label', { for: id }, labelText(label, optional)),
    hint ? h('p', { id: `${id}-hint`, class: 'hint', text: hint }) : null,
    control,
    counter,
    form.errorNode(name));
}

/** A group of radio buttons: options `[{ value, label, description }]`. */
export function radioField(form, { name, legend, hint, options, optional = false, onChange }) {
  const id = form.id(name);
  const described = form.describe(name, hint);
  return h('fieldset', { class: 'field radio-field', id, ...described, 'aria-invalid': null },
    h('legend', {}, labelText(legend, optional)),
    hint ? h('p', { id: `${id}-hint`, class: 'hint', text: hint }) : null,
    options.map((o, i) => {
      const optId = `${id}-${i}`;
      const descId = o.description ? `${optId}-desc` : null;
      return h('div', { class: 'radio-option' },
        h('input', {
          type: 'radio',
          id: optId,
          name: id,
          value: o.value,
          checked: form.values[name] === o.value,
          required: !optional,
          'aria-describedby': descId,
          'aria-invalid': described['aria-invalid'],
          on: { change: () => { form.values[name] = o.value; onChange?.(o.value); } },
        }),
        h('label', { for: optId },
          h('span', { class: 'radio-label', text: o.label }),
          o.description ? h('span', { class: 'radio-desc', id: descId, text: o.description }) : null));
    }),
    form.errorNode(name));
}

/** A group of checkboxes: options `[{ value, label, description }]`; the value is an array. */
export function checkboxGroupField(form, { name, legend, hint, options, optional = false, onChange }) {
  const id = form.id(name);
  const described = form.describe(name, hint);
  const chosen = () => form.values[name] || [];
  return h('fieldset', { class: 'field checkbox-group', id, ...described, 'aria-invalid': null },
    h('legend', {}, labelText(legend, optional)),
    hint ? h('p', { id: `${id}-hint`, class: 'hint', text: hint }) : null,
    options.length ? options.map((o, i) => {
      const optId = `${id}-${i}`;
      const descId = o.description ? `${optId}-desc` : null;
      return h('div', { class: 'checkbox-row' },
        h('input', {
          type: 'checkbox',
          id: optId,
          name: id,
          value: o.value,
          checked: chosen().includes(o.value),
          'aria-describedby': descId,
          'aria-invalid': described['aria-invalid'],
          on: {
            change: (e) => {
              const set = new Set(chosen());
              if (e.target.checked) set.add(o.value);
              else set.delete(o.value);
              // In the order of the options, whatever order they were ticked in.
              form.values[name] = options.map((x) => x.value).filter((v) => set.has(v));
              onChange?.(form.values[name]);
            },
          },
        }),
        h('label', { for: optId },
          h('span', { class: 'radio-label', text: o.label }),
          o.description ? h('span', { class: 'radio-desc', id: descId, text: o.description }) : null));
    }) : null,
    form.errorNode(name));
}

/** A select: options `[{ value, label }]`. */
export function selectField(form, { name, label, hint, options, optional = false, onChange }) {
  const id = form.id(name);
  return h('div', { class: 'field' },
    h('label', { for: id }, labelText(label, optional)),
    hint ? h('p', { id: `${id}-hint`, class: 'hint', text: hint }) : null,
    h('select', {
      id,
      name: id,
      ...form.describe(name, hint),
      on: { change: (e) => { form.values[name] = e.target.value; onChange?.(e.target.value); } },
    }, options.map((o) => h('option', { value: o.value, selected: form.values[name] === o.value ? true : null, text: o.label }))),
    form.errorNode(name));
}

/** A single checkbox (consent, a flag). */
export function checkboxField(form, { name, label, hint, onChange }) {
  const id = form.id(name);
  return h('div', { class: 'field checkbox-field' },
    h('div', { class: 'checkbox-row' },
      h('input', {
        type: 'checkbox',
        id,
        name: id,
        checked: Boolean(form.values[name]),
        ...form.describe(name, hint),
        on: { change: (e) => { form.values[name] = e.target.checked; onChange?.(e.target.checked); } },
      }),
      h('label', { for: id, text: label })),
    hint ? h('p', { id: `${id}-hint`, class: 'hint', text: hint }) : null,
    form.errorNode(name));
}

/** The submit button, showing `busyLabel` while a request is under way. */
export function submitButton(form, label, busyLabel, { danger = false, big = false } = {}) {
  return h('button', {
    type: 'submit',
    class: [danger ? 'danger' : 'primary', big && 'big'],
    disabled: form.busy,
    text: form.busy ? busyLabel : label,
  });
}

/** The rules of docs: a handle's problem in words, checked as the server checks it. */
export function handleProblem(raw, limits) {
  const value = (raw || '').normalize('NFC');
  const n = charCount(value);
  const min = limits?.handle_min_chars ?? 2;
  const max = limits?.handle_max_chars ?? 24;
  if (n === 0) return () => t('enter.handleRequired');
  if (n < min) return () => t('handle.error.tooShort', { min });
  if (n > max) return () => t('handle.error.tooLong', { max });
  if (/^ | $| {2}/.test(value)) return () => t('handle.error.spacing');
  return null;
}

/** Words for a server refusal of the handle. */
export function handleErrorText(err, raw, limits) {
  if (err.code === 'handle_taken') return () => t('enter.error.handle_taken');
  return handleProblem(raw, limits) || (() => t('handle.error.characters'));
}

/** Words for a refused password or passphrase (`too short` or `too long`). */
export function secretProblem(value, min, max = 256) {
  const n = [...(value || '')].length;
  if (n < min) return () => t('secret.error.tooShort', { min });
  if (n > max) return () => t('secret.error.tooLong', { max });
  return null;
}
