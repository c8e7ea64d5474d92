// i18n.mjs — zh-CN by default, an English switch kept in localStorage.
// Strings are written in both languages where they are used: t('受理', 'Intake').
// Static HTML carries data-en="English" on elements whose text is Chinese;
// applyStatic() swaps them. Server messages arrive as "中文 / English" and
// pick() keeps the half for the current language.

const KEY = 'cityops.lang';
const listeners = new Set();

function stored() {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

let current = stored() === 'en' ? 'en' : 'zh';

export function lang() {
  return current;
}

export function isEn() {
  return current === 'en';
}

export function t(zh, en) {
  return current === 'en' && en ? en : zh;
}

export function setLang(l) {
  current = l === 'en' ? 'en' : 'zh';
  try {
    localStorage.setItem(KEY, current);
  } catch {
    /* private mode: the switch lasts for this page only */
  }
  document.documentElement.lang = current === 'en' ? 'en' : 'zh-CN';
  applyStatic(document);
  for (const fn of listeners) fn(current);
}

export function onLangChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/* "中文 / English" → the half for the current language. */
export function pick(msg) {
  if (typeof msg !== 'string') return '';
  const i = msg.indexOf(' / ');
  if (i < 0) return msg;
  return current === 'en' ? msg.slice(i + 3) : msg.slice(0, i);
}

const ATTRS = ['placeholder', 'aria-label', 'title'];

/* Elements with data-en get their text swapped; data-en-placeholder,
 * data-en-aria-label and data-en-title swap those attributes. */
export function applyStatic(root) {
  for (const el of root.querySelectorAll('[data-en]')) {
    if (el.dataset.zh === undefined) el.dataset.zh = el.textContent;
    el.textContent = current === 'en' ? el.dataset.en : el.dataset.zh;
  }
  for (const a of ATTRS) {
    const key = 'en' + a.replace(/(^|-)([a-z])/g, (_, __, c) => c.toUpperCase());
    for (const el of root.querySelectorAll(`[data-en-${a}]`)) {
      const zhKey = 'zh' + key.slice(2);
      if (el.dataset[zhKey] === undefined) el.dataset[zhKey] = el.getAttribute(a) || '';
      el.setAttribute(a, current === 'en' ? el.dataset[key] : el.dataset[zhKey]);
    }
  }
  document.documentElement.lang = current === 'en' ? 'en' : 'zh-CN';
}

/* A small button that toggles the language; its label names the other one. */
export function langButton(className = 'lang-switch') {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  const render = () => {
    b.textContent = current === 'en' ? '中文' : 'EN';
    b.setAttribute('aria-label', current === 'en' ? '切换到中文' : 'Switch to English');
    b.lang = current === 'en' ? 'zh-CN' : 'en';
  };
  render();
  b.addEventListener('click', () => setLang(current === 'en' ? 'zh' : 'en'));
  onLangChange(render);
  return b;
}

/* Names of the workflow vocabulary in English (the server gives Chinese). */
const EN = {
  state: {
    registered: 'To file', verifying: 'Verifying', filed: 'To dispatch', dispatched: 'To accept',
    handling: 'Handling', suspended: 'Suspended', handled: 'To check', checking: 'Checking',
    checked: 'To close', closed: 'Closed', voided: 'Void', merged: 'Merged',
  },
  action: {
    register: 'Registered', verify_request: 'Request verification', verify: 'Verify',
    reclassify: 'Reclassify', file: 'File', void: 'Void', answer: 'Answer directly',
    merge: 'Merge duplicate', dispatch: 'Dispatch', accept: 'Accept', send_back: 'Send back',
    handle: 'Report handling', request_extension: 'Ask for extension',
    approve_extension: 'Approve extension', reject_extension: 'Reject extension',
    request_suspension: 'Ask for suspension', approve_suspension: 'Approve suspension',
    reject_suspension: 'Reject suspension', resume: 'Resume', request_check: 'Request check',
    check_pass: 'Check passed', check_fail: 'Check failed (rework)', close: 'Close',
    reopen: 'Reopen', visit: 'Return visit', comment: 'Add a note', unmerge: 'Unmerge',
  },
  channel: {
    hotline: '12345 hotline', inspector: 'Inspector', web: 'Citizen web', open311: 'Open311',
    sensor: 'Sensor', import: 'Assigned / import',
  },
  severity: { normal: 'Normal', urgent: 'Urgent', critical: 'Critical' },
  role: {
    admin: 'Administrator', operator: 'Operator', inspector: 'Inspector', shiftlead: 'Shift lead',
    dispatcher: 'Dispatcher', handler: 'Department handler', leader: 'Leader',
  },
  satisfaction: { satisfied: 'Satisfied', basic: 'Basically satisfied', unsatisfied: 'Unsatisfied' },
  request_type: {
    consult: 'Enquiry', help: 'Request for help', complaint: 'Complaint', report: 'Report',
    suggestion: 'Suggestion', praise: 'Praise',
  },
};

const ZH = {
  state: {
    registered: '待立案', verifying: '核实中', filed: '待派遣', dispatched: '待签收', handling: '处置中',
    suspended: '挂账', handled: '待核查', checking: '核查中', checked: '待结案', closed: '已结案',
    voided: '已作废', merged: '已合并',
  },
  channel: {
    hotline: '12345热线', inspector: '监督员上报', web: '公众上报', open311: 'Open311',
    sensor: '物联感知', import: '上级交办/导入',
  },
  severity: { normal: '一般', urgent: '紧急', critical: '特急' },
  role: {
    admin: '管理员', operator: '受理员', inspector: '监督员', shiftlead: '值班长', dispatcher: '派遣员',
    handler: '处置人员', leader: '领导',
  },
  satisfaction: { satisfied: '满意', basic: '基本满意', unsatisfied: '不满意' },
  request_type: {
    consult: '咨询', help: '求助', complaint: '投诉', report: '举报', suggestion: '建议', praise: '表扬',
  },
  action: {
    register: '受理登记', verify_request: '发核实', verify: '核实', reclassify: '修改分类', file: '立案',
    void: '作废', answer: '直接答复', merge: '合并重复', dispatch: '派遣', accept: '签收',
    send_back: '回退', handle: '处置反馈', request_extension: '申请延期', approve_extension: '批准延期',
    reject_extension: '驳回延期', request_suspension: '申请挂账', approve_suspension: '批准挂账',
    reject_suspension: '驳回挂账', resume: '恢复处置', request_check: '发核查', check_pass: '核查通过',
    check_fail: '核查不通过(返工)', close: '结案', reopen: '重办', visit: '回访评价', comment: '备注',
    unmerge: '取消合并',
  },
};

/* name('state', 'filed', '待派遣') → the label in the current language;
 * zhFallback is used when the code is unknown locally. */
export function name(kind, code, zhFallback) {
  if (!code) return zhFallback || '';
  const table = current === 'en' ? EN[kind] : ZH[kind];
  return (table && table[code]) || zhFallback || code;
}
