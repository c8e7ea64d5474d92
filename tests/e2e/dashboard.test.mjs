// dashboard.test.mjs — the command screen at 1920×1080: the leader signs in,
// a new case is on the live feed within 1 s of its creation (Server-Sent
// Events, no polling) and the KPI tiles count it; the map drills district →
// street → community → grid; the English switch.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, newPage, shot, clickMap, apiLogin, api, expectNoProblems } from './lib.mjs';

let server;
let browser;
let page;

before(async () => {
  server = await startServer();
  browser = await launch();
  page = await newPage(browser, { viewport: { width: 1920, height: 1080 } });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const num = async (id) => Number((await page.locator('#kpi-' + id).textContent()).trim());

test('the leader signs in on the dashboard and sees the figures', async () => {
  await page.goto(server.url + '/dashboard');
  await page.locator('#dl-user').fill('leader');
  await page.locator('#dl-pass').fill('demo');
  await page.locator('#dl-pass').press('Enter');
  await page.locator('main[aria-busy="false"]').waitFor();
  await page.locator('.live-status.on').waitFor();
  // the figures agree with the statistics API
  const token = await apiLogin(server.url, 'leader');
  const s = await api(server.url, token, 'GET', '/api/v1/dashboard/summary?days=30');
  assert.equal(await num('today'), s.today_intake);
  assert.equal(await num('open'), s.open);
  assert.equal(await num('overdue'), s.overdue);
  assert.equal((await page.locator('#kpi-ontime').textContent()).trim(), s.period.ontime_rate === null ? '—' : (s.period.ontime_rate * 100).toFixed(1));
  // the map is drawn at city level with the districts ranked beside it
  await page.locator('#map-rank li').first().waitFor();
  assert.equal(await page.locator('#map').getAttribute('data-level'), 'district');
  assert.ok((await page.locator('#map-rank li').count()) >= 5);
  assert.ok((await page.locator('#dept-rank tbody tr').count()) > 0);
  expectNoProblems(assert, page);
});

test('a new case is on the live feed within 1 s and the KPIs count it', async () => {
  const before = { today: await num('today'), open: await num('open') };
  const token = await apiLogin(server.url, 'operator');
  const body = {
    description: '大屏实时测试：<b>积水</b> 路口积水严重，车辆绕行', location: { lon: 111.6905, lat: 40.8502 },
    category: 'E0402', request_type: 'complaint', caller: { name: '李女士', phone: '13512345678' },
  };
  const t0 = Date.now();
  const c = await api(server.url, token, 'POST', '/api/v1/cases', body);
  const item = page.locator(`#live-feed li[data-number="${c.number}"]`);
  await item.waitFor({ timeout: 3000 });
  const latency = Date.now() - t0;
  assert.ok(latency < 1000, `on screen ${latency} ms after its creation`);
  assert.match(await item.textContent(), /占道经营/);
  assert.match(await item.textContent(), /新城区 · 海拉尔东路街道/);
  assert.match(await item.locator('.desc').textContent(), /<b>积水<\/b>/); // text, not markup
  // the tiles follow (refetched on the feed's signal, not by polling)
  await page.waitForFunction(([t]) => Number(document.getElementById('kpi-today').textContent) === t + 1, [before.today], { timeout: 5000 });
  assert.equal(await num('open'), before.open + 1);
  await page.locator('#live-feed li.new').first().waitFor();
  await shot(page, 'dashboard-1920');
  // the docs copy at 1280×720 (the layout scales with the width) stays small
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.waitForFunction(() => document.body.dataset.layoutWidth === '1280'); // charts re-laid out
  await shot(page, 'dashboard', { docs: true });
  await page.setViewportSize({ width: 1920, height: 1080 });
  expectNoProblems(assert, page);
});

test('the map drills district → street → community → grid', async () => {
  await page.locator('#map-drill').selectOption('150102');
  await page.locator('#map-crumbs .crumb-current', { hasText: '新城区' }).waitFor();
  await page.waitForFunction(() => document.getElementById('map').dataset.level === 'street');
  assert.match(await page.locator('#h-map').textContent(), /街道/);
  // click the map on 海拉尔东路街道, then on 长海社区
  await clickMap(page, '#map', 111.6905, 40.8502);
  await page.locator('#map-crumbs .crumb-current', { hasText: '海拉尔东路街道' }).waitFor();
  await page.waitForFunction(() => document.getElementById('map').dataset.level === 'community');
  await page.locator('#map-drill').selectOption({ label: '长海社区居委会' });
  await page.locator('#map-crumbs .crumb-current', { hasText: '长海社区' }).waitFor();
  await page.waitForFunction(() => document.getElementById('map').dataset.level === 'grid');
  // the grid holding today's new case has it among the open cases
  await page.locator('#map-metric button[data-metric="open"]').click();
  await page.locator('#map-rank li').first().waitFor();
  assert.ok(Number(await page.locator('#map-rank li .n').first().textContent()) >= 1);
  await page.locator('#map-crumbs button.crumb', { hasText: '全市' }).click();
  await page.waitForFunction(() => document.getElementById('map').dataset.level === 'district');
  expectNoProblems(assert, page);
});

test('English switch', async () => {
  await page.locator('.lang-switch', { hasText: 'EN' }).click();
  await page.locator('h1', { hasText: 'City operations' }).waitFor();
  assert.match(await page.locator('[data-kpi="today"] .label').textContent(), /Intake today/);
  assert.match(await page.locator('#h-map').textContent(), /^Open cases · by districts · now \(cases\)$/);
  assert.equal(await page.locator('#map-metric button[data-metric="density"]').textContent(), 'Case density');
  await page.locator('.lang-switch', { hasText: '中文' }).click();
  await page.locator('h1', { hasText: '一网统管' }).waitFor();
  expectNoProblems(assert, page);
});
