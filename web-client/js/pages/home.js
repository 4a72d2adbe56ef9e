// The public home page: what this place is and whom it is for, the opening hours, how to
// come in (apply → invitation mail → register), that anonymity and only watching are fine,
// the crisis contacts, and the ways in for people who already have an account. While the
// server allows guest entry, a trial entry without registering. Whether the space is open now
// is said from /api/config and said anew when the hours it gave come round.

import { crisisList } from '../crisis.js';
import { h, replaceChildren } from '../dom.js';
import { GuestEntry } from '../enter.js';
import { getLang, t } from '../i18n.js';
import { nextChange, openingAt, openingLine } from '../opening.js';
import { linkButton, pageTitle, section } from './common.js';

// setTimeout waits at most this long (about 24.8 days).
const MAX_TIMER_MS = 2 ** 31 - 1;
// Asked a little after a change, so that the server's clock has surely passed it too.
const AFTER_CHANGE_MS = 1000;

export class HomePage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'page home-page' });
    this.guest = ctx.config.guest_entry ? new GuestEntry(ctx.config.limits, (signedIn) => ctx.guestEntered(signedIn)) : null;
    this.timer = null;
  }

  destroy() {
    clearTimeout(this.timer);
    this.timer = null;
  }

  /** Renders the open-now line again when the hours last given say it changes. */
  scheduleChange() {
    clearTimeout(this.timer);
    const at = nextChange(this.ctx.config.opening);
    if (at === null) return;
    this.timer = setTimeout(async () => {
      // Past what the server said (a closing, say, with the next opening unknown): ask once.
      if (!openingAt(this.ctx.config.opening)) await this.ctx.refreshOpening();
      if (this.timer !== null) this.renderOpenNow();
    }, Math.min(MAX_TIMER_MS, at - Date.now() + AFTER_CHANGE_MS));
  }

  renderOpenNow() {
    const line = openingLine(this.ctx.config.opening);
    this.openNow.textContent = line || '';
    this.openNow.hidden = !line;
    this.scheduleChange();
  }

  title() {
    return t('homePage.title', { space: this.space() });
  }

  space() {
    return this.ctx.config.space_name || 'ibasho';
  }

  render() {
    const c = this.ctx.config;
    const lang = getLang();
    const pickLang = (pair) => (pair ? (pair[lang] || pair.ja || pair.en || '') : '');
    const hours = pickLang(c.opening_hours);
    const operator = pickLang(c.operator);
    this.openNow = h('p', { class: 'open-now' });
    replaceChildren(this.el,
      h('div', { class: 'page-card home-hero' },
        pageTitle(t('homePage.title', { space: this.space() })),
        h('p', { class: 'lead', text: t('enter.lead') }),
        this.openNow,
        h('p', { text: t('homePage.what', { space: this.space() }) }),
        h('p', { text: t('homePage.people') }),
        operator ? h('p', { class: 'hint', text: t('homePage.operator', { operator }) }) : null,
        h('div', { class: 'cta-row' },
          linkButton('#/apply', t('homePage.applyCta'), { primary: true, big: true }),
          linkButton('#/sign-in', t('homePage.signInCta'), { big: true }))),
      h('div', { class: 'page-card' },
        section(t('homePage.whoTitle'),
          h('ul', { class: 'plain-list' },
            h('li', { text: t('homePage.who1') }),
            h('li', { text: t('homePage.who2') }),
            h('li', { text: t('homePage.who3') })),
          h('p', { class: 'hint', text: t('homePage.medical') })),
        section(t('homePage.safeTitle'),
          h('ul', { class: 'plain-list' },
            h('li', { text: t('enter.anonymous') }),
            h('li', { text: t('homePage.noFace') }),
            h('li', { text: t('enter.watching') }),
            h('li', { text: t('enter.leaving') }))),
        section(t('homePage.programmesTitle'),
          h('p', { text: t('homePage.programmesText') }),
          h('p', { class: 'cta-row' },
            linkButton('#/timetable', t('homePage.timetableCta')),
            linkButton('#/gallery', t('homePage.galleryCta')))),
        section(t('homePage.hoursTitle'),
          hours ? h('p', { class: 'hours', text: hours }) : h('p', { text: t('homePage.hoursUnknown') }),
          h('p', { class: 'hint', text: t('homePage.hoursNote') })),
        section(t('homePage.howTitle'),
          h('ol', { class: 'steps' },
            h('li', { text: t('homePage.step1') }),
            h('li', { text: t('homePage.step2') }),
            h('li', { text: t('homePage.step3') })),
          h('p', {}, linkButton('#/apply', t('homePage.applyCta'), { primary: true }))),
        section(t('homePage.accountTitle'),
          h('p', { text: t('homePage.accountText') }),
          h('p', {}, linkButton('#/sign-in', t('homePage.signInCta'))))),
      this.guest ? h('div', { class: 'page-card' }, this.guest.render()) : null,
      h('div', { class: 'page-card crisis-card' },
        section(t('homePage.crisisTitle'),
          h('p', { text: t('crisis.lead') }),
          h('p', { class: 'crisis-urgent', text: t('crisis.urgent') }),
          crisisList(c.crisis_contacts))));
    this.renderOpenNow();
  }
}
