// authz.test.mjs — who may call what: every endpoint of routes.c × every
// demo role (and anonymous) → the expected status, from a matrix written
// here from the roles of the issues (not read from routes.c): public
// endpoints answer everyone; a protected one answers 401 without a session,
// 403 to a role outside its list and its success status to a role inside.
// Then the data scopes: a handler sees only his department's cases, an
// inspector only 新城区 (150102).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  PNG_1x1,
  POINT_150102,
  ROLES,
  api,
  createCase,
  errorCode,
  login,
  loginAll,
  startServer,
  step,
} from './lib.mjs';

let srv;
let S;
before(async () => {
  srv = await startServer();
  S = await loginAll(srv);
});
after(async () => {
  await srv?.stop();
});

const tok = (u) => S[u]?.token;
const ALL = ROLES;
const STAFF = ROLES.filter((r) => r !== 'leader');
const INTAKE = ['operator', 'inspector', 'admin'];
const WORKFLOW = ['operator', 'inspector', 'shiftlead', 'dispatcher', 'handler'];
const ADMIN = ['admin'];
const PUBLIC = null;

// Brings a fresh case to a state through the normal path.
async function caseAt(state) {
  let c = await createCase(srv, tok('operator'));
  const path = [
    ['filed', 'shiftlead', 'file', {}],
    ['dispatched', 'dispatcher', 'dispatch', {}],
    ['handling', 'handler', 'accept', {}],
    ['handled', 'handler', 'handle', { note: '已处理' }],
    ['checking', 'operator', 'request_check', {}],
  ];
  for (const [st, who, action, body] of path) {
    if (c.state === state) break;
    c = await step(srv, tok(who), c.id, action, body);
    assert.equal(c.state, st);
  }
  assert.equal(c.state, state);
  return c;
}

// One workflow step each role may take, on a case in the right state.
const ROLE_ACTION = {
  operator: ['registered', 'verify_request', {}],
  inspector: ['checking', 'check_pass', {}],
  shiftlead: ['registered', 'file', {}],
  dispatcher: ['filed', 'dispatch', {}],
  handler: ['dispatched', 'accept', {}],
};

let shared; // a case every role may see: in 150102, dispatched to the handler's department
let mediaId;
let ruleId = 0;
let keyId = 0;
let taxonomyDoc;

const MATRIX = [
  { m: 'GET', p: '/api/v1/health', roles: PUBLIC, ok: 200 },
  { m: 'POST', p: '/api/v1/login', roles: PUBLIC, ok: 200, body: () => ({ username: 'dispatcher', password: 'demo' }) },
  // logout: each caller logs out a session of its own made for the purpose
  { m: 'POST', p: '/api/v1/logout', roles: ALL, ok: 200, fresh: true },
  { m: 'GET', p: '/api/v1/me', roles: ALL, ok: 200 },
  { m: 'GET', p: '/api/v1/areas?level=district', roles: PUBLIC, ok: 200 },
  { m: 'GET', p: '/api/v1/areas.geojson?level=district', roles: PUBLIC, ok: 200 },
  { m: 'GET', p: '/api/v1/areas/150102', roles: PUBLIC, ok: 200 },
  { m: 'GET', p: `/api/v1/geocode?lon=${POINT_150102.lon}&lat=${POINT_150102.lat}`, roles: PUBLIC, ok: 200 },
  {
    m: 'POST',
    p: '/api/v1/cases',
    roles: INTAKE,
    ok: 201,
    body: () => ({ description: '权限矩阵测试', category: 'E0402', location: POINT_150102 }),
  },
  { m: 'GET', p: '/api/v1/cases?limit=3', roles: ALL, ok: 200 },
  { m: 'GET', p: () => `/api/v1/cases/${shared.id}`, roles: ALL, ok: 200 },
  { m: 'GET', p: () => `/api/v1/cases/${shared.number}/events`, roles: ALL, ok: 200 },
  { m: 'POST', action: true, roles: WORKFLOW, ok: 200 },
  {
    m: 'POST',
    p: '/api/v1/media',
    roles: STAFF,
    ok: 201,
    raw: PNG_1x1,
    headers: { 'Content-Type': 'image/png' },
  },
  { m: 'GET', p: () => `/api/v1/media/${mediaId}`, roles: ALL, ok: 200 },
  { m: 'GET', p: '/api/v1/live', roles: ALL, ok: 200, stream: true },
  {
    m: 'POST',
    p: '/api/v1/public/cases',
    roles: PUBLIC,
    ok: 201,
    body: () => ({ description: '市民上报', category: 'E0102', location: POINT_150102 }),
  },
  { m: 'GET', p: () => `/api/v1/public/cases/${shared.number}`, roles: PUBLIC, ok: 200 },
  { m: 'POST', p: '/api/v1/public/media', roles: PUBLIC, ok: 201, raw: PNG_1x1, headers: { 'Content-Type': 'image/png' } },
  { m: 'GET', p: '/api/v1/taxonomy', roles: PUBLIC, ok: 200 },
  { m: 'PUT', p: '/api/v1/taxonomy', roles: ADMIN, ok: 200, body: () => taxonomyDoc },
  { m: 'GET', p: '/api/v1/departments', roles: ALL, ok: 200 },
  { m: 'GET', p: '/api/v1/workflow', roles: ALL, ok: 200 },
  { m: 'GET', p: '/api/v1/routing-rules', roles: ['admin', 'dispatcher'], ok: 200 },
  {
    m: 'POST',
    p: '/api/v1/routing-rules',
    roles: ADMIN,
    ok: 201,
    body: () => ({ category: 'E0402', area: '150102001', dept: 'D-CG-150102', note: 'authz' }),
    after: (r) => {
      ruleId = r.json.id;
    },
  },
  { m: 'DELETE', p: () => `/api/v1/routing-rules/${ruleId || 1}`, roles: ADMIN, ok: 200 },
  { m: 'GET', p: '/api/v1/calendar?year=2026', roles: ALL, ok: 200 },
  { m: 'PUT', p: '/api/v1/calendar/days/2030-01-02', roles: ADMIN, ok: 200, body: () => ({ kind: 'holiday', name: '测试假日' }) },
  { m: 'GET', p: '/api/v1/users', roles: ADMIN, ok: 200 },
  {
    m: 'POST',
    p: '/api/v1/users',
    roles: ADMIN,
    ok: 201,
    body: () => ({ username: 'authz-user', role: 'operator', password: 'authz-password-1' }),
  },
  { m: 'POST', p: '/api/v1/users/authz-user/revoke', roles: ADMIN, ok: 200 },
  { m: 'GET', p: '/api/v1/audit', roles: ADMIN, ok: 200 },
  { m: 'GET', p: '/api/v1/apikeys', roles: ADMIN, ok: 200 },
  {
    m: 'POST',
    p: '/api/v1/apikeys',
    roles: ADMIN,
    ok: 201,
    body: () => ({ name: 'authz-client' }),
    after: (r) => {
      keyId = r.json.id;
    },
  },
  { m: 'DELETE', p: () => `/api/v1/apikeys/${keyId || 1}`, roles: ADMIN, ok: 200 },
  { m: 'GET', p: '/api/v1/stats?group=district', roles: ALL, ok: 200 },
  { m: 'GET', p: '/api/v1/evaluation?type=department', roles: ['admin', 'leader', 'shiftlead'], ok: 200 },
  { m: 'GET', p: '/api/v1/dashboard/summary', roles: ALL, ok: 200 },
  { m: 'GET', p: '/api/v1/areas?q=%E6%96%B0%E5%9F%8E', roles: PUBLIC, ok: 200 },
  { m: 'GET', p: '/open311/v2/discovery.json', roles: PUBLIC, ok: 200 },
  { m: 'GET', p: '/open311/v2/services.json', roles: PUBLIC, ok: 200 },
  { m: 'GET', p: '/open311/v2/requests.json', roles: PUBLIC, ok: 200 },
  { m: 'GET', p: () => `/open311/v2/requests/${shared.number}.json`, roles: PUBLIC, ok: 200 },
  { m: 'GET', p: '/', roles: PUBLIC, ok: 200 },
  { m: 'GET', p: '/dashboard', roles: PUBLIC, ok: 200 },
  { m: 'GET', p: '/report', roles: PUBLIC, ok: 200 },
];

// The live feed is a stream: read the head, then hang up.
async function streamStatus(p, token) {
  const ctl = new AbortController();
  const r = await fetch(srv.url + p, { headers: token ? { Authorization: `Bearer ${token}` } : {}, signal: ctl.signal });
  const out = { status: r.status, type: r.headers.get('content-type') };
  if (r.status !== 200) {
    out.text = await r.text();
    out.json = JSON.parse(out.text);
    return out;
  }
  ctl.abort();
  try {
    await r.body?.cancel();
  } catch {
    /* aborted */
  }
  return out;
}

async function call(entry, who) {
  const token = who === 'anonymous' ? undefined : entry.fresh ? (await login(srv, who)).token : tok(who);
  if (entry.action) {
    // an allowed role takes its own step; the others try one anyway
    const [state, action, body] = ROLE_ACTION[who] || ['registered', 'file', {}];
    const c = await caseAt(state);
    return api(srv, 'POST', `/api/v1/cases/${c.id}/actions/${action}`, { token, body });
  }
  const p = typeof entry.p === 'function' ? entry.p() : entry.p;
  if (entry.stream) return streamStatus(p, token);
  const body = entry.raw ?? (entry.body ? entry.body() : undefined);
  return api(srv, entry.m, p, { token, body, headers: entry.headers });
}

describe('every endpoint × every role', () => {
  before(async () => {
    shared = await caseAt('dispatched');
    const m = await api(srv, 'POST', '/api/v1/media', { token: tok('operator'), body: PNG_1x1, headers: { 'Content-Type': 'image/png' } });
    mediaId = m.json.id;
    taxonomyDoc = (await api(srv, 'GET', '/api/v1/taxonomy')).json;
  });

  for (const entry of MATRIX) {
    const label = `${entry.m} ${entry.action ? '/api/v1/cases/{id}/actions/{action}' : typeof entry.p === 'string' ? entry.p : '(dynamic)'}`;
    test(label, async () => {
      const rows = [];
      for (const who of ['anonymous', ...ROLES]) {
        let want;
        if (entry.roles === PUBLIC) want = entry.ok;
        else if (who === 'anonymous') want = 401;
        else want = entry.roles.includes(who) ? entry.ok : 403;
        const r = await call(entry, who);
        rows.push(`${who}:${r.status}`);
        assert.equal(r.status, want, `${label} as ${who}: got ${r.status} want ${want} ${r.text?.slice(0, 200) || ''}`);
        if (want === 401) assert.equal(errorCode(r), 'unauthenticated');
        if (want === 403) assert.equal(errorCode(r), 'forbidden');
        if (entry.stream && want === 200) assert.match(r.type, /^text\/event-stream/);
        if (want === entry.ok && entry.after) entry.after(r);
      }
    });
  }
});

describe('data scopes', () => {
  test('a handler sees only what is or was his department’s', async () => {
    // dispatched to the sanitation centre, not the handler's 城管 department
    let c = await createCase(srv, tok('operator'), { category: 'E0102', description: '暴露垃圾' });
    c = await step(srv, tok('shiftlead'), c.id, 'file', {});
    assert.equal(c.routed_dept, 'D-HW-150102');
    c = await step(srv, tok('dispatcher'), c.id, 'dispatch', {});
    assert.equal(c.dept, 'D-HW-150102');
    for (const p of [`/api/v1/cases/${c.id}`, `/api/v1/cases/${c.number}`, `/api/v1/cases/${c.id}/events`]) {
      const r = await api(srv, 'GET', p, { token: tok('handler') });
      assert.equal(r.status, 403, p);
      assert.equal(errorCode(r), 'out_of_scope');
    }
    let r = await api(srv, 'POST', `/api/v1/cases/${c.id}/actions/accept`, { token: tok('handler'), body: {} });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r), 'out_of_scope');
    r = await api(srv, 'GET', `/api/v1/cases?q=${c.number}`, { token: tok('handler') });
    assert.equal(r.json.count, 0);
    // a case still at the desk is no department's yet
    const fresh = await createCase(srv, tok('operator'));
    r = await api(srv, 'GET', `/api/v1/cases/${fresh.id}`, { token: tok('handler') });
    assert.equal(r.status, 403);
    // his own department's case
    r = await api(srv, 'GET', `/api/v1/cases/${shared.id}`, { token: tok('handler') });
    assert.equal(r.status, 200);
    // everyone else (no department limit) sees both
    for (const u of ['operator', 'shiftlead', 'dispatcher', 'leader', 'admin', 'inspector']) {
      r = await api(srv, 'GET', `/api/v1/cases/${c.id}`, { token: tok(u) });
      assert.equal(r.status, 200, u);
    }
  });

  test('an inspector sees only 新城区 (150102)', async () => {
    // a case placed by area code in 回民区
    const other = await createCase(srv, tok('operator'), { location: null, area: '150103001', description: '回民区案件' });
    assert.equal(other.district, '150103');
    for (const p of [`/api/v1/cases/${other.id}`, `/api/v1/cases/${other.id}/events`]) {
      const r = await api(srv, 'GET', p, { token: tok('inspector') });
      assert.equal(r.status, 403, p);
      assert.equal(errorCode(r), 'out_of_scope');
    }
    let r = await api(srv, 'POST', `/api/v1/cases/${other.id}/actions/verify`, { token: tok('inspector'), body: { result: true } });
    assert.equal(r.status, 403);
    r = await api(srv, 'GET', '/api/v1/cases?area=150103', { token: tok('inspector') });
    assert.equal(r.status, 403);
    r = await api(srv, 'GET', '/api/v1/cases?area=15010', { token: tok('inspector') });
    assert.equal(r.status, 400); // not an area code at all
    r = await api(srv, 'GET', `/api/v1/cases?q=${other.number}`, { token: tok('inspector') });
    assert.equal(r.json.count, 0);
    r = await api(srv, 'GET', `/api/v1/cases/${shared.id}`, { token: tok('inspector') });
    assert.equal(r.status, 200);
    r = await api(srv, 'GET', '/api/v1/cases?area=150102001&limit=5', { token: tok('inspector') });
    assert.equal(r.status, 200);
    // the handler's scope is 150102 as well
    r = await api(srv, 'GET', `/api/v1/cases/${other.id}`, { token: tok('handler') });
    assert.equal(r.status, 403);
    for (const p of [`/api/v1/cases/${other.number}/events`, '/api/v1/cases?area=150103']) {
      r = await api(srv, 'GET', p, { token: tok('handler') });
      assert.equal(r.status, 403, p);
      assert.equal(errorCode(r), 'out_of_scope');
    }
    r = await api(srv, 'GET', `/api/v1/cases?q=${other.number}`, { token: tok('handler') });
    assert.equal(r.json.count, 0);
    // the public status page shows any case by number
    r = await api(srv, 'GET', `/api/v1/public/cases/${other.number}`);
    assert.equal(r.status, 200);
  });

  test('a read-only leader takes no step', async () => {
    const c = await createCase(srv, tok('operator'));
    const v = await api(srv, 'GET', `/api/v1/cases/${c.id}`, { token: tok('leader') });
    assert.equal(v.status, 200);
    assert.deepEqual(v.json.allowed_actions, []);
    for (const a of ['file', 'verify_request', 'void']) {
      const r = await api(srv, 'POST', `/api/v1/cases/${c.id}/actions/${a}`, { token: tok('leader'), body: { note: 'x' } });
      assert.equal(r.status, 403);
    }
    const r = await api(srv, 'POST', '/api/v1/media', { token: tok('leader'), body: PNG_1x1, headers: { 'Content-Type': 'image/png' } });
    assert.equal(r.status, 403);
  });
  test('statistics and the dashboard count only what a scoped user may see', async () => {
    const q = (u, p) => api(srv, 'GET', p, { token: tok(u) });
    // an inspector limited to 新城区 gets 新城区 only, and 403 for another district
    let r = await q('inspector', '/api/v1/stats?group=district');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.rows.filter((x) => x.count > 0).map((x) => x.key), ['150102']);
    r = await q('inspector', '/api/v1/stats?group=district&area=150103');
    assert.equal(r.status, 403);
    assert.equal(errorCode(r), 'out_of_scope');
    const all = await q('leader', '/api/v1/stats?group=district&area=150102');
    const mine = await q('inspector', '/api/v1/stats?group=none');
    assert.equal(mine.json.totals.count, all.json.totals.count);
    // a handler counts only his department's cases
    r = await q('handler', '/api/v1/stats?group=dept');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.rows.filter((x) => x.count > 0).map((x) => x.key), ['D-CG-150102']);
    r = await q('handler', '/api/v1/stats?group=dept&dept=D-HW');
    assert.equal(r.status, 403);
    // the dashboard summary follows the same scope
    const sumAll = await q('leader', '/api/v1/dashboard/summary');
    const sumMine = await q('inspector', '/api/v1/dashboard/summary');
    assert.equal(sumMine.status, 200);
    assert.equal(sumMine.json.period.cases, (await q('leader', `/api/v1/stats?group=none&area=150102&from=${encodeURIComponent(sumAll.json.period.from)}`)).json.totals.count);
    assert.ok(sumMine.json.period.cases <= sumAll.json.period.cases);
  });
});
