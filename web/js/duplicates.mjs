// duplicates.mjs — 疑似重复 / possible duplicates (src/api/duplicates.c):
// the candidates the intake reply carries (hotline console, after
// registering), the candidates of a case and a master's merged cases (case
// page), with one-click 合并到此案件 and 取消合并. All text goes through h(),
// so descriptions and addresses are shown as text, never as markup.

import { h, clear, fmtTime, toast } from './dom.mjs';
import { t, name } from './i18n.mjs';
import { get, currentUser } from './api.mjs';
import { submitAction } from './actions.mjs';

const pct = (x) => `${Math.round(x * 100)}%`;
const allows = (c, action) => (c.allowed_actions || []).some((a) => a.action === action);
/* The intake reply has no allowed_actions: the workflow lets the desk merge. */
const deskMerges = () => ['operator', 'shiftlead'].includes((currentUser() || {}).role);

/* One candidate: number, score, distance, what, when, state, text, address;
 * with a merge button when the new case may be merged. */
function candidateItem(c, cand, onMerged, canMerge) {
  const btn = canMerge
    ? h('button', {
      type: 'button', class: 'btn btn-sm btn-primary', 'data-merge-into': cand.number,
      onclick: async (e) => {
        const b = e.currentTarget;
        b.disabled = true;
        try {
          const updated = await submitAction(c, 'merge', { into: cand.number, note: t('疑似重复，合并', 'Duplicate: merged') });
          toast(t(`已合并到 ${cand.number}`, `Merged into ${cand.number}`), 'ok');
          onMerged(updated, cand);
        } catch (ex) {
          toast(ex.message, 'error');
          b.disabled = false;
        }
      },
    }, t('合并到此案件', 'Merge into this case'))
    : null;
  return h('li', { class: 'dup-item', 'data-dup': cand.number },
    h('div', { class: 'top' },
      h('a', { class: 'num', href: '#/case/' + encodeURIComponent(cand.id) }, cand.number),
      h('span', { class: 'chip', title: t('相似度', 'Score') }, t('相似度 ', 'score ') + pct(cand.score)),
      h('span', { class: 'muted' }, `${Math.round(cand.distance_m)} m · ${cand.category_name || cand.category} · ${fmtTime(cand.created, { year: true })} · ${name('state', cand.state, cand.state_zh)}`),
      btn),
    h('div', { class: 'd' }, cand.description),
    cand.address ? h('div', { class: 'muted' }, cand.address) : null);
}

function candidateList(c, cands, onMerged, canMerge) {
  return h('ul', { class: 'dup-list' }, cands.map((x) => candidateItem(c, x, onMerged, canMerge)));
}

/* After registering (hotline): the reply's candidates and an automatic merge. */
export function intakeDuplicates(c, { onChange } = {}) {
  const box = h('section', { class: 'panel dup-panel', id: 'intake-duplicates', 'aria-labelledby': 'dup-h' });
  const render = (cur) => {
    clear(box);
    if (cur.state === 'merged') {
      box.append(h('h2', { id: 'dup-h' }, t('已合并为重复件', 'Merged as a duplicate')),
        h('p', { id: 'merged-into' }, cur.auto_merged ? t('系统已自动合并到案件 ', 'Merged automatically into case ') : t('已合并到案件 ', 'Merged into case '),
          h('a', { class: 'num', href: '#/case/' + encodeURIComponent(cur.merged_into) }, cur.merged_into),
          cur.auto_merged ? t(`（相似度 ${pct(cur.auto_merged.score)}）`, ` (score ${pct(cur.auto_merged.score)})`) : null,
          t('。请告知市民主案件编号。', '. Tell the caller the master case\'s number.')),
        h('button', {
          type: 'button', class: 'btn', id: 'unmerge-btn',
          onclick: async (e) => {
            e.currentTarget.disabled = true;
            try {
              const u = await submitAction(cur, 'unmerge', { note: t('受理时撤销合并', 'Undone at intake') });
              toast(t('已取消合并', 'Unmerged'), 'ok');
              render({ ...u, duplicates: c.duplicates });
              if (onChange) onChange(u);
            } catch (ex) {
              toast(ex.message, 'error');
            }
          },
        }, t('取消合并', 'Unmerge')));
      return;
    }
    const cands = c.duplicates || [];
    if (!cands.length) return;
    box.append(h('h2', { id: 'dup-h' }, t(`疑似重复（${cands.length}）`, `Possible duplicates (${cands.length})`)),
      h('p', { class: 'muted' }, t('附近有同类未办结案件，如是同一问题请合并，市民将关联到主案件。', 'Open cases of the same kind nearby: merge if it is the same problem; the caller is linked to the master case.')),
      candidateList(cur, cands, (updated) => { render({ ...updated, duplicates: cands }); if (onChange) onChange(updated); }, deskMerges()));
  };
  render(c);
  return box;
}

/* Case page: 疑似重复 for an open case, 已合并的案件 for a master, the master
 * of a merged case. onChange(updated) after a merge. */
export function caseDuplicates(c, { onChange } = {}) {
  const box = h('section', { class: 'panel dup-panel', id: 'case-duplicates', 'aria-labelledby': 'cdup-h' });
  box.append(h('h2', { id: 'cdup-h' }, t('重复件', 'Duplicates')));
  if (c.state === 'merged' && c.merged_into) {
    box.append(h('p', { id: 'merged-into' }, t('本案已合并到 ', 'Merged into '),
      h('a', { class: 'num', href: '#/case/' + encodeURIComponent(c.merged_into) }, c.merged_into),
      t('（在主案件办结后回访本案来电人）', ' (the caller is visited once the master is closed)')));
  }
  if (c.merged_cases && c.merged_cases.length) {
    box.append(h('h3', null, t(`已合并的案件（${c.merged_count}）`, `Merged cases (${c.merged_count})`)),
      h('ul', { class: 'dup-list', id: 'merged-cases' }, c.merged_cases.map((m) => h('li', { 'data-merged': m.number },
        h('div', { class: 'top' },
          h('a', { class: 'num', href: '#/case/' + encodeURIComponent(m.id) }, m.number),
          h('span', { class: 'muted' }, fmtTime(m.created, { year: true })),
          m.visited ? h('span', { class: 'chip' }, t('已回访', 'Visited'))
            : m.visit_due ? h('span', { class: 'chip chip-selected' }, t('待回访', 'To visit')) : null),
        h('div', { class: 'd' }, m.description)))));
  }
  const open = !['closed', 'voided', 'merged'].includes(c.state);
  if (!open) {
    if (box.childNodes.length === 1) box.append(h('p', { class: 'muted' }, t('无', 'None')));
    return box;
  }
  const slot = h('div', { 'aria-live': 'polite' }, h('p', { class: 'muted' }, t('查找疑似重复…', 'Looking for duplicates…')));
  box.append(h('h3', null, t('疑似重复', 'Possible duplicates')), slot);
  get(`/api/v1/cases/${encodeURIComponent(c.id)}/duplicates`).then((r) => {
    clear(slot);
    if (!r.candidates.length) {
      slot.append(h('p', { class: 'muted', id: 'no-duplicates' }, t('附近没有疑似重复的未办结案件。', 'No open case nearby looks like the same problem.')));
      return;
    }
    slot.append(candidateList(c, r.candidates, (updated) => onChange && onChange(updated), allows(c, 'merge')));
  }).catch((e) => {
    clear(slot).append(h('p', { class: 'error-text' }, e.message));
  });
  return box;
}
