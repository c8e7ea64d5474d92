// report.test.mjs — the citizens' page (/report), no account: report a
// problem with a photo, placed by the name search alone (no map) or by a
// click on the map, get the number at once, check the status by number; the
// description with markup stays text; labels on every input; English.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, newPage, shot, makePhoto, clickMap, apiLogin, api, expectNoProblems, unlabelled } from './lib.mjs';

let server;
let browser;
let page;
let number;

before(async () => {
  server = await startServer();
  browser = await launch();
  page = await newPage(browser, { viewport: { width: 1280, height: 900 } });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('a citizen reports a problem with a photo, located without the map', async () => {
  await page.goto(server.url + '/report');
  await page.locator('textarea[name=description]').fill('<script>window.__xss=1</script>小区门口井盖缺失，夜里很危险');
  const buffer = await makePhoto(page, '井盖缺失', 10);
  await page.locator('#panel-report input[type=file]').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer });
  await page.locator('.thumb[data-media]').waitFor();
  // the place by name only
  const search = page.locator('.loc-picker input[role=combobox]');
  await search.fill('长海');
  await page.locator('.loc-picker .cb-opt', { hasText: '长海社区' }).first().waitFor();
  await search.press('Enter');
  await page.locator('.loc-status', { hasText: '按区域定位' }).waitFor();
  await page.locator('input[name=phone]').fill('13600001111');
  await shot(page, 'report', { docs: true, fullPage: true });
  await page.locator('#panel-report button[type=submit]').click();
  await page.locator('#case-number').waitFor();
  number = (await page.locator('#case-number').textContent()).trim();
  assert.match(number, /^\d{13}$/);

  // what the city received
  const c = await api(server.url, await apiLogin(server.url, 'operator'), 'GET', '/api/v1/cases/' + number);
  assert.equal(c.channel, 'web');
  assert.equal(c.community, '150102001012');
  assert.equal(c.photos.length, 1);
  assert.equal(c.caller.phone, '13600001111');
  assert.equal(await page.evaluate(() => window.__xss), undefined);
  expectNoProblems(assert, page);
});

test('the citizen checks the status by number', async () => {
  await page.locator('button', { hasText: '查看进度' }).click();
  await page.locator('#public-state').waitFor();
  assert.equal(await page.locator('#public-state').textContent(), '待立案');
  assert.equal(await page.locator('.steps li.done').count(), 1);
  assert.equal(await page.locator('.steps li[aria-current="step"]').textContent(), '已立案（进行中）');
  const desc = page.locator('#public-description');
  assert.match(await desc.textContent(), /^<script>window\.__xss=1<\/script>小区门口/);
  assert.equal(await desc.locator('script').count(), 0);

  // the city files it: the citizen sees the progress
  const sl = await apiLogin(server.url, 'shiftlead');
  const c = await api(server.url, sl, 'GET', '/api/v1/cases/' + number);
  await api(server.url, sl, 'POST', `/api/v1/cases/${c.id}/actions/file`, { category: 'C0102' });
  await page.locator('#panel-status button[type=submit]').click();
  await page.locator('#public-state', { hasText: '待派遣' }).waitFor();
  assert.equal(await page.locator('.steps li.done').count(), 2);
  assert.match(await page.locator('#status-result').textContent(), /污水井盖/);
  await shot(page, 'report-status', { docs: true });

  // an unknown number says so
  await page.locator('input[name=number]').fill('2000010100001');
  await page.locator('#panel-status button[type=submit]').click();
  await page.locator('#status-result [role=alert]', { hasText: '没有找到' }).waitFor();
  expectNoProblems(assert, page, [/404 GET .*\/api\/v1\/public\/cases\/2000010100001/]);
});

test('a report placed by a click on the map, on a phone, in English', async () => {
  const m = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true });
  await m.goto(server.url + '/report');
  await m.locator('.lang-switch').click();
  await m.locator('#tab-report', { hasText: 'Report a problem' }).waitFor();
  await m.locator('.loc-picker .crumb-current', { hasText: 'City' }).waitFor(); // the form, rebuilt in English
  await m.locator('textarea[name=description]').fill('Rubbish piled up next to the bus stop');
  // click city → district → street → community, zooming in one level each
  // time (on a phone one pixel is ~100 m at district level: any street will do)
  for (const depth of [2, 3, 4]) {
    await clickMap(m, '.loc-picker .map', 111.6905, 40.8502);
    await m.waitForFunction((d) => document.querySelectorAll('.loc-picker .crumbs .crumb, .loc-picker .crumbs .crumb-current').length === d, depth);
  }
  assert.match(await m.locator('.loc-picker .crumbs').textContent(), /^City›新城区›/);
  await m.locator('.loc-status', { hasText: '网格' }).waitFor();
  // every input, select and textarea has a label
  assert.deepEqual(await unlabelled(m), []);
  await m.locator('#panel-report button[type=submit]').click();
  await m.locator('#case-number').waitFor();
  assert.match(await m.locator('.result-banner').textContent(), /Thank you! Your case number/);
  expectNoProblems(assert, m);
  await m.context().close();
});
