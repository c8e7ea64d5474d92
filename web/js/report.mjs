// report.mjs — the citizens' page (/report): report a problem (map pick or
// area search, photo, description) and check a case's status by its number.
// Uses only the public endpoints: POST /api/v1/public/media,
// POST /api/v1/public/cases, GET /api/v1/public/cases/{number}.

import { h, clear, field, fmtTime, showError, toast } from './dom.mjs';
import { t, name, applyStatic, langButton, onLangChange } from './i18n.mjs';
import { get, post } from './api.mjs';
import { categoryPicker, locationPicker, photoPicker } from './widgets.mjs';

const reportPanel = document.getElementById('panel-report');
const statusPanel = document.getElementById('panel-status');
const tabs = [document.getElementById('tab-report'), document.getElementById('tab-status')];

function select(tab, focus = false) {
  for (const b of tabs) {
    const on = b === tab;
    b.setAttribute('aria-selected', on ? 'true' : 'false');
    b.tabIndex = on ? 0 : -1;
    document.getElementById(b.getAttribute('aria-controls')).hidden = !on;
  }
  if (focus) tab.focus();
  history.replaceState(null, '', tab.id === 'tab-status' ? '#status' : '#report');
}
tabs.forEach((b, i) => {
  b.addEventListener('click', () => select(b));
  b.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') select(tabs[(i + 1) % 2], true);
  });
});

/* --------------------------------------------------------------- report */

let picker = null;
let generation = 0;
async function buildReport() {
  const my = ++generation;
  if (picker) picker.dispose();
  picker = null;
  clear(reportPanel);
  const cat = await categoryPicker();
  if (my !== generation) return; // a newer build (language switch) took over
  const photos = photoPicker({ publicUpload: true, capture: true, label: t('现场照片（可选，最多 8 张）', 'Photos (optional, up to 8)') });
  picker = locationPicker({ mapHeight: 320 });
  const desc = h('textarea', { name: 'description', rows: 4, maxlength: 600, required: true, placeholder: t('请描述您看到的问题，如：XX路口东侧井盖缺失，夜间很危险', 'Describe what you see, e.g. a missing manhole cover east of the crossing') });
  const cname = h('input', { type: 'text', name: 'name', maxlength: 30, autocomplete: 'name' });
  const cphone = h('input', { type: 'tel', name: 'phone', maxlength: 20, autocomplete: 'tel', inputmode: 'tel' });
  const err = h('div', { class: 'error-text', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-lg' }, t('提交上报', 'Send report'));
  const result = h('div', { id: 'report-result', 'aria-live': 'assertive' });
  desc.addEventListener('input', () => { if (!cat.value()) cat.suggestFrom(desc.value); });
  const form = h('form', { 'aria-label': t('上报问题', 'Report a problem') },
    field(t('问题描述', 'What is wrong'), desc, { required: true }),
    photos.el,
    picker.el,
    h('details', null, h('summary', null, t('问题类别（可选，不确定可不选）', 'Category (optional)')), h('div', { style: { marginTop: '8px' } }, cat.el)),
    h('fieldset', null, h('legend', null, t('联系方式（可选，便于回访）', 'Contact (optional, for a return call)')),
      h('div', { class: 'row' }, field(t('称呼', 'Name'), cname), field(t('手机号', 'Phone'), cphone))),
    err,
    h('div', { class: 'actions-bar' }, submit, h('span', { class: 'muted' }, t('提交即表示您同意平台使用上述信息处理该问题。', 'By sending you agree that the city uses this to handle the problem.'))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    if (!desc.value.trim()) {
      err.textContent = t('请描述问题', 'Please describe the problem');
      desc.focus();
      return;
    }
    const where = picker.value();
    if (!where) {
      err.textContent = t('请选择位置：在地图上点击，或按社区、街道名称查找', 'Please give the place: click the map or search a community or street');
      picker.searchInput.focus();
      return;
    }
    submit.disabled = true;
    try {
      const body = { description: desc.value.trim(), ...where, photos: await photos.ids(), address: picker.address() || undefined };
      if (cat.value()) body.category = cat.value();
      if (cname.value.trim() || cphone.value.trim()) body.caller = { name: cname.value.trim(), phone: cphone.value.trim() };
      const c = await post('/api/v1/public/cases', body);
      showDone(c, result);
      form.hidden = true;
    } catch (ex) {
      err.textContent = '⚠ ' + ex.message;
    } finally {
      submit.disabled = false;
    }
  });
  reportPanel.append(result, form);
}

function showDone(c, host) {
  const copy = h('button', {
    type: 'button', class: 'btn',
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(c.number);
        toast(t('已复制', 'Copied'), 'ok', 2000);
      } catch {
        toast(t('请手动记下编号', 'Please note the number'), 'info');
      }
    },
  }, t('复制编号', 'Copy number'));
  const box = h('div', { class: 'result-banner', tabindex: '-1', role: 'status' },
    h('div', null,
      h('div', null, t('上报成功！您的案件编号', 'Thank you! Your case number')),
      h('div', { class: 'big', id: 'case-number' }, c.number),
      h('div', { class: 'muted' }, t('请记下编号，用于查询办理进度。', 'Keep this number to follow the case.'))),
    h('div', { class: 'copy-row' }, copy,
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => { select(tabs[1]); lookup(c.number); } }, t('查看进度', 'See progress')),
      h('button', { type: 'button', class: 'btn', onclick: () => buildReport() }, t('再报一个', 'Report another'))));
  clear(host).append(box);
  box.focus();
}

/* --------------------------------------------------------------- status */

const STEPS = [['已受理', 'Received'], ['已立案', 'Accepted'], ['已派遣', 'Dispatched'], ['已处置', 'Handled'], ['已办结', 'Closed']];
const STEP_OF = { registered: 1, verifying: 1, filed: 2, dispatched: 3, handling: 3, suspended: 3, handled: 4, checking: 4, checked: 4, closed: 5 };

const numInput = h('input', { type: 'text', name: 'number', inputmode: 'numeric', maxlength: 13, pattern: '[0-9]{13}', autocomplete: 'off', placeholder: '2026112600001' });
const statusOut = h('div', { id: 'status-result', 'aria-live': 'polite' });

async function lookup(number) {
  const n = (number || numInput.value).trim();
  numInput.value = n;
  clear(statusOut);
  if (!/^\d{13}$/.test(n)) {
    statusOut.append(h('p', { class: 'error-text', role: 'alert' }, t('案件编号为 13 位数字', 'A case number has 13 digits')));
    return;
  }
  try {
    const c = await get('/api/v1/public/cases/' + n);
    const cur = STEP_OF[c.state_detail];
    const steps = h('ol', { class: 'steps', 'aria-label': t('办理进度', 'Progress') },
      STEPS.map(([zh, en], i) => {
        const done = cur !== undefined && i < cur;
        const current = cur !== undefined && i === cur;
        return h('li', { class: done ? 'done' : current ? 'current' : null, 'aria-current': current ? 'step' : null },
          t(zh, en), done ? h('span', { class: 'sr-only' }, t('（已完成）', ' (done)')) : current ? h('span', { class: 'sr-only' }, t('（进行中）', ' (in progress)')) : null);
      }));
    const note = c.state === 'voided' ? t('该上报经核实后不予立案。', 'After review this report was not taken up.')
      : c.state === 'merged' ? t('该问题已有人上报，已合并办理。', 'Someone reported this already: the cases were merged.') : null;
    statusOut.append(h('div', { class: 'status-card', 'data-state': c.state_detail },
      h('div', { class: 'muted num' }, c.number),
      h('div', { class: 'big-state', id: 'public-state' }, name('state', c.state_detail, c.state_zh)),
      cur !== undefined ? steps : null,
      note ? h('p', null, note) : null,
      h('dl', { class: 'facts', style: { marginTop: '10px' } },
        h('dt', null, t('问题', 'Problem')), h('dd', null, c.category_name || t('待分类', 'Being classified')),
        h('dt', null, t('描述', 'Description')), h('dd', { id: 'public-description', class: 'description' }, c.description),
        h('dt', null, t('所在区', 'District')), h('dd', null, c.district ? c.district.name : '—'),
        h('dt', null, t('责任部门', 'Department')), h('dd', null, c.dept_name || t('待派遣', 'Not yet dispatched')),
        h('dt', null, t('上报时间', 'Reported')), h('dd', null, fmtTime(c.created, { year: true })),
        h('dt', null, t('最近更新', 'Last update')), h('dd', null, fmtTime(c.updated, { year: true })))));
  } catch (e) {
    statusOut.append(h('p', { class: 'error-text', role: 'alert' }, e.status === 404 ? t('没有找到该编号的案件，请核对后重试。', 'No case with this number: please check it.') : e.message));
  }
}

function buildStatus() {
  clear(statusPanel);
  const form = h('form', { role: 'search', 'aria-label': t('查询进度', 'Check a case') },
    h('div', { class: 'row', style: { alignItems: 'flex-end' } },
      field(t('案件编号', 'Case number'), numInput, { hint: t('上报成功后获得的 13 位编号', 'The 13-digit number you got when reporting') }),
      h('div', { class: 'field', style: { flex: '0 0 auto' } }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('查询', 'Check')))));
  form.addEventListener('submit', (e) => { e.preventDefault(); lookup(); });
  statusPanel.append(form, statusOut);
}

function render() {
  applyStatic(document);
  buildReport().catch(showError);
  buildStatus();
  if (numInput.value) lookup(numInput.value);
}

document.getElementById('tools').append(langButton());
onLangChange(render);
render();
const m = /^#status(?:\/(\d{13}))?$/.exec(location.hash);
if (m) {
  select(tabs[1]);
  if (m[1]) lookup(m[1]);
}
