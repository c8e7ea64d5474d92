// cli.test.mjs — the store commands of the CLI (`user`, `apikey`, `export
// areas`, `import areas`) against the store of a running test server: with
// CITYOPS_TEST_PG set they take `--store postgres://…` (the server's own
// database), otherwise `--data DIR`, and also `--store sqlite:DIR` and
// `--config FILE`. What they write the server sees (a new account logs in, a
// new key is listed by the admin API); bad input exits non-zero with a
// message and changes nothing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { BIN, PG_URL, api, cliStoreArgs, login, startServer } from './lib.mjs';

let srv;
let store; // ['--store', URL] or ['--data', DIR]
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cityops-cli-'));

before(async () => {
  srv = await startServer();
  store = cliStoreArgs(srv);
  if (PG_URL) assert.equal(store[0], '--store', 'PG mode: the commands act on the server database');
});
after(async () => {
  await srv?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const run = (...args) => spawnSync(BIN, args, { encoding: 'utf8', timeout: 60000 });

// Runs a command that must succeed; returns its stdout.
function ok(...args) {
  const r = run(...args);
  assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

// A config file naming the server's store, with serve options the command
// does not use (a shared /etc/cityops/cityops.conf has them).
function configFile() {
  const f = path.join(tmp, 'cityops.conf');
  fs.writeFileSync(f, `# test\n${store[0].slice(2)} = ${store[1]}\nlisten = 127.0.0.1:1\nthreads = 2\n`);
  return f;
}

const users = () => ok('user', 'list', ...store);

describe('user', () => {
  test('user add, then list shows the account and it logs in through the server', async () => {
    const out = ok('user', 'add', ...store, '--username', 'cli-op', '--role', 'operator',
      '--password', 'cli-secret-1', '--name', '命令行受理员', '--dept', 'D-CG-150102');
    assert.match(out, /^user cli-op \(operator\) id \d+$/m);
    const line = users().split('\n').find((l) => l.split('\t')[1] === 'cli-op');
    assert.ok(line, 'listed');
    assert.deepEqual(line.split('\t').slice(2, 5), ['operator', '命令行受理员', 'D-CG-150102']);
    const s = await login(srv, 'cli-op', 'cli-secret-1');
    assert.equal(s.user.role, 'operator');
    const me = await api(srv, 'GET', '/api/v1/me', { token: s.token });
    assert.equal(me.status, 200, me.text);
  });

  test('user add again replaces the account (new role and password)', async () => {
    ok('user', 'add', ...store, '--username', 'cli-op', '--role', 'leader', '--password', 'cli-secret-2');
    assert.equal((await login(srv, 'cli-op', 'cli-secret-2')).user.role, 'leader');
    const old = await api(srv, 'POST', '/api/v1/login', { body: { username: 'cli-op', password: 'cli-secret-1' } });
    assert.equal(old.status, 401);
  });

  test('--config FILE names the store; options before the action work', () => {
    const conf = configFile();
    assert.equal(ok('user', '--config', conf, 'list'), users());
    ok('user', 'add', '--config', conf, '--username', 'cli-conf', '--role', 'handler', '--password', 'cli-secret-3');
    assert.match(users(), /\tcli-conf\thandler\t/);
    // the command line wins over the file
    const other = path.join(tmp, 'other.conf');
    fs.writeFileSync(other, `data = ${path.join(tmp, 'not-this-city')}\n`);
    assert.equal(ok('user', 'list', '--config', other, ...store), users());
    assert.ok(!fs.existsSync(path.join(tmp, 'not-this-city')), 'the file\'s store is not opened');
  });

  test('--store sqlite:DIR works without --data', { skip: !!PG_URL }, () => {
    assert.equal(ok('user', 'list', '--store', `sqlite:${srv.dir}`), users());
  });

  test('bad input exits non-zero with a message and changes nothing', async () => {
    const before = users();
    const cases = [
      [['--username', 'cli-bad', '--role', 'wizard', '--password', 'secret-x'], 2, /unknown role 'wizard'/],
      [['--role', 'operator', '--password', 'secret-x'], 2, /--username is required/],
      [['--username', 'cli-bad', '--role', 'operator'], 2, /--password is required/],
      [['--username', 'cli-bad', '--role', 'operator', '--password', 'x'], 2, /password must be/],
    ];
    for (const [args, status, msg] of cases) {
      const r = run('user', 'add', ...store, ...args);
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
    }
    const add = ['add', '--username', 'cli-bad', '--role', 'operator', '--password', 'secret-x'];
    let r = run('user', ...add, '--store', 'mysql://db.example/city');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad --store 'mysql:\/\/db\.example\/city'/);
    r = run('user', ...add, '--store', 'pgsql://cli:hunter2@db.example/city');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad --store 'pgsql:\/\/cli:\*\*\*@db\.example\/city'/);
    r = run('user', ...add, '--store', 'sqlite:');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad --store/);
    r = run('user', ...add, '--store', 'postgres://cli:hunter2@127.0.0.1:1/nodb?connect_timeout=2');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot open the store postgres:\/\/cli:\*\*\*@127\.0\.0\.1:1\/nodb:/);
    assert.doesNotMatch(r.stderr, /hunter2/, 'the password is not printed');
    r = run('user', ...add);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /needs --data DIR or --store URL/);
    r = run('user', 'remove', ...store);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown action 'remove'/);
    assert.equal(users(), before);
    const no = await api(srv, 'POST', '/api/v1/login', { body: { username: 'cli-bad', password: 'secret-x' } });
    assert.equal(no.status, 401);
  });
});

describe('apikey', () => {
  const keys = () => ok('apikey', 'list', ...store);

  test('add, list, revoke — the server sees the key and its revocation', async () => {
    const add = run('apikey', 'add', 'cli-client', ...store, '--rate', '5', '--burst', '20');
    assert.equal(add.status, 0, add.stderr);
    const key = add.stdout.trim();
    assert.match(key, /^o311_[0-9a-f]{40}$/);
    const line = keys().split('\n').find((l) => l.split('\t')[1] === 'cli-client');
    assert.ok(line && /rate=5\tburst=20/.test(line), line);
    assert.ok(!keys().includes(key), 'keys are never listed');
    const id = line.split('\t')[0];
    const admin = (await login(srv, 'admin')).token;
    const listed = await api(srv, 'GET', '/api/v1/apikeys', { token: admin });
    assert.equal(listed.status, 200);
    assert.ok(JSON.stringify(listed.json).includes('cli-client'), 'the admin API lists it');
    assert.equal(ok('apikey', 'revoke', id, ...store).trim(), `revoked ${id}`);
    assert.match(keys(), new RegExp(`^${id}\\tcli-client\\t.*\\(revoked\\)$`, 'm'));
  });

  test('--config FILE and options before the action', () => {
    const conf = configFile();
    const add = run('apikey', '--config', conf, 'add', 'cli-conf-client');
    assert.equal(add.status, 0, add.stderr);
    assert.match(keys(), /\tcli-conf-client\t/);
  });

  test('bad input exits non-zero with a message and changes nothing', () => {
    const before = keys();
    let r = run('apikey', 'add', 'cli-client', ...store);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /a client named cli-client exists/);
    r = run('apikey', 'add', 'cli-x', ...store, '--rate', 'fast');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad --rate or --burst/);
    r = run('apikey', 'revoke', 'abc', ...store);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /needs a key ID/);
    r = run('apikey', 'revoke', '999999', ...store);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no such key/);
    r = run('apikey', 'add', 'cli-x', '--store', 'redis://localhost');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad --store/);
    assert.equal(keys(), before);
  });
});

describe('export and import areas', () => {
  const exportDistricts = (...more) => ok('export', 'areas', ...store, '--level', 'district', ...more);

  test('export, import the same file, export again: the same areas', () => {
    const file = path.join(tmp, 'districts.geojson');
    ok('export', 'areas', ...store, '--level', 'district', '--out', file);
    const fc = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.equal(fc.type, 'FeatureCollection');
    assert.ok(fc.features.length > 0);
    assert.deepEqual(JSON.parse(exportDistricts()), fc, 'stdout and --out write the same');
    const out = ok('import', 'areas', ...store, '--level', 'district', file);
    assert.match(out, new RegExp(`imported ${fc.features.length} district areas`));
    assert.deepEqual(JSON.parse(exportDistricts()), fc);
  });

  test('--within, --config FILE, and options before the action', () => {
    const conf = configFile();
    const one = JSON.parse(ok('export', '--config', conf, '--level', 'street', 'areas', '--within', '150102'));
    assert.ok(one.features.length > 0);
    assert.ok(one.features.every((f) => JSON.stringify(f.properties).includes('150102')));
  });

  test('bad input exits non-zero with a message and imports nothing', () => {
    const before = exportDistricts();
    const bad = path.join(tmp, 'bad.geojson');
    fs.writeFileSync(bad, JSON.stringify({ type: 'FeatureCollection', features: [
      { type: 'Feature', properties: { code: '150199', name: '坏区' },
        geometry: { type: 'Polygon', coordinates: [[[111, 40], [112, 41], [111, 41], [112, 40], [111, 40]]] } },
    ] }));
    let r = run('import', 'areas', ...store, '--level', 'district', bad);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /nothing imported/);
    r = run('import', 'areas', ...store, '--level', 'county', bad);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /unknown level 'county'/);
    r = run('import', 'areas', '--store', 'ftp://x', '--level', 'district', bad);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad --store/);
    r = run('import', 'areas', ...store, '--level', 'district');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: cityops import areas/);
    r = run('export', 'areas', ...store, '--level', 'district', '--within', '999999');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no area with code 999999/);
    assert.equal(exportDistricts(), before);
  });
});

describe('serve', () => {
  test('bad options exit 2 with a message naming the option, before anything is opened', () => {
    const cases = [
      ['--threads', '0'], ['--threads', '65'], ['--threads', 'two'],
      ['--listen', 'nope'], ['--listen', '127.0.0.1:99999'],
      ['--anon-rate', 'x'], ['--anon-rate', '5:0'],
      ['--login-fails', '-1'], ['--login-delay', '10:5'],
      ['--session-ttl', '0'], ['--timeout', '0'], ['--request-timeout', '-1'],
      // the trusted proxies are matched against the peer's address as text: only addresses
      // written the way the server writes them are accepted
      ['--trusted-proxy', 'x'], ['--trusted-proxy', '1.2.3'], ['--trusted-proxy', '127.0.0.01'],
      ['--trusted-proxy', '127.0.0.1,'], ['--trusted-proxy', '0:0:0:0:0:0:0:1'],
      ['--trusted-proxy', `10.0.0.1,${'1'.repeat(600)}`],
    ];
    const dir = path.join(tmp, 'never-created');
    for (const [opt, val] of cases) {
      const r = spawnSync(BIN, ['serve', '--data', dir, '--listen', '127.0.0.1:1', opt, val], { encoding: 'utf8', timeout: 10000 });
      assert.equal(r.status, 2, `${opt} ${val}: exit ${r.status} ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`(bad |)${opt}`), `${opt} ${val}: ${r.stderr}`);
      assert.equal(fs.existsSync(dir), false, `${opt} ${val} created the data directory`);
    }
  });
});

describe('check', () => {
  test('the server store checks sound; bad input exits 2 (usage) or 1 (no store), a password never shown, nothing created', () => {
    const r0 = run('check', ...store);
    assert.equal(r0.status, 0, r0.stderr + r0.stdout);
    assert.match(r0.stdout, /the store is sound/);
    const missing = path.join(tmp, 'no-such-city');
    let r = run('check', '--data', missing);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no such data directory/);
    assert.equal(fs.existsSync(missing), false, 'check created a data directory');
    r = run('check', '--store', 'postgres://cli:s3cret@127.0.0.1:1/city');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cannot open the store postgres:\/\/cli:\*\*\*@127\.0\.0\.1:1\/city/);
    assert.doesNotMatch(r.stderr, /s3cret/);
    r = run('check', '--store', 'mysql://db.example/city');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad --store/);
    for (const args of [[], ['--data'], ['--data', missing, '--fast'], ['extra']]) {
      r = run('check', ...args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, /usage: cityops check/);
    }
  });
});
