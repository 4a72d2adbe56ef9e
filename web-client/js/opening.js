// Opening hours as people live them (docs/protocol.md, "Opening hours"). While the space is
// closed, participants and families see a calm page that says when it opens next; it turns
// back into the space by itself when the server says the space has opened (no polling: the
// connection stays open). Everyone inside is told gently before closing. Counsellors, staff
// and admins, who may always enter, see a small banner while it is closed to the others.
// The public home page says whether the space is open now.

import { getConfig } from './api.js';
import { crisisList } from './crisis.js';
import { h, replaceChildren, uniqueId } from './dom.js';
import { formatPeriod, formatTimeToday, getLang, t } from './i18n.js';

/** The key of the closing notice in the notices region: a newer one replaces it. */
const CLOSING_NOTICE = 'closing';

/** Counsellors, staff and admins may enter at any hour; participants and families may not. */
export function mayEnterWhenClosed(role) {
  return role === 'counsellor' || role === 'staff' || role === 'admin';
}

/**
 * Where the space stands at `now`, from an `opening` as the server last said it and moved on
 * by the clock: `{open: true, until}` (`until` null when it never closes), `{open: false,
 * next}` (`next` null when nothing is scheduled), or null when only the server can tell.
 */
export function openingAt(opening, now = Date.now()) {
  if (!opening) return null;
  if (opening.open) {
    if (!opening.closes_at) return { open: true, until: null };
    return now < opening.closes_at ? { open: true, until: opening.closes_at } : null;
  }
  const next = opening.next;
  if (!next) return { open: false, next: null };
  if (now < next.start) return { open: false, next };
  if (now < next.end) return { open: true, until: next.end };
  return null;
}

/** The next instant at which `openingAt` gives another answer, or null. */
export function nextChange(opening, now = Date.now()) {
  const ahead = [opening?.closes_at, opening?.next?.start, opening?.next?.end]
    .filter((ms) => typeof ms === 'number' && ms > now);
  return ahead.length ? Math.min(...ahead) : null;
}

/** The home page's line: open until when, or when it opens next; null when unknown. */
export function openingLine(opening, now = Date.now()) {
  const at = openingAt(opening, now);
  if (!at) return null;
  if (at.open) return at.until ? t('opening.homeOpen', { time: formatTimeToday(at.until) }) : t('opening.homeOpenAlways');
  return at.next ? t('opening.homeNext', { when: formatPeriod(at.next) }) : t('opening.homeNoNext');
}

function part(titleText, ...children) {
  const id = uniqueId('closed-part');
  return h('section', { class: 'closed-part', 'aria-labelledby': id },
    h('h3', { id, text: titleText }),
    ...children);
}

/**
 * The space's side of the opening hours, for one signed-in person: the closed page in place
 * of the rooms (participants and families), the banner (everyone else), the closing notices.
 */
export class OpeningController {
  /**
   * @param {object} app  what the modules share (main.js): `me`, `config`, `rooms`, `notify`,
   *   `dismissNotice`
   * @param {{appEl: HTMLElement, nav: HTMLElement, views: HTMLElement}} elements  the space,
   *   its room list and its room views
   */
  constructor(app, { appEl, nav, views }) {
    this.app = app;
    this.appEl = appEl;
    this.nav = nav;
    this.views = views;
    // As the server last said it: `{open, closes_at?, next?}`.
    this.opening = null;
    // Whether the closed page stands in for the rooms.
    this.keptOut = false;
    // Whether the person was inside when it closed: the page then thanks them for the day.
    this.thanks = false;
    this.titleId = uniqueId('closed-title');
    this.view = h('section', { class: 'closed-view page-card', 'aria-labelledby': this.titleId, hidden: true });
    this.banner = h('div', { class: 'opening-banner', hidden: true });
    appEl.querySelector('h1')?.after(this.banner);
    appEl.append(this.view);
  }

  destroy() {
    this.leaveClosed();
    this.view.remove();
    this.banner.remove();
    this.app.dismissNotice(CLOSING_NOTICE);
  }

  get restricted() {
    return !mayEnterWhenClosed(this.app.me?.role);
  }

  /**
   * A `welcome` (the first one, or after a reconnect). Returns what the rooms should do:
   * 'open' (restore or resume them as usual), 'closed' (nothing: the closed page is shown),
   * or 'entering' (the space opened while this page was away; it is going in by itself).
   */
  welcome(opening) {
    // A server without opening hours is always open.
    this.opening = opening || { open: true };
    this.renderBanner();
    if (this.restricted && !this.opening.open) {
      // After a reconnect, the rooms this page was in are gone: it closed meanwhile.
      const wasInside = this.app.rooms.closeAll();
      this.showClosed({ thanks: this.keptOut ? this.thanks : wasInside });
      return 'closed';
    }
    if (this.keptOut) {
      if (this.restricted) {
        this.opened();
        return 'entering';
      }
      this.leaveClosed();
    }
    return 'open';
  }

  /** Handles `opening` and `closing_soon`; returns whether `frame` was one of them. */
  onFrame(frame) {
    if (frame.type === 'opening') {
      this.changed(frame.opening);
      return true;
    }
    if (frame.type === 'closing_soon') {
      const key = this.restricted ? 'opening.closingSoon' : 'opening.staffClosingSoon';
      this.app.notify(t(key, { minutes: frame.minutes }), { sticky: true, key: CLOSING_NOTICE });
      return true;
    }
    return false;
  }

  changed(opening) {
    const wasOpen = this.opening?.open;
    this.opening = opening;
    if (!opening.open) this.app.dismissNotice(CLOSING_NOTICE);
    this.renderBanner();
    if (!this.restricted) {
      if (wasOpen !== undefined && wasOpen !== opening.open) this.app.notify(t(opening.open ? 'opening.staffOpened' : 'opening.staffClosed'));
      return;
    }
    if (opening.open) {
      if (this.keptOut) this.opened();
      return;
    }
    if (this.keptOut) {
      this.render();
      return;
    }
    // The server has taken the person out of every room, without a word: this is that word.
    this.app.rooms.closeAll();
    this.showClosed({ thanks: true, focus: true });
  }

  /** The space opened while the closed page was shown: into the space, by itself. */
  opened() {
    const active = document.activeElement;
    const focusInside = !active || active === document.body || active.id === 'main' || this.view.contains(active);
    this.leaveClosed();
    this.app.notify(t('opening.opened'));
    this.app.rooms.enterOnOpening({ focus: focusInside && !this.appEl.hidden });
  }

  /**
   * A `join` was refused with `closed`: the space closed before this page heard of it. The
   * refusal says only how long until it opens; the public configuration has the period.
   */
  refused(frame) {
    if (!this.restricted || this.keptOut) return;
    const next = frame?.retry_after_ms ? { start: Date.now() + frame.retry_after_ms } : null;
    this.opening = { open: false, next: this.opening && !this.opening.open && this.opening.next ? this.opening.next : next };
    this.app.rooms.closeAll();
    this.showClosed({ thanks: false, focus: true });
    getConfig().then((config) => {
      if (this.keptOut && config?.opening && !config.opening.open) {
        this.opening = config.opening;
        this.render();
      }
    }, () => {
      // The start from the refusal stands.
    });
  }

  showClosed({ thanks, focus = false }) {
    this.keptOut = true;
    this.thanks = thanks;
    this.appEl.classList.add('is-closed');
    this.nav.hidden = true;
    this.views.hidden = true;
    this.view.hidden = false;
    this.render();
    // After the current task, so that a dialog closing now does not take focus back.
    if (focus && !this.appEl.hidden) setTimeout(() => this.focus(), 0);
  }

  leaveClosed() {
    this.keptOut = false;
    this.thanks = false;
    this.appEl.classList.remove('is-closed');
    this.nav.hidden = false;
    this.views.hidden = false;
    this.view.hidden = true;
    this.view.replaceChildren();
  }

  /** The closed page's heading, to move focus to (and so have it read out); null if not shown. */
  heading() {
    return this.keptOut ? this.view.querySelector('h2') : null;
  }

  focus() {
    this.heading()?.focus();
  }

  render() {
    this.renderBanner();
    if (!this.keptOut) return;
    const config = this.app.config || {};
    const lang = getLang();
    const hours = config.opening_hours ? (config.opening_hours[lang] || config.opening_hours.ja || config.opening_hours.en) : '';
    const next = this.opening?.next;
    const hadFocus = this.view.contains(document.activeElement);
    replaceChildren(this.view,
      h('h2', { id: this.titleId, tabindex: '-1', text: t('opening.title') }),
      this.thanks ? h('p', { class: 'closed-thanks', text: t('opening.thanks') }) : null,
      h('p', { class: 'closed-next', text: next ? t('opening.next', { when: formatPeriod(next) }) : t('opening.nextUnknown') }),
      // A consult under way goes on after closing.
      ['active', 'interrupted'].includes(this.app.consult?.status?.phase) ? h('p', { class: 'page-notice' }, t('opening.consultGoesOn'), ' ', h('a', { href: '#/consult', text: t('opening.consultLink') })) : null,
      h('p', { text: t('opening.rest') }),
      next ? h('p', { class: 'hint', text: t('opening.waiting') }) : null,
      hours ? part(t('opening.hoursTitle'), h('p', { class: 'hours', text: hours })) : null,
      part(t('homePage.crisisTitle'),
        h('p', { text: t('crisis.lead') }),
        h('p', { class: 'crisis-urgent', text: t('crisis.urgent') }),
        crisisList(config.crisis_contacts)));
    if (hadFocus) this.focus();
  }

  renderBanner() {
    const shown = Boolean(this.app.me) && !this.restricted && this.opening && !this.opening.open;
    this.banner.hidden = !shown;
    if (!shown) {
      this.banner.replaceChildren();
      return;
    }
    const next = this.opening.next;
    replaceChildren(this.banner,
      h('p', { text: t('opening.staffBanner') }),
      next ? h('p', { text: t('opening.staffBannerNext', { when: formatPeriod(next) }) }) : null);
  }
}
