// Statistics for staff: how many came to the programme sessions of a month, and how (watching,
// chat only, taking part), first-timers and returning people, the most at once — counts only,
// never names; counsellors, staff and admins are not counted. The same as a CSV download,
// for the reports cities ask for.

import { monthStatistics, statisticsCsv } from '../api.js';
import { monthText } from '../calendar.js';
import { h, replaceChildren, saveBlob } from '../dom.js';
import { formatDateTime, t } from '../i18n.js';
import { categoryBadge } from '../programmes.js';
import { pageTitle, requestErrorText } from './common.js';

const COLUMNS = ['joined', 'view_only', 'chat_only', 'participant', 'first_time', 'returning', 'peak'];
const TOTALS = ['sessions_held', 'joined', 'people', 'first_time', 'returning', 'view_only', 'chat_only', 'participant'];

export class StatisticsPage {
  constructor(ctx) {
    this.ctx = ctx;
    this.el = h('div', { class: 'page statistics-page' });
    this.month = monthText(Date.now());
    this.data = null;
    this.error = null;
    this.downloading = false;
    this.downloadError = null;
    this.result = h('section', { class: 'page-card', 'aria-labelledby': 'stats-result-title' });
    this.load();
  }

  title() {
    return t('stats.title');
  }

  async load() {
    this.data = null;
    this.error = null;
    this.renderResult();
    try {
      this.data = await monthStatistics(this.month);
    } catch (err) {
      this.error = err;
    }
    this.renderResult();
  }

  render() {
    replaceChildren(this.el,
      h('div', { class: 'page-head' },
        pageTitle(t('stats.title')),
        h('p', { text: t('stats.lead') })),
      h('section', { class: 'page-card', 'aria-labelledby': 'stats-month-title' },
        h('h2', { id: 'stats-month-title', text: t('stats.monthTitle') }),
        h('form', { class: 'toolbar', on: { submit: (e) => this.choose(e) } },
          h('label', { for: 'stats-month', text: t('stats.month') }),
          h('input', { id: 'stats-month', name: 'month', type: 'month', required: true, value: this.month, 'aria-describedby': 'stats-month-hint' }),
          h('button', { type: 'submit', class: 'primary small', text: t('stats.show') })),
        h('p', { class: 'hint', id: 'stats-month-hint', text: t('stats.monthHint') })),
      this.result);
    this.renderResult();
  }

  choose(e) {
    e.preventDefault();
    const value = e.target.elements.month.value.trim();
    if (!/^\d{4}-\d{2}$/.test(value)) {
      e.target.elements.month.focus();
      return;
    }
    this.month = value;
    this.downloadError = null;
    this.load();
  }

  async download() {
    this.downloading = true;
    this.downloadError = null;
    this.renderResult();
    try {
      const { blob, name } = await statisticsCsv(this.month);
      saveBlob(blob, name);
    } catch (err) {
      this.downloadError = err;
    }
    this.downloading = false;
    this.renderResult();
  }

  renderResult() {
    const [year, month] = this.month.split('-').map(Number);
    const heading = h('h2', { id: 'stats-result-title', text: t('stats.resultTitle', { year, month }) });
    const focusKey = this.result.contains(document.activeElement) ? document.activeElement.dataset?.fkey : null;
    let content;
    if (this.error) content = h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.error) });
    else if (!this.data) content = h('p', { class: 'hint', text: t('settings.loading') });
    else content = this.figures(this.data);
    replaceChildren(this.result,
      heading,
      h('p', { class: 'hint', text: t('stats.anonymous') }),
      content,
      this.data ? h('div', { class: 'button-row stats-download' },
        h('button', { type: 'button', class: 'small', disabled: this.downloading, dataset: { fkey: 'csv' }, text: this.downloading ? t('stats.downloading') : t('stats.download'), on: { click: () => this.download() } })) : null,
      this.downloadError ? h('p', { class: 'form-error', role: 'alert', text: requestErrorText(this.downloadError) }) : null);
    if (focusKey) this.result.querySelector(`[data-fkey="${focusKey}"]`)?.focus();
  }

  figures(d) {
    const totals = h('dl', { class: 'stats-totals' },
      TOTALS.map((k) => h('div', { class: 'stats-total' },
        h('dt', { text: t(`stats.total.${k}`) }),
        h('dd', { dataset: { total: k }, text: String(d[k] ?? 0) }))));
    if (!d.sessions.length) return [totals, h('p', { class: 'empty', text: t('stats.noSessions') })];
    const table = h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': t('table.label', { title: t('stats.sessionsTitle') }) },
      h('table', { class: 'data-table stats-table' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: t('stats.col.when') }),
          h('th', { scope: 'col', text: t('stats.col.title') }),
          h('th', { scope: 'col', text: t('stats.col.state') }),
          COLUMNS.map((c) => h('th', { scope: 'col', class: 'num', text: t(`stats.col.${c}`) })))),
        h('tbody', {}, d.sessions.map((s) => h('tr', { dataset: { start: String(s.start) } },
          h('td', { class: 'nowrap', text: formatDateTime(s.start) }),
          h('th', { scope: 'row', class: 'wrap' }, s.title, ' ', categoryBadge(s.category)),
          h('td', { text: t(s.cancelled ? 'stats.state.cancelled' : s.held ? 'stats.state.held' : 'stats.state.upcoming') }),
          COLUMNS.map((c) => h('td', { class: 'num', dataset: { col: c }, text: String(s[c] ?? 0) })))))));
    return [totals, h('h3', { text: t('stats.sessionsTitle') }), table];
  }
}
