// The public home page: what this place is and whom it is for, the opening hours, how to
// come in (apply → invitation mail → register), that anonymity and only watching are fine,
// the crisis contacts, and the ways in for people who already have an account. While the
// server allows guest entry, a trial entry without registering.

import { crisisList } from '../crisis.js';
import { h, replaceChildren } from '../dom.js';
import { GuestEntry } from '../enter.js';
import { getLang, t } from '../i18n.js';
import { linkButton, pageTitle, section } from './common.js';

export class HomePage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'page home-page' });
    this.guest = ctx.config.guest_entry ? new GuestEntry(ctx.config.limits, (signedIn) => ctx.guestEntered(signedIn)) : null;
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
    replaceChildren(this.el,
      h('div', { class: 'page-card home-hero' },
        pageTitle(t('homePage.title', { space: this.space() })),
        h('p', { class: 'lead', text: t('enter.lead') }),
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
  }
}
