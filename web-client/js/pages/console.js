// The counsellor's console: whether they take consults now, the request they are offered
// (what it is about, for whom, the first message, a handover note; a countdown to when the
// offer moves on; accept or pass it on), the consults they have, one tab each (the
// conversation, private notes and an outcome, handing on, marking urgent, ending; a consult
// that ended keeps its notes until the tab is closed), the queue (and, for supervisors, the
// consults they may observe — which is recorded and told to both sides), and the messages
// people left when no one was free.

import { charCount, h, replaceChildren } from '../dom.js';
import { confirmDialog, formDialog } from '../dialogs.js';
import { errorText, formatTime, t } from '../i18n.js';
import { NOTES_MAX_CHARS, OUTCOMES, PROFESSIONS } from '../consult.js';
import { LeftMessages, QueueView, summaryList } from '../consult-views.js';
import { pageTitle, requestErrorText } from './common.js';
import { CounsellorBookings, RulesEditor } from '../appointments.js';

// How long a polite announcement waits, so that a region just emptied is read out again.
const ANNOUNCE_DELAY_MS = 60;
// The offer's countdown is said once more when this little time is left.
const OFFER_REMINDER_MS = 15_000;

export class ConsolePage {
  constructor(ctx) {
    this.ctx = ctx;
    this.app = ctx.app;
    this.consult = ctx.app.consult;
    this.el = h('div', { class: 'page console-page' });
    this.live = h('p', { class: 'visually-hidden', role: 'status' });
    this.statusEl = h('section', { class: 'page-card console-status', 'aria-labelledby': 'console-status-title' });
    this.offerEl = h('section', { class: 'page-card console-offer', 'aria-labelledby': 'console-offer-title' });
    this.casesEl = h('section', { class: 'page-card console-cases', 'aria-labelledby': 'console-cases-title' });
    this.queue = new QueueView(this.app, { say: (text) => this.announce(text) });
    this.queueCard = h('div', { class: 'page-card' }, this.queue.el);
    this.messages = new LeftMessages();
    this.messagesCard = h('div', { class: 'page-card' }, this.messages.el);
    this.bookings = new CounsellorBookings(this.app, { say: (text) => this.announce(text) });
    this.rules = new RulesEditor(this.app, { say: (text) => this.announce(text) });
    this.bookings.load();
    this.rules.load();
    this.panels = new Map();
    this.offerTimer = null;
    this.offerReminded = false;
    this.availabilityBusy = false;
    this.availabilityError = null;
    this.unsubscribe = this.consult.subscribe((e) => this.changed(e));
    this.detach = this.consult.attachView('console');
    this.app.dismissNotice('consult');
  }

  destroy() {
    this.unsubscribe();
    this.detach();
    clearInterval(this.offerTimer);
    clearTimeout(this.announceTimer);
    for (const p of this.panels.values()) p.destroy();
    this.panels.clear();
  }

  title() {
    return t('console.title');
  }

  announce(text) {
    clearTimeout(this.announceTimer);
    this.live.textContent = '';
    this.announceTimer = setTimeout(() => { this.live.textContent = text; }, ANNOUNCE_DELAY_MS);
  }

  render() {
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('console.title')),
        h('p', { text: t('console.lead') })),
      this.live,
      this.statusEl,
      this.offerEl,
      this.casesEl,
      this.queueCard,
      this.bookings.el,
      this.rules.el,
      this.messagesCard);
    this.bookings.render();
    this.rules.render();
    this.renderStatus();
    this.renderOffer();
    this.renderCases();
    this.renderQueue();
    this.messages.render();
    for (const p of this.panels.values()) p.rerender();
  }

  changed(e) {
    switch (e.kind) {
      case 'counsellor':
        this.renderStatus();
        this.renderQueue();
        break;
      case 'offer':
        this.renderOffer();
        if (e.fresh && this.consult.offer) this.announce(t('console.offer.arrived', { seconds: this.offerSeconds() }));
        if (e.withdrawn) this.announce(t('console.offer.withdrawn'));
        break;
      case 'cases':
        this.renderCases();
        // Whom one observes is no longer offered to observe.
        this.renderQueue();
        this.caseAnnouncement(e);
        break;
      case 'notes':
        this.renderCases();
        break;
      case 'tab':
        this.renderCases();
        break;
      case 'conversation':
        this.renderCases();
        break;
      case 'queue':
        this.renderQueue();
        break;
      case 'appointment':
        this.bookings.load();
        break;
      case 'presence':
        this.renderCases();
        break;
      default:
        break;
    }
  }

  caseAnnouncement(e) {
    const c = this.consult.cases.get(e.consult);
    if (e.kind === 'cases' && e.added && !e.resumed && c) {
      this.announce(t(c.observing ? 'console.case.observingStarted' : 'console.case.started', { handle: c.summary.requester.handle }));
    } else if (e.kind === 'cases' && e.released && c) {
      this.announce(t(`console.released.${e.released}`, { handle: c.summary.requester.handle }));
    }
  }

  // ---- availability -----------------------------------------------------------------------------

  renderStatus() {
    const me = this.consult.counsellor;
    const focusedId = this.statusEl.contains(document.activeElement) ? document.activeElement.id : null;
    let content;
    if (!me) {
      content = h('p', { class: 'hint', text: t('settings.loading') });
    } else {
      const p = me.profile;
      const current = me.availability === 'available' ? 'available' : 'away';
      const options = ['available', 'away'].map((a, i) => {
        const id = `console-availability-${i}`;
        return h('div', { class: 'radio-option' },
          h('input', {
            type: 'radio',
            id,
            name: 'console-availability',
            value: a,
            checked: current === a,
            disabled: this.availabilityBusy,
            'aria-describedby': `${id}-desc`,
            on: { change: () => this.setAvailability(a) },
          }),
          h('label', { for: id },
            h('span', { class: 'radio-label', text: t(`console.availability.${a}`) }),
            h('span', { class: 'radio-desc', id: `${id}-desc`, text: t(`console.availability.${a}.desc`) })));
      });
      content = [
        h('fieldset', { class: 'field radio-field availability-field' },
          h('legend', { text: t('console.availability.legend') }),
          options),
        this.availabilityError ? h('p', { class: 'form-error', role: 'alert', text: this.availabilityError }) : null,
        h('p', { class: 'hint' },
          t('console.profile', {
            professions: p.professions.length ? p.professions.map((x) => t(`profession.${x}`)).join(t('list.sep')) : t('console.profileNone'),
            capacity: p.capacity,
          }),
          p.supervisor ? [' ', t('console.supervisor')] : null),
      ];
    }
    replaceChildren(this.statusEl, h('h2', { id: 'console-status-title', text: t('console.statusTitle') }), content);
    if (focusedId) this.statusEl.querySelector(`#${CSS.escape(focusedId)}`)?.focus();
  }

  async setAvailability(availability) {
    this.availabilityBusy = true;
    this.availabilityError = null;
    this.renderStatus();
    try {
      await this.consult.setAvailability(availability);
      this.announce(t(`console.availability.now.${availability}`));
    } catch (err) {
      this.availabilityError = requestErrorText(err);
    } finally {
      this.availabilityBusy = false;
      this.renderStatus();
    }
  }

  // ---- the offer --------------------------------------------------------------------------------

  offerLeft() {
    const offer = this.consult.offer;
    if (!offer) return 0;
    return offer.until - (this.app.conn?.serverNow() ?? Date.now());
  }

  offerSeconds() {
    return Math.max(0, Math.ceil(this.offerLeft() / 1000));
  }

  renderOffer() {
    const offer = this.consult.offer;
    const hadFocus = this.offerEl.contains(document.activeElement);
    clearInterval(this.offerTimer);
    this.offerTimer = null;
    const heading = h('h2', { id: 'console-offer-title', tabindex: '-1', text: t('console.offer.title') });
    if (!offer) {
      this.offerEl.classList.remove('has-offer');
      replaceChildren(this.offerEl, heading, h('p', { class: 'empty', text: t('console.offer.none') }));
      if (hadFocus) heading.focus();
      return;
    }
    const s = offer.consult;
    this.offerEl.classList.add('has-offer');
    this.offerReminded = this.offerLeft() <= OFFER_REMINDER_MS;
    this.timerEl = h('p', { class: 'offer-timer', role: 'timer', 'aria-atomic': 'true' });
    this.acceptButton = h('button', { type: 'button', class: 'primary', dataset: { fkey: 'accept' }, text: t('console.offer.accept'), on: { click: () => this.answer(true) } });
    this.declineButton = h('button', { type: 'button', class: 'quiet', dataset: { fkey: 'decline' }, text: t('console.offer.decline'), on: { click: () => this.answer(false) } });
    replaceChildren(this.offerEl,
      heading,
      s.urgent ? h('p', { class: 'consult-urgent-line' }, h('span', { class: 'badge badge-urgent', text: t('consult.urgent') }), ' ', t('console.offer.urgent')) : null,
      s.handover ? h('p', { class: 'hint', text: t('console.offer.handedOn') }) : null,
      summaryList(s),
      this.timerEl,
      h('div', { class: 'button-row' }, this.acceptButton, this.declineButton));
    this.tickOffer();
    this.offerTimer = setInterval(() => this.tickOffer(), 1000);
    if (hadFocus) heading.focus();
  }

  tickOffer() {
    if (!this.consult.offer || !this.timerEl) return;
    const left = this.offerLeft();
    if (left <= 0) {
      this.timerEl.textContent = t('console.offer.lapsed');
      this.acceptButton.disabled = true;
      this.declineButton.disabled = true;
      clearInterval(this.offerTimer);
      this.offerTimer = null;
      return;
    }
    this.timerEl.textContent = t('console.offer.left', { seconds: this.offerSeconds(), time: formatTime(this.consult.offer.until - (this.app.conn?.clockOffset || 0)) });
    if (!this.offerReminded && left <= OFFER_REMINDER_MS) {
      this.offerReminded = true;
      this.announce(t('console.offer.reminder', { seconds: this.offerSeconds() }));
    }
  }

  async answer(accept) {
    const id = this.consult.offer?.consult.consult;
    this.acceptButton.disabled = true;
    this.declineButton.disabled = true;
    try {
      await this.consult.answerOffer(accept);
      if (accept && this.consult.cases.has(id)) {
        this.consult.showCase(id);
        this.panels.get(id)?.focusHeading();
      } else if (!accept) {
        this.announce(t('console.offer.declined'));
      }
    } catch (err) {
      this.announce(requestErrorText(err));
      this.renderOffer();
    }
  }

  // ---- the consults -----------------------------------------------------------------------------

  renderCases() {
    const consult = this.consult;
    const cases = [...consult.cases.values()];
    // Panels are kept while their consult is here, so that a conversation or notes being
    // written are never redrawn under the counsellor's hands.
    for (const [id, panel] of this.panels) {
      if (!consult.cases.has(id)) {
        panel.destroy();
        this.panels.delete(id);
      }
    }
    for (const c of cases) {
      // A consult that came back anew (taken over after observing it, or again after handing
      // it on) gets a fresh panel.
      const old = this.panels.get(c.consult);
      if (old && old.ref !== c) {
        old.destroy();
        this.panels.delete(c.consult);
      }
      if (!this.panels.has(c.consult)) this.panels.set(c.consult, new CasePanel(this, c));
    }
    const active = consult.activeCase;
    const activeConversation = consult.cases.get(active)?.conversation;
    if (activeConversation) activeConversation.unread = false;
    const focusedTab = this.casesEl.contains(document.activeElement) && document.activeElement.getAttribute('role') === 'tab'
      ? Number(document.activeElement.dataset.case) : null;
    const heading = h('h2', { id: 'console-cases-title', tabindex: '-1', text: t('console.casesTitle') });
    if (!cases.length) {
      const hadFocus = this.casesEl.contains(document.activeElement);
      replaceChildren(this.casesEl, heading, h('p', { class: 'empty', text: t('console.noCases') }));
      if (hadFocus) heading.focus();
      return;
    }
    const tabs = cases.map((c) => {
      const selected = c.consult === active;
      const label = c.summary.requester.handle || t('people.deletedMember');
      const state = c.observing ? t('console.tab.observing') : c.released ? t('console.tab.released') : c.summary.urgent ? t('consult.urgent') : null;
      return h('button', {
        type: 'button',
        role: 'tab',
        id: `case-tab-${c.consult}`,
        class: ['case-tab', c.released && 'is-released'],
        'aria-selected': String(selected),
        'aria-controls': `case-panel-${c.consult}`,
        tabindex: selected ? '0' : '-1',
        dataset: { case: String(c.consult) },
        on: { click: () => this.consult.showCase(c.consult), keydown: (e) => this.tabKey(e, c.consult) },
      },
      h('span', { class: 'case-tab-name', text: label }),
      state ? h('span', { class: 'case-tab-state', text: state }) : null,
      c.conversation?.unread && !selected ? h('span', { class: 'dot', role: 'img', 'aria-label': t('console.tab.unread') }) : null);
    });
    const list = h('div', { class: 'case-tabs', role: 'tablist', 'aria-labelledby': 'console-cases-title' }, tabs);
    const panels = cases.map((c) => {
      const panel = this.panels.get(c.consult);
      panel.el.hidden = c.consult !== active;
      return panel.el;
    });
    // The panels stay where they are (moving one would take focus from its composer or notes).
    const existing = this.casesEl.querySelector('.case-tabs');
    if (existing && this.casesEl.firstElementChild?.id === 'console-cases-title') {
      existing.replaceWith(list);
      for (const p of panels) if (p.parentNode !== this.casesEl) this.casesEl.append(p);
    } else {
      replaceChildren(this.casesEl, heading, list, panels);
    }
    for (const c of cases) this.panels.get(c.consult).update();
    if (focusedTab !== null) this.casesEl.querySelector(`#case-tab-${focusedTab}`)?.focus();
    this.panels.get(active)?.conversationShown();
  }

  /** Arrow keys move between the tabs (and show the one reached), Home and End to the ends. */
  tabKey(e, consult) {
    const ids = [...this.consult.cases.keys()];
    const i = ids.indexOf(consult);
    const to = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: ids.length - 1 }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = ids[(to + ids.length) % ids.length];
    this.consult.showCase(next);
    this.casesEl.querySelector(`#case-tab-${next}`)?.focus();
  }

  // ---- the queue --------------------------------------------------------------------------------

  renderQueue() {
    this.queue.observe = Boolean(this.consult.counsellor?.profile.supervisor);
    this.queue.render();
  }
}

/** One consult on the console: its summary, the conversation, the notes, what may be done. */
class CasePanel {
  constructor(page, c) {
    this.page = page;
    this.app = page.app;
    this.consult = page.consult;
    this.id = c.consult;
    this.ref = c;
    this.el = h('section', {
      class: 'case-panel',
      role: 'tabpanel',
      id: `case-panel-${c.consult}`,
      'aria-labelledby': `case-tab-${c.consult}`,
      hidden: true,
    });
    this.head = h('div', { class: 'case-head' });
    this.chat = h('div', { class: 'case-chat' });
    this.notes = c.observing ? null : this.buildNotes(c);
    this.actions = h('div', { class: 'case-actions' });
    // The conversation and the notes side by side where there is room: notes are written while talking.
    this.el.append(this.head, h('div', { class: ['case-work', this.notes && 'has-notes'] }, this.chat, this.notes), this.actions);
  }

  get case() {
    return this.consult.cases.get(this.id);
  }

  destroy() {
    this.el.remove();
  }

  focusHeading() {
    this.head.querySelector('h3')?.focus();
  }

  conversationShown() {
    this.case?.conversation?.timeline.shown();
  }

  /** After a language change: the notes form is built again with what was typed. */
  rerender() {
    const c = this.case;
    if (!c) return;
    if (this.notes) {
      const fresh = this.buildNotes(c);
      this.notes.replaceWith(fresh);
      this.notes = fresh;
    }
    this.update();
  }

  update() {
    const c = this.case;
    if (!c) return;
    const handle = c.summary.requester.handle || t('people.deletedMember');
    const focusKey = this.el.contains(document.activeElement) ? document.activeElement.dataset?.fkey : null;
    const conversation = c.conversation;
    let presence = null;
    if (!c.released && !c.observing && conversation?.joined) {
      presence = h('p', { class: 'hint case-presence', text: t(conversation.present(c.summary.requester.id) ? 'console.case.here' : 'console.case.away', { handle }) });
    }
    replaceChildren(this.head,
      h('h3', { tabindex: '-1', text: t(c.observing ? 'console.case.observingName' : 'console.case.name', { handle }) }),
      h('p', { class: 'case-badges' },
        c.summary.urgent ? h('span', { class: 'badge badge-urgent', text: t('consult.urgent') }) : null, ' ',
        c.observing ? h('span', { class: 'badge', text: t('console.tab.observing') }) : null),
      c.observing ? h('p', { class: 'consult-notice', text: t('console.case.observingNote') }) : null,
      c.observedBy && !c.released ? h('p', { class: 'consult-notice', text: t('console.case.observedBy', { handle: c.observedBy.handle }) }) : null,
      c.released ? h('p', { class: 'consult-notice is-ended', text: t(`console.released.${c.released}.panel`, { handle }) }) : null,
      presence,
      summaryList(c.summary));
    if (conversation && conversation.el.parentNode !== this.chat) replaceChildren(this.chat, conversation.el);
    if (!conversation && !this.chat.querySelector('.case-no-chat')) {
      replaceChildren(this.chat, h('p', { class: 'hint case-no-chat', text: t('console.case.noConversation') }));
    }
    this.updateNotesStatus();
    const buttons = [];
    if (c.observing) {
      buttons.push(h('button', { type: 'button', class: 'quiet', dataset: { fkey: 'stop' }, text: t('console.case.stopObserving'), on: { click: () => this.stopObserving() } }));
    } else if (c.released) {
      buttons.push(h('button', { type: 'button', class: 'quiet', dataset: { fkey: 'close' }, text: t('console.case.close'), on: { click: () => this.close() } }));
    } else {
      buttons.push(
        h('button', { type: 'button', dataset: { fkey: 'transfer' }, text: t('console.case.transfer'), on: { click: () => this.transfer() } }),
        c.summary.urgent ? null : h('button', { type: 'button', dataset: { fkey: 'flag' }, text: t('console.case.flag'), on: { click: () => this.flag() } }),
        h('button', { type: 'button', class: 'quiet danger-text', dataset: { fkey: 'end' }, text: t('console.case.end'), on: { click: () => this.end() } }));
    }
    replaceChildren(this.actions, h('div', { class: 'button-row' }, buttons));
    if (focusKey && !this.notes?.contains(document.activeElement) && !this.chat.contains(document.activeElement)) {
      (this.el.querySelector(`[data-fkey="${CSS.escape(focusKey)}"]`) || this.head.querySelector('h3'))?.focus();
    }
  }

  // ---- notes ------------------------------------------------------------------------------------

  buildNotes(c) {
    const id = `case-notes-${c.consult}`;
    const titleId = `${id}-title`;
    this.counter = h('p', { class: 'counter', id: `${id}-count`, 'aria-live': 'off' });
    this.textarea = h('textarea', {
      id,
      rows: 5,
      'aria-describedby': `${id}-hint ${id}-count`,
      value: c.notes,
      on: {
        input: (e) => {
          this.consult.draft(this.id, { notes: e.target.value });
          this.updateNotesStatus();
        },
      },
    });
    const outcomes = ['', ...OUTCOMES].map((o, i) => {
      const optId = `${id}-outcome-${i}`;
      return h('div', { class: 'radio-option' },
        h('input', {
          type: 'radio',
          id: optId,
          name: `${id}-outcome`,
          value: o,
          checked: (c.outcome || '') === o,
          on: { change: () => { this.consult.draft(this.id, { outcome: o }); this.updateNotesStatus(); } },
        }),
        h('label', { for: optId }, h('span', { class: 'radio-label', text: t(o ? `consult.outcome.${o}` : 'consult.outcome.none') })));
    });
    this.notesStatus = h('p', { class: 'notes-status', role: 'status' });
    this.notesError = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.saveButton = h('button', { type: 'submit', class: 'primary', dataset: { fkey: 'save' }, text: t('console.notes.save') });
    return h('form', {
      class: 'case-notes',
      novalidate: true,
      'aria-labelledby': titleId,
      on: { submit: (e) => { e.preventDefault(); this.saveNotes(); } },
    },
    h('h4', { id: titleId, text: t('console.notes.title') }),
    h('p', { class: 'notes-private', text: t('console.notes.private') }),
    h('div', { class: 'field' },
      h('label', { for: id, text: t('console.notes.label') }),
      h('p', { class: 'hint', id: `${id}-hint`, text: t('console.notes.hint') }),
      this.textarea,
      this.counter),
    h('fieldset', { class: 'field radio-field outcome-field' },
      h('legend', { text: t('console.notes.outcome') }),
      outcomes),
    this.notesError,
    h('div', { class: 'button-row' }, this.saveButton, this.notesStatus));
  }

  unsaved(c = this.case) {
    if (!c) return false;
    const saved = c.saved || { notes: '', outcome: '' };
    return c.notes !== saved.notes || (c.outcome || '') !== (saved.outcome || '');
  }

  updateNotesStatus() {
    const c = this.case;
    if (!this.notes || !c) return;
    const n = charCount(c.notes);
    this.counter.textContent = t('composer.count', { count: n, max: NOTES_MAX_CHARS });
    this.counter.classList.toggle('over', n > NOTES_MAX_CHARS);
    let text = '';
    if (c.saved && !this.unsaved(c)) {
      text = c.saved.at ? t('console.notes.saved', { time: formatTime(c.saved.at) }) : t('console.notes.savedEarlier');
    }
    else if (this.unsaved(c) && (c.notes || c.outcome)) text = t('console.notes.unsaved');
    // Only a change of what it says is read out (not every key typed).
    if (this.notesStatus.textContent !== text) this.notesStatus.textContent = text;
  }

  async saveNotes() {
    const c = this.case;
    if (!c) return;
    this.notesError.hidden = true;
    if (charCount(c.notes) > NOTES_MAX_CHARS) {
      this.notesError.textContent = t('form.error.tooLong', { max: NOTES_MAX_CHARS });
      this.notesError.hidden = false;
      this.textarea.focus();
      return;
    }
    this.saveButton.disabled = true;
    try {
      await this.consult.saveNotes(this.id);
    } catch (err) {
      this.notesError.textContent = err.code === 'too_long' ? t('form.error.tooLong', { max: NOTES_MAX_CHARS }) : errorText(err);
      this.notesError.hidden = false;
    } finally {
      this.saveButton.disabled = false;
      this.updateNotesStatus();
    }
  }

  // ---- what may be done ---------------------------------------------------------------------------

  async transfer() {
    const c = this.case;
    const me = this.app.me.id;
    const counsellors = (this.consult.queue?.counsellors || []).filter((x) => x.person.id !== me);
    const options = [
      { value: 'any', label: t('console.transfer.any'), description: t('console.transfer.anyDesc') },
      ...PROFESSIONS.map((p) => ({ value: `profession:${p}`, label: t('console.transfer.profession', { profession: t(`profession.${p}`) }) })),
      ...counsellors.map((x) => ({
        value: `to:${x.person.id}`,
        label: t('console.transfer.to', { handle: x.person.handle }),
        description: [
          t(`availability.${x.availability}`),
          t('queue.load', { active: x.active, capacity: x.capacity }),
          x.professions.map((p) => t(`profession.${p}`)).join(t('list.sep')),
        ].filter(Boolean).join('・'),
      })),
    ];
    const done = await formDialog({
      title: t('console.transfer.title', { handle: c.summary.requester.handle }),
      intro: t('console.transfer.intro'),
      submitLabel: t('console.transfer.submit'),
      fields: [
        { name: 'target', type: 'radio', label: t('console.transfer.target'), value: 'any', options },
        // Checked on sending, so that an empty note gets the calm words below in the page's language.
        { name: 'note', type: 'textarea', label: t('console.transfer.note'), hint: t('console.transfer.noteHint'), maxLength: NOTES_MAX_CHARS, rows: 4 },
      ],
      onSubmit: async ({ target, note }) => {
        if (!note.trim()) throw new Error(t('console.transfer.noteEmpty'));
        const to = target.startsWith('to:') ? target.slice(3) : null;
        const profession = target.startsWith('profession:') ? target.slice(11) : null;
        try {
          await this.consult.transfer(this.id, { to, profession, note });
        } catch (err) {
          throw new Error(errorText(err));
        }
        return true;
      },
    });
    if (done) this.focusHeading();
  }

  async flag() {
    try {
      await this.consult.flag(this.id);
      this.page.announce(t('console.case.flagged'));
    } catch (err) {
      this.page.announce(requestErrorText(err));
    }
  }

  async end() {
    const ok = await confirmDialog({
      title: t('console.end.title', { handle: this.case.summary.requester.handle }),
      message: t('console.end.text'),
      confirmLabel: t('console.end.confirm'),
      cancelLabel: t('console.end.keep'),
      danger: true,
    });
    if (!ok) return;
    try {
      await this.consult.endCase(this.id);
      this.textarea?.focus();
    } catch (err) {
      this.page.announce(requestErrorText(err));
    }
  }

  async close() {
    if (this.unsaved()) {
      const ok = await confirmDialog({
        title: t('console.close.title'),
        message: t('console.close.text'),
        confirmLabel: t('console.close.confirm'),
        cancelLabel: t('console.close.keep'),
        danger: true,
      });
      if (!ok) return;
    }
    await this.consult.closeCase(this.id);
    (this.page.casesEl.querySelector('[role="tab"][aria-selected="true"]') || this.page.casesEl.querySelector('h2'))?.focus();
  }

  async stopObserving() {
    await this.consult.closeCase(this.id);
    this.page.announce(t('console.case.stoppedObserving'));
    this.page.casesEl.querySelector('h2')?.focus();
  }
}
