// static.test.mjs — the pages as files and as served: no data through
// innerHTML in any module, no inline scripts (the CSP forbids them), every
// module and asset the pages load is served, ECharts comes from the local
// node_modules (no CDN), and every page loads without errors.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, startServer, launch, newPage, expectNoProblems } from './lib.mjs';

const WEB = path.join(REPO, 'web');
let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

function files(dir, ext) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(path.join(dir, d.name), ext) : d.name.endsWith(ext) ? [path.join(dir, d.name)] : []);
}

test('no module writes HTML from strings; no page has inline script or remote URL', () => {
  for (const f of files(WEB, '.mjs')) {
    const src = fs.readFileSync(f, 'utf8');
    assert.doesNotMatch(src, /\.innerHTML\s*=|insertAdjacentHTML|outerHTML\s*=|document\.write|\beval\(|new Function\(/, path.relative(REPO, f));
    assert.doesNotMatch(src, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, `${path.relative(REPO, f)} loads nothing from elsewhere`);
  }
  for (const f of files(WEB, '.html')) {
    const src = fs.readFileSync(f, 'utf8');
    assert.doesNotMatch(src, /<script(?![^>]*\bsrc=)[^>]*>/, `${path.relative(REPO, f)}: inline script`);
    assert.doesNotMatch(src, /\son[a-z]+=/, `${path.relative(REPO, f)}: inline handler`);
    assert.doesNotMatch(src, /https?:\/\//, `${path.relative(REPO, f)}: remote URL`);
  }
});

test('pages carry the CSP and every module they import is served', async () => {
  for (const p of ['/', '/dashboard', '/report']) {
    const r = await fetch(server.url + p);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
  }
  // every relative import in every module resolves on the server
  let checked = 0;
  for (const f of files(path.join(WEB, 'js'), '.mjs')) {
    const src = fs.readFileSync(f, 'utf8');
    const specs = [...src.matchAll(/^\s*(?:import|export)\s[^;]*?from\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/gm)].map((m) => m[1] || m[2]);
    for (const spec of specs) {
      const url = spec.startsWith('/') ? spec : '/static/' + path.relative(WEB, path.resolve(path.dirname(f), spec));
      const r = await fetch(server.url + url, { method: 'GET' });
      assert.equal(r.status, 200, `${path.relative(REPO, f)} imports ${spec} → ${url}`);
      assert.match(r.headers.get('content-type'), /javascript/);
      await r.arrayBuffer();
      checked += 1;
    }
  }
  assert.ok(checked > 30, `${checked} imports checked`);
  const e = await fetch(server.url + '/vendor/echarts.esm.min.mjs');
  assert.equal(e.status, 200);
  assert.ok(Number(e.headers.get('content-length') || (await e.arrayBuffer()).byteLength) > 500000);
});

test('each page loads with no request leaving the server and no error', async () => {
  const page = await newPage(browser);
  const foreign = [];
  page.on('request', (r) => { if (!r.url().startsWith(server.url) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) foreign.push(r.url()); });
  for (const p of ['/', '/report', '/dashboard']) {
    await page.goto(server.url + p);
    await page.waitForLoadState('networkidle');
  }
  assert.deepEqual(foreign, []);
  expectNoProblems(assert, page);
});
