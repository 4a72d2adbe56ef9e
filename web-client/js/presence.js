// "Who is here": members by handle, watchers only as a number. Staff also see the watchers
// by name (the server sends them only to staff) and whom they asked to leave. In a
// programme's room its hosts (and staff) may let people join in, and mute or remove them.

import { avatarMark } from './avatars.js';
import { h, replaceChildren, uniqueId } from './dom.js';
import { giveVoice } from './host.js';
import { t } from './i18n.js';
import { moderateDialog, readmit } from './staff.js';
import { isStaffRole } from './timeline.js';

export class Presence {
  constructor(room) {
    this.room = room;
    this.app = room.app;
    this.titleId = uniqueId('people-title');
    this.el = h('aside', { class: 'people', 'aria-labelledby': this.titleId });
  }

  render() {
    const me = this.app.me;
    const staffView = this.app.isStaff;
    const room = this.room;
    // Hosts moderate in their programme's rooms as staff do anywhere (not staff or hosts).
    const mayModerate = staffView || (room.isProgramme && room.mayHost());
    const moderatable = (person) => !isStaffRole(person.role) && !room.isHost(person);
    const focusKey = this.el.contains(document.activeElement) ? document.activeElement.dataset?.fkey : null;
    const all = [...this.room.members.values()];
    const present = all.filter((m) => m.mode !== 'view_only')
      .sort((a, b) => a.person.handle.localeCompare(b.person.handle));
    const watchersByName = all.filter((m) => m.mode === 'view_only')
      .sort((a, b) => a.person.handle.localeCompare(b.person.handle));
    const others = present.filter((m) => m.person.id !== me.id);

    const memberItem = (m) => {
      const self = m.person.id === me.id;
      return h('li', { class: ['person', self && 'self'], dataset: { account: m.person.id } },
        avatarMark(m.person.avatar, { size: 20 }),
        h('span', { class: 'person-name', text: m.person.handle }),
        isStaffRole(m.person.role) ? h('span', { class: 'badge', text: t('people.staff') }) : null,
        room.isHost(m.person) ? h('span', { class: 'badge', text: t('people.host') }) : null,
        self ? h('span', { class: 'hint', text: t('people.you') }) : null,
        mayModerate && !self && moderatable(m.person) ? h('span', { class: 'person-actions' },
          room.isProgramme ? this.voiceButton(m.person) : null,
          h('button', {
            type: 'button',
            class: 'quiet small',
            text: t('people.moderateShort'),
            'aria-label': t('people.moderate', { handle: m.person.handle }),
            dataset: { fkey: `moderate-${m.person.id}` },
            on: { click: () => moderateDialog(this.room, m.person) },
          })) : null);
    };

    const watchers = this.room.watchers;
    replaceChildren(this.el,
      h('h3', { id: this.titleId, text: t('people.title') }),
      present.length ? h('ul', { class: 'person-list' }, present.map(memberItem)) : null,
      others.length === 0 ? h('p', { class: 'hint', text: t('people.none') }) : null,
      watchers > 0 ? h('p', { class: 'watchers', text: t('people.watching', { count: watchers }) }) : null,
      this.room.mode === 'view_only' ? h('p', { class: 'hint', text: t('people.youWatch') }) : null,
      staffView ? h('section', { class: 'staff-only' },
        h('h4', { text: t('people.watchersTitle') }),
        watchersByName.length
          ? h('ul', { class: 'person-list watcher-list' }, watchersByName.map(memberItem))
          : h('p', { class: 'hint', text: t('people.watchersNone') })) : null,
      mayModerate && this.room.removedPeople.size ? h('section', { class: 'staff-only' },
        h('h4', { text: t(room.isProgramme ? 'people.removedTitleHost' : 'people.removedTitle') }),
        h('ul', { class: 'person-list' }, [...this.room.removedPeople.values()].map((p) => h('li', { class: 'person' },
          avatarMark(p.avatar, { size: 20 }),
          h('span', { class: 'person-name', text: p.handle }),
          h('button', {
            type: 'button',
            class: 'quiet small',
            text: t('people.readmit'),
            'aria-label': t('people.readmitLabel', { handle: p.handle }),
            on: { click: () => readmit(this.room, p) },
          }))))) : null,
    );
    if (focusKey) this.el.querySelector(`[data-fkey="${CSS.escape(focusKey)}"]`)?.focus();
  }

  /** Lets someone join in (write on stage; join as a participant although it is full), or takes it back. */
  voiceButton(person) {
    const on = this.room.voicedPeople.has(person.id);
    return h('button', {
      type: 'button',
      class: 'quiet small',
      text: on ? t('people.voiceOff') : t('people.voiceOn'),
      'aria-label': t(on ? 'people.voiceOffLabel' : 'people.voiceOnLabel', { handle: person.handle }),
      dataset: { fkey: `voice-${person.id}` },
      on: { click: () => giveVoice(this.room, person, !on) },
    });
  }
}
