// Private consultations in real browsers. Staff set a counsellor's professions and capacity on
// the consult page. A family member asks for a consult (about a family member, with a first
// message) while no counsellor takes consults, and waits: first in line, the wait honestly
// not estimated. Staff see the queue — counts and waits, never what was written — and mark the
// request urgent. The counsellor says they take consults, is offered the request with its first
// message and a countdown, and accepts; both are in the private room (which no room list
// shows), a message goes each way, the counsellor writes private notes with an outcome and
// ends the consult, and the family member sees a calm ending. Then, with no counsellor free,
// a participant whose first message holds a crisis word sees the crisis contacts first in the
// waiting room and leaves a message instead; the counsellor and staff see it, and staff mark it
// handled. Axe audits every new screen.

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { OUTPUT_DIR, audit, enter, newPerson, serverAndBrowser, startServer } from './harness.mjs';

// A counsellor who drops has this long to come back (120 s as shipped): long enough for a
// reload, short enough for the second scenario to see the consult go back to the queue.
const GRACE_SECS = 8;
const SERVER = { env: { IBASHO_CONSULT__RECONNECT_GRACE_SECS: String(GRACE_SECS) } };
const ctx = serverAndBrowser(SERVER);

const COUNSELLOR = '相談員のさとう';
const FAMILY = 'こもれび';
const PARTICIPANT = 'そよかぜ';
const FIRST = '息子が半年ほど部屋から出てきません。どう声をかければいいのか分からなくて。';
const FROM_COUNSELLOR = '話してくれてありがとうございます。息子さんは、いまどんな様子ですか。';
const FROM_FAMILY = '夜はときどき台所に来ます。話しかけると部屋に戻ってしまいます。';
const NOTES = '母親から。本人への声かけについて。次回は本人の生活リズムを聞く。';
const LEFT = '夕方なら連絡がつきます。';

const pages = [];

async function person(name) {
  const page = await newPerson(ctx.browser, name);
  page.who = name;
  // No colour is sampled halfway through a transition by the audits.
  await page.emulateMedia({ reducedMotion: 'reduce' });
  pages.push(page);
  return page;
}

/** Runs a scenario; on failure, prints what the server and the pages said. */
async function guarded(fn, server = ctx.server) {
  try {
    await fn();
  } catch (err) {
    console.error('--- server log ---\n%s', server.logs());
    for (const p of pages) if (p.errors.length) console.error('--- page errors ---\n%s', p.errors.join('\n'));
    // What each page showed, for whoever reads the failure.
    await mkdir(OUTPUT_DIR, { recursive: true });
    await Promise.all(pages.map((p) => p.screenshot({ path: path.join(OUTPUT_DIR, `consult-${p.who}.png`), fullPage: true }).catch(() => {})));
    throw err;
  }
}

/** Staff's own calls, for what the second scenario sets up around its story. */
async function api(server, token, method, url, body) {
  const r = await fetch(`${server.base}${url}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  assert.ok(r.ok, `${method} ${url}: ${r.status} ${await r.clone().text()}`);
  return r.status === 204 ? null : r.json();
}

const nav = (page, name) => page.locator('#site-nav').getByRole('link', { name }).click();
const heading = (page, name) => page.getByRole('heading', { level: 1, name });

test('ask, wait, an offer, the private room, notes, the end; a message left when no one is free', () => guarded(async () => {
  const staffToken = await ctx.server.createAccount('staff', 'スタッフのみなみ');
  const counsellorToken = await ctx.server.createAccount('counsellor', COUNSELLOR);
  const familyToken = await ctx.server.createAccount('family', FAMILY);

  // ---- staff set the counsellor's profile ------------------------------------------------------
  const staff = await person('staff');
  await staff.goto(`${ctx.server.base}/#token=${staffToken}`);
  await staff.getByRole('heading', { name: 'ようこそ、スタッフのみなみ さん' }).waitFor();
  await nav(staff, '相談の状況');
  await heading(staff, '相談の状況').waitFor();
  const profile = staff.locator('.counsellor-profile', { has: staff.getByRole('heading', { name: COUNSELLOR }) });
  await profile.getByRole('checkbox', { name: '臨床心理士・公認心理師' }).check();
  await profile.getByRole('checkbox', { name: '社会福祉士・精神保健福祉士' }).check();
  await profile.getByLabel('同時に受けられる相談の数').fill('0');
  await profile.getByRole('button', { name: '保存する' }).click();
  await profile.getByText('1〜10 の数にしてください。').waitFor();
  await profile.getByLabel('同時に受けられる相談の数').fill('2');
  await profile.getByRole('button', { name: '保存する' }).click();
  await profile.getByText(`${COUNSELLOR} さんの設定を保存しました。`).waitFor();
  const queue = staff.locator('.consult-queue');
  await queue.getByText('受付中です。').waitFor();
  await audit(staff, 'the staff consult page: the queue and the counsellor profiles');

  // ---- the counsellor's console, away for now ------------------------------------------------------
  const counsellor = await person('counsellor');
  await counsellor.goto(`${ctx.server.base}/#token=${counsellorToken}`);
  await counsellor.getByRole('heading', { name: `ようこそ、${COUNSELLOR} さん` }).waitFor();
  await nav(counsellor, '相談の受付');
  await heading(counsellor, '相談の受付').waitFor();
  await counsellor.getByText('職種：臨床心理士・公認心理師・社会福祉士・精神保健福祉士・同時に受けられる相談：2 件。').waitFor();
  assert.ok(await counsellor.getByRole('radio', { name: /休憩中/ }).isChecked(), 'a counsellor starts away');
  await counsellor.getByText('いまは申し出はありません。').waitFor();
  await audit(counsellor, 'the counsellor console');

  // ---- the family member asks -----------------------------------------------------------------------------
  const family = await person('family');
  await family.goto(`${ctx.server.base}/#token=${familyToken}`);
  await family.getByRole('heading', { name: `ようこそ、${FAMILY} さん` }).waitFor();
  await nav(family, '相談する');
  await heading(family, '相談する').waitFor();
  await family.getByText('相談員は、臨床心理士・公認心理師や、社会福祉士・精神保健福祉士です。').waitFor();
  // Nothing chosen: a calm word next to the question, and focus goes there.
  await family.getByRole('button', { name: '相談を申し込む' }).click();
  await family.getByText('話したいことを一つ選んでください。').waitFor();
  assert.equal(await family.evaluate(() => document.activeElement?.name), 'consult-topic');
  await audit(family, 'the consult form with its error');
  await family.getByRole('radio', { name: '家族のこと' }).first().check();
  assert.ok(await family.getByRole('radio', { name: /家族のこと/ }).last().isChecked(), 'a family member asks about a family member by default');
  await family.getByRole('radio', { name: /社会福祉士・精神保健福祉士/ }).check();
  await family.getByLabel('最初に伝えたいこと').fill(FIRST);
  await family.getByRole('button', { name: '相談を申し込む' }).click();

  // The waiting room: first in line; no one takes consults, so no estimate, and it says so.
  await heading(family, '相談員を待っています').waitFor();
  await family.getByText('次があなたの番です。').waitFor();
  await family.getByText('いまは待ち時間の目安を出せません').waitFor();
  await family.locator('#site-nav').getByRole('link', { name: /相談する.*順番待ち/ }).waitFor();
  await family.getByRole('button', { name: '順番待ちをやめる' }).waitFor();
  await family.getByRole('heading', { name: 'いますぐ話したいとき' }).waitFor();
  await audit(family, 'the waiting room');

  // A reload finds the waiting room again: the server says where the request stands.
  await family.reload();
  await heading(family, '相談員を待っています').waitFor();
  await family.getByText('次があなたの番です。').waitFor();

  // Staff see it in the queue — sent to everyone who works here whenever it changes
  // (docs/protocol.md, "Supervision and the queue"), a new request too — without what was
  // written, and mark it urgent.
  await queue.getByText('受付番号 1・').waitFor().catch((err) => {
    throw new Error(`the queue was not sent again after a request that no one could take yet: ${err.message}`);
  });
  await queue.getByRole('button', { name: '急ぎにする' }).click();
  await queue.locator('.queue-count', { hasText: 'うち急ぎ' }).getByText('1 人').waitFor();
  assert.equal(await staff.getByText(FIRST).count(), 0, 'staff never see what was written');
  await audit(staff, 'the staff queue with a waiting request');

  // ---- the counsellor takes consults: the offer, accepted -------------------------------------------------
  await counsellor.getByRole('radio', { name: /相談を受ける/ }).check();
  const offer = counsellor.locator('.console-offer');
  await offer.getByText(FIRST).waitFor();
  await offer.getByText('家族のこと').first().waitFor();
  await offer.locator('.badge-urgent', { hasText: '急ぎ' }).waitFor();
  assert.match(await offer.locator('[role="timer"]').textContent(), /^あと \d+ 秒/);
  await counsellor.locator('#site-nav').getByRole('link', { name: /相談の受付.*申し出あり/ }).waitFor();
  await audit(counsellor, 'the console with an offer');
  await offer.getByRole('button', { name: '受ける' }).click();
  await offer.getByText('いまは申し出はありません。').waitFor();

  // Both are in the private room; the first message is its first message.
  const panel = counsellor.locator('.case-panel:not([hidden])');
  await counsellor.getByRole('tab', { name: new RegExp(FAMILY) }).waitFor();
  await panel.getByRole('heading', { name: `${FAMILY} さんとの相談` }).waitFor();
  await panel.locator('.timeline .msg-body', { hasText: FIRST }).waitFor();
  await heading(family, `${COUNSELLOR} さんとの相談`).waitFor();
  const talk = family.locator('.consult-talking');
  await talk.locator('.timeline .msg-body', { hasText: FIRST }).waitFor();

  // A message each way.
  const counsellorBox = panel.getByRole('textbox', { name: 'メッセージ' });
  await counsellorBox.fill(FROM_COUNSELLOR);
  await counsellorBox.press('Enter');
  await talk.locator('.timeline .msg', { hasText: FROM_COUNSELLOR }).locator('.badge', { hasText: '相談員' }).waitFor();
  const familyBox = talk.getByRole('textbox', { name: 'メッセージ' });
  await familyBox.fill(FROM_FAMILY);
  await familyBox.press('Enter');
  await panel.locator('.timeline .msg-body', { hasText: FROM_FAMILY }).waitFor();
  await talk.locator('.timeline .msg:not(.pending) .msg-body', { hasText: FROM_FAMILY }).waitFor();
  await panel.getByText(`${FAMILY} さんは、いま相談の画面にいます。`).waitFor();
  await audit(family, 'the consult room (requester)');
  await audit(counsellor, 'the console with a consult under way');

  // The counsellor reloads: back within the grace, the consult goes on with what was said.
  await counsellor.reload();
  await heading(counsellor, '相談の受付').waitFor();
  await panel.locator('.timeline .msg-body', { hasText: FROM_FAMILY }).waitFor();
  await panel.getByText(`${FAMILY} さんは、いま相談の画面にいます。`).waitFor();
  assert.ok(await counsellor.getByRole('radio', { name: /相談を受ける/ }).isChecked(), 'still taking consults');
  await talk.locator('.consult-notice.is-waiting').waitFor({ state: 'detached' });

  // The consult room is in no room list, and the conversation waits while the person is elsewhere.
  await nav(family, 'へや・ひろば');
  await family.getByRole('heading', { name: `ようこそ、${FAMILY} さん` }).waitFor();
  assert.equal(await family.locator('.room-nav [data-room^="consult-"]').count(), 0, 'a consult room is never listed');
  await nav(family, '相談する');
  await heading(family, `${COUNSELLOR} さんとの相談`).waitFor();
  await talk.locator('.timeline .msg-body', { hasText: FROM_COUNSELLOR }).waitFor();

  // Staff see it under way, still without content.
  await queue.locator('.queue-count', { hasText: '相談中' }).getByText('1 件').waitFor();
  assert.equal(await staff.getByText(FROM_FAMILY).count(), 0);

  // ---- notes and the end ---------------------------------------------------------------------------------
  await panel.getByText('この記録は、相談した人には見えません。').waitFor();
  await panel.getByLabel('メモ').fill(NOTES);
  await panel.getByRole('radio', { name: '次回も継続' }).check();
  await panel.getByRole('button', { name: '記録を保存する' }).click();
  await panel.getByText(/に保存しました。$/).waitFor();
  await panel.getByRole('button', { name: '相談を終える' }).click();
  const confirm = counsellor.getByRole('dialog', { name: `${FAMILY} さんとの相談を終えますか？` });
  await confirm.getByRole('button', { name: '終える' }).click();
  await confirm.waitFor({ state: 'detached' });
  await panel.getByText('この相談は終わりました。記録を書き終えたら、このタブを閉じてください。').waitFor();
  assert.ok(await panel.getByLabel('メモ').isEnabled(), 'the notes can still be written after the end');
  assert.equal(await panel.getByLabel('メモ').inputValue(), NOTES);

  await heading(family, '相談が終わりました').waitFor();
  await family.getByText('話してくれて、ありがとうございました。').waitFor();
  await family.locator('.consult-transcript .msg-body', { hasText: FROM_COUNSELLOR }).waitFor();
  assert.equal(await family.locator('.consult-transcript textarea:visible').count(), 0, 'nothing more can be written');
  assert.equal(await family.locator('.consult-transcript').getByRole('button', { name: '削除' }).count(), 0, 'what was said stays as it was');
  await audit(family, 'the calm ending');
  await family.getByRole('button', { name: 'English' }).click();
  await heading(family, 'Your consultation has ended').waitFor();
  await family.getByRole('button', { name: 'Close this screen' }).waitFor();
  await audit(family, 'the calm ending in English');
  await family.getByRole('button', { name: '日本語' }).click();
  await family.getByRole('button', { name: '相談の画面を閉じる' }).click();
  await heading(family, '相談する').waitFor();

  await panel.getByRole('button', { name: 'このタブを閉じる' }).click();
  await counsellor.getByText('いま担当している相談はありません。').waitFor();

  // ---- no one free: a message left; the crisis contacts first --------------------------------------------
  await counsellor.getByRole('radio', { name: /休憩中/ }).check();
  await queue.locator('.queue-counsellor', { hasText: COUNSELLOR }).getByText('休憩中').waitFor();
  const participant = await person('participant');
  await enter(participant, ctx.server.base, { handle: PARTICIPANT, shape: 'しずく', color: 'うみ' });
  await participant.getByRole('link', { name: '相談の申し込みへ' }).click();
  await heading(participant, '相談する').waitFor();
  assert.ok(await participant.getByRole('radio', { name: /自分のこと/ }).isChecked(), 'a participant asks about themselves by default');
  await participant.getByRole('radio', { name: 'そのほか' }).check();
  await participant.getByLabel('最初に伝えたいこと').fill('ときどき消えたいと思うことがあります。');
  await participant.getByRole('button', { name: '相談を申し込む' }).click();
  await heading(participant, '相談員を待っています').waitFor();
  const contacts = participant.locator('.consult-crisis.is-prominent');
  await contacts.getByRole('heading', { name: 'すぐにつながれる窓口' }).waitFor();
  await contacts.locator('a[href="tel:0120279338"]').waitFor();
  await audit(participant, 'the waiting room with the crisis contacts first');

  await participant.getByRole('button', { name: 'メッセージを書く' }).click();
  await participant.getByLabel('相談員へのメッセージ').fill(LEFT);
  await participant.getByRole('button', { name: 'メッセージを残して順番待ちを終える' }).click();
  await heading(participant, 'メッセージを受け取りました').waitFor();

  // The counsellor and staff see the message; staff mark it handled.
  const counsellorLeft = counsellor.locator('.left-messages');
  await counsellorLeft.getByRole('button', { name: '読み込み直す' }).click();
  await counsellorLeft.locator('.left-message', { hasText: LEFT }).waitFor();
  const staffLeft = staff.locator('.left-messages');
  await staffLeft.getByRole('button', { name: '読み込み直す' }).click();
  const left = staffLeft.locator('.left-message', { hasText: LEFT });
  await left.getByText(PARTICIPANT).waitFor();
  await left.getByText('そのほか').waitFor();
  await audit(staff, 'the messages left');
  await left.getByRole('button', { name: '対応済みにする' }).click();
  await staffLeft.getByText(`${PARTICIPANT} さんのメッセージを対応済みにしました。`).waitFor();
  await staffLeft.getByText('いま対応を待っているメッセージはありません。').waitFor();

  for (const p of pages) assert.deepEqual(p.errors, [], 'no script errors in any page');
}));

test('a supervisor observes; a counsellor drops and the consult waits for the next; handing on with a note', async () => {
  // A server of its own: the queue starts empty, whatever the scenario above left in it.
  const server = await startServer(SERVER);
  try {
    await guarded(() => observeDropHandOn(server), server);
  } finally {
    await server.stop();
  }
});

async function observeDropHandOn(server) {
  const staffToken = await server.createAccount('staff', 'スタッフのあさひ');
  const katoToken = await server.createAccount('counsellor', 'かとう');
  const tanakaToken = await server.createAccount('counsellor', 'たなか');
  // Set up directly (the staff screen was used above): たなか supervises.
  const counsellors = await api(server, staffToken, 'GET', '/api/counsellors');
  const account = (handle) => counsellors.find((c) => c.handle === handle).account;
  await api(server, staffToken, 'PUT', `/api/counsellors/${account('かとう')}`, { professions: ['social_worker'], capacity: 1, supervisor: false });
  await api(server, staffToken, 'PUT', `/api/counsellors/${account('たなか')}`, { professions: ['clinical_psychologist'], capacity: 1, supervisor: true });

  const kato = await person('かとう');
  await kato.goto(`${server.base}/#token=${katoToken}`);
  await kato.getByRole('heading', { name: 'ようこそ、かとう さん' }).waitFor();
  await nav(kato, '相談の受付');
  await heading(kato, '相談の受付').waitFor();
  await kato.getByRole('radio', { name: /相談を受ける/ }).check();
  const supervisor = await person('たなか');
  await supervisor.goto(`${server.base}/#token=${tanakaToken}`);
  await supervisor.getByRole('heading', { name: 'ようこそ、たなか さん' }).waitFor();
  await nav(supervisor, '相談の受付');
  await supervisor.getByText('スーパーバイザーとして、ほかの相談員の相談を見守れます。').waitFor();

  const asker = await person('はるかぜ');
  await enter(asker, server.base, { handle: 'はるかぜ', shape: 'はっぱ', color: 'わかば' });
  await nav(asker, '相談する');
  await asker.getByRole('radio', { name: '人間関係' }).check();
  await asker.getByRole('button', { name: '相談を申し込む' }).click();
  await kato.locator('.console-offer').getByText('（最初のメッセージはありません）').waitFor();
  await kato.locator('.console-offer').getByRole('button', { name: '受ける' }).click();
  await heading(asker, 'かとう さんとの相談').waitFor();
  const talk = asker.locator('.consult-talking');
  const askerBox = talk.getByRole('textbox', { name: 'メッセージ' });
  await askerBox.fill('はじめまして。');
  await askerBox.press('Enter');
  const katoPanel = kato.locator('.case-panel:not([hidden])');
  await katoPanel.locator('.timeline .msg-body', { hasText: 'はじめまして。' }).waitFor();

  // The supervisor observes: it is asked first, both sides are told, and nothing can be written.
  const observable = supervisor.locator('.consult-queue .queue-entry', { hasText: 'かとう' });
  await observable.getByRole('button', { name: '見守る' }).click();
  const ask = supervisor.getByRole('dialog', { name: /の相談を見守りますか？/ });
  await ask.getByText('見守ったことは記録に残ります。').waitFor();
  await ask.getByRole('button', { name: '見守る' }).click();
  const watching = supervisor.locator('.case-panel:not([hidden])');
  await watching.getByRole('heading', { name: '見守り：はるかぜ さんの相談' }).waitFor();
  await watching.locator('.timeline .msg-body', { hasText: 'はじめまして。' }).waitFor();
  assert.equal(await watching.locator('textarea:visible').count(), 0, 'an observer cannot write');
  await katoPanel.getByText('たなか さんが、この相談を見守っています（記録に残ります）。').waitFor();
  await talk.getByText('相談員を支える たなか さんが、この相談を見守っています（書き込みはしません）。').waitFor();
  assert.equal(await observable.getByRole('button', { name: '見守る' }).count(), 0, 'no second observation is offered');
  await audit(supervisor, 'the console while observing');

  // The counsellor's connection goes: the person is told to wait a little; after the grace,
  // the consult goes back to the queue with what was said, and writing waits for the next one.
  await kato.close();
  await talk.getByText('相談員の接続が切れました。').waitFor();
  await heading(asker, '相談員を待っています').waitFor({ timeout: (GRACE_SECS + 10) * 1000 });
  await asker.getByText('相談員が交代します。').waitFor();
  const soFar = asker.locator('.consult-transcript');
  await soFar.locator('.msg-body', { hasText: 'はじめまして。' }).waitFor();
  await soFar.getByText('次の相談員がつながったら、また書き込めます。').waitFor();
  assert.ok(await soFar.getByRole('textbox', { name: 'メッセージ' }).isDisabled());

  // The supervisor takes it over.
  await supervisor.getByRole('radio', { name: /相談を受ける/ }).check();
  const offer = supervisor.locator('.console-offer');
  await offer.getByRole('button', { name: '受ける' }).click();
  const mine = supervisor.locator('.case-panel:not([hidden])');
  await mine.getByRole('heading', { name: 'はるかぜ さんとの相談' }).waitFor();
  await mine.locator('.timeline .msg-body', { hasText: 'はじめまして。' }).waitFor();
  await heading(asker, 'たなか さんとの相談').waitFor();
  await talk.getByRole('textbox', { name: 'メッセージ' }).fill('よろしくお願いします。');
  await talk.getByRole('textbox', { name: 'メッセージ' }).press('Enter');
  await mine.locator('.timeline .msg-body', { hasText: 'よろしくお願いします。' }).waitFor();

  // Handing it on, with a note only the next counsellor reads. No one else is free, so it
  // comes back to the same counsellor, note and all.
  await mine.getByRole('button', { name: '引き継ぐ' }).click();
  const hand = supervisor.getByRole('dialog', { name: 'はるかぜ さんの相談を引き継ぐ' });
  await hand.getByRole('button', { name: '引き継ぐ' }).click();
  await hand.getByText('次の相談員へのメモを書いてください。').waitFor();
  await audit(supervisor, 'the transfer dialog');
  await hand.getByLabel('引き継ぎメモ').fill('人間関係の相談。次は福祉職がよいかもしれない。');
  await hand.getByRole('button', { name: '引き継ぐ' }).click();
  await hand.waitFor({ state: 'detached' });
  await offer.getByText('人間関係の相談。次は福祉職がよいかもしれない。').waitFor();
  await offer.getByText('ほかの相談員から引き継がれた相談です。').waitFor();
  assert.equal(await asker.getByText('次は福祉職がよいかもしれない').count(), 0, 'the handover note is not for the person');
  await offer.getByRole('button', { name: '受ける' }).click();
  await mine.getByRole('heading', { name: 'はるかぜ さんとの相談' }).waitFor();
  await heading(asker, 'たなか さんとの相談').waitFor();
  await mine.getByRole('button', { name: '相談を終える' }).click();
  await supervisor.getByRole('dialog').getByRole('button', { name: '終える' }).click();
  await heading(asker, '相談が終わりました').waitFor();

  for (const p of [kato, supervisor, asker]) assert.deepEqual(p.errors, [], 'no script errors in any page');
}
