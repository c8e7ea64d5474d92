// open311.test.mjs — black-box tests of Open311 GeoReport v2 (/open311/v2/)
// against the real binary: one group per section of the conformance
// checklist in docs/reference (A discovery … I extensions), every method in
// .xml and .json, every error path, plus the admin API for keys and the
// check that a request is the same case as any other (staff API, inbox,
// live feed). XML is checked for well-formedness with xmllint (libxml2) and
// read with a small element reader.
// Needs: CITYOPS_BIN (default bin/cityops), node >= 20, xmllint. Runs on
// PostgreSQL too (CITYOPS_TEST_PG, `make httptest-pg`).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { cliStoreArgs, pgScratchDatabase } from './lib.mjs';

const BIN = path.resolve(process.env.CITYOPS_BIN || 'bin/cityops');
const DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'cityops-open311-'));
let server;
let BASE; // http://127.0.0.1:PORT
let O; // BASE + /open311/v2
let KEY; // a key with a generous limit, created through the admin API
let adminToken;
let serverLog = ''; // the server's stderr: sanitizer reports fail the run

// ----------------------------------------------------------------- helpers

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitReady() {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(`${BASE}/api/v1/health`);
      if (r.ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not start');
}

async function req(method, url, { form, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (form !== undefined) {
    init.body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
    init.headers['Content-Type'] = 'application/x-www-form-urlencoded; charset=utf-8';
  } else if (body !== undefined) {
    init.body = body;
  }
  const r = await fetch(url.startsWith('http') ? url : O + url, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, text };
}

const get = (u, o) => req('GET', u, o);
const post = (u, form, o = {}) => req('POST', u, { ...o, form });

function json(r, status = 200) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
  return JSON.parse(r.text);
}

// well-formed XML (xmllint) with the declaration the spec asks for
function xml(r, status = 200) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.headers.get('content-type'), 'text/xml; charset=utf-8');
  assert.match(r.text, /^<\?xml version="1\.0" encoding="UTF-8"\?>/);
  const lint = spawnSync('xmllint', ['--noout', '-'], { input: r.text });
  assert.equal(lint.status, 0, `xmllint: ${lint.stderr}`);
  return r.text;
}

const unescape = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"')
  .replace(/&#(\d+);/g, (_, d) => String.fromCodePoint(+d)).replace(/&amp;/g, '&');
// inner texts of every <name>…</name> (name must not nest inside itself)
function tags(text, name) {
  const re = new RegExp(`<${name}(?:/>|>([\\s\\S]*?)</${name}>)`, 'g');
  return [...text.matchAll(re)].map((m) => unescape(m[1] ?? ''));
}
const tag = (text, name) => tags(text, name)[0];
const root = (text) => text.replace(/^<\?xml[^>]*\?>\s*/, '').match(/^<([a-z_]+)/)[1];

function xmlErrors(r, status) {
  const t = xml(r, status);
  assert.equal(root(t), 'errors');
  const codes = tags(t, 'code');
  assert.ok(codes.length >= 1);
  assert.equal(codes[0], String(status));
  assert.ok(tag(t, 'description').length > 0);
  return tags(t, 'description');
}

function jsonErrors(r, status) {
  const j = json(r, status);
  assert.ok(Array.isArray(j) && j.length >= 1);
  for (const e of j) {
    assert.equal(typeof e.code, 'number');
    assert.ok(typeof e.description === 'string' && e.description.length > 0);
  }
  assert.equal(j[0].code, status);
  return j.map((e) => e.description);
}

// checks an error in both formats: fn(fmt) → response
async function bothErrors(status, fn, match) {
  const dx = xmlErrors(await fn('xml'), status);
  const dj = jsonErrors(await fn('json'), status);
  if (match) {
    assert.ok(dx.some((d) => match.test(d)), dx.join(' | '));
    assert.ok(dj.some((d) => match.test(d)), dj.join(' | '));
  }
}

const W3C = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/;
const POINT = { lat: '40.7688364', long: '111.6692303' }; // inside the demo city

async function login(username) {
  const r = await fetch(`${BASE}/api/v1/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: 'demo' }),
  });
  assert.equal(r.status, 200);
  return (await r.json()).token;
}

async function api(method, p, token, body) {
  const r = await fetch(BASE + p, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null };
}

async function newKey(name, rate, burst) {
  const r = await api('POST', '/api/v1/apikeys', adminToken, { name, rate, burst });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body;
}

async function create(fields, fmt = 'json') {
  const r = await post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', ...POINT, ...fields });
  if (fmt === 'json') return { r, id: json(r, 201)[0].service_request_id };
  return { r, id: tag(xml(r, 201), 'service_request_id') };
}

// ------------------------------------------------------------------ set-up

// With CITYOPS_TEST_PG (make httptest-pg) the city lives in a database of its
// own on that server; store.url lets cliStoreArgs find it.
let pg = null;
let STORE = [];

before(async () => {
  pg = pgScratchDatabase('open311');
  if (pg) {
    STORE = ['--store', pg.url];
    fs.writeFileSync(path.join(DIR, 'store.url'), pg.url);
  }
  const built = spawnSync(BIN, ['demo', '--data', DIR, '--no-serve', '--cases', '500', ...STORE], { encoding: 'utf8' });
  assert.equal(built.status, 0, built.stderr);
  assert.match(built.stdout, /demo-key/); // the banner names the Open311 key
  if (pg) assert.ok(!fs.existsSync(path.join(DIR, 'cityops.db')), 'the city is in PostgreSQL, not in SQLite');
  const port = await freePort();
  BASE = `http://127.0.0.1:${port}`;
  O = `${BASE}/open311/v2`;
  server = spawn(BIN, ['serve', '--data', DIR, '--listen', `127.0.0.1:${port}`, ...STORE], { stdio: ['ignore', 'ignore', 'pipe'] });
  server.stderr.on('data', (d) => { serverLog += d; });
  await waitReady();
  adminToken = await login('admin');
  KEY = (await newKey('tests', 1000, 1000)).key;
});

after(async () => {
  if (server) {
    const done = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await done;
  }
  fs.rmSync(DIR, { recursive: true, force: true });
  if (pg) pg.drop();
  assert.doesNotMatch(serverLog, /AddressSanitizer|LeakSanitizer|runtime error:/, serverLog.slice(-4000));
});

// -------------------------------------------- A. discovery and transport

describe('A. discovery, transport, encoding', () => {
  test('discovery.xml and discovery.json carry every field', async () => {
    const t = xml(await get('/discovery.xml'));
    assert.equal(root(t), 'discovery');
    for (const f of ['changeset', 'contact', 'key_service']) assert.ok(tag(t, f), f);
    assert.match(tag(t, 'changeset'), W3C);
    assert.equal(tag(t, 'specification'), 'http://wiki.open311.org/GeoReport_v2');
    assert.equal(tag(t, 'url'), O);
    assert.equal(tag(t, 'type'), 'production');
    assert.deepEqual(tags(t, 'format'), ['text/xml', 'application/json']);
    const j = json(await get('/discovery.json'));
    assert.ok(j.changeset && j.contact && j.key_service);
    assert.ok(Array.isArray(j.endpoints) && j.endpoints.length === 1);
    const e = j.endpoints[0];
    assert.equal(e.specification, 'http://wiki.open311.org/GeoReport_v2');
    assert.equal(e.url, O);
    assert.ok(['production', 'test'].includes(e.type));
    assert.deepEqual(e.formats, ['text/xml', 'application/json']);
    assert.match(e.changeset, W3C);
  });

  test('responses allow cross-origin clients; OPTIONS answers the preflight', async () => {
    const r = await get('/services.json');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const p = await req('OPTIONS', '/requests.json');
    assert.equal(p.status, 204);
    assert.equal(p.headers.get('access-control-allow-methods'), 'GET, POST');
  });

  test('unknown format, unknown path and wrong method answer in the errors format', async () => {
    xmlErrors(await get('/services.csv'), 404);
    xmlErrors(await get('/services'), 404);
    xmlErrors(await get('/nothing.xml'), 404);
    jsonErrors(await get('/nothing/here.json'), 404);
    const m = await req('PUT', '/services.json');
    jsonErrors(m, 405);
    assert.equal(m.headers.get('allow'), 'GET');
    xmlErrors(await req('DELETE', '/requests.xml'), 405);
    // what is echoed back stays UTF-8 even when the path is not
    assert.match(jsonErrors(await get('/services/%FF%E4.json'), 404)[0], /\?/);
    xmlErrors(await get('/zz%FF.xml'), 404);
    xmlErrors(await get('/requests/%C0%AF.xml'), 404);
  });

  test('jurisdiction_id: this city or empty is accepted, another one is 404', async () => {
    for (const fmt of ['xml', 'json']) {
      assert.equal((await get(`/services.${fmt}?jurisdiction_id=hohhot.cityops`)).status, 200);
      assert.equal((await get(`/services.${fmt}?jurisdiction_id=`)).status, 200);
    }
    const paths = ['/discovery', '/services', '/services/C0101', '/requests', '/requests/2026010100001',
      '/tokens/abc', '/servicerequestupdates'];
    for (const p of paths) await bothErrors(404, (fmt) => get(`${p}.${fmt}?jurisdiction_id=sfgov.org`), /jurisdiction_id/);
    await bothErrors(404, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, jurisdiction_id: 'sfgov.org', service_code: 'C0101', ...POINT }), /jurisdiction_id/);
  });

  test('non-ASCII text survives POST → GET byte for byte in both formats', async () => {
    const text = 'Bærum 🚧 井盖丢了 <b>&amp;</b> "quoted"\r\nline 2';
    const { id } = await create({ description: text });
    const j = json(await get(`/requests/${id}.json`));
    assert.equal(j[0].description, text.replace(/\r\n/g, '\r\n'));
    const t = xml(await get(`/requests/${id}.xml`));
    // XML parsers normalise \r\n to \n; the text itself is intact
    assert.equal(tag(t, 'description').replace(/\r/g, ''), text.replace(/\r/g, ''));
  });
});

// ---------------------------------------------------- B. GET service list

describe('B. GET service list', () => {
  test('services in both formats: same list, every field, unique codes', async () => {
    const j = json(await get('/services.json'));
    assert.ok(Array.isArray(j) && j.length > 50);
    const codes = new Set();
    for (const s of j) {
      assert.match(s.service_code, /^[CE]\d{4}$/);
      assert.ok(!codes.has(s.service_code));
      codes.add(s.service_code);
      assert.ok(s.service_name && typeof s.description === 'string' && s.group);
      assert.equal(s.metadata, true);
      assert.equal(s.type, 'realtime');
      assert.equal(typeof s.keywords, 'string');
    }
    const t = xml(await get('/services.xml'));
    assert.equal(root(t), 'services');
    assert.equal(tags(t, 'service').length, j.length);
    assert.deepEqual(tags(t, 'service_code'), j.map((s) => s.service_code));
    assert.deepEqual(tags(t, 'metadata').slice(0, 2), ['true', 'true']);
    const c0101 = j.find((s) => s.service_code === 'C0101');
    assert.match(c0101.service_name, /上水井盖/);
  });
});

// ---------------------------------------------- C. GET service definition

describe('C. GET service definition', () => {
  test('attributes with datatypes, order, required and value lists', async () => {
    const j = json(await get('/services/C0101.json'));
    assert.equal(j.service_code, 'C0101');
    assert.ok(Array.isArray(j.attributes) && j.attributes.length >= 2);
    const orders = new Set();
    for (const a of j.attributes) {
      assert.equal(typeof a.variable, 'boolean');
      assert.ok(['string', 'number', 'datetime', 'text', 'singlevaluelist', 'multivaluelist'].includes(a.datatype));
      assert.equal(typeof a.required, 'boolean');
      assert.ok(Number.isInteger(a.order) && a.order >= 1 && !orders.has(a.order));
      orders.add(a.order);
      assert.equal(typeof a.datatype_description, 'string');
      assert.equal(typeof a.description, 'string');
      if (a.datatype.endsWith('valuelist')) assert.ok(a.values.length > 0 && a.values.every((v) => v.key && v.name));
    }
    const sev = j.attributes.find((a) => a.code === 'severity');
    assert.deepEqual(sev.values.map((v) => v.key), ['normal', 'urgent', 'critical']);
    assert.match(sev.values[1].name, /紧急/);
    const t = xml(await get('/services/E0101.xml'));
    assert.equal(root(t), 'service_definition');
    assert.equal(tag(t, 'service_code'), 'E0101');
    assert.equal(tags(t, 'attribute').length, j.attributes.length);
    assert.deepEqual(tags(t, 'key'), ['normal', 'urgent', 'critical']);
  });

  test('an unknown or malformed service_code is 404', async () => {
    await bothErrors(404, (fmt) => get(`/services/C9999.${fmt}`), /service_code/);
    await bothErrors(404, (fmt) => get(`/services/nope.${fmt}`));
    xmlErrors(await get('/services/C0101.csv'), 404);
  });
});

// ------------------------------------------------ D. POST service request

describe('D. POST service request', () => {
  test('without an api_key, or with a wrong one: 403', async () => {
    await bothErrors(403, (fmt) => post(`/requests.${fmt}`, { service_code: 'C0101', ...POINT }), /api_key/);
    await bothErrors(403, (fmt) => post(`/requests.${fmt}`, { api_key: 'wrong-key', service_code: 'C0101', ...POINT }), /api_key/);
    await bothErrors(403, (fmt) => post(`/requests.${fmt}`, { api_key: 'x', service_code: 'C0101', ...POINT }));
  });

  test('service_code missing is 400, unknown is 404', async () => {
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, ...POINT }), /service_code/);
    await bothErrors(404, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C9999', ...POINT }), /service_code/);
  });

  test('a location is required; lat without long (or the reverse) is not one', async () => {
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101' }), /location/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', lat: POINT.lat }), /lat and long/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', long: POINT.long }), /lat and long/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', lat: 'north', long: '1' }), /WGS84/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', lat: '10', long: '10' }), /outside the city/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', address_id: '999999' }), /address_id/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', address_string: 'nowhere at all' }), /address/);
  });

  test('each location form works on its own', async () => {
    const a = await create({});
    const j = json(await get(`/requests/${a.id}.json`))[0];
    assert.ok(Math.abs(j.lat - 40.7688364) < 1e-6 && Math.abs(j.long - 111.6692303) < 1e-6);
    assert.match(j.address_id, /^\d{15}$/);
    const b = await create({ lat: '', long: '', address_string: '华宇社区 菜市场门口' });
    const jb = json(await get(`/requests/${b.id}.json`))[0];
    assert.equal(jb.address, '华宇社区 菜市场门口');
    assert.ok(jb.lat > 40 && jb.lat < 42);
    const c = await create({ lat: '', long: '', address_id: j.address_id.slice(0, 12) }, 'xml');
    const tc = xml(await get(`/requests/${c.id}.xml`));
    assert.ok(tag(tc, 'address_id').startsWith(j.address_id.slice(0, 12)));
  });

  test('the reply: service_request_id (never with a token), notice, account_id; headers', async () => {
    const r = await post('/requests.json', { api_key: KEY, service_code: 'E0101', ...POINT, account_id: 'acc-7' });
    const j = json(r, 201);
    assert.equal(j.length, 1);
    assert.match(j[0].service_request_id, /^\d{13}$/);
    assert.equal(j[0].token, undefined);
    assert.equal(j[0].account_id, 'acc-7');
    assert.ok(j[0].service_notice.includes(j[0].service_request_id));
    assert.equal(r.headers.get('location'), `/open311/v2/requests/${j[0].service_request_id}.json`);
    assert.match(r.headers.get('x-open311-token'), /^[0-9a-f]{32}$/);
    const x = await post('/requests.xml', { api_key: KEY, service_code: 'E0101', ...POINT });
    const t = xml(x, 201);
    assert.equal(root(t), 'service_requests');
    assert.equal(tags(t, 'request').length, 1);
    assert.match(tag(t, 'service_request_id'), /^\d{13}$/);
    assert.equal(tags(t, 'token').length, 0);
  });

  test('every optional field is accepted and kept', async () => {
    const { id } = await create({
      description: 'manhole cover missing', email: 'li.lei@example.org', device_id: 'dev-42',
      account_id: 'acc-42', first_name: '雷', last_name: '李', phone: '13812345678',
      media_url: 'https://example.org/photo.jpg', 'attribute[severity]': 'critical',
      'attribute[note]': '东侧路口\n靠近公交站', 'attribute[fixmystreet_id]': '1234',
    });
    const j = json(await get(`/requests/${id}.json?extensions=true`))[0];
    assert.equal(j.description, 'manhole cover missing');
    assert.equal(j.media_url, 'https://example.org/photo.jpg');
    assert.equal(j.extended_attributes.severity, 'critical');
    const byCode = Object.fromEntries(j.attributes.map((a) => [a.code, a.value]));
    assert.equal(byCode.severity, 'critical');
    assert.equal(byCode.note, '东侧路口\n靠近公交站');
    assert.equal(byCode.fixmystreet_id, '1234');
    // staff see the caller and the attributes in the case
    const op = await login('operator');
    const c = await api('GET', `/api/v1/cases/${id}`, op);
    assert.equal(c.status, 200);
    assert.equal(c.body.caller.name, '李雷');
    assert.equal(c.body.caller.phone, '13812345678');
    assert.match(c.body.description, /东侧路口/);
    assert.match(c.body.description, /fixmystreet_id: 1234/);
  });

  test('attribute[code] and attribute[code][] (percent-encoded too) and their checks', async () => {
    const enc = new URLSearchParams({ api_key: KEY, service_code: 'C0101', ...POINT }).toString();
    const r = await post('/requests.json', `${enc}&attribute%5Bseverity%5D=urgent&attribute%5Btags%5D%5B%5D=a&attribute%5Btags%5D%5B%5D=b`);
    const id = json(r, 201)[0].service_request_id;
    const j = json(await get(`/requests/${id}.json?extensions=true`))[0];
    assert.equal(j.extended_attributes.severity, 'urgent');
    assert.deepEqual(j.attributes.find((a) => a.code === 'tags').value, ['a', 'b']);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', ...POINT, 'attribute[severity]': 'apocalyptic' }), /not one of the listed keys/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, `${enc}&attribute[severity][]=urgent&attribute[severity][]=normal`), /single value/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, `${enc}&attribute[sev=1`), /malformed attribute/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', ...POINT, 'attribute[note]': '长'.repeat(1001) }), /1000/);
  });

  test('description: 4,000 characters with line breaks accepted, 4,001 rejected', async () => {
    const long = ('井盖丢失。\n'.repeat(666) + '井盖丢失').slice(0, 4000);
    assert.equal([...long].length, 4000);
    const { id } = await create({ description: long });
    assert.equal(json(await get(`/requests/${id}.json`))[0].description, long);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', ...POINT, description: long + '多' }), /4000/);
  });

  test('bad contact fields are reported together', async () => {
    const r = await post('/requests.json', { api_key: KEY, service_code: 'C0101', lat: '40', email: 'not-an-address', media_url: 'ftp://x' });
    const d = jsonErrors(r, 400);
    assert.ok(d.length >= 3, d.join(' | '));
    assert.ok(d.some((x) => /lat and long/.test(x)) && d.some((x) => /email/.test(x)) && d.some((x) => /media_url/.test(x)));
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, { api_key: KEY, service_code: 'C0101', ...POINT, phone: 'call me' }), /phone/);
  });

  test('only form bodies in UTF-8', async () => {
    await bothErrors(400, (fmt) => req('POST', `/requests.${fmt}`, { body: '{}', headers: { 'Content-Type': 'application/json' } }), /x-www-form-urlencoded/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, `api_key=${KEY}&service_code=C0101&description=%FF%FE`), /UTF-8/);
    await bothErrors(400, (fmt) => post(`/requests.${fmt}`, `api_key=${KEY}&service_code=C0101&description=a%00b`), /UTF-8/);
  });

  test('a request is the same case as any other: channel open311, located, routed, in the inbox and the live feed', async () => {
    const lead = await login('shiftlead');
    const live = await fetch(`${BASE}/api/v1/live`, { headers: { Authorization: `Bearer ${lead}` } });
    assert.equal(live.status, 200);
    const reader = live.body.getReader();
    const { id } = await create({ description: '公交站旁井盖缺失', 'attribute[severity]': 'urgent' });
    let seen = '';
    const deadline = Date.now() + 5000;
    while (!seen.includes(id) && Date.now() < deadline) {
      const { value, done } = await Promise.race([
        reader.read(),
        new Promise((r) => setTimeout(() => r({ value: undefined, done: false }), 500)),
      ]);
      if (done) break;
      if (value) seen += new TextDecoder().decode(value);
    }
    await reader.cancel();
    assert.ok(seen.includes(id), 'the live feed announced the case');
    assert.match(seen, /"channel":"open311"/);
    const c = await api('GET', `/api/v1/cases/${id}`, lead);
    assert.equal(c.body.channel, 'open311');
    assert.equal(c.body.severity, 'urgent');
    assert.equal(c.body.category, 'C0101');
    assert.match(c.body.grid, /^\d{15}$/);
    assert.ok(c.body.routed_dept, 'routed to a department');
    const inbox = await api('GET', '/api/v1/cases?inbox=1&channel=open311&limit=500', lead);
    assert.ok(inbox.body.items.some((x) => x.number === id), 'in the shift lead\'s inbox');
  });
});

// ---------------------------------------------------------- E. GET token

describe('E. GET service_request_id from a token', () => {
  test('the token issued with a request resolves to its id in both formats', async () => {
    const r = await post('/requests.json', { api_key: KEY, service_code: 'C0102', ...POINT });
    const id = json(r, 201)[0].service_request_id;
    const token = r.headers.get('x-open311-token');
    const j = json(await get(`/tokens/${token}.json`));
    assert.deepEqual(j, [{ service_request_id: id, token }]);
    const t = xml(await get(`/tokens/${token}.xml`));
    assert.equal(root(t), 'service_requests');
    assert.equal(tag(t, 'service_request_id'), id);
    assert.equal(tag(t, 'token'), token);
  });

  test('an unknown token is 404', async () => {
    await bothErrors(404, (fmt) => get(`/tokens/0123456789abcdef0123456789abcdef.${fmt}`), /token/);
    await bothErrors(404, (fmt) => get(`/tokens/not-a-token.${fmt}`), /token/);
  });
});

// ------------------------------------------------- F. GET service requests

describe('F. GET service requests', () => {
  const FIELDS = ['service_request_id', 'status', 'status_notes', 'service_name', 'service_code', 'description',
    'agency_responsible', 'service_notice', 'requested_datetime', 'updated_datetime', 'address', 'address_id',
    'zipcode', 'lat', 'long', 'media_url'];

  test('no parameters: the last 90 days, at most 1000, every field, W3C dates', async () => {
    const j = json(await get('/requests.json'));
    assert.ok(Array.isArray(j) && j.length > 0 && j.length <= 1000);
    const cutoff = Date.now() - 90 * 86400e3 - 60e3;
    for (const q of j) {
      for (const f of FIELDS) assert.ok(f in q, `${f} in ${q.service_request_id}`);
      assert.ok(['open', 'closed'].includes(q.status));
      assert.match(q.requested_datetime, W3C);
      assert.match(q.updated_datetime, W3C);
      if (q.expected_datetime) assert.match(q.expected_datetime, W3C);
      assert.ok(Date.parse(q.requested_datetime) >= cutoff);
      assert.ok(Date.parse(q.updated_datetime) >= Date.parse(q.requested_datetime));
      assert.ok(q.lat >= -90 && q.lat <= 90 && q.long >= -180 && q.long <= 180);
      assert.equal(typeof q.service_request_id, 'string');
      assert.equal(typeof q.service_code, 'string');
    }
    const t = xml(await get('/requests.xml'));
    assert.equal(root(t), 'service_requests');
    assert.equal(tags(t, 'request').length, j.length);
    for (const d of tags(t, 'requested_datetime')) assert.match(d, W3C);
  });

  test('closed requests have status notes from public notes; open ones an agency', async () => {
    const j = json(await get('/requests.json?status=closed'));
    assert.ok(j.length > 0);
    assert.ok(j.some((q) => q.status_notes.length > 0));
    assert.ok(j.every((q) => !q.expected_datetime));
    const o = json(await get('/requests.json?status=open'));
    assert.ok(o.every((q) => q.status === 'open'));
  });

  test('status filters and their errors', async () => {
    const all = json(await get('/requests.json'));
    const open = json(await get('/requests.json?status=open'));
    const closed = json(await get('/requests.json?status=closed'));
    assert.ok(open.every((q) => q.status === 'open'));
    assert.ok(closed.every((q) => q.status === 'closed'));
    assert.equal(open.length + closed.length, all.length);
    assert.equal(json(await get('/requests.json?status=open,closed')).length, all.length);
    assert.equal(json(await get('/requests.json?status=')).length, all.length); // empty = absent
    const tx = xml(await get('/requests.xml?status=closed'));
    assert.ok(tags(tx, 'status').every((s) => s === 'closed'));
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?status=pending`), /status/);
  });

  test('service_code: one, a comma list or repeated', async () => {
    await create({}); // a C0101 for sure
    const one = json(await get('/requests.json?service_code=C0101'));
    assert.ok(one.length > 0 && one.every((q) => q.service_code === 'C0101'));
    const two = json(await get('/requests.json?service_code=C0101,E0101'));
    assert.ok(two.every((q) => ['C0101', 'E0101'].includes(q.service_code)));
    const rep = json(await get('/requests.json?service_code=C0101&service_code=E0101'));
    assert.deepEqual(rep.map((q) => q.service_request_id), two.map((q) => q.service_request_id));
    const tx = xml(await get('/requests.xml?service_code=C0101'));
    assert.ok(tags(tx, 'service_code').every((c) => c === 'C0101'));
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?service_code=garbage`), /service_code/);
  });

  test('start_date and end_date', async () => {
    const end = new Date(Date.now() - 30 * 86400e3);
    const start = new Date(end.getTime() - 60 * 86400e3);
    const q = `start_date=${start.toISOString()}&end_date=${end.toISOString()}`;
    const j = json(await get(`/requests.json?${q}`));
    assert.ok(j.length > 0);
    for (const r of j) {
      const t = Date.parse(r.requested_datetime);
      assert.ok(t >= start.getTime() - 1000 && t <= end.getTime() + 1000);
    }
    const tx = xml(await get(`/requests.xml?${q}`));
    assert.equal(tags(tx, 'request').length, j.length);
    // with an offset instead of Z
    assert.equal(json(await get(`/requests.json?start_date=${encodeURIComponent('2026-01-01T00:00:00+08:00')}&end_date=${encodeURIComponent('2026-02-01T00:00:00+08:00')}`)).length >= 0, true);
    const wide = `start_date=${new Date(Date.now() - 200 * 86400e3).toISOString()}&end_date=${new Date().toISOString()}`;
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?${wide}`), /90 days/);
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?start_date=yesterday`), /start_date/);
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?start_date=${end.toISOString()}&end_date=${start.toISOString()}`), /before/);
  });

  test('service_request_id overrides every other argument', async () => {
    const old = json(await get(`/requests.json?start_date=${new Date(Date.now() - 400 * 86400e3).toISOString()}&end_date=${new Date(Date.now() - 320 * 86400e3).toISOString()}`));
    assert.ok(old.length >= 2, 'the demo history reaches back a year');
    const ids = [old[0].service_request_id, old[1].service_request_id];
    const { id } = await create({});
    const j = json(await get(`/requests.json?service_request_id=${ids.join(',')},${id}&status=closed&service_code=E9999&start_date=2020-01-01T00:00:00Z&end_date=2020-01-02T00:00:00Z`));
    assert.deepEqual(j.map((q) => q.service_request_id), [...ids, id]);
    const tx = xml(await get(`/requests.xml?service_request_id=${ids[0]}`));
    assert.deepEqual(tags(tx, 'service_request_id'), [ids[0]]);
    assert.deepEqual(json(await get('/requests.json?service_request_id=2000010100001')), []);
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?service_request_id=12,34`), /case numbers of 13-15 digits/);
  });
});

// ------------------------------------------------------ G. one request

describe('G. GET service request', () => {
  test('one request in the list wrapper, both formats', async () => {
    const { id } = await create({ description: 'one' });
    const j = json(await get(`/requests/${id}.json`));
    assert.ok(Array.isArray(j) && j.length === 1);
    assert.equal(j[0].service_request_id, id);
    assert.equal(j[0].status, 'open');
    assert.equal(j[0].service_code, 'C0101');
    assert.equal(j[0].description, 'one');
    assert.match(j[0].expected_datetime, W3C);
    const t = xml(await get(`/requests/${id}.xml`));
    assert.equal(root(t), 'service_requests');
    assert.equal(tags(t, 'request').length, 1);
    assert.equal(tag(t, 'status'), 'open');
  });

  test('an unknown or malformed id is 404', async () => {
    await bothErrors(404, (fmt) => get(`/requests/2000010100001.${fmt}`), /not found/);
    await bothErrors(404, (fmt) => get(`/requests/abc.${fmt}`));
  });
});

// ---------------------------------------------------- H. errors and keys

describe('H. errors, API keys and rate limits', () => {
  test('a key over its limit gets 429 with Retry-After, in the errors format', async () => {
    const slow = (await newKey('slow-client', 0.5, 2)).key;
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await post('/requests.json', { api_key: slow, service_code: 'C9999' })).status);
    assert.deepEqual(codes, [404, 404, 429]);
    const r = await post('/requests.xml', { api_key: slow, service_code: 'C0101' });
    xmlErrors(r, 429);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
  });

  test('admins manage keys; a revoked key is refused at once', async () => {
    const created = await newKey('to-revoke', 0, 0);
    assert.match(created.key, /^o311_[0-9a-f]{40}$/);
    const list = await api('GET', '/api/v1/apikeys', adminToken);
    assert.equal(list.status, 200);
    const row = list.body.items.find((k) => k.name === 'to-revoke');
    assert.ok(row && !row.revoked && !('key' in row) && row.prefix.startsWith('o311_'));
    assert.ok(list.body.items.some((k) => k.name === 'demo'));
    assert.equal(list.body.settings.jurisdiction_id, 'hohhot.cityops');
    assert.equal((await post('/requests.json', { api_key: created.key, service_code: 'C9999' })).status, 404);
    assert.equal((await api('POST', '/api/v1/apikeys', adminToken, { name: 'to-revoke' })).status, 409);
    assert.equal((await api('POST', '/api/v1/apikeys', adminToken, { name: '' })).status, 400);
    const del = await api('DELETE', `/api/v1/apikeys/${created.id}`, adminToken);
    assert.equal(del.status, 200);
    assert.equal((await api('DELETE', '/api/v1/apikeys/999999', adminToken)).status, 404);
    jsonErrors(await post('/requests.json', { api_key: created.key, service_code: 'C0101', ...POINT }), 403);
    const op = await login('operator');
    assert.equal((await api('GET', '/api/v1/apikeys', op)).status, 403);
    assert.equal((await fetch(`${BASE}/api/v1/apikeys`)).status, 401);
  });

  test('demo-key works', async () => {
    const r = await post('/requests.json', { api_key: 'demo-key', service_code: 'E0101', ...POINT, jurisdiction_id: 'hohhot.cityops' });
    json(r, 201);
  });

  test('the CLI adds and lists keys', () => {
    const add = spawnSync(BIN, ['apikey', 'add', 'cli-client', ...cliStoreArgs(DIR)], { encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout.trim(), /^o311_[0-9a-f]{40}$/);
    const list = spawnSync(BIN, ['apikey', 'list', ...cliStoreArgs(DIR)], { encoding: 'utf8' });
    assert.equal(list.status, 0);
    assert.match(list.stdout, /cli-client/);
    assert.ok(!list.stdout.includes(add.stdout.trim()), 'keys are never listed');
    const dup = spawnSync(BIN, ['apikey', 'add', 'cli-client', ...cliStoreArgs(DIR)], { encoding: 'utf8' });
    assert.equal(dup.status, 1);
  });
});

// ------------------------------------------------------- I. extensions

describe('I. extensions', () => {
  test('page and page_size give disjoint, stable pages', async () => {
    const all = json(await get('/requests.json?page_size=1000'));
    const p1 = json(await get('/requests.json?page=1&page_size=10'));
    const p2 = json(await get('/requests.json?page=2&page_size=10'));
    assert.equal(p1.length, 10);
    assert.deepEqual(p1.map((q) => q.service_request_id), all.slice(0, 10).map((q) => q.service_request_id));
    assert.deepEqual(p2.map((q) => q.service_request_id), all.slice(10, 20).map((q) => q.service_request_id));
    const tx = xml(await get('/requests.xml?page=2&page_size=10'));
    assert.deepEqual(tags(tx, 'service_request_id'), p2.map((q) => q.service_request_id));
    assert.deepEqual(json(await get('/requests.json?page=1000&page_size=1000')), []);
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?page_size=1001`), /page_size/);
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?page=0`), /page/);
  });

  test('updated_after and updated_before filter on updated_datetime', async () => {
    const since = new Date(Date.now() - 2000).toISOString();
    const { id } = await create({});
    const j = json(await get(`/requests.json?updated_after=${since}`));
    assert.ok(j.some((q) => q.service_request_id === id));
    assert.ok(j.every((q) => Date.parse(q.updated_datetime) >= Date.parse(since) - 1000));
    const before = json(await get(`/requests.json?updated_before=${since}`));
    assert.ok(!before.some((q) => q.service_request_id === id));
    xml(await get(`/requests.xml?updated_after=${since}`));
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?updated_after=soon`), /updated_after/);
  });

  test('bbox keeps requests inside the box', async () => {
    const box = [111.66, 40.76, 111.68, 40.78];
    await create({});
    const j = json(await get(`/requests.json?bbox=${box.join(',')}`));
    assert.ok(j.length > 0);
    assert.ok(j.every((q) => q.long >= box[0] && q.long <= box[2] && q.lat >= box[1] && q.lat <= box[3]));
    xml(await get(`/requests.xml?bbox=${box.join(',')}`));
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?bbox=1,2,3`), /bbox/);
    await bothErrors(400, (fmt) => get(`/requests.${fmt}?bbox=112,41,111,40`), /bbox/);
  });

  test('extensions=true adds attributes, extended_attributes and notes', async () => {
    const j = json(await get('/requests.json?status=closed&extensions=true&page_size=5'));
    assert.ok(j.length > 0);
    for (const q of j) {
      assert.ok(Array.isArray(q.attributes) && q.attributes.some((a) => a.code === 'severity'));
      assert.ok(q.extended_attributes.channel && q.extended_attributes.district);
      assert.ok(Array.isArray(q.notes) && q.notes[0].type === 'submitted');
      assert.ok(q.notes.some((n) => ['close', 'answer', 'void', 'merge'].includes(n.type)));
      for (const n of q.notes) assert.match(n.datetime, W3C);
      const times = q.notes.map((n) => n.datetime);
      assert.deepEqual(times, [...times].sort());
    }
    const t = xml(await get('/requests.xml?status=closed&extensions=true&page_size=5'));
    assert.ok(tags(t, 'note').length > 0 && tags(t, 'extended_attributes').length === 5);
    const plain = json(await get('/requests.json?page_size=1'));
    assert.equal(plain[0].notes, undefined);
  });

  test('FixMyStreet: GET servicerequestupdates in a window, both formats', async () => {
    const end = new Date();
    const start = new Date(end.getTime() - 7 * 86400e3);
    const q = `start_date=${start.toISOString()}&end_date=${end.toISOString()}`;
    const j = json(await get(`/servicerequestupdates.json?${q}`));
    assert.ok(Array.isArray(j) && j.length > 0);
    for (const u of j) {
      assert.match(u.update_id, /^\d+$/);
      assert.match(u.service_request_id, /^\d{13}$/);
      assert.ok(['open', 'closed'].includes(u.status));
      assert.match(u.updated_datetime, W3C);
      const t = Date.parse(u.updated_datetime);
      assert.ok(t >= start.getTime() - 1000 && t <= end.getTime() + 1000);
      assert.ok(u.description.length > 0);
      assert.equal(typeof u.media_url, 'string');
    }
    const t = xml(await get(`/servicerequestupdates.xml?${q}`));
    assert.equal(root(t), 'service_request_updates');
    assert.equal(tags(t, 'request_update').length, j.length);
    json(await get('/servicerequestupdates.json')); // the last day by default
    await bothErrors(400, (fmt) => get(`/servicerequestupdates.${fmt}?start_date=bad`), /start_date/);
    await bothErrors(400, (fmt) => get(`/servicerequestupdates.${fmt}?start_date=2025-01-01T00:00:00Z&end_date=2025-12-01T00:00:00Z`), /90 days/);
  });

  test('FixMyStreet: POST servicerequestupdates stores a comment once', async () => {
    const { id } = await create({});
    const upd = { api_key: KEY, service_request_id: id, update_id: 'fms-100', updated_datetime: new Date().toISOString(),
      status: 'OPEN', description: '还没修好 / still broken', first_name: 'Li', email: 'li@example.org' };
    const r = await post('/servicerequestupdates.json', upd);
    const j = json(r, 200);
    assert.match(j[0].update_id, /^\d+$/);
    const t = xml(await post('/servicerequestupdates.xml', { ...upd, update_id: 'fms-101', status: 'CLOSED' }));
    assert.equal(root(t), 'service_request_updates');
    assert.match(tag(t, 'update_id'), /^\d+$/);
    await bothErrors(400, (fmt) => post(`/servicerequestupdates.${fmt}`, upd), /already exists/);
    await bothErrors(403, (fmt) => post(`/servicerequestupdates.${fmt}`, { ...upd, api_key: 'nope-nope' }), /api_key/);
    await bothErrors(404, (fmt) => post(`/servicerequestupdates.${fmt}`, { ...upd, update_id: 'x1', service_request_id: '2000010100001' }), /not found/);
    const missing = jsonErrors(await post('/servicerequestupdates.json', { api_key: KEY }), 400);
    assert.equal(missing.length, 5);
    await bothErrors(400, (fmt) => post(`/servicerequestupdates.${fmt}`, { ...upd, update_id: 'x2', status: 'MAYBE' }), /status/);
    const q = json(await get(`/requests/${id}.json?extensions=true`))[0];
    const comments = q.notes.filter((n) => n.type === 'comment');
    assert.equal(comments.length, 2);
    assert.equal(comments[0].description, '还没修好 / still broken');
    // staff see both updates in the case's own history, as notes by the client
    const op = await login('operator');
    let notes = [];
    for (let i = 0; i < 50 && notes.length < 2; i++) {
      const ev = await api('GET', `/api/v1/cases/${id}/events`, op);
      notes = ev.body.events.filter((e) => e.action === 'comment');
      if (notes.length < 2) await new Promise((res) => setTimeout(res, 20));
    }
    assert.equal(notes.length, 2);
    assert.match(notes[0].actor, /^open311:/);
    assert.equal(notes[0].data.note, '[Open311 open] 还没修好 / still broken');
  });
});
