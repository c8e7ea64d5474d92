// metrics.test.mjs — GET /metrics in Prometheus text format: every family is
// there with HELP/TYPE, counters move with the work done (requests, writer
// commands, cases by state), and the node's views show no lag after a commit.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';

import { createCase, login, startServer } from './lib.mjs';

let srv;
before(async () => {
  srv = await startServer();
});
after(async () => {
  await srv?.stop();
});

async function scrape() {
  const r = await fetch(`${srv.url}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = await r.text();
  const values = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-z_]+(?:\{[^}]*\})?) (\S+)$/);
    assert.ok(m, `not a sample line: ${line}`);
    values.set(m[1], Number(m[2]));
  }
  return { text, values };
}

test('every family is declared and well-formed', async () => {
  const { text, values } = await scrape();
  for (const fam of [
    'cityops_http_requests_total counter',
    'cityops_http_request_duration_seconds histogram',
    'cityops_writer_commits_total counter',
    'cityops_writer_queue_depth gauge',
    'cityops_writer_seconds_total counter',
    'cityops_cases gauge',
    'cityops_projection_rows gauge',
    'cityops_event_seq gauge',
    'cityops_projection_lag_events gauge',
    'cityops_live_subscribers gauge',
    'cityops_live_dropped_total counter',
    'cityops_uptime_seconds gauge',
  ])
    assert.ok(text.includes(`# TYPE ${fam}\n`), fam);
  const byState = [...values].filter(([k]) => k.startsWith('cityops_cases{'));
  const total = byState.reduce((s, [, v]) => s + v, 0);
  assert.equal(total, values.get('cityops_projection_rows'));
});

test('counters follow the work: requests, commands, cases, no lag', async () => {
  const before0 = (await scrape()).values;
  const tok = (await login(srv, 'operator')).token;
  await createCase(srv, tok);
  await createCase(srv, tok);
  const after0 = (await scrape()).values;
  const get = (v, k) => v.get(k) ?? 0;
  assert.equal(
    get(after0, 'cityops_writer_commands_total') - get(before0, 'cityops_writer_commands_total'),
    2,
  );
  assert.equal(
    get(after0, 'cityops_cases{state="registered"}') - get(before0, 'cityops_cases{state="registered"}'),
    2,
  );
  assert.ok(
    get(after0, 'cityops_http_requests_total{method="POST",code="2xx"}') >=
      get(before0, 'cityops_http_requests_total{method="POST",code="2xx"}') + 3, // login + 2 cases
  );
  // the writer's time by phase grew with those two commits (each phase does work)
  for (const phase of ['execute', 'commit', 'after']) {
    const k = `cityops_writer_seconds_total{phase="${phase}"}`;
    assert.ok(get(after0, k) > get(before0, k), k);
  }
  assert.equal(get(after0, 'cityops_projection_lag_events'), 0);
  assert.equal(get(after0, 'cityops_event_seq'), get(after0, 'cityops_event_seq_applied'));
  assert.ok(get(after0, 'cityops_event_seq') > get(before0, 'cityops_event_seq'));
  // histogram buckets are cumulative and end in the count
  const buckets = [...after0].filter(([k]) => k.startsWith('cityops_http_request_duration_seconds_bucket{method="GET"'));
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i][1] >= buckets[i - 1][1]);
  assert.equal(buckets.at(-1)[1], get(after0, 'cityops_http_request_duration_seconds_count{method="GET"}'));
});
