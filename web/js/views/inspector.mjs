// views/inspector.mjs — 监督员 on a phone: report a problem with a photo and
// the phone's GPS, and the 核实/核查 tasks nearest first.

import { h, clear, field, lightBadge, lightRank, areaText, distance, fmtDistance, showError, toast } from '../dom.mjs';
import { t, name } from '../i18n.mjs';
import { get, post, qs, areaIndex } from '../api.mjs';
import { categoryPicker, locationPicker, photoPicker } from '../widgets.mjs';
import { actionButtons } from '../actions.mjs';
import { catLabel, namesReady } from './queue.mjs';
import { icon } from '../icons.mjs';

const TASK = { verifying: ['核实', 'Verify'], checking: ['核查', 'Check'] };

function locate(timeout = 10000) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new Error(t('此设备不支持定位', 'This device cannot give its position')));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve(p.coords),
      (e) => reject(new Error(t('无法获取位置：', 'Cannot get the position: ') + (e.code === 1 ? t('未授权定位', 'permission denied') : e.message))),
      { enableHighAccuracy: true, timeout, maximumAge: 30000 });
  });
}

export default async function inspector(main, { user }) {
  await namesReady;
  let here = null;
  const gps = h('div', { class: 'gps-status', 'aria-live': 'polite' }, t('正在定位…', 'Locating…'));
  const tasksEl = h('div', { id: 'tasks' });
  const reportBox = h('section', { class: 'panel', id: 'report-panel', hidden: true, 'aria-labelledby': 'rep-h' });
  const tasksPanel = h('section', { class: 'panel', 'aria-labelledby': 'tasks-h' });
  const tasksCount = h('span', { class: 'muted' });
  const scopeEl = h('span', { class: 'muted' }, user.scope ? t('责任区 ', 'Area ') + user.scope : '');
  if (user.scope) {
    areaIndex().then((idx) => {
      const a = idx.byCode.get(user.scope);
      if (a) scopeEl.textContent = t('责任区：', 'Area: ') + a.name;
    }).catch(() => {});
  }

  /* ----------------------------------------------------------- tasks */
  const loadTasks = async () => {
    try {
      const r = await get('/api/v1/cases' + qs({ inbox: 1, state: 'verifying,checking', limit: 200 }));
      const items = r.items;
      for (const c of items) c._d = here && c.location ? distance(here.longitude, here.latitude, c.location.lon, c.location.lat) : NaN;
      items.sort((a, b) => (here ? a._d - b._d : 0) || lightRank(a) - lightRank(b) || b.id - a.id);
      tasksCount.textContent = t(`${items.length} 件`, `${items.length}`);
      clear(tasksEl);
      if (!items.length) {
        tasksEl.append(h('p', { class: 'empty' }, '✓ ', t('暂无核实、核查任务', 'No verification or check tasks')));
        return;
      }
      const ul = h('ul', { class: 'task-list' });
      for (const c of items) {
        const kind = TASK[c.state] || ['', ''];
        ul.append(h('li', { class: 'task', 'data-case': c.number },
          h('div', { class: 'top' },
            h('span', { class: 'state state-' + c.state }, t(kind[0], kind[1])), lightBadge(c),
            h('a', { class: 'num', href: '#/case/' + c.id }, c.number),
            isFinite(c._d) ? h('span', { class: 'dist', title: t('距您', 'Distance from you') }, icon('locate', { size: 15 }), ' ' + fmtDistance(c._d)) : null),
          h('div', { class: 'muted' }, [catLabel(c), areaText(c)].filter(Boolean).join(' · ')),
          h('div', { class: 'd' }, c.description),
          h('div', { class: 'cell-actions' }, actionButtons(c, () => loadTasks(), { row: true }))));
      }
      tasksEl.append(ul);
    } catch (e) {
      clear(tasksEl).append(h('p', { class: 'error-text', role: 'alert' }, e.message));
    }
  };

  /* ---------------------------------------------------------- report */
  let picker = null;
  const buildReport = async () => {
    clear(reportBox);
    const photos = photoPicker({ capture: true, label: t('现场照片', 'Photo of the problem') });
    const cat = await categoryPicker();
    const desc = h('textarea', { name: 'description', rows: 3, required: true, maxlength: 600, placeholder: t('如：人行道井盖破损，有行人绊倒风险', 'e.g. broken manhole cover on the pavement') });
    picker = locationPicker({ mapHeight: 260, showAddress: true });
    const err = h('div', { class: 'error-text', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-lg', style: { width: '100%' } }, t('提交上报', 'Send report'));
    const useGps = h('button', { type: 'button', class: 'btn' }, icon('locate'), t('使用当前位置', 'Use my position'));
    useGps.addEventListener('click', async () => {
      try {
        const p = await locate();
        here = p;
        await picker.setPoint(p.longitude, p.latitude, { deep: true });
      } catch (e) {
        showError(e);
      }
    });
    desc.addEventListener('input', () => { if (!cat.value()) cat.suggestFrom(desc.value); });
    const form = h('form', null,
      h('h2', { id: 'rep-h' }, t('上报问题', 'Report a problem')),
      photos.el,
      h('div', { class: 'actions-bar', style: { marginBottom: '8px' } }, useGps),
      picker.el, cat.el, field(t('问题描述', 'Description'), desc, { required: true }), err, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.textContent = '';
      const where = picker.value();
      if (!where) {
        err.textContent = t('请定位：使用当前位置、在地图上点选或按名称查找', 'Give a location: use your position, tap the map or search by name');
        return;
      }
      submit.disabled = true;
      try {
        const body = { description: desc.value.trim(), ...where, photos: await photos.ids(), address: picker.address() || undefined };
        if (cat.value()) body.category = cat.value();
        const c = await post('/api/v1/cases', body);
        toast(t(`已上报，案件编号 ${c.number}`, `Reported: case ${c.number}`), 'ok', 8000);
        clear(reportBox).append(h('div', { class: 'result-banner', role: 'status' },
          h('div', null, h('div', null, t('上报成功，案件编号', 'Reported. Case number')), h('div', { class: 'big', id: 'case-number' }, c.number)),
          h('button', { type: 'button', class: 'btn btn-primary', onclick: () => buildReport().then(() => picker.ready).then(autoLocate) }, t('继续上报', 'Report another'))));
      } catch (ex) {
        err.textContent = '⚠ ' + ex.message;
      } finally {
        submit.disabled = false;
      }
    });
    reportBox.append(form);
  };
  const autoLocate = async () => {
    if (here && picker) await picker.setPoint(here.longitude, here.latitude, { deep: true });
  };

  const openReport = async () => {
    if (reportBox.hidden) {
      reportBox.hidden = false;
      await buildReport();
      await picker.ready;
      await autoLocate();
      reportBox.querySelector('input[type=file]').focus();
    } else {
      reportBox.hidden = true;
    }
  };

  main.append(h('div', { class: 'insp' },
    h('div', { class: 'page-head' }, h('h1', null, t('监督员巡查', 'Field inspection')), scopeEl),
    h('div', { class: 'big-actions' },
      h('button', { type: 'button', class: 'btn btn-primary', id: 'btn-report', onclick: openReport }, h('span', { class: 'ico' }, icon('camera', { size: 28 })), t('上报问题', 'Report a problem')),
      h('button', { type: 'button', class: 'btn', onclick: () => { loadTasks(); document.getElementById('tasks-h').scrollIntoView(); } }, h('span', { class: 'ico' }, icon('refresh', { size: 28 })), t('刷新任务', 'Refresh tasks'))),
    gps, reportBox,
    h('div', { style: { height: '16px' } }),
    tasksPanel));
  tasksPanel.append(h('h2', { id: 'tasks-h' }, t('核实 / 核查任务（由近及远）', 'Verify / check tasks (nearest first)'), tasksCount), tasksEl);

  loadTasks();
  locate()
    .then(async (p) => {
      here = p;
      let place = '';
      try {
        const g = await get('/api/v1/geocode' + qs({ lon: p.longitude.toFixed(7), lat: p.latitude.toFixed(7) }));
        place = [g.street && g.street.name, g.community && g.community.name, (g.grid || g.nearest_grid || {}).name].filter(Boolean).join(' · ');
      } catch { /* outside the city */ }
      clear(gps).append(icon('locate', { size: 15 }), ' ', t('已定位', 'Located'), place ? '：' + place : '', h('span', { class: 'muted' }, ` (±${Math.round(p.accuracy)} m)`));
      loadTasks();
      if (picker) autoLocate();
    })
    .catch((e) => {
      clear(gps).append(h('span', { class: 'error-text' }, '⚠ ', e.message), ' ', h('span', { class: 'muted' }, t('任务按紧急程度排序；上报时可在地图上选点。', 'Tasks are sorted by urgency; pick the place on the map when reporting.')));
    });
  return () => {};
}

export { name };
