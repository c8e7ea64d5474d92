// backup.test.mjs — `cityops backup` copies a running city: the copy is a
// data directory that serves every acknowledged case with its events and
// photos, taken while intake goes on; bad invocations fail with a message.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile, spawnSync } from 'node:child_process';

import { BIN, PG_URL, PNG_1x1, api, createCase, login, startServer, step } from './lib.mjs';

let srv;
let tok;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cityops-backup-'));
before(async () => {
  srv = await startServer();
  tok = (await login(srv, 'operator')).token;
});
after(async () => {
  await srv?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8' });
// the same without blocking the event loop (requests go on meanwhile)
const runAsync = (...args) =>
  new Promise((resolve) => {
    execFile(BIN, args, { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ status: err ? (err.code ?? 1) : 0, stdout, stderr }),
    );
  });

test('backup while intake runs; the copy serves the same cases, events and photos', { skip: !!PG_URL }, async () => {
  // a case with a photo and a history before the backup
  const form = new FormData();
  form.set('case', JSON.stringify({ description: '井盖破损', category: 'C0101', location: { lon: 111.6879, lat: 40.8523 } }));
  form.set('photo', new Blob([PNG_1x1], { type: 'image/png' }), 'a.png');
  const withPhoto = await api(srv, 'POST', '/api/v1/cases', { token: tok, body: form });
  assert.equal(withPhoto.status, 201, withPhoto.text);
  const sl = (await login(srv, 'shiftlead')).token;
  await step(srv, sl, withPhoto.json.id, 'comment', { note: '备份前的备注' });

  // intake keeps going while the copy is taken
  let stop = false;
  const acked = [];
  const writer = (async () => {
    while (!stop) acked.push((await createCase(srv, tok)).number);
  })();
  const dest = path.join(tmp, 'copy');
  const before = acked.length;
  const r = await runAsync('backup', '--data', srv.dir, '--to', dest);
  const during = acked.length - before;
  stop = true;
  await writer;
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^ok: /);
  assert.ok(fs.existsSync(path.join(dest, 'cityops.db')));

  const copy = await startServer({ dir: dest });
  try {
    const t2 = (await login(copy, 'operator')).token;
    const got = await api(copy, 'GET', `/api/v1/cases/${withPhoto.json.id}`, { token: t2 });
    assert.equal(got.status, 200);
    assert.equal(got.json.number, withPhoto.json.number);
    const ev = await api(copy, 'GET', `/api/v1/cases/${withPhoto.json.id}/events`, { token: t2 });
    assert.deepEqual(ev.json.events.map((e) => e.action), ['register', 'comment']);
    const media = await fetch(`${copy.url}/api/v1/media/${got.json.photos[0]}`, {
      headers: { Authorization: `Bearer ${t2}` },
    });
    assert.equal(media.status, 200);
    assert.deepEqual(Buffer.from(await media.arrayBuffer()), PNG_1x1);
    // the snapshot is a prefix of what was acknowledged: every case in it exists in the source
    const list = await api(copy, 'GET', '/api/v1/cases?limit=500', { token: t2 });
    assert.equal(list.status, 200);
    for (const c of list.json.items) {
      const src = await api(srv, 'GET', `/api/v1/cases/${c.id}`, { token: tok });
      assert.equal(src.json.number, c.number);
    }
  } finally {
    await copy.stop({ keep: true });
  }
  assert.ok(during > 0, 'intake went on during the backup');
});

test('backup refuses an existing copy and bad invocations', { skip: !!PG_URL }, () => {
  const dest = path.join(tmp, 'twice');
  const first = run('backup', '--data', srv.dir, '--to', dest);
  assert.equal(first.status, 0, first.stderr);
  const again = run('backup', '--data', srv.dir, '--to', dest);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /already exists/);
  const usage = run('backup', '--data', srv.dir);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /usage: cityops backup/);
  const missing = run('backup', '--data', path.join(tmp, 'nope', 'x', 'y'), '--to', path.join(tmp, 'z'));
  assert.notEqual(missing.status, 0);
});
