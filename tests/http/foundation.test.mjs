// foundation.test.mjs — the foundation over real HTTP: health, areas and
// their geometry, geocoding (WGS84 / GCJ-02 / BD-09), the router's 404/405,
// JSON body limits, login/logout, cookie sessions and CSRF, and the small
// read-only configuration endpoints. One server (a fresh copy of the demo
// city) for the whole file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { POINT_150102, GRID_150102, api, createCase, errorCode, login, rawRequest, startServer } from './lib.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

const DISTRICTS = {
  150102: '新城区',
  150103: '回民区',
  150104: '玉泉区',
  150105: '赛罕区',
  150121: '土默特左旗',
  150122: '托克托县',
  150123: '和林格尔县',
  150124: '清水河县',
  150125: '武川县',
  150172: '呼和浩特经济技术开发区',
};

// GCJ-02 and BD-09 forward transforms (the published formulas), written here
// independently of src/geo/coord.c.
const PI = Math.PI;
const A = 6378245.0;
const EE = 0.00669342162296594323;
function tlat(x, y) {
  let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2) / 3;
  r += ((20 * Math.sin(y * PI) + 40 * Math.sin((y / 3) * PI)) * 2) / 3;
  r += ((160 * Math.sin((y / 12) * PI) + 320 * Math.sin((y * PI) / 30)) * 2) / 3;
  return r;
}
function tlon(x, y) {
  let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
  r += ((20 * Math.sin(6 * x * PI) + 20 * Math.sin(2 * x * PI)) * 2) / 3;
  r += ((20 * Math.sin(x * PI) + 40 * Math.sin((x / 3) * PI)) * 2) / 3;
  r += ((150 * Math.sin((x / 12) * PI) + 300 * Math.sin((x / 30) * PI)) * 2) / 3;
  return r;
}
function wgs84ToGcj02(lon, lat) {
  let dlat = tlat(lon - 105, lat - 35);
  let dlon = tlon(lon - 105, lat - 35);
  const rad = (lat / 180) * PI;
  let m = Math.sin(rad);
  m = 1 - EE * m * m;
  const s = Math.sqrt(m);
  dlat = (dlat * 180) / (((A * (1 - EE)) / (m * s)) * PI);
  dlon = (dlon * 180) / ((A / s) * Math.cos(rad) * PI);
  return [lon + dlon, lat + dlat];
}
function gcj02ToBd09(lon, lat) {
  const z = Math.sqrt(lon * lon + lat * lat) + 0.00002 * Math.sin((lat * PI * 3000) / 180);
  const t = Math.atan2(lat, lon) + 0.000003 * Math.cos((lon * PI * 3000) / 180);
  return [z * Math.cos(t) + 0.0065, z * Math.sin(t) + 0.006];
}

describe('health and basics', () => {
  test('health: status, version, case count', async () => {
    const r = await api(srv, 'GET', '/api/v1/health');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type'), /^application\/json/);
    assert.equal(r.json.status, 'ok');
    assert.match(r.json.version, /^\d+\.\d+\.\d+/);
    assert.ok(Number.isInteger(r.json.cases));
    assert.ok(r.json.cases >= 2000, `demo city has its history: ${r.json.cases}`);
    assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
  });

  test('HEAD on a GET route answers without a body', async () => {
    const r = await fetch(`${srv.url}/api/v1/health`, { method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal((await r.arrayBuffer()).byteLength, 0);
  });

  test('unknown route: 404 JSON', async () => {
    for (const p of ['/api/v1/nothing', '/api/v1/health/extra', '/api/v2/health', '/nope']) {
      const r = await api(srv, 'GET', p);
      assert.equal(r.status, 404, p);
      assert.equal(errorCode(r), 'not_found', p);
    }
  });

  test('wrong method: 405 with Allow', async () => {
    const cases = [
      ['DELETE', '/api/v1/health', 'GET'],
      ['PUT', '/api/v1/cases', 'GET, POST'],
      ['PATCH', '/api/v1/areas/150102', 'GET'],
      ['GET', '/api/v1/login', 'POST'],
      ['POST', '/api/v1/taxonomy', 'GET, PUT'],
      ['GET', '/api/v1/cases/1/actions/file', 'POST'],
    ];
    for (const [m, p, allow] of cases) {
      const r = await api(srv, m, p);
      assert.equal(r.status, 405, `${m} ${p}`);
      assert.equal(r.headers.get('allow'), allow, `${m} ${p}`);
      assert.equal(errorCode(r), 'method_not_allowed');
    }
  });
});

describe('areas', () => {
  test('districts of Hohhot', async () => {
    for (const q of ['?level=district', '']) {
      const r = await api(srv, 'GET', `/api/v1/areas${q}`);
      assert.equal(r.status, 200);
      assert.equal(r.json.count, 10);
      assert.equal(r.json.items.length, 10);
      const got = Object.fromEntries(r.json.items.map((a) => [a.code, a.name]));
      assert.deepEqual(got, DISTRICTS);
      for (const a of r.json.items) {
        assert.equal(a.level, 'district');
        assert.ok(a.children > 0, a.code);
        assert.ok(a.area_m2 > 1e7, a.code);
        const [minx, miny, maxx, maxy] = a.bbox;
        assert.ok(minx < maxx && miny < maxy);
        assert.ok(a.center[0] >= minx && a.center[0] <= maxx && a.center[1] >= miny && a.center[1] <= maxy);
        assert.ok(minx > 110 && maxx < 113 && miny > 39 && maxy < 42, `${a.code} lies in Hohhot`);
      }
    }
  });

  test('streets of 新城区 and grids of a community', async () => {
    const r = await api(srv, 'GET', '/api/v1/areas?level=street&parent=150102');
    assert.equal(r.status, 200);
    assert.ok(r.json.count >= 10);
    for (const a of r.json.items) {
      assert.equal(a.parent, '150102');
      assert.equal(a.level, 'street');
      assert.match(a.code, /^150102\d{3}$/);
    }
    assert.ok(r.json.items.some((a) => a.code === '150102001' && a.name === '海拉尔东路街道'));
    const g = await api(srv, 'GET', '/api/v1/areas?level=grid&parent=150102001001');
    assert.equal(g.status, 200);
    assert.ok(g.json.count > 10);
    assert.ok(g.json.items.every((a) => a.code.startsWith('150102001001') && a.code.length === 15));
    assert.ok(g.json.items.some((a) => a.code === GRID_150102));
    // a parent two levels up works too
    const c = await api(srv, 'GET', '/api/v1/areas?level=community&parent=150102');
    assert.ok(c.json.items.every((a) => a.code.startsWith('150102')));
    assert.ok(c.json.count > r.json.count);
  });

  test('bad level or parent', async () => {
    let r = await api(srv, 'GET', '/api/v1/areas?level=province');
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'bad_level');
    r = await api(srv, 'GET', '/api/v1/areas?level=street&parent=999999');
    assert.equal(r.status, 404);
    assert.equal(errorCode(r), 'no_such_area');
  });

  test('one area, with ancestors and geometry', async () => {
    let r = await api(srv, 'GET', '/api/v1/areas/150102');
    assert.equal(r.status, 200);
    assert.equal(r.json.name, '新城区');
    assert.deepEqual(r.json.ancestors, []);
    assert.equal(r.json.geometry, undefined);
    r = await api(srv, 'GET', `/api/v1/areas/${GRID_150102}?geometry=1`);
    assert.equal(r.status, 200);
    assert.equal(r.json.level, 'grid');
    assert.deepEqual(
      r.json.ancestors.map((a) => [a.code, a.level]),
      [
        ['150102', 'district'],
        ['150102001', 'street'],
        ['150102001001', 'community'],
      ],
    );
    const geom = r.json.geometry;
    assert.ok(geom && ['Polygon', 'MultiPolygon'].includes(geom.type));
    const rings = geom.type === 'Polygon' ? geom.coordinates : geom.coordinates.flat();
    const [minx, miny, maxx, maxy] = r.json.bbox;
    const eps = 1e-9;
    for (const ring of rings) {
      assert.ok(ring.length >= 4);
      assert.deepEqual(ring[0], ring[ring.length - 1]);
      for (const [x, y] of ring) assert.ok(x >= minx - eps && x <= maxx + eps && y >= miny - eps && y <= maxy + eps);
    }
    r = await api(srv, 'GET', '/api/v1/areas/150102?geometry=true');
    assert.ok(['Polygon', 'MultiPolygon'].includes(r.json.geometry.type));
    r = await api(srv, 'GET', '/api/v1/areas/150199');
    assert.equal(r.status, 404);
    assert.equal(errorCode(r), 'no_such_area');
  });
});

describe('area search by name', () => {
  test('communities, streets and districts whose name contains the text, with ancestors', async () => {
    const r = await api(srv, 'GET', `/api/v1/areas?q=${encodeURIComponent('兴安')}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.json.count >= 1);
    for (const a of r.json.items) {
      assert.ok(a.name.includes('兴安'), a.name);
      assert.notEqual(a.level, 'grid');
      assert.equal(a.ancestors.length, { district: 0, street: 1, community: 2 }[a.level]);
      assert.ok(a.code.startsWith(a.ancestors.map((x) => x.code).pop() || ''));
    }
    const d = await api(srv, 'GET', `/api/v1/areas?q=${encodeURIComponent('新城')}`);
    assert.ok(d.json.items.some((a) => a.code === '150102' && a.level === 'district'));
  });

  test('grids only when asked; limit; bad queries', async () => {
    const g = await api(srv, 'GET', `/api/v1/areas?q=${encodeURIComponent('第001网格')}&level=grid&limit=3`);
    assert.equal(g.status, 200);
    assert.equal(g.json.count, 3);
    assert.ok(g.json.items.every((a) => a.level === 'grid' && a.ancestors.length === 3));
    const none = await api(srv, 'GET', `/api/v1/areas?q=${encodeURIComponent('第001网格')}`);
    assert.equal(none.json.count, 0); // grids are not searched by default
    for (const q of ['q=', 'q=x&limit=0', 'q=x&limit=101', `q=${'a'.repeat(65)}`, 'q=x&level=planet']) {
      const r = await api(srv, 'GET', `/api/v1/areas?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(errorCode(r), 'bad_query');
    }
  });
});

describe('geocode', () => {
  test('a point inside a grid', async () => {
    const r = await api(srv, 'GET', `/api/v1/geocode?lon=${POINT_150102.lon}&lat=${POINT_150102.lat}`);
    assert.equal(r.status, 200);
    assert.equal(r.json.grid.code, GRID_150102);
    assert.equal(r.json.community.code, '150102001001');
    assert.equal(r.json.street.code, '150102001');
    assert.equal(r.json.district.code, '150102');
    assert.equal(r.json.district.name, '新城区');
    assert.equal(r.json.nearest_grid, null);
    assert.equal(r.json.crs, 'wgs84');
    assert.equal(r.json.wgs84.lon, POINT_150102.lon);
    assert.equal(r.json.wgs84.lat, POINT_150102.lat);
  });

  test('the centre of every grid of a community geocodes to that grid', async () => {
    const g = await api(srv, 'GET', '/api/v1/areas?level=grid&parent=150102001001');
    let checked = 0;
    for (const a of g.json.items.slice(0, 25)) {
      const r = await api(srv, 'GET', `/api/v1/geocode?lon=${a.center[0]}&lat=${a.center[1]}`);
      assert.equal(r.status, 200);
      assert.equal(r.json.grid?.code, a.code, `centre of ${a.code}`);
      checked++;
    }
    assert.ok(checked >= 10);
  });

  test('outside the city: 404', async () => {
    for (const [lon, lat] of [
      [116.397, 39.909], // Beijing
      [0, 0],
      [111.0, 43.5], // north of Hohhot
    ]) {
      const r = await api(srv, 'GET', `/api/v1/geocode?lon=${lon}&lat=${lat}`);
      assert.equal(r.status, 404, `${lon},${lat}`);
      assert.equal(errorCode(r), 'outside_city');
    }
  });

  test('bad input: 400', async () => {
    const bad = [
      ['lon=111.68&lat=40.85&crs=mars', 'bad_crs'],
      ['lon=NaN&lat=40.85', 'bad_point'],
      ['lon=111.68&lat=nan', 'bad_point'],
      ['lon=inf&lat=40.85', 'bad_point'],
      ['lon=abc&lat=40.85', 'bad_point'],
      ['lon=0x1p4&lat=40.85', 'bad_point'],
      ['lon=181&lat=40.85', 'bad_point'],
      ['lon=111.68&lat=-91', 'bad_point'],
      ['lon=111.68&lat=', 'bad_point'],
      ['lon=111.68', 'missing_point'],
      ['lat=40.85', 'missing_point'],
      ['', 'missing_point'],
    ];
    for (const [q, code] of bad) {
      const r = await api(srv, 'GET', `/api/v1/geocode?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(errorCode(r), code, q);
    }
  });

  test('GCJ-02 and BD-09 points convert back to the same grid', async () => {
    const [glon, glat] = wgs84ToGcj02(POINT_150102.lon, POINT_150102.lat);
    // the offset is hundreds of metres here: the raw numbers are elsewhere
    const raw = await api(srv, 'GET', `/api/v1/geocode?lon=${glon}&lat=${glat}`);
    assert.notEqual(raw.json?.grid?.code, GRID_150102);
    for (const crs of ['gcj02', 'GCJ02']) {
      const r = await api(srv, 'GET', `/api/v1/geocode?lon=${glon}&lat=${glat}&crs=${crs}`);
      assert.equal(r.status, 200);
      assert.equal(r.json.grid.code, GRID_150102);
      assert.equal(r.json.crs, 'gcj02');
      assert.ok(Math.abs(r.json.wgs84.lon - POINT_150102.lon) < 1e-5);
      assert.ok(Math.abs(r.json.wgs84.lat - POINT_150102.lat) < 1e-5);
    }
    const [blon, blat] = gcj02ToBd09(glon, glat);
    const b = await api(srv, 'GET', `/api/v1/geocode?lon=${blon}&lat=${blat}&crs=bd09`);
    assert.equal(b.status, 200);
    assert.equal(b.json.grid.code, GRID_150102);
    assert.ok(Math.abs(b.json.wgs84.lon - POINT_150102.lon) < 1e-5);
    const c = await api(srv, 'GET', `/api/v1/geocode?lon=${POINT_150102.lon}&lat=${POINT_150102.lat}&crs=cgcs2000`);
    assert.equal(c.json.grid.code, GRID_150102);
  });
});

describe('JSON bodies', () => {
  test('malformed JSON: 400 bad_json', async () => {
    for (const body of ['{', '{"username":}', 'nul', '{"a":1}}', '{"a":1,"a":2}', '\u0000']) {
      const r = await api(srv, 'POST', '/api/v1/login', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(errorCode(r), 'bad_json');
    }
    for (const body of ['[]', '"x"', '42', 'null']) {
      const r = await api(srv, 'POST', '/api/v1/login', { body });
      assert.equal(r.status, 400, body);
      assert.equal(errorCode(r), 'bad_json');
    }
  });

  test('wrong content type: 415', async () => {
    const r = await api(srv, 'POST', '/api/v1/login', {
      body: 'username=operator&password=demo',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.status, 415);
    assert.equal(errorCode(r), 'unsupported_media_type');
  });

  test('a JSON body over 1 MiB: 413', async () => {
    const pad = 'x'.repeat(1 << 20);
    const r = await api(srv, 'POST', '/api/v1/login', { body: { username: 'operator', password: pad } });
    assert.equal(r.status, 413);
    assert.equal(errorCode(r), 'too_large');
    // exactly at the limit is parsed (and is a wrong password)
    const head = '{"username":"operator","password":"';
    const tail = '"}';
    const exact = head + 'y'.repeat((1 << 20) - head.length - tail.length) + tail;
    assert.equal(Buffer.byteLength(exact), 1 << 20);
    const ok = await api(srv, 'POST', '/api/v1/login', { body: exact });
    assert.equal(ok.status, 401);
    // over the server's 16 MiB upload cap libevent answers 413 itself, as soon
    // as it reads the Content-Length (and closes: send only the headers)
    const reply = await rawRequest(
      srv,
      'POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
        `Content-Length: ${(16 << 20) + 1}\r\n\r\n`,
    );
    assert.match(reply, /^HTTP\/1\.1 413 /);
    const h = await api(srv, 'GET', '/api/v1/health');
    assert.equal(h.status, 200);
  });
});

describe('sessions', () => {
  test('login ok', async () => {
    const r = await api(srv, 'POST', '/api/v1/login', { body: { username: 'operator', password: 'demo' } });
    assert.equal(r.status, 200);
    assert.match(r.json.token, /^[0-9a-f]{64}$/);
    assert.match(r.json.csrf, /^[0-9a-f]{64}$/);
    assert.notEqual(r.json.token, r.json.csrf);
    assert.equal(r.json.expires_in, 12 * 3600);
    assert.equal(r.json.user.username, 'operator');
    assert.equal(r.json.user.role, 'operator');
    assert.equal(r.json.user.role_zh, '受理员');
    const sc = r.headers.get('set-cookie');
    assert.ok(sc.startsWith(`cityops_session=${r.json.token};`));
    assert.match(sc, /HttpOnly/);
    assert.match(sc, /SameSite=Strict/);
    assert.match(sc, /Path=\//);
    const me = await api(srv, 'GET', '/api/v1/me', { token: r.json.token });
    assert.equal(me.status, 200);
    assert.equal(me.json.user.username, 'operator');
    assert.equal(me.json.csrf, r.json.csrf);
    // each login is a new session
    const again = await login(srv, 'operator');
    assert.notEqual(again.token, r.json.token);
  });

  test('the demo accounts and their scopes', async () => {
    const h = await login(srv, 'handler');
    assert.equal(h.user.role, 'handler');
    assert.equal(h.user.dept, 'D-CG-150102');
    assert.equal(h.user.scope, '150102');
    const i = await login(srv, 'inspector');
    assert.equal(i.user.scope, '150102');
    const l = await login(srv, 'leader');
    assert.equal(l.user.role, 'leader');
    assert.equal(l.user.role_zh, '领导');
  });

  test('bad credentials: 401, the same for unknown users', async () => {
    for (const body of [
      { username: 'operator', password: 'wrong' },
      { username: 'operator', password: '' },
      { username: 'nobody', password: 'demo' },
      { username: 'OPERATOR', password: 'demo' },
    ]) {
      const r = await api(srv, 'POST', '/api/v1/login', { body });
      assert.equal(r.status, 401, JSON.stringify(body));
      assert.equal(errorCode(r), 'bad_credentials');
      assert.equal(r.headers.get('set-cookie'), null);
    }
  });

  test('missing or malformed login fields: 400', async () => {
    for (const body of [
      {},
      { username: 'operator' },
      { password: 'demo' },
      { username: '', password: 'demo' },
      { username: 42, password: 'demo' },
      { username: 'operator', password: ['demo'] },
      { username: 'u'.repeat(64), password: 'demo' },
    ]) {
      const r = await api(srv, 'POST', '/api/v1/login', { body });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(errorCode(r), 'bad_request');
    }
  });

  test('no or a wrong token: 401', async () => {
    let r = await api(srv, 'GET', '/api/v1/me');
    assert.equal(r.status, 401);
    assert.equal(errorCode(r), 'unauthenticated');
    r = await api(srv, 'GET', '/api/v1/me', { token: 'f'.repeat(64) });
    assert.equal(r.status, 401);
    r = await api(srv, 'GET', '/api/v1/me', { headers: { Authorization: 'Basic b3BlcmF0b3I6ZGVtbw==' } });
    assert.equal(r.status, 401);
    r = await api(srv, 'GET', '/api/v1/me', { cookie: 'cityops_session=nonsense' });
    assert.equal(r.status, 401);
  });

  test('cookie sessions need the CSRF header on unsafe methods', async () => {
    const s = await login(srv, 'operator');
    // reads work with the cookie alone
    let r = await api(srv, 'GET', '/api/v1/me', { cookie: s.cookie });
    assert.equal(r.status, 200);
    r = await api(srv, 'GET', '/api/v1/me', { cookie: `theme=dark; ${s.cookie}; other=1` });
    assert.equal(r.status, 200);
    // a POST without or with a wrong token is refused and does nothing
    const body = { description: 'CSRF 测试', category: 'E0402', location: POINT_150102 };
    const before = (await api(srv, 'GET', '/api/v1/health')).json.cases;
    r = await api(srv, 'POST', '/api/v1/cases', { cookie: s.cookie, body });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r), 'csrf');
    r = await api(srv, 'POST', '/api/v1/cases', { cookie: s.cookie, csrf: 'a'.repeat(64), body });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r), 'csrf');
    const other = await login(srv, 'operator'); // another session's token does not fit
    r = await api(srv, 'POST', '/api/v1/cases', { cookie: s.cookie, csrf: other.csrf, body });
    assert.equal(r.status, 403);
    assert.equal((await api(srv, 'GET', '/api/v1/health')).json.cases, before);
    // with the session's own token it goes through
    r = await api(srv, 'POST', '/api/v1/cases', { cookie: s.cookie, csrf: s.csrf, body });
    assert.equal(r.status, 201);
    assert.equal((await api(srv, 'GET', '/api/v1/health')).json.cases, before + 1);
    // logout by cookie needs it too
    r = await api(srv, 'POST', '/api/v1/logout', { cookie: s.cookie });
    assert.equal(r.status, 403);
    r = await api(srv, 'POST', '/api/v1/logout', { cookie: s.cookie, csrf: s.csrf });
    assert.equal(r.status, 200);
    r = await api(srv, 'GET', '/api/v1/me', { cookie: s.cookie });
    assert.equal(r.status, 401);
  });

  test('logout revokes the token (and only that one)', async () => {
    const a = await login(srv, 'shiftlead');
    const b = await login(srv, 'shiftlead');
    let r = await api(srv, 'POST', '/api/v1/logout', { token: a.token });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { ok: true });
    assert.match(r.headers.get('set-cookie'), /cityops_session=;.*Max-Age=0/);
    r = await api(srv, 'GET', '/api/v1/me', { token: a.token });
    assert.equal(r.status, 401);
    r = await api(srv, 'GET', '/api/v1/cases?limit=1', { token: a.token });
    assert.equal(r.status, 401);
    r = await api(srv, 'GET', '/api/v1/me', { token: b.token });
    assert.equal(r.status, 200);
    // logging out again with the dead token: 401
    r = await api(srv, 'POST', '/api/v1/logout', { token: a.token });
    assert.equal(r.status, 401);
  });
});

describe('configuration reads', () => {
  test('taxonomy: public, versioned', async () => {
    let r = await api(srv, 'GET', '/api/v1/taxonomy');
    assert.equal(r.status, 200);
    assert.equal(r.json.version, 1);
    assert.ok(r.json.subclasses.length >= 70);
    assert.ok(r.json.subclasses.some((s) => s.kind === 'event' && s.code === '0402' && s.name === '占道经营'));
    r = await api(srv, 'GET', '/api/v1/taxonomy?version=1');
    assert.equal(r.status, 200);
    r = await api(srv, 'GET', '/api/v1/taxonomy?version=2');
    assert.equal(r.status, 404);
    for (const v of ['0', '-1', 'x', '256', '1.5']) {
      r = await api(srv, 'GET', `/api/v1/taxonomy?version=${v}`);
      assert.equal(r.status, 400, v);
      assert.equal(errorCode(r), 'bad_version');
    }
  });

  test('departments, workflow, calendar', async () => {
    const s = await login(srv, 'leader');
    let r = await api(srv, 'GET', '/api/v1/departments', { token: s.token });
    assert.equal(r.status, 200);
    assert.equal(r.json.count, r.json.items.length);
    const cg = r.json.items.find((d) => d.code === 'D-CG-150102');
    assert.equal(cg.type, 'chengguan');
    assert.equal(cg.area, '150102');
    assert.equal(cg.hours, '08:30-12:00,14:30-18:00');
    r = await api(srv, 'GET', '/api/v1/departments?type=street_office', { token: s.token });
    assert.ok(r.json.count > 0 && r.json.items.every((d) => d.type === 'street_office'));

    r = await api(srv, 'GET', '/api/v1/workflow', { token: s.token });
    assert.equal(r.status, 200);
    assert.equal(r.json.actions.length, 26); // … merge, unmerge (取消合并), …
    assert.ok(r.json.actions.some((a) => a.action === 'unmerge' && a.label === '取消合并'));
    assert.ok(r.json.actions.some((a) => a.action === 'comment' && a.label === '备注'));
    assert.ok(r.json.actions.some((a) => a.action === 'dispatch' && a.label === '派遣'));
    assert.deepEqual(
      r.json.states.map((x) => x.state),
      ['registered', 'verifying', 'filed', 'dispatched', 'handling', 'suspended', 'handled', 'checking', 'checked', 'closed', 'voided', 'merged'],
    );

    r = await api(srv, 'GET', '/api/v1/calendar?year=2026', { token: s.token });
    assert.equal(r.status, 200);
    assert.equal(r.json.hours, '08:30-12:00,14:30-18:00');
    const day = (d) => r.json.days.find((x) => x.date === d);
    assert.equal(day('2026-10-01').kind, 'holiday');
    assert.equal(day('2026-10-07').kind, 'holiday');
    assert.equal(day('2026-10-10').kind, 'workday');
    assert.equal(day('2026-10-09'), undefined);
    for (const q of ['', '?year=abc', '?year=1969', '?year=2200']) {
      const b = await api(srv, 'GET', `/api/v1/calendar${q}`, { token: s.token });
      assert.equal(b.status, 400, q);
      assert.equal(errorCode(b), 'bad_year');
    }
  });

  test('web pages', async () => {
    for (const p of ['/', '/dashboard', '/report']) {
      const r = await fetch(srv.url + p);
      assert.equal(r.status, 200, p);
      assert.match(r.headers.get('content-type'), /^text\/html/);
      assert.match(r.headers.get('content-security-policy'), /default-src 'self'/);
      assert.match(await r.text(), /<html/i);
    }
  });
});

describe('configuration changes', () => {
  test('taxonomy: an edit is a new version, a case keeps the version it was filed under, the same document again adds none', async () => {
    const admin = await login(srv, 'admin');
    const op = await login(srv, 'operator');
    const before = await createCase(srv, op.token);
    const v1 = (await api(srv, 'GET', '/api/v1/taxonomy')).json;
    assert.equal(before.tax_version, v1.version);
    // an edit: one subclass renamed
    const doc = structuredClone(v1);
    const sub = doc.subclasses.find((s) => s.kind === 'event' && s.code === '0402');
    const oldName = sub.name;
    sub.name = `${oldName}（测试改名）`;
    let r = await api(srv, 'PUT', '/api/v1/taxonomy', { token: admin.token, body: doc });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { version: v1.version + 1, added: true });
    // the same document again — a retry by a load balancer, a double click: no new version
    r = await api(srv, 'PUT', '/api/v1/taxonomy', { token: admin.token, body: doc });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { version: v1.version + 1, added: false });
    r = await api(srv, 'GET', `/api/v1/taxonomy?version=${v1.version + 2}`);
    assert.equal(r.status, 404);
    // the new version is current, the old one is kept
    const cur = (await api(srv, 'GET', '/api/v1/taxonomy')).json;
    assert.equal(cur.version, v1.version + 1);
    assert.equal(cur.subclasses.find((s) => s.kind === 'event' && s.code === '0402').name, sub.name);
    const old = (await api(srv, 'GET', `/api/v1/taxonomy?version=${v1.version}`)).json;
    assert.equal(old.subclasses.find((s) => s.kind === 'event' && s.code === '0402').name, oldName);
    // cases keep the version they were filed under
    const after = await createCase(srv, op.token);
    assert.equal(after.tax_version, v1.version + 1);
    r = await api(srv, 'GET', `/api/v1/cases/${before.id}`, { token: op.token });
    assert.equal(r.status, 200);
    assert.equal(r.json.tax_version, v1.version);
    // the audit log has the one change
    r = await api(srv, 'GET', '/api/v1/audit?limit=50', { token: admin.token });
    const puts = r.json.items.filter((a) => a.action === 'taxonomy_put');
    assert.deepEqual(puts.map((a) => a.detail), [`version=${v1.version + 1}`]);
  });
});
