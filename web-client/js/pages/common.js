// Pieces the pages share: the page heading (focused when the page opens, so that a screen
// reader announces it), sections, links that look like buttons, and the box that shows an
// invitation that was just made.

import { h, uniqueId } from '../dom.js';
import { errorText, formatDateTime, t } from '../i18n.js';

export function pageTitle(text) {
  return h('h1', { id: 'page-title', tabindex: '-1', text });
}

export function section(titleText, ...children) {
  const id = uniqueId('section');
  return h('section', { class: 'page-section', 'aria-labelledby': id },
    h('h2', { id, text: titleText }),
    ...children);
}

export function linkButton(href, text, { primary = false, big = false } = {}) {
  return h('a', { class: ['button-link', primary && 'primary', big && 'big'], href, text });
}

/** Words for a failed request that no field of a form explains. */
export function requestErrorText(err) {
  if (err?.code === 'rate_limited' && err.retryAfter) return t('form.error.waitSeconds', { seconds: err.retryAfter });
  if (err?.code === 'network') return t('form.error.network');
  return errorText(err);
}

export function dateTime(ms) {
  return formatDateTime(ms);
}

/**
 * The answer to making an invitation: either "it was mailed", or the link to pass on, with
 * a copy button — shown only now, since the server keeps only a hash of the token.
 */
export function invitationResult(invited, email) {
  const box = h('div', { class: 'invite-result', role: 'status', tabindex: '-1' });
  if (invited.link) {
    const inputId = uniqueId('invite-link');
    const copied = h('p', { class: 'copy-status', 'aria-live': 'polite' });
    const input = h('input', { id: inputId, type: 'text', class: 'invite-link', readonly: true, value: invited.link, on: { focus: (e) => e.target.select() } });
    const copy = h('button', {
      type: 'button',
      class: 'primary small',
      text: t('invite.copy'),
      on: {
        click: async () => {
          let ok = false;
          try {
            await navigator.clipboard.writeText(invited.link);
            ok = true;
          } catch {
            input.focus();
            input.select();
            try {
              ok = document.execCommand('copy');
            } catch {
              ok = false;
            }
          }
          copied.textContent = ok ? t('invite.copied') : t('invite.copyFailed');
        },
      },
    });
    box.append(
      h('p', { class: 'invite-result-title', text: email ? t('invite.linkFor', { email }) : t('invite.linkTitle') }),
      h('label', { for: inputId, class: 'visually-hidden', text: t('invite.linkLabel') }),
      h('div', { class: 'copy-row' }, input, copy),
      copied,
      h('p', { class: 'hint', text: t('invite.onlyNow') }));
  } else {
    box.append(h('p', { class: 'invite-result-title', text: t('invite.mailed', { email: email || invited.invitation?.email || '' }) }));
  }
  return box;
}
