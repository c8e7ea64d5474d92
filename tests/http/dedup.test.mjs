// dedup.test.mjs — duplicate cases (重复件) over real HTTP: candidates in the
// intake reply and from GET /cases/{id}/duplicates (a near re-report is one, a
// far one, another category, a voided and a closed case are not), merge into a
// master and unmerge through the workflow with their events, the master's list
// of merged cases and the public view, statistics counting a merged case once,
// the automatic merge above the configured threshold (by the system, the score
// in the event, reversible), bad inputs → 4xx JSON, and role checks.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { act, api, errorCode, loginAll, startServer, step } from './lib.mjs';

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

// A spot in 新城区 (inside the demo scope) for these tests, and a point d
// metres north of it.
const BASE = { lon: 111.6905, lat: 40.8541 };
const north = (d) => ({ lon: BASE.lon, lat: BASE.lat + d / 110574 });
const east = (d) => ({ lon: BASE.lon + d / (111320 * Math.cos((BASE.lat * Math.PI) / 180)), lat: BASE.lat });

let seq = 0;
async function register(body, who = 'operator') {
  seq++;
  const r = await api(srv, 'POST', '/api/v1/cases', {
    token: tok[who],
    body: { caller: { name: '王女士', phone: `1390000${String(1000 + seq)}` }, ...body },
  });
  assert.equal(r.status, 201, r.text);
  return r.json;
}
const get = async (path, who = 'operator') => api(srv, 'GET', path, { token: tok[who] });
const dupIds = (list) => list.map((x) => x.id);

describe('candidates', () => {
  let master;
  before(async () => {
    master = await register({
      category: 'C0101',
      location: north(0),
      description: '兴安北路锦绣小区南门口上水井盖破损了，晚上看不见很危险',
    });
    assert.deepEqual(master.duplicates.filter((d) => d.id === master.id), []);
  });

  test('a near re-report lists the open case in the intake reply and in /duplicates', async () => {
    const again = await register({
      category: 'C0101',
      location: north(12),
      description: '锦绣小区南门上水井盖坏了，很危险，麻烦尽快处理',
    });
    const hit = again.duplicates.find((d) => d.id === master.id);
    assert.ok(hit, JSON.stringify(again.duplicates));
    assert.equal(hit.number, master.number);
    assert.ok(hit.score > 0.3 && hit.score <= 1, String(hit.score));
    assert.ok(hit.distance_m > 10 && hit.distance_m < 14, String(hit.distance_m));
    assert.equal(hit.category, 'C0101');
    assert.equal(hit.state, 'registered');
    assert.equal(hit.description, master.description);
    assert.ok(again.duplicates.length <= 5);
    const r = await get(`/api/v1/cases/${again.id}/duplicates`);
    assert.equal(r.status, 200, r.text);
    assert.ok(dupIds(r.json.candidates).includes(master.id));
    assert.ok(!dupIds(r.json.candidates).includes(again.id), 'never itself');
    // the intake writes its candidates as text, /duplicates through jansson: the same object
    assert.deepEqual(hit, r.json.candidates.find((d) => d.id === master.id));
    assert.deepEqual(Object.keys(hit), Object.keys(r.json.candidates[0]));
    assert.equal(typeof r.json.took_us, 'number');
    // the dispatcher sees them too (by number)
    const d = await get(`/api/v1/cases/${again.number}/duplicates`, 'dispatcher');
    assert.equal(d.status, 200, d.text);
    assert.ok(dupIds(d.json.candidates).includes(master.id));
  });

  test('not a candidate: 60 m away, another category, a voided case', async () => {
    const far = await register({
      category: 'C0101',
      location: north(60),
      description: '锦绣小区南门上水井盖破损了，晚上看不见很危险',
    });
    assert.ok(!dupIds(far.duplicates).includes(master.id), JSON.stringify(far.duplicates));
    const other = await register({
      category: 'E0404',
      location: north(3),
      description: '锦绣小区南门口有辆车乱停，上水井盖旁边',
    });
    assert.ok(!dupIds(other.duplicates).includes(master.id));
    // a related subclass (井盖缺失) does find it
    const related = await register({
      category: 'E0504',
      location: north(5),
      description: '锦绣小区南门口的井盖没了，很危险',
    });
    assert.ok(dupIds(related.duplicates).includes(master.id), JSON.stringify(related.duplicates));
    // voided: not open any more
    const v = await register({ category: 'C0102', location: east(200), description: '污水井盖缺了一角，臭味很大' });
    await step(srv, tok.shiftlead, v.id, 'void', { note: '测试作废' });
    const after = await register({ category: 'C0102', location: east(205), description: '污水井盖缺了一角，臭味很大' });
    assert.ok(!dupIds(after.duplicates).includes(v.id));
  });

  test('a closed case is no candidate', async () => {
    const c = await register({ category: 'E0402', location: east(400), description: '早市摊贩占道经营，车过不去' });
    await step(srv, tok.shiftlead, c.id, 'file');
    await step(srv, tok.dispatcher, c.id, 'dispatch', { dept: 'D-CG-150102' });
    await step(srv, tok.handler, c.id, 'accept');
    const before = await register({ category: 'E0402', location: east(410), description: '早市摊贩占道经营，车过不去' });
    assert.ok(dupIds(before.duplicates).includes(c.id), 'open while handled');
    await step(srv, tok.handler, c.id, 'handle', { note: '已清理' });
    await step(srv, tok.operator, c.id, 'request_check');
    await step(srv, tok.inspector, c.id, 'check_pass');
    await step(srv, tok.shiftlead, c.id, 'close');
    const later = await register({ category: 'E0402', location: east(410), description: '早市摊贩占道经营，车过不去' });
    assert.ok(!dupIds(later.duplicates).includes(c.id));
  });
});

describe('merge and unmerge through the workflow', () => {
  test('merge links the caller to the master; unmerge restores it; stats count once', async () => {
    const where = east(-300);
    const a = await register({ category: 'E0503', location: where, description: '大雨后路口积水很深，车都熄火了' });
    const statsCount = async () =>
      (await get('/api/v1/stats?group=none&category=E0503', 'leader')).json.totals.count;
    const b = await register({ category: 'E0503', location: east(-290), description: '路口被水淹了，行人没法走' });
    assert.ok(dupIds(b.duplicates).includes(a.id));
    const n2 = await statsCount();
    // a dispatcher may not merge; the operator may
    const no = await act(srv, tok.dispatcher, b.id, 'merge', { into: a.number });
    assert.equal(no.status, 409);
    assert.ok(!no.json.error.allowed_actions.includes('merge'));
    const m = await step(srv, tok.operator, b.id, 'merge', { into: a.number, note: '同一积水点' });
    assert.equal(m.state, 'merged');
    assert.equal(m.merged_into, a.number);
    assert.equal(await statsCount(), n2 - 1, 'a merged case counts once, in its master');
    // the master lists it; the caller's public view names the master
    const av = (await get(`/api/v1/cases/${a.id}`)).json;
    assert.ok(av.merged_cases.some((x) => x.id === b.id && x.number === b.number), JSON.stringify(av.merged_cases));
    const pub = await api(srv, 'GET', `/api/v1/public/cases/${b.number}`);
    assert.equal(pub.status, 200);
    assert.equal(pub.json.state, 'merged');
    assert.equal(pub.json.merged_into, a.number);
    // no longer a candidate for a third report
    const c = await register({ category: 'E0503', location: east(-295), description: '路口积水排不出去' });
    assert.ok(dupIds(c.duplicates).includes(a.id));
    assert.ok(!dupIds(c.duplicates).includes(b.id));
    // the merged caller still gets a return visit (operator), not the dispatcher
    const bv = (await get(`/api/v1/cases/${b.id}`)).json;
    assert.ok(bv.allowed_actions.some((x) => x.action === 'visit'));
    assert.ok(bv.allowed_actions.some((x) => x.action === 'unmerge'));
    // unmerge: forbidden for the dispatcher and the leader, allowed to the shift lead
    assert.equal((await act(srv, tok.dispatcher, b.id, 'unmerge', {})).status, 409);
    assert.equal((await act(srv, tok.leader, b.id, 'unmerge', {})).status, 403);
    const u = await step(srv, tok.shiftlead, b.id, 'unmerge', { note: '不是同一处' });
    assert.equal(u.state, 'registered');
    assert.equal(u.merged_into, '');
    assert.equal(await statsCount(), n2 + 1, 'counted again (plus the third report)');
    const ev = (await get(`/api/v1/cases/${b.id}/events`)).json.events.map((e) => e.action);
    assert.deepEqual(ev.slice(-2), ['merge', 'unmerge']);
    const av2 = (await get(`/api/v1/cases/${a.id}`)).json;
    assert.ok(!av2.merged_cases.some((x) => x.id === b.id));
    // not merged any more: unmerge is refused
    assert.equal((await act(srv, tok.shiftlead, b.id, 'unmerge', {})).status, 409);
  });

  test('a filed case merged and unmerged is filed again', async () => {
    const a = await register({ category: 'C0112', location: north(-500), description: '路灯不亮了，晚上走路看不清' });
    const b = await register({ category: 'C0112', location: north(-495), description: '这一段路灯坏了' });
    await step(srv, tok.shiftlead, b.id, 'file');
    await step(srv, tok.shiftlead, b.id, 'merge', { into: a.number });
    const u = await step(srv, tok.operator, b.id, 'unmerge');
    assert.equal(u.state, 'filed');
  });

  test('merge targets: unknown, itself, not open → 422 JSON', async () => {
    const a = await register({ category: 'C0112', location: north(-800), description: '路灯一闪一闪的' });
    const b = await register({ category: 'C0112', location: north(-805), description: '路灯一闪一闪' });
    for (const into of ['2099010100001', b.number]) {
      const r = await act(srv, tok.operator, b.id, 'merge', { into });
      assert.equal(r.status, 422, r.text);
      assert.equal(errorCode(r), 'bad_merge_target');
    }
    await step(srv, tok.shiftlead, a.id, 'void', { note: '测试' });
    const r = await act(srv, tok.operator, b.id, 'merge', { into: a.number });
    assert.equal(r.status, 422);
    const s = await act(srv, tok.operator, b.id, 'merge', { into: 42 });
    assert.equal(s.status, 400);
    errorCode(s);
  });
});

describe('automatic merge', () => {
  test('above the threshold the system merges, with the score in the event; unmerge undoes it', async () => {
    const cfg0 = await get('/api/v1/dedup/config');
    assert.equal(cfg0.status, 200);
    assert.equal(cfg0.json.auto_merge, false);
    const put = await api(srv, 'PUT', '/api/v1/dedup/config', { token: tok.admin, body: { auto_merge: 0.9 } });
    assert.equal(put.status, 200, put.text);
    assert.equal(put.json.auto_merge, 0.9);
    const text = '丰州路与北垣东街交叉口燃气管道那边有漏气的味道，担心会爆炸';
    const a = await register({ category: 'E0505', location: east(700), description: text });
    assert.equal(a.state, 'registered');
    const b = await register({ category: 'E0505', location: east(705), description: text });
    assert.equal(b.state, 'merged', JSON.stringify(b));
    assert.equal(b.merged_into, a.number);
    assert.equal(b.auto_merged.into, a.number);
    assert.ok(b.auto_merged.score >= 0.9);
    const ev = (await get(`/api/v1/cases/${b.id}/events`)).json.events;
    const m = ev.find((e) => e.action === 'merge');
    assert.equal(m.actor, 'system');
    assert.equal(m.data.auto, true);
    assert.ok(m.data.score >= 0.9);
    // a different text at the same place is only shown, not merged
    const c = await register({ category: 'E0505', location: east(710), description: '楼道里一股天然气味' });
    assert.equal(c.state, 'registered');
    assert.ok(dupIds(c.duplicates).includes(a.id));
    const u = await step(srv, tok.operator, b.id, 'unmerge');
    assert.equal(u.state, 'registered');
    const off = await api(srv, 'PUT', '/api/v1/dedup/config', { token: tok.admin, body: { auto_merge: false } });
    assert.equal(off.json.auto_merge, false);
    const d = await register({ category: 'E0505', location: east(705), description: text });
    assert.equal(d.state, 'registered');
  });
});

describe('bad input and roles', () => {
  test('duplicates: bad limit/min_score → 400, unknown → 404, leader and anonymous refused', async () => {
    const c = await register({ category: 'C0112', location: north(-1200), description: '路灯坏了' });
    for (const q of ['limit=0', 'limit=51', 'limit=x', 'min_score=2', 'min_score=-1', 'min_score=abc']) {
      const r = await get(`/api/v1/cases/${c.id}/duplicates?${q}`);
      assert.equal(r.status, 400, q);
      errorCode(r);
    }
    const nf = await get('/api/v1/cases/2099010100001/duplicates');
    assert.equal(nf.status, 404);
    errorCode(nf);
    assert.equal((await get(`/api/v1/cases/${c.id}/duplicates`, 'leader')).status, 403);
    assert.equal((await api(srv, 'GET', `/api/v1/cases/${c.id}/duplicates`)).status, 401);
  });

  test('config: only admins change it, and only to a threshold in [0.5, 1] or false', async () => {
    const no = await api(srv, 'PUT', '/api/v1/dedup/config', { token: tok.shiftlead, body: { auto_merge: 0.95 } });
    assert.equal(no.status, 403);
    for (const body of [{ auto_merge: 0.2 }, { auto_merge: 1.5 }, { auto_merge: 'high' }, {}, []]) {
      const r = await api(srv, 'PUT', '/api/v1/dedup/config', { token: tok.admin, body });
      assert.equal(r.status, 400, JSON.stringify(body));
      errorCode(r);
    }
    assert.equal((await get('/api/v1/dedup/config')).json.auto_merge, false);
  });
});
