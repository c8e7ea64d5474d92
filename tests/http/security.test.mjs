// security.test.mjs — limits, rate limits, login throttling, sessions, CSRF,
// security headers and error hygiene (issue #8).
//
// Three servers: one with the default limits, one with a tight per-IP rate
// for anonymous requests, a 2 s connection timeout and a 4 s request
// deadline, one with tight login throttling, 2 s sessions and no request
// deadline. The last two are only spoken to without keep-alive (req()
// below), so the short timeout never races a reused connection — except in the request deadline test,
// which keeps one alive on purpose. Every client here picks its own
// loopback source address (127.0.0.N), so per-IP limits of one test never
// touch another's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';

import { PNG_1x1, POINT_150102, api, errorCode, login, rawRequest, startServer } from './lib.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Sends raw bytes and collects everything until the server closes (or ms).
function rawUntilClose(srv, bytes, ms = 3000) {
  return new Promise((resolve) => {
    const chunks = [];
    const sock = net.connect(srv.port, '127.0.0.1');
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, ms);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d) => chunks.push(d));
    sock.on('close', done);
    sock.on('error', done);
  });
}

// The first reply in raw bytes (rawRequest) as an API error: its status,
// head, and the {"error":{code,message}} of a JSON body of Content-Length bytes.
function rawError(reply) {
  const end = reply.indexOf('\r\n\r\n');
  assert.ok(end > 0, `no reply head: ${reply.slice(0, 120)}`);
  const head = reply.slice(0, end + 2);
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  assert.match(head, /\r\ncontent-type: application\/json; charset=utf-8\r\n/i, head);
  const len = Number(/\r\ncontent-length: *(\d+)\r\n/i.exec(head)?.[1]);
  const body = Buffer.from(reply.slice(end + 4), 'latin1').subarray(0, len);
  assert.equal(body.length, len, 'the whole body');
  const doc = JSON.parse(body.toString('utf8'));
  assert.equal(typeof doc.error?.code, 'string');
  assert.equal(typeof doc.error?.message, 'string');
  return { status, head, code: doc.error.code, message: doc.error.message };
}

let ipSeq = 10;
const freshIp = () => `127.0.0.${ipSeq++}`;
const PROXY = '127.0.1.1'; // the `rate` server's trusted proxy (a load balancer on this host)

// One request from a chosen source address. body: object (JSON) or Buffer.
function req(srv, method, p, { ip = '127.0.0.1', token, cookie, csrf, body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    let payload;
    if (Buffer.isBuffer(body) || typeof body === 'string') payload = Buffer.from(body);
    else if (body !== undefined) {
      payload = Buffer.from(JSON.stringify(body));
      h['Content-Type'] = 'application/json';
    }
    if (payload) h['Content-Length'] = payload.length;
    if (token) h.Authorization = `Bearer ${token}`;
    if (cookie) h.Cookie = cookie;
    if (csrf) h['X-CSRF-Token'] = csrf;
    const r = http.request(
      { host: '127.0.0.1', port: srv.port, method, path: p, headers: h, localAddress: ip, agent: false },
      (res) => {
        const chunks = [];
        res.on('data', (d) => chunks.push(d));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          if ((res.headers['content-type'] || '').includes('json')) {
            try {
              json = JSON.parse(text);
            } catch {
              json = null;
            }
          }
          resolve({ status: res.statusCode, headers: res.headers, text, json });
        });
      },
    );
    r.on('error', reject);
    r.end(payload);
  });
}

const loginFrom = (srv, ip, username, password = 'demo') =>
  req(srv, 'POST', '/api/v1/login', { ip, body: { username, password } });

// Strings that must never reach a client.
const INTERNALS = [/\/work\//, /\/tmp\//, /\/home\//, /sqlite/i, /\bSELECT\b/, /\bINSERT\b/, /errno/i,
  /No such file/, /Permission denied/, /\.c:\d+/, /argon2/i, /libevent/i];

function assertNoInternals(r, label) {
  for (const re of INTERNALS) assert.doesNotMatch(r.text, re, `${label}: ${r.text.slice(0, 300)}`);
}

// ------------------------------------------------------------------ servers

let main; // default limits
let rate; // --anon-rate 2:5 --timeout 2 --request-timeout 4 --trusted-proxy 127.0.1.1
let slow; // --login-fails 3:6 --login-delay 1:4 --session-ttl 2 --request-timeout 0
before(async () => {
  [main, rate, slow] = await Promise.all([
    startServer(),
    startServer({ args: ['--anon-rate', '2:5', '--timeout', '2', '--request-timeout', '4', '--trusted-proxy', PROXY] }),
    startServer({ args: ['--login-fails', '3:6', '--login-delay', '1:4', '--session-ttl', '2', '--request-timeout', '0'] }),
  ]);
});
after(async () => {
  await Promise.all([main?.stop(), rate?.stop(), slow?.stop()]);
});

// ------------------------------------------------------------------ headers

describe('security headers', () => {
  test('every API reply: nosniff, no referrer, no framing, a CSP that allows nothing, a request id', async () => {
    const op = await login(main, 'operator');
    const replies = [
      await api(main, 'GET', '/api/v1/health'),
      await api(main, 'GET', '/api/v1/taxonomy'),
      await api(main, 'GET', '/api/v1/nowhere'),
      await api(main, 'GET', '/api/v1/cases?limit=1', { token: op.token }),
      await api(main, 'POST', '/api/v1/login', { body: '{' }),
      await api(main, 'GET', '/open311/v2/services.json'),
    ];
    const ids = new Set();
    for (const r of replies) {
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.match(r.headers.get('content-security-policy'), /default-src 'none'.*frame-ancestors 'none'/);
      assert.match(r.headers.get('x-request-id'), /^\d+$/);
      ids.add(r.headers.get('x-request-id'));
    }
    assert.equal(ids.size, replies.length, 'request ids are unique');
  });

  test('authenticated API replies are not cached; public ones may be', async () => {
    const op = await login(main, 'operator');
    for (const p of ['/api/v1/cases?limit=1', '/api/v1/me', '/api/v1/departments', '/api/v1/taxonomy']) {
      const r = await api(main, 'GET', p, { token: op.token });
      assert.equal(r.status, 200, p);
      assert.equal(r.headers.get('cache-control'), 'no-store', p);
    }
    // a photo keeps its own long-lived private caching, set once
    const up = await api(main, 'POST', '/api/v1/media', { token: op.token, body: PNG_1x1, headers: { 'Content-Type': 'image/png' } });
    const m = await api(main, 'GET', `/api/v1/media/${up.json.id}`, { token: op.token });
    assert.equal(m.headers.get('cache-control'), 'private, max-age=31536000, immutable');
    const anon = await api(main, 'GET', '/api/v1/taxonomy');
    assert.equal(anon.headers.get('cache-control'), null);
  });

  test('pages: a strict CSP without inline or eval scripts, no framing', async () => {
    for (const p of ['/', '/dashboard', '/report']) {
      const r = await api(main, 'GET', p);
      assert.equal(r.status, 200, p);
      const csp = r.headers.get('content-security-policy');
      const policy = Object.fromEntries(csp.split(';').map((d) => d.trim().split(/\s+/)).map(([k, ...v]) => [k, v]));
      assert.deepEqual(policy['default-src'], ["'self'"], csp);
      assert.deepEqual(policy['frame-ancestors'], ["'none'"], csp);
      assert.deepEqual(policy['object-src'], ["'none'"], csp);
      assert.ok(policy['base-uri'], csp);
      assert.ok(!('script-src' in policy) || !policy['script-src'].some((s) => /unsafe/.test(s)), csp);
      assert.doesNotMatch(csp, /unsafe-eval/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      // one policy only: two would be enforced together
      assert.ok(!csp.includes(','), csp);
      assert.doesNotMatch(r.text, /<script>(?!\s*<\/script>)/, `${p} has an inline script`);
    }
  });
});

// ------------------------------------------------------- error hygiene

describe('errors show no internals', () => {
  test('4xx replies from every layer', async () => {
    const op = await login(main, 'operator');
    const replies = [
      await api(main, 'GET', '/static/../../etc/passwd'),
      await api(main, 'GET', '/static/js/nothing-here.mjs'),
      await api(main, 'GET', '/vendor/nothing.js'),
      await api(main, 'GET', `/api/v1/media/${'0'.repeat(64)}`, { token: op.token }),
      await api(main, 'GET', '/api/v1/cases/99999999', { token: op.token }),
      await api(main, 'POST', '/api/v1/cases', { token: op.token, body: '{"description":' }),
      await api(main, 'POST', '/api/v1/cases', { token: op.token, body: { description: 'x', location: { lon: 'a' } } }),
      await api(main, 'POST', '/api/v1/media', { token: op.token, body: Buffer.from('not an image'), headers: { 'Content-Type': 'image/png' } }),
      await api(main, 'GET', '/api/v1/cases?area=1;DROP TABLE cases', { token: op.token }),
      await api(main, 'PUT', '/api/v1/taxonomy', { token: op.token, body: {} }),
    ];
    for (const r of replies) {
      assert.ok(r.status >= 400 && r.status < 500, `${r.status} ${r.text.slice(0, 200)}`);
      errorCode(r);
      assertNoInternals(r, String(r.status));
    }
    // SQL in parameters is only text (prepared statements): no match, no error
    for (const q of ["' OR 1=1 --", '"; DROP TABLE cases; --', "%' UNION SELECT password_hash FROM users --"]) {
      const r = await api(main, 'GET', `/api/v1/areas?q=${encodeURIComponent(q)}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.items.length, 0, q);
      const c = await api(main, 'GET', `/api/v1/cases?q=${encodeURIComponent(q)}`, { token: op.token });
      assert.equal(c.status, 200, c.text);
      assert.equal(c.json.count, 0, q);
    }
  });

  test('a 500 says only a generic message and the request id, which is in the server log', async () => {
    const op = await login(main, 'operator');
    // the media folder replaced by a file: storing a new photo fails
    const media = path.join(main.dir, 'media');
    const aside = path.join(main.dir, 'media.aside');
    fs.renameSync(media, aside);
    fs.writeFileSync(media, 'not a folder');
    let r;
    try {
      const png = Buffer.concat([PNG_1x1, Buffer.from(`unique-${Date.now()}`)]);
      r = await api(main, 'POST', '/api/v1/media', { token: op.token, body: png, headers: { 'Content-Type': 'image/png' } });
    } finally {
      fs.rmSync(media);
      fs.renameSync(aside, media);
    }
    assert.equal(r.status, 500, r.text);
    const id = r.headers.get('x-request-id');
    assert.match(r.json.error.message, new RegExp(`request id ${id}\\b`));
    assert.doesNotMatch(r.json.error.message, /photo|照片/, 'the specific reason stays in the log');
    assertNoInternals(r, '500');
    await sleep(100);
    assert.match(main.log(), new RegExp(`request failed" id=${id} status=500 .*cannot store the photo`));
  });
});

// ------------------------------------------------------- request limits

describe('request limits', () => {
  test('JSON nesting deeper than 32 levels: 400 json_too_deep (also in a multipart case part)', async () => {
    const nest = (n) => `{"username":${'['.repeat(n)}${']'.repeat(n)},"password":"x"}`;
    let r = await api(main, 'POST', '/api/v1/login', { body: nest(40) });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'json_too_deep');
    r = await api(main, 'POST', '/api/v1/login', { body: `${'['.repeat(100000)}` });
    assert.equal(errorCode(r), 'json_too_deep');
    // 31 levels inside the object (32 in all) are parsed: the login says what is wrong
    r = await api(main, 'POST', '/api/v1/login', { body: nest(31) });
    assert.equal(errorCode(r), 'bad_request');
    // brackets inside strings are text, not nesting: a plain failed login
    r = await api(main, 'POST', '/api/v1/login', { body: { username: '['.repeat(60), password: '{'.repeat(100) } });
    assert.equal(r.status, 401);
    assert.equal(errorCode(r), 'bad_credentials');
    const op = await login(main, 'operator');
    const fd = new FormData();
    fd.append('case', new Blob([`{"description":"深","x":${'['.repeat(50)}${']'.repeat(50)}}`], { type: 'application/json' }));
    r = await api(main, 'POST', '/api/v1/cases', { token: op.token, body: fd });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'json_too_deep');
  });

  test('more than 100,000 values: 400 json_too_complex', async () => {
    const op = await login(main, 'operator');
    let r = await api(main, 'POST', '/api/v1/cases', { token: op.token, body: `{"photos":[${'0,'.repeat(100001)}0]}` });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'json_too_complex');
    // the taxonomy document (the largest body we take) is well under it
    const tax = await api(main, 'GET', '/api/v1/taxonomy');
    const values = (tax.text.match(/[,[{]/g) || []).length;
    assert.ok(values < 100000 / 4, `taxonomy has ${values} values`);
  });

  test('a request target over 8 KiB: 414 uri_too_long; just under it is served', async () => {
    let r = await api(main, 'GET', `/api/v1/areas?q=${'a'.repeat(8200)}`);
    assert.equal(r.status, 414);
    assert.equal(errorCode(r), 'uri_too_long');
    r = await api(main, 'GET', `/api/v1/areas?q=${'a'.repeat(8000)}`);
    assert.notEqual(r.status, 414);
    assert.ok(r.status < 500, `${r.status}`);
    // far over the header limit: libevent refuses it before we see it (or hangs up)
    const reply = await rawRequest(main, `GET /api/v1/areas?q=${'a'.repeat(40000)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    if (reply !== '') assert.equal(rawError(reply).code, 'bad_request', reply.slice(0, 300));
    assert.equal((await api(main, 'GET', '/api/v1/health')).status, 200);
  });

  // What libevent answers itself, before the application sees the request,
  // goes out as the API's JSON error too (src/http/errpage.c), on a server
  // with a request deadline (main) and on one without (slow).
  test("libevent's own error replies are JSON: not HTTP, unknown method, body over the cap", async () => {
    for (const srv of [main, slow]) {
      const cases = [
        ['GARBAGE\r\n\r\n', 400, 'bad_request'],
        ['GET /api/v1/health HTTP/7.5\r\nHost: x\r\n\r\n', 400, 'bad_request'],
        ['BREW /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n', 501, 'not_implemented'],
        [`GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`, 400, 'bad_request'],
        ['POST /api/v1/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999\r\n\r\n', 413, 'too_large'],
      ];
      for (const [bytes, status, code] of cases) {
        const reply = await rawRequest(srv, bytes);
        const e = rawError(reply);
        assert.equal(e.status, status, reply.slice(0, 300));
        assert.equal(e.code, code);
        assert.match(e.message, /[\u4e00-\u9fff].*\/ [A-Za-z]/, 'zh-CN / English');
        assert.match(e.head, /\r\nconnection: close\r\n/i);
        assert.match(e.head, /\r\nx-content-type-options: nosniff\r\n/i);
        assert.doesNotMatch(reply, /<HTML>|text\/html/);
      }
      // behind a reply already queued on the same connection: both arrive, in order
      const both = await rawUntilClose(srv, 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n');
      const second = both.indexOf('HTTP/1.1 400 ');
      assert.ok(both.startsWith('HTTP/1.1 200 ') && second > 0, both.slice(0, 200));
      assert.equal(rawError(both.slice(second)).code, 'bad_request');
      assert.equal((await api(srv, 'GET', '/api/v1/health')).status, 200);
    }
  });

  test('photos: at most 8 per case, 10 MiB each; a body over 16 MiB is refused', async () => {
    const op = await login(main, 'operator');
    const up = await api(main, 'POST', '/api/v1/media', { token: op.token, body: PNG_1x1, headers: { 'Content-Type': 'image/png' } });
    assert.equal(up.status, 201);
    const base = { description: '照片上限', category: 'E0402', location: POINT_150102 };
    let r = await api(main, 'POST', '/api/v1/cases', { token: op.token, body: { ...base, photos: Array(9).fill(up.json.id) } });
    assert.equal(r.status, 400, r.text);
    r = await api(main, 'POST', '/api/v1/cases', { token: op.token, body: { ...base, photos: Array(8).fill(up.json.id) } });
    assert.equal(r.status, 201, r.text);
    // nine photo parts: refused before any is stored
    const countMedia = () => fs.readdirSync(path.join(main.dir, 'media'), { recursive: true }).length;
    const before = countMedia();
    const fd = new FormData();
    fd.append('case', JSON.stringify(base));
    for (let i = 0; i < 9; i++)
      fd.append('photo', new Blob([Buffer.concat([PNG_1x1, Buffer.from(`p${i}-${Date.now()}`)])], { type: 'image/png' }), `p${i}.png`);
    r = await api(main, 'POST', '/api/v1/cases', { token: op.token, body: fd });
    assert.equal(r.status, 400);
    assert.equal(errorCode(r), 'too_many_photos');
    assert.equal(countMedia(), before);
    // one photo over 10 MiB
    const big = Buffer.concat([PNG_1x1, Buffer.alloc((10 << 20) + 10)]);
    r = await api(main, 'POST', '/api/v1/media', { token: op.token, body: big, headers: { 'Content-Type': 'image/png' } });
    assert.equal(r.status, 413);
    assert.equal(errorCode(r), 'too_large');
    // over the 16 MiB body cap: libevent answers 413 itself (made JSON by
    // src/http/errpage.c) or hangs up mid-upload
    let status = 0;
    let r413;
    try {
      r413 = await api(main, 'POST', '/api/v1/media', { token: op.token, body: Buffer.alloc((16 << 20) + 1024), headers: { 'Content-Type': 'image/png' } });
      status = r413.status;
    } catch {
      status = -1; // the connection was closed while sending
    }
    assert.ok(status === 413 || status === -1, `status ${status}`);
    if (status === 413) assert.equal(errorCode(r413), 'too_large');
    assert.equal((await api(main, 'GET', '/api/v1/health')).status, 200);
  });
});

// ------------------------------------------------------- connections

// Opens a connection from `ip`; resolves with {sock, closed: Promise<ms>}.
function openConn(srv, ip) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const sock = net.connect({ host: '127.0.0.1', port: srv.port, localAddress: ip });
    const closed = new Promise((res) => sock.on('close', () => res(Date.now() - t0)));
    sock.on('error', () => {});
    sock.on('connect', () => resolve({ sock, closed }));
    sock.on('error', reject);
  });
}

// Everything a raw connection receives, as text.
function collect(conn) {
  conn.text = '';
  conn.sock.on('data', (d) => (conn.text += d.toString('utf8')));
  return conn;
}

// Writes one byte of `bytes` every `ms` until the connection closes.
function trickle(conn, bytes, ms) {
  let i = 0;
  const t = setInterval(() => {
    if (conn.sock.destroyed || i >= bytes.length) clearInterval(t);
    else conn.sock.write(bytes.slice(i, ++i));
  }, ms);
  conn.closed.then(() => clearInterval(t));
}

// GET /api/v1/live from a chosen address; resolves once the stream is open.
function openLive(srv, ip, token) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const r = http.request(
      { host: '127.0.0.1', port: srv.port, path: '/api/v1/live', localAddress: ip, agent: false,
        headers: { Authorization: `Bearer ${token}` } },
      (res) => {
        const live = { status: res.status ?? res.statusCode, text: '', ended: null, close: () => r.destroy() };
        res.on('data', (d) => (live.text += d.toString('utf8')));
        const end = () => (live.ended ??= Date.now() - t0);
        res.on('end', end);
        res.on('close', end);
        res.on('error', end);
        resolve(live);
      },
    );
    r.on('error', reject);
    r.end();
  });
}

describe('slow and idle connections (timeout 2 s)', () => {
  test('an idle connection and one that stops mid-headers are dropped; others are served meanwhile', async () => {
    const ip = freshIp();
    const idle = await openConn(rate, ip);
    const half = await openConn(rate, ip);
    half.sock.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    // fifty more slow clients do not stop anyone else
    const crowd = await Promise.all(Array.from({ length: 50 }, () => openConn(rate, ip)));
    for (const c of crowd) c.sock.write('GET /api/v1/health HTTP/1.1\r\n');
    assert.equal((await req(rate, 'GET', '/api/v1/health', { ip })).status, 200);
    const never = new Promise((res) => setTimeout(() => res('still open'), 15000).unref());
    assert.equal(typeof (await Promise.race([idle.closed, never])), 'number', 'idle connection not closed');
    assert.equal(typeof (await Promise.race([half.closed, never])), 'number', 'half request not closed');
    for (const c of crowd) assert.equal(typeof (await Promise.race([c.closed, never])), 'number');
    assert.equal((await req(rate, 'GET', '/api/v1/health', { ip })).status, 200);
  });

  test('a request that trickles in faster than the timeout but not whole within the 4 s deadline gets 408 and is closed; keep-alive and the live feed are not cut', async () => {
    const ip = freshIp();
    const s = await loginFrom(rate, ip, 'operator');
    assert.equal(s.status, 200);
    const live = await openLive(rate, ip, s.json.token);
    assert.equal(live.status, 200);
    // headers one byte every 1.5 s (under the 2 s timeout), never finished
    const headers = collect(await openConn(rate, ip));
    trickle(headers, 'GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(100), 1500);
    // a body the same way
    const body = collect(await openConn(rate, ip));
    body.sock.write('POST /api/v1/public/cases HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n');
    trickle(body, '{"description":"' + 'x'.repeat(90), 1500);
    // one connection kept alive: a request every 1.2 s for 6 s, longer than the deadline
    const kept = collect(await openConn(rate, ip));
    const t0 = Date.now();
    for (let i = 1; i <= 5; i++) {
      kept.sock.write('GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
      const until = Date.now() + 3000;
      while ((kept.text.match(/HTTP\/1\.1 200/g) || []).length < i && Date.now() < until) await sleep(20);
      assert.equal((kept.text.match(/HTTP\/1\.1 200/g) || []).length, i, `keep-alive request #${i}: ${kept.text.slice(-300)}`);
      // meanwhile others are served
      if (i === 2) assert.equal((await req(rate, 'GET', '/api/v1/health', { ip: freshIp() })).status, 200);
      await sleep(1200);
    }
    assert.ok(Date.now() - t0 > 5000);
    assert.equal(kept.sock.destroyed, false, 'the keep-alive connection was cut');
    // both tricklers went at the deadline (4 s after they connected), with a 408
    const never = new Promise((res) => setTimeout(() => res('still open'), 10000).unref());
    for (const [name, c] of [['headers', headers], ['body', body]]) {
      const ms = await Promise.race([c.closed, never]);
      assert.equal(typeof ms, 'number', `${name} trickler not closed`);
      assert.ok(ms >= 3500 && ms < 7000, `${name} trickler closed after ${ms} ms`);
      assert.match(c.text, /^HTTP\/1\.1 408 /, name);
      assert.match(c.text, /"code":"request_timeout"/, name);
    }
    // the live feed outlived the deadline and the 2 s timeout, and still streams
    assert.equal(live.ended, null, `live feed ended after ${live.ended} ms`);
    assert.match(live.text, /: connected/);
    live.close();
    kept.sock.destroy();
    assert.equal((await req(rate, 'GET', '/api/v1/health', { ip })).status, 200);
    assert.match(rate.log(), /request deadline passed, connection closed" peer=127\.0\.0\.\d+ seconds=4/);
  });
});

// The server's resident memory in KiB (Linux).
function rssKiB(srv) {
  const m = fs.readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return Number(m[1]);
}

describe('input while a reply is written', () => {
  test('a live-feed client that keeps sending is paused, not buffered: the server keeps its memory', async () => {
    const ip = freshIp();
    const s = await loginFrom(rate, ip, 'operator');
    const flood = collect(await openConn(rate, ip));
    flood.sock.write(`GET /api/v1/live HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.json.token}\r\n\r\n`);
    const until = Date.now() + 3000;
    while (!/: connected/.test(flood.text) && Date.now() < until) await sleep(20);
    assert.match(flood.text, /^HTTP\/1\.1 200 /);
    const before = rssKiB(rate);
    // up to 64 MiB, as fast as the connection takes it; stop when it takes nothing for 1.5 s
    const chunk = Buffer.alloc(256 * 1024, 0x78);
    let queued = 0;
    let stalled = false;
    while (queued < 64 * 1024 * 1024) {
      queued += chunk.length;
      if (flood.sock.write(chunk)) continue;
      const drained = await Promise.race([
        new Promise((res) => flood.sock.once('drain', () => res(true))),
        sleep(1500).then(() => false),
      ]);
      if (!drained) {
        stalled = true;
        break;
      }
    }
    const taken = queued - flood.sock.writableLength;
    const grown = rssKiB(rate) - before;
    assert.ok(stalled, `the server read all ${queued} bytes`);
    assert.ok(taken < 32 * 1024 * 1024, `the connection took ${taken} bytes`);
    assert.ok(grown < 16 * 1024, `server memory grew by ${grown} KiB`);
    // the feed still streams to others, and the server answers
    assert.equal((await req(rate, 'GET', '/api/v1/health', { ip: freshIp() })).status, 200);
    flood.sock.destroy();
  });

  test('requests pipelined behind a reply are still answered, in order', async () => {
    const ip = freshIp();
    const s = await loginFrom(rate, ip, 'operator');
    const conn = collect(await openConn(rate, ip));
    const get = (p) => `GET ${p} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.json.token}\r\n\r\n`;
    conn.sock.write(get('/api/v1/cases?limit=50') + get('/api/v1/health') + get('/api/v1/me'));
    const until = Date.now() + 5000;
    while ((conn.text.match(/HTTP\/1\.1 /g) || []).length < 3 && Date.now() < until) await sleep(20);
    const statuses = [...conn.text.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => m[1]);
    assert.deepEqual(statuses, ['200', '200', '200'], conn.text.slice(0, 300));
    assert.match(conn.text, /"status":"ok"/);
    conn.sock.destroy();
  });
});

describe('a live-feed subscriber that stops reading', () => {
  test('is not sent more than 256 KiB ahead: its messages are dropped and counted, a reading subscriber gets every one', async () => {
    const s = await login(main, 'leader');
    const op = await login(main, 'operator');
    // one subscriber that never reads (its socket paused), one that does
    const stalled = collect(await openConn(main, '127.0.0.1'));
    stalled.sock.write(`GET /api/v1/live HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\n\r\n`);
    const until = Date.now() + 3000;
    while (!/: connected/.test(stalled.text) && Date.now() < until) await sleep(20);
    assert.match(stalled.text, /: connected/);
    stalled.sock.pause();
    const reader = await openLive(main, '127.0.0.1', s.token);
    assert.equal(reader.status, 200);
    const metric = async (name) => {
      const text = await (await fetch(`${main.url}/metrics`)).text();
      return Number((text.match(new RegExp(`^${name} (\\S+)$`, 'm')) || [])[1] ?? NaN);
    };
    const dropped0 = await metric('cityops_live_dropped_total');
    // ~2.5 KB a message: 1,600 cases are ~4 MB for each subscriber, far more than the
    // kernel's socket buffers of a receiver that reads nothing, plus the 256 KiB
    const N = 1600;
    const tag = `backlog-${Date.now()}`;
    const long = '井盖破损，路面塌陷，存在安全隐患，请尽快处置。'.repeat(28); // ~2,000 bytes
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        const r = await api(main, 'POST', '/api/v1/cases', {
          token: op.token,
          body: { description: `${tag} ${i} ${long}`.slice(0, 680), category: 'C0101', location: { ...POINT_150102 } },
        });
        assert.equal(r.status, 201, r.text);
      }
    }));
    const seen = () => (reader.text.match(new RegExp(`${tag} \\d+`, 'g')) || []).length;
    const deadline = Date.now() + 20000;
    while (seen() < N && Date.now() < deadline) await sleep(50);
    assert.equal(seen(), N, 'the reading subscriber got every message');
    const dropped = (await metric('cityops_live_dropped_total')) - dropped0;
    assert.ok(dropped > 0, 'nothing was dropped for the subscriber that stopped reading');
    assert.ok(dropped < N, `dropped ${dropped}`);
    // what the stalled one is owed stays bounded: resumed, it reads far less than N messages
    stalled.text = '';
    stalled.sock.resume();
    await sleep(1500);
    const got = (stalled.text.match(new RegExp(`${tag} \\d+`, 'g')) || []).length;
    assert.ok(got + dropped <= N && got < N, `the stalled subscriber got ${got} after resuming, ${dropped} dropped`);
    reader.close();
    stalled.sock.destroy();
  });
});

// ------------------------------------------------------- rate limits

describe('per-IP rate limit of anonymous requests (2/s, burst 5)', () => {
  test('the sixth anonymous request at once gets 429 rate_limited with Retry-After; other addresses do not', async () => {
    const ip = freshIp();
    for (let i = 0; i < 5; i++) assert.equal((await req(rate, 'GET', '/api/v1/taxonomy', { ip })).status, 200, `#${i}`);
    const r = await req(rate, 'GET', '/api/v1/geocode?lon=111.6879&lat=40.8523', { ip });
    assert.equal(r.status, 429);
    assert.equal(errorCode(r), 'rate_limited');
    assert.ok(Number(r.headers['retry-after']) >= 1, r.headers['retry-after']);
    assert.match(r.json.error.message, /请求过于频繁/);
    // logins, citizens' reports and Open311 reads count too (Open311 answers in its own format)
    assert.equal((await loginFrom(rate, ip, 'operator')).status, 429);
    assert.equal((await req(rate, 'POST', '/api/v1/public/cases', { ip, body: { description: 'x' } })).status, 429);
    const o = await req(rate, 'GET', '/open311/v2/services.json', { ip });
    assert.equal(o.status, 429);
    assert.equal(o.json[0].code, 429);
    const x = await req(rate, 'GET', '/open311/v2/services.xml', { ip });
    assert.equal(x.status, 429);
    assert.match(x.text, /<errors><error><code>429<\/code>/);
    // health is never limited
    for (let i = 0; i < 10; i++) assert.equal((await req(rate, 'GET', '/api/v1/health', { ip })).status, 200);
    // another address has its own bucket
    const other = freshIp();
    assert.equal((await req(rate, 'GET', '/api/v1/taxonomy', { ip: other })).status, 200);
    // signed-in requests are not limited per IP
    const s = await loginFrom(rate, other, 'operator');
    assert.equal(s.status, 200);
    for (let i = 0; i < 10; i++)
      assert.equal((await req(rate, 'GET', '/api/v1/taxonomy', { ip, token: s.json.token })).status, 200);
    // after the wait a token is back
    await sleep(Number(r.headers['retry-after']) * 1000 + 100);
    assert.equal((await req(rate, 'GET', '/api/v1/taxonomy', { ip })).status, 200);
    assert.match(rate.log(), /rate limited" peer=127\.0\.0\.\d+/);
  });
});

describe('behind a trusted proxy the client is the last X-Forwarded-For address', () => {
  test('buckets per forwarded client; the header from anyone else is ignored; /metrics is not local', async () => {
    const xff = (a) => ({ 'X-Forwarded-For': a });
    // the client's own claim comes first, the proxy appends what it saw: the last counts
    for (let i = 0; i < 5; i++)
      assert.equal((await req(rate, 'GET', '/api/v1/taxonomy', { ip: PROXY, headers: xff(`1.2.3.4, 10.9.0.1`) })).status, 200);
    const r = await req(rate, 'GET', '/api/v1/taxonomy', { ip: PROXY, headers: xff('8.8.8.8, 10.9.0.1') });
    assert.equal(r.status, 429);
    // another client through the same proxy has its own bucket
    assert.equal((await req(rate, 'GET', '/api/v1/taxonomy', { ip: PROXY, headers: xff('10.9.0.2') })).status, 200);
    // a garbage header from the proxy: the proxy's own address counts
    assert.equal((await req(rate, 'GET', '/api/v1/taxonomy', { ip: PROXY, headers: xff('not-an-address') })).status, 200);
    // a client that is not the proxy cannot pick its bucket by sending the header
    const ip = freshIp();
    for (let i = 0; i < 5; i++)
      assert.equal((await req(rate, 'GET', '/api/v1/taxonomy', { ip, headers: xff(`10.9.1.${i}`) })).status, 200);
    assert.equal((await req(rate, 'GET', '/api/v1/taxonomy', { ip, headers: xff('10.9.1.99') })).status, 429);
    assert.match(rate.log(), /rate limited" peer=10\.9\.0\.1 /);
    assert.match(rate.log(), /msg=access .*peer=10\.9\.0\.2 proxy=127\.0\.1\.1/);
    // loopback scrapes /metrics without a login, but not what a proxy forwards
    assert.equal((await req(main, 'GET', '/metrics')).status, 200);
    const m = await req(main, 'GET', '/metrics', { headers: xff('203.0.113.5') });
    assert.ok(m.status === 401 || m.status === 403, String(m.status));
  });
});

// ------------------------------------------------------- login throttling

describe('login throttling (3 per user, 6 per IP, 1 s doubling)', () => {
  test('after 3 failures a user is refused for a growing delay, even with the right password; a success resets', async () => {
    const ip = freshIp();
    for (let i = 0; i < 3; i++) {
      const r = await loginFrom(slow, ip, 'operator', 'wrong');
      assert.equal(r.status, 401, `#${i}`);
      assert.equal(errorCode(r), 'bad_credentials');
    }
    let r = await loginFrom(slow, ip, 'operator', 'demo');
    assert.equal(r.status, 429);
    assert.equal(errorCode(r), 'login_throttled');
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(r.headers['set-cookie'], undefined);
    // the user is blocked from any address
    r = await loginFrom(slow, freshIp(), 'operator', 'demo');
    assert.equal(r.status, 429);
    // after the delay one more try; it fails: the delay doubles
    await sleep(1100);
    assert.equal((await loginFrom(slow, ip, 'operator', 'wrong')).status, 401);
    r = await loginFrom(slow, ip, 'operator', 'demo');
    assert.equal(r.status, 429);
    assert.equal(r.headers['retry-after'], '2');
    await sleep(2100);
    assert.equal((await loginFrom(slow, ip, 'operator', 'demo')).status, 200);
    // the success cleared the count: one failure is just a failure again
    assert.equal((await loginFrom(slow, ip, 'operator', 'wrong')).status, 401);
    assert.equal((await loginFrom(slow, ip, 'operator', 'demo')).status, 200);
  });

  test('unknown users are throttled the same way (no way to tell them apart)', async () => {
    const ip = freshIp();
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await loginFrom(slow, ip, 'no-such-user', 'x')).status);
    assert.deepEqual(codes, [401, 401, 401, 429]);
  });

  test('six failures from one address block that address for every user', async () => {
    const ip = freshIp();
    for (let i = 0; i < 6; i++) assert.equal((await loginFrom(slow, ip, `ghost-${i}`, 'x')).status, 401);
    const r = await loginFrom(slow, ip, 'dispatcher', 'demo');
    assert.equal(r.status, 429);
    assert.equal(errorCode(r), 'login_throttled');
    assert.equal((await loginFrom(slow, freshIp(), 'dispatcher', 'demo')).status, 200);
  });

  test('blocks are in the audit log', async () => {
    const admin = await loginFrom(slow, freshIp(), 'admin');
    const r = await req(slow, 'GET', '/api/v1/audit?limit=200', { token: admin.json.token });
    assert.equal(r.status, 200);
    const rows = r.json.items.filter((a) => a.action === 'login_throttled');
    assert.ok(rows.some((a) => a.actor === 'operator' && /user_fails=3/.test(a.detail)), JSON.stringify(rows));
    assert.ok(rows.some((a) => a.actor === 'no-such-user'));
    assert.ok(rows.some((a) => /ip_fails=6/.test(a.detail)));
    assert.ok(r.json.items.some((a) => a.action === 'login_failed'));
  });
});

// ------------------------------------------------------- sessions

describe('sessions', () => {
  test('a session expires after its lifetime (2 s here)', async () => {
    const r = await loginFrom(slow, freshIp(), 'leader');
    assert.equal(r.status, 200);
    assert.equal(r.json.expires_in, 2);
    assert.match(r.headers['set-cookie'][0], /Max-Age=2\b/);
    assert.equal((await req(slow, 'GET', '/api/v1/me', { token: r.json.token })).status, 200);
    await sleep(2200);
    const me = await req(slow, 'GET', '/api/v1/me', { token: r.json.token });
    assert.equal(me.status, 401);
    assert.equal(errorCode(me), 'unauthenticated');
  });

  test('an administrator revokes every session of a user; logout ends one', async () => {
    const admin = await login(main, 'admin');
    const a = await login(main, 'handler');
    const b = await login(main, 'handler');
    const other = await login(main, 'dispatcher');
    let r = await api(main, 'POST', '/api/v1/users/handler/revoke', { token: admin.token });
    assert.equal(r.status, 200);
    for (const s of [a, b]) {
      assert.equal((await api(main, 'GET', '/api/v1/me', { token: s.token })).status, 401);
      assert.equal((await api(main, 'GET', '/api/v1/me', { cookie: s.cookie })).status, 401);
    }
    assert.equal((await api(main, 'GET', '/api/v1/me', { token: other.token })).status, 200);
    const c = await login(main, 'handler'); // a new login works
    assert.equal((await api(main, 'GET', '/api/v1/me', { token: c.token })).status, 200);
    r = await api(main, 'POST', '/api/v1/logout', { token: c.token });
    assert.equal(r.status, 200);
    assert.equal((await api(main, 'GET', '/api/v1/me', { token: c.token })).status, 401);
  });
});

describe('sessions per user', () => {
  // CO_SESSION_PER_USER in src/http/session.h
  test('a user keeps at most 32 sessions: a login beyond them ends the oldest', async () => {
    const first = await login(main, 'shiftlead');
    await sleep(1100); // strictly older than the rest (expiry is kept in seconds)
    const rest = [];
    for (let i = 0; i < 32; i++) rest.push(await login(main, 'shiftlead'));
    const me = async (s) => (await api(main, 'GET', '/api/v1/me', { token: s.token })).status;
    let r = await api(main, 'GET', '/api/v1/me', { token: first.token });
    assert.equal(r.status, 401);
    assert.equal(errorCode(r), 'unauthenticated');
    for (const s of rest) assert.equal(await me(s), 200);
    // more logins in the same second: still 32, and the newest always among them
    const more = [];
    for (let i = 0; i < 3; i++) {
      more.push(await login(main, 'shiftlead'));
      assert.equal(await me(more[more.length - 1]), 200);
    }
    let alive = 0;
    for (const s of [...rest, ...more]) alive += (await me(s)) === 200 ? 1 : 0;
    assert.equal(alive, 32);
    // nobody else's sessions were touched
    const other = await login(main, 'dispatcher');
    assert.equal(await me(other), 200);
  });
});

describe('CSRF', () => {
  test('cookie sessions need their own X-CSRF-Token on unsafe methods; bearer tokens need none', async () => {
    const s = await login(main, 'operator');
    const png = { body: PNG_1x1, headers: { 'Content-Type': 'image/png' } };
    let r = await api(main, 'POST', '/api/v1/media', { cookie: s.cookie, ...png });
    assert.equal(r.status, 403);
    assert.equal(errorCode(r), 'csrf');
    r = await api(main, 'POST', '/api/v1/media', { cookie: s.cookie, csrf: 'x'.repeat(64), ...png });
    assert.equal(errorCode(r), 'csrf');
    r = await api(main, 'POST', '/api/v1/media', { cookie: s.cookie, csrf: s.csrf, ...png });
    assert.equal(r.status, 201);
    r = await api(main, 'POST', '/api/v1/media', { token: s.token, ...png });
    assert.equal(r.status, 201);
    // the cookie cannot be read by scripts nor sent cross-site
    assert.match(s.setCookie, /HttpOnly/);
    assert.match(s.setCookie, /SameSite=Strict/);
  });
});
