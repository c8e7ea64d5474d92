// views/search.mjs — find cases: by number, text, state, district, channel,
// overdue; newest first with "load more" (cursor ?before=).

import { h, clear, field, showError } from '../dom.mjs';
import { t, name } from '../i18n.mjs';
import { get, qs, areaIndex } from '../api.mjs';
import { caseTable, namesReady } from './queue.mjs';

const STATES = ['registered', 'verifying', 'filed', 'dispatched', 'handling', 'suspended', 'handled', 'checking', 'checked', 'closed', 'voided', 'merged'];
const CHANNELS = ['hotline', 'inspector', 'web', 'open311', 'sensor', 'import'];

export default async function search(main, { user }) {
  await namesReady;
  const q = h('input', { type: 'search', name: 'q', maxlength: 100, placeholder: t('案件编号或描述中的文字', 'Case number or words in the description') });
  const state = h('select', { name: 'state' },
    h('option', { value: 'open' }, t('未办结', 'Open')), h('option', { value: '' }, t('全部状态', 'All states')),
    STATES.map((s) => h('option', { value: s }, name('state', s))));
  const district = h('select', { name: 'area' }, h('option', { value: '' }, t('全市', 'Whole city')));
  const channel = h('select', { name: 'channel' }, h('option', { value: '' }, t('全部渠道', 'All channels')), CHANNELS.map((c) => h('option', { value: c }, name('channel', c))));
  const overdue = h('input', { type: 'checkbox', name: 'overdue', id: 'f-overdue' });
  const phone = ['operator', 'shiftlead', 'admin'].includes(user.role) ? h('input', { type: 'tel', name: 'phone', maxlength: 20 }) : null;
  const results = h('div', { 'aria-live': 'polite' });
  const more = h('button', { type: 'button', class: 'btn', hidden: true }, t('加载更多', 'Load more'));
  let next = null;
  let shown = [];

  areaIndex().then((idx) => {
    for (const a of idx.all) if (a.level === 'district' && (!user.scope || a.code.startsWith(user.scope.slice(0, 6)))) district.append(h('option', { value: a.code }, a.name));
  }).catch(showError);

  const params = () => ({
    q: /^\d{13}$/.test(q.value.trim()) ? undefined : q.value.trim() || undefined,
    state: state.value || undefined, area: district.value || undefined, channel: channel.value || undefined,
    overdue: overdue.checked ? 1 : undefined, phone: phone && phone.value.trim() ? phone.value.trim() : undefined, limit: 50,
  });
  const run = async (append = false) => {
    const num = q.value.trim();
    if (!append && /^\d{13}$/.test(num)) {
      location.hash = '#/case/' + num;
      return;
    }
    try {
      const r = await get('/api/v1/cases' + qs({ ...params(), before: append ? next : undefined }));
      next = r.next;
      shown = append ? shown.concat(r.items) : r.items;
      clear(results);
      if (!shown.length) results.append(h('p', { class: 'empty' }, t('没有符合条件的案件', 'No case matches')));
      else results.append(caseTable(shown, () => run(false), t(`显示 ${shown.length} 件，按受理时间从新到旧`, `${shown.length} shown, newest first`)));
      more.hidden = !next;
    } catch (e) {
      clear(results).append(h('p', { class: 'error-text', role: 'alert' }, e.message));
    }
  };
  const form = h('form', { class: 'panel', role: 'search' },
    h('div', { class: 'row', style: { alignItems: 'flex-end' } },
      field(t('关键词 / 编号', 'Words / number'), q), field(t('状态', 'State'), state), field(t('区县', 'District'), district), field(t('渠道', 'Channel'), channel),
      phone ? field(t('来电号码', 'Caller\'s phone'), phone) : null,
      h('div', { class: 'field', style: { flex: '0 0 auto' } }, h('label', { for: 'f-overdue', style: { fontWeight: 400 } }, overdue, ' ', t('仅超期', 'Overdue only'))),
      h('div', { class: 'field', style: { flex: '0 0 auto' } }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('查询', 'Search')))));
  form.addEventListener('submit', (e) => { e.preventDefault(); run(false); });
  more.addEventListener('click', () => run(true));
  main.append(h('div', { class: 'page-head' }, h('h1', null, t('案件查询', 'Find cases')),
    user.role === 'leader' ? h('a', { class: 'btn btn-primary', href: '/dashboard' }, '▦ ', t('打开指挥大屏', 'Open the command dashboard')) : null),
  form, h('div', { class: 'panel', style: { padding: 0, overflow: 'auto', marginTop: '16px' } }, results), h('div', { class: 'actions-bar' }, more));
  run(false);
}
