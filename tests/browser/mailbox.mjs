// A real SMTP server for the browser tests: Python's aiosmtpd on a free loopback port,
// delivering into a Maildir, and a reader that decodes what arrived (base64 or
// quoted-printable bodies, as the server's mail library chooses).

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { WAIT_MS, freeLoopbackPort } from './harness.mjs';

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes = [];
  for (let i = 0; i < joined.length; i += 1) {
    const c = joined[i];
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Headers (lower-cased names, unfolded) and the decoded text body of one message. */
export function parseMail(raw) {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = {};
  for (const line of head.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const encoding = (headers['content-transfer-encoding'] || '7bit').toLowerCase();
  let text = body;
  if (encoding === 'base64') text = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  else if (encoding === 'quoted-printable') text = decodeQuotedPrintable(body);
  return { headers, text };
}

/** Starts aiosmtpd; `stop()` ends it and removes the Maildir. */
export async function startMailbox() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ibasho-mail-'));
  const maildir = path.join(dir, 'maildir');
  const port = await freeLoopbackPort();
  let logs = '';
  const child = spawn('python3', ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${port}`, '-c', 'aiosmtpd.handlers.Mailbox', maildir], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => { logs += d; });
  child.stderr.on('data', (d) => { logs += d; });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const deadline = Date.now() + WAIT_MS;
  while (!(await canConnect(port))) {
    if (exited) throw new Error(`aiosmtpd exited (pip install aiosmtpd==1.4.6?):\n${logs}`);
    if (Date.now() > deadline) throw new Error(`aiosmtpd did not listen within ${WAIT_MS} ms:\n${logs}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const seen = new Set();

  async function messages() {
    let names = [];
    try {
      names = (await readdir(path.join(maildir, 'new'))).sort();
    } catch {
      return [];
    }
    return Promise.all(names.map(async (name) => ({ name, ...parseMail(await readFile(path.join(maildir, 'new', name), 'utf8')) })));
  }

  return {
    url: `smtp://127.0.0.1:${port}`,
    /** The next message to `to` not returned before; waits up to WAIT_MS. */
    async waitFor(to) {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const found = (await messages()).find((m) => !seen.has(m.name) && (m.headers.to || '').toLowerCase().includes(to.toLowerCase()));
        if (found) {
          seen.add(found.name);
          return found;
        }
        if (Date.now() > deadline) throw new Error(`no mail to ${to} within ${WAIT_MS} ms; smtp log:\n${logs}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    },
    async stop() {
      if (!exited) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await gone;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The registration link in a mail body. */
export function registrationLink(text) {
  const m = text.match(/https?:\/\/[^\s]+\/#\/register\?token=[A-Za-z0-9_-]+/);
  if (!m) throw new Error(`no registration link in:\n${text}`);
  return m[0];
}
