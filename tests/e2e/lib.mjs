// lib.mjs — shared helpers for the browser tests (node:test + playwright-core
// driving Debian's chromium). One demo city is built per binary (cached in a
// temp folder keyed by the binary's mtime and size) and copied for each test
// file, so every file starts from the same data; each file runs its own
// server on a free port and stops it with SIGTERM at the end.

import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.resolve(process.env.CITYOPS_BIN || path.join(REPO, 'bin/cityops'));
export const ARTIFACTS = path.join(REPO, 'tests/e2e/artifacts');
const SCREENSHOTS = path.join(REPO, 'docs/screenshots');
const CASES = 2000;

/* ------------------------------------------------------------- the city */

function cityKey() {
  const st = fs.statSync(BIN);
  return `${Math.floor(st.mtimeMs)}-${st.size}-${CASES}`;
}

/* The pristine demo city for this binary (built on first use). */
export function pristineCity() {
  const root = path.join(os.tmpdir(), 'cityops-e2e');
  fs.mkdirSync(root, { recursive: true });
  const dir = path.join(root, 'city-' + cityKey());
  if (fs.existsSync(path.join(dir, 'cityops.db'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  execFileSync(BIN, ['demo', '--data', tmp, '--no-serve', '--cases', String(CASES)], {
    env: { ...process.env, CITYOPS_HOME: REPO },
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: 120000,
  });
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another run won the race
  }
  // old cities of older binaries
  for (const d of fs.readdirSync(root)) {
    const p = path.join(root, d);
    if (p !== dir && !d.includes('.tmp-') && Date.now() - fs.statSync(p).mtimeMs > 3600e3) fs.rmSync(p, { recursive: true, force: true });
  }
  return dir;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/* Starts `cityops serve` on a copy of the city; {url, stop(), dataDir}. */
export async function startServer() {
  const city = pristineCity();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cityops-e2e-run-'));
  fs.cpSync(city, dataDir, { recursive: true });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = spawn(BIN, ['serve', '--data', dataDir, '--listen', `127.0.0.1:${port}`], {
    env: { ...process.env, CITYOPS_HOME: REPO },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr = (stderr + d).slice(-8000);
  });
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  const deadline = Date.now() + 30000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`cityops serve exited (${proc.exitCode}):\n${stderr}`);
    try {
      const r = await fetch(url + '/api/v1/health');
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error('cityops serve did not become healthy:\n' + stderr);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    dataDir,
    log: () => stderr,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/* ------------------------------------------------------------- the API */

export async function apiLogin(url, username) {
  const r = await fetch(url + '/api/v1/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: 'demo' }),
  });
  if (!r.ok) throw new Error(`login ${username}: ${r.status}`);
  return (await r.json()).token;
}

export async function api(url, token, method, p, body) {
  const r = await fetch(url + p, {
    method,
    headers: { ...(token ? { Authorization: 'Bearer ' + token } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await r.json().catch(() => null);
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${JSON.stringify(data)}`);
  return data;
}

/* ----------------------------------------------------------- the browser */

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
}

/* A page in a fresh context; page errors and failed API calls are recorded
 * in page.problems (tests assert it stays empty). */
export async function newPage(browser, opts = {}) {
  const ctx = await browser.newContext({
    viewport: opts.viewport || { width: 1440, height: 960 },
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    deviceScaleFactor: 1,
    ...(opts.geolocation ? { geolocation: opts.geolocation, permissions: ['geolocation'] } : {}),
    ...(opts.isMobile ? { isMobile: true, hasTouch: true } : {}),
  });
  const page = await ctx.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push('pageerror: ' + e.message));
  page.on('console', (m) => {
    // HTTP failures are recorded below with their URL
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.problems.push('console: ' + m.text().slice(0, 300));
  });
  page.on('response', (r) => {
    // 401 from /me before login is expected; anything else is a problem
    if (r.status() >= 400 && !(r.status() === 401 && r.url().endsWith('/api/v1/me'))) {
      page.problems.push(`HTTP ${r.status()} ${r.request().method()} ${r.url()}`);
    }
  });
  page.setDefaultTimeout(opts.timeout || 10000);
  return page;
}

/* Logs in through the console's form. */
export async function uiLogin(page, url, username) {
  await page.goto(url + '/');
  await page.locator('#login-user').fill(username);
  await page.locator('#login-pass').fill('demo');
  await page.locator('#login-pass').press('Enter');
  await page.locator('#nav:not([hidden])').waitFor();
}

export async function shot(page, name, { docs = false, fullPage = false } = {}) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name + '.png');
  // passing notices would cover part of a docs picture
  if (docs) await page.evaluate(() => document.querySelectorAll('.toast').forEach((t) => t.remove()));
  await page.screenshot({ path: file, fullPage });
  if (docs && process.env.CITYOPS_SCREENSHOTS === '1') {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(SCREENSHOTS, name + '.png'));
  }
  return file;
}

/* A small but real photo (PNG) drawn by the browser: a coloured scene with a
 * caption, so screenshots of cases show something sensible. */
export async function makePhoto(page, caption, hue = 200) {
  const dataUrl = await page.evaluate(([text, h]) => {
    const c = document.createElement('canvas');
    c.width = 320;
    c.height = 240;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 0, 240);
    grad.addColorStop(0, `hsl(${h}, 60%, 70%)`);
    grad.addColorStop(1, `hsl(${h}, 35%, 35%)`);
    g.fillStyle = grad;
    g.fillRect(0, 0, 320, 240);
    g.fillStyle = 'rgba(40,40,40,0.85)';
    g.fillRect(0, 170, 320, 70);
    g.fillStyle = '#fff';
    g.font = 'bold 22px sans-serif';
    g.fillText(text, 14, 212);
    g.beginPath();
    g.arc(250, 70, 30, 0, Math.PI * 2);
    g.fillStyle = 'rgba(255,255,255,0.7)';
    g.fill();
    return c.toDataURL('image/png');
  }, [caption, hue]);
  return Buffer.from(dataUrl.split(',')[1], 'base64');
}

/* Clicks the map at a lon/lat (the map element exposes its AreaMap). */
export async function clickMap(page, selector, lon, lat) {
  await page.locator(selector).scrollIntoViewIfNeeded();
  const pt = await page.locator(selector).evaluate((el, [x, y]) => el.areaMap.pixelOf(x, y), [lon, lat]);
  await page.mouse.click(pt.x, pt.y);
}

/* Inputs, selects and textareas (visible or not) without a label. */
export function unlabelled(page, scope = 'body') {
  return page.locator(scope).evaluate((root) => [...root.querySelectorAll('input:not([type=hidden]), select, textarea')]
    .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby'))
    .map((el) => el.outerHTML.slice(0, 100)));
}

export function expectNoProblems(assert, page, ignore = []) {
  const left = page.problems.filter((p) => !ignore.some((re) => re.test(p)));
  assert.deepEqual(left, [], 'the page reported errors');
}
