// durability.test.mjs — crash durability: nothing acknowledged is lost, and
// nothing unacknowledged is half there, when the server is killed with
// SIGKILL at random moments under concurrent writes.
//
// One data directory (a copy of the HTTP tests' demo city) lives through
// ROUNDS rounds of: serve it; CLIENTS concurrent clients register cases
// (POST /api/v1/cases) and walk their own cases along the workflow loop
// (POST /api/v1/cases/{id}/actions/{action}), each request carrying a unique
// tag (the description of a new case, the note of an action); after a random
// delay the server is killed with SIGKILL; `cityops check` must find the store
// sound (integrity, every case row = the replay of its events, gap-free event
// sequence, unique numbers); the server is restarted and what it serves is
// compared with what the clients were told:
//   - every case acknowledged with 201 is there, with its number, and its
//     events are: register, then every action acknowledged with 200, in order;
//   - a request cut off by the kill (no reply) is either fully there or not at
//     all: an action appears at most once, right after the acknowledged ones;
//     a registration cut off is found once (as a sound case) or not at all;
//   - no case of this run exists that no client asked for.
// A client that sees its request cut off stops for the round; cut-off
// requests that turn out committed are adopted, so the next round goes on from
// the true state. Any reply other than 201/200 fails the test.
//
// Environment: CITYOPS_BIN (the binary), DURABILITY_ROUNDS (default 20),
// DURABILITY_CLIENTS (default 8), DURABILITY_SEED (default: random; printed;
// the same seed gives the same kill delays and client choices — what the
// server has answered when the kill comes still depends on timing),
// DURABILITY_REPORT (a path: the figures of the run are written there as JSON).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {
  BIN,
  CASE_LOOP as LOOP,
  LOOP_USERS as USERS,
  POINT_150102,
  api,
  login,
  rng,
  startServer,
} from '../http/lib.mjs';

const ROUNDS = Number(process.env.DURABILITY_ROUNDS || 20);
const CLIENTS = Number(process.env.DURABILITY_CLIENTS || 8);
const SEED = Number(process.env.DURABILITY_SEED || Math.floor(Math.random() * 2 ** 31));
const KILL_MIN_MS = 80;
const KILL_MAX_MS = 1200;
const SAMPLE_OLD = 60; // older cases re-verified each round besides the touched ones

// kill delays and sampling from one stream; each client (per round) its own
const rand = rng(SEED);
const clientRand = (round, id) => rng((SEED ^ Math.imul(round, 7919)) + id);


const RUN = `dur${SEED.toString(36)}`;

// Everything the clients were told, and what is still open.
const cases = new Map(); // id -> {id, number, tag, notes: [acked action notes], step, inflight}
const pendingCreates = []; // tags of registrations cut off by a kill, not yet resolved
const stats = {
  seed: SEED,
  rounds: 0,
  clients: CLIENTS,
  acked_cases: 0,
  acked_actions: 0,
  cut_creates: 0,
  cut_creates_committed: 0,
  cut_actions: 0,
  cut_actions_committed: 0,
  kill_ms: [],
  cut_off_per_round: [], // requests that got no reply because of the kill
  round_seconds: [],
  check_seconds: [],
  verified_case_reads: 0,
  final_cases: 0,
  final_events: 0,
};

class CutOff extends Error {}

// One request; a reply other than `want` fails the test, no reply is CutOff.
async function call(srv, method, path, token, body, want) {
  let r;
  try {
    r = await api(srv, method, path, { token, body });
  } catch (e) {
    throw new CutOff(String(e?.cause?.code || e?.message || e));
  }
  if (r.status !== want) throw new Error(`${method} ${path}: ${r.status} ${r.text.slice(0, 400)}`);
  return r.json;
}

async function createOne(srv, tokens, tag) {
  const body = {
    description: `耐久测试 durability ${tag}`,
    category: 'E0402',
    location: { ...POINT_150102 },
    caller: { name: '耐久', phone: '13800000000' },
  };
  const c = await call(srv, 'POST', '/api/v1/cases', tokens.operator, body, 201);
  assert.ok(c.id > 0 && c.number, `201 without id/number: ${JSON.stringify(c).slice(0, 200)}`);
  assert.ok(!cases.has(c.id), `case id ${c.id} acknowledged twice`);
  const kase = { id: c.id, number: c.number, tag, notes: [], step: 0, inflight: null };
  cases.set(c.id, kase);
  stats.acked_cases++;
  return kase;
}

async function advance(srv, tokens, kase, tag) {
  const [action, user, extra] = LOOP[kase.step];
  kase.inflight = { action, note: tag };
  const c = await call(
    srv,
    'POST',
    `/api/v1/cases/${kase.id}/actions/${action}`,
    tokens[user],
    { ...extra, note: tag },
    200,
  );
  kase.inflight = null;
  assert.equal(c.id, kase.id);
  kase.notes.push(tag);
  kase.step++;
  stats.acked_actions++;
}

// One client: its own cases only, so its actions never race another's.
async function client(srv, tokens, round, id, stop, mine) {
  let n = 0;
  const random = clientRand(round, id);
  const run = async () => {
    while (!stop.killed) {
      const open = mine.filter((k) => k.step < LOOP.length && !k.inflight);
      const tag = `${RUN}-r${round}-c${id}-${n++}`;
      try {
        if (!open.length || random() < 0.35) {
          try {
            mine.push(await createOne(srv, tokens, tag));
          } catch (e) {
            if (e instanceof CutOff) {
              pendingCreates.push(tag);
              stats.cut_creates++;
            }
            throw e;
          }
        } else {
          const k = open[Math.floor(random() * open.length)];
          try {
            await advance(srv, tokens, k, tag);
          } catch (e) {
            if (e instanceof CutOff) stats.cut_actions++;
            throw e;
          }
        }
      } catch (e) {
        if (e instanceof CutOff) return; // the server is gone: this client is done
        throw e;
      }
    }
  };
  return { done: run() };
}

// Reads a case and its events as admin and compares them with what the
// clients were told; adopts a committed cut-off action.
async function verifyCase(srv, tokens, kase) {
  const ev = await call(srv, 'GET', `/api/v1/cases/${kase.id}/events`, tokens.admin, undefined, 200);
  const view = await call(srv, 'GET', `/api/v1/cases/${kase.id}`, tokens.admin, undefined, 200);
  stats.verified_case_reads++;
  assert.equal(ev.number, kase.number, `case ${kase.id}: number changed`);
  assert.equal(view.number, kase.number);
  const events = ev.events;
  assert.ok(events.length >= 1, `case ${kase.number}: no events`);
  assert.equal(events[0].action, 'register', `case ${kase.number}: first event ${events[0].action}`);
  assert.ok(
    String(events[0].data?.case?.description || '').includes(kase.tag),
    `case ${kase.number}: register event is not ours`,
  );
  const notes = events.slice(1).map((e) => e.data?.note);
  const acked = kase.notes;
  assert.deepEqual(notes.slice(0, acked.length), acked, `case ${kase.number}: acknowledged actions lost or reordered`);
  const extra = notes.slice(acked.length);
  if (kase.inflight) {
    // the cut-off action: committed once, or not at all
    assert.ok(
      extra.length === 0 || (extra.length === 1 && extra[0] === kase.inflight.note),
      `case ${kase.number}: unexpected events after the acknowledged ones: ${JSON.stringify(extra)}`,
    );
    if (extra.length === 1) {
      assert.equal(events[events.length - 1].action, kase.inflight.action);
      kase.notes.push(kase.inflight.note);
      kase.step++;
      stats.cut_actions_committed++;
    }
    kase.inflight = null;
  } else {
    assert.deepEqual(extra, [], `case ${kase.number}: events nobody acknowledged or sent`);
  }
  // the row is the fold of the events: its state is the last event's
  const last = events[events.length - 1];
  assert.equal(view.state, last.to, `case ${kase.number}: state ${view.state} but last event → ${last.to}`);
}

// Every case of this run the server knows (paged by the id cursor).
async function casesOfRun(srv, tokens) {
  const out = [];
  let before = 0;
  for (;;) {
    const q = `/api/v1/cases?q=${encodeURIComponent(RUN)}&limit=500${before ? `&before=${before}` : ''}`;
    const page = await call(srv, 'GET', q, tokens.admin, undefined, 200);
    out.push(...page.items);
    if (!page.next || !page.items.length) break;
    before = page.next;
  }
  return out;
}

// Resolves registrations cut off by the kill: found once (adopted) or absent.
async function resolveCreates(srv, tokens) {
  const all = await casesOfRun(srv, tokens);
  const byTag = new Map();
  for (const c of all) {
    const m = /durability (\S+)/.exec(c.description || '');
    assert.ok(m, `case ${c.number} of this run without a tag`);
    assert.ok(!byTag.has(m[1]), `tag ${m[1]} registered twice`);
    byTag.set(m[1], c);
  }
  for (const tag of pendingCreates.splice(0)) {
    const c = byTag.get(tag);
    if (!c) continue;
    assert.ok(!cases.has(c.id), `cut-off registration ${tag} has the id of an acknowledged case`);
    cases.set(c.id, { id: c.id, number: c.number, tag, notes: [], step: 0, inflight: null });
    stats.cut_creates_committed++;
  }
  // nothing of this run that no client sent
  for (const [tag, c] of byTag)
    assert.ok(cases.has(c.id) && cases.get(c.id).tag === tag, `case ${c.number} (${tag}) was never sent`);
  assert.equal(byTag.size, cases.size, 'cases of this run: served vs known');
}

async function verifyAll(srv, tokens, list) {
  const queue = [...list];
  const workers = Array.from({ length: 6 }, async () => {
    while (queue.length) await verifyCase(srv, tokens, queue.pop());
  });
  await Promise.all(workers);
}

// The store of a data directory: its file store.url names a PostgreSQL store
// (the HTTP tests' PostgreSQL mode), else it is the SQLite store in it.
function storeArgs(dir) {
  const f = path.join(dir, 'store.url');
  return fs.existsSync(f) ? ['--store', fs.readFileSync(f, 'utf8').trim()] : ['--data', dir];
}

function runCheck(dir) {
  const t0 = Date.now();
  const r = spawnSync(BIN, ['check', ...storeArgs(dir)], { encoding: 'utf8', timeout: 300000 });
  stats.check_seconds.push((Date.now() - t0) / 1000);
  assert.equal(r.status, 0, `cityops check failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const m = /(\d+) cases, (\d+) events/.exec(r.stdout);
  assert.ok(m, `unexpected check output: ${r.stdout}`);
  return { cases: Number(m[1]), events: Number(m[2]) };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test(`crash durability: ${ROUNDS} rounds of kill -9 under ${CLIENTS} writing clients`, { timeout: 600000 }, async (t) => {
  t.diagnostic(`seed ${SEED} (DURABILITY_SEED=${SEED} reruns it), run tag ${RUN}`);
  let srv = await startServer({ threads: 2 });
  const dir = srv.dir;
  const tokens = {};
  for (const u of USERS) tokens[u] = (await login(srv, u)).token;
  const mineOf = Array.from({ length: CLIENTS }, () => []);
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const t0 = Date.now();
      const stop = { killed: false };
      const clients = [];
      for (let c = 0; c < CLIENTS; c++) clients.push(await client(srv, tokens, round, c, stop, mineOf[c]));
      const killAfter = KILL_MIN_MS + Math.floor(rand() * (KILL_MAX_MS - KILL_MIN_MS));
      await sleep(killAfter);
      stop.killed = true;
      const cutBefore = stats.cut_creates + stats.cut_actions;
      await srv.kill();
      stats.kill_ms.push(killAfter);
      await Promise.all(clients.map((c) => c.done)); // a failed assertion surfaces here
      stats.cut_off_per_round.push(stats.cut_creates + stats.cut_actions - cutBefore);
      runCheck(dir);
      srv = await startServer({ dir, threads: 2 });
      // touched this round (acked or cut off) plus a sample of older cases
      await resolveCreates(srv, tokens);
      const touched = [...cases.values()].filter(
        (k) => k.inflight || k.tag.includes(`-r${round}-`) || k.notes.some((n) => n.includes(`-r${round}-`)),
      );
      const older = [...cases.values()].filter((k) => !touched.includes(k));
      for (let i = older.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [older[i], older[j]] = [older[j], older[i]];
      }
      await verifyAll(srv, tokens, [...touched, ...older.slice(0, SAMPLE_OLD)]);
      // adopted cases go back to their clients (by the client number in the tag)
      for (const k of cases.values()) {
        const c = Number(/-c(\d+)-/.exec(k.tag)[1]);
        if (!mineOf[c].includes(k)) mineOf[c].push(k);
      }
      stats.rounds = round;
      stats.round_seconds.push((Date.now() - t0) / 1000);
    }
    // finally every case, once more, and the whole store
    await verifyAll(srv, tokens, [...cases.values()]);
    await srv.stop({ keep: true });
    const final = runCheck(dir);
    stats.final_cases = final.cases;
    stats.final_events = final.events;
  } finally {
    await srv.stop({ keep: !!process.env.KEEP_SERVER_DIR });
    if (!process.env.KEEP_SERVER_DIR) fs.rmSync(dir, { recursive: true, force: true });
  }
  const ms = stats.kill_ms;
  stats.kill_ms_range = [Math.min(...ms), Math.max(...ms)];
  t.diagnostic(
    `rounds ${stats.rounds}; acknowledged: ${stats.acked_cases} cases, ${stats.acked_actions} actions; ` +
      `cut off by kills: ${stats.cut_creates} registrations (${stats.cut_creates_committed} committed), ` +
      `${stats.cut_actions} actions (${stats.cut_actions_committed} committed); ` +
      `kills after ${stats.kill_ms_range[0]}–${stats.kill_ms_range[1]} ms; ` +
      `store at the end: ${stats.final_cases} cases, ${stats.final_events} events, check clean every round`,
  );
  if (process.env.DURABILITY_REPORT)
    fs.writeFileSync(process.env.DURABILITY_REPORT, JSON.stringify(stats, null, 2) + '\n');
  assert.ok(stats.acked_cases > 0 && stats.acked_actions > 0, 'the clients got nothing acknowledged');
});
