// Crisis contacts: the phone services from /api/config (`crisis_contacts`), on the home page
// and one tap away everywhere through the header's "Need help now?" button.

import { h, uniqueId } from './dom.js';
import { getLang, t } from './i18n.js';

/** The contacts as a list; each number is a tel: link. */
export function crisisList(contacts) {
  const lang = getLang();
  if (!contacts?.length) return h('p', { text: t('crisis.none') });
  return h('ul', { class: 'crisis-list' },
    contacts.map((c) => {
      const name = (lang === 'en' ? c.name_en : c.name_ja) || c.name_ja || c.name_en;
      const hours = (lang === 'en' ? c.hours_en : c.hours_ja) || c.hours_ja || c.hours_en;
      const dial = String(c.phone || '').replace(/[^\d+]/g, '');
      return h('li', { class: 'crisis-item' },
        h('span', { class: 'crisis-name', text: name }),
        h('a', { class: 'crisis-phone', href: `tel:${dial}` },
          h('span', { class: 'visually-hidden', text: t('crisis.call') }),
          c.phone),
        hours ? h('span', { class: 'crisis-hours', text: hours }) : null);
    }));
}

/** The dialog behind the header button. */
export function openCrisisDialog(contacts) {
  const opener = document.activeElement;
  const titleId = uniqueId('crisis-title');
  const close = h('button', { type: 'button', class: 'primary', text: t('crisis.close') });
  const dialog = h('dialog', { class: 'dialog crisis-dialog', 'aria-labelledby': titleId },
    h('h2', { id: titleId, text: t('crisis.title') }),
    h('p', { text: t('crisis.lead') }),
    h('p', { class: 'crisis-urgent', text: t('crisis.urgent') }),
    crisisList(contacts),
    h('p', { class: 'hint', text: t('crisis.staff') }),
    h('div', { class: 'dialog-buttons' }, close));
  close.addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}
