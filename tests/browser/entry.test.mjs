// The entry pages against the real server and a real SMTP server (aiosmtpd): a visitor
// applies on the home page, staff invite from the staff page, the invitation mail's link is
// followed and the person registers and comes into the plaza. Then: links that cannot be used
// (used, expired, revoked, forged) show a clear page and create nothing; a passphrase set in
// settings signs in on a second browser; injection attempts are shown as inert text; an admin
// suspends, reactivates and changes a role, and the person's open pages follow.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, test } from 'node:test';
import { audit, enter, joinRoom, newPerson, serverAndBrowser, shownRoom } from './harness.mjs';
import { registrationLink, startMailbox } from './mailbox.mjs';

let mailbox = null;
const ctx = serverAndBrowser(async () => {
  mailbox = await startMailbox();
  return { env: { IBASHO_MAIL__SMTP_URL: mailbox.url, IBASHO_MAIL__POLL_SECS: '1' }, publicUrl: true };
});
after(async () => {
  await mailbox?.stop();
});

const pages = [];
const dialogs = [];

async function person(name, context = null) {
  let page;
  if (context) {
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.errors = [];
    page.on('pageerror', (e) => page.errors.push(`${name}: ${e.message}`));
  } else {
    page = await newPerson(ctx.browser, name);
  }
  // An injected script would show itself as a dialog; none may ever open.
  page.on('dialog', (d) => { dialogs.push(`${name}: ${d.type()} ${d.message()}`); d.dismiss().catch(() => {}); });
  pages.push(page);
  return page;
}

async function guarded(fn) {
  try {
    await fn();
  } catch (err) {
    console.error('--- server log ---\n%s', ctx.server.logs());
    for (const p of pages) if (p.errors.length) console.error('--- page errors ---\n%s', p.errors.join('\n'));
    throw err;
  }
}

const nav = (page) => page.getByRole('navigation', { name: 'サイト内の移動' });
const heading = (page, name) => page.getByRole('heading', { level: 1, name });

const APPLICANT = 'hana.applicant@example.jp';
const HANDLE = 'はるか';
const PASSPHRASE = 'あさのひかり と こうちゃ';
const INJECTIONS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', "'; DROP TABLE messages; --"];
// Handles have at most 24 characters: the same attacks, shortened.
const EVIL_HANDLE = '<img src=x onerror=a()>';
const APPLICATION_TEXT = `はじめまして。見るだけでもいいですか？\n${INJECTIONS.join('\n')}`;

// Shared between the tests of this file, which run in order.
const state = { staff: null, staffToken: null, visitor: null, usedLink: null, adminToken: null };

/** The current RFC 6238 code for a base32 secret, as an authenticator app shows it. */
function totpCode(secret) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = [...secret.replace(/\s+/g, '').toUpperCase()].map((c) => alphabet.indexOf(c).toString(2).padStart(5, '0')).join('');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[19] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

async function api(method, url, token, body) {
  const r = await fetch(`${ctx.server.base}${url}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: r.status, body: r.status === 204 ? null : await r.json() };
}

test('apply on the home page → staff invite → the mailed link → register → in the plaza', () => guarded(async () => {
  // A visitor reads the home page: what this is, the crisis contacts, the way to apply.
  const visitor = await person('visitor');
  state.visitor = visitor;
  await visitor.goto(ctx.server.base);
  await heading(visitor, 'ibasho へようこそ').waitFor();
  await visitor.locator('.crisis-list a[href="tel:0120279338"]', { hasText: '0120-279-338' }).first().waitFor();
  await visitor.getByText('毎月 第2・第3・第4水曜日 13:00〜21:00').waitFor();

  // The crisis contacts are one tap away from the header too.
  await visitor.getByRole('button', { name: '困ったときは' }).click();
  const crisis = visitor.getByRole('dialog', { name: '困ったときは' });
  await crisis.getByRole('link', { name: /0570-064-556/ }).waitFor();
  await crisis.getByRole('button', { name: '閉じる' }).click();
  await crisis.waitFor({ state: 'detached' });

  await visitor.getByRole('link', { name: '利用を申し込む' }).first().click();
  await heading(visitor, '利用の申し込み').waitFor();
  await visitor.getByText('90 日たつと').waitFor();

  // Sending an empty form: calm errors next to the right fields, tied to them for screen readers.
  await visitor.getByRole('button', { name: '申し込む', exact: true }).click();
  const email = visitor.getByLabel('連絡先のメールアドレス');
  await visitor.locator('#apply-email-error', { hasText: 'メールアドレスを入れてください' }).waitFor();
  assert.equal(await email.getAttribute('aria-invalid'), 'true');
  assert.match(await email.getAttribute('aria-describedby'), /apply-email-error/);
  await visitor.locator('#apply-consent-error', { hasText: '同意が必要です' }).waitFor();
  assert.match(await visitor.getByLabel('上の内容を読んで、同意します').getAttribute('aria-describedby'), /apply-consent-error/);
  assert.equal(await visitor.evaluate(() => document.activeElement?.id), 'apply-email', 'focus moves to the first field at fault');

  // The server's own check of the address comes back to the same field.
  await email.fill('hana@.example.jp');
  await visitor.getByText('わたし自身').click();
  await visitor.getByLabel('スタッフに伝えたいこと').fill(APPLICATION_TEXT);
  await visitor.getByLabel('上の内容を読んで、同意します').check();
  await visitor.getByRole('button', { name: '申し込む', exact: true }).click();
  await visitor.locator('#apply-email-error', { hasText: 'メールアドレスの形になっていない' }).waitFor();

  await email.fill(APPLICANT);
  await visitor.getByRole('button', { name: '申し込む', exact: true }).click();
  await heading(visitor, 'お申し込みを受け付けました').waitFor();
  await visitor.getByText(`${APPLICANT} あてにメールでお返事します`).waitFor();
  await audit(visitor, 'the thank-you page');

  // Staff (made with the admin CLI) open the staff page and invite the applicant.
  state.staffToken = await ctx.server.createAccount('staff', 'スタッフのみどり');
  const staff = await person('staff');
  state.staff = staff;
  await staff.goto(`${ctx.server.base}/#token=${state.staffToken}`);
  await staff.getByRole('heading', { name: 'ようこそ、スタッフのみどり さん' }).waitFor();
  await nav(staff).getByRole('link', { name: 'スタッフ' }).click();
  await heading(staff, 'スタッフの仕事').waitFor();
  const card = staff.locator('.app-card', { hasText: APPLICANT });
  await card.waitFor();
  assert.equal(await card.locator('.app-message').innerText(), APPLICATION_TEXT, 'the application text is shown verbatim');
  await card.getByRole('button', { name: '招待する' }).click();
  const dialog = staff.getByRole('dialog');
  assert.equal(await dialog.getByLabel('参加者').isChecked(), true, 'the role follows the relation');
  await dialog.getByRole('button', { name: '招待する' }).click();
  await dialog.waitFor({ state: 'detached' });
  await staff.locator('.invite-result', { hasText: `${APPLICANT} あてに、招待のメールを送りました` }).waitFor();
  await card.waitFor({ state: 'detached' });

  // The mail arrives through SMTP; its link leads to registration.
  const mail = await mailbox.waitFor(APPLICANT);
  assert.match(mail.text, /呼び名とアバターを選んで/);
  const link = registrationLink(mail.text);
  assert.ok(link.startsWith(`${ctx.server.base}/#/register?token=`), link);
  state.usedLink = link;

  await visitor.goto(link);
  await heading(visitor, 'ようこそ。呼び名とアバターを選びましょう').waitFor();
  // A handle that breaks the rules is refused next to the field, before anything is sent.
  const handle = visitor.getByLabel('ここでの呼び名');
  await handle.fill('は');
  await visitor.getByRole('button', { name: '登録して入る' }).click();
  await visitor.locator('#register-handle-error', { hasText: '2 文字以上' }).waitFor();
  assert.equal(await handle.getAttribute('aria-invalid'), 'true');
  // Someone else's handle is refused by the server, next to the same field.
  await handle.fill('スタッフのみどり');
  await visitor.getByRole('button', { name: '登録して入る' }).click();
  await visitor.locator('#register-handle-error', { hasText: 'ほかの人が使っています' }).waitFor();
  await audit(visitor, 'the registration form with an error');

  await handle.fill(HANDLE);
  await visitor.locator('.choices-shape label.choice', { hasText: 'ほし' }).click();
  await visitor.locator('.choices-color label.choice', { hasText: 'さくら' }).click();
  await visitor.getByText('30 代').click();
  await visitor.getByRole('button', { name: '登録して入る' }).click();
  await visitor.getByRole('heading', { name: `ようこそ、${HANDLE} さん` }).waitFor();
  assert.ok(!visitor.url().includes('token='), 'the used link is not left in the address bar');
  await joinRoom(visitor, 'ひろば', 'participant');
  await visitor.locator('#map-people li', { hasText: HANDLE }).waitFor({ state: 'attached' });

  // The invitation now counts as used in the staff list.
  await staff.reload();
  await heading(staff, 'スタッフの仕事').waitFor();
  await staff.locator('tr', { hasText: APPLICANT }).getByText('使用済み').waitFor();
}));

test('a used, expired, revoked or forged link shows a clear page and creates nothing', () => guarded(async () => {
  const { staff } = state;
  state.adminToken = await ctx.server.createAccount('admin', '管理のそら');
  const before = (await api('GET', '/api/admin/accounts', state.adminToken)).body.length;

  // Two more invitations, made directly on the staff page; one will expire, one is revoked.
  const invite = async (address) => {
    const form = staff.locator('form', { has: staff.getByLabel('招待する方のメールアドレス') });
    await form.getByLabel('招待する方のメールアドレス').fill(address);
    await form.getByRole('button', { name: '招待をつくる' }).click();
    await staff.locator('.invite-result', { hasText: `${address} あてに、招待のメールを送りました` }).waitFor();
    return registrationLink((await mailbox.waitFor(address)).text);
  };
  const expiring = await invite('old.invite@example.jp');
  const revoked = await invite('gone.invite@example.jp');

  // Past its expiry: moved back in the database, as time would.
  await promisify(execFile)('python3', ['-c', [
    'import sqlite3, sys',
    'c = sqlite3.connect(sys.argv[1], timeout=10)',
    "c.execute('UPDATE invitations SET expires_at = 1 WHERE email = ?', (sys.argv[2],))",
    'c.commit()',
  ].join('\n'), path.join(ctx.server.dataDir, 'ibasho.sqlite3'), 'old.invite@example.jp']);

  const row = staff.locator('tr', { hasText: 'gone.invite@example.jp' });
  await row.getByRole('button', { name: '取り消す' }).click();
  await staff.getByRole('dialog').getByRole('button', { name: '取り消す' }).click();
  await row.getByText('取り消し').waitFor();
  await staff.getByRole('button', { name: '読み込み直す' }).last().click();
  await staff.locator('tr', { hasText: 'old.invite@example.jp' }).getByText('期限切れ').waitFor();

  const forged = `${ctx.server.base}/#/register?token=${'A'.repeat(43)}`;
  const page = await person('stranger');
  for (const link of [state.usedLink, expiring, revoked, forged, `${ctx.server.base}/#/register`]) {
    await page.goto('about:blank');
    await page.goto(link);
    await heading(page, 'このリンクは使えません').waitFor();
    await page.getByText('スタッフに新しいリンクをお願いしてください').waitFor();
    assert.equal(await page.locator('#page input, #page button[type="submit"]').count(), 0, `no form for ${link}`);
  }
  const forgedAttempt = await api('POST', '/api/register', '', { token: 'A'.repeat(43), handle: 'にせもの', avatar: { shape: 'star', color: 'sora' } });
  assert.equal(forgedAttempt.status, 410);
  assert.equal((await api('GET', '/api/admin/accounts', state.adminToken)).body.length, before, 'no account was created');
}));

let second = null;

test('a passphrase set in settings signs in on a second browser', () => guarded(async () => {
  const { visitor } = state;
  await nav(visitor).getByRole('link', { name: '設定' }).click();
  await heading(visitor, '設定').waitFor();
  await visitor.getByText('まだ合言葉を決めていません').waitFor();
  await visitor.getByLabel('新しい合言葉', { exact: true }).fill(PASSPHRASE);
  await visitor.getByLabel('新しい合言葉をもう一度（確認）').fill(PASSPHRASE);
  await visitor.getByRole('button', { name: '合言葉を決める' }).click();
  await visitor.getByText('合言葉を保存しました').waitFor();

  second = await ctx.browser.newContext({ viewport: { width: 1280, height: 820 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  const other = await person('second device', second);
  await other.goto(`${ctx.server.base}/#/sign-in`);
  await heading(other, 'サインイン').waitFor();
  await other.getByLabel('呼び名またはメールアドレス').fill(HANDLE);
  await other.getByLabel('合言葉またはパスワード').fill('ちがう合言葉ですよ');
  await other.getByRole('button', { name: 'サインインする' }).click();
  await other.getByRole('alert').filter({ hasText: 'ちがうようです' }).waitFor();
  await other.getByLabel('合言葉またはパスワード').fill(PASSPHRASE);
  await other.getByRole('button', { name: 'サインインする' }).click();
  await other.getByRole('heading', { name: `ようこそ、${HANDLE} さん` }).waitFor();

  // Another tab of that browser holds no access token yet: it gets one from the refresh cookie.
  const tab = await person('second device, tab 2', second);
  await tab.goto(ctx.server.base);
  await tab.getByRole('heading', { name: `ようこそ、${HANDLE} さん` }).waitFor();
  await tab.close();
  pages.splice(pages.indexOf(tab), 1);
}));

test('injection attempts in a handle, a chat message and an application stay inert text', () => guarded(async () => {
  const { visitor, staff } = state;
  // The handle, changed in settings; the others see it from the next connection on.
  await visitor.getByLabel('ここでの呼び名').fill(EVIL_HANDLE);
  await visitor.getByRole('button', { name: '保存する' }).click();
  await visitor.getByText('保存しました。', { exact: true }).waitFor();
  await visitor.locator('#me .me-handle', { hasText: EVIL_HANDLE }).waitFor();

  await nav(visitor).getByRole('link', { name: 'へや・ひろば' }).click();
  await shownRoom(visitor).locator('h2', { hasText: 'ひろば' }).waitFor();
  await nav(staff).getByRole('link', { name: 'へや・ひろば' }).click();
  await joinRoom(staff, 'ひろば', 'chat_only');
  const box = shownRoom(visitor).getByRole('textbox', { name: 'メッセージ' });
  for (const text of INJECTIONS) {
    await box.fill(text);
    await box.press('Enter');
  }
  for (const page of [visitor, staff]) {
    const last = shownRoom(page).locator('.timeline .msg-body', { hasText: INJECTIONS[2] });
    await last.waitFor();
    const bodies = await shownRoom(page).locator('.timeline .msg-body').allInnerTexts();
    assert.deepEqual(bodies.slice(-3), INJECTIONS, 'the messages are shown verbatim');
  }
  await shownRoom(staff).locator('.msg-author', { hasText: EVIL_HANDLE }).first().waitFor();
  await shownRoom(staff).locator('.people', { hasText: EVIL_HANDLE }).waitFor();

  // The application text on the staff page, among the invited ones.
  await nav(staff).getByRole('link', { name: 'スタッフ' }).click();
  await staff.getByLabel('表示する申し込み').selectOption('invited');
  const card = staff.locator('.app-card', { hasText: APPLICANT });
  assert.equal(await card.locator('.app-message').innerText(), APPLICATION_TEXT);

  for (const page of [visitor, staff]) {
    const created = await page.evaluate(() => ({
      img: document.querySelectorAll('img').length,
      scripts: document.scripts.length,
      onerror: document.querySelectorAll('[onerror]').length,
    }));
    assert.deepEqual(created, { img: 0, scripts: 1, onerror: 0 }, 'no element was created from the text');
  }
  assert.deepEqual(dialogs, [], 'no script ran');
}));

test('an admin suspends, reactivates and changes a role; the open pages follow', () => guarded(async () => {
  const [other] = second.pages();
  const admin = await person('admin');
  await admin.goto(`${ctx.server.base}/#token=${state.adminToken}`);
  await admin.getByRole('heading', { name: 'ようこそ、管理のそら さん' }).waitFor();
  await nav(admin).getByRole('link', { name: '管理' }).click();
  await heading(admin, '管理').waitFor();
  await admin.getByLabel('呼び名かメールアドレスの一部で探す').fill('img');
  await admin.getByRole('button', { name: '探す' }).click();
  await admin.waitForFunction(() => document.querySelectorAll('.accounts-table tbody tr').length === 1);
  const row = admin.locator('tr', { hasText: EVIL_HANDLE });
  await row.waitFor();

  // Suspend: every open page of that account is signed out at once.
  await row.getByRole('button', { name: '操作' }).click();
  let dialog = admin.getByRole('dialog');
  await dialog.getByLabel('一時停止する').check();
  await dialog.getByLabel('理由（記録に残ります）').fill('テストのための一時停止');
  await dialog.getByRole('button', { name: '実行する' }).click();
  await dialog.waitFor({ state: 'detached' });
  await admin.getByText(`${EVIL_HANDLE} さんのアカウントを一時停止しました`).waitFor();
  await row.getByText('停止中').waitFor();
  for (const page of [state.visitor, other]) {
    await heading(page, 'ibasho へようこそ').waitFor();
    await page.getByText('サインインが切れました').waitFor();
  }
  await other.goto(`${ctx.server.base}/#/sign-in`);
  await other.getByLabel('呼び名またはメールアドレス').fill(EVIL_HANDLE);
  await other.getByLabel('合言葉またはパスワード').fill(PASSPHRASE);
  await other.getByRole('button', { name: 'サインインする' }).click();
  await other.getByRole('alert').filter({ hasText: 'いまは使えないようになっています' }).waitFor();

  // Reactivate, sign in again, then a new role: the page reconnects with it.
  await row.getByRole('button', { name: '操作' }).click();
  dialog = admin.getByRole('dialog');
  await dialog.getByLabel('停止を解除する').check();
  await dialog.getByLabel('理由（記録に残ります）').fill('確認が済んだため');
  await dialog.getByRole('button', { name: '実行する' }).click();
  await row.getByText('利用中').waitFor();
  await other.getByRole('button', { name: 'サインインする' }).click();
  await other.getByRole('heading', { name: `ようこそ、${EVIL_HANDLE} さん` }).waitFor();
  assert.equal(await nav(other).getByRole('link', { name: 'スタッフ' }).count(), 0);

  await row.getByRole('button', { name: '操作' }).click();
  dialog = admin.getByRole('dialog');
  await dialog.getByLabel('役割を変える').check();
  await dialog.getByRole('group', { name: '新しい役割' }).getByLabel('スタッフ').check();
  await dialog.getByLabel('理由（記録に残ります）').fill('ボランティアスタッフになったため');
  await dialog.getByRole('button', { name: '実行する' }).click();
  await dialog.waitFor({ state: 'detached' });
  await nav(other).getByRole('link', { name: 'スタッフ' }).waitFor();
  await other.locator('#me .badge', { hasText: 'スタッフ' }).waitFor();

  // The audit log says who did what, to whom and why, in words.
  const auditTable = admin.locator('.audit-table');
  await auditTable.locator('tr', { hasText: 'アカウントを一時停止した' }).filter({ hasText: 'テストのための一時停止' }).filter({ hasText: '管理のそら' }).waitFor();
  await auditTable.locator('tr', { hasText: '役割を変えた' }).filter({ hasText: '→ スタッフ' }).waitFor();
  await auditTable.locator('tr', { hasText: '招待をつくった' }).filter({ hasText: 'スタッフのみどり' }).first().waitFor();

  await audit(admin, 'the admin page');
  await second.close();
}));

test('staff: a password, two-step sign-in, signing out and in with a code; declining and archiving', () => guarded(async () => {
  const token = await ctx.server.createAccount('staff', 'スタッフのあおい');
  const staff = await person('staff 2');
  await staff.emulateMedia({ reducedMotion: 'reduce' });
  await staff.goto(`${ctx.server.base}/#token=${token}`);
  await staff.getByRole('heading', { name: 'ようこそ、スタッフのあおい さん' }).waitFor();
  await nav(staff).getByRole('link', { name: '設定' }).click();
  await staff.getByText('まだパスワードがありません').waitFor();
  await audit(staff, 'the settings page');

  const password = 'しずかな みずうみ 2026';
  await staff.getByLabel('新しいパスワード', { exact: true }).fill(password);
  await staff.getByLabel('新しいパスワードをもう一度（確認）').fill(`${password}x`);
  await staff.getByRole('button', { name: 'パスワードを決める' }).click();
  await staff.locator('.field-error', { hasText: '1 回目と 2 回目がちがいます' }).waitFor();
  await staff.getByLabel('新しいパスワードをもう一度（確認）').fill(password);
  await staff.getByRole('button', { name: 'パスワードを決める' }).click();
  await staff.getByText('パスワードを保存しました。').waitFor();

  await staff.getByRole('button', { name: '設定をはじめる' }).click();
  const secret = (await staff.locator('.totp-secret').innerText()).replace(/\s+/g, '');
  assert.match(secret, /^[A-Z2-7]{32}$/);
  assert.match(await staff.getByRole('link', { name: '認証アプリで開く' }).getAttribute('href'), /^otpauth:\/\/totp\/ibasho:/);
  await audit(staff, 'two-step sign-in being set up');
  await staff.getByLabel('確認コード（6 桁）').fill('000000' === totpCode(secret) ? '111111' : '000000');
  await staff.getByRole('button', { name: 'オンにする' }).click();
  await staff.locator('.field-error', { hasText: 'コードが合いません' }).waitFor();
  await staff.getByLabel('確認コード（6 桁）').fill(totpCode(secret));
  await staff.getByRole('button', { name: 'オンにする' }).click();
  await staff.getByText('2 段階認証をオンにしました。').waitFor();
  await staff.getByText('2 段階認証は「オン」です').waitFor();

  // Signing out, then in again with the password and a code.
  await staff.getByRole('button', { name: '退出する' }).click();
  await staff.getByRole('dialog').getByText('パスワードで、またサインインできます').waitFor();
  await staff.getByRole('dialog').getByRole('button', { name: 'サインアウトする' }).click();
  await heading(staff, 'ibasho へようこそ').waitFor();
  await staff.getByText('また来てくださいね').waitFor();
  await nav(staff).getByRole('link', { name: 'サインイン' }).click();
  await staff.getByLabel('呼び名またはメールアドレス').fill('スタッフのあおい');
  await staff.getByLabel('合言葉またはパスワード').fill(password);
  await staff.getByRole('button', { name: 'サインインする' }).click();
  const code = staff.getByLabel('確認コード（6 桁）');
  await staff.locator('#signin-totp-error', { hasText: '6 桁のコードを入れて' }).waitFor();
  assert.equal(await staff.evaluate(() => document.activeElement?.id), 'signin-totp');
  await audit(staff, 'the sign-in page asking for a code');
  await code.fill(totpCode(secret));
  await staff.getByRole('button', { name: 'サインインする' }).click();
  await staff.getByRole('heading', { name: 'ようこそ、スタッフのあおい さん' }).waitFor();

  // Two applications arrive; one is declined with a message (mailed), one archived.
  for (const email of ['decline.me@example.jp', 'duplicate@example.jp']) {
    const r = await fetch(`${ctx.server.base}/api/applications`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, relation: 'family', message: '家族のことで相談したいです', consent: true, lang: 'ja' }),
    });
    assert.equal(r.status, 201);
  }
  await nav(staff).getByRole('link', { name: 'スタッフ' }).click();
  const declined = staff.locator('.app-card', { hasText: 'decline.me@example.jp' });
  await declined.getByRole('button', { name: 'お断りする' }).click();
  let dialog = staff.getByRole('dialog');
  await dialog.getByLabel('申し込んだ方へのメッセージ').fill('お申し込みありがとうございました。今回はご案内できませんが、お近くの窓口をご紹介します。');
  await dialog.getByRole('button', { name: 'お断りを送る' }).click();
  await staff.getByText('decline.me@example.jp あてに、お断りのメールを送りました').waitFor();
  assert.match((await mailbox.waitFor('decline.me@example.jp')).text, /お近くの窓口をご紹介します/);

  await staff.locator('.app-card', { hasText: 'duplicate@example.jp' }).getByRole('button', { name: '閉じる' }).click();
  dialog = staff.getByRole('dialog');
  await dialog.getByRole('button', { name: '閉じる' }).click();
  await staff.getByText('duplicate@example.jp の申し込みを閉じました').waitFor();
  await staff.getByText('お返事を待っている申し込みはありません').waitFor();
  await audit(staff, 'the staff page');
}));

test('my data as a download, then deleting my account: my messages stay, from a deleted member', () => guarded(async () => {
  const { staff } = state;
  await nav(staff).getByRole('link', { name: 'へや・ひろば' }).click();
  const guest = await person('leaving guest');
  await enter(guest, ctx.server.base, { handle: 'ゆうなぎ', shape: 'しずく', color: 'うみ' });
  await joinRoom(guest, 'ひろば', 'participant');
  const words = 'いままでありがとう。少し休みます';
  const box = shownRoom(guest).getByRole('textbox', { name: 'メッセージ' });
  await box.fill(words);
  await box.press('Enter');
  await shownRoom(staff).locator('.msg', { hasText: words }).locator('.msg-author', { hasText: 'ゆうなぎ' }).waitFor();

  await nav(guest).getByRole('link', { name: '設定' }).click();
  const [download] = await Promise.all([
    guest.waitForEvent('download'),
    guest.getByRole('button', { name: 'ダウンロードする' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'ibasho-my-data.json');
  const data = JSON.parse(await readFile(await download.path(), 'utf8'));
  assert.equal(data.account.handle, 'ゆうなぎ');
  assert.ok(data.messages.some((m) => m.body === words), 'my message is in my data');
  await guest.getByText('ダウンロードしました').waitFor();

  await guest.getByLabel('確認のため、あなたの呼び名「ゆうなぎ」を入力してください').fill('ゆうなぎじゃない');
  await guest.getByRole('button', { name: 'アカウントを削除する' }).click();
  await guest.locator('.field-error', { hasText: '呼び名が一致しません' }).waitFor();
  await guest.getByLabel('確認のため、あなたの呼び名「ゆうなぎ」を入力してください').fill('ゆうなぎ');
  await guest.getByRole('button', { name: 'アカウントを削除する' }).click();
  await heading(guest, 'ibasho へようこそ').waitFor();
  await guest.getByText('アカウントを削除しました').waitFor();
  assert.equal(await guest.evaluate(() => localStorage.getItem('ibasho.token')), null);

  await staff.reload();
  await shownRoom(staff).locator('.msg', { hasText: words }).locator('.msg-author', { hasText: '退会したメンバー' }).waitFor();

  for (const p of pages) assert.deepEqual(p.errors.filter((e) => !/Failed to load resource|WebSocket/.test(e)), [], 'no script errors');
  assert.deepEqual(dialogs, []);
}));
