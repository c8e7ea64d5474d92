// cases.test.mjs — the case workflow over real HTTP with the demo accounts:
// the whole loop register → file → dispatch → accept → handle → request_check
// → check_pass → close → visit, its events, 409 with allowed_actions,
// extension and suspension, check_fail (rework), inboxes, list filters and
// cursor pagination, phone lookup and masking, photos (raw and multipart),
// and the citizens' channel. One server for the file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  GRID_150102,
  JPEG_TINY,
  PNG_1x1,
  POINT_150102,
  act,
  api,
  createCase,
  errorCode,
  loginAll,
  startServer,
  step,
} from './lib.mjs';

let srv;
let S; // sessions by username
before(async () => {
  srv = await startServer();
  S = await loginAll(srv);
});
after(async () => {
  await srv?.stop();
});

const tok = (u) => S[u].token;
const getCase = async (u, id) => {
  const r = await api(srv, 'GET', `/api/v1/cases/${id}`, { token: tok(u) });
  assert.equal(r.status, 200, `GET case ${id} as ${u}: ${r.text}`);
  return r.json;
};
// 'comment' (备注) is open to every role of the loop in every state (its own
// test below), so the lists compared here leave it out.
const allowed = (c) => c.allowed_actions.map((a) => a.action).filter((a) => a !== 'comment').sort();
const allowed409 = (r) => r.json.error.allowed_actions.filter((a) => a !== 'comment');

const F = {
  VERIFIED: 1 << 0,
  EXT_PENDING: 1 << 2,
  SUSP_PENDING: 1 << 3,
  HANDLED_LATE: 1 << 4,
  VISITED: 1 << 6,
  CONTACTED: 1 << 7,
  RESOLVED: 1 << 8,
  MISDISPATCH: 1 << 9,
  EXTENDED: 1 << 10,
  SUSPENDED_ONCE: 1 << 11,
  SENT_BACK: 1 << 12,
};

// A case brought to `state` along the normal path; returns its view.
async function caseIn(state, extra = {}) {
  let c = await createCase(srv, tok('operator'), extra);
  const path = [
    ['filed', 'shiftlead', 'file', {}],
    ['dispatched', 'dispatcher', 'dispatch', {}],
    ['handling', 'handler', 'accept', {}],
    ['handled', 'handler', 'handle', { note: '已处理' }],
    ['checking', 'operator', 'request_check', {}],
    ['checked', 'inspector', 'check_pass', {}],
    ['closed', 'shiftlead', 'close', {}],
  ];
  if (state === 'registered') return c;
  for (const [st, who, action, body] of path) {
    c = await step(srv, tok(who), c.id, action, body);
    assert.equal(c.state, st);
    if (st === state) return c;
  }
  throw new Error(`no path to ${state}`);
}

describe('the whole loop', () => {
  test('register → … → visit with the right roles, and its events', async () => {
    const before = (await api(srv, 'GET', '/api/v1/health')).json.cases;
    const reg = await api(srv, 'POST', '/api/v1/cases', {
      token: tok('operator'),
      body: {
        description: '海拉尔东路早市摊贩占道经营',
        category: 'E0402',
        severity: 'normal',
        request_type: 'complaint',
        address: '海拉尔东路 12 号',
        location: { ...POINT_150102 },
        caller: { name: '张三', phone: '13812345678' },
      },
    });
    assert.equal(reg.status, 201, reg.text);
    let c = reg.json;
    assert.equal(reg.headers.get('location'), `/api/v1/cases/${c.number}`);
    assert.match(c.number, /^\d{13}$/);
    assert.equal(c.state, 'registered');
    assert.equal(c.channel, 'hotline');
    assert.equal(c.reporter, 'operator');
    assert.equal(c.grid, GRID_150102);
    assert.equal(c.community, '150102001001');
    assert.equal(c.street, '150102001');
    assert.equal(c.district, '150102');
    assert.equal(c.routed_dept, 'D-CG-150102');
    assert.equal(c.dept, '');
    assert.equal(c.caller.phone, '13812345678'); // the desk sees the number
    assert.equal(c.request_type, 'complaint');
    assert.ok(c.step_due, 'filing has a deadline');
    assert.equal((await api(srv, 'GET', '/api/v1/health')).json.cases, before + 1);

    // the stored case as the API shows it
    c = await getCase('operator', c.number);
    assert.equal(c.routed_dept_name, '新城区城市管理综合执法局');
    assert.equal(c.category_name, '占道经营');
    assert.equal(c.areas.grid.code, GRID_150102);
    assert.equal(c.areas.district.name, '新城区');
    assert.equal(c.severity_zh, '一般');
    assert.equal(c.channel_zh, '12345热线');
    assert.ok(c.step_started, 'the filing step has a start');
    assert.equal(c.light, 'green', 'nothing of the filing time is used yet');
    assert.equal(c.overdue, false);
    assert.deepEqual(allowed(c), ['merge', 'reclassify', 'verify_request']);
    // by id too
    assert.equal((await getCase('operator', c.id)).number, c.number);

    c = await step(srv, tok('shiftlead'), c.id, 'file', { note: '符合立案条件' });
    assert.equal(c.state, 'filed');
    c = await step(srv, tok('dispatcher'), c.id, 'dispatch', {});
    assert.equal(c.state, 'dispatched');
    assert.equal(c.dept, 'D-CG-150102');
    assert.equal(c.first_dept, 'D-CG-150102');
    assert.equal(c.dept_name, '新城区城市管理综合执法局');
    assert.ok(c.dispatched_at && c.disposal_due);
    assert.ok(Date.parse(c.disposal_due) > Date.parse(c.dispatched_at));
    c = await step(srv, tok('handler'), c.id, 'accept', {});
    assert.equal(c.state, 'handling');
    assert.equal(c.step_due, c.disposal_due);
    c = await step(srv, tok('handler'), c.id, 'handle', { note: '已劝离摊贩，恢复通行' });
    assert.equal(c.state, 'handled');
    assert.ok(c.handled_at);
    c = await step(srv, tok('operator'), c.id, 'request_check', {});
    assert.equal(c.state, 'checking');
    c = await step(srv, tok('inspector'), c.id, 'check_pass', { note: '现场已恢复' });
    assert.equal(c.state, 'checked');
    c = await step(srv, tok('shiftlead'), c.id, 'close', {});
    assert.equal(c.state, 'closed');
    assert.ok(['normal', 'overdue'].includes(c.close_type));
    assert.equal(c.close_type, c.flags & F.HANDLED_LATE ? 'overdue' : 'normal');
    assert.ok(c.closed_at);
    c = await step(srv, tok('operator'), c.id, 'visit', { satisfaction: 'satisfied' });
    assert.equal(c.state, 'closed');
    assert.equal(c.satisfaction, 'satisfied');
    assert.equal(c.flags & (F.VISITED | F.CONTACTED | F.RESOLVED), F.VISITED | F.CONTACTED | F.RESOLVED);
    assert.deepEqual(allowed(await getCase('shiftlead', c.id)), ['reopen']);
    assert.deepEqual(allowed(await getCase('operator', c.id)), []);

    const ev = await api(srv, 'GET', `/api/v1/cases/${c.id}/events`, { token: tok('leader') });
    assert.equal(ev.status, 200);
    assert.equal(ev.json.number, c.number);
    const list = ev.json.events;
    assert.deepEqual(
      list.map((e) => [e.action, e.actor, e.role, e.from, e.to]),
      [
        ['register', 'operator', 'operator', 'none', 'registered'],
        ['file', 'shiftlead', 'shiftlead', 'registered', 'filed'],
        ['dispatch', 'dispatcher', 'dispatcher', 'filed', 'dispatched'],
        ['accept', 'handler', 'handler', 'dispatched', 'handling'],
        ['handle', 'handler', 'handler', 'handling', 'handled'],
        ['request_check', 'operator', 'operator', 'handled', 'checking'],
        ['check_pass', 'inspector', 'inspector', 'checking', 'checked'],
        ['close', 'shiftlead', 'shiftlead', 'checked', 'closed'],
        ['visit', 'operator', 'operator', 'closed', 'closed'],
      ],
    );
    for (let i = 1; i < list.length; i++) {
      assert.ok(list[i].seq > list[i - 1].seq);
      assert.ok(Date.parse(list[i].ts) >= Date.parse(list[i - 1].ts));
    }
    assert.equal(list[0].action_zh, '受理登记');
    assert.equal(list[2].action_zh, '派遣');
    assert.equal(list[2].data.dept, 'D-CG-150102');
    assert.equal(list[4].data.note, '已劝离摊贩，恢复通行');
    assert.equal(list[1].data.note, '符合立案条件');
    assert.equal(list[8].data.satisfaction, 'satisfied');
    // the register event carries the case, but never the caller's phone
    assert.equal(list[0].data.case.number, c.number);
    assert.equal(list[0].data.case.caller.phone, undefined);
    assert.ok(!ev.text.includes('13812345678'));
    // events by number too
    const byNumber = await api(srv, 'GET', `/api/v1/cases/${c.number}/events`, { token: tok('operator') });
    assert.equal(byNumber.json.events.length, list.length);
  });
});

describe('notes (备注)', () => {
  test('every role of the loop may add a note in any state; it goes into the history', async () => {
    const c = await caseIn('handling');
    for (const who of ['operator', 'inspector', 'shiftlead', 'dispatcher', 'handler']) {
      const v = await step(srv, tok(who), c.id, 'comment', { note: `${who} 补充说明` });
      assert.equal(v.state, 'handling'); // a note changes nothing else
    }
    const ev = await api(srv, 'GET', `/api/v1/cases/${c.id}/events`, { token: tok('leader') });
    const notes = ev.json.events.filter((e) => e.action === 'comment');
    assert.deepEqual(notes.map((e) => e.actor), ['operator', 'inspector', 'shiftlead', 'dispatcher', 'handler']);
    assert.equal(notes[0].data.note, 'operator 补充说明');
    assert.equal(notes[0].actor_name, '受理员 王芳'); // display names for the timeline
    // a note needs text; the read-only leader may not write one
    const empty = await api(srv, 'POST', `/api/v1/cases/${c.id}/actions/comment`, { token: tok('operator'), body: {} });
    assert.equal(empty.status, 400);
    assert.equal(errorCode(empty), 'bad_request');
    const lead = await api(srv, 'POST', `/api/v1/cases/${c.id}/actions/comment`, { token: tok('leader'), body: { note: 'x' } });
    assert.equal(lead.status, 403);
  });
});

describe('refusals', () => {
  test('409 lists the allowed actions and changes nothing', async () => {
    const c = await createCase(srv, tok('operator'));
    let r = await act(srv, tok('shiftlead'), c.id, 'close', {});
    assert.equal(r.status, 409);
    assert.equal(errorCode(r), 'action_not_allowed');
    assert.deepEqual(allowed409(r).sort(), ['file', 'merge', 'reclassify', 'verify_request', 'void']);
    r = await act(srv, tok('dispatcher'), c.id, 'dispatch', { dept: 'D-CG-150102' });
    assert.equal(r.status, 409);
    assert.deepEqual(allowed409(r), ['reclassify']);
    r = await act(srv, tok('handler'), c.id, 'accept');
    // the handler does not even see a case not dispatched to his department
    assert.equal(r.status, 403);
    assert.equal(errorCode(r), 'out_of_scope');
    const after = await getCase('operator', c.id);
    assert.equal(after.state, 'registered');
    assert.equal(after.updated, c.updated);
    const ev = await api(srv, 'GET', `/api/v1/cases/${c.id}/events`, { token: tok('operator') });
    assert.equal(ev.json.events.length, 1);
  });

  test('unknown action, unknown case, bad parameters', async () => {
    const c = await caseIn('handling');
    let r = await act(srv, tok('handler'), c.id, 'teleport', {});
    assert.equal(r.status, 404);
    errorCode(r);
    r = await act(srv, tok('handler'), 99999999, 'handle', { note: 'x' });
    assert.equal(r.status, 404);
    assert.equal(errorCode(r), 'not_found');
    r = await act(srv, tok('handler'), '2000010199999', 'handle', { note: 'x' });
    assert.equal(r.status, 404);
    r = await act(srv, tok('handler'), c.id, 'handle', {});
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'bad_request');
    assert.match(r.json.error.message, /note/);
    r = await act(srv, tok('handler'), c.id, 'handle', { note: 'x'.repeat(1001) });
    assert.equal(r.status, 400);
    r = await act(srv, tok('handler'), c.id, 'request_extension', { limit: '2 days', note: 'x' });
    assert.equal(r.status, 400);
    r = await act(srv, tok('handler'), c.id, 'handle', '[1,2]');
    assert.equal(r.status, 400);
    assert.equal((await getCase('handler', c.id)).state, 'handling');
  });
});

describe('extension and suspension', () => {
  test('extension requested, approved, requested again and rejected', async () => {
    let c = await caseIn('handling');
    const due0 = Date.parse(c.disposal_due);
    c = await step(srv, tok('handler'), c.id, 'request_extension', { limit: '2wd', note: '需更换设施' });
    assert.equal(c.state, 'handling');
    assert.ok(c.flags & F.EXT_PENDING);
    assert.deepEqual(allowed(c), []); // the handler waits now
    let lead = await getCase('shiftlead', c.id);
    assert.deepEqual(allowed(lead), ['approve_extension', 'reject_extension']);
    let r = await act(srv, tok('handler'), c.id, 'handle', { note: '提前处理' });
    assert.equal(r.status, 409);
    assert.deepEqual(allowed409(r), []);
    c = await step(srv, tok('shiftlead'), c.id, 'approve_extension', { limit: '2wd' });
    assert.ok(!(c.flags & F.EXT_PENDING));
    assert.ok(c.flags & F.EXTENDED);
    assert.equal(c.extensions, 1);
    const due1 = Date.parse(c.disposal_due);
    // two working days on top of the old deadline: at least 2 calendar days later
    assert.ok(due1 - due0 >= 2 * 86400e3, `${c.disposal_due} vs ${new Date(due0).toISOString()}`);
    c = await step(srv, tok('handler'), c.id, 'request_extension', { limit: '4wh', note: '再延' });
    c = await step(srv, tok('shiftlead'), c.id, 'reject_extension', { note: '不予延期' });
    assert.ok(!(c.flags & F.EXT_PENDING));
    assert.equal(c.extensions, 1);
    assert.equal(Date.parse(c.disposal_due), due1);
    r = await act(srv, tok('shiftlead'), c.id, 'reject_extension', { note: 'again' });
    assert.equal(r.status, 409);
    const ev = await api(srv, 'GET', `/api/v1/cases/${c.id}/events`, { token: tok('operator') });
    const names = ev.json.events.map((e) => e.action);
    assert.deepEqual(names.slice(-4), ['request_extension', 'approve_extension', 'request_extension', 'reject_extension']);
    assert.equal(ev.json.events.find((e) => e.action === 'request_extension').data.limit, '2wd');
  });

  test('suspension: the clock stops and resumes', async () => {
    let c = await caseIn('handling');
    c = await step(srv, tok('handler'), c.id, 'request_suspension', { note: '冬季无法施工' });
    assert.ok(c.flags & F.SUSP_PENDING);
    c = await step(srv, tok('shiftlead'), c.id, 'approve_suspension', {});
    assert.equal(c.state, 'suspended');
    assert.ok(c.flags & F.SUSPENDED_ONCE);
    assert.ok(!(c.flags & F.SUSP_PENDING));
    assert.equal(c.light, null); // no traffic light while suspended
    assert.equal(c.overdue, false);
    assert.ok(c.disposal_left >= 0);
    assert.deepEqual(allowed(await getCase('handler', c.id)), ['resume']);
    let r = await act(srv, tok('handler'), c.id, 'handle', { note: 'x' });
    assert.equal(r.status, 409);
    assert.deepEqual(allowed409(r), ['resume']);
    c = await step(srv, tok('handler'), c.id, 'resume', {});
    assert.equal(c.state, 'handling');
    assert.equal(c.disposal_left, 0);
    assert.ok(c.disposal_due);
    // a rejected request changes nothing
    c = await step(srv, tok('handler'), c.id, 'request_suspension', { note: '再挂' });
    c = await step(srv, tok('shiftlead'), c.id, 'reject_suspension', { note: '不同意' });
    assert.equal(c.state, 'handling');
    assert.ok(!(c.flags & F.SUSP_PENDING));
  });

  test('check_fail: rework, back to the same department', async () => {
    let c = await caseIn('checking');
    const r = await act(srv, tok('inspector'), c.id, 'check_fail', {});
    assert.equal(r.status, 400); // a failed check says why
    c = await step(srv, tok('inspector'), c.id, 'check_fail', { note: '仍有摊贩占道' });
    assert.equal(c.state, 'dispatched');
    assert.equal(c.rework, 1);
    assert.equal(c.dispatches, 2);
    assert.equal(c.dept, 'D-CG-150102');
    assert.equal(c.handled_at, null);
    const inbox = await api(srv, 'GET', '/api/v1/cases?inbox=1&limit=100', { token: tok('handler') });
    assert.ok(inbox.json.items.some((x) => x.id === c.id));
    c = await step(srv, tok('handler'), c.id, 'accept', {});
    c = await step(srv, tok('handler'), c.id, 'handle', { note: '再次清理' });
    assert.equal(c.rework, 1);
  });

  test('send back and dispatch to another department', async () => {
    let c = await caseIn('dispatched');
    c = await step(srv, tok('handler'), c.id, 'send_back', { note: '非本部门职责' });
    assert.equal(c.state, 'filed');
    assert.ok(c.flags & F.SENT_BACK);
    assert.equal(c.dept, '');
    c = await step(srv, tok('dispatcher'), c.id, 'dispatch', { dept: 'D-HW-150102' });
    assert.equal(c.dept, 'D-HW-150102');
    assert.equal(c.first_dept, 'D-CG-150102');
    assert.ok(c.flags & F.MISDISPATCH);
    // the first department still sees the case, but can take no step on it,
    // and it is not in its inbox
    const seen = await getCase('handler', c.id);
    assert.deepEqual(allowed(seen), []);
    const r = await act(srv, tok('handler'), c.id, 'accept', {});
    assert.equal(r.status, 409);
    const inbox = await api(srv, 'GET', '/api/v1/cases?inbox=1&limit=500', { token: tok('handler') });
    assert.equal(inbox.status, 200);
    assert.ok(!inbox.json.items.some((x) => x.id === c.id), 'a case of another department in my inbox');
    const unknown = await act(srv, tok('dispatcher'), (await caseIn('filed')).id, 'dispatch', { dept: 'D-NOPE' });
    assert.equal(unknown.status, 400);
  });
});

describe('lists', () => {
  test('inbox=1: every role sees what waits for it', async () => {
    const reg = await caseIn('registered');
    const filed = await caseIn('filed');
    const disp = await caseIn('dispatched');
    const checking = await caseIn('checking');
    const checked = await caseIn('checked');
    const want = {
      operator: [reg.id],
      shiftlead: [reg.id, checked.id],
      dispatcher: [filed.id],
      handler: [disp.id],
      inspector: [checking.id],
    };
    for (const u of ['admin', 'operator', 'inspector', 'shiftlead', 'dispatcher', 'handler', 'leader']) {
      const r = await api(srv, 'GET', '/api/v1/cases?inbox=1&limit=500', { token: tok(u) });
      assert.equal(r.status, 200, u);
      const ids = new Set(r.json.items.map((x) => x.id));
      for (const id of want[u] || []) assert.ok(ids.has(id), `${u} misses case ${id}`);
      for (const other of [reg, filed, disp, checking, checked])
        if (!(want[u] || []).includes(other.id)) assert.ok(!ids.has(other.id), `${u} has case ${other.id} (${other.state})`);
      // everything in an inbox is something this user can act on now
      for (const x of r.json.items) {
        const acts = x.allowed_actions.map((a) => a.action).filter((a) => a !== 'reclassify' && a !== 'merge' && a !== 'comment');
        assert.ok(acts.length > 0, `${u}: case ${x.id} in state ${x.state} has nothing to do`);
      }
      if (u === 'admin' || u === 'leader') assert.equal(r.json.count, 0);
    }
  });

  test('filters', async () => {
    const c = await caseIn('filed', { description: '筛选测试 唯一标记 QX7' });
    const q = async (query, u = 'operator') => {
      const r = await api(srv, 'GET', `/api/v1/cases?${query}`, { token: tok(u) });
      assert.equal(r.status, 200, `${query}: ${r.text}`);
      assert.equal(r.json.count, r.json.items.length);
      return r.json.items;
    };
    let items = await q('state=filed&limit=200');
    assert.ok(items.length > 0 && items.every((x) => x.state === 'filed'));
    assert.ok(items.some((x) => x.id === c.id));
    items = await q('state=filed,dispatched&limit=200');
    assert.ok(items.every((x) => ['filed', 'dispatched'].includes(x.state)));
    items = await q('state=open&limit=200');
    assert.ok(items.every((x) => !['closed', 'voided', 'merged'].includes(x.state)));
    items = await q('state=closed&limit=50');
    assert.ok(items.every((x) => x.state === 'closed'));
    items = await q('category=E0402&limit=100');
    assert.ok(items.length > 0 && items.every((x) => x.category === 'E0402'));
    items = await q('area=150102001&limit=100');
    assert.ok(items.length > 0 && items.every((x) => x.street === '150102001'));
    items = await q(`area=${GRID_150102}&limit=100`);
    assert.ok(items.every((x) => x.grid === GRID_150102));
    items = await q('area=150103&limit=100');
    assert.ok(items.length > 0 && items.every((x) => x.district === '150103'));
    items = await q('dept=D-CG-150102&limit=100');
    assert.ok(items.length > 0 && items.every((x) => x.dept === 'D-CG-150102' || x.first_dept === 'D-CG-150102'));
    items = await q('channel=hotline&limit=100');
    assert.ok(items.every((x) => x.channel === 'hotline'));
    items = await q('q=唯一标记 QX7');
    assert.deepEqual(items.map((x) => x.id), [c.id]);
    items = await q(`q=${c.number}`);
    assert.deepEqual(items.map((x) => x.id), [c.id]);
    const created = Date.parse(c.created);
    items = await q(`from=${encodeURIComponent(new Date(created - 1000).toISOString())}&limit=500`);
    assert.ok(items.some((x) => x.id === c.id));
    assert.ok(items.every((x) => Date.parse(x.created) >= created - 1000));
    items = await q(`to=${encodeURIComponent(new Date(created - 86400e3).toISOString())}&limit=50`);
    assert.ok(items.every((x) => Date.parse(x.created) < created - 86400e3));
    items = await q('overdue=1&limit=100');
    assert.ok(items.every((x) => x.overdue === true && ['dispatched', 'handling'].includes(x.state)));
    // the inspector is kept to 新城区 whatever he asks
    items = await q('limit=200', 'inspector');
    assert.ok(items.length > 0 && items.every((x) => x.district === '150102'));
    const out = await api(srv, 'GET', '/api/v1/cases?area=150103', { token: tok('inspector') });
    assert.equal(out.status, 403);
    assert.equal(errorCode(out), 'out_of_scope');
    // the handler sees his department's cases only
    items = await q('limit=200', 'handler');
    assert.ok(items.length > 0);
    assert.ok(items.every((x) => x.dept === 'D-CG-150102' || x.first_dept === 'D-CG-150102'));
    items = await q('dept=D-HW&limit=50', 'handler');
    assert.ok(items.every((x) => x.dept === 'D-CG-150102' || x.first_dept === 'D-CG-150102'));
  });

  test('lists by area and department are complete, page by page', async () => {
    // SQLite has no index on area or department: the projection names the
    // candidates and the store checks them; small pages need several rounds
    const pages = async (query, limit, from = 0) => {
      const ids = [];
      let before = from ? `&before=${from}` : '';
      for (let i = 0; i < 1000; i++) {
        const r = await api(srv, 'GET', `/api/v1/cases?${query}&limit=${limit}${before}`, { token: tok('operator') });
        assert.equal(r.status, 200, r.text);
        ids.push(...r.json.items.map((x) => x.id));
        if (r.json.next === null) return ids;
        assert.ok(r.json.items.length === limit);
        before = `&before=${r.json.next}`;
      }
      throw new Error(`no end: ${query} limit ${limit} after ${ids.length}`);
    };
    const all = await pages('x=1', 500);
    const byId = new Map();
    for (let i = 0; i < all.length; i += 100) {
      const r = await api(srv, 'GET', `/api/v1/cases?limit=100&before=${all[i] + 1}`, { token: tok('operator') });
      for (const x of r.json.items) byId.set(x.id, x);
    }
    assert.ok(all.length > 30, `only ${all.length} cases`);
    const want = (pred) => all.filter((id) => pred(byId.get(id)));
    const grid = byId.get(all.find((id) => byId.get(id).grid)).grid;
    const some = byId.get(all.find((id) => byId.get(id).district === '150102'));
    const checks = [
      ['area=150103', (x) => x.district === '150103'],
      ['area=150102001', (x) => x.street === '150102001'],
      [`area=${grid}`, (x) => x.grid === grid],
      ['dept=D-CG-150102', (x) => x.dept === 'D-CG-150102' || x.first_dept === 'D-CG-150102'],
      [`area=150102&state=${some.state},voided`, (x) => x.district === '150102' && [some.state, 'voided'].includes(x.state)],
      [`area=150102&channel=${some.channel}`, (x) => x.district === '150102' && x.channel === some.channel],
    ];
    for (const [query, pred] of checks) {
      const expect = want(pred);
      assert.ok(expect.length > 0, `${query}: nothing to find`);
      for (const limit of [1, 3, 500]) assert.deepEqual(await pages(query, limit), expect, `${query} limit ${limit}`);
    }
    // a cursor in the middle, and an area with no cases at all
    const mid = want((x) => x.district === '150102');
    const from = mid[Math.floor(mid.length / 2)];
    assert.deepEqual(await pages('area=150102', 7, from), mid.filter((id) => id < from));
    assert.deepEqual(await pages('area=150199', 5), []);
    assert.deepEqual(await pages('dept=D-NO-SUCH', 5), []);
  });

  test('cursor pagination with next', async () => {
    const all = await api(srv, 'GET', '/api/v1/cases?limit=25', { token: tok('operator') });
    assert.equal(all.json.items.length, 25);
    const ids = all.json.items.map((x) => x.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a), 'newest first');
    const pages = [];
    let next = null;
    for (let i = 0; i < 5; i++) {
      const r = await api(srv, 'GET', `/api/v1/cases?limit=5${next ? `&before=${next}` : ''}`, { token: tok('operator') });
      assert.equal(r.json.items.length, 5);
      pages.push(...r.json.items.map((x) => x.id));
      assert.equal(r.json.next, r.json.items[4].id);
      next = r.json.next;
    }
    assert.deepEqual(pages, ids);
    // the last page says there is no next
    const tail = await api(srv, 'GET', '/api/v1/cases?limit=500&before=3', { token: tok('operator') });
    assert.deepEqual(tail.json.items.map((x) => x.id), [2, 1]);
    assert.equal(tail.json.next, null);
    // filtered pages do not overlap either
    let seen = new Set();
    next = null;
    for (let i = 0; i < 4; i++) {
      const r = await api(srv, 'GET', `/api/v1/cases?state=closed&limit=7${next ? `&before=${next}` : ''}`, { token: tok('shiftlead') });
      for (const x of r.json.items) {
        assert.equal(x.state, 'closed');
        assert.ok(!seen.has(x.id));
        seen.add(x.id);
      }
      next = r.json.next;
      if (!next) break;
    }
    assert.ok(seen.size > 7);
  });
});

describe('callers and their phones', () => {
  test('phone lookup: the desk may, others may not', async () => {
    const phone = '13900001111';
    const c = await createCase(srv, tok('operator'), { caller: { name: '李四', phone } });
    for (const u of ['operator', 'shiftlead', 'admin']) {
      const r = await api(srv, 'GET', `/api/v1/cases?phone=${phone}`, { token: tok(u) });
      assert.equal(r.status, 200, u);
      assert.deepEqual(r.json.items.map((x) => x.id), [c.id], u);
      assert.equal(r.json.items[0].caller.phone, phone);
    }
    for (const u of ['inspector', 'dispatcher', 'handler', 'leader']) {
      const r = await api(srv, 'GET', `/api/v1/cases?phone=${phone}`, { token: tok(u) });
      assert.equal(r.status, 403, u);
      assert.equal(errorCode(r), 'forbidden');
    }
    const none = await api(srv, 'GET', '/api/v1/cases?phone=13900009999', { token: tok('operator') });
    assert.equal(none.json.count, 0);
  });

  test('the phone is masked for the leader, the inspector and the departments', async () => {
    const c = await caseIn('dispatched', { caller: { name: '王五', phone: '13712345678' } });
    for (const u of ['leader', 'inspector', 'dispatcher', 'handler']) {
      const v = await getCase(u, c.id);
      assert.equal(v.caller.phone, '137****5678', u);
      assert.equal(v.caller.name, '王五');
      const r = await api(srv, 'GET', `/api/v1/cases?q=${c.number}`, { token: tok(u) });
      assert.ok(!r.text.includes('13712345678'), `${u} list shows the phone`);
      const ev = await api(srv, 'GET', `/api/v1/cases/${c.id}/events`, { token: tok(u) });
      assert.ok(!ev.text.includes('13712345678'), `${u} events show the phone`);
      const act1 = await api(srv, 'GET', `/api/v1/cases/${c.id}`, { token: tok(u) });
      assert.ok(!act1.text.includes('13712345678'));
    }
    for (const u of ['operator', 'shiftlead', 'admin']) assert.equal((await getCase(u, c.id)).caller.phone, '13712345678');
    // an inspector's own report: the reply is masked too
    const r = await api(srv, 'POST', '/api/v1/cases', {
      token: tok('inspector'),
      body: { description: '监督员上报', category: 'E0402', location: POINT_150102, caller: { phone: '13600001234' } },
    });
    assert.equal(r.status, 201);
    assert.equal(r.json.channel, 'inspector');
    assert.equal(r.json.caller.phone, '136****1234');
    assert.ok(r.json.flags & F.VERIFIED, 'seen on site by the reporter');
    // a 7-digit local number is not shown whole
    const l = await createCase(srv, tok('operator'), { caller: { phone: '4567890' } });
    assert.equal((await getCase('leader', l.id)).caller.phone, '****7890');
  });
});

describe('photos', () => {
  test('upload a PNG and a JPEG, get them back', async () => {
    let r = await api(srv, 'POST', '/api/v1/media', {
      token: tok('inspector'),
      body: PNG_1x1,
      headers: { 'Content-Type': 'image/png' },
    });
    assert.equal(r.status, 201, r.text);
    assert.match(r.json.id, /^[0-9a-f]{64}$/);
    assert.equal(r.json.type, 'image/png');
    assert.equal(r.json.size, PNG_1x1.length);
    const png = r.json.id;
    // the same bytes are the same photo
    r = await api(srv, 'POST', '/api/v1/media', { token: tok('operator'), body: PNG_1x1, headers: { 'Content-Type': 'image/png' } });
    assert.equal(r.json.id, png);
    const fd = new FormData();
    fd.append('file', new Blob([JPEG_TINY], { type: 'image/jpeg' }), 'site.jpg');
    r = await api(srv, 'POST', '/api/v1/media', { token: tok('handler'), body: fd });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.type, 'image/jpeg');
    const jpg = r.json.id;
    assert.notEqual(jpg, png);
    for (const [id, bytes, type] of [
      [png, PNG_1x1, 'image/png'],
      [jpg, JPEG_TINY, 'image/jpeg'],
    ]) {
      const g = await api(srv, 'GET', `/api/v1/media/${id}`, { token: tok('leader') });
      assert.equal(g.status, 200);
      assert.equal(g.headers.get('content-type'), type);
      assert.match(g.headers.get('cache-control'), /immutable/);
      assert.ok(g.buf.equals(bytes));
    }
    // not an image
    r = await api(srv, 'POST', '/api/v1/media', { token: tok('operator'), body: Buffer.from('GIF89a not allowed'), headers: { 'Content-Type': 'image/gif' } });
    assert.equal(r.status, 400);
    r = await api(srv, 'POST', '/api/v1/media', { token: tok('operator'), body: Buffer.alloc(0), headers: { 'Content-Type': 'image/png' } });
    assert.equal(r.status, 400);
    r = await api(srv, 'GET', `/api/v1/media/${'0'.repeat(64)}`, { token: tok('operator') });
    assert.equal(r.status, 404);
    r = await api(srv, 'GET', `/api/v1/media/${png.toUpperCase()}`, { token: tok('operator') });
    assert.equal(r.status, 404);
    // photos go with actions
    let c = await caseIn('handling');
    c = await step(srv, tok('handler'), c.id, 'handle', { note: '处置后照片', photos: [png, jpg] });
    assert.deepEqual(c.photos, [png, jpg]);
  });

  test('register with a photo in one multipart request', async () => {
    const fd = new FormData();
    fd.append(
      'case',
      new Blob([JSON.stringify({ description: '井盖破损，附现场照片', category: 'C0101', location: POINT_150102 })], {
        type: 'application/json',
      }),
    );
    fd.append('photo', new Blob([PNG_1x1], { type: 'image/png' }), 'scene.png');
    fd.append('photo', new Blob([JPEG_TINY], { type: 'image/jpeg' }), 'scene2.jpg');
    const r = await api(srv, 'POST', '/api/v1/cases', { token: tok('operator'), body: fd });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.json.photos.length, 2);
    assert.equal(r.json.category, 'C0101');
    for (const id of r.json.photos) {
      const g = await api(srv, 'GET', `/api/v1/media/${id}`, { token: tok('operator') });
      assert.equal(g.status, 200);
    }
    // a multipart body without the case part
    const bad = new FormData();
    bad.append('photo', new Blob([PNG_1x1], { type: 'image/png' }), 'x.png');
    const b = await api(srv, 'POST', '/api/v1/cases', { token: tok('operator'), body: bad });
    assert.equal(b.status, 400);
    errorCode(b);
    // a photo that is not an image
    const bad2 = new FormData();
    bad2.append('case', JSON.stringify({ description: 'x', location: POINT_150102 }));
    bad2.append('photo', new Blob(['hello']), 'x.txt');
    const b2 = await api(srv, 'POST', '/api/v1/cases', { token: tok('operator'), body: bad2 });
    assert.equal(b2.status, 400);
  });
});

describe('citizens', () => {
  test('report and follow a case without an account', async () => {
    const before = (await api(srv, 'GET', '/api/v1/health')).json.cases;
    const up = new FormData();
    up.append('file', new Blob([PNG_1x1], { type: 'image/png' }), 'p.png');
    const m = await api(srv, 'POST', '/api/v1/public/media', { body: up });
    assert.equal(m.status, 201);
    const r = await api(srv, 'POST', '/api/v1/public/cases', {
      body: {
        description: '小区门口垃圾堆积多日',
        category: 'E0102',
        location: POINT_150102,
        caller: { name: '市民', phone: '13511112222' },
        photos: [m.json.id],
        channel: 'hotline',
      },
    });
    assert.equal(r.status, 201, r.text);
    const pub = r.json;
    assert.match(pub.number, /^\d{13}$/);
    assert.equal(r.headers.get('location'), `/api/v1/cases/${pub.number}`);
    assert.equal(pub.state, 'open');
    assert.equal(pub.state_detail, 'registered');
    assert.equal(pub.district.code, '150102');
    assert.equal(pub.category_name, '暴露垃圾');
    for (const k of ['caller', 'reporter', 'id', 'photos', 'location', 'flags']) assert.equal(pub[k], undefined, k);
    assert.ok(!r.text.includes('13511112222'));
    assert.equal((await api(srv, 'GET', '/api/v1/health')).json.cases, before + 1);

    const g = await api(srv, 'GET', `/api/v1/public/cases/${pub.number}`);
    assert.equal(g.status, 200);
    assert.deepEqual(g.json, pub);
    // staff see it as a web report
    const c = await getCase('operator', pub.number);
    assert.equal(c.channel, 'web');
    assert.equal(c.reporter, '');
    assert.equal(c.request_type, 'report');
    assert.deepEqual(c.photos, [m.json.id]);
    assert.equal(c.caller.phone, '13511112222');
    // its public state follows the workflow
    await step(srv, tok('shiftlead'), c.id, 'void', { note: '重复上报' });
    const v = await api(srv, 'GET', `/api/v1/public/cases/${pub.number}`);
    assert.equal(v.json.state, 'voided');
    // unknown and malformed numbers
    let x = await api(srv, 'GET', '/api/v1/public/cases/2000010100001');
    assert.equal(x.status, 404);
    x = await api(srv, 'GET', '/api/v1/public/cases/123');
    assert.equal(x.status, 400);
    assert.equal(errorCode(x), 'bad_number');
    x = await api(srv, 'GET', `/api/v1/public/cases/${c.id}`);
    assert.equal(x.status, 400);
  });

  test('a citizen session is not needed and not used', async () => {
    // even with a staff token the public channel registers an anonymous web report
    const r = await api(srv, 'POST', '/api/v1/public/cases', {
      token: tok('operator'),
      body: { description: '路灯不亮', category: 'C0112', location: POINT_150102 },
    });
    assert.equal(r.status, 201);
    const c = await getCase('operator', r.json.number);
    assert.equal(c.reporter, '');
    assert.equal(c.channel, 'web');
  });
});

describe('concurrency and durability', () => {
  test('concurrent registrations get distinct numbers', async () => {
    const before = (await api(srv, 'GET', '/api/v1/health')).json.cases;
    const N = 40;
    const replies = await Promise.all(
      Array.from({ length: N }, (_, i) =>
        api(srv, 'POST', '/api/v1/cases', {
          token: tok(i % 2 ? 'operator' : 'inspector'),
          body: { description: `并发受理 ${i}`, category: 'E0402', location: POINT_150102 },
        }),
      ),
    );
    for (const r of replies) assert.equal(r.status, 201, r.text);
    assert.equal(new Set(replies.map((r) => r.json.number)).size, N);
    assert.equal(new Set(replies.map((r) => r.json.id)).size, N);
    assert.equal((await api(srv, 'GET', '/api/v1/health')).json.cases, before + N);
  });

  test('the same step taken twice at once: one wins, the other gets 409', async () => {
    const c = await caseIn('dispatched');
    const replies = await Promise.all(Array.from({ length: 8 }, () => act(srv, tok('handler'), c.id, 'accept', {})));
    const codes = replies.map((r) => r.status).sort();
    assert.deepEqual(codes, [200, 409, 409, 409, 409, 409, 409, 409]);
    const ev = await api(srv, 'GET', `/api/v1/cases/${c.id}/events`, { token: tok('operator') });
    assert.equal(ev.json.events.filter((e) => e.action === 'accept').length, 1);
  });

  test('a 201 survives kill -9', async () => {
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        api(srv, 'POST', '/api/v1/cases', {
          token: tok('operator'),
          body: { description: `持久化 ${i}`, category: 'E0402', location: POINT_150102 },
        }),
      ),
    );
    for (const r of replies) assert.equal(r.status, 201);
    const moved = await caseIn('handling');
    const count = (await api(srv, 'GET', '/api/v1/health')).json.cases;
    const dir = srv.dir;
    await srv.kill();
    srv = await startServer({ dir });
    S = await loginAll(srv);
    assert.equal((await api(srv, 'GET', '/api/v1/health')).json.cases, count);
    for (const r of replies) {
      const c = await getCase('operator', r.json.number);
      assert.equal(c.id, r.json.id);
      assert.equal(c.description, r.json.description);
    }
    const m = await getCase('handler', moved.id);
    assert.equal(m.state, 'handling');
    const ev = await api(srv, 'GET', `/api/v1/cases/${moved.id}/events`, { token: tok('operator') });
    assert.deepEqual(ev.json.events.map((e) => e.action), ['register', 'file', 'dispatch', 'accept']);
    // and numbering goes on after the restart
    const next = await createCase(srv, tok('operator'));
    assert.ok(next.id > Math.max(...replies.map((r) => r.json.id), moved.id));
  });
});
