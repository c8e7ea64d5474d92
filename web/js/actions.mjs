// actions.mjs — one dialog per workflow action, with exactly the parameters
// the workflow table asks for (src/domain/workflow.c). runAction resolves
// with the updated case, or null when cancelled.

import { h, clear, field, toast, newId, lightBadge } from './dom.mjs';
import { t, name, isEn } from './i18n.mjs';
import { get, post, departments } from './api.mjs';
import { categoryPicker, photoPicker } from './widgets.mjs';

/* Actions that are tidying rather than the next step: shown after the others. */
export const SECONDARY = new Set(['reclassify', 'merge', 'comment']);
/* Actions kept out of queue rows (they live on the case page). */
const ROW_HIDDEN = new Set(['comment']);
/* Actions that change nothing irreversible and need no parameters. */
const NO_FORM = new Set(['accept', 'verify_request', 'request_check', 'resume', 'approve_suspension']);
const DANGER = new Set(['void', 'send_back', 'check_fail', 'reject_extension', 'reject_suspension', 'reopen']);

export function actionLabel(a) {
  return name('action', a.action || a, a.label);
}

export function actionClass(action) {
  if (DANGER.has(action)) return 'btn btn-danger';
  if (SECONDARY.has(action)) return 'btn';
  return 'btn btn-primary';
}

function note({ required = false, label, placeholder } = {}) {
  const ta = h('textarea', { name: 'note', rows: 3, maxlength: 1000, placeholder: placeholder || '' });
  return { el: field(label || (required ? t('说明', 'Note') : t('说明（可选）', 'Note (optional)')), ta, { required }), get: () => ta.value.trim(), input: ta };
}

function radios(legend, nameAttr, options, checked) {
  const fs = h('fieldset', { class: 'radios' }, h('legend', null, legend));
  for (const [value, label, cls] of options) {
    fs.append(h('label', { class: cls || null }, h('input', { type: 'radio', name: nameAttr, value, checked: value === checked }), label));
  }
  return { el: fs, get: () => { const c = fs.querySelector('input:checked'); return c ? c.value : null; } };
}

export function severityRadios(checked = 'normal') {
  return radios(t('紧急程度', 'Severity'), 'severity-' + newId('s'), [
    ['normal', t('一般', 'Normal'), 'sev-normal'],
    ['urgent', t('紧急', 'Urgent'), 'sev-urgent'],
    ['critical', t('特急', 'Critical'), 'sev-critical'],
  ], checked);
}

const LIMITS = [
  ['4wh', '4 个工作小时', '4 working hours'], ['1wd', '1 个工作日', '1 working day'], ['2wd', '2 个工作日', '2 working days'],
  ['3wd', '3 个工作日', '3 working days'], ['5wd', '5 个工作日', '5 working days'], ['10wd', '10 个工作日', '10 working days'],
];

function limitSelect(label, selected = '2wd') {
  const sel = h('select', { name: 'limit' });
  let found = false;
  for (const [v, zh, en] of LIMITS) {
    sel.append(h('option', { value: v, selected: v === selected }, t(zh, en)));
    if (v === selected) found = true;
  }
  if (!found && selected) sel.append(h('option', { value: selected, selected: true }, selected));
  return { el: field(label, sel, { required: true }), get: () => sel.value };
}

async function lastEventData(c, action) {
  try {
    const r = await get(`/api/v1/cases/${c.id}/events`);
    const evs = r.events.filter((e) => e.action === action);
    return evs.length ? evs[evs.length - 1].data || {} : {};
  } catch {
    return {};
  }
}

/* Builds the fields of one action: {nodes: [...], params: async () => object} */
async function buildForm(c, action) {
  const nodes = [];
  let params = async () => ({});
  switch (action) {
    case 'verify': {
      const r = radios(t('核实结果', 'Finding'), 'result', [['true', t('属实', 'Confirmed')], ['false', t('不属实', 'Not confirmed')]], 'true');
      const n = note();
      const p = photoPicker({ capture: true, label: t('现场照片（可选）', 'Site photos (optional)') });
      nodes.push(r.el, n.el, p.el);
      params = async () => ({ result: r.get() === 'true', note: n.get() || undefined, photos: await p.ids() });
      break;
    }
    case 'file':
    case 'reclassify': {
      const cp = await categoryPicker({ required: action === 'file' && !c.request_type, initial: c.category ? c.category : '' });
      const sev = severityRadios(c.severity || 'normal');
      const n = note();
      nodes.push(cp.el, sev.el, n.el);
      params = async () => {
        const o = { severity: sev.get(), note: n.get() || undefined };
        if (cp.value() && cp.value() !== c.category) o.category = cp.value();
        else if (action === 'file' && cp.value()) o.category = cp.value();
        return o;
      };
      break;
    }
    case 'dispatch': {
      const d = await departments();
      const sel = h('select', { name: 'dept', required: true });
      const routed = c.routed_dept || '';
      const groups = new Map();
      for (const dep of d.items) {
        const key = dep.area ? dep.area.slice(0, 6) : 'city';
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(dep);
      }
      if (!routed) sel.append(h('option', { value: '' }, t('— 请选择处置部门 —', '— choose a department —')));
      // the routed department and those of the case's district first
      const district = c.district || '';
      const order = [...groups.keys()].sort((a, b) => (b === district) - (a === district) || (b === 'city') - (a === 'city') || a.localeCompare(b));
      for (const key of order) {
        const label = key === 'city' ? t('市级部门', 'City departments') : key === district ? t('本区部门', 'Departments of this district') + ` (${(c.areas && c.areas.district && c.areas.district.name) || key})` : key;
        const og = h('optgroup', { label });
        for (const dep of groups.get(key)) og.append(h('option', { value: dep.code, selected: dep.code === routed }, dep.name + (dep.code === routed ? t('（系统建议）', ' (suggested)') : '')));
        sel.append(og);
      }
      const hint = routed ? t(`按路由规则建议派往：${c.routed_dept_name || routed}`, `Routing suggests: ${c.routed_dept_name || routed}`) : t('没有匹配的路由规则，请选择部门', 'No routing rule matched: choose a department');
      const n = note();
      nodes.push(field(t('处置部门', 'Department'), sel, { required: true, hint }), n.el);
      params = async () => ({ dept: sel.value, note: n.get() || undefined });
      break;
    }
    case 'handle': {
      const n = note({ required: true, label: t('处置情况', 'What was done'), placeholder: t('如：已清理完毕，现场恢复整洁', 'e.g. cleared, the site is clean again') });
      const p = photoPicker({ capture: true, label: t('处置后照片', 'Photos after handling') });
      nodes.push(n.el, p.el);
      params = async () => ({ note: n.get(), photos: await p.ids() });
      break;
    }
    case 'check_pass':
    case 'check_fail': {
      const n = note({ required: action === 'check_fail', label: action === 'check_fail' ? t('不通过原因', 'Why it failed') : undefined });
      const p = photoPicker({ capture: true, label: t('核查照片（可选）', 'Check photos (optional)') });
      nodes.push(n.el, p.el);
      params = async () => ({ note: n.get() || undefined, photos: await p.ids() });
      break;
    }
    case 'request_extension': {
      const l = limitSelect(t('申请延长', 'Extend by'), '2wd');
      const n = note({ required: true, label: t('延期理由', 'Reason') });
      nodes.push(l.el, n.el);
      params = async () => ({ limit: l.get(), note: n.get() });
      break;
    }
    case 'approve_extension': {
      const asked = await lastEventData(c, 'request_extension');
      const l = limitSelect(t('批准延长', 'Extend by'), asked.limit || '2wd');
      if (asked.note) nodes.push(h('p', { class: 'muted' }, t('申请理由：', 'Reason given: '), asked.note));
      const n = note();
      nodes.push(l.el, n.el);
      params = async () => ({ limit: l.get(), note: n.get() || undefined });
      break;
    }
    case 'close': {
      const r = radios(t('结案类型', 'Closure'), 'close_type', [['normal', t('正常结案', 'Normal')], ['special', t('特殊结案', 'Special')]], 'normal');
      const n = note({ label: t('说明（特殊结案必填）', 'Note (required for special closure)') });
      nodes.push(r.el, n.el);
      params = async () => ({ close_type: r.get() === 'special' ? 'special' : undefined, note: n.get() || undefined });
      break;
    }
    case 'visit': {
      const reached = h('input', { type: 'checkbox', name: 'contacted', checked: true, id: newId('c') });
      const s = radios(t('满意度', 'Satisfaction'), 'satisfaction', [
        ['satisfied', t('满意', 'Satisfied')], ['basic', t('基本满意', 'Basically satisfied')], ['unsatisfied', t('不满意', 'Unsatisfied')],
      ], 'satisfied');
      const n = note();
      reached.addEventListener('change', () => { s.el.disabled = !reached.checked; });
      nodes.push(h('div', { class: 'field' }, h('label', { for: reached.id, style: { fontWeight: 400 } }, reached, ' ', t('已联系上市民', 'The citizen was reached'))), s.el, n.el);
      params = async () => (reached.checked ? { contacted: true, satisfaction: s.get(), note: n.get() || undefined } : { contacted: false, note: n.get() || undefined });
      break;
    }
    case 'merge': {
      const inp = h('input', { type: 'text', name: 'into', inputmode: 'numeric', pattern: '\\d{13}', maxlength: 13, required: true });
      const n = note();
      nodes.push(field(t('合并到案件编号', 'Merge into case number'), inp, { required: true, hint: t('13 位案件编号', '13-digit case number') }), n.el);
      params = async () => ({ into: inp.value.trim(), note: n.get() || undefined });
      break;
    }
    case 'comment': {
      const n = note({ required: true, label: t('备注内容', 'Note'), placeholder: t('写入案件办理过程，相关岗位都能看到', 'Goes into the case history for everyone on the case') });
      nodes.push(n.el);
      params = async () => ({ note: n.get() });
      break;
    }
    case 'void':
    case 'send_back':
    case 'reject_extension':
    case 'reject_suspension':
    case 'request_suspension':
    case 'reopen':
    case 'answer': {
      const labels = {
        void: [t('作废原因', 'Why void')], send_back: [t('回退原因', 'Why send back'), t('如：不属于本部门职责', 'e.g. not this department\'s duty')],
        reject_extension: [t('驳回理由', 'Reason')], reject_suspension: [t('驳回理由', 'Reason')],
        request_suspension: [t('挂账理由', 'Why suspend'), t('如：需协调多部门、季节性原因', 'e.g. needs several departments; seasonal')],
        reopen: [t('重办原因', 'Why reopen')], answer: [t('答复内容', 'Answer given'), t('已向市民答复的内容', 'What the citizen was told')],
      }[action];
      const n = note({ required: true, label: labels[0], placeholder: labels[1] });
      nodes.push(n.el);
      params = async () => ({ note: n.get() });
      break;
    }
    default: {
      const n = note();
      nodes.push(n.el);
      params = async () => ({ note: n.get() || undefined });
    }
  }
  return { nodes, params };
}

function clean(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (Array.isArray(v) && !v.length) continue;
    out[k] = v;
  }
  return out;
}

export async function submitAction(c, action, params) {
  return post(`/api/v1/cases/${encodeURIComponent(c.id)}/actions/${encodeURIComponent(action)}`, clean(params));
}

/* What the dialog is about: category, place, light and the description. */
function caseSummary(c) {
  const a = c.areas || {};
  const where = [a.district, a.street, a.community].filter(Boolean).map((x) => x.name).join(' · ');
  return h('div', { class: 'dlg-case' },
    h('div', { class: 'dlg-case-top' }, lightBadge(c), h('strong', null, c.category_name || name('request_type', c.request_type, c.request_type_zh) || t('未分类', 'Unclassified')), h('span', { class: 'muted' }, where)),
    h('div', { class: 'dlg-case-desc' }, c.description));
}

/* Opens the dialog for one action; resolves with the updated case or null. */
export async function runAction(c, action) {
  const { nodes, params } = await buildForm(c, action);
  const titleId = newId('dlg');
  const err = h('div', { class: 'error-text', role: 'alert' });
  const ok = h('button', { type: 'submit', class: actionClass(action).replace('btn ', 'btn ') }, t('确认', 'Confirm') + ' · ' + actionLabel(action));
  const cancel = h('button', { type: 'button', class: 'btn' }, t('取消', 'Cancel'));
  const form = h('form', { method: 'dialog', novalidate: false },
    h('div', { class: 'dialog-head' }, h('h2', { id: titleId }, actionLabel(action)), h('span', { class: 'muted num' }, c.number)),
    h('div', { class: 'dialog-body' }, caseSummary(c), NO_FORM.has(action) && nodes.length === 1 ? h('p', null, t('确认对该案件执行此操作？', 'Take this action on the case?')) : null, nodes, err),
    h('div', { class: 'dialog-foot' }, cancel, ok));
  const dlg = h('dialog', { class: 'action-dialog', 'aria-labelledby': titleId, 'data-action': action }, form);
  document.body.append(dlg);
  return new Promise((resolve) => {
    let done = false;
    const finish = (v) => {
      if (done) return;
      done = true;
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    cancel.addEventListener('click', () => finish(null));
    dlg.addEventListener('cancel', (e) => { e.preventDefault(); finish(null); });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      err.textContent = '';
      ok.disabled = true;
      try {
        const updated = await submitAction(c, action, await params());
        toast(t(`${c.number}：${actionLabel(action)}完成`, `${c.number}: ${actionLabel(action)} done`), 'ok');
        finish(updated);
      } catch (ex) {
        err.textContent = '⚠ ' + ex.message;
        ok.disabled = false;
      }
    });
    dlg.showModal();
    const first = form.querySelector('.dialog-body input:not([type=radio]):not([type=checkbox]):not([type=file]), .dialog-body textarea, .dialog-body select') || ok;
    first.focus();
  });
}

/* Buttons for a case's allowed actions (main ones first). */
export function actionButtons(c, onDone, { small = false, row = false, only } = {}) {
  const acts = (c.allowed_actions || [])
    .filter((a) => (only ? only.includes(a.action) : !(row && ROW_HIDDEN.has(a.action))))
    .sort((a, b) => SECONDARY.has(a.action) - SECONDARY.has(b.action));
  return acts.map((a) => h('button', {
    type: 'button', class: actionClass(a.action) + (small ? ' btn-sm' : ''), 'data-action': a.action,
    onclick: async (e) => {
      const btn = e.currentTarget;
      btn.disabled = true;
      try {
        const updated = await runAction(c, a.action);
        if (updated) onDone(updated, a.action);
      } catch (ex) {
        toast(ex.message, 'error');
      } finally {
        btn.disabled = false;
      }
    },
  }, actionLabel(a)));
}

export { isEn, clear };
