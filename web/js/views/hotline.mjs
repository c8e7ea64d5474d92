// views/hotline.mjs — 一号受理: the 12345 hotline console. The caller's
// phone looks up earlier cases; the form takes the five elements (who, when,
// where, cause, what); on submit the case number is shown at once.
// Keyboard: Alt+P phone, Alt+L location, Alt+C category, Alt+D description,
// Alt+1/2/3 confirm a suggested category (classify.mjs), Ctrl+Enter submit.

import { h, clear, field, fmtTime, stateBadge, showError, beijingNowLocal, newId } from '../dom.mjs';
import { t, name } from '../i18n.mjs';
import { get, post, qs, taxonomy } from '../api.mjs';
import { categoryPicker, locationPicker } from '../widgets.mjs';
import { severityRadios } from '../actions.mjs';
import { classifySuggestions } from '../classify.mjs';
import { intakeDuplicates } from '../duplicates.mjs';

const enc = new TextEncoder();

export default async function hotline(main) {
  const tax = await taxonomy();

  /* ---------------------------------------------- the caller's history */
  const phone = h('input', { type: 'tel', name: 'phone', inputmode: 'tel', autocomplete: 'off', maxlength: 20, pattern: '\\+?[0-9\\-]{5,20}' });
  const lookupBtn = h('button', { type: 'button', class: 'btn' }, t('查询来电', 'Look up'));
  const history = h('div', { 'aria-live': 'polite', id: 'caller-history' }, h('p', { class: 'muted' }, t('输入来电号码后按回车，查看该市民以往的诉求。', 'Type the caller\'s number and press Enter to see earlier cases.')));
  let lastLooked = '';
  const lookup = async () => {
    const p = phone.value.trim();
    if (!p || p === lastLooked) return;
    lastLooked = p;
    clear(history).append(h('p', { class: 'muted' }, t('查询中…', 'Searching…')));
    try {
      const r = await get('/api/v1/cases' + qs({ phone: p, limit: 50 }));
      clear(history);
      history.append(h('h3', { class: 'sr-only' }, t('以往案件', 'Earlier cases')));
      if (!r.items.length) {
        history.append(h('p', { class: 'muted', 'data-history-count': '0' }, t('该号码没有以往案件（首次来电）。', 'No earlier cases for this number (first call).')));
        return;
      }
      history.append(h('p', { 'data-history-count': String(r.items.length) }, h('strong', null, t(`以往案件 ${r.items.length} 件`, `${r.items.length} earlier case(s)`)),
        r.items[0].caller && r.items[0].caller.name ? h('span', { class: 'muted' }, ' · ' + r.items[0].caller.name) : null));
      const ul = h('ul', { class: 'caller-history' });
      for (const c of r.items) {
        ul.append(h('li', null,
          h('div', { class: 'top' }, h('a', { class: 'num', href: '#/case/' + c.id, target: '_blank', rel: 'noopener' }, c.number), stateBadge(c), h('span', { class: 'muted' }, fmtTime(c.created, { year: true }))),
          h('div', { class: 'muted' }, [c.request_type ? name('request_type', c.request_type, c.request_type_zh) : null, c.category_name].filter(Boolean).join(' · ')),
          h('div', { class: 'd' }, c.description)));
      }
      history.append(ul);
      if (!callerName.value && r.items[0].caller && r.items[0].caller.name) callerName.value = r.items[0].caller.name;
    } catch (e) {
      clear(history).append(h('p', { class: 'error-text', role: 'alert' }, e.message));
      lastLooked = '';
    }
  };
  phone.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); lookup(); } });
  phone.addEventListener('change', lookup);
  lookupBtn.addEventListener('click', () => { lastLooked = ''; lookup(); });

  const callerPanel = h('section', { class: 'panel', 'aria-labelledby': 'caller-h' },
    h('h2', { id: 'caller-h' }, h('span', { class: 'step', 'aria-hidden': 'true' }, '1'), t('来电人（谁）', 'Caller (who)')),
    h('div', { class: 'row', style: { alignItems: 'flex-end' } }, field(t('来电号码', 'Caller\'s phone'), phone, { hint: t('Alt+P 跳到此处', 'Alt+P jumps here') }), h('div', { class: 'field', style: { flex: '0 0 auto' } }, lookupBtn)),
    null);
  const callerName = h('input', { type: 'text', name: 'caller_name', maxlength: 60, autocomplete: 'off' });
  callerPanel.append(field(t('来电人姓名', 'Caller\'s name'), callerName, { hint: t('可选；市民要求保密时留空', 'Optional; leave empty if the caller asks for privacy') }), history);

  /* ------------------------------------------------------------- form */
  const rt = h('select', { name: 'request_type' });
  for (const r of tax.request_types) rt.append(h('option', { value: r.code, selected: r.code === 'complaint' }, name('request_type', r.code, r.name)));
  const when = h('input', { type: 'datetime-local', name: 'when', value: beijingNowLocal(), max: beijingNowLocal() });
  const loc = locationPicker({ mapHeight: 340 });
  const cat = await categoryPicker();
  const cause = h('textarea', { name: 'description', rows: 4, maxlength: 1200, required: true, placeholder: t('市民反映的问题：发生了什么、现场情况', 'What happened, what the caller sees') });
  const causeCount = h('div', { class: 'counter', 'aria-live': 'off' });
  const demand = h('textarea', { name: 'demand', rows: 2, maxlength: 400, placeholder: t('市民希望如何处理，如：尽快清理、要求回复', 'What the caller wants done') });
  const sev = severityRadios('normal');
  const err = h('div', { class: 'error-text', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-lg' }, t('提交受理', 'Register case'), ' ', h('kbd', null, 'Ctrl'), h('kbd', null, 'Enter'));
  const reset = h('button', { type: 'button', class: 'btn' }, t('清空', 'Clear'));
  const banner = h('div', { id: 'intake-result', 'aria-live': 'assertive' });

  const composed = () => {
    let d = cause.value.trim();
    if (demand.value.trim()) d += `\n【${t('诉求', 'Request')}】${demand.value.trim()}`;
    if (when.value) {
      const w = when.value.replace('T', ' ');
      if (Math.abs(Date.parse(when.value + ':00+08:00') - Date.now()) > 15 * 60 * 1000) d += `\n【${t('发生时间', 'When')}】${w}`;
    }
    return d;
  };
  const updateCount = () => {
    const n = enc.encode(composed()).length;
    causeCount.textContent = t(`${n} / 2047 字节`, `${n} / 2047 bytes`);
    causeCount.classList.toggle('over', n > 2047);
  };
  let suggestTimer = null;
  /* 智能分类建议: one key fills category, request type and severity */
  const clf = classifySuggestions({
    onPick: (s) => {
      cat.set(s.code);
      if ([...rt.options].some((o) => o.value === s.request_type)) rt.value = s.request_type;
      const r = sev.el.querySelector(`input[value="${s.severity}"]`);
      if (r) r.checked = true;
    },
  });
  cause.addEventListener('input', () => {
    updateCount();
    clf.update(cause.value, loc.value());
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(() => { if (!cat.value()) cat.suggestFrom(cause.value); }, 250);
  });
  demand.addEventListener('input', updateCount);
  updateCount();

  const form = h('form', { class: 'intake', 'aria-labelledby': 'intake-h', novalidate: false },
    h('section', { class: 'panel' },
      h('h2', { id: 'intake-h' }, h('span', { class: 'step', 'aria-hidden': 'true' }, '2'), t('受理登记', 'Case details')),
      h('div', { class: 'row' }, field(t('诉求类型', 'Request type'), rt), field(t('发生时间（何时）', 'When it happened'), when)),
      loc.el,
      h('fieldset', null, h('legend', null, t('事由（什么问题）', 'Cause (what is wrong)')),
        cat.el,
        field(t('问题描述', 'Description'), cause, { required: true }), causeCount,
        clf.el,
        field(t('市民诉求（希望怎样处理）', 'What the caller asks for'), demand)),
      sev.el,
      err,
      h('div', { class: 'actions-bar' }, submit, reset, h('span', { class: 'kbd-help' }, t('快捷键：Alt+P 来电号码 · Alt+L 地点 · Alt+C 类别 · Alt+D 描述 · Ctrl+Enter 提交', 'Keys: Alt+P phone · Alt+L place · Alt+C category · Alt+D description · Ctrl+Enter submit')))));

  const doSubmit = async () => {
    err.textContent = '';
    clear(banner);
    if (!cause.value.trim()) {
      err.textContent = t('请填写问题描述', 'Please describe the problem');
      cause.focus();
      return;
    }
    const where = loc.value();
    if (!where && !loc.address()) {
      err.textContent = t('请选择地点：在地图上点击，或按名称查找社区/街道', 'Please give a location: click the map or search a community/street by name');
      loc.searchInput.focus();
      return;
    }
    const body = {
      description: composed(),
      request_type: rt.value,
      severity: sev.get(),
      address: loc.address() || undefined,
      caller: { name: callerName.value.trim(), phone: phone.value.trim() },
      ...(where || {}),
    };
    if (cat.value()) body.category = cat.value();
    if (!body.caller.name && !body.caller.phone) delete body.caller;
    submit.disabled = true;
    try {
      const c = await post('/api/v1/cases', body);
      showResult(c);
    } catch (e) {
      err.textContent = '⚠ ' + e.message;
    } finally {
      submit.disabled = false;
    }
  };
  const showResult = (c) => {
    clear(banner);
    const box = h('div', { class: 'result-banner', tabindex: '-1', role: 'status' },
      h('div', null,
        h('div', null, t('受理成功，案件编号', 'Registered. Case number')),
        h('div', { class: 'big', id: 'case-number' }, c.number)),
      h('div', { class: 'muted' }, t('请告知市民案件编号，用于查询办理进度。', 'Give the caller this number to follow the case.')),
      h('span', { class: 'spacer', style: { flex: 1 } }),
      h('a', { class: 'btn', href: '#/case/' + c.id }, t('查看案件', 'Open case')),
      h('button', { type: 'button', class: 'btn btn-primary', onclick: () => { clearForm(); phone.focus(); } }, t('受理下一个', 'Next call')));
    banner.append(box, intakeDuplicates(c)); /* 疑似重复 with one-click merge */
    box.focus();
    lastLooked = '';
  };
  const clearForm = () => {
    form.reset();
    cause.value = '';
    demand.value = '';
    callerName.value = '';
    phone.value = '';
    when.value = beijingNowLocal();
    rt.value = 'complaint';
    cat.set('');
    cat.suggestFrom('');
    clf.reset();
    loc.reset();
    clear(history).append(h('p', { class: 'muted' }, t('输入来电号码后按回车，查看该市民以往的诉求。', 'Type the caller\'s number and press Enter to see earlier cases.')));
    lastLooked = '';
    updateCount();
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); doSubmit(); });
  reset.addEventListener('click', () => { clearForm(); clear(banner); phone.focus(); });

  const keys = (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); doSubmit(); }
    else if (e.altKey && (e.key === 'p' || e.key === 'P')) { e.preventDefault(); phone.focus(); }
    else if (e.altKey && (e.key === 'l' || e.key === 'L')) { e.preventDefault(); loc.searchInput.focus(); }
    else if (e.altKey && (e.key === 'c' || e.key === 'C')) { e.preventDefault(); cat.input.focus(); }
    else if (e.altKey && (e.key === 'd' || e.key === 'D')) { e.preventDefault(); cause.focus(); }
  };
  document.addEventListener('keydown', keys);

  main.append(
    h('div', { class: 'page-head' }, h('h1', null, t('一号受理', 'Hotline intake')), h('span', { class: 'muted' }, t('12345 热线 · 来电登记', '12345 hotline · call registration'))),
    banner,
    h('div', { class: 'cols' }, callerPanel, form));
  phone.focus();
  loc.ready.catch(showError);
  return () => {
    document.removeEventListener('keydown', keys);
    clf.dispose();
    loc.dispose();
  };
}

export { newId };
