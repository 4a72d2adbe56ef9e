// Shared set-up for the browser tests: the real server binary on a free port with a fresh
// data directory, staff identities from its admin CLI, and headless Chromium.

import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const OUTPUT_DIR = path.join(REPO, 'tests', 'browser', 'output');
export const WAIT_MS = 15_000;

export function serverBinary() {
  if (process.env.IBASHO_BIN) return process.env.IBASHO_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO, 'target');
  return path.join(target, 'debug', 'ibasho');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function freeLoopbackPort() {
  return freePort();
}

// Variables that steer the tests, not the server: the server reads every IBASHO_* variable as
// configuration and refuses unknown keys, so these must not reach it.
const TEST_ONLY_ENV = ['IBASHO_BIN', 'IBASHO_UPDATE_SCREENSHOT', 'IBASHO_PYTHON'];

function serverEnv(extra = {}) {
  const inherited = { ...process.env };
  for (const name of TEST_ONLY_ENV) delete inherited[name];
  return {
    ...inherited,
    IBASHO_STORAGE__SQLITE_SYNCHRONOUS: 'normal',
    IBASHO_LOG: process.env.IBASHO_LOG || 'info',
    // Most scenarios come in through guest entry, whatever the shipped default is.
    IBASHO_AUTH__GUEST_ENTRY: 'true',
    // ...and at any hour; the opening-hours scenario sets its own schedule.
    IBASHO_OPENING_HOURS__ALWAYS_OPEN: 'true',
    ...extra,
  };
}

/**
 * Starts `ibasho serve` and waits until /healthz answers.
 * `env`: extra IBASHO_* variables; `port`: a fixed port (default: a free one);
 * `publicUrl`: set IBASHO_PUBLIC_URL to the server's own address (for links in mail).
 */
export async function startServer({ env = {}, port: fixedPort = null, publicUrl = false } = {}) {
  const bin = serverBinary();
  if (!existsSync(bin)) {
    throw new Error(`server binary not found at ${bin}: build it with \`cargo build -p ibasho-server\` or set IBASHO_BIN`);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'ibasho-browser-'));
  const port = fixedPort || await freePort();
  const base = `http://127.0.0.1:${port}`;
  const extraEnv = { ...env, ...(publicUrl ? { IBASHO_PUBLIC_URL: base } : {}) };
  let logs = '';
  let child = null;
  let exited = null;

  async function spawnAndWait() {
    exited = null;
    child = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
      cwd: REPO,
      env: serverEnv(extraEnv),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => { logs += d; });
    child.stderr.on('data', (d) => { logs += d; });
    child.on('exit', (code, signal) => { exited = { code, signal }; });
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      if (exited) throw new Error(`server exited early (${JSON.stringify(exited)}):\n${logs}`);
      try {
        const r = await fetch(`${base}/healthz`);
        if (r.ok) return;
      } catch {
        // Not listening yet.
      }
      if (Date.now() > deadline) {
        child.kill('SIGTERM');
        throw new Error(`server did not become healthy within ${WAIT_MS} ms:\n${logs}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function kill() {
    if (!child || exited) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    let timer;
    await Promise.race([gone, new Promise((r) => { timer = setTimeout(r, 12_000); })]);
    clearTimeout(timer);
    if (!exited) {
      child.kill('SIGKILL');
      await gone;
    }
  }

  try {
    await spawnAndWait();
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }

  return {
    base,
    dataDir,
    logs: () => logs,
    /** `ibasho admin create`: returns the printed token. */
    async createAccount(role, handle) {
      const { stdout } = await promisify(execFile)(bin, ['--data-dir', dataDir, 'admin', 'create', '--role', role, '--handle', handle], { cwd: REPO, env: serverEnv(extraEnv) });
      const m = stdout.match(/^token: (\S+)$/m);
      if (!m) throw new Error(`no token in admin output:\n${stdout}`);
      return m[1];
    },
    /** Stops the server (SIGTERM, a graceful shutdown) and keeps its data. */
    async halt() {
      await kill();
    },
    /** Starts it again on the same port and data. */
    async resume() {
      await spawnAndWait();
    },
    async stop() {
      await kill();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** A page in a fresh context (one person), with page errors collected for the report. */
export async function newPerson(browser, name) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 820 }, locale: 'ja-JP', timezoneId: 'Asia/Tokyo' });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(`${name}: ${e.message}`));
  page.on('console', (m) => {
    // Chrome logs every HTTP error status; the refused handles in the tests are meant.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(`${name} console: ${m.text()}`);
  });
  return page;
}

/**
 * Through the Enter screen: handle, shape, colour, submit. Waits for the welcome panel, or
 * for the heading named `heading` (the closed page, say).
 */
export async function enter(page, base, { handle, shape, color }, { heading = null } = {}) {
  await page.goto(base);
  await page.getByLabel('ここでの呼び名').fill(handle);
  await page.locator('.choices-shape label.choice', { hasText: shape }).click();
  await page.locator('.choices-color label.choice', { hasText: color }).click();
  await page.getByRole('button', { name: '入る', exact: true }).click();
  await page.getByRole('heading', { name: heading || `ようこそ、${handle} さん` }).waitFor();
}

/** Picks a room in the room list and enters it in `mode` through the mode dialog. */
export async function joinRoom(page, roomName, mode) {
  await page.locator('.room-nav').getByRole('button', { name: roomName }).click();
  const dialog = page.getByRole('dialog');
  await dialog.locator(`input[value="${mode}"]`).check();
  await dialog.getByRole('button', { name: '入る', exact: true }).click();
  await dialog.waitFor({ state: 'detached' });
  await page.locator('.room-view:not([hidden]) h2', { hasText: roomName }).waitFor();
}

/** The room shown now. */
export function shownRoom(page) {
  return page.locator('.room-view:not([hidden])');
}

/**
 * Registers the hooks every browser test file needs — one real server and one Chromium for
 * the file, stopped at the end — and returns where to find them once started.
 */
export function serverAndBrowser(options = {}) {
  const ctx = { server: null, browser: null };
  before(async () => {
    ctx.server = await startServer(typeof options === 'function' ? await options() : options);
    ctx.browser = await launchBrowser();
  });
  after(async () => {
    await ctx.browser?.close();
    await ctx.server?.stop();
  });
  return ctx;
}

let axeSource = null;

/**
 * An automated accessibility audit (axe-core: WCAG 2.1 A and AA, and best practices) of what
 * the page shows now. It cannot replace trying the page with a screen reader, but it catches
 * regressions.
 */
export async function audit(page, what) {
  axeSource ??= await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  assert.ok(result.passes.length > 0, `axe ran its rules on ${what}`);
  const problems = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(problems, [], `accessibility problems on ${what}`);
}

/**
 * The space's time zone for tests that set times of today: Asia/Tokyo, unless it is within two
 * hours of midnight there — then a fixed offset that puts the space's clock near noon, so that
 * what a test schedules stays within one day.
 */
export function zoneAwayFromMidnight() {
  const tokyoHour = Number(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Tokyo', hour: '2-digit', hourCycle: 'h23' }).format(new Date()));
  if (tokyoHour < 22 && tokyoHour >= 2) return 'Asia/Tokyo';
  const offsetHours = 12 - new Date().getUTCHours();
  return offsetHours === 0 ? 'Etc/GMT' : `Etc/GMT${offsetHours > 0 ? '-' : '+'}${Math.abs(offsetHours)}`;
}

/** `{date: 'YYYY-MM-DD', time: 'HH:MM'}` of `ms` on the clock of `timeZone`. */
export function localOn(ms, timeZone) {
  const p = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { date: `${p.year}-${p.month}-${p.day}`, time: `${p.hour}:${p.minute}` };
}
