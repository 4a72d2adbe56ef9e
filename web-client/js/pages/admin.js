// The admin page: accounts (search; suspend or reactivate, change role, reissue access,
// delete — each with a reason that goes to the audit log) and the audit log as a table.

import { accountAction, auditLog, deleteAccount, listAccounts } from '../api.js';
import { avatarMark } from '../avatars.js';
import { formDialog } from '../dialogs.js';
import { h, replaceChildren } from '../dom.js';
import { getLang, t } from '../i18n.js';
import { dateTime, invitationResult, pageTitle, requestErrorText } from './common.js';

const ROLES = ['participant', 'family', 'counsellor', 'staff', 'admin'];

function fail(err) {
  throw new Error(requestErrorText(err));
}

export class AdminPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'page admin-page' });
    this.query = '';
    this.accounts = null;
    this.accountsError = null;
    this.result = null;
    // Every account by id, to name the people in the audit log.
    this.known = new Map();
    this.audit = null;
    this.auditError = null;
    this.accountsEl = h('section', { class: 'page-card', 'aria-labelledby': 'admin-accounts-title' });
    this.auditEl = h('section', { class: 'page-card', 'aria-labelledby': 'admin-audit-title' });
    this.loadAccounts();
    this.loadAudit();
  }

  title() {
    return t('adminPage.title');
  }

  render() {
    this.renderAccounts();
    this.renderAudit();
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('adminPage.title')),
        h('p', { text: t('adminPage.lead') })),
      this.accountsEl, this.auditEl);
  }

  // ---- accounts ----------------------------------------------------------------------------

  async loadAccounts() {
    try {
      const list = await listAccounts(this.query, 500);
      this.accounts = list;
      this.accountsError = null;
      for (const a of list) this.known.set(a.id, a);
    } catch (err) {
      this.accountsError = err;
    }
    this.renderAccounts();
    this.renderAudit();
  }

  renderAccounts() {
    const me = this.ctx.app.me;
    let content;
    if (this.accountsError) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.accountsError) });
    else if (!this.accounts) content = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.accounts.length) content = h('p', { class: 'empty', text: t('adminPage.noAccounts') });
    else {
      content = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('table.label', { title: t('adminPage.accountsTitle') }) },
        h('table', { class: 'data-table accounts-table' },
          h('thead', {}, h('tr', {},
            ['handle', 'role', 'status', 'email', 'totp', 'created', 'actions'].map((c) => h('th', { scope: 'col', text: t(`adminPage.col.${c}`) })))),
          h('tbody', {}, this.accounts.map((a) => {
            const deleted = a.status === 'deleted';
            const self = a.id === me.id;
            const name = this.nameOf(a.id);
            return h('tr', { dataset: { account: a.id, status: a.status } },
              h('th', { scope: 'row', class: 'wrap' },
                deleted ? null : avatarMark(a.avatar, { size: 20 }), ' ',
                h('span', { text: name }),
                self ? h('span', { class: 'hint', text: ` ${t('people.you')}` }) : null),
              h('td', {}, t(`role.${a.role}`),
                a.relation ? h('span', { class: 'hint', text: ` (${t(`relation.${a.relation}`)})` }) : null,
                a.profession ? h('span', { class: 'hint', text: ` (${t(`profession.${a.profession}`)}${a.supervisor ? `, ${t('adminPage.supervisor')}` : ''})` }) : null),
              h('td', {}, h('span', { class: `state state-${a.status}`, text: t(`accStatus.${a.status}`) })),
              h('td', { class: 'wrap', text: a.email || '—' }),
              h('td', { text: a.totp ? t('adminPage.on') : '—' }),
              h('td', { text: dateTime(a.created_at) }),
              h('td', {}, deleted || self ? null : h('div', { class: 'button-row' },
                h('button', { type: 'button', class: 'small', text: t('adminPage.act'), 'aria-label': t('adminPage.actLabel', { handle: name }), on: { click: () => this.act(a) } }),
                h('button', { type: 'button', class: 'small danger-text', text: t('adminPage.delete'), 'aria-label': t('adminPage.deleteLabel', { handle: name }), on: { click: () => this.remove(a) } }))));
          }))));
    }
    const inputId = 'admin-q';
    replaceChildren(this.accountsEl,
      h('h2', { id: 'admin-accounts-title', text: t('adminPage.accountsTitle') }),
      h('form', { class: 'toolbar search', role: 'search', on: { submit: (e) => this.search(e) } },
        h('label', { for: inputId, text: t('adminPage.search') }),
        h('input', { id: inputId, name: 'q', type: 'search', value: this.query, maxlength: 100, autocomplete: 'off' }),
        h('button', { type: 'submit', class: 'primary small', text: t('adminPage.searchSubmit') })),
      this.result,
      content);
  }

  search(e) {
    e.preventDefault();
    this.query = e.target.elements.q.value.trim();
    this.accounts = null;
    this.result = null;
    this.renderAccounts();
    this.accountsEl.querySelector('input[name="q"]')?.focus();
    this.loadAccounts();
  }

  nameOf(id) {
    const a = this.known.get(id);
    if (!a) return t('adminPage.unknownAccount', { id: String(id).slice(-8) });
    if (a.status === 'deleted' || !a.handle) return t('people.deletedMember');
    return a.handle;
  }

  reasonField() {
    const max = this.ctx.app.limits?.reason_max_chars ?? 500;
    return { name: 'reason', type: 'textarea', label: t('staff.reason'), required: true, maxLength: max, rows: 2 };
  }

  async act(a) {
    const name = this.nameOf(a.id);
    const actions = [a.status === 'suspended' ? 'reactivate' : 'suspend', 'role', 'reinvite'];
    let chosen = null;
    const staffLike = ['counsellor', 'staff', 'admin'].includes(a.role);
    const answer = await formDialog({
      title: t('adminPage.actTitle', { handle: name }),
      submitLabel: t('staff.do'),
      fields: [
        { name: 'action', type: 'radio', label: t('staff.action'), value: actions[0], options: actions.map((x) => ({ value: x, label: t(`adminPage.action.${x}`), description: t(`adminPage.action.${x}.desc`) })) },
        { name: 'role', type: 'radio', label: t('adminPage.newRole'), value: a.role, options: ROLES.map((r) => ({ value: r, label: t(`role.${r}`) })) },
        { name: 'email', type: 'text', label: t('adminPage.reinviteEmail'), hint: staffLike ? t('adminPage.reinviteEmailHintStaff') : t('adminPage.reinviteEmailHint'), value: a.email || '' },
        this.reasonField(),
      ],
      onChange: (v, form) => {
        // Show only what the chosen action uses; hidden fields are also disabled (not sent, not validated).
        const toggle = (name, on) => {
          const controls = form.querySelectorAll(`[name="${name}"]`);
          controls.forEach((c) => { c.disabled = !on; });
          const wrap = controls[0]?.closest('.field');
          if (wrap) wrap.hidden = !on;
        };
        toggle('role', v.action === 'role');
        toggle('email', v.action === 'reinvite');
      },
      onSubmit: (v) => {
        chosen = v;
        const reason = v.reason.trim();
        if (!reason) throw new Error(t('adminPage.reasonNeeded'));
        if (v.action === 'role') {
          if (!v.role || v.role === a.role) throw new Error(t('adminPage.sameRole'));
          return accountAction(a.id, 'role', { role: v.role, reason }).then(() => true).catch(fail);
        }
        if (v.action === 'reinvite') {
          const body = { reason, lang: getLang() };
          const email = (v.email || '').trim();
          if (email) body.email = email;
          else if (!a.email) throw new Error(t('adminPage.emailNeeded'));
          return accountAction(a.id, 'reinvite', body).catch(fail);
        }
        return accountAction(a.id, v.action, { reason }).then(() => true).catch(fail);
      },
    });
    if (!answer || !chosen) return;
    if (chosen.action === 'reinvite' && typeof answer === 'object') {
      this.result = invitationResult(answer, (chosen.email || '').trim() || a.email);
    } else {
      const text = t(`adminPage.done.${chosen.action}`, { handle: name, role: t(`role.${chosen.role || a.role}`) });
      this.result = h('p', { class: 'invite-result', role: 'status', tabindex: '-1', text });
    }
    await this.loadAccounts();
    this.loadAudit();
    this.result?.focus();
  }

  async remove(a) {
    const name = this.nameOf(a.id);
    const done = await formDialog({
      title: t('adminPage.deleteTitle', { handle: name }),
      intro: t('adminPage.deleteIntro'),
      submitLabel: t('adminPage.deleteSubmit'),
      danger: true,
      fields: [this.reasonField()],
      onSubmit: (v) => {
        if (!v.reason.trim()) throw new Error(t('adminPage.reasonNeeded'));
        return deleteAccount(a.id, v.reason.trim()).then(() => true).catch(fail);
      },
    });
    if (!done) return;
    this.result = h('p', { class: 'invite-result', role: 'status', tabindex: '-1', text: t('adminPage.done.delete', { handle: name }) });
    await this.loadAccounts();
    this.loadAudit();
    this.result?.focus();
  }

  // ---- audit log ---------------------------------------------------------------------------

  async loadAudit() {
    try {
      this.audit = await auditLog(200);
      this.auditError = null;
      // People named in the log but not in the current search.
      const missing = this.audit.some((l) => !this.known.has(l.actor) || (l.target_account && !this.known.has(l.target_account)));
      if (missing && this.query) {
        for (const a of await listAccounts('', 500)) this.known.set(a.id, a);
      }
    } catch (err) {
      this.auditError = err;
    }
    this.renderAudit();
  }

  roomName(id) {
    const room = this.ctx.app.rooms?.rooms?.find((r) => r.id === id);
    return room ? this.ctx.app.rooms.roomName(room) : id;
  }

  target(line) {
    const parts = [];
    if (line.target_account) parts.push(this.nameOf(line.target_account));
    if (line.room) parts.push(t('adminPage.inRoom', { room: this.roomName(line.room) }));
    if (line.target_message) parts.push(t('adminPage.aMessage'));
    const d = line.detail || {};
    if (line.action === 'change_role' && d.role) parts.push(t('adminPage.toRole', { role: t(`role.${d.role}`) }));
    if (line.action === 'create_invitation' && d.role) parts.push(t('adminPage.invitedAs', { role: t(`role.${d.role}`) }));
    if (line.action === 'mute' && d.minutes) parts.push(t('adminPage.forMinutes', { minutes: d.minutes }));
    return parts.join(' · ') || '—';
  }

  renderAudit() {
    let content;
    if (this.auditError) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.auditError) });
    else if (!this.audit) content = h('p', { class: 'hint', text: t('settings.loading') });
    else if (!this.audit.length) content = h('p', { class: 'empty', text: t('adminPage.noAudit') });
    else {
      content = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('table.label', { title: t('adminPage.auditTitle') }) },
        h('table', { class: 'data-table audit-table' },
          h('thead', {}, h('tr', {},
            ['at', 'actor', 'action', 'target', 'reason'].map((c) => h('th', { scope: 'col', text: t(`adminPage.col.${c}`) })))),
          h('tbody', {}, this.audit.map((l) => h('tr', { dataset: { action: l.action } },
            h('td', { class: 'nowrap', text: dateTime(l.at) }),
            h('td', { class: 'wrap', text: this.nameOf(l.actor) }),
            h('td', { text: t(`audit.${l.action}`, {}, l.action) }),
            h('td', { class: 'wrap', text: this.target(l) }),
            h('td', { class: 'wrap pre', text: l.reason || '—' }))))));
    }
    replaceChildren(this.auditEl,
      h('h2', { id: 'admin-audit-title', text: t('adminPage.auditTitle') }),
      h('p', { class: 'hint', text: t('adminPage.auditLead') }),
      h('div', { class: 'toolbar' },
        h('button', { type: 'button', class: 'quiet small', text: t('staffPage.reload'), on: { click: () => this.loadAudit() } })),
      content);
  }
}
