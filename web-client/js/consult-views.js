// Pieces the consult pages share: a request's summary as a counsellor sees it, the crisis
// contacts in a consult, the queue (counts, waits and who is on duty — never content) and the
// messages people left when no one was free.

import { listLeftMessages, markMessageHandled } from './api.js';
import { avatarMark } from './avatars.js';
import { crisisList } from './crisis.js';
import { confirmDialog } from './dialogs.js';
import { h, replaceChildren, uniqueId } from './dom.js';
import { formatBooking, formatDateTime, formatTime, t } from './i18n.js';
import { requestErrorText } from './pages/common.js';

/** How long, in whole minutes (at least one), for waits. */
export function minutesText(ms) {
  return t('consult.minutes', { count: Math.max(1, Math.round(ms / 60_000)) });
}

/** The person's handle with their role in words (a family member's request says so). */
export function personLine(person) {
  return h('span', { class: 'consult-person' },
    avatarMark(person.avatar, { size: 22 }),
    h('span', { class: 'consult-handle', text: person.handle || t('people.deletedMember') }),
    person.role === 'family' || person.role === 'counsellor' ? h('span', { class: 'badge', text: t(`role.${person.role}`) }) : null);
}

/** A request as a counsellor needs it to take it: never more. */
export function summaryList(summary) {
  const row = (label, ...value) => [h('dt', { text: label }), h('dd', {}, ...value)];
  return h('dl', { class: 'consult-summary' },
    row(t('consult.summary.requester'), personLine(summary.requester)),
    row(t('consult.summary.topic'), t(`consult.topic.${summary.topic}`)),
    row(t('consult.summary.forWhom'), t(`consult.forWhom.${summary.for_whom}`)),
    row(t('consult.summary.profession'), summary.profession ? t(`profession.${summary.profession}`) : t('consult.preference.any')),
    row(t('consult.summary.requestedAt'), formatDateTime(summary.requested_at)),
    row(t('consult.summary.firstMessage'), summary.first_message
      ? h('span', { class: 'consult-first-message', text: summary.first_message })
      : h('span', { class: 'hint', text: t('consult.summary.noFirstMessage') })),
    summary.handover ? row(t('consult.summary.handover'), h('span', { class: 'consult-handover', text: summary.handover })) : null,
    summary.appointment ? row(t('appt.summary.booked'), formatBooking(summary.appointment)) : null);
}

/**
 * The crisis contacts inside a consult page. `prominent` (something said suggested it, or
 * the space closed while someone waited) puts them first, in a calm box with a heading.
 */
export function crisisSection(config, { prominent = false, lead = null } = {}) {
  const id = uniqueId('consult-crisis');
  return h('section', { class: ['consult-crisis', prominent && 'is-prominent'], 'aria-labelledby': id },
    h('h2', { id, text: prominent ? t('consult.crisis.titleNow') : t('consult.crisis.title') }),
    h('p', { text: lead || t('crisis.lead') }),
    h('p', { class: 'crisis-urgent', text: t('crisis.urgent') }),
    crisisList(config?.crisis_contacts));
}

/**
 * The queue: whether it is open, how many wait (and how many of them urgently), since when
 * the longest has waited, who is on duty; with `flag`, a button per waiting request to mark
 * it urgent; with `observe`, a button per consult under way (supervisors).
 */
export class QueueView {
  /**
   * @param {object} app  what the modules share (main.js)
   * @param {{titleLevel?: string, flag?: boolean, observe?: boolean, say: (text: string) => void}} options
   */
  constructor(app, { titleLevel = 'h2', flag = false, observe = false, say }) {
    this.app = app;
    this.titleLevel = titleLevel;
    this.flag = flag;
    this.observe = observe;
    this.say = say;
    this.titleId = uniqueId('queue-title');
    this.el = h('section', { class: 'consult-queue', 'aria-labelledby': this.titleId });
  }

  render() {
    const consult = this.app.consult;
    const q = consult?.queue;
    const focusKey = this.el.contains(document.activeElement) ? document.activeElement.dataset?.fkey : null;
    const heading = h(this.titleLevel, { id: this.titleId, text: t('queue.title') });
    const refresh = h('button', { type: 'button', class: 'quiet small', dataset: { fkey: 'refresh' }, text: t('queue.refresh'), on: { click: () => this.refresh() } });
    if (!q) {
      replaceChildren(this.el, heading, h('p', { class: 'hint', text: t('queue.loading') }), refresh);
      return;
    }
    const waitingEntries = q.entries.filter((e) => e.phase === 'waiting');
    const under = q.entries.filter((e) => e.phase !== 'waiting');
    const longestSince = typeof q.longest_wait_ms === 'number' ? q.receivedAt - q.longest_wait_ms : null;
    const me = this.app.me;
    const observing = new Set([...consult.cases.values()].filter((c) => c.observing).map((c) => c.consult));
    replaceChildren(this.el,
      h('div', { class: 'queue-head' }, heading, refresh),
      h('p', { class: ['queue-open', q.open ? 'is-open' : 'is-closed'], text: q.open ? t('queue.open') : t('queue.closed') }),
      h('dl', { class: 'queue-counts' },
        h('div', { class: 'queue-count' }, h('dt', { text: t('queue.waiting') }), h('dd', { text: t('queue.people', { count: q.waiting }) })),
        h('div', { class: 'queue-count' }, h('dt', { text: t('queue.urgent') }), h('dd', { text: t('queue.people', { count: q.urgent }) })),
        h('div', { class: 'queue-count' }, h('dt', { text: t('queue.longest') }),
          h('dd', { text: longestSince === null ? t('queue.none') : t('queue.since', { time: formatTime(longestSince), minutes: minutesText(q.longest_wait_ms) }) })),
        h('div', { class: 'queue-count' }, h('dt', { text: t('queue.underWay') }), h('dd', { text: t('queue.consults', { count: under.length }) }))),
      this.flag ? this.waitingList(waitingEntries) : null,
      this.underWayList(under, (e) => this.observe && e.counsellor?.id !== me.id && !observing.has(e.consult)),
      this.counsellorList(q.counsellors));
    if (focusKey) (this.el.querySelector(`[data-fkey="${CSS.escape(focusKey)}"]`) || this.el.querySelector('[data-fkey="refresh"]'))?.focus();
  }

  waitingList(entries) {
    const id = uniqueId('queue-waiting');
    return h('section', { class: 'queue-part', 'aria-labelledby': id },
      h('h3', { id, text: t('queue.waitingTitle') }),
      entries.length ? h('ul', { class: 'queue-list' }, entries.map((e) => {
        const label = uniqueId('queue-entry');
        return h('li', { class: ['queue-entry', e.urgent && 'is-urgent'], dataset: { consult: String(e.consult) } },
          h('span', { id: label, text: t('queue.entryWaiting', { number: e.consult, time: formatTime(e.since) }) }),
          e.urgent ? h('span', { class: 'badge badge-urgent', text: t('consult.urgent') }) : h('button', {
            type: 'button',
            class: 'small',
            'aria-describedby': label,
            dataset: { fkey: `flag-${e.consult}` },
            text: t('queue.flag'),
            on: { click: () => this.flagEntry(e) },
          }));
      })) : h('p', { class: 'empty', text: t('queue.noneWaiting') }),
      h('p', { class: 'hint', text: t('queue.noContent') }));
  }

  /** The consults under way: who has each and since when; `observable(entry)` gives a button. */
  underWayList(entries, observable) {
    const id = uniqueId('queue-under');
    return h('section', { class: 'queue-part', 'aria-labelledby': id },
      h('h3', { id, text: t('queue.underWayTitle') }),
      this.observe ? h('p', { class: 'hint', text: t('queue.observeHint') }) : null,
      entries.length ? h('ul', { class: 'queue-list' }, entries.map((e) => {
        const label = uniqueId('queue-entry');
        return h('li', { class: 'queue-entry', dataset: { consult: String(e.consult) } },
          h('span', { id: label, text: t(e.phase === 'interrupted' ? 'queue.entryInterrupted' : 'queue.entryActive', { number: e.consult, handle: e.counsellor?.handle || '', time: formatTime(e.since) }) }),
          e.urgent ? h('span', { class: 'badge badge-urgent', text: t('consult.urgent') }) : null,
          observable(e) ? h('button', { type: 'button', class: 'small', 'aria-describedby': label, dataset: { fkey: `observe-${e.consult}` }, text: t('queue.observe'), on: { click: () => this.observeEntry(e) } }) : null);
      })) : h('p', { class: 'empty', text: t('queue.noneUnderWay') }));
  }

  counsellorList(counsellors) {
    const id = uniqueId('queue-counsellors');
    const order = { available: 0, away: 1, offline: 2 };
    const sorted = [...counsellors].sort((a, b) => order[a.availability] - order[b.availability] || a.person.handle.localeCompare(b.person.handle));
    return h('section', { class: 'queue-part', 'aria-labelledby': id },
      h('h3', { id, text: t('queue.counsellorsTitle') }),
      sorted.length ? h('ul', { class: 'queue-list' }, sorted.map((c) => h('li', { class: ['queue-counsellor', `is-${c.availability}`] },
        personLine(c.person),
        h('span', { class: ['availability', `availability-${c.availability}`], text: t(`availability.${c.availability}`) }),
        h('span', { class: 'hint', text: t('queue.load', { active: c.active, capacity: c.capacity }) }),
        c.professions.length ? h('span', { class: 'hint', text: c.professions.map((p) => t(`profession.${p}`)).join(t('list.sep')) }) : null)))
        : h('p', { class: 'empty', text: t('queue.noCounsellors') }));
  }

  async refresh() {
    try {
      await this.app.consult.refreshQueue();
    } catch (err) {
      this.say(requestErrorText(err));
    }
  }

  async flagEntry(entry) {
    try {
      await this.app.consult.flag(entry.consult);
      this.say(t('queue.flagged', { number: entry.consult }));
    } catch (err) {
      this.say(requestErrorText(err));
    }
  }

  async observeEntry(entry) {
    const ok = await confirmDialog({
      title: t('queue.observeConfirmTitle', { number: entry.consult }),
      message: t('queue.observeConfirmText'),
      confirmLabel: t('queue.observe'),
      cancelLabel: t('dialog.cancel'),
    });
    if (!ok) return;
    try {
      await this.app.consult.observe(entry.consult);
      this.say(t('queue.observing', { number: entry.consult }));
    } catch (err) {
      this.say(requestErrorText(err));
    }
  }
}

/**
 * Messages people left to be contacted when no one was free: read, then marked handled.
 * Counsellors see them on their console, staff on the consult page.
 */
export class LeftMessages {
  constructor({ titleLevel = 'h2' } = {}) {
    this.titleLevel = titleLevel;
    this.titleId = uniqueId('left-title');
    this.el = h('section', { class: 'left-messages', 'aria-labelledby': this.titleId });
    this.messages = null;
    this.error = null;
    this.result = null;
    this.load();
  }

  async load() {
    try {
      this.messages = await listLeftMessages();
      this.error = null;
    } catch (err) {
      this.error = err;
    }
    this.render();
  }

  render() {
    const focusKey = this.el.contains(document.activeElement) ? document.activeElement.dataset?.fkey : null;
    let content;
    if (this.error) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.error) });
    else if (!this.messages) content = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.messages.length) content = h('p', { class: 'empty', text: t('left.none') });
    else content = h('ul', { class: 'card-list' }, this.messages.map((m) => this.item(m)));
    replaceChildren(this.el,
      h('div', { class: 'queue-head' },
        h(this.titleLevel, { id: this.titleId, text: t('left.title') }),
        h('button', { type: 'button', class: 'quiet small', dataset: { fkey: 'reload' }, text: t('staffPage.reload'), on: { click: () => this.load() } })),
      h('p', { class: 'hint', text: t('left.lead') }),
      this.result,
      content);
    if (this.result && this.resultFocus) {
      this.resultFocus = false;
      this.result.focus();
    } else if (focusKey) {
      (this.el.querySelector(`[data-fkey="${CSS.escape(focusKey)}"]`) || this.el.querySelector('[data-fkey="reload"]'))?.focus();
    }
  }

  item(m) {
    const titleId = uniqueId('left');
    return h('li', { class: 'app-card left-message', dataset: { consult: String(m.consult) } },
      h('article', { 'aria-labelledby': titleId },
        h('h3', { id: titleId, class: 'left-from' }, personLine(m.requester)),
        h('p', { class: 'app-meta' },
          t(`consult.topic.${m.topic}`), t('list.sep'), t(`consult.forWhom.${m.for_whom}`), ' · ',
          t('left.at', { time: formatDateTime(m.left_at) })),
        h('p', { class: 'app-message', text: m.body }),
        h('div', { class: 'button-row' },
          h('button', { type: 'button', class: 'small', 'aria-describedby': titleId, dataset: { fkey: `handled-${m.consult}` }, text: t('left.handled'), on: { click: () => this.handled(m) } }))));
  }

  async handled(m) {
    try {
      await markMessageHandled(m.consult);
      this.messages = this.messages.filter((x) => x.consult !== m.consult);
      this.result = h('p', { class: 'invite-result', role: 'status', tabindex: '-1', text: t('left.handledDone', { handle: m.requester.handle }) });
    } catch (err) {
      this.result = h('p', { class: 'form-error', role: 'alert', tabindex: '-1', text: requestErrorText(err) });
    }
    // The button pressed is gone: the line that says what happened takes focus.
    this.resultFocus = true;
    this.render();
  }
}
