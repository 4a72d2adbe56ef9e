// Start-up and the page frame: who is signed in, the header, the connection indicator and
// calm notices. The rooms and the Enter screen do the rest.

import { fetchMe, forgetToken, storedToken, takeTokenFromLocation } from './api.js';
import { avatarMark } from './avatars.js';
import { Connection } from './connection.js';
import { confirmDialog } from './dialogs.js';
import { $, h, replaceChildren } from './dom.js';
import { EnterScreen } from './enter.js';
import { getLang, onLangChange, setLang, t, translateStatic } from './i18n.js';
import { RoomsController } from './rooms.js';
import { isStaffRole } from './timeline.js';

const NOTICE_MS = 8000;

const el = {
  loading: $('#loading'),
  enter: $('#enter'),
  app: $('#app'),
  nav: $('#room-nav'),
  views: $('#room-views'),
  home: $('#home'),
  me: $('#me'),
  signOut: $('#sign-out'),
  status: $('#conn-status'),
  notices: $('#notices'),
  langButtons: [...document.querySelectorAll('[data-lang]')],
};

/** What the modules share: the connection, who I am, and what the server allows. */
const app = {
  conn: null,
  me: null,
  isStaff: false,
  limits: null,
  stamps: [],
  lobbyMap: { width: 960, height: 600 },
  rooms: null,
  notify,
};

const enter = new EnterScreen(el.enter, ({ token, me }) => startApp(token, me));
let connStatus = { status: 'stopped' };

// ---- language -----------------------------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = getLang();
  translateStatic();
  for (const b of el.langButtons) b.setAttribute('aria-pressed', String(b.dataset.lang === getLang()));
  renderMe();
  renderStatus();
  enter.render();
  app.rooms?.rerender();
}

for (const b of el.langButtons) b.addEventListener('click', () => setLang(b.dataset.lang));
onLangChange(applyLanguage);

// ---- header -------------------------------------------------------------------------------

function renderMe() {
  if (!app.me) {
    el.me.hidden = true;
    el.signOut.hidden = true;
    return;
  }
  el.me.hidden = false;
  el.signOut.hidden = false;
  replaceChildren(el.me,
    avatarMark(app.me.avatar, { size: 26 }),
    h('span', { class: 'visually-hidden', text: t('header.you', { handle: app.me.handle }) }),
    h('span', { class: 'me-handle', 'aria-hidden': 'true', text: app.me.handle }),
    isStaffRole(app.me.role) ? h('span', { class: 'badge', text: t('header.staffBadge') }) : null);
}

el.signOut.addEventListener('click', async () => {
  const ok = await confirmDialog({
    title: t('signOut.title'),
    message: t('signOut.message'),
    confirmLabel: t('signOut.confirm'),
    cancelLabel: t('signOut.cancel'),
    danger: true,
  });
  if (!ok) return;
  backToEnter(t('enter.signedOutNotice'));
});

// ---- notices and the connection indicator ---------------------------------------------

/** A calm message in the notices region; `sticky` ones stay until dismissed. */
function notify(text, { sticky = false } = {}) {
  const item = h('div', { class: 'notice' },
    h('p', { text }),
    h('button', { type: 'button', class: 'quiet small', text: t('notice.dismiss'), on: { click: () => item.remove() } }));
  el.notices.append(item);
  if (!sticky) setTimeout(() => item.remove(), NOTICE_MS);
}

function renderStatus() {
  const { status, reason } = connStatus;
  const lines = [];
  if (status === 'connecting') lines.push(h('p', { text: t('conn.connecting') }));
  if (status === 'reconnecting') lines.push(h('p', { text: t('conn.reconnecting') }));
  if (status === 'stopped' && reason === 'too_many_connections') {
    lines.push(h('p', { text: t('conn.tooMany') }),
      h('button', { type: 'button', class: 'primary small', text: t('conn.retry'), on: { click: () => app.conn?.retryNow() } }));
  }
  if (status === 'stopped' && reason === 'unsupported_version') {
    lines.push(h('p', { text: t('conn.unsupported') }),
      h('button', { type: 'button', class: 'primary small', text: t('conn.reload'), on: { click: () => location.reload() } }));
  }
  replaceChildren(el.status, lines);
  el.status.classList.toggle('active', lines.length > 0);
}

// ---- screens ------------------------------------------------------------------------------

function showOnly(which) {
  el.loading.hidden = which !== 'loading';
  if (which === 'enter') enter.show();
  else enter.hide();
  el.app.hidden = which !== 'app';
}

function backToEnter(message) {
  app.conn?.stop();
  app.conn = null;
  app.rooms?.destroy();
  app.rooms = null;
  app.me = null;
  forgetToken();
  RoomsController.forgetTab();
  connStatus = { status: 'stopped' };
  renderStatus();
  renderMe();
  showOnly('enter');
  if (message) notify(message, { sticky: true });
  $('#enter-title')?.focus();
}

function startApp(token, me) {
  app.me = me;
  app.isStaff = isStaffRole(me.role);
  renderMe();
  showOnly('app');
  app.rooms = new RoomsController(app, { nav: el.nav, views: el.views, home: el.home });
  el.home.hidden = true;
  app.conn = new Connection({
    token,
    onWelcome: (welcome, { resumed }) => {
      app.me = welcome.me;
      app.isStaff = isStaffRole(welcome.me.role);
      app.limits = welcome.limits;
      app.stamps = welcome.stamps;
      app.lobbyMap = welcome.lobby_map;
      renderMe();
      app.rooms.setRooms(welcome.rooms);
      if (resumed) app.rooms.resume();
      else app.rooms.restore();
    },
    onFrame: (frame) => app.rooms?.onFrame(frame),
    onStatus: (status, info) => {
      if (status !== 'open') app.rooms?.disconnected();
      connStatus = { status, reason: info?.reason };
      renderStatus();
    },
    onFatal: (reason) => {
      if (reason === 'unauthorized') backToEnter(t('conn.unauthorized'));
    },
  });
  app.conn.start();
}

async function boot() {
  applyLanguage();
  takeTokenFromLocation();
  const token = storedToken();
  if (!token) {
    showOnly('enter');
    return;
  }
  try {
    const me = await fetchMe(token);
    if (me) startApp(token, me);
    else {
      forgetToken();
      showOnly('enter');
    }
  } catch {
    replaceChildren(el.loading,
      h('p', { text: t('app.loadFailed') }),
      h('button', { type: 'button', class: 'primary', text: t('app.retry'), on: { click: () => location.reload() } }));
  }
}

boot();
