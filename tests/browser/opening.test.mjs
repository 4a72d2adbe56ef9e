// Opening hours in real browsers, against servers on the real clock. Opening hours are
// written in whole minutes, so one story (closed, opening, a 1-minute notice, closing) would
// take at least two minutes after the opening. Instead three servers run side by side, each
// with its change at the first whole minute at least LEAD_MS away, so that the file takes
// between LEAD_MS and LEAD_MS + 60 s plus a few seconds:
//
// - "opening": closed, then open. A participant sees the calm closed page with the next
//   opening (audited with axe, in both languages), then is let in by itself when it opens
//   (to the welcome panel, having chosen no way to be in the plaza yet); staff see a banner while it is closed and stay in the plaza; the public
//   home page says when it opens, then that it is open.
// - "notice": open, with closing_notice_minutes = [1] and the closing a minute after the
//   notice is due. A participant in the plaza gets a polite notice (not a dialog) that the
//   keyboard reaches and dismisses; staff get their own.
// - "closing": open, then closed. A participant in the plaza sees the calm page with a
//   thank-you line and the next opening; staff stay in the plaza and see the banner.
//
// The time zone is a fixed offset chosen so that the space's local time is around noon, far
// from midnight (periods do not cross it).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WAIT_MS, audit, enter, joinRoom, launchBrowser, newPerson, shownRoom, startServer } from './harness.mjs';

const MINUTE = 60_000;
// Time enough to start a server, enter and look around before the change under test.
const LEAD_MS = 14_000;
const PLAZA = 'ひろば';

// UTC+offsetHours puts the local time near 12:00.
const offsetHours = 12 - new Date().getUTCHours();
const timeZone = offsetHours === 0 ? 'Etc/GMT' : `Etc/GMT${offsetHours > 0 ? '-' : '+'}${Math.abs(offsetHours)}`;

/** `{date: 'YYYY-MM-DD', time: 'HH:MM'}` of `ms` in the space's time zone. */
function local(ms) {
  const iso = new Date(ms + offsetHours * 3_600_000).toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 16) };
}

/** The first whole minute at least `ms` from now. */
function minuteAfter(ms) {
  return Math.ceil((Date.now() + ms) / MINUTE) * MINUTE;
}

/** 「11月25日（水）」 in the space's time zone, as the client writes it. */
function dayJa(ms) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('ja-JP', { timeZone, month: 'numeric', day: 'numeric', weekday: 'short' })
    .formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return `${parts.month}月${parts.day}日（${parts.weekday}）`;
}

/** A period as the closed page says it, without the time zone. */
function periodJa(start, end) {
  return `${dayJa(start)} ${local(start).time}〜${local(end).time}`;
}

let configDir = null;

/** A server with these opening periods ([start, end] instants, written as extra days). */
async function serverWith(periods) {
  const extra = periods.map(([start, end]) => {
    const from = local(start);
    return `  { date = "${from.date}", start = "${from.time}", end = "${local(end).time}" },`;
  });
  const file = path.join(configDir, `opening-${periods[0][0]}.toml`);
  await writeFile(file, [
    '[opening_hours]',
    `time_zone = "${timeZone}"`,
    'always_open = false',
    'closing_notice_minutes = [1]',
    'rules = []',
    'extra_days = [',
    ...extra,
    ']',
    '',
  ].join('\n'));
  return startServer({ env: { IBASHO_CONFIG: file, IBASHO_OPENING_HOURS__ALWAYS_OPEN: 'false' } });
}

const ctx = { browser: null, opening: null, notice: null, closing: null };
const pages = [];

async function person(name) {
  const page = await newPerson(ctx.browser, name);
  // Reduced motion: no colour is sampled halfway through a transition by the audit.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  pages.push(page);
  return page;
}

async function staffIn(server, name) {
  const token = await server.createAccount('staff', name);
  const page = await person(name);
  await page.goto(`${server.base}/#token=${token}`);
  return page;
}

/** Runs a scenario; on failure, prints what the server and the pages said. */
async function guarded(server, fn) {
  try {
    await fn();
  } catch (err) {
    console.error('--- server log ---\n%s', server.logs());
    for (const p of pages) if (p.errors.length) console.error('--- page errors ---\n%s', p.errors.join('\n'));
    throw err;
  }
}

const closedHeading = (page) => page.getByRole('heading', { level: 2, name: 'いまは閉まっています' });
const banner = (page) => page.locator('.opening-banner');
const notices = (page) => page.locator('#notices[aria-live="polite"]');

describe('opening hours', { concurrency: true }, () => {
  // When the "opening" server opens, the "notice" one gives its notice, the "closing" one closes.
  let opensAt = 0;
  let noticeAt = 0;
  let closesAt = 0;
  let tomorrow = null;

  before(async () => {
    configDir = await mkdtemp(path.join(os.tmpdir(), 'ibasho-opening-'));
    ctx.browser = await launchBrowser();
    opensAt = minuteAfter(LEAD_MS);
    noticeAt = opensAt;
    closesAt = opensAt;
    const startedAt = Math.floor(Date.now() / MINUTE) * MINUTE - MINUTE;
    // The next day at 10:00–11:00 local time: what the page says after closing.
    const nextDay = Date.parse(`${local(Date.now() + 24 * 3_600_000).date}T10:00:00Z`) - offsetHours * 3_600_000;
    tomorrow = [nextDay, nextDay + 60 * MINUTE];
    [ctx.opening, ctx.notice, ctx.closing] = await Promise.all([
      serverWith([[opensAt, opensAt + 10 * MINUTE]]),
      serverWith([[startedAt - MINUTE, noticeAt + MINUTE]]),
      serverWith([[startedAt, closesAt], tomorrow]),
    ]);
  });

  after(async () => {
    await ctx.browser?.close();
    await Promise.all([ctx.opening?.stop(), ctx.notice?.stop(), ctx.closing?.stop()]);
    if (configDir) await rm(configDir, { recursive: true, force: true });
  });

  it('while closed: the calm page and the staff banner; at opening, let in by itself', async () => {
    const server = ctx.opening;
    await guarded(server, async () => {
      const nextText = `次は ${periodJa(opensAt, opensAt + 10 * MINUTE)}`;

      // A visitor's home page says when the space opens, and that it is open once it is.
      const visitor = await person('visitor');
      await visitor.goto(server.base);
      await visitor.locator('.open-now', { hasText: `次に開くのは ${periodJa(opensAt, opensAt + 10 * MINUTE)}` }).waitFor();

      // A participant enters while it is closed: the calm page, not an error.
      const p = await person('participant');
      await enter(p, server.base, { handle: 'あさひ', shape: 'まる', color: 'そら' }, { heading: 'いまは閉まっています' });
      const closed = p.locator('.closed-view');
      await closed.locator('.closed-next', { hasText: nextText }).waitFor();
      assert.equal(await closed.locator('.closed-thanks').count(), 0, 'no thank-you line before coming in');
      assert.match(await closed.innerText(), /毎月 第2・第3・第4水曜日/, 'the usual hours in words');
      await closed.getByRole('link', { name: /119/ }).waitFor();
      assert.ok(await closedHeading(p).evaluate((el) => el === document.activeElement), 'the closed page is announced');
      assert.equal(await p.locator('.room-nav').isVisible(), false, 'no room list while closed');
      assert.equal(await p.getByRole('alert').count(), 0, 'nothing looks like an error');
      await audit(p, 'the closed page');
      await p.getByRole('button', { name: 'English' }).click();
      await p.getByRole('heading', { level: 2, name: 'The space is closed right now' }).waitFor();
      await p.locator('.closed-next', { hasText: 'It opens next on' }).waitFor();
      await audit(p, 'the closed page in English');
      await p.getByRole('button', { name: '日本語' }).click();
      await closedHeading(p).waitFor();

      // Staff come in at any hour: a banner says it is closed to the others.
      const staff = await staffIn(server, 'スタッフ');
      await banner(staff).getByText('いまは、参加者とご家族の方には閉まっている時間です。').waitFor();
      await banner(staff).getByText(`次に開くのは ${nextText.slice(3)}`).waitFor();
      await joinRoom(staff, PLAZA, 'participant');
      assert.ok(Date.now() < opensAt, `the set-up took longer than LEAD_MS (${LEAD_MS} ms)`);

      // It opens: the participant, who has not chosen a way to be in the plaza yet, is let in
      // without reloading to the welcome panel — nobody is made visible without choosing —
      // and goes into the plaza from there.
      const untilOpen = opensAt - Date.now() + WAIT_MS;
      await p.getByRole('heading', { name: 'ようこそ、あさひ さん' }).waitFor({ timeout: untilOpen });
      assert.ok(Date.now() >= opensAt - 1000, 'not before the opening');
      await notices(p).getByText('開きました。ようこそ。').waitFor();
      assert.equal(await p.locator('.closed-view').isVisible(), false);
      assert.equal(await shownRoom(staff).locator('#map-people li', { hasText: 'あさひ' }).count(), 0, 'not on the map before choosing');
      await joinRoom(p, PLAZA, 'participant');
      await shownRoom(p).locator('h2', { hasText: PLAZA }).waitFor();
      await shownRoom(staff).locator('#map-people li', { hasText: 'あさひ' }).waitFor({ state: 'attached' });
      await banner(staff).waitFor({ state: 'hidden' });
      await shownRoom(staff).locator('h2', { hasText: PLAZA }).waitFor();
      const openNow = visitor.locator('.open-now', { hasText: '開いています（' });
      await openNow.waitFor();
      assert.match(await openNow.innerText(), new RegExp(`${local(opensAt + 10 * MINUTE).time}\\s*まで）$`));

      // The plaza works as usual.
      const box = shownRoom(p).getByRole('textbox', { name: 'メッセージ' });
      await box.fill('こんにちは。開くのを待っていました');
      await box.press('Enter');
      await shownRoom(staff).locator('.timeline .msg-body', { hasText: '開くのを待っていました' }).waitFor();
      for (const page of [visitor, p, staff]) assert.deepEqual(page.errors, []);
    });
  });

  it('a minute before closing, a polite notice that the keyboard can put away', async () => {
    const server = ctx.notice;
    await guarded(server, async () => {
      const p = await person('participant told');
      await enter(p, server.base, { handle: 'こなぎ', shape: 'ほし', color: 'ふじ' });
      await joinRoom(p, PLAZA, 'participant');
      const staff = await staffIn(server, 'あんない');
      await joinRoom(staff, PLAZA, 'view_only');
      assert.ok(Date.now() < noticeAt, `the set-up took longer than LEAD_MS (${LEAD_MS} ms)`);

      const notice = notices(p).locator('.notice', { hasText: 'あと1分で閉まります。' });
      await notice.waitFor({ timeout: noticeAt - Date.now() + WAIT_MS });
      assert.ok(Date.now() >= noticeAt - 1000, 'not before it is due');
      assert.equal(await p.getByRole('dialog').count(), 0, 'not a dialog');
      await notices(staff).getByText('あと1分で、参加者とご家族の方の時間が終わります。').waitFor();
      await shownRoom(p).locator('h2', { hasText: PLAZA }).waitFor();
      // From the composer, Shift+Tab goes back through the page to the notice's button.
      await shownRoom(p).getByRole('textbox', { name: 'メッセージ' }).focus();
      const dismissButton = notice.getByRole('button', { name: '閉じる' });
      for (let i = 0; i < 60 && !(await dismissButton.evaluate((el) => el === document.activeElement)); i += 1) {
        await p.keyboard.press('Shift+Tab');
      }
      assert.ok(await dismissButton.evaluate((el) => el === document.activeElement), 'the notice is reached with the keyboard');
      await p.keyboard.press('Enter');
      await notice.waitFor({ state: 'detached' });
      await shownRoom(p).locator('h2', { hasText: PLAZA }).waitFor();
      for (const page of [p, staff]) assert.deepEqual(page.errors, []);
    });
  });

  it('at closing, out of the rooms to the calm page with thanks; staff stay', async () => {
    const server = ctx.closing;
    await guarded(server, async () => {
      const p = await person('leaving participant');
      await enter(p, server.base, { handle: 'ゆうなぎ', shape: 'しずく', color: 'うみ' });
      await joinRoom(p, PLAZA, 'participant');
      const staff = await staffIn(server, 'みまもり');
      await joinRoom(staff, PLAZA, 'view_only');
      await shownRoom(staff).locator('.person', { hasText: 'ゆうなぎ' }).waitFor();
      assert.equal(await banner(staff).isVisible(), false, 'no banner while open');
      assert.ok(Date.now() < closesAt, `the set-up took longer than LEAD_MS (${LEAD_MS} ms)`);

      // At closing: out of the plaza, the calm page, thanks for today, and when it opens next.
      await closedHeading(p).waitFor({ timeout: closesAt - Date.now() + WAIT_MS });
      assert.ok(Date.now() >= closesAt - 1000, 'not before closing');
      const closed = p.locator('.closed-view');
      await closed.locator('.closed-thanks', { hasText: '今日はありがとうございました。' }).waitFor();
      await closed.locator('.closed-next', { hasText: `次は ${periodJa(...tomorrow)}` }).waitFor();
      assert.equal(await shownRoom(p).count(), 0, 'the plaza is gone');
      assert.ok(await closedHeading(p).evaluate((el) => el === document.activeElement), 'the closed page is announced');
      assert.equal(await p.getByRole('alert').count(), 0, 'nothing looks like an error');

      // Staff stay, see the participant go, and the banner.
      await banner(staff).getByText('いまは、参加者とご家族の方には閉まっている時間です。').waitFor();
      await banner(staff).getByText(`次に開くのは ${periodJa(...tomorrow)}`).waitFor();
      await shownRoom(staff).locator('.person', { hasText: 'ゆうなぎ' }).waitFor({ state: 'detached' });
      await shownRoom(staff).locator('h2', { hasText: PLAZA }).waitFor();
      for (const page of [p, staff]) assert.deepEqual(page.errors, []);
    });
  });
});
