// dedup.test.mjs — duplicates in the browser: the hotline console shows the
// possible duplicates of a case it has just registered (descriptions as text,
// never markup) with one-click 合并到此案件 and 取消合并; the master's case
// page lists its merged cases; a shift lead unmerges from the merged case's
// page, which then shows the master among its possible duplicates.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, newPage, uiLogin, shot, clickMap, apiLogin, api, expectNoProblems } from './lib.mjs';

const POINT = { lon: 111.6905, lat: 40.8502 }; // 新城区 · 海拉尔东路街道 · 长海社区
const XSS = '<img src=x onerror="window.__xss=3">';
let server;
let browser;
let master;
let number;

before(async () => {
  server = await startServer();
  browser = await launch();
  const op = await apiLogin(server.url, 'operator');
  master = await api(server.url, op, 'POST', '/api/v1/cases', {
    description: `${XSS}长海社区北门口上水井盖破损了，晚上看不见很危险`,
    category: 'C0101',
    location: { lon: POINT.lon, lat: POINT.lat + 0.0001 },
    caller: { name: '李女士', phone: '13900001111' },
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('hotline: possible duplicates after registering, merge and unmerge in one click', async () => {
  const op = await newPage(browser);
  await uiLogin(op, server.url, 'operator');
  await op.locator('input[name=phone]:focus').waitFor();
  await op.keyboard.type('13900002222');
  await op.keyboard.press('Alt+L');
  await op.keyboard.type('长海社区');
  await op.locator('.loc-picker .cb-list:not([hidden]) .cb-opt').first().waitFor();
  await op.keyboard.press('Enter');
  await op.locator('.loc-picker .crumb-current', { hasText: '长海社区' }).waitFor();
  await clickMap(op, '.loc-picker .map', POINT.lon, POINT.lat);
  await op.locator('.loc-status', { hasText: '网格' }).waitFor();
  await op.keyboard.press('Alt+C');
  await op.keyboard.type('上水井盖');
  await op.locator('.cat-picker .cb-opt').first().waitFor();
  await op.keyboard.press('Enter');
  await op.locator('.cat-chosen', { hasText: 'C0101' }).waitFor();
  await op.locator('textarea[name=description]').fill('长海社区北门上水井盖坏了，很危险，麻烦尽快处理');
  await op.keyboard.press('Control+Enter');
  await op.locator('#case-number').waitFor();
  number = (await op.locator('#case-number').textContent()).trim();

  const item = op.locator(`#intake-duplicates li[data-dup="${master.number}"]`);
  await item.waitFor();
  // the master's description is shown as text
  assert.match(await item.locator('.d').textContent(), /<img src=x onerror=/);
  assert.equal(await item.locator('img').count(), 0);
  assert.equal(await op.evaluate(() => window.__xss), undefined);
  await shot(op, 'hotline-duplicates', { docs: true });

  await item.locator(`button[data-merge-into="${master.number}"]`).click();
  await op.locator('#merged-into', { hasText: master.number }).waitFor();
  // undo at once, then merge for good
  await op.locator('#unmerge-btn').click();
  await op.locator(`#intake-duplicates button[data-merge-into="${master.number}"]`).waitFor();
  await op.locator(`#intake-duplicates button[data-merge-into="${master.number}"]`).click();
  await op.locator('#merged-into', { hasText: master.number }).waitFor();
  const events = await api(server.url, await apiLogin(server.url, 'operator'), 'GET', `/api/v1/cases/${number}/events`);
  assert.deepEqual(events.events.map((e) => e.action), ['register', 'merge', 'unmerge', 'merge']);

  // the master's page lists the merged case
  await op.goto(`${server.url}/#/case/${master.id}`);
  await op.locator(`#merged-cases li[data-merged="${number}"]`).waitFor();
  assert.equal(await op.evaluate(() => window.__xss), undefined);
  expectNoProblems(assert, op);
});

test('case page: a shift lead unmerges; the master is then a possible duplicate', async () => {
  const sl = await newPage(browser);
  await uiLogin(sl, server.url, 'shiftlead');
  await sl.goto(`${server.url}/#/case/${number}`);
  await sl.locator('#case-title', { hasText: number }).waitFor();
  await sl.locator('#case-duplicates #merged-into', { hasText: master.number }).waitFor();
  await sl.locator('#case-actions button[data-action="unmerge"]').click();
  const dlg = sl.locator('dialog[data-action="unmerge"]');
  await dlg.waitFor();
  await dlg.locator('textarea[name=note]').fill('位置不同，不是同一个井盖');
  await dlg.locator('.dialog-foot button[type=submit]').click();
  await dlg.waitFor({ state: 'detached' });
  await sl.locator('#timeline li[data-action="unmerge"]', { hasText: '不是同一个井盖' }).waitFor();
  const cand = sl.locator(`#case-duplicates li[data-dup="${master.number}"]`);
  await cand.waitFor();
  // a shift lead may merge from here too
  assert.equal(await cand.locator('button[data-merge-into]').count(), 1);
  await shot(sl, 'case-duplicates', { docs: true });
  expectNoProblems(assert, sl);
});
