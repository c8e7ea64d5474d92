// dashboard.mjs — the command screen (/dashboard, 一网统管大屏): KPI tiles,
// trends, top categories, department ranking, a map that drills district →
// street → community → grid coloured by case density, and the live feed of
// new cases pushed by Server-Sent Events (GET /api/v1/live). Aggregates are
// refetched when the feed says something changed (and once a minute, since
// "overdue" grows with the clock alone).

import { echarts, AreaMap, levelOfCode, CHILD } from './map.mjs';
import { h, clear, put, fmtTime } from './dom.mjs';
import { t, name, applyStatic, langButton, onLangChange, isEn } from './i18n.mjs';
import { get, qs, me, login, logout } from './api.mjs';

const DAYS = 30;
const FEED_MAX = 40;
const C = { text: '#cfe3ff', muted: '#8fb0d6', line: 'rgba(64,156,255,0.25)', accent: '#35d0ff', blue: '#2a7bff', green: '#3ddc97', yellow: '#ffc53d', red: '#ff5c4d' };
const PALETTE = ['#35d0ff', '#2a7bff', '#3ddc97', '#ffc53d', '#ff8a4d', '#b37bff', '#ff5c9a', '#7ee0c3'];

/* Sizes in chart options scale with the page like the CSS (1rem = 16px at 1920 wide). */
function S(n) {
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
  return Math.round(((n * rem) / 16) * 10) / 10;
}

const state = {
  summary: null,
  weekly: null,
  channels: null,
  metric: 'density',
  within: null,
  mapRows: new Map(),
  areaInfo: new Map(),
  liveCount: 0,
};

/* ---------------------------------------------------------------- clock */

function beijing() {
  return new Date(Date.now() + 8 * 3600 * 1000).toISOString();
}

function tickClock() {
  const s = beijing();
  const el = document.getElementById('clock');
  el.textContent = `${s.slice(0, 10)} ${s.slice(11, 19)}`;
  el.setAttribute('datetime', s.slice(0, 19) + '+08:00');
}

/* --------------------------------------------------------------- charts */

const charts = {};
function chart(id) {
  if (!charts[id]) {
    const el = document.getElementById(id);
    charts[id] = echarts.init(el, null, { renderer: 'canvas' });
    new ResizeObserver(() => { if (el.clientWidth && el.clientHeight) charts[id].resize(); }).observe(el);
  }
  return charts[id];
}

const axisStyle = {
  axisLine: { lineStyle: { color: C.line } },
  axisTick: { show: false },
  get axisLabel() { return { color: C.muted, fontSize: S(11) }; },
  splitLine: { lineStyle: { color: 'rgba(64,156,255,0.12)' } },
};
const tooltip = { trigger: 'axis', backgroundColor: 'rgba(8,22,40,0.92)', borderColor: C.line, textStyle: { color: C.text } };

function renderDaily() {
  const d = state.summary ? state.summary.daily || [] : [];
  chart('chart-daily').setOption({
    animation: false,
    grid: { left: S(36), right: S(12), top: S(16), bottom: S(24) },
    tooltip,
    xAxis: { type: 'category', data: d.map((x) => x.date.slice(5)), ...axisStyle, boundaryGap: false },
    yAxis: { type: 'value', ...axisStyle, minInterval: 1 },
    series: [{
      name: t('受理', 'Intake'), type: 'line', smooth: true, symbol: 'none', data: d.map((x) => x.count),
      lineStyle: { color: C.accent, width: 2 },
      areaStyle: { color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [{ offset: 0, color: 'rgba(53,208,255,0.45)' }, { offset: 1, color: 'rgba(53,208,255,0.02)' }]) },
    }],
  }, { notMerge: true });
}

function renderWeekly() {
  const rows = state.weekly || [];
  chart('chart-weekly').setOption({
    animation: false,
    grid: { left: S(40), right: S(12), top: S(26), bottom: S(24) },
    tooltip,
    legend: { top: 0, right: 0, textStyle: { color: C.muted, fontSize: S(11) }, itemWidth: S(10), itemHeight: S(8) },
    xAxis: { type: 'category', data: rows.map((r) => r.label.slice(5)), ...axisStyle },
    yAxis: { type: 'value', ...axisStyle, minInterval: 1 },
    series: [
      { name: t('受理', 'Intake'), type: 'bar', data: rows.map((r) => r.count), barWidth: '45%', itemStyle: { color: new echarts.graphic.LinearGradient(0, 0, 0, 1, [{ offset: 0, color: '#35d0ff' }, { offset: 1, color: '#1b4fd1' }]), borderRadius: [2, 2, 0, 0] } },
      { name: t('结案', 'Closed'), type: 'line', data: rows.map((r) => r.closed), symbolSize: S(5), lineStyle: { color: C.green }, itemStyle: { color: C.green } },
    ],
  }, { notMerge: true });
}

function renderChannels() {
  const rows = state.channels || [];
  chart('chart-channels').setOption({
    animation: false,
    color: PALETTE,
    tooltip: { trigger: 'item', backgroundColor: 'rgba(8,22,40,0.92)', borderColor: C.line, textStyle: { color: C.text }, formatter: (p) => `${p.name}: ${p.value} (${p.percent}%)` },
    legend: {
      orient: 'vertical', right: 4, top: 'middle', textStyle: { color: C.text, fontSize: S(12) }, itemWidth: S(10), itemHeight: S(8),
      formatter: (n) => {
        const total = rows.reduce((a, r) => a + r.count, 0) || 1;
        const r = rows.find((x) => name('channel', x.key, x.label) === n);
        return r ? `${n}  ${r.count}  ${((r.count / total) * 100).toFixed(1)}%` : n;
      },
    },
    series: [{
      type: 'pie', radius: ['50%', '78%'], center: ['26%', '52%'], avoidLabelOverlap: true,
      label: { show: false }, labelLine: { show: false },
      itemStyle: { borderColor: '#071a33', borderWidth: 2 },
      data: rows.map((r) => ({ name: name('channel', r.key, r.label), value: r.count })),
    }],
  }, { notMerge: true });
}

function renderTop() {
  const rows = state.summary ? (state.summary.top_categories || []).slice(0, 10).reverse() : [];
  chart('chart-top').setOption({
    animation: false,
    grid: { left: S(104), right: S(40), top: S(4), bottom: S(4) },
    tooltip: { ...tooltip, axisPointer: { type: 'shadow' } },
    xAxis: { type: 'value', show: false },
    yAxis: { type: 'category', data: rows.map((r) => (r.key ? r.label : t('未分类', 'Unclassified'))), ...axisStyle, axisLabel: { color: C.text, fontSize: S(12), width: S(96), overflow: 'truncate', interval: 0 } },
    series: [{
      type: 'bar', name: t('案件数', 'Cases'), data: rows.map((r) => r.count), barWidth: '58%',
      label: { show: true, position: 'right', color: C.text, fontSize: S(11) },
      itemStyle: { borderRadius: [0, 3, 3, 0], color: new echarts.graphic.LinearGradient(0, 0, 1, 0, [{ offset: 0, color: '#1b4fd1' }, { offset: 1, color: '#35d0ff' }]) },
    }],
  }, { notMerge: true });
}

function renderRanking() {
  const host = document.getElementById('dept-rank');
  const rows = state.summary ? state.summary.department_ranking || [] : [];
  clear(host);
  if (!rows.length) {
    host.append(h('p', { class: 'muted' }, t('暂无数据', 'No data')));
    return;
  }
  host.append(h('table', null,
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('名次', 'No.')), h('th', { scope: 'col' }, t('部门', 'Department')), h('th', { scope: 'col', class: 'score' }, t('得分', 'Score')), h('th', { scope: 'col' }, t('等级', 'Grade')))),
    h('tbody', null, rows.slice(0, 8).map((r) => h('tr', null,
      h('td', { class: 'no' }, String(r.rank)), h('td', { title: r.label }, r.label), h('td', { class: 'score' }, r.score.toFixed(1)),
      h('td', null, h('span', { class: 'grade grade-' + r.grade }, r.grade)))))));
}

/* ----------------------------------------------------------------- KPIs */

function pct(v) {
  return v === null || v === undefined ? '—' : (v * 100).toFixed(1);
}

function renderKpis() {
  const s = state.summary;
  const host = document.getElementById('kpis');
  const tiles = [
    { id: 'today', zh: '今日受理', en: 'Intake today', v: s ? String(s.today_intake) : '—', unit: t('件', ''), sub: t('自今日零时', 'since midnight') },
    { id: 'open', zh: '在办案件', en: 'Open cases', v: s ? String(s.open) : '—', unit: t('件', ''), sub: t('未结案', 'not yet closed') },
    { id: 'overdue', zh: '超期未办结', en: 'Overdue', v: s ? String(s.overdue) : '—', unit: t('件', ''), sub: t('超过处置时限', 'past the disposal deadline'), warn: s && s.overdue > 0, icon: '■' },
    { id: 'ontime', zh: '按期结案率', en: 'Closed on time', v: s ? pct(s.period.ontime_rate) : '—', unit: '%', sub: t(`近${DAYS}天`, `last ${DAYS} days`) },
    { id: 'satisfaction', zh: '群众满意率', en: 'Satisfaction', v: s ? pct(s.period.satisfaction_rate) : '—', unit: '%', sub: t(`近${DAYS}天回访`, `return visits, ${DAYS} days`) },
  ];
  const old = new Map([...host.querySelectorAll('.kpi')].map((el) => [el.dataset.kpi, el.querySelector('.num').textContent]));
  clear(host);
  for (const k of tiles) {
    const el = h('div', { class: 'kpi' + (k.warn ? ' kpi-warn' : ''), 'data-kpi': k.id, role: 'group', 'aria-labelledby': 'kpi-l-' + k.id },
      h('div', { class: 'label', id: 'kpi-l-' + k.id }, k.icon ? h('span', { class: 'ico', 'aria-hidden': 'true' }, k.icon) : null, t(k.zh, k.en)),
      h('div', { class: 'value' }, h('span', { class: 'num', id: 'kpi-' + k.id }, k.v), k.unit ? h('small', null, k.unit) : null),
      h('div', { class: 'sub' }, k.sub));
    if (old.has(k.id) && old.get(k.id) !== k.v) el.classList.add('bump');
    host.append(el);
  }
}

/* ------------------------------------------------------------------ map */

let map = null;
const METRICS = {
  density: { zh: '案件密度', en: 'Case density', unitZh: '件/km²', unitEn: 'cases/km²' },
  open: { zh: '在办案件', en: 'Open cases', unitZh: '件', unitEn: 'cases' },
  overdue: { zh: '超期案件', en: 'Overdue cases', unitZh: '件', unitEn: 'cases' },
};
const LEVEL_NAME = { district: ['区县', 'districts'], street: ['街道', 'streets'], community: ['社区', 'communities'], grid: ['网格', 'grids'] };

function metricValue(code) {
  const r = state.mapRows.get(code);
  if (!r) return 0;
  if (state.metric === 'density') {
    const a = state.areaInfo.get(code);
    const km2 = a && a.area_m2 ? a.area_m2 / 1e6 : 0;
    return km2 > 0 ? Math.round((r.count / km2) * 100) / 100 : 0;
  }
  return state.metric === 'open' ? r.open : r.overdue;
}

function mapTitle() {
  const m = METRICS[state.metric];
  const lv = CHILD[levelOfCode(state.within)];
  const scope = state.metric === 'density' ? t(`近${DAYS}天`, `last ${DAYS} days`) : t('当前', 'now');
  return `${t(m.zh, m.en)} · ${t('按', 'by ')}${t(LEVEL_NAME[lv][0], LEVEL_NAME[lv][1])} · ${scope}${t(`（${m.unitZh}）`, ` (${m.unitEn})`)}`;
}

async function loadMapData() {
  const level = CHILD[levelOfCode(state.within)];
  const from = state.summary ? state.summary.period.from : undefined;
  const [period, open, areas] = await Promise.all([
    get('/api/v1/stats' + qs({ group: level, area: state.within, from, metrics: 'count' })),
    get('/api/v1/stats' + qs({ group: level, area: state.within, state: 'open', metrics: 'count,overdue' })),
    get('/api/v1/areas' + qs({ level, parent: state.within })),
  ]);
  const rows = new Map();
  for (const a of areas.items) rows.set(a.code, { code: a.code, label: a.name, count: 0, open: 0, overdue: 0 });
  for (const r of period.rows) if (rows.has(r.key)) rows.get(r.key).count = r.count;
  for (const r of open.rows) if (rows.has(r.key)) Object.assign(rows.get(r.key), { open: r.count, overdue: r.overdue });
  state.mapRows = rows;
  state.areaInfo = new Map(areas.items.map((a) => [a.code, a]));
}

function renderMapValues() {
  if (!map) return;
  const values = new Map();
  for (const code of state.mapRows.keys()) values.set(code, metricValue(code));
  const m = METRICS[state.metric];
  map.setValues(values, {
    fmt: (code) => {
      const r = state.mapRows.get(code) || { count: 0, open: 0, overdue: 0 };
      return [
        `${t(m.zh, m.en)}: ${values.get(code)} ${t(m.unitZh, m.unitEn)}`,
        `${t(`近${DAYS}天案件`, `Cases, ${DAYS} days`)}: ${r.count}`,
        `${t('在办', 'Open')}: ${r.open} · ${t('超期', 'Overdue')}: ${r.overdue}`,
      ];
    },
  });
  document.getElementById('h-map').textContent = mapTitle();
  // the top areas, as text beside the map (colour is not the only signal)
  const rank = document.getElementById('map-rank');
  const top = [...state.mapRows.values()].map((r) => [r, values.get(r.code)]).sort((a, b) => b[1] - a[1]).slice(0, 8);
  clear(rank).append(h('div', { class: 'cap' }, t('排名前列', 'Highest')), h('ol', null, top.map(([r, v]) => h('li', null, h('span', null, r.label), h('span', { class: 'n' }, String(v))))));
  // drill select (keyboard and screen-reader way to drill)
  const sel = document.getElementById('map-drill');
  const level = CHILD[levelOfCode(state.within)];
  clear(sel);
  sel.disabled = level === 'grid';
  sel.append(h('option', { value: '' }, level === 'grid' ? t('已到网格', 'grid level') : t('选择区域…', 'choose an area…')));
  for (const [r] of [...state.mapRows.values()].map((x) => [x, values.get(x.code)]).sort((a, b) => a[0].label.localeCompare(b[0].label, 'zh'))) {
    sel.append(h('option', { value: r.code }, r.label));
  }
}

async function renderCrumbs() {
  const host = document.getElementById('map-crumbs');
  const chain = [];
  let code = state.within;
  while (code) {
    let nm = code;
    try {
      nm = (await get('/api/v1/areas/' + code)).name;
    } catch { /* keep the code */ }
    chain.unshift({ code, name: nm });
    code = { 15: code.slice(0, 12), 12: code.slice(0, 9), 9: code.slice(0, 6) }[code.length] || null;
  }
  clear(host);
  const items = [{ code: null, name: t('全市', 'City') }, ...chain];
  items.forEach((it, i) => {
    if (i) host.append(h('span', { class: 'crumb-sep', 'aria-hidden': 'true' }, '›'));
    if (i === items.length - 1) host.append(h('span', { class: 'crumb-current', 'aria-current': 'location' }, it.name));
    else host.append(h('button', { type: 'button', class: 'crumb', onclick: () => drill(it.code) }, it.name));
  });
}

async function drill(code) {
  const prev = state.within;
  state.within = code || null;
  const level = CHILD[levelOfCode(state.within)];
  if (!level) return;
  try {
    const g = await map.show(level, state.within);
    if (!g.count) {
      // nothing below this area (a community without grids): stay one level up
      state.within = prev;
      const cap = document.getElementById('map-rank');
      cap.prepend(h('div', { class: 'cap', role: 'status' }, t('该区域未划分下级网格', 'This area has no grids below it')));
      return;
    }
    document.getElementById('map').dataset.level = level;
    await loadMapData();
    renderMapValues();
    renderCrumbs();
  } catch (e) {
    state.within = prev;
    console.error(e);
  }
}

function renderMetricButtons() {
  const host = document.getElementById('map-metric');
  clear(host);
  for (const [key, m] of Object.entries(METRICS)) {
    host.append(h('button', {
      type: 'button', 'aria-pressed': state.metric === key ? 'true' : 'false', 'data-metric': key,
      onclick: () => { state.metric = key; renderMetricButtons(); renderMapValues(); },
    }, t(m.zh, m.en)));
  }
}

/* ------------------------------------------------------------ live feed */

function feedItem(c, fresh) {
  const time = (c.created || '').slice(11, 19) || '--:--:--';
  const sev = c.severity && c.severity !== 'normal' ? h('span', { class: 'tag tag-' + c.severity }, name('severity', c.severity, c.severity)) : null;
  return h('li', { class: fresh ? 'new' : null, 'data-number': c.number },
    h('span', { class: 't' }, time),
    h('span', { class: 'what' }, h('span', { class: 'tag' }, name('channel', c.channel, c.channel_zh)), sev, c.category_name || t('待分类', 'Unclassified')),
    h('span', { class: 'where' }, [c.district_name, c.street_name, c.community_name].filter(Boolean).join(' · '), ' · ', h('span', { class: 'num' }, c.number)),
    h('span', { class: 'desc', title: c.description }, c.description));
}

function addFeed(c, fresh = true) {
  const ol = document.getElementById('live-feed');
  const empty = ol.querySelector('.empty');
  if (empty) empty.parentElement.remove();
  if (ol.querySelector(`[data-number="${CSS.escape(c.number)}"]`)) return;
  if (fresh) ol.prepend(feedItem(c, true));
  else ol.append(feedItem(c, false));
  while (ol.children.length > FEED_MAX) ol.lastElementChild.remove();
}

async function prefillFeed() {
  try {
    const r = await get('/api/v1/cases' + qs({ limit: 15 }));
    r.items.sort((a, b) => (b.created || '').localeCompare(a.created || ''));
    for (const c of r.items) {
      const a = c.areas || {};
      addFeed({
        number: c.number, created: c.created, category_name: c.category_name, channel: c.channel, channel_zh: c.channel_zh,
        severity: c.severity, description: c.description, district_name: a.district && a.district.name,
        street_name: a.street && a.street.name, community_name: a.community && a.community.name,
      }, false);
    }
  } catch { /* the live feed fills it */ }
  const ol = document.getElementById('live-feed');
  if (!ol.children.length) ol.append(h('li', null, h('span', { class: 'empty' }, t('等待新案件…', 'Waiting for new cases…'))));
}

function setLive(on) {
  const el = document.getElementById('live-status');
  el.className = 'live-status ' + (on ? 'on' : 'off');
  el.textContent = on ? '● ' + t('实时连接', 'Live') : '○ ' + t('重新连接中…', 'Reconnecting…');
}

let es = null;
function connect() {
  es = new EventSource('/api/v1/live');
  // (re)connected: what was missed while away (or dropped while this screen
  // lagged behind the feed) comes with a fresh load of the figures
  es.addEventListener('open', () => { setLive(true); scheduleRefresh(250); });
  es.addEventListener('error', () => setLive(false));
  es.addEventListener('case', (e) => {
    let c;
    try {
      c = JSON.parse(e.data);
    } catch {
      return;
    }
    addFeed(c, true);
    state.liveCount += 1;
    document.getElementById('feed-count').textContent = t(`本次 +${state.liveCount}`, `+${state.liveCount} since opened`);
    if (map && isFinite(c.lon) && isFinite(c.lat) && (!state.within || (c.district || '').startsWith(state.within.slice(0, 6)))) map.pulse(c.lon, c.lat);
    scheduleRefresh(250);
  });
  es.addEventListener('update', () => scheduleRefresh(3000));
}

/* -------------------------------------------------------------- refresh */

let refreshTimer = null;
let refreshing = false;
let again = false;
function scheduleRefresh(ms) {
  if (refreshTimer) return;
  refreshTimer = setTimeout(() => {
    refreshTimer = null;
    refresh();
  }, ms);
}

async function refresh() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  try {
    const s = await get('/api/v1/dashboard/summary' + qs({ days: DAYS }));
    state.summary = s;
    const today = s.now.slice(0, 10);
    const weekFrom = new Date(Date.parse(today + 'T00:00:00+08:00') - 11 * 7 * 86400000 - 6 * 86400000);
    const wf = new Date(weekFrom.getTime() + 8 * 3600000).toISOString().slice(0, 10);
    const [weekly, channels] = await Promise.all([
      get('/api/v1/stats' + qs({ group: 'week', from: wf, fill: 1, metrics: 'count,closed' })),
      get('/api/v1/stats' + qs({ group: 'channel', from: s.period.from, metrics: 'count' })),
    ]);
    state.weekly = weekly.rows.slice(-12);
    state.channels = channels.rows;
    renderKpis();
    renderDaily();
    renderWeekly();
    renderChannels();
    renderTop();
    renderRanking();
    if (map && map.mapName) {
      await loadMapData();
      renderMapValues();
    }
    document.getElementById('dash').setAttribute('aria-busy', 'false');
    document.body.dataset.updated = s.now;
  } catch (e) {
    if (e.status === 401) showLogin();
    console.error(e);
  } finally {
    refreshing = false;
    if (again) {
      again = false;
      scheduleRefresh(200);
    }
  }
}

function renderAll() {
  applyStatic(document);
  renderKpis();
  renderDaily();
  renderWeekly();
  renderChannels();
  renderTop();
  renderRanking();
  renderMetricButtons();
  renderMapValues();
  renderCrumbs();
  setLive(es && es.readyState === 1);
}

/* ---------------------------------------------------------------- login */

function showLogin(msg) {
  const ov = document.getElementById('login-overlay');
  const user = h('input', { id: 'dl-user', autocomplete: 'username', required: true, value: 'leader' });
  const pass = h('input', { id: 'dl-pass', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('div', { class: 'err', role: 'alert' }, msg || '');
  const form = h('form', { class: 'login', 'aria-labelledby': 'dl-h' },
    h('h2', { id: 'dl-h' }, t('登录指挥大屏', 'Sign in to the dashboard')),
    h('label', { for: 'dl-user' }, t('用户名', 'Username')), user,
    h('label', { for: 'dl-pass' }, t('密码', 'Password')), pass,
    err, h('button', { type: 'submit' }, t('登录', 'Sign in')),
    h('div', { class: 'hint' }, t('演示：leader / demo（领导，只读）', 'Demo: leader / demo (read-only)')));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      await login(user.value.trim(), pass.value);
      ov.hidden = true;
      start();
    } catch (ex) {
      err.textContent = ex.message;
    }
  });
  clear(ov).append(form);
  ov.hidden = false;
  pass.focus();
}

/* ---------------------------------------------------------------- start */

let started = false;
async function start() {
  if (started) return;
  started = true;
  const tools = document.getElementById('dh-tools');
  clear(tools).append(langButton(), h('a', { href: '/', class: 'dh-link' }, t('控制台', 'Console')),
    h('button', { type: 'button', onclick: async () => { await logout().catch(() => {}); location.reload(); } }, t('退出', 'Sign out')));
  renderKpis();
  renderMetricButtons();
  setLive(false);
  connect();
  map = new AreaMap(document.getElementById('map'), {
    theme: 'dark', labels: true, labelSize: S(12), highText: t('高', 'high'), lowText: t('低', 'low'),
    ariaLabel: t('案件分布地图：点击区域下钻', 'Case map: click an area to drill down'),
    onRegion: (code) => { if (CHILD[levelOfCode(code)]) drill(code); },
  });
  document.getElementById('map-drill').addEventListener('change', (e) => { if (e.target.value) drill(e.target.value); });
  await refresh();
  await drill(null);
  prefillFeed();
  setInterval(refresh, 60000);
}

applyStatic(document);
tickClock();
setInterval(tickClock, 1000);
onLangChange(() => { if (started) renderAll(); });
let resizeTimer = null;
window.addEventListener('resize', () => {
  clearTimeout(resizeTimer);
  resizeTimer = setTimeout(() => {
    if (!started) return;
    if (map) map.opts.labelSize = S(12);
    renderAll();
    document.body.dataset.layoutWidth = String(window.innerWidth); // laid out for this width
  }, 150);
});
me().then((u) => (u ? start() : showLogin())).catch((e) => showLogin(e.message));

export { fmtTime, put, isEn };
