// The staff's programme screen: every programme (archived ones too), creating and editing one
// (title, description, category, hosts, the ways to be there, how many may write, age bands,
// an introduction), and its sessions: scheduling one or a series with a preview of the next
// occurrences before saving (those outside opening hours marked: they will not take place),
// changing a schedule, and calling off one occurrence or the rest of a series with a reason
// people are shown.
//
// Hosts are chosen among counsellors, staff and admins. Only admins may list accounts
// (/api/admin/accounts); for other staff the choice is the people this page knows of: the
// staff member, the hosts of the programmes listed, and the counsellors and staff present in
// the rooms they are in.

import {
  archiveProgramme, cancelSession, createProgramme, createSession, getProgramme, getTimetable,
  listAccounts, listAllProgrammes, previewSessions, updateProgramme, updateSession,
} from '../api.js';
import { addDays, dateText, startOfDay, timeText } from '../calendar.js';
import { confirmDialog, formDialog } from '../dialogs.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import {
  FormState, checkboxGroupField, radioField, selectField, submitButton, textField,
} from '../forms.js';
import { GalleryUpload } from '../gallery.js';
import { formatPeriod, spaceTimeZone, t } from '../i18n.js';
import {
  AGE_BANDS, CATEGORIES, MODES, ageBandsText, categoryBadge, hostsText, modesText, phaseBadge,
} from '../programmes.js';
import { pageTitle, requestErrorText } from './common.js';

const WORKS_HERE = ['counsellor', 'staff', 'admin'];
const TITLE_MAX = 100;
const DESCRIPTION_MAX = 2000;
const WEEKDAY_CODES = ['SU', 'MO', 'TU', 'WE', 'TH', 'FR', 'SA'];
const REPEATS = ['none', 'weekly', 'biweekly', 'monthly', 'custom'];
// The timetable answers for at most 62 days: the occurrences that can be called off here.
const AHEAD_DAYS = 60;
const PREVIEW_DELAY_MS = 350;

function fail(err) {
  // Shown inside the dialog, which stays open.
  throw new Error(requestErrorText(err));
}

/** The weekday of a `YYYY-MM-DD` date (0 = Sunday) and its week of the month (1–5). */
function dayOf(date) {
  const d = new Date(`${date}T12:00:00Z`);
  if (Number.isNaN(d.getTime())) return null;
  return { weekday: d.getUTCDay(), nth: Math.ceil(d.getUTCDate() / 7) };
}

/** The RRULE of a repeat choice, counted from the first date. */
function ruleFor(repeat, firstDate, custom) {
  if (repeat === 'custom') return (custom || '').trim();
  const day = dayOf(firstDate);
  if (repeat === 'none' || !day) return '';
  const code = WEEKDAY_CODES[day.weekday];
  if (repeat === 'weekly') return `FREQ=WEEKLY;BYDAY=${code}`;
  if (repeat === 'biweekly') return `FREQ=WEEKLY;INTERVAL=2;BYDAY=${code}`;
  // The fifth week does not come every month: the last one does.
  return `FREQ=MONTHLY;BYDAY=${day.nth === 5 ? '-1' : day.nth}${code}`;
}

/** Which repeat choice a stored rule is. */
function repeatOf(rrule, firstDate) {
  if (!rrule) return 'none';
  return ['weekly', 'biweekly', 'monthly'].find((r) => ruleFor(r, firstDate) === rrule) || 'custom';
}

/** Dates written one after another (spaces, commas). */
function dateList(text) {
  return (text || '').split(/[\s,、，]+/).filter(Boolean);
}

function repeatLabel(repeat, firstDate) {
  const day = dayOf(firstDate);
  const weekday = day ? t(`weekday.${day.weekday}`) : '';
  if (repeat === 'monthly') return day ? t(day.nth === 5 ? 'schedule.repeat.monthlyLast' : 'schedule.repeat.monthly', { nth: day.nth, weekday }) : t('schedule.repeat.monthlyPlain');
  if (repeat === 'weekly' || repeat === 'biweekly') return day ? t(`schedule.repeat.${repeat}`, { weekday }) : t(`schedule.repeat.${repeat}Plain`);
  return t(`schedule.repeat.${repeat}`);
}

export class ProgrammesPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.app = ctx.app;
    this.el = h('div', { class: 'page programmes-page' });
    this.programmes = null;
    this.listError = null;
    // Counsellors, staff and admins this page knows of: the hosts to choose from.
    this.candidates = new Map();
    // What is open below the list: null, {kind: 'new'}, {kind: 'edit', id}, {kind: 'sessions', id}.
    this.detail = null;
    this.result = null;
    this.listEl = h('section', { class: 'page-card', 'aria-labelledby': 'prog-list-title' });
    this.detailEl = h('section', { class: 'page-card programme-detail', 'aria-labelledby': 'prog-detail-title', hidden: true });
    this.programmeForm = null;
    this.gallery = null;
    // The sessions of the programme shown: `{programme, sessions}`, and their occurrences ahead.
    this.sessionsData = null;
    this.sessionsError = null;
    this.occurrences = [];
    this.sessionForm = null;
    this.editingSession = null;
    this.previewTimer = null;
    this.previewSeq = 0;
    this.preview = { state: 'empty', occurrences: [], error: null };
    this.previewStatus = h('p', { class: 'preview-status', role: 'status' });
    this.previewList = h('div', { class: 'preview-list' });
    this.addCandidate(this.app.me);
    for (const s of this.app.rooms?.sessions?.values() || []) for (const m of s.members.values()) this.addCandidate(m.person);
    this.loadList();
    this.loadAccounts();
  }

  destroy() {
    clearTimeout(this.previewTimer);
  }

  title() {
    return t('programmes.title');
  }

  addCandidate(person) {
    if (person?.id && WORKS_HERE.includes(person.role)) this.candidates.set(person.id, person);
  }

  async loadAccounts() {
    if (this.app.me.role !== 'admin') return;
    try {
      for (const a of await listAccounts('', 500)) {
        if (a.status === 'active') this.addCandidate({ id: a.id, handle: a.handle, avatar: a.avatar, role: a.role });
      }
    } catch {
      // The people known otherwise are still offered.
    }
    if (this.programmeForm) this.renderDetail();
  }

  async loadList() {
    try {
      this.programmes = await listAllProgrammes();
      this.listError = null;
      for (const p of this.programmes) for (const host of p.hosts) this.addCandidate(host);
    } catch (err) {
      this.listError = err;
    }
    this.renderList();
  }

  programme(id) {
    return this.programmes?.find((p) => p.id === id) || null;
  }

  render() {
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('programmes.title')),
        h('p', { text: t('programmes.lead') }),
        h('p', { class: 'hint', text: t('programmes.zone', { zone: spaceTimeZone() }) })),
      this.listEl,
      this.detailEl);
    this.renderList();
    this.renderDetail();
  }

  /** A calm line that says what was just done; it takes focus so that it is read out. */
  say(text) {
    this.result = h('p', { class: 'invite-result', role: 'status', tabindex: '-1', text });
    this.renderList();
    this.result.focus();
  }

  // ---- the list -------------------------------------------------------------------------------

  renderList() {
    let content;
    if (this.listError) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.listError) });
    else if (!this.programmes) content = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.programmes.length) content = h('p', { class: 'empty', text: t('programmes.none') });
    else {
      const current = this.programmes.filter((p) => !p.archived);
      const archived = this.programmes.filter((p) => p.archived);
      content = [
        current.length ? h('ul', { class: 'card-list' }, current.map((p) => this.item(p))) : h('p', { class: 'empty', text: t('programmes.noneCurrent') }),
        archived.length ? [
          h('h3', { class: 'archived-title', text: t('programmes.archivedTitle') }),
          h('ul', { class: 'card-list' }, archived.map((p) => this.item(p))),
        ] : null,
      ];
    }
    replaceChildren(this.listEl,
      h('h2', { id: 'prog-list-title', tabindex: '-1', text: t('programmes.listTitle') }),
      h('div', { class: 'toolbar' },
        h('button', { type: 'button', class: 'primary small', text: t('programmes.new'), on: { click: () => this.open({ kind: 'new' }) } }),
        h('button', { type: 'button', class: 'quiet small', text: t('staffPage.reload'), on: { click: () => this.loadList() } })),
      this.result,
      content);
  }

  item(p) {
    const titleId = uniqueId('prog');
    const ages = ageBandsText(p.age_bands);
    const hosts = hostsText(p.hosts);
    return h('li', { class: ['app-card', 'programme-item', p.archived && 'is-archived'], dataset: { programme: p.id } },
      h('article', { 'aria-labelledby': titleId },
        h('h3', { id: titleId, class: 'programme-title', text: p.title }),
        h('p', { class: 'app-meta' },
          categoryBadge(p.category), ' ',
          p.archived ? h('span', { class: 'badge badge-muted', text: t('programmes.archived') }) : null, ' ',
          t('programmes.capacityLine', { capacity: p.capacity })),
        h('p', { class: 'app-meta', text: modesText(p.modes) }),
        ages ? h('p', { class: 'app-meta', text: ages }) : null,
        h('p', { class: 'app-meta', text: hosts || t('programmes.noHosts') }),
        p.archived ? null : h('div', { class: 'button-row' },
          h('button', { type: 'button', class: 'small', text: t('programmes.edit'), 'aria-describedby': titleId, on: { click: () => this.open({ kind: 'edit', id: p.id }) } }),
          h('button', { type: 'button', class: 'primary small', text: t('programmes.sessions'), 'aria-describedby': titleId, on: { click: () => this.open({ kind: 'sessions', id: p.id }) } }),
          h('button', { type: 'button', class: 'quiet small danger-text', text: t('programmes.archive'), 'aria-describedby': titleId, on: { click: () => this.archive(p) } }))));
  }

  async archive(p) {
    const ok = await confirmDialog({
      title: t('programmes.archiveTitle', { title: p.title }),
      message: t('programmes.archiveText'),
      confirmLabel: t('programmes.archive'),
      cancelLabel: t('dialog.cancel'),
      danger: true,
    });
    if (!ok) return;
    try {
      await archiveProgramme(p.id);
      if (this.detail?.id === p.id) this.close();
      await this.loadList();
      this.say(t('programmes.archivedDone', { title: p.title }));
    } catch (err) {
      this.say(requestErrorText(err));
    }
  }

  // ---- below the list: the programme form, or the sessions ---------------------------------------

  open(detail) {
    clearTimeout(this.previewTimer);
    this.detail = detail;
    this.result = null;
    this.programmeForm = null;
    this.gallery = null;
    this.sessionsData = null;
    this.sessionsError = null;
    this.sessionForm = null;
    this.editingSession = null;
    if (detail.kind === 'new' || detail.kind === 'edit') this.programmeForm = this.newProgrammeForm(detail.kind === 'edit' ? this.programme(detail.id) : null);
    if (detail.kind === 'sessions') {
      this.newSessionForm(null);
      this.loadSessions();
    }
    this.renderList();
    this.renderDetail();
    this.detailEl.querySelector('#prog-detail-title')?.focus();
  }

  close() {
    clearTimeout(this.previewTimer);
    this.detail = null;
    this.programmeForm = null;
    this.sessionForm = null;
    this.renderDetail();
    this.listEl.querySelector('#prog-list-title')?.focus();
  }

  renderDetail() {
    const d = this.detail;
    this.detailEl.hidden = !d;
    if (!d) {
      this.detailEl.replaceChildren();
      return;
    }
    if (d.kind === 'sessions') this.renderSessions();
    else this.renderProgrammeForm();
  }

  // ---- creating and editing a programme -----------------------------------------------------------

  newProgrammeForm(p) {
    const link = p?.gallery?.kind === 'link' ? p.gallery.url : '';
    if (p) for (const host of p.hosts) this.addCandidate(host);
    return new FormState('prog', {
      title: p?.title || '',
      description: p?.description || '',
      category: p?.category || 'meal',
      hosts: p ? p.hosts.map((x) => x.id) : [],
      modes: p ? MODES.filter((m) => p.modes.includes(m)) : [...MODES],
      capacity: String(p?.capacity ?? 12),
      age_bands: p ? [...p.age_bands] : [],
      link,
    });
  }

  renderProgrammeForm() {
    const f = this.programmeForm;
    const editing = this.detail.kind === 'edit' ? this.programme(this.detail.id) : null;
    const hostOptions = [...this.candidates.values()]
      .sort((a, b) => a.handle.localeCompare(b.handle))
      .map((p) => ({ value: p.id, label: t('programmes.hostOption', { handle: p.handle, role: t(`role.${p.role}`) }) }));
    const focusKey = this.detailEl.contains(document.activeElement) ? document.activeElement.id : null;
    const maxCapacity = this.app.limits?.default_room_capacity ?? 1000;
    let gallery = null;
    if (editing) {
      if (!this.gallery || this.gallery.programme.id !== editing.id) {
        this.gallery = new GalleryUpload(this.ctx.config.gallery, editing, (changed) => this.programmeChanged(changed));
      }
      gallery = h('section', { class: 'page-section', 'aria-labelledby': 'prog-gallery-title' },
        h('h3', { id: 'prog-gallery-title', text: t('programmes.galleryTitle') }),
        h('p', { class: 'hint', text: t('programmes.galleryLead') }),
        this.gallery.render());
    }
    replaceChildren(this.detailEl,
      h('h2', { id: 'prog-detail-title', tabindex: '-1', text: editing ? t('programmes.editTitle', { title: editing.title }) : t('programmes.newTitle') }),
      h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => this.submitProgramme(e) } },
        textField(f, { name: 'title', label: t('programmes.field.title'), maxLength: TITLE_MAX, max: TITLE_MAX }),
        textField(f, { name: 'description', label: t('programmes.field.description'), hint: t('programmes.field.descriptionHint'), rows: 4, optional: true, max: DESCRIPTION_MAX }),
        radioField(f, { name: 'category', legend: t('programmes.field.category'), options: CATEGORIES.map((c) => ({ value: c, label: t(`category.${c}`) })) }),
        checkboxGroupField(f, {
          name: 'hosts',
          legend: t('programmes.field.hosts'),
          optional: true,
          hint: this.app.me.role === 'admin' ? t('programmes.field.hostsHintAdmin') : t('programmes.field.hostsHint'),
          options: hostOptions,
        }),
        checkboxGroupField(f, {
          name: 'modes',
          legend: t('programmes.field.modes'),
          hint: t('programmes.field.modesHint'),
          options: MODES.map((m) => ({ value: m, label: t(`mode.${m}`), description: m === 'participant' ? t('mode.participant.programme') : t(`mode.${m}.desc`) })),
        }),
        textField(f, { name: 'capacity', type: 'number', inputmode: 'numeric', label: t('programmes.field.capacity'), hint: t('programmes.field.capacityHint', { max: maxCapacity }), minValue: 1, maxValue: maxCapacity }),
        checkboxGroupField(f, {
          name: 'age_bands',
          legend: t('programmes.field.ageBands'),
          optional: true,
          hint: t('programmes.field.ageBandsHint'),
          options: AGE_BANDS.map((b) => ({ value: b, label: t(`age.${b}`) })),
        }),
        textField(f, { name: 'link', type: 'url', inputmode: 'url', label: t('programmes.field.link'), hint: t('programmes.field.linkHint'), optional: true, spellcheck: false, maxLength: 2000 }),
        f.formErrorNode(),
        h('div', { class: 'button-row' },
          submitButton(f, editing ? t('programmes.save') : t('programmes.create'), t('programmes.saving')),
          h('button', { type: 'button', class: 'quiet', text: t('dialog.cancel'), on: { click: () => this.close() } }))),
      gallery);
    if (focusKey) this.detailEl.querySelector(`#${CSS.escape(focusKey)}`)?.focus();
  }

  /** The programme as the server now has it (after an upload, say). */
  programmeChanged(p) {
    const i = this.programmes?.findIndex((x) => x.id === p.id) ?? -1;
    if (i >= 0) this.programmes[i] = p;
  }

  async submitProgramme(e) {
    e.preventDefault();
    const f = this.programmeForm;
    if (f.busy) return;
    const v = f.values;
    f.clearErrors();
    const title = v.title.trim();
    const capacity = Number(v.capacity);
    const maxCapacity = this.app.limits?.default_room_capacity ?? 1000;
    if (!title) f.setError('title', () => t('programmes.error.title'));
    else if ([...title].length > TITLE_MAX) f.setError('title', () => t('form.error.tooLong', { max: TITLE_MAX }));
    if ([...v.description].length > DESCRIPTION_MAX) f.setError('description', () => t('form.error.tooLong', { max: DESCRIPTION_MAX }));
    if (!v.modes.length) f.setError('modes', () => t('programmes.error.modes'));
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > maxCapacity) f.setError('capacity', () => t('programmes.error.capacity', { max: maxCapacity }));
    const link = v.link.trim();
    if (link && !/^https:\/\/\S+$/.test(link)) f.setError('link', () => t('programmes.error.link'));
    if (f.hasErrors()) {
      this.renderProgrammeForm();
      f.focusFirstError(this.detailEl);
      return;
    }
    const body = {
      title,
      description: v.description.trim(),
      category: v.category,
      hosts: v.hosts,
      modes: v.modes,
      capacity,
      age_bands: v.age_bands,
    };
    if (link) body.link = link;
    const editing = this.detail.kind === 'edit' ? this.detail.id : null;
    f.busy = true;
    this.renderProgrammeForm();
    try {
      const saved = editing ? await updateProgramme(editing, body) : await createProgramme(body);
      f.busy = false;
      await this.loadList();
      if (editing) {
        this.close();
        this.say(t('programmes.saved', { title: saved.title }));
      } else {
        // Next: when it happens.
        this.open({ kind: 'sessions', id: saved.id });
      }
    } catch (err) {
      f.busy = false;
      const known = ['title', 'description', 'hosts', 'modes', 'capacity', 'link'];
      if (known.includes(err.field)) f.setError(err.field, () => this.fieldError(err));
      else f.setFormError(() => requestErrorText(err));
      this.renderProgrammeForm();
      f.focusFirstError(this.detailEl);
    }
  }

  fieldError(err) {
    if (err.code === 'too_long') return t('programmes.error.tooLong');
    if (err.field === 'link') return err.code === 'not_allowed' ? t('programmes.error.linkOff') : t('programmes.error.link');
    if (err.field === 'capacity') return t('programmes.error.capacity', { max: this.app.limits?.default_room_capacity ?? 1000 });
    return t(`programmes.error.${err.field}`);
  }

  // ---- sessions ----------------------------------------------------------------------------------

  async loadSessions() {
    const id = this.detail?.id;
    try {
      const now = Date.now();
      const from = startOfDay(now);
      const [data, table] = await Promise.all([getProgramme(id), getTimetable(from, addDays(from, AHEAD_DAYS))]);
      if (this.detail?.id !== id) return;
      this.sessionsData = data;
      this.occurrences = table.entries.filter((e) => e.programme === id && e.end > now);
      this.sessionsError = null;
    } catch (err) {
      this.sessionsError = err;
    }
    if (this.detail?.kind === 'sessions') this.renderSessions();
  }

  newSessionForm(session) {
    this.editingSession = session;
    const now = Date.now();
    const firstDate = session?.first_date || dateText(now);
    this.sessionForm = new FormState('sched', {
      first_date: firstDate,
      start: session?.start || timeText(now + 60 * 60_000).replace(/:\d\d$/, ':00'),
      minutes: String(session?.minutes ?? 60),
      repeat: repeatOf(session?.rrule || '', firstDate),
      rrule: session?.rrule || '',
      except_dates: (session?.except_dates || []).join(' '),
      extra_dates: (session?.extra_dates || []).join(' '),
      open_before_minutes: String(session?.open_before_minutes ?? 10),
      warn_before_minutes: String(session?.warn_before_minutes ?? 5),
    });
    this.preview = { state: 'empty', occurrences: [], error: null };
    this.schedulePreview(0);
  }

  /** The schedule as the server takes it, or null while something needed is missing. */
  sessionBody() {
    const v = this.sessionForm.values;
    const int = (x) => (/^\d+$/.test(String(x).trim()) ? Number(x) : NaN);
    const body = {
      first_date: v.first_date.trim(),
      start: v.start.trim().slice(0, 5),
      minutes: int(v.minutes),
      rrule: ruleFor(v.repeat, v.first_date.trim(), v.rrule),
      except_dates: [],
      extra_dates: [],
      open_before_minutes: int(v.open_before_minutes),
      warn_before_minutes: int(v.warn_before_minutes),
    };
    if (body.rrule) {
      body.except_dates = dateList(v.except_dates);
      body.extra_dates = dateList(v.extra_dates);
    }
    return body;
  }

  /** What is missing or wrong before asking the server, per field; empty when fine. */
  sessionProblems(body) {
    const problems = {};
    if (!/^\d{4}-\d{2}-\d{2}$/.test(body.first_date)) problems.first_date = () => t('schedule.error.date');
    if (!/^\d{2}:\d{2}$/.test(body.start)) problems.start = () => t('schedule.error.time');
    if (!(body.minutes >= 1 && body.minutes <= 24 * 60)) problems.minutes = () => t('schedule.error.minutes');
    if (this.sessionForm.values.repeat === 'custom' && !body.rrule) problems.rrule = () => t('schedule.error.rrule');
    if (!Number.isInteger(body.open_before_minutes)) problems.open_before_minutes = () => t('schedule.error.number');
    if (!Number.isInteger(body.warn_before_minutes)) problems.warn_before_minutes = () => t('schedule.error.number');
    for (const name of ['except_dates', 'extra_dates']) {
      if (body[name].some((d) => !/^\d{4}-\d{2}-\d{2}$/.test(d))) problems[name] = () => t('schedule.error.dates');
    }
    return problems;
  }

  /** Asks for the next occurrences a moment after the last change. */
  schedulePreview(delay = PREVIEW_DELAY_MS) {
    clearTimeout(this.previewTimer);
    this.previewTimer = setTimeout(() => this.runPreview(), delay);
  }

  async runPreview() {
    if (!this.sessionForm) return;
    const body = this.sessionBody();
    const seq = ++this.previewSeq;
    if (Object.keys(this.sessionProblems(body)).length) {
      this.preview = { state: 'empty', occurrences: [], error: null };
      this.renderPreview();
      return;
    }
    this.preview = { ...this.preview, state: 'loading' };
    this.renderPreview();
    try {
      const { occurrences } = await previewSessions(body);
      if (seq !== this.previewSeq) return;
      this.preview = { state: 'ready', occurrences, error: null };
    } catch (err) {
      if (seq !== this.previewSeq) return;
      this.preview = { state: 'error', occurrences: [], error: err };
    }
    this.renderPreview();
  }

  renderPreview() {
    const p = this.preview;
    let status = '';
    if (p.state === 'empty') status = t('schedule.previewEmpty');
    else if (p.state === 'loading') status = t('schedule.previewLoading');
    else if (p.state === 'error') status = p.error?.field === 'schedule' ? t('schedule.error.schedule') : requestErrorText(p.error);
    else if (!p.occurrences.length) status = t('schedule.previewNone');
    else {
      const outside = p.occurrences.filter((o) => o.outside_hours).length;
      status = t('schedule.previewSummary', { count: p.occurrences.length, held: p.occurrences.length - outside, outside });
    }
    if (this.previewStatus.textContent !== status) this.previewStatus.textContent = status;
    this.previewStatus.classList.toggle('is-error', p.state === 'error');
    if (p.state === 'loading') return;
    replaceChildren(this.previewList, p.occurrences.length ? h('ol', { class: 'preview-occurrences' },
      p.occurrences.map((o) => h('li', { class: ['preview-occurrence', o.outside_hours && 'outside'], dataset: { start: String(o.start), outside: String(o.outside_hours) } },
        h('span', { class: 'preview-when', text: formatPeriod(o) }),
        o.outside_hours ? h('span', { class: 'outside-note', text: t('schedule.outsideHours') }) : null))) : null);
  }

  renderSessions() {
    const data = this.sessionsData;
    const p = data?.programme || this.programme(this.detail.id);
    const focusId = this.detailEl.contains(document.activeElement) ? document.activeElement.id : null;
    let list;
    if (this.sessionsError) list = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.sessionsError) });
    else if (!data) list = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!data.sessions.length) list = h('p', { class: 'empty', text: t('schedule.none') });
    else list = h('ul', { class: 'card-list' }, data.sessions.map((s) => this.sessionItem(s, p)));
    replaceChildren(this.detailEl,
      h('h2', { id: 'prog-detail-title', tabindex: '-1', text: t('schedule.title', { title: p?.title || '' }) }),
      h('p', { class: 'hint', text: t('schedule.lead') }),
      list,
      this.renderSessionForm(),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'quiet', text: t('schedule.back'), on: { click: () => this.close() } })));
    this.renderPreview();
    if (focusId) this.detailEl.querySelector(`#${CSS.escape(focusId)}`)?.focus();
  }

  scheduleText(s) {
    const repeat = repeatOf(s.rrule, s.first_date);
    const lines = [t('schedule.summary', {
      date: s.first_date,
      start: s.start,
      minutes: s.minutes,
      repeat: repeat === 'custom' ? t('schedule.repeat.customRule', { rule: s.rrule }) : repeatLabel(repeat, s.first_date),
    })];
    lines.push(t('schedule.summaryRoom', { open: s.open_before_minutes, warn: s.warn_before_minutes }));
    if (s.rrule && s.except_dates.length) lines.push(t('schedule.summaryExcept', { dates: s.except_dates.join(t('list.sep')) }));
    if (s.rrule && s.extra_dates.length) lines.push(t('schedule.summaryExtra', { dates: s.extra_dates.join(t('list.sep')) }));
    return lines;
  }

  sessionItem(s, p) {
    const titleId = uniqueId('sess');
    const [first, ...rest] = this.scheduleText(s);
    const ahead = this.occurrences.filter((o) => o.session === s.id);
    return h('li', { class: 'app-card session-item', dataset: { session: s.id } },
      h('article', { 'aria-labelledby': titleId },
        h('h3', { id: titleId, class: 'session-title', text: first }),
        rest.map((line) => h('p', { class: 'app-meta', text: line })),
        s.cancelled ? h('p', { class: 'cancel-reason', text: t('schedule.seriesCancelled', { reason: s.cancelled }) }) : null,
        h('h4', { text: t('schedule.ahead') }),
        ahead.length ? h('ul', { class: 'occurrence-list' }, ahead.map((o) => this.occurrenceItem(s, p, o, titleId)))
          : h('p', { class: 'hint', text: t('schedule.noneAhead', { days: AHEAD_DAYS }) }),
        s.cancelled ? null : h('div', { class: 'button-row' },
          h('button', { type: 'button', class: 'small', text: t('schedule.edit'), 'aria-describedby': titleId, on: { click: () => this.editSession(s) } }),
          h('button', { type: 'button', class: 'small danger-text', text: t('schedule.cancelSeries'), 'aria-describedby': titleId, on: { click: () => this.cancelSeries(s, p) } }))));
  }

  occurrenceItem(s, p, o, titleId) {
    const when = formatPeriod(o);
    const cancelled = o.phase === 'cancelled';
    return h('li', { class: 'occurrence', dataset: { start: String(o.start), phase: o.phase } },
      h('span', { class: 'occurrence-when', text: when }), ' ',
      phaseBadge(o.phase, o.start),
      cancelled && o.cancel_reason ? h('span', { class: 'cancel-reason', text: t('timetable.cancelReason', { reason: o.cancel_reason }) }) : null,
      cancelled ? null : h('button', {
        type: 'button',
        class: 'quiet small danger-text',
        text: t('schedule.cancelOne'),
        'aria-label': t('schedule.cancelOneLabel', { when }),
        'aria-describedby': titleId,
        on: { click: () => this.cancelOne(s, p, o) },
      }));
  }

  reasonField() {
    return { name: 'reason', type: 'textarea', label: t('schedule.cancelReason'), hint: t('schedule.cancelReasonHint'), required: true, maxLength: this.app.limits?.reason_max_chars ?? 500, rows: 3 };
  }

  async cancelOne(s, p, o) {
    const when = formatPeriod(o);
    await this.cancel(s, {
      title: t('schedule.cancelOneTitle', { title: p.title, when }),
      intro: t('schedule.cancelIntro'),
      start: o.start,
      done: t('schedule.cancelledOne', { when }),
    });
  }

  async cancelSeries(s, p) {
    await this.cancel(s, {
      title: t('schedule.cancelSeriesTitle', { title: p.title }),
      intro: t('schedule.cancelSeriesIntro'),
      done: t('schedule.cancelledSeries'),
    });
  }

  /** Calls off one occurrence (`start`) or the rest of a series, with a reason. */
  async cancel(s, { title, intro, start, done: doneText }) {
    const done = await formDialog({
      title,
      intro,
      submitLabel: t('schedule.cancelSubmit'),
      danger: true,
      fields: [this.reasonField()],
      onSubmit: (v) => {
        const reason = v.reason.trim();
        if (!reason) throw new Error(t('schedule.error.reason'));
        const body = start === undefined ? { reason } : { start, reason };
        return cancelSession(s.id, body).then(() => true).catch(fail);
      },
    });
    if (!done) return;
    await this.loadSessions();
    this.sayInDetail(doneText);
  }

  sayInDetail(text) {
    const line = h('p', { class: 'invite-result', role: 'status', tabindex: '-1', text });
    this.detailEl.querySelector('#prog-detail-title')?.after(line);
    line.focus();
  }

  editSession(s) {
    this.newSessionForm(s);
    this.renderSessions();
    this.detailEl.querySelector('#sched-form-title')?.focus();
  }

  renderSessionForm() {
    const f = this.sessionForm;
    const v = f.values;
    const repeating = v.repeat !== 'none';
    const changed = () => this.schedulePreview();
    const field = (opts) => textField(f, { onInput: changed, ...opts });
    const editing = this.editingSession;
    return h('section', { class: 'page-section session-form', 'aria-labelledby': 'sched-form-title' },
      h('h3', { id: 'sched-form-title', tabindex: '-1', text: editing ? t('schedule.editTitle') : t('schedule.addTitle') }),
      h('div', { class: 'schedule-grid' },
        h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => this.submitSession(e) } },
          h('div', { class: 'field-row' },
            field({ name: 'first_date', type: 'date', label: t('schedule.field.firstDate'), onInput: (value) => { this.relabelRepeat(value); changed(); } }),
            field({ name: 'start', type: 'time', label: t('schedule.field.start') }),
            field({ name: 'minutes', type: 'number', inputmode: 'numeric', label: t('schedule.field.minutes'), minValue: 1, maxValue: 1440 })),
          selectField(f, {
            name: 'repeat',
            label: t('schedule.field.repeat'),
            options: REPEATS.map((r) => ({ value: r, label: repeatLabel(r, v.first_date) })),
            onChange: () => {
              this.renderSessions();
              this.detailEl.querySelector(`#${f.id('repeat')}`)?.focus();
              changed();
            },
          }),
          v.repeat === 'custom' ? field({ name: 'rrule', label: t('schedule.field.rrule'), hint: t('schedule.field.rruleHint'), spellcheck: false, maxLength: 500 }) : null,
          repeating ? field({ name: 'except_dates', label: t('schedule.field.except'), hint: t('schedule.field.datesHint'), optional: true, spellcheck: false }) : null,
          repeating ? field({ name: 'extra_dates', label: t('schedule.field.extra'), hint: t('schedule.field.datesHint'), optional: true, spellcheck: false }) : null,
          h('div', { class: 'field-row' },
            field({ name: 'open_before_minutes', type: 'number', inputmode: 'numeric', label: t('schedule.field.openBefore'), hint: t('schedule.field.openBeforeHint'), minValue: 0, maxValue: 240 }),
            field({ name: 'warn_before_minutes', type: 'number', inputmode: 'numeric', label: t('schedule.field.warnBefore'), hint: t('schedule.field.warnBeforeHint'), minValue: 0, maxValue: 240 })),
          f.formErrorNode(),
          h('div', { class: 'button-row' },
            submitButton(f, editing ? t('schedule.saveChange') : t('schedule.save'), t('programmes.saving')),
            editing ? h('button', { type: 'button', class: 'quiet', text: t('schedule.cancelEdit'), on: { click: () => this.editSession(null) } }) : null)),
        h('section', { class: 'schedule-preview', 'aria-labelledby': 'sched-preview-title' },
          h('h4', { id: 'sched-preview-title', text: t('schedule.previewTitle') }),
          h('p', { class: 'hint', text: t('schedule.previewLead') }),
          this.previewStatus,
          this.previewList)));
  }

  /** The repeat choices name the weekday of the first date. */
  relabelRepeat(firstDate) {
    const select = this.detailEl.querySelector(`#${this.sessionForm.id('repeat')}`);
    if (!select) return;
    for (const option of select.options) option.textContent = repeatLabel(option.value, firstDate);
  }

  async submitSession(e) {
    e.preventDefault();
    const f = this.sessionForm;
    if (f.busy) return;
    f.clearErrors();
    const body = this.sessionBody();
    for (const [name, problem] of Object.entries(this.sessionProblems(body))) f.setError(name, problem);
    if (f.hasErrors()) {
      this.renderSessions();
      f.focusFirstError(this.detailEl);
      return;
    }
    const editing = this.editingSession;
    f.busy = true;
    this.renderSessions();
    try {
      if (editing) await updateSession(editing.id, body);
      else await createSession(this.detail.id, body);
      f.busy = false;
      this.newSessionForm(null);
      await this.loadSessions();
      this.sayInDetail(editing ? t('schedule.changed') : t('schedule.added'));
    } catch (err) {
      f.busy = false;
      if (err.field === 'schedule') f.setFormError(() => t('schedule.error.schedule'));
      else f.setFormError(() => requestErrorText(err));
      this.renderSessions();
      this.detailEl.querySelector('.session-form .form-error')?.setAttribute('tabindex', '-1');
      this.detailEl.querySelector('.session-form .form-error')?.focus();
    }
  }
}
