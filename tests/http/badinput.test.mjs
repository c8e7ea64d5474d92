// badinput.test.mjs — bad input everywhere: every endpoint's malformed
// parameters and bodies must be answered with a 4xx and the JSON error
// document {error:{code,message}}, and the server must stay up (health is
// checked after every request). Then path tricks against /static/, overlong
// paths, and 50+ garbage requests over raw TCP (truncated requests, huge
// headers, bad lengths, random bytes), generated from a fixed seed.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import {
  PNG_1x1,
  POINT_150102,
  api,
  createCase,
  errorCode,
  loginAll,
  rawRequest,
  rng,
  startServer,
  step,
} from './lib.mjs';

let srv;
let S;
let handling; // a case in the handler's hands
let checked;
before(async () => {
  srv = await startServer();
  S = await loginAll(srv);
  let c = await createCase(srv, S.operator.token);
  c = await step(srv, S.shiftlead.token, c.id, 'file', {});
  c = await step(srv, S.dispatcher.token, c.id, 'dispatch', {});
  handling = await step(srv, S.handler.token, c.id, 'accept', {});
  let d = await createCase(srv, S.operator.token);
  for (const [who, a, b] of [
    ['shiftlead', 'file', {}],
    ['dispatcher', 'dispatch', {}],
    ['handler', 'accept', {}],
    ['handler', 'handle', { note: 'ok' }],
    ['operator', 'request_check', {}],
    ['inspector', 'check_pass', {}],
  ])
    d = await step(srv, S[who].token, d.id, a, b);
  checked = d;
});
after(async () => {
  await srv?.stop();
});

async function alive() {
  assert.equal(srv.exited, null, `server exited: ${srv.log()}`);
  const r = await api(srv, 'GET', '/api/v1/health');
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'ok');
}

// Sends one bad request; asserts the status (and error code when given),
// the JSON error shape, and that the server still answers.
async function bad({ m = 'GET', p, who, body, headers, want, code, label }) {
  const token = who ? S[who].token : undefined;
  const r = await api(srv, m, typeof p === 'function' ? p() : p, { token, body, headers });
  const what = label || `${m} ${String(typeof p === 'function' ? p() : p).slice(0, 80)} ${JSON.stringify(body)?.slice(0, 80) ?? ''}`;
  assert.equal(r.status, want, `${what}: got ${r.status} ${r.text.slice(0, 300)}`);
  const c = errorCode(r);
  if (code) assert.equal(c, code, what);
  await alive();
  return r;
}

const LONG = (n, ch = 'x') => ch.repeat(n);

describe('registering a case', () => {
  const P = '/api/v1/cases';
  const ok = { description: '有效描述', category: 'E0402', location: POINT_150102 };
  const rows = [
    // wrong types and missing fields
    [{}, 400],
    [{ ...ok, description: undefined }, 400],
    [{ ...ok, description: '' }, 400],
    [{ ...ok, description: 5 }, 400],
    [{ ...ok, description: ['x'] }, 400],
    [{ ...ok, description: null }, 400],
    [{ ...ok, address: 7 }, 400],
    [{ ...ok, category: 5 }, 400],
    [{ ...ok, category: 'X0101' }, 400],
    [{ ...ok, category: 'E9999' }, 400], // well-formed but unknown
    [{ ...ok, category: 'e0402' }, 400],
    [{ ...ok, severity: 'huge' }, 400],
    [{ ...ok, severity: 1 }, 400],
    [{ ...ok, request_type: 'demand' }, 400],
    [{ ...ok, request_type: 3 }, 400],
    [{ ...ok, channel: 'fax' }, 400, 'bad_channel'],
    [{ ...ok, channel: 'web' }, 400, 'bad_channel'], // the citizens' channel is not the desk's
    [{ ...ok, channel: 'inspector' }, 400, 'bad_channel'],
    // location
    [{ ...ok, location: 'here' }, 400],
    [{ ...ok, location: [111.68, 40.85] }, 400],
    [{ ...ok, location: { lon: '111.68', lat: 40.85 } }, 400],
    [{ ...ok, location: { lon: 111.68 } }, 400],
    [{ ...ok, location: { lon: 500, lat: 40.85 } }, 400],
    [{ ...ok, location: { lon: 111.68, lat: -95 } }, 400],
    [{ ...ok, location: { lon: 1e308, lat: 1e308 } }, 400],
    [{ ...ok, location: { ...POINT_150102, crs: 'mars' } }, 400],
    [{ ...ok, location: { ...POINT_150102, crs: 5 } }, 400],
    [{ ...ok, location: { lon: 116.397, lat: 39.909 } }, 400, 'outside_city'],
    [{ ...ok, location: { lon: 0, lat: 0 } }, 400, 'outside_city'],
    [{ description: 'x', area: '999999' }, 400],
    [{ description: 'x', area: '15010' }, 400],
    [{ description: 'x', area: 150102 }, 400],
    [{ description: 'x', address: '火星上的某个地方' }, 400],
    [{ description: 'x' }, 400],
    // caller and photos
    [{ ...ok, caller: 'me' }, 400],
    [{ ...ok, caller: { phone: 'abc' } }, 400],
    [{ ...ok, caller: { phone: '12' } }, 400],
    [{ ...ok, caller: { phone: '1'.repeat(21) } }, 400],
    [{ ...ok, caller: { phone: '138 1234 5678' } }, 400],
    [{ ...ok, caller: { phone: 13812345678 } }, 400],
    [{ ...ok, caller: { name: LONG(64) } }, 400],
    [{ ...ok, photos: 'abc' }, 400],
    [{ ...ok, photos: [1] }, 400],
    [{ ...ok, photos: ['0'.repeat(64)] }, 400],
    [{ ...ok, photos: ['../../etc/passwd'] }, 400],
    [{ ...ok, photos: Array(9).fill('0'.repeat(64)) }, 400],
    // huge strings
    [{ ...ok, description: LONG(2048) }, 400],
    [{ ...ok, description: LONG(700, '井') }, 400], // 2100 bytes of UTF-8
    [{ ...ok, description: LONG(200000) }, 400],
    [{ ...ok, address: LONG(256) }, 400],
  ];
  for (const [body, want, code] of rows) {
    test(`POST /api/v1/cases ${JSON.stringify(body).slice(0, 90)}`, async () => {
      await bad({ m: 'POST', p: P, who: 'operator', body, want, code });
    });
  }

  test('bodies that are not a case document', async () => {
    await bad({ m: 'POST', p: P, who: 'operator', body: '{"description":', want: 400, code: 'bad_json' });
    await bad({ m: 'POST', p: P, who: 'operator', body: '[]', want: 400, code: 'bad_json' });
    await bad({ m: 'POST', p: P, who: 'operator', body: '', want: 400, code: 'bad_json' });
    await bad({ m: 'POST', p: P, who: 'operator', body: '{"description":"a","description":"b","area":"150102001"}', want: 400, code: 'bad_json' });
    // non-UTF-8 and NUL inside strings
    await bad({ m: 'POST', p: P, who: 'operator', body: Buffer.from('{"description":"\xff\xfe","area":"150102001"}', 'latin1'), want: 400, code: 'bad_json' });
    await bad({ m: 'POST', p: P, who: 'operator', body: '{"description":"a\\u0000b","area":"150102001"}', want: 400, code: 'bad_json' });
    await bad({ m: 'POST', p: P, who: 'operator', body: '{"description":"\\ud800","area":"150102001"}', want: 400, code: 'bad_json' });
    // numbers JSON cannot hold
    await bad({ m: 'POST', p: P, who: 'operator', body: '{"description":"x","location":{"lon":1e999,"lat":40}}', want: 400, code: 'bad_json' });
    // deep nesting (over 32 levels)
    await bad({ m: 'POST', p: P, who: 'operator', body: '['.repeat(100000) + ']'.repeat(100000), want: 400, code: 'json_too_deep' });
    await bad({ m: 'POST', p: P, who: 'operator', body: `{"description":"x","caller":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, want: 400, code: 'json_too_deep' });
    // over the JSON limit
    await bad({ m: 'POST', p: P, who: 'operator', body: { ...{ description: LONG(1100000) } }, want: 413, code: 'too_large' });
    // wrong content types
    await bad({ m: 'POST', p: P, who: 'operator', body: 'description=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, want: 415 });
    await bad({ m: 'POST', p: P, who: 'operator', body: '{}', headers: { 'Content-Type': 'text/plain' }, want: 415 });
  });

  test('malformed multipart bodies', async () => {
    const mp = (b) => ({ 'Content-Type': `multipart/form-data; boundary=${b}` });
    await bad({ m: 'POST', p: P, who: 'operator', body: 'garbage', headers: mp('xyz'), want: 400, code: 'bad_multipart' });
    await bad({ m: 'POST', p: P, who: 'operator', body: '--xyz\r\n\r\n', headers: mp('xyz'), want: 400, code: 'bad_multipart' });
    await bad({ m: 'POST', p: P, who: 'operator', body: 'x', headers: { 'Content-Type': 'multipart/form-data' }, want: 400, code: 'bad_multipart' });
    let many = '';
    for (let i = 0; i < 17; i++) many += `--b\r\nContent-Disposition: form-data; name="p${i}"\r\n\r\nx\r\n`;
    await bad({ m: 'POST', p: P, who: 'operator', body: `${many}--b--`, headers: mp('b'), want: 400, code: 'bad_multipart' });
    const notJson = '--b\r\nContent-Disposition: form-data; name="case"\r\n\r\n{not json\r\n--b--';
    await bad({ m: 'POST', p: P, who: 'operator', body: notJson, headers: mp('b'), want: 400 });
    const caseNoDesc = '--b\r\nContent-Disposition: form-data; name="case"\r\n\r\n{"area":"150102001"}\r\n--b--';
    await bad({ m: 'POST', p: P, who: 'operator', body: caseNoDesc, headers: mp('b'), want: 400 });
  });
});

describe('workflow actions', () => {
  const A = (id, a) => `/api/v1/cases/${id}/actions/${a}`;
  test('bad case ids and action names', async () => {
    for (const id of ['abc', '0', '-1', '1.5', '99999999999999999999', '2000010100001', '%20', '1e3', '0x10']) {
      await bad({ m: 'POST', p: A(id, 'file'), who: 'shiftlead', body: {}, want: 404, code: 'not_found' });
      await bad({ m: 'GET', p: `/api/v1/cases/${id}`, who: 'shiftlead', want: 404, code: 'not_found' });
      await bad({ m: 'GET', p: `/api/v1/cases/${id}/events`, who: 'shiftlead', want: 404 });
    }
    await bad({ m: 'POST', p: () => A(handling.id, 'fly'), who: 'handler', body: {}, want: 404 });
    await bad({ m: 'POST', p: () => A(handling.id, LONG(300)), who: 'handler', body: {}, want: 404 });
    await bad({ m: 'POST', p: () => A(handling.id, 'handle%00'), who: 'handler', body: { note: 'x' }, want: 400, code: 'bad_path' });
    await bad({ m: 'POST', p: () => A(handling.id, 'HANDLE'), who: 'handler', body: { note: 'x' }, want: 404 });
  });

  test('bad parameters', async () => {
    const rows = [
      ['handle', {}],
      ['handle', { note: '' }],
      ['handle', { note: 5 }],
      ['handle', { note: LONG(1001) }],
      ['handle', { note: 'ok', photos: 'x' }],
      ['handle', { note: 'ok', photos: ['A'.repeat(64)] }],
      ['handle', { note: 'ok', photos: Array(9).fill('0'.repeat(64)) }],
      ['request_extension', { note: 'x' }],
      ['request_extension', { note: 'x', limit: '2days' }],
      ['request_extension', { note: 'x', limit: '0wd' }],
      ['request_extension', { note: 'x', limit: '99999wd' }],
      ['request_extension', { note: 'x', limit: 2 }],
      ['request_extension', { limit: '2wd' }],
      ['request_suspension', {}],
      ['send_back', { note: ['x'] }],
    ];
    for (const [a, body] of rows) await bad({ m: 'POST', p: () => A(handling.id, a), who: 'handler', body, want: 400 });
    const closeRows = [{ close_type: 'maybe' }, { close_type: 'special' }, { close_type: 3 }];
    for (const body of closeRows) await bad({ m: 'POST', p: () => A(checked.id, 'close'), who: 'shiftlead', body, want: 400 });
    // not an object, not JSON, too large
    await bad({ m: 'POST', p: () => A(handling.id, 'handle'), who: 'handler', body: '[1]', want: 400 });
    await bad({ m: 'POST', p: () => A(handling.id, 'handle'), who: 'handler', body: 'note=x', want: 400, code: 'bad_json' });
    await bad({ m: 'POST', p: () => A(handling.id, 'handle'), who: 'handler', body: { note: LONG(1100000) }, want: 413 });
    // dispatch to a department that does not exist, or with the wrong type
    let f = await createCase(srv, S.operator.token);
    f = await step(srv, S.shiftlead.token, f.id, 'file', {});
    for (const dept of ['D-NOPE', '', 5, ['D-CG'], LONG(500)])
      await bad({ m: 'POST', p: A(f.id, 'dispatch'), who: 'dispatcher', body: dept === '' ? { dept, note: LONG(2000) } : { dept }, want: 400 });
    // unknown category when filing / reclassifying
    const r = await createCase(srv, S.operator.token);
    for (const category of ['E9999', 'C0000', 'nonsense', 402])
      await bad({ m: 'POST', p: A(r.id, 'file'), who: 'shiftlead', body: { category }, want: 400 });
    // nothing of it changed the cases
    const h = await api(srv, 'GET', `/api/v1/cases/${handling.id}`, { token: S.handler.token });
    assert.equal(h.json.state, 'handling');
    assert.equal(h.json.updated, handling.updated);
  });
});

describe('lists and lookups', () => {
  test('bad list filters', async () => {
    const qs = [
      'state=bogus',
      'state=',
      'state=open,closed',
      'state=none',
      'category=X',
      'category=E04',
      'area=123',
      'area=abcdef',
      'area=1501020010010841',
      'channel=fax',
      'from=yesterday',
      'from=2026-02-30',
      'from=2026-13-01',
      'to=2026-01-01T25:00',
      'to=2026-01-01T10:00+25:00',
      'q=',
      `q=${LONG(101)}`,
      'before=0',
      'before=-5',
      'before=abc',
      'limit=0',
      'limit=501',
      'limit=1e3',
      'limit=-1',
      'limit=',
    ];
    for (const q of qs) await bad({ p: `/api/v1/cases?${q}`, who: 'operator', want: 400, code: 'bad_filter' });
  });

  test('ids and numbers elsewhere', async () => {
    await bad({ p: '/api/v1/public/cases/12345', want: 400, code: 'bad_number' });
    await bad({ p: '/api/v1/public/cases/abcdefghijklm', want: 400, code: 'bad_number' });
    await bad({ p: '/api/v1/public/cases/2026112500001000', want: 400, code: 'bad_number' });
    await bad({ p: '/api/v1/public/cases/20261125000010', want: 404 }); // a 6-digit daily sequence is a valid form
    await bad({ p: '/api/v1/public/cases/2000010100001', want: 404 });
    for (const id of ['x', '0'.repeat(63), '0'.repeat(65), 'G'.repeat(64), '..%2f..%2fetc%2fpasswd'])
      await bad({ p: `/api/v1/media/${id}`, who: 'operator', want: 404 });
    await bad({ p: '/api/v1/areas/%FF%FE', want: 404, code: 'no_such_area' });
    await bad({ p: `/api/v1/areas/${LONG(100, '新')}`, want: 404, code: 'no_such_area' });
    await bad({ p: '/api/v1/areas?level=street&parent=%FF', want: 404, code: 'no_such_area' });
    await bad({ p: '/api/v1/areas?level=%00', want: 400 });
    await bad({ p: '/api/v1/geocode?lon=1e999&lat=40', want: 400 });
    await bad({ p: '/api/v1/geocode?lon=111.6&lat=40.8&crs=', want: 400 });
    await bad({ p: '/api/v1/taxonomy?version=99999999999999999999', want: 400 });
    await bad({ p: '/api/v1/calendar?year=2026.5', who: 'leader', want: 400 });
    // an error message that echoes bytes that are not UTF-8 is still JSON
    await bad({ p: '/api/v1/nothing%FF%E6%96', want: 404, code: 'not_found' });
    await bad({ m: 'DELETE', p: '/api/v1/health%C0%AF', want: 404 });
  });

  test('photos', async () => {
    const png = { 'Content-Type': 'image/png' };
    await bad({ m: 'POST', p: '/api/v1/media', who: 'operator', body: Buffer.from('not an image'), headers: png, want: 400 });
    await bad({ m: 'POST', p: '/api/v1/media', who: 'operator', body: Buffer.alloc(0), headers: png, want: 400 });
    await bad({ m: 'POST', p: '/api/v1/media', who: 'operator', body: PNG_1x1.subarray(0, 7), headers: png, want: 400 });
    const big = Buffer.concat([PNG_1x1.subarray(0, 8), Buffer.alloc(10 * 1024 * 1024 + 1)]);
    await bad({ m: 'POST', p: '/api/v1/media', who: 'operator', body: big, headers: png, want: 413, code: 'too_large' });
    await bad({ m: 'POST', p: '/api/v1/public/media', body: Buffer.from('<svg/>'), headers: { 'Content-Type': 'image/svg+xml' }, want: 400 });
    const noFile = '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\n\x89PNG\r\n--b--';
    await bad({ m: 'POST', p: '/api/v1/media', who: 'operator', body: noFile, headers: { 'Content-Type': 'multipart/form-data; boundary=b' }, want: 400, code: 'bad_multipart' });
  });

  test('citizens', async () => {
    const P = '/api/v1/public/cases';
    await bad({ m: 'POST', p: P, body: {}, want: 400 });
    await bad({ m: 'POST', p: P, body: { description: 'x', location: { lon: 116.4, lat: 39.9 } }, want: 400, code: 'outside_city' });
    await bad({ m: 'POST', p: P, body: { description: 'x', location: POINT_150102, category: 'E9999' }, want: 400 });
    await bad({ m: 'POST', p: P, body: '{', want: 400, code: 'bad_json' });
    await bad({ m: 'POST', p: P, body: { description: LONG(5000), location: POINT_150102 }, want: 400 });
  });
});

describe('configuration and sessions', () => {
  test('login', async () => {
    for (const body of [{}, { username: 1, password: 2 }, { username: 'a', password: null }, '[]', '"x"', '{"username":"operator","password":"demo"']) {
      const r = await api(srv, 'POST', '/api/v1/login', { body });
      assert.ok(r.status === 400, `${JSON.stringify(body)}: ${r.status}`);
      errorCode(r);
      await alive();
    }
    await bad({ m: 'POST', p: '/api/v1/login', body: { username: 'operator', password: LONG(100000) }, want: 401 });
  });

  test('admin endpoints', async () => {
    await bad({ m: 'PUT', p: '/api/v1/taxonomy', who: 'admin', body: { classes: 'nope' }, want: 422, code: 'invalid_taxonomy' });
    await bad({ m: 'PUT', p: '/api/v1/taxonomy', who: 'admin', body: {}, want: 422 });
    await bad({ m: 'PUT', p: '/api/v1/taxonomy', who: 'admin', body: '[]', want: 400, code: 'bad_json' });
    const R = '/api/v1/routing-rules';
    await bad({ m: 'POST', p: R, who: 'admin', body: { dept: 'D-CG', category: 'X1' }, want: 400, code: 'bad_category' });
    await bad({ m: 'POST', p: R, who: 'admin', body: { dept: 'D-CG', area: '999999' }, want: 400, code: 'bad_area' });
    await bad({ m: 'POST', p: R, who: 'admin', body: { dept: 'D-NOPE' }, want: 400, code: 'bad_dept' });
    await bad({ m: 'POST', p: R, who: 'admin', body: {}, want: 400, code: 'bad_dept' });
    await bad({ m: 'POST', p: R, who: 'admin', body: { dept: 5 }, want: 400, code: 'bad_dept' });
    await bad({ m: 'DELETE', p: `${R}/abc`, who: 'admin', want: 400, code: 'bad_id' });
    await bad({ m: 'DELETE', p: `${R}/0`, who: 'admin', want: 400, code: 'bad_id' });
    await bad({ m: 'DELETE', p: `${R}/999999`, who: 'admin', want: 404 });
    const D = '/api/v1/calendar/days';
    for (const d of ['2026-02-30', '2026-13-01', '20260101', '2026-1-01', '9999-01-01', '1969-12-31', 'today', '2026-01-01T00:00'])
      await bad({ m: 'PUT', p: `${D}/${d}`, who: 'admin', body: { kind: 'holiday' }, want: 400, code: 'bad_date' });
    await bad({ m: 'PUT', p: `${D}/2030-01-01`, who: 'admin', body: { kind: 'party' }, want: 400, code: 'bad_kind' });
    await bad({ m: 'PUT', p: `${D}/2030-01-01`, who: 'admin', body: {}, want: 400, code: 'bad_kind' });
    await bad({ m: 'PUT', p: `${D}/2030-01-01`, who: 'admin', body: { kind: 'holiday', name: LONG(200) }, want: 400, code: 'bad_name' });
    // none of the refused days reached the calendar
    const cal = await api(srv, 'GET', '/api/v1/calendar?year=2030', { token: S.admin.token });
    assert.ok(!cal.json.days.some((d) => d.date === '2030-01-01'));
  });
});

describe('paths', () => {
  test('path traversal and odd paths under /static/ and /vendor/', async () => {
    for (const p of [
      '/static/js/..%2f..%2f..%2fetc%2fpasswd',
      '/static/.env',
      '/static/js/.hidden',
      '/static/..%5c..%5cetc%5cpasswd',
      '/static/%2fetc%2fpasswd',
      '/static/',
      `/static/${LONG(300)}.js`,
    ]) {
      const r = await bad({ p, want: 400 });
      assert.ok(!r.text.includes('root:'), p);
    }
    await bad({ p: '/static/a%00b', want: 400, code: 'bad_path' });
    await bad({ p: '/static/no-such-file.js', want: 404 });
    await bad({ p: '/vendor/..%2f..%2fpackage.json', want: 404 });
    await bad({ p: '/vendor/echarts/package.json', want: 404 });
    // fetch() would normalise "..": send it raw
    for (const p of [
      '/static/../../etc/passwd',
      '/static/%2e%2e/%2e%2e/etc/passwd',
      '/static/.%2e/.%2e/Makefile',
      '/static/./../Makefile',
      '/static//etc/passwd',
      '/vendor/../Makefile',
    ]) {
      const reply = await rawRequest(srv, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      assert.match(reply, /^HTTP\/1\.1 4\d\d /, `${p}: ${reply.slice(0, 100)}`);
      assert.ok(!reply.includes('root:') && !reply.includes('CFLAGS'), p);
      await alive();
    }
  });

  test('overlong paths', async () => {
    await bad({ p: `/${LONG(1100)}`, want: 400, code: 'bad_path' });
    await bad({ p: `/api/v1/cases/${LONG(1020, '9')}`, who: 'operator', want: 400 });
    await bad({ p: `/api/v1/areas/${LONG(1000)}`, want: 404 });
    const reply = await rawRequest(srv, `GET /${LONG(100000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.ok(reply === '' || /^HTTP\/1\.1 4\d\d /.test(reply), reply.slice(0, 100));
    await alive();
  });
});


describe('garbage over raw TCP', () => {
  test('malformed, truncated and oversized requests', async () => {
    const crafted = [
      'GET /api/v1/health HTTP/1.1\r\nHo',
      'GET /api/v1/health HTTP/1.1\r\n',
      'GET /api/v1/hea',
      'GET',
      '\r\n\r\n',
      'GET /api/v1/health HTTP/9.9\r\nHost: x\r\n\r\n',
      'GET /api/v1/health\r\n\r\n',
      'BREW /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n',
      'get /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n',
      `GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${LONG(70000)}\r\n\r\n`,
      `GET /api/v1/health HTTP/1.1\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`,
      'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}',
      'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}',
      'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999\r\n\r\n{}',
      'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"username"',
      'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n',
      'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n{}',
      'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n',
      'POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \r\nContent-Length: 2\r\n\r\n{}',
      'POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nCookie: cityops_session=' + LONG(5000) + '\r\nContent-Length: 2\r\n\r\n{}',
      'GET /api/v1/me HTTP/1.1\r\nHost: x\r\nCookie: ;;;;=;cityops_session\r\n\r\n',
      'GET /api/v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ' + LONG(10000, 'f') + '\r\n\r\n',
      'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\nGET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n',
      'GET /api/v1/cases?%%%%=%%%% HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/v1/geocode?lon=111.68&lat=40.85&lon=0 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n',
    ];
    const rnd = rng(20261125);
    const random = [];
    for (let i = 0; i < 30; i++) {
      const len = 1 + Math.floor(rnd() * 4000);
      const b = Buffer.alloc(len);
      for (let k = 0; k < len; k++) b[k] = Math.floor(rnd() * 256);
      if (i % 3 === 0) b.write('POST /api/v1/cases HTTP/1.1\r\nContent-Length: 50\r\n\r\n', 0, 'latin1');
      if (i % 5 === 1) b.write('GET /api/v1/areas?level=', 0, 'latin1');
      random.push(b);
    }
    let answered = 0;
    const all = [...crafted, ...random];
    // in groups of 8 connections at once; health after every group
    for (let g = 0; g < all.length; g += 8) {
      const group = all.slice(g, g + 8);
      const replies = await Promise.all(
        group.map((req) => rawRequest(srv, typeof req === 'string' ? Buffer.from(req, 'latin1') : req, 1000)),
      );
      replies.forEach((reply, k) => {
        if (!reply.startsWith('HTTP/1.1 ')) return;
        answered++;
        const status = Number(reply.slice(9, 12));
        // 501/505: an unknown method or HTTP version, said by libevent
        assert.ok(
          (status >= 200 && status < 500) || status === 501 || status === 505,
          `status ${status} for request #${g + k}: ${String(group[k]).slice(0, 60)}`,
        );
      });
      await alive();
    }
    assert.ok(crafted.length + random.length >= 50);
    assert.ok(answered > 10, `only ${answered} replies`);
  });

  test('clients that vanish mid-request or before the reply', async () => {
    // half a body, then hang up; a POST whose reply is deferred to the writer
    for (let i = 0; i < 10; i++) {
      const body = JSON.stringify({ description: `vanishing ${i}`, category: 'E0402', location: POINT_150102 });
      const full = `POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${S.operator.token}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
      await rawRequest(srv, full.slice(0, full.length - (i % 2 ? 10 : 0)), 1);
    }
    await alive();
    // the server keeps serving normal requests
    const c = await createCase(srv, S.operator.token, { description: 'after the storm' });
    assert.equal(c.state, 'registered');
  });
});
