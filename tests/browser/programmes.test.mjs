// Programmes in real browsers, on the real clock. Staff create a programme on their screen and
// schedule a session that started a minute or two ago, checking the preview before saving
// (a weekly rule: the weeks after this one fall outside the opening hours of this server, so
// they are marked as not taking place). A participant finds it under way in the timetable and
// goes in to take part; the programme allows one person who writes, so a second participant is
// offered to watch instead, and appears to the first only in the count. The host pins a
// notice and takes the stage (stamps still work), then invites the watcher to join in, who
// does. Staff call the session off: both are told why, and the timetable says so. The month's
// statistics count the two (names never appear), and an uploaded introduction shows in the
// gallery. Axe audits the timetable, the staff screen, the programme room, the gallery and the
// statistics. Beside that story, someone in another session is told politely, in the room, a
// minute before it ends.
//
// The space's time zone is Asia/Tokyo, unless it is within two hours of midnight there: then a
// fixed offset that puts the space's clock near noon, so that no session crosses midnight.

import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { audit, enter, launchBrowser, localOn, newPerson, shownRoom, startServer, zoneAwayFromMidnight } from './harness.mjs';

const MINUTE = 60_000;

const timeZone = zoneAwayFromMidnight();
const local = (ms) => localOn(ms, timeZone);

const TITLE = 'うたカフェ';
const PIN = '今日のテーマ：好きな音';
const REASON = '講師の体調不良のため、お休みします。';
const HOST = 'ホストのさくら';
const A = { handle: 'あおば', shape: 'まる', color: 'わかば' };
const B = { handle: 'こはる', shape: 'しずく', color: 'うみ' };
// A 1×1 PNG, as an introduction picture.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');

const ctx = { server: null, browser: null, dir: null };
const pages = [];

before(async () => {
  ctx.dir = await mkdtemp(path.join(os.tmpdir(), 'ibasho-programmes-'));
  const today = local(Date.now()).date;
  // Open all day today only: a weekly rule's later weeks fall outside the opening hours.
  const file = path.join(ctx.dir, 'programmes.toml');
  await writeFile(file, [
    '[opening_hours]',
    `time_zone = "${timeZone}"`,
    'always_open = false',
    'rules = []',
    `extra_days = [{ date = "${today}", start = "00:00", end = "23:59" }]`,
    '',
  ].join('\n'));
  ctx.server = await startServer({ env: { IBASHO_CONFIG: file, IBASHO_OPENING_HOURS__ALWAYS_OPEN: 'false' } });
  ctx.browser = await launchBrowser();
});

after(async () => {
  await ctx.browser?.close();
  await ctx.server?.stop();
  if (ctx.dir) await rm(ctx.dir, { recursive: true, force: true });
});

async function person(name) {
  const page = await newPerson(ctx.browser, name);
  // No colour is sampled halfway through a transition by the audits.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  pages.push(page);
  return page;
}

/** Staff's own calls, for what the test sets up around the story. */
async function api(token, method, url, body) {
  const r = await fetch(`${ctx.server.base}${url}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(r.ok, `${method} ${url}: ${r.status} ${await r.clone().text()}`);
  return r.status === 204 ? null : r.json();
}

const nav = (page, name) => page.locator('#site-nav').getByRole('link', { name, exact: true }).click();
const entry = (page, title) => page.locator('.tt-entry', { has: page.getByRole('heading', { name: title, exact: true }) });
const notices = (page) => page.locator('#notices[aria-live="polite"]');

/** Runs a scenario; on failure, prints what the server and the pages said. */
async function guarded(fn) {
  try {
    await fn();
  } catch (err) {
    console.error('--- server log ---\n%s', ctx.server.logs());
    for (const p of pages) if (p.errors.length) console.error('--- page errors ---\n%s', p.errors.join('\n'));
    throw err;
  }
}

describe('programmes', { concurrency: true }, () => {
  it('schedule with a preview, the timetable, watching, host controls, calling off', async () => {
    await guarded(scenario);
    for (const p of pages) assert.deepEqual(p.errors, [], 'no script errors in any page');
  });

  it('before the end, a polite notice in the room', async () => {
    await guarded(ending);
  });
});

/**
 * A session whose notice before the end (a minute before) is due at the next whole minute —
 * or the one after, when the next is too close to go in first. It runs beside the story
 * above, so that the wait costs little.
 */
async function ending() {
  const now = Date.now();
  const start = Math.floor(now / MINUTE) * MINUTE - MINUTE;
  let noticeAt = Math.ceil(now / MINUTE) * MINUTE;
  if (noticeAt - now < 10_000) noticeAt += MINUTE;
  const end = noticeAt + MINUTE;
  const token = await ctx.server.createAccount('staff', 'ごはんの係');
  const meal = await api(token, 'POST', '/api/programmes', { title: 'ゆうやけごはん', category: 'meal', capacity: 20 });
  const at = local(start);
  await api(token, 'POST', `/api/programmes/${meal.id}/sessions`, {
    first_date: at.date, start: at.time, minutes: (end - start) / MINUTE, warn_before_minutes: 1,
  });
  const c = await person('C');
  await enter(c, ctx.server.base, { handle: 'ゆうひ', shape: 'ほし', color: 'みかん' });
  const link = c.locator('.room-nav').getByRole('button', { name: /ゆうやけごはん/ });
  await link.waitFor();
  await link.click();
  await c.getByRole('dialog').locator('input[value="chat_only"]').check();
  await c.getByRole('dialog').getByRole('button', { name: '入る', exact: true }).click();
  const room = shownRoom(c);
  await room.locator('h2', { hasText: 'ゆうやけごはん' }).waitFor();
  assert.ok(Date.now() < noticeAt, 'in the room before the notice is due');
  const notice = room.locator('.programme-ending[role="status"]', { hasText: `あと1分で終わります（${local(end).time}まで）。` });
  await notice.waitFor({ timeout: noticeAt - Date.now() + 15_000 });
  assert.ok(Date.now() >= noticeAt - 1000, 'not before it is due');
  assert.equal(await c.getByRole('dialog').count(), 0, 'not a dialog');
  assert.equal(await c.getByRole('alert').count(), 0, 'nothing looks like an error');
  assert.deepEqual(c.errors, []);
}

async function scenario() {
  const now = Date.now();
  // Started a minute or two ago, on the whole minute, for an hour.
  const start = Math.floor(now / MINUTE) * MINUTE - MINUTE;
  const at = local(start);

  // Another programme, set up directly: for people in their 20s and 30s, open for waiting now.
  const token = await ctx.server.createAccount('staff', HOST);
  const salon = await api(token, 'POST', '/api/programmes', {
    title: 'ピアサロン', category: 'peer_salon', capacity: 8, age_bands: ['20s', '30s'],
  });
  const later = local(Math.floor(now / MINUTE) * MINUTE + 5 * MINUTE);
  await api(token, 'POST', `/api/programmes/${salon.id}/sessions`, { first_date: later.date, start: later.time, minutes: 30, open_before_minutes: 10 });

  // Staff create the programme on their screen, hosting it themselves.
  const staff = await person('staff');
  await staff.goto(`${ctx.server.base}/#token=${token}`);
  await nav(staff, 'プログラム');
  await staff.getByRole('heading', { level: 1, name: 'プログラムの管理' }).waitFor();
  await staff.getByRole('button', { name: '新しいプログラムをつくる' }).click();
  const form = staff.locator('.programme-detail');
  await form.getByRole('heading', { name: '新しいプログラム' }).waitFor();
  await form.getByLabel('タイトル').fill(TITLE);
  await form.getByLabel('どんなプログラムか').fill('好きな歌を聴いたり、口ずさんだりします。');
  await form.getByRole('radio', { name: '音楽' }).check();
  await form.getByRole('checkbox', { name: `${HOST}（スタッフ）` }).check();
  await form.getByLabel('書き込める人の数').fill('1');
  await form.getByRole('button', { name: 'つくる', exact: true }).click();

  // Then its session: the preview shows the next occurrences before saving.
  await form.getByRole('heading', { name: `「${TITLE}」の日程` }).waitFor();
  await form.getByLabel('はじめの日').fill(at.date);
  await form.getByLabel('始まる時刻').fill(at.time);
  await form.getByLabel('長さ（分）').fill('60');
  await form.getByLabel('くりかえし').selectOption('weekly');
  const preview = form.locator('.schedule-preview');
  await preview.getByText('次の 12 回のうち、開かれるのは 1 回です。11 回は開館時間外です。').waitFor();
  const first = preview.locator('.preview-occurrence').first();
  assert.equal(await first.getAttribute('data-start'), String(start));
  assert.equal(await first.locator('.outside-note').count(), 0, 'this week takes place');
  assert.equal(await preview.locator('.preview-occurrence.outside', { hasText: '開館時間外のため開催されません' }).count(), 11);
  await audit(staff, 'the staff programme screen with a preview');
  await form.getByRole('button', { name: 'この日程で保存する' }).click();
  await form.getByText('日程を保存しました。').waitFor();
  const ahead = form.locator('.session-item .occurrence', { hasText: at.time });
  await ahead.locator('.phase', { hasText: '開催中' }).waitFor();

  // A participant finds it in the timetable, under way, and goes in to take part.
  const a = await person('A');
  await enter(a, ctx.server.base, A);
  await nav(a, '時間割');
  await a.getByRole('heading', { level: 1, name: '時間割' }).waitFor();
  const cafe = entry(a, TITLE);
  await cafe.locator('.phase', { hasText: '開催中' }).waitFor();
  await cafe.getByText(`${at.time}〜${local(start + 60 * MINUTE).time}`).waitFor();
  const salonEntry = entry(a, 'ピアサロン');
  await salonEntry.locator('.phase', { hasText: '入れます' }).waitFor();
  await salonEntry.getByText('対象：20 代・30 代の方').waitFor();
  await a.getByRole('link', { name: 'カレンダーの配信（iCalendar）' }).waitFor();
  assert.equal(await a.getByRole('link', { name: 'カレンダーの配信（iCalendar）' }).getAttribute('href'), '/api/calendar.ics');
  await audit(a, 'the timetable');
  await cafe.getByRole('button', { name: '入る' }).click();
  const dialog = a.getByRole('dialog');
  await dialog.locator('input[value="participant"]').check();
  await dialog.getByRole('button', { name: '入る', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  const roomA = shownRoom(a);
  await roomA.locator('.programme-meta .phase', { hasText: '開催中' }).waitFor();
  await roomA.locator('h2', { hasText: TITLE }).waitFor();

  // A second one finds it full for people who write, and watches instead.
  const b = await person('B');
  await enter(b, ctx.server.base, B);
  await nav(b, '時間割');
  await entry(b, TITLE).getByRole('button', { name: '入る' }).click();
  await b.getByRole('dialog').locator('input[value="participant"]').check();
  await b.getByRole('dialog').getByRole('button', { name: '入る', exact: true }).click();
  const full = b.getByRole('dialog', { name: /書き込む人がいっぱいです/ });
  await full.waitFor();
  await full.getByRole('button', { name: '見るだけで入る' }).click();
  await full.waitFor({ state: 'detached' });
  const roomB = shownRoom(b);
  await roomB.getByText('いまは「見るだけ」で入っています。').waitFor();
  await roomA.getByText('1 人が見ています').waitFor();
  assert.ok(!(await a.locator('body').innerText()).includes(B.handle), 'the watcher appears to others only in the count');

  // The host comes in, sees the watcher by name, pins a notice and takes the stage.
  await nav(staff, 'へや・ひろば');
  await staff.locator('.room-nav').getByRole('button', { name: new RegExp(TITLE) }).click();
  await staff.getByRole('dialog').locator('input[value="participant"]').check();
  await staff.getByRole('dialog').getByRole('button', { name: '入る', exact: true }).click();
  const roomS = shownRoom(staff);
  await roomS.locator('.watcher-list', { hasText: B.handle }).waitFor();
  await roomS.getByRole('button', { name: 'お知らせを固定する' }).click();
  await staff.getByRole('dialog').getByLabel('お知らせ').fill(PIN);
  await staff.getByRole('dialog').getByRole('button', { name: '固定する' }).click();
  await roomA.locator('.pinned-text', { hasText: PIN }).waitFor();
  await roomB.locator('.pinned-text', { hasText: PIN }).waitFor();

  await roomS.getByRole('button', { name: 'ステージを始める' }).click();
  await roomA.locator('.stage-line').waitFor();
  const composerA = roomA.getByRole('textbox', { name: 'メッセージ' });
  await a.waitForFunction(() => document.querySelector('.room-view:not([hidden]) .composer textarea')?.disabled === true);
  assert.match(await roomA.locator('.composer-note').innerText(), /スタンプは送れます/);
  const welcome = 'ようこそ。まずは一曲、聴いてください';
  await roomS.getByRole('textbox', { name: 'メッセージ' }).fill(welcome);
  await roomS.getByRole('textbox', { name: 'メッセージ' }).press('Enter');
  const welcomeOnA = roomA.locator('.timeline .msg', { hasText: welcome });
  await welcomeOnA.getByRole('button', { name: 'お茶どうぞ' }).click();
  await roomS.locator('.timeline .msg', { hasText: welcome }).locator('.stamp.has-count', { hasText: '1' }).waitFor();
  await audit(a, 'a programme room on stage, with a pinned notice');

  // The host invites the watcher to join in; the watcher does, and may write on stage.
  await roomS.getByRole('button', { name: `${B.handle} さんに参加をすすめる` }).click();
  const invite = roomB.locator('.voice-invite');
  await invite.getByText('ホストが参加をすすめています').waitFor();
  await invite.getByRole('button', { name: '参加する' }).click();
  await roomB.getByText('いまは「参加する」で入っています。').waitFor();
  await roomA.locator('.people .person', { hasText: B.handle }).waitFor();
  const hello = 'はじめて書きます。好きな歌はふるさとです';
  const composerB = roomB.getByRole('textbox', { name: 'メッセージ' });
  await composerB.fill(hello);
  await composerB.press('Enter');
  await roomA.locator('.timeline .msg-body', { hasText: hello }).waitFor();
  assert.equal(await composerA.isDisabled(), true, 'the others still rest on stage');

  // Staff call this session off: both are told why, calmly, and the timetable says so.
  await nav(staff, 'プログラム');
  const item = staff.locator('.programme-item', { hasText: TITLE });
  await item.getByRole('button', { name: '日程' }).click();
  const occurrence = staff.locator('.session-item .occurrence', { hasText: at.time });
  await occurrence.getByRole('button', { name: /の回をお休みにする$/ }).click();
  const cancel = staff.getByRole('dialog');
  await cancel.getByLabel(/理由/).fill(REASON);
  await cancel.getByRole('button', { name: 'お休みにする' }).click();
  await cancel.waitFor({ state: 'detached' });
  for (const page of [a, b]) {
    await notices(page).getByText(`お休みになりました。理由：${REASON}`).waitFor();
    await page.locator('.room-view', { hasText: PIN }).waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('alert').count(), 0, 'nothing looks like an error');
  }
  await occurrence.locator('.phase', { hasText: 'お休み' }).waitFor();
  await nav(a, '時間割');
  await entry(a, TITLE).locator('.phase', { hasText: 'お休み' }).waitFor();
  await entry(a, TITLE).getByText(`理由：${REASON}`).waitFor();
  assert.equal(await entry(a, TITLE).getByRole('button', { name: '入る' }).count(), 0, 'no way in to a session called off');

  // The month's statistics count the two who came, and name nobody.
  await nav(staff, '利用の集計');
  const row = staff.locator('.stats-table tbody tr', { hasText: TITLE });
  await row.waitFor();
  assert.equal(await row.locator('[data-col="joined"]').innerText(), '2');
  assert.equal(await row.locator('[data-col="participant"]').innerText(), '2');
  const statsText = await staff.locator('main').innerText();
  assert.ok(!statsText.includes(A.handle) && !statsText.includes(B.handle), 'no names in the statistics');
  await audit(staff, 'the statistics');
  const [download] = await Promise.all([
    staff.waitForEvent('download'),
    staff.getByRole('button', { name: 'CSV でダウンロード' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), `ibasho-${local(start).date.slice(0, 7)}.csv`);
  const csv = await readFile(await download.path(), 'utf8');
  assert.ok(csv.includes(TITLE), 'the session is in the CSV file');

  // An introduction picture, uploaded by staff, shows in the gallery.
  await nav(staff, 'ギャラリー');
  const card = staff.locator('.gallery-card', { has: staff.getByRole('heading', { name: TITLE, exact: true }) });
  await card.getByLabel('紹介の画像か動画').setInputFiles({ name: 'cafe.png', mimeType: 'image/png', buffer: PNG });
  await card.getByRole('button', { name: 'このファイルを送る' }).click();
  await card.getByText('紹介を入れ替えました。').waitFor();
  const picture = card.getByRole('img', { name: `「${TITLE}」の紹介の画像` });
  await picture.waitFor();
  await staff.waitForFunction((alt) => document.querySelector(`img[alt="${alt}"]`)?.naturalWidth === 1, `「${TITLE}」の紹介の画像`);
  await audit(staff, 'the gallery');
  await card.getByRole('button', { name: '紹介を外す' }).click();
  await staff.getByRole('dialog').getByRole('button', { name: '紹介を外す' }).click();
  await card.getByText('紹介を外しました。').waitFor();
  assert.equal(await card.getByRole('img').count(), 0, 'the picture is gone');
}
