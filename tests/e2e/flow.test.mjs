// flow.test.mjs — every role logs in, and one case goes from hotline intake
// to closure and the return visit through the UI alone:
//   operator (受理) → operator 发核实 → inspector 核实 (phone, GPS, photo)
//   → shiftlead 立案 → dispatcher 派遣 (routed department pre-selected)
//   → handler 签收, 处置反馈 (photo + note) → operator 发核查
//   → inspector 核查通过 → shiftlead 结案 → operator 回访评价.
// Also: the caller's earlier cases, a description with <script> shown as
// text, a keyboard-only intake, the leader's read-only case page.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launch, newPage, uiLogin, shot, makePhoto, clickMap, apiLogin, api, expectNoProblems, unlabelled } from './lib.mjs';

const POINT = { lon: 111.6905, lat: 40.8502 };
const SECONDARY = ['reclassify', 'merge', 'comment']; // optional tidying, not the next step // 新城区 · 海拉尔东路街道 · 长海社区
const XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">';
let server;
let browser;
const pages = {};
let number;

before(async () => {
  server = await startServer();
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function page(role, opts) {
  if (!pages[role]) {
    pages[role] = await newPage(browser, opts);
    await uiLogin(pages[role], server.url, role);
  }
  return pages[role];
}

/* Clicks an action button (in a queue row, task card or the case page) and
 * confirms its dialog after `fill` has filled it. */
async function act(p, scope, action, fill) {
  await scope.locator(`button[data-action="${action}"]`).first().click();
  const dlg = p.locator(`dialog[data-action="${action}"]`);
  await dlg.waitFor();
  if (fill) await fill(dlg);
  await dlg.locator('.dialog-foot button[type=submit]').click();
  await dlg.waitFor({ state: 'detached' });
}

async function attachPhoto(p, dlg, caption, hue) {
  const buffer = await makePhoto(p, caption, hue);
  await dlg.locator('input[type=file]').setInputFiles({ name: 'photo.png', mimeType: 'image/png', buffer });
  await dlg.locator('.thumb[data-media]').waitFor();
}

test('hotline intake: caller history, map and name search, category search, number at once', async () => {
  const phone = '139' + String(Date.now()).slice(-8);
  const opToken = await apiLogin(server.url, 'operator');
  await api(server.url, opToken, 'POST', '/api/v1/cases', {
    description: '上周反映过：夜市噪声扰民', area: '150102001012', request_type: 'complaint', caller: { name: '张先生', phone },
  });

  const op = await page('operator');
  assert.match(op.url(), /#\/hotline$/);
  const nav = await op.locator('#nav a[data-nav]').allTextContents();
  assert.deepEqual(nav, ['一号受理', '我的待办', '案件查询']);

  // the phone field has the focus: type and look up the caller
  await op.locator('input[name=phone]:focus').waitFor();
  await op.keyboard.type(phone);
  await op.keyboard.press('Enter');
  await op.locator('[data-history-count="1"]').waitFor();
  assert.match(await op.locator('#caller-history').textContent(), /夜市噪声扰民/);
  assert.equal(await op.locator('input[name=caller_name]').inputValue(), '张先生');

  // where: the name search (no map needed), then a click on the map for the exact spot
  await op.keyboard.press('Alt+L');
  await op.keyboard.type('长海社区');
  await op.locator('.loc-picker .cb-list:not([hidden]) .cb-opt').first().waitFor();
  await op.keyboard.press('Enter');
  await op.locator('.loc-status', { hasText: '长海社区' }).waitFor();
  await op.locator('.loc-picker .crumb-current', { hasText: '长海社区' }).waitFor();
  await clickMap(op, '.loc-picker .map', POINT.lon, POINT.lat);
  try {
    await op.locator('.loc-status', { hasText: '网格' }).waitFor();
  } catch (e) {
    await shot(op, 'fail-hotline-map');
    console.log('status:', await op.locator('.loc-status').textContent(), op.problems);
    throw e;
  }
  assert.match(await op.locator('.loc-status').textContent(), /新城区 · 海拉尔东路街道 · 长海社区居委会 · 长海社区第\d{3}网格/);

  // what: category by search, description with markup that must stay text
  await op.keyboard.press('Alt+C');
  await op.keyboard.type('占道经营');
  await op.locator('.cat-picker .cb-opt').first().waitFor();
  await op.keyboard.press('Enter');
  await op.locator('.cat-chosen', { hasText: 'E0402' }).waitFor();
  await op.locator('textarea[name=description]').fill(`${XSS} 人行道上流动摊贩占道经营，行人只能走机动车道`);
  await op.locator('textarea[name=demand]').fill('尽快清理，恢复人行道通行');
  await op.locator('input[name=address]').fill('新华大街与锡林路交叉口东北角');
  assert.deepEqual(await unlabelled(op), [], 'every input has a label');
  await op.evaluate(() => window.scrollTo(0, 0));
  await shot(op, 'hotline', { docs: true, fullPage: true });

  const t0 = Date.now();
  await op.keyboard.press('Control+Enter');
  await op.locator('#case-number').waitFor();
  number = (await op.locator('#case-number').textContent()).trim();
  assert.match(number, /^\d{13}$/);
  assert.ok(Date.now() - t0 < 3000, 'the number is shown at once');
  // the banner takes the focus so the operator can read the number out
  assert.equal(await op.evaluate(() => document.activeElement.classList.contains('result-banner')), true);
  expectNoProblems(assert, op);
});

test('case page: the description with <script> is text, and only allowed actions show', async () => {
  const op = pages.operator;
  await op.locator('#intake-result a', { hasText: '查看案件' }).click();
  await op.locator('#case-title', { hasText: number }).waitFor();
  const desc = op.locator('#case-description');
  assert.match(await desc.textContent(), /<script>window\.__xss=1<\/script><img src=x onerror=/);
  assert.equal(await desc.locator('script, img').count(), 0);
  assert.equal(await op.evaluate(() => window.__xss), undefined);
  const actions = await op.locator('#case-actions button[data-action]').evaluateAll((bs) => bs.map((b) => b.dataset.action));
  // the next step, plus tidying (reclassify, merge): nothing of other roles
  assert.deepEqual(actions.filter((a) => !SECONDARY.includes(a)), ['verify_request']);
  assert.ok(actions.every((a) => ['verify_request', ...SECONDARY].includes(a)), actions.join());
  await act(op, op.locator('#case-actions'), 'verify_request');
  await op.locator('#timeline li[data-action="verify_request"]').waitFor();
  expectNoProblems(assert, op);
});

test('inspector (phone, GPS): the verification task nearest first, verified with a photo', async () => {
  const insp = await page('inspector', {
    viewport: { width: 390, height: 844 }, isMobile: true, geolocation: { longitude: POINT.lon + 0.001, latitude: POINT.lat + 0.0008 },
  });
  assert.match(insp.url(), /#\/inspector$/);
  const task = insp.locator(`li.task[data-case="${number}"]`);
  await task.waitFor();
  await insp.locator('.gps-status', { hasText: '已定位' }).waitFor();
  await task.locator('.dist').waitFor();
  assert.match(await task.locator('.dist').textContent(), /^ ?\d+ m$/);
  // nearest first: our case (about 100 m away) heads the list
  assert.equal(await insp.locator('li.task').first().getAttribute('data-case'), number);
  await shot(insp, 'inspector-mobile', { docs: true });
  await act(insp, task, 'verify', async (dlg) => {
    await dlg.locator('input[name=result][value=true]').check();
    await attachPhoto(insp, dlg, '现场核实：摊贩占道', 30);
  });
  await task.waitFor({ state: 'detached' });
  expectNoProblems(assert, insp);
});

test('inspector reports a new problem with a photo and the phone\'s GPS', async () => {
  const insp = pages.inspector;
  await insp.locator('#btn-report').click();
  const panel = insp.locator('#report-panel');
  // the phone's position fills the place by itself
  await panel.locator('.loc-status', { hasText: '网格' }).waitFor();
  const buffer = await makePhoto(insp, '井盖破损', 0);
  await panel.locator('input[type=file]').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer });
  await panel.locator('.thumb[data-media]').waitFor();
  await panel.locator('.cat-picker input').fill('污水井盖');
  await panel.locator('.cat-picker .cb-opt').first().click();
  await panel.locator('textarea[name=description]').fill('人行道污水井盖破损，有行人绊倒风险');
  assert.deepEqual(await unlabelled(insp), []);
  await shot(insp, 'inspector-report', { fullPage: true });
  await panel.locator('button[type=submit]').click();
  await panel.locator('#case-number').waitFor();
  const n = (await panel.locator('#case-number').textContent()).trim();
  const c = await api(server.url, await apiLogin(server.url, 'operator'), 'GET', '/api/v1/cases/' + n);
  assert.equal(c.channel, 'inspector');
  assert.equal(c.category, 'C0102');
  assert.equal(c.photos.length, 1);
  assert.ok(Math.abs(c.location.lon - (POINT.lon + 0.001)) < 1e-5 && Math.abs(c.location.lat - (POINT.lat + 0.0008)) < 1e-5, 'located by GPS');
  expectNoProblems(assert, insp);
});

test('shift lead files it, the dispatcher dispatches to the routed department', async () => {
  const sl = await page('shiftlead');
  assert.match(sl.url(), /#\/queue$/);
  const row = sl.locator(`tr[data-case="${number}"]`);
  await row.waitFor();
  assert.match(await row.locator('.light').textContent(), /正常|临期|超期/); // the light in words too
  await shot(sl, 'queue-shiftlead', { docs: true });
  await act(sl, row, 'file', async (dlg) => {
    await dlg.locator('.cat-chosen', { hasText: '占道经营' }).waitFor(); // the operator's category, kept
  });
  await row.waitFor({ state: 'detached' });

  const disp = await page('dispatcher');
  const drow = disp.locator(`tr[data-case="${number}"]`);
  await drow.waitFor();
  await drow.locator('button[data-action="dispatch"]').click();
  const dlg = disp.locator('dialog[data-action="dispatch"]');
  await dlg.waitFor();
  assert.equal(await dlg.locator('select[name=dept]').inputValue(), 'D-CG-150102');
  assert.deepEqual(await unlabelled(disp, 'dialog'), []);
  assert.match(await dlg.textContent(), /按路由规则建议派往：新城区城市管理综合执法局/);
  await shot(disp, 'dispatch-dialog', { docs: true });
  await dlg.locator('.dialog-foot button[type=submit]').click();
  await dlg.waitFor({ state: 'detached' });
  await drow.waitFor({ state: 'detached' });
  expectNoProblems(assert, sl);
  expectNoProblems(assert, disp);
});

test('the department accepts and reports handling with a photo and a note', async () => {
  const hd = await page('handler');
  const row = hd.locator(`tr[data-case="${number}"]`);
  await row.waitFor();
  await act(hd, row, 'accept');
  await row.waitFor({ state: 'detached' });
  await hd.locator('button[data-tab="handling"]').click();
  const row2 = hd.locator(`tr[data-case="${number}"]`);
  await row2.waitFor();
  const acts = await row2.locator('button[data-action]').evaluateAll((bs) => bs.map((b) => b.dataset.action));
  assert.deepEqual(acts.filter((a) => !SECONDARY.includes(a)).sort(), ['handle', 'request_extension', 'request_suspension', 'send_back']);
  await act(hd, row2, 'handle', async (dlg) => {
    await dlg.locator('textarea[name=note]').fill('已劝离流动摊贩，清理占道物品，人行道恢复通行');
    await attachPhoto(hd, dlg, '处置后：人行道畅通', 130);
  });
  await row2.waitFor({ state: 'detached' });
  expectNoProblems(assert, hd);
});

test('check, closure and the return visit', async () => {
  const op = pages.operator;
  await op.goto(server.url + '/#/queue/handled');
  const row = op.locator(`tr[data-case="${number}"]`);
  await row.waitFor();
  await act(op, row, 'request_check');
  await row.waitFor({ state: 'detached' });

  const insp = pages.inspector;
  await insp.reload();
  const task = insp.locator(`li.task[data-case="${number}"]`);
  await task.waitFor();
  assert.match(await task.locator('.state').textContent(), /核查/);
  await act(insp, task, 'check_pass', (dlg) => attachPhoto(insp, dlg, '核查：已整改', 160));
  await task.waitFor({ state: 'detached' });

  const sl = pages.shiftlead;
  await sl.locator('button[data-tab="checked"]').click();
  const srow = sl.locator(`tr[data-case="${number}"]`);
  await srow.waitFor();
  await act(sl, srow, 'close');
  await srow.waitFor({ state: 'detached' });

  await op.goto(server.url + '/#/case/' + number);
  await op.locator('#case-title', { hasText: number }).waitFor();
  await act(op, op.locator('#case-actions'), 'visit', (dlg) => dlg.locator('input[name=satisfaction][value=satisfied]').check());
  await op.locator('#timeline li[data-action="visit"]').waitFor();
  await op.locator('#no-actions').waitFor();
  assert.match(await op.locator('.case-head .state').textContent(), /已结案/);
  // a note (备注) goes into the history, from the timeline's own button
  await act(op, op.locator('.panel-head'), 'comment', (dlg) => dlg.locator('textarea[name=note]').fill('市民回电致谢，已告知结果'));
  await op.locator('#timeline li[data-action="comment"]', { hasText: '市民回电致谢' }).waitFor();
  const steps = await op.locator('#timeline li').evaluateAll((ls) => ls.map((l) => l.dataset.action));
  assert.deepEqual(steps, ['register', 'verify_request', 'verify', 'file', 'dispatch', 'accept', 'handle', 'request_check', 'check_pass', 'close', 'visit', 'comment']);
  assert.match(await op.locator('#timeline').textContent(), /满意度：满意/);
  assert.equal(await op.locator('#timeline img').count(), 3); // verify, handle and check photos
  await op.locator('#timeline img').last().evaluate((img) => img.decode());
  await shot(op, 'case-closed', { docs: true, fullPage: true });
  for (const p of [op, insp, sl]) expectNoProblems(assert, p);
});

test('the leader reads the case but has no actions; the admin gets intake and search', async () => {
  const leader = await page('leader');
  assert.match(leader.url(), /#\/search$/);
  assert.deepEqual(await leader.locator('#nav a[data-nav]').allTextContents(), ['案件查询']);
  await leader.goto(server.url + '/#/case/' + number);
  await leader.locator('#no-actions', { hasText: '只读' }).waitFor();
  assert.equal(await leader.locator('#case-actions button[data-action]').count(), 0);
  const admin = await page('admin');
  assert.deepEqual(await admin.locator('#nav a[data-nav]').allTextContents(), ['一号受理', '案件查询']);
  expectNoProblems(assert, leader);
  expectNoProblems(assert, admin);
});

test('a hotline call registered by keyboard alone', async () => {
  const op = await newPage(browser);
  await uiLogin(op, server.url, 'operator');
  await op.locator('input[name=phone]:focus').waitFor();
  await op.keyboard.type('13800138000');
  // Tab through the form to the request type, choose 咨询 (the first)
  for (let i = 0; i < 15; i++) {
    if (await op.evaluate(() => document.activeElement && document.activeElement.name === 'request_type')) break;
    await op.keyboard.press('Tab');
  }
  assert.equal(await op.evaluate(() => document.activeElement.name), 'request_type');
  await op.keyboard.press('Home');
  assert.equal(await op.locator('select[name=request_type]').inputValue(), 'consult');
  await op.keyboard.press('Alt+L');
  await op.keyboard.type('长海');
  await op.locator('.loc-picker .cb-opt').first().waitFor();
  await op.keyboard.press('ArrowDown');
  await op.keyboard.press('ArrowUp');
  await op.keyboard.press('Enter');
  await op.locator('.loc-status', { hasText: '长海' }).waitFor();
  await op.keyboard.press('Alt+D');
  await op.keyboard.type('咨询：小区周边垃圾清运时间');
  await op.keyboard.press('Control+Enter');
  await op.locator('#case-number').waitFor();
  const n = (await op.locator('#case-number').textContent()).trim();
  const token = await apiLogin(server.url, 'operator');
  const c = await api(server.url, token, 'GET', '/api/v1/cases/' + n);
  assert.equal(c.request_type, 'consult');
  assert.equal(c.caller.phone, '13800138000');
  assert.match(c.areas.community.name, /长海/);
  expectNoProblems(assert, op);
  await op.context().close();
});

test('the console in English, remembered across reloads', async () => {
  const op = await newPage(browser);
  await uiLogin(op, server.url, 'operator');
  await op.locator('.lang-switch', { hasText: 'EN' }).click();
  await op.locator('#nav a[data-nav="hotline"]', { hasText: 'Hotline intake' }).waitFor();
  await op.locator('h1', { hasText: 'Hotline intake' }).waitFor();
  await op.reload();
  await op.locator('#nav a[data-nav="queue"]', { hasText: 'My queue' }).waitFor();
  await op.goto(server.url + '/#/case/' + number);
  await op.locator('#timeline li[data-action="dispatch"]', { hasText: 'Dispatch' }).waitFor();
  assert.match(await op.locator('.case-head .state').textContent(), /^Closed$/);
  // errors from the server are shown in the chosen language
  await op.goto(server.url + '/#/case/9999999999999');
  await op.locator('[role=alert]', { hasText: 'no such case' }).waitFor();
  await shot(op, 'console-english');
  expectNoProblems(assert, op, [/404 GET .*\/api\/v1\/cases\/9999999999999/]);
  await op.context().close();
});
