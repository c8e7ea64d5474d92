// classify.test.mjs — 智能分类建议 on the hotline console: typing the
// description shows the top 3 suggestions (category, department, request
// type, severity); Alt+1 or a click confirms one and fills the form's
// category, request type and severity; names from the server are text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { startServer, launch, newPage, uiLogin, shot, expectNoProblems } from './lib.mjs';

let server;
let browser;
let op;

before(async () => {
  server = await startServer();
  browser = await launch();
  op = await newPage(browser, { timeout: 20000 });
  await uiLogin(op, server.url, 'operator');
});
after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const picks = () => op.locator('#clf-suggestions .clf-pick');
const severity = () => op.locator('fieldset.radios input[type=radio]:checked').first().inputValue();

test('suggestions appear while typing; Alt+1 fills category, request type and severity', async () => {
  assert.match(op.url(), /#\/hotline$/);
  await op.locator('textarea[name=description]').fill('小区门口那盏路灯坏了一个星期，晚上黑漆漆的走路害怕');
  await op.locator('#clf-suggestions .clf-pick[data-code="C0112"]').first().waitFor();
  assert.equal(await picks().count(), 3);
  const first = picks().first();
  assert.equal(await first.getAttribute('data-code'), 'C0112');
  const text = await first.textContent();
  assert.match(text, /路灯/);
  assert.match(text, /公用设施/);
  assert.match(text, /一般|紧急|特急/);
  assert.match(text, /\d+%/);
  assert.match(text, /市政|管理|局|中心|公司/, 'the department is named');
  await shot(op, 'classify-suggestions');

  await op.locator('textarea[name=description]').focus();
  await op.keyboard.press('Alt+1');
  await op.locator('.cat-chosen', { hasText: 'C0112' }).waitFor();
  assert.equal(await first.getAttribute('aria-pressed'), 'true');
  assert.ok(['complaint', 'help', 'report', 'consult', 'suggestion', 'praise'].includes(await op.locator('select[name=request_type]').inputValue()));
  expectNoProblems(assert, op);
});

test('a click picks another suggestion; danger makes it 特急', async () => {
  await op.locator('textarea[name=description]').fill('楼道里一股很浓的煤气味，像是燃气管道漏气了，邻居家没人');
  await op.locator('#clf-suggestions .clf-pick[data-code="E0505"]').first().waitFor();
  assert.match(await op.locator('.clf-status').textContent(), /特急|危险/);
  await op.locator('#clf-suggestions .clf-pick[data-code="E0505"]').first().click();
  await op.locator('.cat-chosen', { hasText: 'E0505' }).waitFor();
  assert.equal(await severity(), 'critical');
  expectNoProblems(assert, op);
});

test('markup in the description never becomes markup in the suggestions', async () => {
  await op.locator('textarea[name=description]').fill('<img src=x onerror="window.__xss=1">路边垃圾桶满了溢出来没人清');
  await op.locator('#clf-suggestions .clf-pick').first().waitFor();
  assert.equal(await op.locator('#clf-suggestions img, #clf-suggestions script').count(), 0);
  assert.equal(await op.evaluate(() => window.__xss), undefined);
  // too short a text clears the list
  await op.locator('textarea[name=description]').fill('井盖');
  await op.waitForFunction(() => document.querySelectorAll('#clf-suggestions .clf-pick').length === 0);
  expectNoProblems(assert, op);
});
