// classify.mjs — 智能分类建议 for the hotline console: while the operator
// types the description, POST /api/v1/classify (debounced) and show the top
// 3 subclasses with department, request type and severity; a click or
// Alt+1/2/3 confirms one (onPick fills the form). Text from the server is
// only ever set as text (h() makes text nodes), never as HTML.

import { h, clear } from './dom.mjs';
import { t, name } from './i18n.mjs';
import { post } from './api.mjs';

const SEV = { normal: ['一般', 'Normal'], urgent: ['紧急', 'Urgent'], critical: ['特急', 'Critical'] };

/* {el, update(text, where), pick(i), dispose()} — where: {location:{lon,lat}} | {area} | null. */
export function classifySuggestions({ onPick, minChars = 4, delay = 300 }) {
  const list = h('ol', { class: 'clf-list', id: 'clf-suggestions' });
  const status = h('p', { class: 'muted clf-status', 'aria-live': 'polite' }, t('输入问题描述后自动给出分类建议', 'Suggestions appear as you type the description'));
  const el = h('section', { class: 'clf-panel', 'aria-labelledby': 'clf-h' },
    h('h3', { id: 'clf-h' }, t('智能分类建议', 'Suggested categories'), ' ', h('span', { class: 'muted' }, t('（Alt+1/2/3 一键确认）', '(Alt+1/2/3 to confirm)'))),
    status, list);
  let items = [];
  let timer = null;
  let seq = 0;
  let lastKey = '';

  const render = (r) => {
    clear(list);
    items = r.top.map((s) => ({ ...s, request_type: r.request_type, severity: r.severity }));
    items.forEach((s, i) => {
      const dept = s.department ? s.department.name : t('待派遣员确定', 'left to the dispatcher');
      const sev = SEV[s.severity] || [s.severity, s.severity];
      const btn = h('button', { type: 'button', class: 'clf-pick', 'data-code': s.code, onclick: () => pick(i) },
        h('kbd', null, `Alt+${i + 1}`), ' ',
        h('strong', { class: 'clf-name' }, s.minor), ' ',
        h('span', { class: 'muted' }, s.major), ' · ',
        h('span', { class: 'clf-dept' }, dept), ' · ',
        h('span', { class: 'clf-rt' }, name('request_type', s.request_type, r.request_type_zh)), ' · ',
        h('span', { class: 'clf-sev sev-' + s.severity }, t(sev[0], sev[1])), ' ',
        h('span', { class: 'clf-score' }, `${Math.round(s.score * 100)}%`));
      list.append(h('li', null, btn));
    });
    status.textContent = r.danger || r.severity === 'critical'
      ? t('⚠ 描述中有危险情形（特急）', '⚠ The description mentions an immediate danger (critical)')
      : t('点击或按 Alt+数字 确认，类别、诉求类型和紧急程度随之填入', 'Click or press Alt+number to fill category, request type and severity');
  };

  const run = async (text, where) => {
    const my = ++seq;
    try {
      const body = { text };
      if (where && where.location) Object.assign(body, { lon: where.location.lon, lat: where.location.lat });
      else if (where && where.area) body.area = where.area;
      const r = await post('/api/v1/classify', body);
      if (my === seq) render(r);
    } catch (e) {
      if (my !== seq) return;
      clear(list);
      items = [];
      status.textContent = e.code === 'classifier_not_ready'
        ? t('分类模型正在训练，稍后再试', 'The model is being trained; try again shortly')
        : t('暂时无法给出建议：', 'No suggestions: ') + e.message;
    }
  };

  const update = (text, where) => {
    const s = (text || '').trim();
    clearTimeout(timer);
    if ([...s].length < minChars) {
      seq++;
      clear(list);
      items = [];
      lastKey = '';
      return;
    }
    const key = s + '|' + JSON.stringify(where || null);
    if (key === lastKey) return;
    lastKey = key;
    timer = setTimeout(() => run(s.slice(0, 600), where), delay);
  };

  const pick = (i) => {
    const s = items[i];
    if (!s) return false;
    onPick(s);
    list.querySelectorAll('.clf-pick').forEach((b, j) => b.setAttribute('aria-pressed', j === i ? 'true' : 'false'));
    status.textContent = t(`已选择：${s.minor}`, `Chosen: ${s.minor}`);
    return true;
  };

  const keys = (e) => {
    if (e.altKey && !e.ctrlKey && !e.metaKey && ['1', '2', '3'].includes(e.key)) {
      if (pick(Number(e.key) - 1)) e.preventDefault();
    }
  };
  document.addEventListener('keydown', keys);
  const reset = () => { seq++; clearTimeout(timer); clear(list); items = []; lastKey = ''; };
  return { el, update, pick, reset, dispose: () => { clearTimeout(timer); document.removeEventListener('keydown', keys); } };
}
