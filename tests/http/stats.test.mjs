// stats.test.mjs — the analytics endpoints over real HTTP: who may call them,
// bad parameters, and that the numbers the projection serves agree with a
// recount over the store (the case list) and move when cases are created.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { api, createCase, errorCode, loginAll, startServer, step } from './lib.mjs';

let srv;
let tok;
before(async () => {
  srv = await startServer();
  const sessions = await loginAll(srv);
  tok = Object.fromEntries(Object.entries(sessions).map(([k, v]) => [k, v.token]));
});
after(async () => {
  await srv?.stop();
});

const get = (p, who = 'leader') => api(srv, 'GET', p, { token: who ? tok[who] : undefined });

// Counts cases matching a list query by walking every page (the store's answer).
async function recount(query) {
  let n = 0;
  let next = '';
  for (;;) {
    const r = await get(`/api/v1/cases?${query}&limit=500${next ? `&before=${next}` : ''}`, 'admin');
    assert.equal(r.status, 200, r.text);
    n += r.json.items.length;
    if (!r.json.next) return n;
    next = r.json.next;
  }
}

describe('access', () => {
  test('anonymous callers are refused, every signed-in role may read stats', async () => {
    assert.equal((await get('/api/v1/stats?group=district', null)).status, 401);
    assert.equal((await get('/api/v1/dashboard/summary', null)).status, 401);
    for (const who of Object.keys(tok)) {
      assert.equal((await get('/api/v1/stats?group=district', who)).status, 200, who);
      assert.equal((await get('/api/v1/dashboard/summary', who)).status, 200, who);
    }
  });

  test('evaluation (per-person scores) only for admin, leader and shift lead', async () => {
    const want = { admin: 200, leader: 200, shiftlead: 200, operator: 403, inspector: 403, dispatcher: 403, handler: 403 };
    for (const [who, status] of Object.entries(want))
      assert.equal((await get('/api/v1/evaluation?type=department', who)).status, status, who);
  });
});

describe('bad parameters', () => {
  const cases = [
    'group=planet',
    'group=district&from=yesterday',
    'group=district&to=2026-13-01',
    'group=district&area=999999',
    'group=district&category=X0101',
    'group=district&top=-1',
    'group=district&overdue=maybe',
    'group=district&state=flying',
    'group=district&format=pdf',
  ];
  for (const q of cases)
    test(`stats?${q} → 400 JSON`, async () => {
      const r = await get(`/api/v1/stats?${q}`);
      assert.equal(r.status, 400, r.text);
      errorCode(r);
    });
  test('evaluation with an unknown type or bad weights → 400', async () => {
    for (const q of ['type=galaxy', 'type=department&weights=disposal_rate:abc', 'type=post&role=pilot']) {
      const r = await get(`/api/v1/evaluation?${q}`);
      assert.equal(r.status, 400, `${q}: ${r.text}`);
      errorCode(r);
    }
  });
});

describe('numbers', () => {
  test('counts by district agree with a recount over the stored cases', async () => {
    const r = await get('/api/v1/stats?group=district');
    assert.equal(r.status, 200, r.text);
    const rows = r.json.rows.filter((x) => x.key === '150102' || x.key === '150105');
    assert.equal(rows.length, 2);
    // merged duplicates count once, in their master: every state but merged
    const counted = 'registered,verifying,filed,dispatched,handling,suspended,handled,checking,checked,closed,voided';
    for (const row of rows) assert.equal(row.count, await recount(`area=${row.key}&state=${counted}`), row.key);
  });

  test('open cases per district agree with the list filtered by state=open', async () => {
    await createCase(srv, tok.operator); // at least one open case in 150102
    const r = await get('/api/v1/stats?group=district&state=open');
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.rows.some((x) => x.key === '150102'), r.text);
    let total = 0;
    for (const row of r.json.rows) {
      assert.equal(row.count, await recount(`area=${row.key}&state=open`), row.key);
      total += row.count;
    }
    assert.equal(r.json.totals.count, total);
    assert.equal(total, await recount('state=open'));
  });

  test('a new case moves the district count, today\'s intake and the category count', async () => {
    const s0 = await get('/api/v1/dashboard/summary');
    const d0 = (await get('/api/v1/stats?group=district')).json.rows.find((x) => x.key === '150102');
    const c0 = (await get('/api/v1/stats?group=category&category=E0402')).json.totals.count;
    const c = await createCase(srv, tok.operator); // E0402 in 150102
    const s1 = await get('/api/v1/dashboard/summary');
    const d1 = (await get('/api/v1/stats?group=district')).json.rows.find((x) => x.key === '150102');
    const c1 = (await get('/api/v1/stats?group=category&category=E0402')).json.totals.count;
    assert.equal(d1.count, d0.count + 1);
    assert.equal(c1, c0 + 1);
    assert.equal(s1.json.today_intake, s0.json.today_intake + 1);
    assert.equal(s1.json.open, s0.json.open + 1);
    // closing it through the loop moves it from open to closed
    await step(srv, tok.shiftlead, c.id, 'file');
    await step(srv, tok.dispatcher, c.id, 'dispatch', { dept: 'D-CG-150102' });
    await step(srv, tok.handler, c.id, 'accept');
    await step(srv, tok.handler, c.id, 'handle', { note: '已清理' });
    await step(srv, tok.operator, c.id, 'request_check');
    await step(srv, tok.inspector, c.id, 'check_pass');
    await step(srv, tok.shiftlead, c.id, 'close');
    const s2 = await get('/api/v1/dashboard/summary');
    assert.equal(s2.json.open, s0.json.open);
  });

  test('exports stream CSV (with BOM) and XLSX', async () => {
    const csv = await get('/api/v1/stats?group=district&format=csv');
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type'), /text\/csv/);
    assert.equal(csv.buf[0], 0xef); // UTF-8 BOM so Excel reads Chinese
    assert.ok(csv.text.includes('新城区'));
    const xlsx = await get('/api/v1/evaluation?type=department&format=xlsx');
    assert.equal(xlsx.status, 200);
    assert.equal(xlsx.buf.subarray(0, 2).toString(), 'PK'); // a zip container
  });
});
