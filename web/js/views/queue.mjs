// views/queue.mjs — the inbox of every role (GET /api/v1/cases?inbox=1):
// tabs by step, the deadline traffic light in colour, shape and words, the
// most urgent first, and the actions the user may take on each row. New
// cases and updates arrive through the live feed and refresh the list.

import { h, clear, fmtTime, lightBadge, lightRank, dueOf, stateBadge, areaText, showError } from '../dom.mjs';
import { t, name } from '../i18n.mjs';
import { get, qs, categoryNames } from '../api.mjs';
import { actionButtons } from '../actions.mjs';
import { icon } from '../icons.mjs';

/* Tabs per role: states whose cases wait for this role. */
export const TABS = {
  operator: [
    { key: 'registered', zh: '待处理', en: 'To handle', states: 'registered' },
    { key: 'handled', zh: '待发核查', en: 'To send for check', states: 'handled' },
    { key: 'closed', zh: '待回访', en: 'Return visits', states: 'closed' },
  ],
  shiftlead: [
    { key: 'registered', zh: '待立案', en: 'To file', states: 'registered' },
    { key: 'handling', zh: '延期/挂账审批', en: 'Approvals', states: 'handling' },
    { key: 'handled', zh: '待发核查', en: 'To send for check', states: 'handled' },
    { key: 'checked', zh: '待结案', en: 'To close', states: 'checked' },
    { key: 'verifying', zh: '核实中', en: 'Being verified', states: 'verifying' },
    { key: 'suspended', zh: '挂账', en: 'Suspended', states: 'suspended' },
  ],
  dispatcher: [{ key: 'filed', zh: '待派遣', en: 'To dispatch', states: 'filed' }],
  handler: [
    { key: 'dispatched', zh: '待签收', en: 'To accept', states: 'dispatched' },
    { key: 'handling', zh: '处置中', en: 'Handling', states: 'handling' },
    { key: 'suspended', zh: '挂账', en: 'Suspended', states: 'suspended' },
  ],
  inspector: [
    { key: 'verifying', zh: '待核实', en: 'To verify', states: 'verifying' },
    { key: 'checking', zh: '待核查', en: 'To check', states: 'checking' },
  ],
};

const LIMIT = 200;

export function sortUrgent(items) {
  return items.sort((a, b) => lightRank(a) - lightRank(b) || (Date.parse(dueOf(a) || '2999-01-01') - Date.parse(dueOf(b) || '2999-01-01')) || b.id - a.id);
}

let catNames = new Map();
/* category names in both languages, for the rows (await before drawing) */
export const namesReady = categoryNames().then((m) => { catNames = m; }).catch(() => {});

export function catLabel(c) {
  const n = catNames.get(c.category);
  return n ? t(n.zh, n.en) : c.category_name;
}

export function caseRow(c, onChange) {
  const sev = c.severity && c.severity !== 'normal' ? h('span', { class: 'sev sev-tag-' + c.severity }, ' · ' + name('severity', c.severity, c.severity_zh)) : null;
  return h('tr', { 'data-case': c.number },
    h('td', null, lightBadge(c)),
    h('td', null, h('a', { class: 'num', href: '#/case/' + c.id }, c.number), h('div', { class: 'muted' }, fmtTime(c.created)), sev),
    h('td', null, catLabel(c) || h('span', { class: 'muted' }, c.request_type_zh ? name('request_type', c.request_type, c.request_type_zh) : t('未分类', 'Unclassified')),
      h('div', { class: 'muted' }, name('channel', c.channel, c.channel_zh))),
    h('td', null, areaText(c), c.dept_name ? h('div', { class: 'muted' }, c.dept_name) : null),
    h('td', { class: 'desc' }, h('div', { class: 'desc-text', title: c.description }, c.description)),
    h('td', null, stateBadge(c), h('div', { class: 'muted' }, t('时限 ', 'Due ') + fmtTime(dueOf(c)))),
    h('td', null, h('div', { class: 'cell-actions' }, actionButtons(c, onChange, { small: true, row: true }))));
}

export function caseTable(items, onChange, caption) {
  return h('table', { class: 'cases' },
    caption ? h('caption', null, caption) : null,
    h('thead', null, h('tr', null,
      h('th', { scope: 'col' }, t('信号灯', 'Light')), h('th', { scope: 'col' }, t('案件编号', 'Case')), h('th', { scope: 'col' }, t('类别', 'Category')),
      h('th', { scope: 'col' }, t('位置 / 部门', 'Place / department')), h('th', { scope: 'col' }, t('描述', 'Description')),
      h('th', { scope: 'col' }, t('状态', 'State')), h('th', { scope: 'col' }, t('操作', 'Actions')))),
    h('tbody', null, items.map((c) => caseRow(c, onChange))));
}

export default async function queue(main, { user, arg, title }) {
  await namesReady;
  const tabs = TABS[user.role] || [];
  let current = tabs.find((x) => x.key === arg) || tabs[0];
  const counts = new Map();
  const tablist = h('div', { class: 'tabs', role: 'tablist', 'aria-label': t('待办分类', 'Queue tabs') });
  const body = h('div', { role: 'tabpanel', id: 'queue-panel' });
  const summary = h('span', { class: 'muted', 'aria-live': 'polite' });

  const renderTabs = () => {
    clear(tablist);
    for (const tab of tabs) {
      const n = counts.get(tab.key);
      const b = h('button', {
        type: 'button', role: 'tab', class: 'tab', id: 'tab-' + tab.key, 'aria-selected': tab === current ? 'true' : 'false',
        'aria-controls': 'queue-panel', tabindex: tab === current ? '0' : '-1', 'data-tab': tab.key,
        onclick: () => { current = tab; history.replaceState(null, '', '#/queue/' + tab.key); renderTabs(); load(); },
        onkeydown: (e) => {
          const i = tabs.indexOf(tab);
          if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
            const next = tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length];
            document.getElementById('tab-' + next.key).focus();
            document.getElementById('tab-' + next.key).click();
          }
        },
      }, t(tab.zh, tab.en), n === undefined ? null : h('span', { class: 'n' }, n.more ? `${n.n}+` : String(n.n)));
      tablist.append(b);
    }
    body.setAttribute('aria-labelledby', current ? 'tab-' + current.key : '');
  };

  const fetchTab = async (tab) => {
    const r = await get('/api/v1/cases' + qs({ inbox: 1, state: tab.states, limit: LIMIT }));
    counts.set(tab.key, { n: r.items.length, more: !!r.next });
    return r.items;
  };

  let loading = 0;
  let lastSig = '';
  const load = async () => {
    if (!current) {
      clear(body).append(h('p', { class: 'empty' }, t('您的岗位没有待办。', 'Your role has no queue.')));
      return;
    }
    const my = ++loading;
    try {
      const items = await fetchTab(current);
      if (my !== loading) return;
      sortUrgent(items);
      renderTabs();
      // nothing changed (a live update elsewhere): keep the rows as they are
      const sig = items.map((c) => `${c.id}:${c.updated}:${c.state}:${c.light}`).join(',') + '|' + (current && current.key);
      if (sig === lastSig && body.firstChild) return;
      lastSig = sig;
      clear(body);
      const red = items.filter((c) => lightRank(c) === 0).length;
      const yellow = items.filter((c) => lightRank(c) === 1).length;
      summary.textContent = t(`共 ${items.length} 件，超期 ${red} 件，临期 ${yellow} 件`, `${items.length} cases, ${red} overdue, ${yellow} due soon`);
      if (!items.length) {
        body.append(h('p', { class: 'empty' }, '✓ ', t('没有待办案件', 'Nothing waiting')));
        return;
      }
      body.append(caseTable(items, () => refresh(), t('按紧急程度排序：超期 ■、临期 ▲、正常 ●', 'Most urgent first: overdue ■, due soon ▲, on time ●')));
    } catch (e) {
      if (my === loading) clear(body).append(h('p', { class: 'error-text', role: 'alert' }, e.message));
    }
  };
  const refreshCounts = async () => {
    await Promise.all(tabs.filter((x) => x !== current).map((tab) => fetchTab(tab).catch(() => null)));
    renderTabs();
  };
  const refresh = () => { load(); refreshCounts(); };

  main.append(
    h('div', { class: 'page-head' }, h('h1', null, title || t('我的待办', 'My queue')), summary, h('span', { class: 'spacer' }),
      h('button', { type: 'button', class: 'btn', onclick: refresh }, icon('refresh', { size: 16 }), t('刷新', 'Refresh'))),
    tablist, h('div', { class: 'panel', style: { padding: '0', overflow: 'auto' } }, body));
  renderTabs();
  await load();
  refreshCounts().catch(showError);

  // live updates: refresh when something happens (debounced)
  let timer = null;
  let es = null;
  try {
    es = new EventSource('/api/v1/live');
    const watched = new Set(tabs.flatMap((x) => x.states.split(',')));
    let last = 0;
    const poke = (state) => {
      if (!watched.has(state) || timer) return;
      // at most one refresh every 3 s, however busy the city is
      const wait = Math.max(500, 3000 - (Date.now() - last));
      timer = setTimeout(() => { timer = null; last = Date.now(); refresh(); }, wait);
    };
    es.addEventListener('case', () => poke('registered'));
    // an update may move a case into or out of a tab: any of them counts
    es.addEventListener('update', () => poke(tabs.length ? tabs[0].states.split(',')[0] : ''));
  } catch { /* no live feed: the refresh button still works */ }
  return () => { clearTimeout(timer); if (es) es.close(); };
}
