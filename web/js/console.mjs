// console.mjs — the staff console at "/": login, navigation shaped by the
// user's role, and a hash router over the views (#/hotline, #/queue,
// #/case/ID, #/inspector, #/search).

import { h, clear, toast, showError } from './dom.mjs';
import { t, name, applyStatic, langButton, onLangChange } from './i18n.mjs';
import { login, logout, me, currentUser } from './api.mjs';
import { icon } from './icons.mjs';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

/* What each role sees in the navigation; the first entry is its home. */
const NAV = {
  operator: ['hotline', 'queue', 'search'],
  inspector: ['inspector', 'queue', 'search'],
  shiftlead: ['queue', 'search'],
  dispatcher: ['queue', 'search'],
  handler: ['queue', 'search'],
  leader: ['search'],
  admin: ['hotline', 'search'],
};

const VIEWS = {
  hotline: { icon: 'phone', zh: '一号受理', en: 'Hotline intake', load: () => import('./views/hotline.mjs') },
  queue: { icon: 'inbox', zh: '我的待办', en: 'My queue', load: () => import('./views/queue.mjs') },
  inspector: { icon: 'walk', zh: '监督员巡查', en: 'Field inspection', load: () => import('./views/inspector.mjs') },
  search: { icon: 'search', zh: '案件查询', en: 'Find cases', load: () => import('./views/search.mjs') },
  case: { load: () => import('./views/case.mjs') },
};

function queueTitle(role) {
  return {
    shiftlead: t('值班长待办', 'Shift lead queue'),
    dispatcher: t('待派遣', 'To dispatch'),
    handler: t('部门待办', 'Department inbox'),
    inspector: t('核实核查', 'Verify & check'),
    operator: t('我的待办', 'My queue'),
  }[role] || t('我的待办', 'My queue');
}

function route() {
  const m = /^#\/([a-z]+)(?:\/(.*))?$/.exec(location.hash);
  return m ? { name: m[1], arg: m[2] ? decodeURIComponent(m[2]) : '' } : { name: '', arg: '' };
}

function renderChrome(user) {
  clear(who);
  who.append(langButton());
  if (!user) {
    nav.hidden = true;
    return;
  }
  who.append(
    h('span', { class: 'name' }, user.display_name || user.username),
    h('span', { class: 'role-pill' }, name('role', user.role, user.role_zh)),
    h('button', { type: 'button', onclick: doLogout }, t('退出', 'Sign out')),
  );
  clear(nav);
  const cur = route().name;
  const ul = h('ul');
  for (const key of NAV[user.role] || ['search']) {
    const v = VIEWS[key];
    const label = key === 'queue' ? queueTitle(user.role) : t(v.zh, v.en);
    ul.append(h('li', null, h('a', { href: '#/' + key, 'aria-current': cur === key ? 'page' : null, 'data-nav': key },
      h('span', { class: 'nav-icon' }, icon(v.icon)), label)));
  }
  ul.append(h('li', { class: 'nav-sep', role: 'presentation' }));
  ul.append(h('li', null, h('a', { href: '/dashboard', target: '_blank', rel: 'noopener' }, h('span', { class: 'nav-icon' }, icon('dashboard')), t('指挥大屏', 'Command dashboard'))));
  ul.append(h('li', null, h('a', { href: '/report', target: '_blank', rel: 'noopener' }, h('span', { class: 'nav-icon' }, icon('megaphone')), t('市民上报', 'Citizen reports'))));
  nav.append(ul);
  nav.hidden = false;
  nav.setAttribute('aria-label', t('主导航', 'Main navigation'));
}

let cleanup = null;
let renderSeq = 0;

async function render() {
  const user = currentUser();
  if (typeof cleanup === 'function') {
    try { cleanup(); } catch { /* ignore */ }
  }
  cleanup = null;
  const my = ++renderSeq;
  if (!user) {
    renderChrome(null);
    renderLogin();
    return;
  }
  let r = route();
  const allowed = NAV[user.role] || ['search'];
  if (!VIEWS[r.name] || (r.name !== 'case' && !allowed.includes(r.name))) {
    history.replaceState(null, '', '#/' + allowed[0]);
    r = route();
  }
  renderChrome(user);
  clear(main);
  main.append(h('p', { class: 'muted' }, t('正在加载…', 'Loading…')));
  try {
    const mod = await VIEWS[r.name].load();
    if (my !== renderSeq) return;
    clear(main);
    document.title = `${r.name === 'case' ? r.arg : r.name === 'queue' ? queueTitle(user.role) : t(VIEWS[r.name].zh, VIEWS[r.name].en)} · cityops`;
    // each view draws into its own box: a view still loading when another
    // render starts ends up in a detached box, never beside the new one
    const host = h('div', { class: 'view', 'data-view': r.name });
    main.append(host);
    const done = await mod.default(host, { arg: r.arg, user, title: r.name === 'queue' ? queueTitle(user.role) : null });
    if (my !== renderSeq) {
      if (typeof done === 'function') done();
      return;
    }
    cleanup = done;
  } catch (e) {
    if (my !== renderSeq) return;
    clear(main);
    main.append(h('div', { class: 'panel', role: 'alert' }, h('strong', null, t('页面加载失败：', 'This page failed to load: ')), e.message || String(e)));
  }
}

function renderLogin(message) {
  clear(main);
  const user = h('input', { type: 'text', id: 'login-user', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'off' });
  const pass = h('input', { type: 'password', id: 'login-pass', name: 'password', autocomplete: 'current-password', required: true });
  const err = h('div', { class: 'error-text', role: 'alert', id: 'login-error' }, message || '');
  const btn = h('button', { type: 'submit', class: 'btn btn-primary btn-lg' }, t('登录', 'Sign in'));
  const form = h('form', { class: 'login-card', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, t('登录 cityops', 'Sign in to cityops')),
    h('p', { class: 'sub' }, t('城市运行管理服务平台 · 一网统管', 'City operations platform')),
    h('div', { class: 'field' }, h('label', { for: 'login-user' }, t('用户名', 'Username')), user),
    h('div', { class: 'field' }, h('label', { for: 'login-pass' }, t('密码', 'Password')), pass),
    err, btn,
    h('div', { class: 'demo-accounts' },
      h('div', null, t('演示账号（密码均为 demo）：', 'Demo accounts (password "demo"):')),
      ['operator', 'inspector', 'shiftlead', 'dispatcher', 'handler', 'leader', 'admin'].map((u) =>
        h('button', { type: 'button', class: 'btn btn-sm', onclick: () => { user.value = u; pass.value = 'demo'; pass.focus(); } },
          `${u} · ${name('role', u, u)}`))));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.textContent = '';
    btn.disabled = true;
    try {
      await login(user.value.trim(), pass.value);
      pass.value = '';
      await render();
      if (document.activeElement === document.body || !main.contains(document.activeElement)) main.focus({ preventScroll: true });
    } catch (ex) {
      err.textContent = ex.message;
      pass.select();
    } finally {
      btn.disabled = false;
    }
  });
  main.append(h('div', { class: 'login-wrap' }, form));
  user.focus();
}

async function doLogout() {
  try {
    await logout();
  } catch (e) {
    showError(e);
  }
  history.replaceState(null, '', '/');
  render();
}

window.addEventListener('hashchange', render);
window.addEventListener('cityops:unauthenticated', () => {
  if (!currentUser()) return;
  me().then((u) => {
    if (!u) {
      toast(t('登录已过期，请重新登录', 'Your session has expired: please sign in again'), 'error');
      render();
    }
  });
});
onLangChange(() => render());
document.getElementById('skip').addEventListener('click', () => main.focus());

applyStatic(document);
me()
  .then(() => render())
  .catch((e) => {
    renderChrome(null);
    renderLogin(e.message);
  });
