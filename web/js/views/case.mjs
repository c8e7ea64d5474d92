// views/case.mjs — one case: the five elements, map, photos, the timeline of
// events, and only the actions the current user may take (allowed_actions).

import { h, clear, put, fmtTime, lightBadge, stateBadge, dueOf, showError } from '../dom.mjs';
import { t, name, isEn } from '../i18n.mjs';
import { get, departments, categoryNames } from '../api.mjs';
import { AreaMap } from '../map.mjs';
import { actionButtons, actionLabel } from '../actions.mjs';
import { icon } from '../icons.mjs';
import { caseDuplicates } from '../duplicates.mjs';

function facts(rows) {
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of rows) {
    if (v === null || v === undefined || v === '') continue;
    dl.append(h('dt', null, k), h('dd', null, v));
  }
  return dl;
}

function gallery(ids, label) {
  if (!ids || !ids.length) return null;
  return h('div', { class: 'gallery', role: 'list', 'aria-label': label },
    ids.map((id, i) => h('a', { href: '/api/v1/media/' + id, target: '_blank', rel: 'noopener', role: 'listitem' },
      h('img', { src: '/api/v1/media/' + id, alt: `${label} ${i + 1}`, loading: 'lazy' }))));
}

async function eventDetail(e, deptNames, catNames) {
  const d = e.data || {};
  const bits = [];
  if (e.action === 'register' && d.case) {
    bits.push(name('channel', d.case.channel, ''));
  }
  if (d.dept) bits.push(t('部门：', 'Department: ') + (deptNames.get(d.dept) || d.dept));
  if (d.result !== undefined) bits.push(d.result ? t('核实属实', 'Confirmed on site') : t('核实不属实', 'Not confirmed'));
  if (d.limit) bits.push(t('时长：', 'Limit: ') + d.limit);
  if (d.category) bits.push(t('类别：', 'Category: ') + (catNames.get(d.category) || d.category));
  if (d.satisfaction) bits.push(t('满意度：', 'Satisfaction: ') + name('satisfaction', d.satisfaction));
  if (d.contacted === false) bits.push(t('未联系上', 'Not reached'));
  if (d.close_type) bits.push({ normal: t('正常结案', 'Normal closure'), overdue: t('超时结案', 'Closed late'), special: t('特殊结案', 'Special closure') }[d.close_type] || d.close_type);
  if (d.late) bits.push(t('超时办理', 'Late'));
  if (d.into) bits.push(t('合并到 ', 'Merged into ') + d.into);
  return bits;
}

export default async function casePage(main, { arg, user }) {
  let c;
  try {
    c = await get('/api/v1/cases/' + encodeURIComponent(arg));
  } catch (e) {
    main.append(h('div', { class: 'panel', role: 'alert' }, h('h1', null, t('无法打开案件', 'Cannot open the case')), h('p', null, e.message), h('a', { href: '#/' }, t('返回', 'Back'))));
    return;
  }
  let map = null;
  const deptList = await departments().catch(() => ({ items: [] }));
  const deptNames = new Map(deptList.items.map((d) => [d.code, d.name]));
  const names = await categoryNames().catch(() => new Map());
  const catNames = new Map([...names].map(([k, v]) => [k, t(v.zh, v.en)]));

  const head = h('div', { class: 'case-head' });
  const left = h('div');
  const right = h('div');
  const actionsPanel = h('section', { class: 'panel', 'aria-labelledby': 'act-h', id: 'case-actions' });
  const timelinePanel = h('section', { class: 'panel', 'aria-labelledby': 'tl-h' });
  const mapEl = h('div', { class: 'map', style: { height: '300px' } });

  const renderHead = () => {
    put(clear(head),
      h('button', { type: 'button', class: 'btn btn-sm', onclick: () => (history.length > 1 ? history.back() : (location.hash = '#/')) }, '← ', t('返回', 'Back')),
      h('h1', { id: 'case-title' }, c.number), stateBadge(c), lightBadge(c),
      c.severity !== 'normal' ? h('span', { class: 'sev sev-tag-' + c.severity }, icon('flag', { size: 14 }), ' ' + name('severity', c.severity, c.severity_zh)) : null,
      h('span', { class: 'muted' }, name('channel', c.channel, c.channel_zh)));
  };

  const renderFacts = () => {
    const a = c.areas || {};
    const where = [a.district, a.street, a.community, a.grid].filter(Boolean).map((x) => x.name).join(' › ');
    const who = c.caller && (c.caller.name || c.caller.phone) ? [c.caller.name, c.caller.phone].filter(Boolean).join(' · ') : c.reporter ? t('上报人：', 'Reporter: ') + c.reporter : t('匿名', 'Anonymous');
    clear(left).append(
      h('section', { class: 'panel', 'aria-labelledby': 'facts-h' },
        h('h2', { id: 'facts-h' }, t('案件要素', 'The case')),
        facts([
          [t('谁', 'Who'), who],
          [t('何时', 'When'), fmtTime(c.created, { year: true })],
          [t('何地', 'Where'), where],
          [t('详细地址', 'Address'), c.address],
          [t('类别', 'Category'), c.category ? `${catNames.get(c.category) || c.category_name} (${c.category})` : c.request_type ? name('request_type', c.request_type, c.request_type_zh) : t('未分类', 'Unclassified')],
          [t('诉求类型', 'Request'), c.request_type ? name('request_type', c.request_type, c.request_type_zh) : null],
          [t('处置部门', 'Department'), c.dept_name || (c.routed_dept_name ? t('建议：', 'Suggested: ') + c.routed_dept_name : null)],
          [t('当前时限', 'Due'), dueOf(c) ? fmtTime(dueOf(c), { year: true }) : null],
          [t('满意度', 'Satisfaction'), c.satisfaction ? name('satisfaction', c.satisfaction) : null],
        ]),
        h('h3', { class: 'sr-only' }, t('描述', 'Description')),
        h('div', { class: 'description', id: 'case-description', style: { marginTop: '12px' } }, c.description),
        gallery(c.photos, t('照片', 'Photo'))),
      timelinePanel);
  };

  const renderActions = () => {
    clear(actionsPanel).append(h('h2', { id: 'act-h' }, t('办理', 'Take action')));
    const btns = actionButtons(c, async (updated) => {
      c = await get('/api/v1/cases/' + c.id).catch(() => updated);
      renderAll();
    }, { row: true });
    if (!btns.length) {
      actionsPanel.append(h('p', { class: 'muted', id: 'no-actions' }, user.role === 'leader' ? t('只读：领导岗位不办理案件。', 'Read-only: leaders do not act on cases.') : t('当前状态下您没有可执行的操作。', 'There is nothing for you to do on this case now.')));
    } else {
      actionsPanel.append(h('div', { class: 'action-buttons' }, btns));
    }
  };

  const renderTimeline = async () => {
    // a note (备注) belongs with the history
    const note = actionButtons(c, async () => {
      c = await get('/api/v1/cases/' + c.id).catch(() => c);
      renderAll();
    }, { small: true, only: ['comment'] });
    clear(timelinePanel).append(h('div', { class: 'panel-head' }, h('h2', { id: 'tl-h' }, t('办理过程', 'Timeline')), note));
    try {
      const r = await get(`/api/v1/cases/${c.id}/events`);
      const ol = h('ol', { class: 'timeline', id: 'timeline' });
      for (const e of r.events) {
        const bits = await eventDetail(e, deptNames, catNames);
        ol.append(h('li', { 'data-action': e.action },
          h('div', { class: 'when' }, fmtTime(e.ts, { year: true }), ' · ', (e.actor ? (e.actor_name || e.actor) : t('市民', 'Citizen')), e.role ? ` (${name('role', e.role, e.role)})` : ''),
          h('div', { class: 'what' }, actionLabel({ action: e.action, label: e.action_zh }),
            e.to && e.from !== e.to ? h('span', { class: 'muted' }, ' → ' + name('state', e.to, e.to)) : null),
          bits.length ? h('div', { class: 'muted' }, bits.join(' · ')) : null,
          e.data && e.data.note ? h('div', { class: 'note' }, e.data.note) : null,
          gallery(e.data && e.data.photos, t('照片', 'Photo'))));
      }
      timelinePanel.append(ol);
    } catch (e) {
      timelinePanel.append(h('p', { class: 'error-text' }, e.message));
    }
  };

  const renderMap = async () => {
    if (!map) map = new AreaMap(mapEl, { ariaLabel: t('案件位置地图', 'Map of the case location'), labels: true });
    try {
      // the finest level that has areas: grids of the community, else its street's communities…
      const tries = [['grid', c.community], ['community', c.street], ['street', c.district], ['district', null]].filter(([, w], i) => w || i === 3);
      for (const [level, within] of tries) {
        if ((await map.show(level, within)).count) break;
      }
      if (c.location) map.setPin(c.location.lon, c.location.lat);
    } catch (e) {
      showError(e);
    }
  };

  const dupSlot = h('div');
  const renderAll = () => {
    renderHead();
    renderFacts();
    renderActions();
    renderTimeline();
    clear(dupSlot).append(caseDuplicates(c, { onChange: async (u) => { c = await get('/api/v1/cases/' + c.id).catch(() => u); renderAll(); } }));
  };

  main.append(head, h('div', { class: 'cols-case' }, left, right));
  right.append(actionsPanel, dupSlot, h('section', { class: 'panel', 'aria-label': t('位置', 'Location') }, h('h2', null, t('位置', 'Location')), h('div', { class: 'map-wrap' }, mapEl),
    c.location ? h('p', { class: 'muted', style: { margin: '6px 0 0' } }, `${c.location.lon.toFixed(5)}, ${c.location.lat.toFixed(5)} (WGS84)`) : null));
  renderAll();
  renderMap();
  return () => map && map.dispose();
}
