// Modal dialogs on the native <dialog> element: it traps focus and closes on Escape by
// itself. Focus goes into the dialog when it opens and back to what opened it afterwards.

import { h, uniqueId } from './dom.js';
import { t } from './i18n.js';

/**
 * Opens a dialog with a form and resolves with what `onSubmit` returned, or null when
 * cancelled. `onSubmit(values)` may throw an Error whose message is shown in the dialog,
 * which then stays open.
 *
 * fields: [{ name, label, type: 'text'|'textarea'|'number'|'radio', hint, value, required,
 *            maxLength, min, max, options: [{ value, label, description }] }]
 */
export function formDialog({ title, intro, fields = [], submitLabel, cancelLabel, danger = false, onSubmit, onChange, returnFocus }) {
  return new Promise((resolve) => {
    const opener = returnFocus || document.activeElement;
    const titleId = uniqueId('dlg-title');
    const introId = intro ? uniqueId('dlg-intro') : null;
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const submit = h('button', { type: 'submit', class: danger ? 'danger' : 'primary', text: submitLabel || t('dialog.ok') });
    const cancel = h('button', { type: 'button', class: 'quiet', text: cancelLabel || t('dialog.cancel') });
    const form = h('form', { class: 'dialog-form', novalidate: true },
      h('h2', { id: titleId, text: title }),
      intro ? h('p', { id: introId, class: 'dialog-intro', text: intro }) : null,
      fields.map(renderField),
      error,
      h('div', { class: 'dialog-buttons' }, cancel, submit),
    );
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': introId }, form);
    let result = null;

    const values = () => {
      const data = new FormData(form);
      const out = {};
      for (const f of fields) {
        const raw = data.get(f.name);
        out[f.name] = f.type === 'number' ? (raw === '' || raw === null ? null : Number(raw)) : (raw ?? '');
      }
      return out;
    };
    const sync = () => onChange?.(values(), form);

    form.addEventListener('input', sync);
    form.addEventListener('change', sync);
    cancel.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const firstInvalid = [...form.elements].find((el) => el.willValidate && !el.checkValidity());
      if (firstInvalid) {
        showError(firstInvalid.validationMessage);
        firstInvalid.focus();
        return;
      }
      submit.disabled = true;
      error.hidden = true;
      try {
        result = onSubmit ? await onSubmit(values()) : values();
        if (result === undefined) result = true;
        dialog.close();
      } catch (err) {
        showError(err?.message || String(err));
      } finally {
        submit.disabled = false;
      }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      else document.getElementById('main')?.focus();
      resolve(result);
    });

    function showError(message) {
      error.textContent = message;
      error.hidden = false;
    }

    document.body.append(dialog);
    sync();
    dialog.showModal();
    // A question with a destructive answer starts on the harmless one.
    const first = form.querySelector('[data-autofocus]') || form.querySelector('input:checked, input:not([type=radio]), textarea, select') || (danger ? cancel : submit);
    first.focus();
  });
}

function renderField(f) {
  const id = uniqueId(`f-${f.name}`);
  const hintId = f.hint ? `${id}-hint` : null;
  if (f.type === 'radio') {
    return h('fieldset', { class: 'field radio-field' },
      h('legend', { text: f.label }),
      f.hint ? h('p', { class: 'hint', id: hintId, text: f.hint }) : null,
      f.options.map((o) => {
        const optId = uniqueId(`${id}-opt`);
        const descId = o.description ? `${optId}-desc` : null;
        return h('div', { class: 'radio-option' },
          h('input', { type: 'radio', id: optId, name: f.name, value: o.value, checked: o.value === f.value, 'aria-describedby': descId, 'data-autofocus': o.value === f.value ? true : null }),
          h('label', { for: optId },
            h('span', { class: 'radio-label', text: o.label }),
            o.description ? h('span', { class: 'radio-desc', id: descId, text: o.description }) : null,
          ),
        );
      }),
    );
  }
  const common = {
    id,
    name: f.name,
    required: f.required,
    'aria-describedby': hintId,
    'data-autofocus': f.autofocus ? true : null,
  };
  const control = f.type === 'textarea'
    ? h('textarea', { ...common, rows: f.rows || 3, maxlength: f.maxLength, value: f.value ?? '' })
    : h('input', {
      ...common,
      type: f.type || 'text',
      maxlength: f.maxLength,
      min: f.min,
      max: f.max,
      step: f.type === 'number' ? 1 : null,
      inputmode: f.type === 'number' ? 'numeric' : null,
      autocomplete: 'off',
      value: f.value ?? '',
    });
  return h('div', { class: 'field' },
    h('label', { for: id, text: f.label }),
    f.hint ? h('p', { class: 'hint', id: hintId, text: f.hint }) : null,
    control,
  );
}

/** A yes/no question. Resolves true when confirmed. */
export async function confirmDialog({ title, message, confirmLabel, cancelLabel, danger = false }) {
  const result = await formDialog({ title, intro: message, submitLabel: confirmLabel, cancelLabel, danger });
  return result === true || (result && typeof result === 'object');
}
