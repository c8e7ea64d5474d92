// lib.mjs — shared helpers for the HTTP tests (node:test, Node 20, global fetch).
//
// The demo city is built once per binary: `cityops demo --no-serve --cases 2000`
// into a temp dir keyed by the binary's mtime and size, reused by every test
// file (and by later runs with the same binary). Each test file then serves a
// fresh copy of it, so files never see each other's writes:
//
//   const srv = await startServer();          // copy, spawn, wait for health
//   const op = await login(srv, 'operator');  // {token, csrf, cookie, user}
//   const r = await api(srv, 'POST', '/api/v1/cases', {token: op.token, body: {...}});
//   await srv.stop();                          // SIGTERM, wait, remove the copy
//
// The binary is process.env.CITYOPS_BIN or bin/cityops (relative to the
// repository root). Files in this folder that do not end in .test.mjs are not
// run by `node --test`.
//
// With CITYOPS_TEST_PG set (a postgres:// URL of a database with PostGIS that
// may serve as a template, e.g. from scripts/pg-test-cluster.sh start), the
// store is PostgreSQL: the demo city is built into a database of its own, and
// each server gets a fresh copy of it (CREATE DATABASE … TEMPLATE), dropped
// when the server stops without keep. The data directory still holds media;
// its file store.url names the server's database (restarts reuse it).
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.resolve(ROOT, process.env.CITYOPS_BIN || 'bin/cityops');
export const PASSWORD = 'demo';
export const ROLES = ['admin', 'operator', 'inspector', 'shiftlead', 'dispatcher', 'handler', 'leader'];

// A point inside grid 150102001001084 (公主府社区, 海拉尔东路街道, 新城区):
// E0402 占道经营 routes there to D-CG-150102, the demo handler's department.
export const POINT_150102 = { lon: 111.6879, lat: 40.8523 };
export const GRID_150102 = '150102001001084';
// A point in 回民区 150103 (outside the inspector's and handler's scope).
export const DISTRICT_OTHER = '150103';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A small deterministic generator (mulberry32): a test that draws from it can
// be rerun with the seed it printed.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// The loop a case registered by the operator at POINT_150102 walks (E0402
// routes it to D-CG-150102, the demo handler's department): [action, role,
// params], and the demo roles that walk it.
export const CASE_LOOP = [
  ['file', 'shiftlead', {}],
  ['dispatch', 'dispatcher', {}],
  ['accept', 'handler', {}],
  ['handle', 'handler', {}],
  ['request_check', 'operator', {}],
  ['check_pass', 'inspector', {}],
  ['close', 'shiftlead', {}],
  ['visit', 'operator', { satisfaction: 'satisfied' }],
];
export const LOOP_USERS = ['admin', 'operator', 'shiftlead', 'dispatcher', 'handler', 'inspector'];

// ---- PostgreSQL mode (CITYOPS_TEST_PG)
export const PG_URL = process.env.CITYOPS_TEST_PG || '';

// The same server, database db.
function pgUrlOf(db) {
  const u = new URL(PG_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

// Runs one SQL statement in the maintenance database; throws on failure.
function pgAdmin(sql) {
  const r = spawnSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', pgUrlOf('postgres'), '-c', sql], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`psql failed: ${sql}: ${r.stderr}`);
}

function pgDatabaseExists(db) {
  const sql = `SELECT 1 FROM pg_database WHERE datname='${db}'`;
  const r = spawnSync('psql', ['-X', '-At', '-d', pgUrlOf('postgres'), '-c', sql], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === '1';
}

function pgDropQuietly(db) {
  try {
    pgAdmin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  } catch {
    /* best effort: the cluster is thrown away anyway */
  }
}

const pgTemplateName = () => new URL(PG_URL).pathname.replace(/^\//, '') || 'postgres';

// PostgreSQL mode: a new empty database (PostGIS ready) for a test that builds
// its own city, named after `name`; returns its URL and a function that drops
// it. Without CITYOPS_TEST_PG: null.
export function pgScratchDatabase(name) {
  if (!PG_URL) return null;
  const db = `${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}`;
  pgDropQuietly(db);
  pgAdmin(`CREATE DATABASE ${db} TEMPLATE ${pgTemplateName()}`);
  return { url: pgUrlOf(db), drop: () => pgDropQuietly(db) };
}

// ['--store', URL] when the data directory names its database, else [].
function storeArgs(dir) {
  const f = path.join(dir, 'store.url');
  return fs.existsSync(f) ? ['--store', fs.readFileSync(f, 'utf8').trim()] : [];
}

// The store options for a CLI command (`user`, `apikey`, `import`, `export`)
// that must act on the same store as a server: srv (from startServer) or a
// data directory. ['--store', URL] when the directory names its PostgreSQL
// database (CITYOPS_TEST_PG), else ['--data', DIR].
export function cliStoreArgs(srv) {
  const dir = typeof srv === 'string' ? srv : srv.dir;
  const pg = storeArgs(dir);
  return pg.length ? pg : ['--data', dir];
}

// city-<which binary>-<its mtime and size>: a rebuilt binary gets a new
// city; bin/cityops and build-san/cityops keep one each.
function binTag() {
  let h = 0;
  for (const ch of BIN) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
  return h.toString(16);
}

function cityKey() {
  const st = fs.statSync(BIN);
  let key = `${binTag()}-${Math.floor(st.mtimeMs)}-${st.size}`;
  if (PG_URL) {
    let h = 0;
    for (const ch of PG_URL) h = (Math.imul(h, 31) + ch.charCodeAt(0)) >>> 0;
    key += `-pg${h.toString(16)}`;
  }
  return key;
}

// The database of the demo city built for key (PostgreSQL mode).
const cityDb = (key) => `city_${key.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;

function removeQuietly(dir) {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

// Builds (or reuses) the pristine demo city for this binary; returns its dir.
export function demoCity() {
  const key = cityKey();
  const base = path.join(os.tmpdir(), 'cityops-httptest');
  fs.mkdirSync(base, { recursive: true });
  const dir = path.join(base, `city-${key}`);
  const ready = () => fs.existsSync(path.join(dir, '.ready')) && (!PG_URL || pgDatabaseExists(cityDb(key)));
  if (ready()) return dir;
  const lock = path.join(base, `lock-${key}`);
  for (let i = 0; ; i++) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      // another process builds it: wait for it (a stale lock dies after 5 min)
      if (ready()) return dir;
      const age = Date.now() - fs.statSync(lock).mtimeMs;
      if (age > 300000) removeQuietly(lock);
      else spawnSync('sleep', ['0.5']);
      if (i > 1200) throw new Error('timed out waiting for the demo city build lock');
    }
  }
  try {
    if (ready()) return dir;
    // older cities of older binaries go
    for (const name of fs.readdirSync(base))
      if (name.startsWith(`city-${binTag()}-`) && name !== `city-${key}`) removeQuietly(path.join(base, name));
    const tmp = `${dir}.tmp-${process.pid}`;
    removeQuietly(tmp);
    const store = [];
    if (PG_URL) {
      pgDropQuietly(cityDb(key));
      pgAdmin(`CREATE DATABASE ${cityDb(key)} TEMPLATE ${pgTemplateName()}`);
      store.push('--store', pgUrlOf(cityDb(key)));
    }
    const r = spawnSync(BIN, ['demo', '--data', tmp, '--no-serve', '--cases', '2000', ...store], {
      encoding: 'utf8',
      timeout: 900000, // generous: an ASan build on a busy machine takes minutes
    });
    if (r.status !== 0)
      throw new Error(`cityops demo failed (${r.status}): ${r.stderr?.slice(-2000)}`);
    fs.writeFileSync(path.join(tmp, '.ready'), key);
    removeQuietly(dir);
    fs.renameSync(tmp, dir);
    return dir;
  } finally {
    removeQuietly(lock);
  }
}

export function freePort() {
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

// Serves a fresh copy of the demo city on a free port — or, with `dir`, an
// existing data directory (a restart). `args`: more `serve` options (limits).
// stop({keep: true}) leaves the directory; kill() is SIGKILL (no shutdown at all).
export async function startServer({ threads = 2, dir: reuse, args = [] } = {}) {
  let dir = reuse;
  if (!dir) {
    const city = demoCity();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cityops-srv-'));
    fs.cpSync(city, dir, { recursive: true });
    if (PG_URL) {
      const db = `t_${path.basename(dir).replace(/[^a-z0-9]/gi, '_').toLowerCase()}`;
      pgAdmin(`CREATE DATABASE ${db} TEMPLATE ${cityDb(path.basename(city).slice(5))}`);
      fs.writeFileSync(path.join(dir, 'store.url'), pgUrlOf(db));
    }
  }
  const port = await freePort();
  const logPath = path.join(dir, 'server.log');
  const log = fs.openSync(logPath, 'a');
  const proc = spawn(
    BIN,
    ['serve', '--data', dir, '--listen', `127.0.0.1:${port}`, '--threads', String(threads), ...storeArgs(dir), ...args],
    { stdio: ['ignore', log, log] },
  );
  fs.closeSync(log);
  let exited = null;
  proc.on('exit', (code, signal) => {
    exited = { code, signal };
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30000;
  for (;;) {
    if (exited) throw new Error(`server exited early ${JSON.stringify(exited)}:\n${tail(logPath)}`);
    try {
      const r = await fetch(`${url}/api/v1/health`);
      if (r.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`server did not answer /api/v1/health:\n${tail(logPath)}`);
    }
    await sleep(50);
  }
  const srv = {
    url,
    port,
    dir,
    proc,
    logPath,
    get exited() {
      return exited;
    },
    log: () => tail(logPath, 20000),
    async stop({ keep = false, signal = 'SIGTERM' } = {}) {
      if (!exited) {
        proc.kill(signal);
        const until = Date.now() + 10000;
        while (!exited && Date.now() < until) await sleep(25);
        if (!exited) proc.kill('SIGKILL');
        while (!exited) await sleep(10);
      }
      // a sanitizer build reports memory errors, UB and leaks in the log: any is a failure
      const report = tail(logPath, 1 << 20).match(/(AddressSanitizer|LeakSanitizer|runtime error:)[^\n]*/);
      if (report) throw new Error(`sanitizer report in the server log: ${report[0]}\n${tail(logPath)}`);
      if (!keep && !process.env.KEEP_SERVER_DIR) {
        const store = storeArgs(dir)[1];
        if (store) pgDropQuietly(new URL(store).pathname.slice(1));
        removeQuietly(dir);
      }
      return exited;
    },
    kill() {
      return this.stop({ keep: true, signal: 'SIGKILL' });
    },
  };
  return srv;
}

function tail(file, n = 4000) {
  try {
    const s = fs.readFileSync(file, 'utf8');
    return s.slice(-n);
  } catch {
    return '';
  }
}

// One request. body: an object (sent as JSON), a string/Buffer (sent as is),
// or FormData. Returns {status, headers, text, json} (json null if not JSON).
export async function api(srv, method, p, { token, body, headers = {}, cookie, csrf } = {}) {
  const h = { ...headers };
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined && (typeof body === 'string' || Buffer.isBuffer(body))) {
    payload = body;
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type'))
      h['Content-Type'] = 'application/json';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h['Content-Type'] = 'application/json';
  }
  if (token) h.Authorization = `Bearer ${token}`;
  if (cookie) h.Cookie = cookie;
  if (csrf) h['X-CSRF-Token'] = csrf;
  const r = await fetch(srv.url + p, { method, headers: h, body: payload, redirect: 'manual' });
  const buf = Buffer.from(await r.arrayBuffer());
  const text = buf.toString('utf8');
  let json = null;
  if ((r.headers.get('content-type') || '').includes('json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = null;
    }
  }
  return { status: r.status, headers: r.headers, text, json, buf };
}

export async function login(srv, username, password = PASSWORD) {
  const r = await api(srv, 'POST', '/api/v1/login', { body: { username, password } });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
  const setCookie = r.headers.get('set-cookie') || '';
  const cookie = setCookie.split(';')[0];
  return { token: r.json.token, csrf: r.json.csrf, cookie, user: r.json.user, setCookie };
}

// Logs every demo account in once.
export async function loginAll(srv) {
  const out = {};
  for (const u of ROLES) out[u] = await login(srv, u);
  return out;
}

// Asserts the error shape every 4xx/5xx JSON reply must have; returns the code.
export function errorCode(r) {
  if (!r.json || typeof r.json.error !== 'object' || r.json.error === null)
    throw new Error(`not an error document (${r.status}): ${r.text.slice(0, 300)}`);
  const { code, message } = r.json.error;
  if (typeof code !== 'string' || !code || typeof message !== 'string' || !message)
    throw new Error(`bad error document: ${r.text.slice(0, 300)}`);
  return code;
}

// Registers a case as `who` (an operator session by default): E0402 at the
// 150102 point unless overridden.
export async function createCase(srv, token, extra = {}) {
  const body = {
    description: '路口早市占道经营，影响通行',
    category: 'E0402',
    location: { ...POINT_150102 },
    caller: { name: '张三', phone: '13812345678' },
    ...extra,
  };
  const r = await api(srv, 'POST', '/api/v1/cases', { token, body });
  if (r.status !== 201) throw new Error(`create case: ${r.status} ${r.text}`);
  return r.json;
}

export async function act(srv, token, id, action, body) {
  return api(srv, 'POST', `/api/v1/cases/${id}/actions/${action}`, { token, body });
}

// Takes an action that must succeed; returns the case view.
export async function step(srv, token, id, action, body) {
  const r = await act(srv, token, id, action, body);
  if (r.status !== 200) throw new Error(`${action} on ${id}: ${r.status} ${r.text}`);
  return r.json;
}

// Sends raw bytes on a new TCP connection; resolves with everything the
// server sent until it closed the connection or `ms` passed (never rejects:
// a reset connection resolves with what arrived, tagged with the error).
export function rawRequest(srv, bytes, ms = 3000) {
  return new Promise((resolve) => {
    const chunks = [];
    let done = false;
    const sock = net.connect(srv.port, '127.0.0.1');
    const finish = (tag = '') => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(Buffer.concat(chunks).toString('latin1') + tag);
    };
    const timer = setTimeout(() => finish(''), ms);
    sock.on('connect', () => sock.write(bytes));
    sock.on('data', (d) => {
      chunks.push(d);
      // one complete reply is enough: headers and a Content-Length body
      const got = Buffer.concat(chunks);
      const end = got.indexOf('\r\n\r\n');
      if (end < 0) return;
      const m = /\r\ncontent-length: *(\d+)/i.exec(got.subarray(0, end).toString('latin1'));
      if (m && got.length >= end + 4 + Number(m[1])) finish('');
    });
    sock.on('end', () => finish(''));
    sock.on('close', () => finish(''));
    sock.on('error', (e) => finish(`\n[${e.code || e.message}]`));
  });
}

// A valid 1×1 PNG (red pixel) and a tiny baseline JPEG.
export const PNG_1x1 = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108020000009077' +
    '53de0000000c49444154789c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082',
  'hex',
);
export const JPEG_TINY = Buffer.from(
  'ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c19' +
    '12130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b08' +
    '0001000101011100ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b510' +
    '0002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552' +
    'd1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465' +
    '666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8' +
    'b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda00080101' +
    '00003f00fbd3ffd9',
  'hex',
);
