// Start-up and the page frame: the public configuration, who is signed in, the routes (the
// public pages, settings, staff and admin pages, and the space itself), the header with its
// navigation and crisis button, the connection indicator and calm notices. Private consults
// (consult.js) live beside the rooms: their pages are reached from the navigation.

import { ApiError, fetchMe, getConfig, setTokenSource } from './api.js';
import { avatarMark } from './avatars.js';
import { Connection } from './connection.js';
import { ConsultController, asksForConsults } from './consult.js';
import { openCrisisDialog } from './crisis.js';
import { confirmDialog } from './dialogs.js';
import { $, h, replaceChildren } from './dom.js';
import { getLang, onLangChange, setLang, setSpaceTimeZone, t, translateStatic } from './i18n.js';
import { OpeningController } from './opening.js';
import { AdminPage } from './pages/admin.js';
import { ApplyPage } from './pages/apply.js';
import { AppointmentsPage } from './pages/appointments.js';
import { linkButton, pageTitle } from './pages/common.js';
import { ConsolePage } from './pages/console.js';
import { ConsultPage } from './pages/consult.js';
import { ConsultsPage } from './pages/consults.js';
import { GalleryPage } from './pages/gallery.js';
import { HomePage } from './pages/home.js';
import { ProgrammesPage } from './pages/programmes.js';
import { RegisterPage } from './pages/register.js';
import { SettingsPage } from './pages/settings.js';
import { SignInPage } from './pages/signin.js';
import { StaffPage } from './pages/staffpage.js';
import { StatisticsPage } from './pages/statistics.js';
import { TimetablePage } from './pages/timetable.js';
import { RoomsController } from './rooms.js';
import { currentRoute, navigate, onRouteChange } from './router.js';
import { session, takeTokenFromLocation } from './session.js';
import { isStaffRole } from './timeline.js';

const NOTICE_MS = 8000;
const ACCOUNT_PAGES = ['/settings', '/staff', '/admin', '/programmes', '/statistics', '/consult', '/appointments', '/console', '/consults'];
// Pages for everyone, signed in or not.
const PUBLIC_PAGES = ['/timetable', '/gallery'];

const el = {
  loading: $('#loading'),
  page: $('#page'),
  app: $('#app'),
  nav: $('#room-nav'),
  views: $('#room-views'),
  home: $('#home'),
  siteNav: $('#site-nav'),
  crisis: $('#crisis-button'),
  me: $('#me'),
  signOut: $('#sign-out'),
  status: $('#conn-status'),
  notices: $('#notices'),
  langButtons: [...document.querySelectorAll('[data-lang]')],
};

/** What the modules share: the connection, who I am, and what the server allows. */
const app = {
  config: null,
  conn: null,
  me: null,
  isStaff: false,
  limits: null,
  stamps: [],
  lobbyMap: { width: 960, height: 600 },
  rooms: null,
  // Private consults: a requester's, a counsellor's, the queue (consult.js).
  consult: null,
  // The opening hours in the space: the closed page, the staff banner, the closing notices.
  hours: null,
  // Set on signing in: the welcome panel takes focus once the space has opened.
  focusOnWelcome: false,
  notify,
  dismissNotice,
  // The navigation says where a consult stands; consult.js calls this when it changes.
  navChanged: () => {
    if (consultBadge() !== shownConsultBadge) renderSiteNav();
  },
};

let connStatus = { status: 'stopped' };
// The word beside the consult link as last drawn (the navigation is drawn again when it changes).
let shownConsultBadge = null;
let currentPage = null;
// A programme room to go into once the space is shown (the timetable's "Enter").
let pendingProgramme = null;
let booted = false;
// The first page shown after loading keeps the browser's own focus; later ones move it.
let initialRouteDone = false;

setTokenSource({ token: () => session.token, renew: () => session.renew() });
session.onEnded(() => endSession(() => t('session.ended')));

/** What the pages may ask of the frame. */
const ctx = {
  app,
  get config() {
    return app.config;
  },
  notify,
  /** Asks the server once more where the opening hours stand (the home page, at a change). */
  async refreshOpening() {
    try {
      const fresh = await getConfig();
      app.config = { ...app.config, opening: fresh.opening, time_zone: fresh.time_zone };
      setSpaceTimeZone(fresh.time_zone);
    } catch {
      // The page keeps what it knew; its words on the hours still stand.
    }
    return app.config.opening;
  },
  guestEntered(signedIn) {
    session.adoptGuest(signedIn.token);
    enterSpace(signedIn.me, '/');
  },
  signedIn(signedIn, { next = null } = {}) {
    session.adopt(signedIn);
    enterSpace(signedIn.me, next && ACCOUNT_PAGES.includes(next) ? next : '/');
  },
  /** From the timetable: to the space, and into a programme's room, choosing how to be there. */
  joinProgramme(roomId) {
    if (!app.rooms) return;
    pendingProgramme = roomId;
    navigate('/');
  },
  pageChanged(page) {
    if (page !== currentPage) return;
    updateTitle();
    focusHeading();
  },
  profileChanged(person) {
    app.me = { ...app.me, ...person };
    renderMe();
    app.rooms?.rerender();
    // The others see the new name and avatar from the next connection on.
    app.conn?.restart();
  },
  async accountDeleted() {
    teardownSpace();
    await session.signOut();
    renderHeader();
    navigate('/', { replace: true });
    notify(t('settings.deletedNotice'), { sticky: true });
  },
};

// ---- language -----------------------------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = getLang();
  translateStatic();
  for (const b of el.langButtons) b.setAttribute('aria-pressed', String(b.dataset.lang === getLang()));
  renderHeader();
  renderStatus();
  currentPage?.render();
  app.rooms?.rerender();
  app.consult?.rerender();
  app.hours?.render();
  updateTitle();
}

for (const b of el.langButtons) b.addEventListener('click', () => setLang(b.dataset.lang));
onLangChange(applyLanguage);

// ---- header -------------------------------------------------------------------------------

function renderHeader() {
  renderMe();
  renderSiteNav();
}

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
    ['counsellor', 'staff', 'admin'].includes(app.me.role) ? h('span', { class: 'badge', text: t(`role.${app.me.role}`) }) : null);
}

function renderSiteNav() {
  if (!booted) {
    el.siteNav.replaceChildren();
    return;
  }
  const role = app.me?.role;
  const staff = isStaffRole(role);
  const links = app.me
    ? [['/', 'nav.space'], asksForConsults(role) && ['/consult', 'nav.consult', consultBadge()],
      asksForConsults(role) && ['/appointments', 'nav.appointments'],
      role === 'counsellor' && ['/console', 'nav.console', consultBadge()],
      ['/timetable', 'nav.timetable'], ['/gallery', 'nav.gallery'], ['/settings', 'nav.settings'],
      staff && ['/staff', 'nav.staff'], staff && ['/consults', 'nav.consults'], staff && ['/programmes', 'nav.programmes'], staff && ['/statistics', 'nav.statistics'],
      role === 'admin' && ['/admin', 'nav.admin']]
    : [['/', 'nav.home'], ['/timetable', 'nav.timetable'], ['/gallery', 'nav.gallery'], ['/apply', 'nav.apply'], ['/sign-in', 'nav.signIn']];
  const { path } = currentRoute();
  shownConsultBadge = consultBadge();
  const focused = el.siteNav.contains(document.activeElement) ? document.activeElement.getAttribute('href') : null;
  replaceChildren(el.siteNav,
    h('ul', {}, links.filter(Boolean).map(([href, key, badge]) => h('li', {},
      h('a', { href: `#${href}`, 'aria-current': path === href ? 'page' : null }, t(key),
        badge ? [' ', h('span', { class: 'badge nav-badge', text: badge })] : null)))));
  if (focused) el.siteNav.querySelector(`a[href="${CSS.escape(focused)}"]`)?.focus();
}

/** Where the person's consult stands, or that an offer waits, in a word beside the link. */
function consultBadge() {
  const c = app.consult;
  if (!c) return null;
  if (asksForConsults(app.me?.role)) {
    if (!c.status) return null;
    return t(`nav.consultBadge.${c.status.phase}`);
  }
  if (c.offer) return t('nav.consoleBadge.offer');
  const open = [...c.cases.values()].filter((x) => !x.released && !x.observing).length;
  return open ? t('nav.consoleBadge.cases', { count: open }) : null;
}

el.crisis.addEventListener('click', () => openCrisisDialog(app.config?.crisis_contacts || []));

el.signOut.addEventListener('click', async () => {
  const passwordRole = ['counsellor', 'staff', 'admin'].includes(app.me?.role);
  const guest = session.kind !== 'session' && !passwordRole;
  let message = t('signOut.message');
  if (passwordRole) message = t('signOut.messagePassword');
  else if (!guest) message = t('signOut.messageAccount');
  const ok = await confirmDialog({
    title: t('signOut.title'),
    message,
    confirmLabel: guest ? t('signOut.confirm') : t('signOut.confirmAccount'),
    cancelLabel: t('signOut.cancel'),
    danger: true,
  });
  if (!ok) return;
  teardownSpace();
  await session.signOut();
  renderHeader();
  navigate('/', { replace: true });
  notify(t('enter.signedOutNotice'), { sticky: true });
});

// ---- notices and the connection indicator ---------------------------------------------

/**
 * A calm message in the notices region; `sticky` ones stay until dismissed. A notice with a
 * `key` replaces the one shown with the same key (the 1-minute closing notice the 10-minute one).
 */
function notify(text, { sticky = false, key = null, link = null } = {}) {
  if (key) dismissNotice(key);
  const item = h('div', { class: 'notice', dataset: key ? { key } : {} },
    h('p', {}, text, link ? [' ', h('a', { href: link.href, text: link.text, on: { click: () => item.remove() } })] : null),
    h('button', { type: 'button', class: 'quiet small', text: t('notice.dismiss'), on: { click: () => dismiss(item) } }));
  el.notices.append(item);
  if (!sticky) setTimeout(() => item.remove(), NOTICE_MS);
}

/** Takes a notice away; a keyboard user who dismissed it is not left on nothing. */
function dismiss(item) {
  const hadFocus = item.contains(document.activeElement);
  item.remove();
  if (hadFocus) document.getElementById('main')?.focus();
}

/** Takes away the notice with `key`, if one is shown. */
function dismissNotice(key) {
  for (const item of el.notices.querySelectorAll('.notice')) if (item.dataset.key === key) dismiss(item);
}

function renderStatus() {
  const { status, reason, quiet } = connStatus;
  const lines = [];
  if (status === 'connecting' && !quiet) lines.push(h('p', { text: t('conn.connecting') }));
  if (status === 'reconnecting' && !quiet) lines.push(h('p', { text: t('conn.reconnecting') }));
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

// ---- the space ----------------------------------------------------------------------------

function startSpace(me) {
  app.me = me;
  app.isStaff = isStaffRole(me.role);
  app.rooms = new RoomsController(app, { nav: el.nav, views: el.views, home: el.home });
  app.consult = new ConsultController(app);
  app.hours = new OpeningController(app, { appEl: el.app, nav: el.nav, views: el.views });
  el.home.hidden = true;
  app.conn = new Connection({
    token: () => session.token,
    renewToken: () => session.renew(),
    onWelcome: (welcome, { resumed }) => {
      const roleChanged = app.me.role !== welcome.me.role;
      app.me = welcome.me;
      app.isStaff = isStaffRole(welcome.me.role);
      app.limits = welcome.limits;
      app.stamps = welcome.stamps;
      app.lobbyMap = welcome.lobby_map;
      renderHeader();
      app.rooms.setRooms(welcome.rooms);
      const stance = app.hours.welcome(welcome.opening);
      if (stance === 'closed') {
        // Someone who just signed in while it is closed starts at the closed page, announced.
        if (app.focusOnWelcome && !currentPage) app.hours.focus();
        app.focusOnWelcome = false;
      } else if (stance === 'entering') {
        app.focusOnWelcome = false;
      } else if (resumed) app.rooms.resume();
      else {
        app.rooms.restore().then(() => {
          // Someone who just signed in starts at the welcome panel, announced.
          if (app.focusOnWelcome && !currentPage) el.app.querySelector('.room-view:not([hidden]) h2, #home:not([hidden]) h2')?.focus();
          app.focusOnWelcome = false;
        });
      }
      // A new role opens or closes the staff and admin pages.
      if (roleChanged && currentPage) route();
      // The server tells the consult state again after every welcome.
      app.consult.welcome();
    },
    onFrame: (frame) => {
      if (app.hours?.onFrame(frame)) {
        if (frame.type === 'opening') app.consult?.openingChanged();
        return;
      }
      if (app.consult?.onFrame(frame)) return;
      app.rooms?.onFrame(frame);
    },
    onStatus: (status, info) => {
      if (status !== 'open') {
        app.rooms?.disconnected();
        app.consult?.disconnected();
      }
      connStatus = { status, reason: info?.reason, quiet: Boolean(info?.quiet) };
      renderStatus();
    },
    onFatal: (reason) => {
      if (reason === 'unauthorized') endSession(() => t('conn.unauthorized'));
    },
  });
  app.conn.start();
  renderHeader();
}

/** Leaves the space of the current identity (signing out, or another identity comes in). */
function teardownSpace() {
  app.conn?.stop();
  app.conn = null;
  app.hours?.destroy();
  app.hours = null;
  app.rooms?.destroy();
  app.rooms = null;
  app.consult?.destroy();
  app.consult = null;
  app.me = null;
  app.isStaff = false;
  RoomsController.forgetTab();
  ConsultController.forgetTab();
  connStatus = { status: 'stopped' };
  renderStatus();
  el.app.hidden = true;
}

/** Signed in (registration, sign-in, guest entry): into the space, or the page asked for. */
function enterSpace(me, next) {
  if (app.conn) teardownSpace();
  startSpace(me);
  app.focusOnWelcome = true;
  navigate(next, { replace: true });
}

/** The session is over (signed out elsewhere, suspended, expired): home, with a calm word. */
function endSession(message) {
  if (!app.me && !session.signedIn) return;
  teardownSpace();
  session.clear();
  renderHeader();
  navigate('/', { replace: true });
  notify(message(), { sticky: true });
}

// ---- routes -------------------------------------------------------------------------------

class NotForThisRole {
  constructor() {
    this.el = h('div', { class: 'page' });
  }

  title() {
    return t('notAllowed.title');
  }

  render() {
    replaceChildren(this.el, h('div', { class: 'page-card narrow' },
      pageTitle(t('notAllowed.title')),
      h('p', { text: t('notAllowed.text') }),
      h('p', {}, linkButton('#/', t('notAllowed.back')))));
  }
}

function pageFor(path, params) {
  if (path === '/register') return new RegisterPage(ctx, params.get('token'));
  if (path === '/apply') return new ApplyPage(ctx);
  if (path === '/timetable') return new TimetablePage(ctx);
  if (path === '/gallery') return new GalleryPage(ctx);
  if (app.me) {
    const staff = isStaffRole(app.me.role);
    if (path === '/settings') return new SettingsPage(ctx);
    if (path === '/staff') return staff ? new StaffPage(ctx) : new NotForThisRole();
    if (path === '/programmes') return staff ? new ProgrammesPage(ctx) : new NotForThisRole();
    if (path === '/statistics') return staff ? new StatisticsPage(ctx) : new NotForThisRole();
    if (path === '/admin') return app.me.role === 'admin' ? new AdminPage(ctx) : new NotForThisRole();
    if (path === '/consult') return asksForConsults(app.me.role) ? new ConsultPage(ctx) : new NotForThisRole();
    if (path === '/appointments') return asksForConsults(app.me.role) ? new AppointmentsPage(ctx) : new NotForThisRole();
    if (path === '/console') return app.me.role === 'counsellor' ? new ConsolePage(ctx) : new NotForThisRole();
    if (path === '/consults') return staff ? new ConsultsPage(ctx) : new NotForThisRole();
    return null; // the space (and '/sign-in' while signed in)
  }
  if (path === '/sign-in') return new SignInPage(ctx);
  if (ACCOUNT_PAGES.includes(path)) return new SignInPage(ctx, { next: path, notice: () => t('signIn.needed') });
  return new HomePage(ctx);
}

function route() {
  const { path, params } = currentRoute();
  const known = ['/', '/register', '/apply', '/sign-in', ...PUBLIC_PAGES, ...ACCOUNT_PAGES];
  if (!known.includes(path) || (app.me && path === '/sign-in')) {
    navigate('/', { replace: true });
    return;
  }
  const page = pageFor(path, params);
  currentPage?.destroy?.();
  currentPage = page;
  el.loading.hidden = true;
  if (page) {
    el.app.hidden = true;
    replaceChildren(el.page, page.el);
    page.render();
    el.page.hidden = false;
  } else {
    el.page.hidden = true;
    el.page.replaceChildren();
    el.app.hidden = false;
    // The map measures itself only while it is shown.
    app.rooms?.revealed();
  }
  renderSiteNav();
  updateTitle();
  focusHeading();
  if (!page && pendingProgramme) {
    const room = pendingProgramme;
    pendingProgramme = null;
    app.rooms?.openById(room);
  }
}

function updateTitle() {
  const space = app.config?.space_name || 'ibasho';
  const title = currentPage?.title?.();
  document.title = title && title !== space ? `${title} — ${space}` : space;
}

/** After a route change, the new page's heading takes focus so that it is announced. */
function focusHeading() {
  if (!initialRouteDone) {
    initialRouteDone = true;
    return;
  }
  const heading = currentPage ? el.page.querySelector('#page-title') : (app.hours?.heading() || el.app.querySelector('.room-view:not([hidden]) h2') || el.home.querySelector('h2'));
  heading?.focus();
}

onRouteChange(async () => {
  if (!booted) return;
  // A sign-in link from the admin CLI opened in a page that is already running.
  const linkToken = takeTokenFromLocation();
  if (linkToken) {
    let me = null;
    try {
      me = await fetchMe(linkToken);
    } catch {
      // Unreachable: said below like an unusable link.
    }
    if (me) {
      if (app.conn) teardownSpace();
      await session.signOut();
      session.adoptGuest(linkToken);
      enterSpace(me, '/');
      return;
    }
    notify(t('conn.unauthorized'), { sticky: true });
  }
  route();
});

// ---- start-up -------------------------------------------------------------------------------

/** Set when this browser was signed in but its session has ended meanwhile. */
let sessionLapsed = false;

/** Who is signed in on this device, if anyone; throws when the server cannot be reached. */
async function restoreSession() {
  if (!session.restoreFromStorage()) {
    if (!session.mayRefresh()) return null;
    const result = await session.renew();
    if (result === 'network' || result === 'error') throw new ApiError('network');
    if (result !== 'ok') {
      sessionLapsed = true;
      return null;
    }
  }
  let me = await fetchMe(session.token);
  if (!me && session.kind === 'session' && (await session.renew()) === 'ok') me = await fetchMe(session.token);
  if (!me) session.clear();
  return me;
}

function loadFailed() {
  el.loading.hidden = false;
  replaceChildren(el.loading,
    h('p', { text: t('app.loadFailed') }),
    h('button', { type: 'button', class: 'primary', text: t('app.retry'), on: { click: () => location.reload() } }));
}

async function boot() {
  applyLanguage();
  const linkToken = takeTokenFromLocation();
  if (linkToken) session.adoptGuest(linkToken);
  let me;
  try {
    app.config = await getConfig();
    setSpaceTimeZone(app.config.time_zone);
    me = await restoreSession();
  } catch {
    loadFailed();
    return;
  }
  booted = true;
  if (me) startSpace(me);
  renderHeader();
  route();
  if (sessionLapsed) notify(t('session.ended'), { sticky: true });
}

boot();
