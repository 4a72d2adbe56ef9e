// Checks on the web client's source that need no browser: every string is translated both
// ways, every error code of the protocol has words, and nothing builds HTML from strings or
// breaks the server's Content-Security-Policy (no inline scripts or styles, no other origins).

import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { REPO } from './harness.mjs';

const CLIENT = path.join(REPO, 'web-client');
const { TABLES, t, setLang } = await import(path.join(CLIENT, 'js', 'i18n.js'));

async function files(dir, ext) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await files(full, ext));
    else if (!ext || entry.name.endsWith(ext)) out.push(full);
  }
  return out;
}

const scripts = await Promise.all((await files(path.join(CLIENT, 'js'), '.js')).map(async (f) => ({ f, src: await readFile(f, 'utf8') })));

test('Japanese and English have the same keys', () => {
  const ja = Object.keys(TABLES.ja).sort();
  const en = Object.keys(TABLES.en).sort();
  assert.deepEqual(ja.filter((k) => !en.includes(k)), [], 'missing in en');
  assert.deepEqual(en.filter((k) => !ja.includes(k)), [], 'missing in ja');
});

test('every literal key used in the client exists', () => {
  const missing = [];
  for (const { f, src } of scripts) {
    for (const m of src.matchAll(/\bt\(\s*'([^']+)'/g)) {
      if (!(m[1] in TABLES.ja)) missing.push(`${path.basename(f)}: ${m[1]}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('every key family built at run time is complete', async () => {
  const protocol = await readFile(path.join(REPO, 'docs', 'protocol.md'), 'utf8');
  const errors = protocol.slice(protocol.indexOf('## Errors'), protocol.indexOf('## Close codes'));
  const codes = [...errors.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
  assert.ok(codes.length >= 20, 'error codes found in docs/protocol.md');
  const families = {
    shape: ['circle', 'square', 'triangle', 'star', 'heart', 'drop', 'leaf', 'cloud'],
    color: ['sakura', 'sora', 'wakaba', 'mikan', 'fuji', 'suna', 'umi', 'sumi'],
    stamp: ['wave', 'heart', 'smile', 'thanks', 'clap', 'tea', 'sparkle', 'eyes'],
    mode: ['participant', 'chat_only', 'view_only'],
    'staff': ['mute', 'unmute', 'remove', 'readmit'],
    'staff.done': ['mute', 'unmute', 'remove', 'readmit'],
    'enter.error': ['invalid_handle', 'handle_taken', 'rate_limited', 'not_allowed', 'network', 'other'],
    error: [...codes, 'disconnected', 'timeout', 'other'],
  };
  const missing = [];
  for (const [family, names] of Object.entries(families)) {
    for (const name of names) if (!(`${family}.${name}` in TABLES.ja)) missing.push(`${family}.${name}`);
  }
  for (const m of ['chat_only', 'view_only']) if (!(`mode.${m}.desc` in TABLES.ja)) missing.push(`mode.${m}.desc`);
  assert.deepEqual(missing, []);
});

test('every word the entry pages build from server values exists', () => {
  const roles = ['participant', 'family', 'counsellor', 'staff', 'admin'];
  // Every action the server writes to the audit log (crates/ibasho-server, crates/ibasho-hub).
  const auditActions = ['archive_application', 'archive_programme', 'archive_room', 'cancel_session', 'change_role',
    'consult_flag', 'consult_message_handled', 'consult_observe', 'counsellor_profile', 'create_invitation', 'create_programme', 'create_room', 'create_session', 'remove_gallery', 'update_programme',
    'update_session', 'upload_gallery',
    'decline_application', 'delete_account', 'delete_message', 'disable_totp', 'enable_totp', 'give_voice', 'mute',
    'pin', 'reactivate_account', 'readmit', 'reissue_access', 'remove', 'revoke_invitation', 'stage', 'suspend_account',
    'unmute'];
  const secretKeys = ['Title', 'Lead', 'NotSet', 'CurrentIfAny', 'Current', 'New', 'Hint', 'New2', 'Set', 'Change', 'CurrentMissing', 'CurrentWrong', 'Saved'];
  const families = {
    role: roles,
    'role.x.desc': roles,
    relation: ['self', 'family'],
    age: ['under_20', '20s', '30s', '40s', '50s', '60_plus', 'none'],
    appStatus: ['pending', 'invited', 'declined', 'archived'],
    'staffPage.noApplications': ['pending', 'invited', 'declined', 'archived'],
    invState: ['pending', 'used', 'expired', 'revoked'],
    accStatus: ['active', 'suspended', 'deleted'],
    profession: ['clinical_psychologist', 'social_worker', 'other'],
    lang: ['ja', 'en'],
    audit: auditActions,
    'adminPage.action': ['suspend', 'reactivate', 'role', 'reinvite'],
    'adminPage.action.x.desc': ['suspend', 'reactivate', 'role', 'reinvite'],
    'adminPage.done': ['suspend', 'reactivate', 'role', 'delete'],
    'staffPage.col': ['email', 'role', 'state', 'created', 'expires', 'actions'],
    'adminPage.col': ['handle', 'role', 'status', 'email', 'totp', 'created', 'actions', 'at', 'actor', 'action', 'target', 'reason'],
    // Programmes (docs/protocol.md, "Programme rooms" and the HTTP API).
    category: ['meal', 'art', 'music', 'peer_salon', 'other'],
    phase: ['soon', 'scheduled', 'open', 'live', 'ended', 'cancelled'],
    'mode.participant': ['lobby', 'chat', 'programme'],
    weekday: ['0', '1', '2', '3', '4', '5', '6'],
    'timetable.view': ['day', 'week', 'month'],
    'timetable.prev': ['day', 'week', 'month'],
    'timetable.next': ['day', 'week', 'month'],
    'timetable.empty': ['day', 'week', 'month'],
    'schedule.repeat': ['none', 'weekly', 'weeklyPlain', 'biweekly', 'biweeklyPlain', 'monthly', 'monthlyLast', 'monthlyPlain', 'custom', 'customRule'],
    'gallery.type': ['image/png', 'image/jpeg', 'image/webp', 'video/mp4', 'video/webm'],
    'programmes.error': ['title', 'description', 'hosts', 'modes', 'capacity', 'link', 'linkOff', 'tooLong'],
    'stats.total': ['sessions_held', 'joined', 'people', 'first_time', 'returning', 'view_only', 'chat_only', 'participant'],
    'stats.col': ['when', 'title', 'state', 'joined', 'view_only', 'chat_only', 'participant', 'first_time', 'returning', 'peak'],
    'stats.state': ['held', 'cancelled', 'upcoming'],
    // Private consultations (docs/protocol.md, "Private consultations").
    'consult.topic': ['daily_life', 'health', 'family', 'work_or_school', 'relationships', 'other'],
    'consult.forWhom': ['self', 'family_member'],
    'consult.forWhom.x.desc': ['self', 'family_member'],
    'consult.preference.x.desc': ['any', 'clinical_psychologist', 'social_worker'],
    'consult.outcome': ['continue_next_time', 'referred_to_medical_care', 'referred_to_public_service', 'other', 'none'],
    'consult.ended.x.title': ['completed', 'cancelled', 'left_message', 'closed', 'unknown'],
    'consult.ended.x.text': ['completed', 'cancelled', 'left_message', 'closed', 'unknown'],
    'nav.consultBadge': ['waiting', 'active', 'interrupted', 'ended'],
    availability: ['available', 'away', 'offline'],
    'console.availability': ['available', 'away'],
    'console.availability.x.desc': ['available', 'away'],
    'console.availability.now': ['available', 'away'],
    // Why a counsellor no longer has a consult; `away`: it was not sent again after a reconnect.
    'console.released': ['ended', 'transferred', 'grace_over', 'away'],
    'console.released.x.panel': ['ended', 'transferred', 'grace_over', 'away'],
  };
  const missing = [];
  for (const [family, names] of Object.entries(families)) {
    for (const name of names) {
      const key = family.includes('.x.') ? family.replace('.x.', `.${name}.`) : `${family}.${name}`;
      if (!(key in TABLES.ja)) missing.push(key);
    }
  }
  for (const kind of ['passphrase', 'password']) {
    for (const k of secretKeys) if (!(`settings.${kind}${k}` in TABLES.ja)) missing.push(`settings.${kind}${k}`);
  }
  assert.deepEqual(missing, []);
});

test('placeholders are filled and plurals read well', () => {
  assert.equal(t('people.watching', { count: 3 }), '3 人が見ています');
  assert.equal(t('composer.count', { count: 5, max: 2000 }), '5 / 2000');
  setLang('en');
  try {
    assert.equal(t('people.watching', { count: 3 }), '3 people are watching');
    assert.equal(t('people.watching', { count: 1 }), '1 person is watching');
  } finally {
    setLang('ja');
  }
  for (const lang of ['ja', 'en']) {
    for (const [key, value] of Object.entries(TABLES[lang])) {
      if (typeof value === 'string') continue;
      assert.equal(typeof value({ count: 2, label: 'x', seconds: 1, time: '12:00' }), 'string', `${lang} ${key}`);
    }
  }
});

test('no HTML is built from strings, and nothing is evaluated', () => {
  const banned = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\s*\(|new Function\b)/;
  for (const { f, src } of scripts) assert.ok(!banned.test(src), `${path.basename(f)} uses ${src.match(banned)?.[0]}`);
});

test('the page keeps to the Content-Security-Policy and asks no other origin', async () => {
  const html = await readFile(path.join(CLIENT, 'index.html'), 'utf8');
  assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline <script>');
  assert.ok(!/<style\b/i.test(html), 'no <style> element');
  assert.ok(!/\sstyle\s*=/i.test(html), 'no style attributes');
  assert.ok(!/\son[a-z]+\s*=/i.test(html), 'no inline event handlers');
  for (const f of await files(CLIENT)) {
    const src = await readFile(f, 'utf8');
    const urls = [...src.matchAll(/\b(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"`)]*/gi)].map((m) => m[0])
      .filter((u) => u !== 'http://www.w3.org/2000/svg');
    assert.deepEqual(urls, [], `${path.relative(REPO, f)} refers to another origin`);
  }
});
