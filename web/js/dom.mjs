// dom.mjs — building DOM safely and small shared widgets.
// Data never goes through innerHTML: h() creates elements and text nodes
// only, so "<script>" in a description is shown as text.

import { t, name } from './i18n.mjs';

/* h('div', {class: 'x', onclick: fn, 'aria-label': '…'}, 'text', child, [more]) */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k === 'style' && typeof v === 'object') Object.assign(el.style, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'value') el.value = v;
      else if (k === 'checked' || k === 'disabled' || k === 'selected' || k === 'required' || k === 'multiple' || k === 'hidden') el[k] = !!v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/* el.append() that skips null/false (the DOM's append would print "null"). */
export function put(el, ...children) {
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function $(sel, root = document) {
  return root.querySelector(sel);
}

let uid = 0;
export function newId(prefix = 'f') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/* A labelled form field: label above the control, hint and error below. */
export function field(labelText, control, { hint, required, wide } = {}) {
  if (!control.id) control.id = newId();
  const label = h('label', { for: control.id }, labelText, required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null);
  if (required) control.required = true;
  let hintEl = null;
  if (hint) {
    hintEl = h('div', { class: 'hint', id: control.id + '-hint' }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' + (wide ? ' wide' : '') }, label, control, hintEl);
}

/* ------------------------------------------------------------ toasts */

function toastHost() {
  let host = document.getElementById('toasts');
  if (!host) {
    host = h('div', { id: 'toasts', class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(host);
  }
  return host;
}

export function toast(msg, kind = 'info', ms = 5000) {
  const el = h('div', { class: 'toast toast-' + kind, role: kind === 'error' ? 'alert' : null },
    h('span', { class: 'toast-icon', 'aria-hidden': 'true' }, kind === 'error' ? '⚠' : kind === 'ok' ? '✓' : 'ℹ'),
    h('span', { class: 'toast-text' }, msg));
  toastHost().appendChild(el);
  setTimeout(() => el.remove(), ms);
  return el;
}

export function showError(e) {
  console.error(e && e.stack ? e.stack : String(e));
  toast(e && e.message ? e.message : String(e), 'error', 8000);
}

/* ------------------------------------------------------------- time */

/* Server times are ISO 8601 with +08:00: shown as Beijing wall time. */
export function fmtTime(iso, { date = true, year = false } = {}) {
  if (!iso) return '—';
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(iso);
  if (!m) return iso;
  const d = year ? `${m[1]}-${m[2]}-${m[3]}` : `${m[2]}-${m[3]}`;
  return date ? `${d} ${m[4]}:${m[5]}` : `${m[4]}:${m[5]}`;
}

export function fmtDuration(ms) {
  const neg = ms < 0;
  let s = Math.abs(ms) / 1000;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s - hh * 3600) / 60);
  let out;
  if (d > 0) out = t(`${d}天${hh}小时`, `${d}d ${hh}h`);
  else if (hh > 0) out = t(`${hh}小时${mm}分`, `${hh}h ${mm}m`);
  else out = t(`${mm}分钟`, `${mm} min`);
  return neg ? '-' + out : out;
}

/* Beijing time now as "YYYY-MM-DDTHH:MM" for datetime-local inputs. */
export function beijingNowLocal() {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  return d.toISOString().slice(0, 16);
}

/* ------------------------------------------------------ traffic light */

/* The deadline of the current step: disposal deadline while a department
 * works on it, otherwise the step deadline. */
export function dueOf(c) {
  if ((c.state === 'dispatched' || c.state === 'handling') && c.disposal_due) return c.disposal_due;
  return c.step_due;
}

const LIGHTS = {
  green: { icon: '●', zh: '正常', en: 'On time' },
  yellow: { icon: '▲', zh: '临期', en: 'Due soon' },
  red: { icon: '■', zh: '超期', en: 'Overdue' },
};

/* A badge that says the light in words and shape, not only colour. */
export function lightBadge(c) {
  const light = c.overdue ? 'red' : c.light;
  if (!light || !LIGHTS[light]) {
    return h('span', { class: 'light light-none' }, h('span', { class: 'light-icon', 'aria-hidden': 'true' }, '○'), t('无时限', 'No deadline'));
  }
  const L = LIGHTS[light];
  const due = dueOf(c);
  let extra = '';
  if (due) {
    const left = Date.parse(due) - Date.now();
    extra = left >= 0 ? t(` · 剩${fmtDuration(left)}`, ` · ${fmtDuration(left)} left`) : t(` · 超${fmtDuration(-left)}`, ` · ${fmtDuration(-left)} over`);
  }
  return h('span', { class: 'light light-' + light, title: due ? t('时限 ', 'Due ') + fmtTime(due) : null },
    h('span', { class: 'light-icon', 'aria-hidden': 'true' }, L.icon), t(L.zh, L.en) + extra);
}

export function lightRank(c) {
  const l = c.overdue ? 'red' : c.light;
  return l === 'red' ? 0 : l === 'yellow' ? 1 : l === 'green' ? 2 : 3;
}

export function stateBadge(c) {
  return h('span', { class: 'state state-' + c.state }, name('state', c.state, c.state_zh));
}

export function areaText(c) {
  const a = c.areas || {};
  return [a.district, a.street, a.community].filter(Boolean).map((x) => x.name).join(' · ');
}

/* Distance in metres between two WGS84 points. */
export function distance(lon1, lat1, lon2, lat2) {
  const R = 6371008.8;
  const r = Math.PI / 180;
  const dlat = (lat2 - lat1) * r;
  const dlon = (lon2 - lon1) * r;
  const a = Math.sin(dlat / 2) ** 2 + Math.cos(lat1 * r) * Math.cos(lat2 * r) * Math.sin(dlon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(a));
}

export function fmtDistance(m) {
  if (!isFinite(m)) return '';
  return m < 1000 ? `${Math.round(m)} m` : `${(m / 1000).toFixed(m < 10000 ? 1 : 0)} km`;
}
