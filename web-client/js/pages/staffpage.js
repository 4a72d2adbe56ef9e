// The staff page: applications (invite, decline with a message, archive), inviting someone
// directly, and the invitations with their state (revoke a pending one). Staff invite
// participants and family; admins also counsellors, staff and admins. The server checks every
// call; this page only leaves out what the role cannot do.

import {
  createInvitation, decideApplication, listApplications, listInvitations, revokeInvitation,
} from '../api.js';
import { confirmDialog, formDialog } from '../dialogs.js';
import { h, replaceChildren, uniqueId } from '../dom.js';
import { FormState, checkboxField, radioField, selectField, submitButton, textField } from '../forms.js';
import { getLang, t } from '../i18n.js';
import { dateTime, invitationResult, pageTitle, requestErrorText } from './common.js';

const STATUSES = ['pending', 'invited', 'declined', 'archived'];
const PROFESSIONS = ['clinical_psychologist', 'social_worker', 'other'];

function fail(err) {
  // Shown inside the dialog, which stays open.
  throw new Error(requestErrorText(err));
}

export class StaffPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'page staff-page' });
    this.isAdmin = ctx.app.me.role === 'admin';
    this.status = 'pending';
    this.applications = null;
    this.applicationsError = null;
    this.applicationResult = null;
    this.invitations = null;
    this.invitationsError = null;
    this.inviteForm = new FormState('invite', { email: '', role: 'participant', profession: 'clinical_psychologist', supervisor: false, lang: getLang() });
    this.inviteResult = null;
    this.appsEl = h('section', { class: 'page-card', 'aria-labelledby': 'staff-apps-title' });
    this.inviteEl = h('section', { class: 'page-card', 'aria-labelledby': 'staff-invite-title' });
    this.invitationsEl = h('section', { class: 'page-card', 'aria-labelledby': 'staff-invitations-title' });
    this.loadApplications();
    this.loadInvitations();
  }

  title() {
    return t('staffPage.title');
  }

  render() {
    this.renderApplications();
    this.renderInvite();
    this.renderInvitations();
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('staffPage.title')),
        h('p', { text: t('staffPage.lead') })),
      this.appsEl, this.inviteEl, this.invitationsEl);
  }

  // ---- applications ---------------------------------------------------------------------------

  async loadApplications() {
    try {
      this.applications = await listApplications(this.status);
      this.applicationsError = null;
    } catch (err) {
      this.applicationsError = err;
    }
    this.renderApplications();
  }

  renderApplications() {
    const selectId = 'staff-app-status';
    let list;
    if (this.applicationsError) list = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.applicationsError) });
    else if (!this.applications) list = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.applications.length) list = h('p', { class: 'empty', text: t(`staffPage.noApplications.${this.status}`) });
    else list = h('ul', { class: 'card-list' }, this.applications.map((a) => this.applicationItem(a)));
    replaceChildren(this.appsEl,
      h('h2', { id: 'staff-apps-title', text: t('staffPage.applicationsTitle') }),
      h('div', { class: 'toolbar' },
        h('label', { for: selectId, text: t('staffPage.showStatus') }),
        h('select', { id: selectId, on: { change: (e) => { this.status = e.target.value; this.applications = null; this.renderApplications(); this.loadApplications(); } } },
          STATUSES.map((s) => h('option', { value: s, selected: s === this.status ? true : null, text: t(`appStatus.${s}`) }))),
        h('button', { type: 'button', class: 'quiet small', text: t('staffPage.reload'), on: { click: () => this.loadApplications() } })),
      this.applicationResult,
      list);
  }

  applicationItem(a) {
    const titleId = uniqueId('app');
    const pending = a.status === 'pending';
    return h('li', { class: 'app-card', dataset: { application: a.id } },
      h('article', { 'aria-labelledby': titleId },
        h('h3', { id: titleId, class: 'app-email', text: a.email }),
        h('p', { class: 'app-meta' },
          h('span', { class: 'badge', text: t(`relation.${a.relation}`) }), ' ',
          t('staffPage.appliedAt', { time: dateTime(a.created_at) }), ' · ',
          t('staffPage.appLang', { lang: t(`lang.${a.lang}`, {}, a.lang) }),
          pending ? null : [' · ', t(`appStatus.${a.status}`)]),
        a.message
          ? h('p', { class: 'app-message', text: a.message })
          : h('p', { class: 'app-message empty', text: t('staffPage.noMessage') }),
        h('p', { class: 'hint', text: t('staffPage.purgeAt', { time: dateTime(a.purge_at) }) }),
        pending ? h('div', { class: 'button-row' },
          h('button', { type: 'button', class: 'primary small', text: t('staffPage.invite'), 'aria-describedby': titleId, on: { click: () => this.inviteApplicant(a) } }),
          h('button', { type: 'button', class: 'small', text: t('staffPage.decline'), 'aria-describedby': titleId, on: { click: () => this.decline(a) } }),
          h('button', { type: 'button', class: 'quiet small', text: t('staffPage.archive'), 'aria-describedby': titleId, on: { click: () => this.archive(a) } })) : null));
  }

  async inviteApplicant(a) {
    const invited = await formDialog({
      title: t('staffPage.inviteTitle', { email: a.email }),
      intro: this.ctx.config.mail ? t('staffPage.inviteIntroMail') : t('staffPage.inviteIntroLink'),
      submitLabel: t('staffPage.invite'),
      fields: [{
        name: 'role',
        type: 'radio',
        label: t('staffPage.role'),
        value: a.relation === 'family' ? 'family' : 'participant',
        options: ['participant', 'family'].map((r) => ({ value: r, label: t(`role.${r}`), description: t(`role.${r}.desc`) })),
      }],
      onSubmit: (v) => decideApplication(a.id, 'invite', { role: v.role }).catch(fail),
    });
    if (!invited || invited === true) return;
    this.showApplicationResult(invitationResult(invited, a.email));
    this.loadApplications();
    this.loadInvitations();
  }

  async decline(a) {
    const max = this.ctx.config.limits?.application_message_max_chars ?? 2000;
    const done = await formDialog({
      title: t('staffPage.declineTitle', { email: a.email }),
      intro: this.ctx.config.mail ? t('staffPage.declineIntroMail') : t('staffPage.declineIntroNoMail'),
      submitLabel: t('staffPage.declineSubmit'),
      fields: [{ name: 'message', type: 'textarea', label: t('staffPage.declineMessage'), required: true, maxLength: max, rows: 5, value: t('staffPage.declineTemplate') }],
      onSubmit: (v) => {
        if (!v.message.trim()) throw new Error(t('staffPage.declineEmpty'));
        return decideApplication(a.id, 'decline', { message: v.message.trim() }).catch(fail);
      },
    });
    if (!done) return;
    this.showApplicationResult(h('p', { class: 'invite-result', role: 'status', tabindex: '-1', text: done.mailed ? t('staffPage.declinedMailed', { email: a.email }) : t('staffPage.declinedNoMail', { email: a.email }) }));
    this.loadApplications();
  }

  async archive(a) {
    const ok = await formDialog({
      title: t('staffPage.archiveTitle', { email: a.email }),
      intro: t('staffPage.archiveIntro'),
      submitLabel: t('staffPage.archive'),
      onSubmit: () => decideApplication(a.id, 'archive').then(() => true).catch(fail),
    });
    if (!ok) return;
    this.showApplicationResult(h('p', { class: 'invite-result', role: 'status', tabindex: '-1', text: t('staffPage.archived', { email: a.email }) }));
    this.loadApplications();
  }

  showApplicationResult(node) {
    this.applicationResult = node;
    this.renderApplications();
    node.focus();
  }

  // ---- inviting directly --------------------------------------------------------------------

  roles() {
    return this.isAdmin ? ['participant', 'family', 'counsellor', 'staff', 'admin'] : ['participant', 'family'];
  }

  renderInvite() {
    const f = this.inviteForm;
    const counsellor = f.values.role === 'counsellor';
    const rerender = () => { this.renderInvite(); };
    replaceChildren(this.inviteEl,
      h('h2', { id: 'staff-invite-title', text: t('staffPage.inviteDirectTitle') }),
      h('p', { text: this.isAdmin ? t('staffPage.inviteDirectLeadAdmin') : t('staffPage.inviteDirectLead') }),
      h('form', { class: 'page-form', novalidate: true, on: { submit: (e) => this.submitInvite(e) } },
        textField(f, { name: 'email', label: t('staffPage.email'), type: 'email', autocomplete: 'off', inputmode: 'email', spellcheck: false, maxLength: 254 }),
        radioField(f, {
          name: 'role',
          legend: t('staffPage.role'),
          options: this.roles().map((r) => ({ value: r, label: t(`role.${r}`), description: t(`role.${r}.desc`) })),
          onChange: () => { rerender(); this.inviteEl.querySelector(`input[name="${f.id('role')}"]:checked`)?.focus(); },
        }),
        counsellor ? selectField(f, { name: 'profession', label: t('staffPage.profession'), options: PROFESSIONS.map((p) => ({ value: p, label: t(`profession.${p}`) })) }) : null,
        counsellor ? checkboxField(f, { name: 'supervisor', label: t('staffPage.supervisor'), hint: t('staffPage.supervisorHint') }) : null,
        selectField(f, { name: 'lang', label: t('staffPage.mailLang'), options: [{ value: 'ja', label: t('lang.ja') }, { value: 'en', label: t('lang.en') }] }),
        f.formErrorNode(),
        submitButton(f, t('staffPage.inviteSubmit'), t('staffPage.inviting'))),
      this.inviteResult);
  }

  async submitInvite(e) {
    e.preventDefault();
    const f = this.inviteForm;
    if (f.busy) return;
    const v = f.values;
    f.clearErrors();
    const email = v.email.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) f.setError('email', () => t('apply.error.email'));
    if (f.hasErrors()) {
      this.renderInvite();
      f.focusFirstError(this.inviteEl);
      return;
    }
    const body = { email, role: v.role, lang: v.lang };
    if (v.role === 'counsellor') {
      body.profession = v.profession;
      body.supervisor = Boolean(v.supervisor);
    }
    f.busy = true;
    this.inviteResult = null;
    this.renderInvite();
    try {
      const invited = await createInvitation(body);
      f.busy = false;
      f.values.email = '';
      this.inviteResult = invitationResult(invited, email);
      this.renderInvite();
      this.inviteResult.focus();
      this.loadInvitations();
    } catch (err) {
      f.busy = false;
      if (err.field === 'email') f.setError('email', () => t('apply.error.email'));
      else if (err.field === 'profession') f.setError('profession', () => t('staffPage.professionNeeded'));
      else f.setFormError(() => requestErrorText(err));
      this.renderInvite();
      f.focusFirstError(this.inviteEl);
    }
  }

  // ---- invitations ------------------------------------------------------------------------------

  async loadInvitations() {
    try {
      this.invitations = await listInvitations();
      this.invitationsError = null;
    } catch (err) {
      this.invitationsError = err;
    }
    this.renderInvitations();
  }

  renderInvitations() {
    let content;
    if (this.invitationsError) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.invitationsError) });
    else if (!this.invitations) content = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.invitations.length) content = h('p', { class: 'empty', text: t('staffPage.noInvitations') });
    else {
      content = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('table.label', { title: t('staffPage.invitationsTitle') }) },
        h('table', { class: 'data-table' },
          h('thead', {}, h('tr', {},
            ['email', 'role', 'state', 'created', 'expires', 'actions'].map((c) => h('th', { scope: 'col', text: t(`staffPage.col.${c}`) })))),
          h('tbody', {}, this.invitations.map((i) => h('tr', { dataset: { invitation: i.id, state: i.state } },
            h('td', { class: 'wrap', text: i.email }),
            h('td', {}, t(`role.${i.role}`), i.reset_account ? h('span', { class: 'badge', text: t('staffPage.reset') }) : null),
            h('td', {}, h('span', { class: `state state-${i.state}`, text: t(`invState.${i.state}`) })),
            h('td', { text: dateTime(i.created_at) }),
            h('td', { text: dateTime(i.expires_at) }),
            h('td', {}, i.state === 'pending'
              ? h('button', { type: 'button', class: 'small danger-text', text: t('staffPage.revoke'), 'aria-label': t('staffPage.revokeLabel', { email: i.email }), on: { click: () => this.revoke(i) } })
              : null))))));
    }
    replaceChildren(this.invitationsEl,
      h('h2', { id: 'staff-invitations-title', text: t('staffPage.invitationsTitle') }),
      h('div', { class: 'toolbar' },
        h('button', { type: 'button', class: 'quiet small', text: t('staffPage.reload'), on: { click: () => this.loadInvitations() } })),
      content);
  }

  async revoke(i) {
    const ok = await confirmDialog({
      title: t('staffPage.revokeTitle', { email: i.email }),
      message: t('staffPage.revokeIntro'),
      confirmLabel: t('staffPage.revoke'),
      cancelLabel: t('dialog.cancel'),
      danger: true,
    });
    if (!ok) return;
    try {
      await revokeInvitation(i.id);
      this.ctx.notify(t('staffPage.revoked', { email: i.email }));
    } catch (err) {
      this.ctx.notify(requestErrorText(err));
    }
    await this.loadInvitations();
    this.invitationsEl.querySelector('h2')?.setAttribute('tabindex', '-1');
    this.invitationsEl.querySelector('h2')?.focus();
  }
}
