// widgets.mjs — form widgets shared by the console, the inspector page and
// the citizens' page: an accessible combobox, the category picker, the
// location picker (map or name search, either alone is enough) and the
// photo picker (uploads as soon as a photo is chosen).

import { h, clear, newId, field, showError } from './dom.mjs';
import { t, isEn, onLangChange } from './i18n.mjs';
import { get, qs, taxonomy, areaIndex, uploadPhoto } from './api.mjs';
import { AreaMap, levelOfCode } from './map.mjs';
import { icon } from './icons.mjs';

/* ---------------------------------------------------------- combobox */

/* An ARIA 1.2 combobox: typing filters, ↑/↓ move, Enter picks, Esc closes.
 * search(q) → [{id, label, sub}] (sync or async). */
export function combobox({ label, placeholder, search, onSelect, hint, required, minChars = 1 }) {
  const listId = newId('lb');
  const input = h('input', {
    type: 'text', role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
    'aria-controls': listId, autocomplete: 'off', placeholder, spellcheck: 'false',
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'cb-list', hidden: true });
  let items = [];
  let active = -1;
  let seq = 0;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const mark = (i) => {
    active = i;
    for (const [j, li] of [...list.children].entries()) li.setAttribute('aria-selected', j === i ? 'true' : 'false');
    if (i >= 0 && list.children[i]) {
      input.setAttribute('aria-activedescendant', list.children[i].id);
      list.children[i].scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  };
  const choose = (i) => {
    const it = items[i];
    if (!it) return;
    close();
    onSelect(it, input);
  };
  const render = () => {
    clear(list);
    items.forEach((it, i) => {
      list.appendChild(h('li', {
        id: `${listId}-${i}`, role: 'option', class: 'cb-opt', 'aria-selected': 'false',
        onmousedown: (e) => { e.preventDefault(); choose(i); },
      }, h('span', { class: 'cb-label' }, it.label), it.sub ? h('span', { class: 'cb-sub' }, it.sub) : null));
    });
    if (!items.length) list.appendChild(h('li', { class: 'cb-empty', role: 'option', 'aria-disabled': 'true' }, t('没有匹配项', 'No match')));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    mark(items.length ? 0 : -1);
  };
  const update = async () => {
    const q = input.value.trim();
    if (q.length < minChars) { close(); return; }
    const my = ++seq;
    const r = await search(q);
    if (my !== seq) return;
    items = r.slice(0, 30);
    render();
  };
  input.addEventListener('input', update);
  input.addEventListener('focus', () => { if (input.value.trim().length >= minChars) update(); });
  input.addEventListener('blur', () => setTimeout(close, 120));
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (list.hidden) update(); else mark(Math.min(items.length - 1, active + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      mark(Math.max(0, active - 1));
    } else if (e.key === 'Enter') {
      if (!list.hidden && active >= 0) { e.preventDefault(); choose(active); }
    } else if (e.key === 'Escape') {
      if (!list.hidden) { e.preventDefault(); close(); }
    }
  });
  const wrap = h('div', { class: 'cb' }, input, list);
  const f = field(label, input, { hint, required });
  f.replaceChild(wrap, input);
  wrap.insertBefore(input, list);
  return { el: f, input, close };
}

/* --------------------------------------------------- category picker */

function subLabel(s) {
  return isEn() && s.name_en ? s.name_en : s.name;
}

export function categoryId(s) {
  return (s.kind === 'component' ? 'C' : 'E') + s.code;
}

/* Suggests categories whose keywords occur in a text. */
export function suggestCategories(tax, text, n = 3) {
  if (!text || !tax) return [];
  const scored = [];
  for (const s of tax.subclasses) {
    let score = 0;
    for (const k of [s.name, ...(s.keywords || [])]) if (k && text.includes(k)) score += k.length;
    if (score) scored.push([score, s]);
  }
  scored.sort((a, b) => b[0] - a[0]);
  return scored.slice(0, n).map((x) => x[1]);
}

/* {el, value(), set(id), suggestFrom(text)} — id "C0101"/"E0402" or "". */
export async function categoryPicker({ required = false, initial = '' } = {}) {
  const tax = await taxonomy();
  const classes = new Map(tax.classes.map((c) => [c.kind + c.code, c]));
  const byId = new Map(tax.subclasses.map((s) => [categoryId(s), s]));
  let value = '';
  const chosen = h('div', { class: 'cat-chosen', 'aria-live': 'polite' });
  const sugg = h('div', { class: 'cat-suggest', 'aria-live': 'polite' });
  const describe = (s) => {
    const cls = classes.get(s.kind + s.class);
    const kind = s.kind === 'component' ? t('部件', 'Component') : t('事件', 'Event');
    return `${categoryId(s)} · ${kind} · ${cls ? (isEn() && cls.name_en ? cls.name_en : cls.name) : ''}`;
  };
  const cb = combobox({
    label: t('问题类别（输入名称、编码或关键词）', 'Category (type a name, code or keyword)'),
    placeholder: t('如：井盖、占道经营、E0403', 'e.g. manhole, street vending, E0403'),
    required,
    search(q) {
      const ql = q.toLowerCase();
      const out = [];
      for (const s of tax.subclasses) {
        const id = categoryId(s);
        const hay = [id, s.name, s.name_en || '', ...(s.keywords || [])].join(' ').toLowerCase();
        if (hay.includes(ql)) out.push({ id, label: subLabel(s), sub: describe(s), rank: id.toLowerCase().startsWith(ql) || s.name.startsWith(q) ? 0 : 1 });
      }
      out.sort((a, b) => a.rank - b.rank);
      return out;
    },
    onSelect(it, input) {
      set(it.id);
      input.value = '';
    },
  });
  const clearBtn = h('button', { type: 'button', class: 'btn-link', onclick: () => set('') }, t('清除', 'Clear'));
  const set = (id) => {
    value = byId.has(id) ? id : '';
    clear(chosen);
    if (value) {
      const s = byId.get(value);
      chosen.append(h('span', { class: 'chip chip-selected' }, h('strong', null, subLabel(s)), ' ', h('span', { class: 'muted' }, describe(s))), clearBtn);
      cb.input.removeAttribute('required');
      el.dispatchEvent(new CustomEvent('change', { bubbles: true }));
    } else {
      chosen.append(h('span', { class: 'muted' }, t('未选择类别', 'No category chosen')));
      if (required) cb.input.setAttribute('required', '');
    }
  };
  const suggestFrom = (text) => {
    clear(sugg);
    const list = suggestCategories(tax, text);
    if (!list.length) return;
    sugg.append(h('span', { class: 'muted' }, t('建议：', 'Suggested: ')));
    for (const s of list) {
      sugg.append(h('button', { type: 'button', class: 'chip chip-btn', onclick: () => set(categoryId(s)) }, subLabel(s)));
    }
  };
  const el = h('div', { class: 'cat-picker' }, cb.el, chosen, sugg);
  set(initial);
  return { el, value: () => value, set, suggestFrom, input: cb.input, name: (id) => (byId.get(id) ? subLabel(byId.get(id)) : '') };
}

/* --------------------------------------------------- location picker */

const LEVEL_ZH = { district: ['区县', 'District'], street: ['街道', 'Street'], community: ['社区', 'Community'] };

/* {el, value() → {location:{lon,lat}} | {area} | null, text(), setPoint(lon,lat), ready}
 * Works without the map: the name search sets an area. */
export function locationPicker({ mapHeight = 360, theme = 'light', showAddress = true, required = true, onChange } = {}) {
  let val = null;
  let resolved = null; // geocode result or area chain
  const status = h('div', { class: 'loc-status', 'aria-live': 'polite', id: newId('loc') });
  const crumbs = h('nav', { class: 'crumbs', 'aria-label': t('地图层级', 'Map level') });
  const mapEl = h('div', { class: 'map', style: { height: mapHeight + 'px' } });
  const address = h('input', { type: 'text', name: 'address', maxlength: 250, autocomplete: 'off', placeholder: t('门牌、路口或地标，如：新华大街与锡林路交叉口东北角', 'Street number, crossing or landmark') });

  const search = combobox({
    label: t('按地名查找位置（区、街道、社区）', 'Find a place by name (district, street, community)'),
    placeholder: t('输入社区或街道名称，如：长海', 'Type a community or street name'),
    hint: t('不用地图也可以：选中社区即可提交；在地图上点击可精确到网格。', 'No map needed: choosing a community is enough; click the map to pin the exact spot.'),
    async search(q) {
      const idx = await areaIndex();
      const out = [];
      for (const a of idx.all) {
        if (!a.name.includes(q) && !a.code.startsWith(q)) continue;
        const chain = [];
        let p = idx.byCode.get(a.parent);
        while (p) { chain.unshift(p.name); p = idx.byCode.get(p.parent); }
        const lv = LEVEL_ZH[a.level];
        out.push({ id: a.code, label: a.name, sub: `${lv ? t(lv[0], lv[1]) : ''} · ${chain.join(' › ')}`, rank: a.name.startsWith(q) ? 0 : 1, level: a.level });
        if (out.length > 200) break;
      }
      out.sort((x, y) => x.rank - y.rank || (y.level === 'community') - (x.level === 'community'));
      return out;
    },
    async onSelect(it, input) {
      const idx = await areaIndex();
      const a = idx.byCode.get(it.id);
      input.value = a.name;
      val = { area: a.code };
      const chain = [];
      for (let p = a; p; p = idx.byCode.get(p.parent)) if (p.level !== 'city') chain.unshift(p);
      resolved = { chain: chain.map((x) => ({ code: x.code, name: x.name })) };
      map && map.setPin(NaN, NaN);
      await drill(a.level === 'district' ? a.code : a.level === 'street' ? a.code : a.code, a.level);
      renderStatus();
      onChange && onChange();
    },
  });

  let map = null;
  let within = null;
  const drill = async (code) => {
    if (!map) return;
    const before = within;
    within = code || null;
    const lv = levelOfCode(within);
    const next = { city: 'district', district: 'street', street: 'community', community: 'grid', grid: 'grid' }[lv];
    try {
      const g = await map.show(next, lv === 'grid' ? within.slice(0, 12) : within);
      if (!g.count) within = before; // nothing below (no grids): stay
    } catch (e) {
      within = before;
      showError(e);
    }
    renderCrumbs();
  };
  const renderCrumbs = async () => {
    clear(crumbs);
    const idx = await areaIndex().catch(() => null);
    const chain = [];
    for (let p = within && idx ? idx.byCode.get(within) : null; p; p = idx.byCode.get(p.parent)) if (p.level !== 'city') chain.unshift(p);
    const items = [{ code: null, name: t('全市', 'City') }, ...chain.map((x) => ({ code: x.code, name: x.name }))];
    items.forEach((it, i) => {
      if (i) crumbs.append(h('span', { class: 'crumb-sep', 'aria-hidden': 'true' }, '›'));
      if (i === items.length - 1) crumbs.append(h('span', { class: 'crumb-current', 'aria-current': 'location' }, it.name));
      else crumbs.append(h('button', { type: 'button', class: 'crumb', onclick: () => drill(it.code) }, it.name));
    });
  };
  const renderStatus = () => {
    clear(status);
    if (!resolved) {
      status.append(h('span', { class: 'muted' }, t('尚未选择位置：在地图上点击，或按名称查找。', 'No location yet: click the map or search by name.')));
      return;
    }
    const names = resolved.chain.map((x) => x.name).join(' · ');
    status.append(h('span', { class: 'loc-icon' }, icon('pin', { size: 16 })), h('strong', null, names));
    if (val && val.location) status.append(h('span', { class: 'muted' }, ` (${val.location.lon.toFixed(5)}, ${val.location.lat.toFixed(5)})`));
    else status.append(h('span', { class: 'muted' }, t('（按区域定位）', ' (by area)')));
  };

  /* drillTo: zoom one level towards the point; deep: straight to its
   * community (a position from GPS needs no zooming by hand) */
  const setPoint = async (lon, lat, { drillTo = true, deep = false } = {}) => {
    let g;
    try {
      g = await get('/api/v1/geocode' + qs({ lon: lon.toFixed(7), lat: lat.toFixed(7) }));
    } catch (e) {
      clear(status);
      status.append(h('span', { class: 'error-text', role: 'alert' }, '⚠ ', e.message));
      return false;
    }
    val = { location: { lon: +lon.toFixed(7), lat: +lat.toFixed(7) } };
    const grid = g.grid || g.nearest_grid;
    resolved = { chain: [g.district, g.street, g.community, grid].filter(Boolean) };
    if (map) {
      map.setPin(lon, lat);
      if (drillTo) {
        const lv = levelOfCode(within);
        const target = deep ? g.community || g.street || g.district : lv === 'city' ? g.district : lv === 'district' ? g.street : g.community;
        if (target && target.code !== within) await drill(target.code);
        map.setPin(lon, lat);
      }
    }
    renderStatus();
    onChange && onChange();
    return true;
  };

  const addrField = showAddress ? field(t('详细地址', 'Address details'), address, { hint: t('可选；写明门牌号、路口或地标', 'Optional: house number, crossing or landmark') }) : null;
  const el = h('fieldset', { class: 'loc-picker' },
    h('legend', null, t('地点', 'Where'), required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    search.el, addrField,
    h('div', { class: 'map-wrap' }, crumbs, mapEl,
      h('div', { class: 'map-hint', 'aria-hidden': 'true' }, t('点击地图选点，逐级放大；滚轮缩放、拖动平移', 'Click to pick and zoom in level by level; scroll to zoom, drag to pan'))),
    status);

  const ready = (async () => {
    map = new AreaMap(mapEl, {
      theme,
      ariaLabel: t('地图选点：点击选择案件位置（也可使用上方的地名查找）', 'Map: click to set the location (or use the name search above)'),
      onPick: (lon, lat) => setPoint(lon, lat),
    });
    await drill(null);
  })();
  renderStatus();
  return {
    el,
    ready,
    value: () => val,
    address: () => address.value.trim(),
    resolvedText: () => (resolved ? resolved.chain.map((x) => x.name).join(' · ') : ''),
    setPoint,
    reset() {
      val = null;
      resolved = null;
      address.value = '';
      search.input.value = '';
      if (map) map.setPin(NaN, NaN);
      drill(null);
      renderStatus();
    },
    searchInput: search.input,
    map: () => map,
    dispose: () => map && map.dispose(),
  };
}

/* ----------------------------------------------------- photo picker */

async function shrink(file) {
  if (file.size < 1.5 * 1024 * 1024 || !window.createImageBitmap) return file;
  try {
    const bmp = await createImageBitmap(file);
    const scale = Math.min(1, 1920 / Math.max(bmp.width, bmp.height));
    const c = document.createElement('canvas');
    c.width = Math.round(bmp.width * scale);
    c.height = Math.round(bmp.height * scale);
    c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
    const blob = await new Promise((res) => c.toBlob(res, 'image/jpeg', 0.85));
    return blob ? new File([blob], file.name.replace(/\.\w+$/, '') + '.jpg', { type: 'image/jpeg' }) : file;
  } catch {
    return file;
  }
}

/* {el, ids() → Promise<[media id]>, reset()} */
export function photoPicker({ label, publicUpload = false, capture = false, max = 8 } = {}) {
  const input = h('input', { type: 'file', accept: 'image/jpeg,image/png,image/webp', multiple: true, capture: capture ? 'environment' : null });
  const thumbs = h('ul', { class: 'thumbs', 'aria-live': 'polite' });
  const entries = [];
  input.addEventListener('change', () => {
    for (const f of [...input.files]) {
      if (entries.length >= max) break;
      const url = URL.createObjectURL(f);
      const li = h('li', { class: 'thumb uploading' });
      const entry = { li, id: null, url };
      entry.promise = shrink(f)
        .then((small) => uploadPhoto(small, { publicUpload }))
        .then((id) => {
          entry.id = id;
          li.classList.remove('uploading');
          li.dataset.media = id;
          return id;
        })
        .catch((e) => {
          li.classList.add('failed');
          li.title = e.message;
          showError(e);
          return null;
        });
      const rm = h('button', {
        type: 'button', class: 'thumb-rm', 'aria-label': t('移除照片 ', 'Remove photo ') + f.name,
        onclick: () => {
          entries.splice(entries.indexOf(entry), 1);
          li.remove();
          URL.revokeObjectURL(url);
        },
      }, '×');
      li.append(h('img', { src: url, alt: f.name }), h('span', { class: 'thumb-state' }, t('上传中…', 'Uploading…')), rm);
      entry.promise.then((id) => {
        const s = li.querySelector('.thumb-state');
        if (s) s.textContent = id ? t('已上传', 'Uploaded') : t('失败', 'Failed');
      });
      entries.push(entry);
      thumbs.appendChild(li);
    }
    input.value = '';
  });
  const f = field(label || t('照片（可选，最多 8 张）', 'Photos (optional, up to 8)'), input, { hint: t('JPEG、PNG 或 WebP；大图会自动压缩', 'JPEG, PNG or WebP; large photos are resized') });
  f.append(thumbs);
  return {
    el: f,
    input,
    async ids() {
      const ids = await Promise.all(entries.map((e) => e.promise));
      return ids.filter(Boolean);
    },
    reset() {
      for (const e of entries) URL.revokeObjectURL(e.url);
      entries.length = 0;
      clear(thumbs);
    },
  };
}

export function onLang(fn) {
  return onLangChange(fn);
}
