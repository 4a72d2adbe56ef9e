// Programmes as people read about them: what a programme is about, where an occurrence
// stands, whom a session is for and the ways to be there. Shared by the timetable, the
// gallery, the staff screens and the programme rooms.

import { sameDay } from './calendar.js';
import { h } from './dom.js';
import { formatTime, t } from './i18n.js';

export const CATEGORIES = ['meal', 'art', 'music', 'peer_salon', 'other'];
export const AGE_BANDS = ['under_20', '20s', '30s', '40s', '50s', '60_plus'];
// The ways to be in a room, most present first.
export const MODES = ['participant', 'chat_only', 'view_only'];

export function categoryBadge(category) {
  return h('span', { class: ['badge', 'category', `category-${category}`], text: t(`category.${category}`, {}, category) });
}

/** Where an occurrence stands, in words: a `scheduled` one is "soon" on its own day. */
export function phaseKey(phase, start, now = Date.now()) {
  if (phase === 'scheduled') return sameDay(start, now) ? 'soon' : 'scheduled';
  return phase;
}

export function phaseBadge(phase, start) {
  const key = phaseKey(phase, start);
  return h('span', { class: ['phase', `phase-${key}`], text: t(`phase.${key}`, {}, phase) });
}

/** 「14:00〜15:00」 in the space's time zone. */
export function timeRange(start, end) {
  return t('time.range', { from: formatTime(start), to: formatTime(end) });
}

/** Whom a session is for, when only some age bands may come; else null. */
export function ageBandsText(bands) {
  if (!bands?.length) return null;
  const ages = AGE_BANDS.filter((b) => bands.includes(b)).map((b) => t(`age.${b}`)).join(t('list.sep'));
  return t('programme.forAges', { ages });
}

/** The ways one may be there, most present first. */
export function modesText(modes) {
  const list = MODES.filter((m) => modes?.includes(m)).map((m) => t(`mode.${m}`)).join(t('list.sep'));
  return t('programme.modes', { modes: list });
}

/** Who hosts it, by handle. */
export function hostsText(hosts) {
  if (!hosts?.length) return null;
  return t('programme.hosts', { hosts: hosts.map((p) => p.handle).join(t('list.sep')) });
}

/** Whether `me` hosts the programme of this room (the room's `programme.hosts`). */
export function hostsRoom(info, me) {
  return Boolean(me && info?.programme?.hosts?.includes(me.id));
}
