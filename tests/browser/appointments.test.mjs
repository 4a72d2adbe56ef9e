// Appointments in real browsers, on the real clock. A counsellor publishes bookable times for
// today on the console, checking the preview first. A family member finds a time about their
// family, books it with a first note; another family member who had the same time on screen
// is told kindly that it was just taken. The counsellor sees the booking with the name, the
// kind and the note. The consult room opens at the time (here: as soon as the booking is
// made, `appointments.open_minutes_before` = 60): the family member sees the booked time and
// waits for the counsellor, who comes; a message goes each way and the counsellor ends it.
// Staff see the day — times and kinds, never who or what — and the month's counts. Axe audits
// the booking page, the console's bookable times and the staff's view.
//
// The space's time zone is Asia/Tokyo, unless it is within two hours of midnight there: then a
// fixed offset that puts the space's clock near noon, so that the times stay within one day.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { OUTPUT_DIR, audit, localOn, newPerson, serverAndBrowser, zoneAwayFromMidnight } from './harness.mjs';

const timeZone = zoneAwayFromMidnight();
const local = (ms) => localOn(ms, timeZone);

const ctx = serverAndBrowser({
  env: {
    IBASHO_OPENING_HOURS__TIME_ZONE: timeZone,
    IBASHO_APPOINTMENTS__BOOK_UNTIL_MINUTES: '0',
    IBASHO_APPOINTMENTS__OPEN_MINUTES_BEFORE: '60',
  },
});

const COUNSELLOR = '相談員のはやし';
const FAMILY = 'ひだまり';
const OTHER = 'あさつゆ';
const NOTE = '娘が高校をやめてから、ほとんど部屋にいます。';
const FROM_COUNSELLOR = 'ご予約ありがとうございます。はやしです。';
const FROM_FAMILY = 'よろしくお願いします。';

const pages = [];

async function person(name) {
  const page = await newPerson(ctx.browser, name);
  page.who = name;
  await page.emulateMedia({ reducedMotion: 'reduce' });
  pages.push(page);
  return page;
}

async function guarded(fn) {
  try {
    await fn();
  } catch (err) {
    console.error('--- server log ---\n%s', ctx.server.logs());
    for (const p of pages) if (p.errors.length) console.error('--- page errors ---\n%s', p.errors.join('\n'));
    await mkdir(OUTPUT_DIR, { recursive: true });
    await Promise.all(pages.map((p) => p.screenshot({ path: path.join(OUTPUT_DIR, `appointments-${p.who}.png`), fullPage: true }).catch(() => {})));
    throw err;
  }
}

async function api(token, method, url, body) {
  const r = await fetch(`${ctx.server.base}${url}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(r.ok, `${method} ${url}: ${r.status} ${await r.clone().text()}`);
  return r.status === 204 ? null : r.json();
}

const nav = (page, name) => page.locator('#site-nav').getByRole('link', { name, exact: typeof name === 'string' }).click();
const heading = (page, name) => page.getByRole('heading', { level: 1, name });

test('a family member books a time, the counsellor sees it, both meet in the consult room at the time', () => guarded(async () => {
  const staffToken = await ctx.server.createAccount('staff', 'スタッフのかわの');
  const counsellorToken = await ctx.server.createAccount('counsellor', COUNSELLOR);
  const familyToken = await ctx.server.createAccount('family', FAMILY);
  const otherToken = await ctx.server.createAccount('family', OTHER);
  const me = await api(counsellorToken, 'GET', '/api/me');
  await api(staffToken, 'PUT', `/api/counsellors/${me.id ?? me.me?.id}`, { professions: ['social_worker'], capacity: 1 });

  // ---- the counsellor publishes times for today, previewing them first --------------------------
  const start = Date.now() + 3 * 60_000;
  const from = local(start);
  const until = local(start + 40 * 60_000);
  const counsellor = await person('counsellor');
  await counsellor.goto(`${ctx.server.base}/#token=${counsellorToken}`);
  await counsellor.getByRole('heading', { name: `ようこそ、${COUNSELLOR} さん` }).waitFor();
  await nav(counsellor, '相談の受付');
  const rules = counsellor.locator('.appt-rules');
  await rules.getByText('まだ公開している時間はありません。').waitFor();
  await rules.getByLabel('日付').fill(from.date);
  await rules.getByLabel('始まり').fill(from.time);
  await rules.getByLabel('終わり').fill(until.time);
  await rules.getByLabel('1 回の長さ（分）').fill('15');
  await rules.getByLabel('間の休み（分）').fill('5');
  await rules.getByRole('button', { name: '予約できる時間を確かめる' }).click();
  await rules.getByRole('heading', { name: 'この内容で予約できる時間（2 件）' }).waitFor();
  await audit(counsellor, "the console's bookable times with a preview");
  await rules.getByRole('button', { name: '公開する' }).click();
  await rules.locator('.appt-rule', { hasText: `${from.time}〜${until.time}` }).waitFor();
  await counsellor.locator('.appt-bookings').getByText('これからの予約はありません。').waitFor();

  // ---- two family members look for a time; one books it ---------------------------------------------
  const family = await person('family');
  const other = await person('other');
  for (const [page, token, name] of [[family, familyToken, FAMILY], [other, otherToken, OTHER]]) {
    await page.goto(`${ctx.server.base}/#token=${token}`);
    await page.getByRole('heading', { name: `ようこそ、${name} さん` }).waitFor();
    await nav(page, '予約');
    await heading(page, '相談の時間を予約する').waitFor();
    await page.getByText('予約はまだありません。').waitFor();
    // Nothing chosen yet: a calm word by the question.
    await page.getByRole('button', { name: '空いている時間を探す' }).click();
    await page.getByText('話したいことを一つ選んでください。').waitFor();
    await page.getByLabel('話したいこと').selectOption('family');
    await page.getByRole('button', { name: '空いている時間を探す' }).click();
    await page.getByRole('heading', { name: /空いている時間/ , level: 3 }).waitFor();
  }
  const slot = (page) => page.locator('.appt-slot', { hasText: `${from.time}〜` }).first();
  await slot(family).waitFor();
  assert.ok((await slot(family).textContent()).includes(COUNSELLOR), 'the counsellor is named with the time');
  await audit(family, 'the free times');
  await slot(family).click();
  await family.getByRole('heading', { name: 'この時間で予約します' }).waitFor();
  await family.getByLabel('最初のメモ').fill(NOTE);
  await audit(family, 'the booking form');
  // The other had the same time on screen and chooses it too.
  await slot(other).click();
  await other.getByRole('heading', { name: 'この時間で予約します' }).waitFor();
  await family.getByRole('button', { name: '予約する' }).click();
  const mine = family.locator('.appt-mine');
  await mine.locator('.appt-booking', { hasText: COUNSELLOR }).waitFor();
  await mine.getByText(`最初のメモ：${NOTE}`).waitFor();
  await other.getByRole('button', { name: '予約する' }).click();
  await other.getByText('選んだ時間は、たった今ほかの方の予約が入りました。ごめんなさい。別の時間をお選びください。').waitFor();
  assert.equal(await other.locator('.appt-slot', { hasText: `${from.time}〜` }).count(), 0, 'the taken time is no longer offered');
  await audit(other, 'the kind word when someone else was quicker');

  // ---- the counsellor sees the booking -------------------------------------------------------------------
  const booking = counsellor.locator('.appt-bookings .appt-booking');
  await booking.getByText(`${FAMILY} さん・家族のこと・ご家族から`).waitFor();
  await booking.getByText(`最初のメモ：${NOTE}`).waitFor();

  // ---- the consult room opens for the two ------------------------------------------------------------------
  await nav(family, /^相談する/);
  const talk = family.locator('.consult-talking');
  await talk.getByText(/^予約の時間：/).waitFor();
  const panel = counsellor.locator('.case-panel:not([hidden])');
  await counsellor.getByRole('tab', { name: new RegExp(FAMILY) }).waitFor();
  await panel.locator('.timeline .msg-body', { hasText: NOTE }).waitFor();
  await talk.getByText('相談員が来ました。').waitFor();
  await panel.getByText(`${FAMILY} さんは、いま相談の画面にいます。`).waitFor();
  const counsellorBox = panel.getByRole('textbox', { name: 'メッセージ' });
  await counsellorBox.fill(FROM_COUNSELLOR);
  await counsellorBox.press('Enter');
  await talk.locator('.timeline .msg-body', { hasText: FROM_COUNSELLOR }).waitFor();
  const familyBox = talk.getByRole('textbox', { name: 'メッセージ' });
  await familyBox.fill(FROM_FAMILY);
  await familyBox.press('Enter');
  await panel.locator('.timeline .msg-body', { hasText: FROM_FAMILY }).waitFor();
  await audit(family, 'the booked consult');
  await panel.getByRole('button', { name: '相談を終える' }).click();
  await counsellor.getByRole('dialog').getByRole('button', { name: '終える' }).click();
  await heading(family, '相談が終わりました').waitFor();

  // ---- staff: the day and the month, never who or what ------------------------------------------------------
  const staff = await person('staff');
  await staff.goto(`${ctx.server.base}/#token=${staffToken}`);
  await staff.getByRole('heading', { name: 'ようこそ、スタッフのかわの さん' }).waitFor();
  await nav(staff, '相談の状況');
  const view = staff.locator('.appt-staff');
  await view.getByLabel('日付').fill(from.date);
  await view.getByRole('button', { name: '表示する' }).click();
  await view.getByRole('heading', { name: COUNSELLOR }).waitFor();
  await view.getByText(/家族のこと・ご家族から — 相談しました/).waitFor();
  await view.locator('tr.total td').nth(1).getByText('1').waitFor();
  assert.equal(await staff.getByText(FAMILY).count(), 0, 'staff never see who booked');
  assert.equal(await staff.getByText(NOTE).count(), 0, 'staff never see what was written');
  await audit(staff, 'the staff view of bookings');
}));
