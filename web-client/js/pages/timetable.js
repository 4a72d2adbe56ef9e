// The timetable: the programme sessions of today, this week or this month, in the space's
// time zone, each with what it is about, where it stands (soon, open, under way, ended,
// called off and why) and whom it is for. While a session's room is open, people who are
// signed in go in from here, choosing how to be there. Public: visitors see it too, with the
// calendar feed to subscribe to.

import { getTimetable } from '../api.js';
import { addDays, addMonths, startOfDay, startOfMonth, startOfWeek, wallClock } from '../calendar.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import { formatDay, formatTime, setSpaceTimeZone, spaceTimeZone, t } from '../i18n.js';
import { ageBandsText, categoryBadge, modesText, phaseBadge, timeRange } from '../programmes.js';
import { linkButton, pageTitle, requestErrorText } from './common.js';

const VIEWS = ['day', 'week', 'month'];
// Phases change with the clock; the page asks again this often while it is shown.
const REFRESH_MS = 30_000;

export class TimetablePage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'page timetable-page' });
    this.view = 'week';
    // A moment inside the period shown.
    this.anchor = Date.now();
    this.data = null;
    this.error = null;
    this.headingId = uniqueId('tt-range');
    this.body = h('div', { class: 'timetable-body' });
    // Says which period is shown after a change of view, for those who cannot see it change.
    this.status = h('p', { class: 'visually-hidden', role: 'status' });
    this.timer = setInterval(() => this.load(), REFRESH_MS);
    this.load();
  }

  destroy() {
    clearInterval(this.timer);
    this.timer = null;
  }

  title() {
    return t('timetable.title');
  }

  /** The period shown: `[from, to)`. */
  range() {
    if (this.view === 'day') {
      const from = startOfDay(this.anchor);
      return [from, addDays(from, 1)];
    }
    if (this.view === 'week') {
      const from = startOfWeek(this.anchor);
      return [from, addDays(from, 7)];
    }
    const from = startOfMonth(this.anchor);
    return [from, addMonths(from, 1)];
  }

  rangeLabel() {
    const [from, to] = this.range();
    if (this.view === 'day') return formatDay(from);
    if (this.view === 'week') return t('timetable.weekRange', { from: formatDay(from), to: formatDay(to - 1) });
    const w = wallClock(from);
    return t('timetable.monthLabel', { year: w.year, month: w.month });
  }

  async load() {
    const [from, to] = this.range();
    try {
      const data = await getTimetable(from, to);
      if (this.timer === null) return;
      // A period changed meanwhile: that answer is for another one.
      const [nowFrom] = this.range();
      if (nowFrom !== from) return;
      if (data.time_zone && data.time_zone !== spaceTimeZone()) setSpaceTimeZone(data.time_zone);
      this.data = data;
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.renderBody();
  }

  /** Shows another view or period, and loads it. */
  change({ view = this.view, anchor = this.anchor }) {
    this.view = view;
    this.anchor = anchor;
    this.data = null;
    this.error = null;
    this.render();
    this.status.textContent = t('timetable.showing', { range: this.rangeLabel() });
    this.load();
  }

  step(direction) {
    const [from] = this.range();
    let anchor;
    if (this.view === 'day') anchor = addDays(from, direction);
    else if (this.view === 'week') anchor = addDays(from, 7 * direction);
    else anchor = addMonths(from, direction);
    this.change({ anchor });
  }

  render() {
    const focusKey = this.el.contains(document.activeElement) ? document.activeElement.dataset?.fkey : null;
    const signedIn = Boolean(this.ctx.app.me);
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('timetable.title')),
        h('p', { text: t('timetable.lead') }),
        h('p', { class: 'hint', text: t('timetable.zone', { zone: spaceTimeZone() }) })),
      h('section', { class: 'page-card', 'aria-labelledby': this.headingId },
        h('div', { class: 'toolbar timetable-toolbar' },
          h('div', { class: 'segmented', role: 'group', 'aria-label': t('timetable.viewLabel') },
            VIEWS.map((v) => h('button', {
              type: 'button',
              class: 'small',
              'aria-pressed': String(this.view === v),
              dataset: { fkey: `view-${v}` },
              text: t(`timetable.view.${v}`),
              on: { click: () => this.change({ view: v, anchor: Date.now() }) },
            }))),
          h('div', { class: 'button-row' },
            h('button', { type: 'button', class: 'quiet small', dataset: { fkey: 'prev' }, text: t(`timetable.prev.${this.view}`), on: { click: () => this.step(-1) } }),
            h('button', { type: 'button', class: 'quiet small', dataset: { fkey: 'next' }, text: t(`timetable.next.${this.view}`), on: { click: () => this.step(1) } }))),
        h('h2', { id: this.headingId, class: 'tt-range', tabindex: '-1', text: this.rangeLabel() }),
        this.status,
        signedIn ? null : h('p', { class: 'page-notice' },
          t('timetable.signInToJoin'), ' ',
          h('a', { href: '#/sign-in', text: t('nav.signIn') })),
        this.body),
      h('section', { class: 'page-card', 'aria-labelledby': 'tt-feed-title' },
        h('h2', { id: 'tt-feed-title', text: t('timetable.feedTitle') }),
        h('p', { text: t('timetable.feedText') }),
        h('p', {}, h('a', { class: 'button-link', href: '/api/calendar.ics', type: 'text/calendar', text: t('timetable.feedLink') })),
        h('p', { class: 'hint', text: t('timetable.feedHint') })),
      h('p', {}, linkButton('#/gallery', t('timetable.toGallery'))));
    this.renderBody();
    if (focusKey) this.el.querySelector(`[data-fkey="${CSS.escape(focusKey)}"]`)?.focus();
  }

  renderBody() {
    const focusKey = this.body.contains(document.activeElement) ? document.activeElement.dataset?.fkey : null;
    let content;
    if (this.error) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.error) });
    else if (!this.data) content = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.data.entries.length) content = h('p', { class: 'empty', text: t(`timetable.empty.${this.view}`) });
    else {
      const days = new Map();
      for (const e of this.data.entries) {
        const day = startOfDay(e.start);
        if (!days.has(day)) days.set(day, []);
        days.get(day).push(e);
      }
      content = [...days].map(([day, entries]) => {
        const id = uniqueId('tt-day');
        return h('section', { class: 'tt-day', 'aria-labelledby': id },
          h('h3', { id, text: formatDay(day) }),
          h('ul', { class: 'card-list' }, entries.map((e) => this.entry(e))));
      });
    }
    replaceChildren(this.body, content);
    if (focusKey) {
      const again = this.body.querySelector(`[data-fkey="${CSS.escape(focusKey)}"]`);
      // The button went (the session ended meanwhile): not back to the top of the page.
      if (again && !again.disabled) again.focus();
      else this.el.querySelector(`#${CSS.escape(this.headingId)}`)?.focus();
    }
  }

  entry(e) {
    const titleId = uniqueId('tt-entry');
    const signedIn = Boolean(this.ctx.app.me);
    const cancelled = e.phase === 'cancelled';
    const canEnter = (e.phase === 'open' || e.phase === 'live') && e.room;
    const upcoming = e.phase === 'scheduled';
    const opensId = uniqueId('tt-opens');
    let action = null;
    if (signedIn && canEnter) {
      action = h('button', {
        type: 'button',
        class: 'primary',
        text: t('timetable.enter'),
        'aria-describedby': titleId,
        dataset: { fkey: `enter-${e.session}-${e.start}` },
        on: { click: () => this.ctx.joinProgramme(e.room) },
      });
    } else if (signedIn && upcoming) {
      action = [
        h('button', { type: 'button', class: 'primary', disabled: true, text: t('timetable.enter'), 'aria-describedby': `${titleId} ${opensId}` }),
        h('span', { class: 'hint', id: opensId, text: t('timetable.opensAt', { time: formatTime(e.opens_at) }) }),
      ];
    }
    return h('li', { class: ['app-card', 'tt-entry', cancelled && 'is-cancelled'], dataset: { session: e.session, start: String(e.start), phase: e.phase } },
      h('article', { 'aria-labelledby': titleId },
        h('div', { class: 'tt-entry-head' },
          h('p', { class: 'tt-time', text: timeRange(e.start, e.end) }),
          h('h4', { id: titleId, class: 'tt-title', text: e.title }),
          h('p', { class: 'tt-badges' }, categoryBadge(e.category), ' ', phaseBadge(e.phase, e.start))),
        cancelled && e.cancel_reason ? h('p', { class: 'cancel-reason', text: t('timetable.cancelReason', { reason: e.cancel_reason }) }) : null,
        ageBandsText(e.age_bands) ? h('p', { class: 'tt-ages', text: ageBandsText(e.age_bands) }) : null,
        cancelled ? null : h('p', { class: 'hint', text: modesText(e.modes) }),
        action ? h('div', { class: 'button-row' }, action) : null));
  }
}
