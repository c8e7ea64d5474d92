// api.mjs — every call to the JSON API goes through here.
// Cookie session (HttpOnly, set by POST /api/v1/login), credentials
// 'same-origin', and the CSRF token (from the login reply or GET /api/v1/me)
// in X-CSRF-Token on every unsafe method. Errors become ApiError with the
// server's {"error":{"code","message"}} message in the current language.

import { pick, t } from './i18n.mjs';

let csrf = null;
let user = null;

export function setSession(s) {
  csrf = s ? s.csrf : null;
  user = s ? s.user : null;
}

export function currentUser() {
  return user;
}

export class ApiError extends Error {
  constructor(status, code, message, detail) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail || null;
  }
}

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/* api('POST', '/api/v1/cases', {...}) → parsed JSON.
 * body: a plain object (sent as JSON), a Blob/File (sent raw with its type),
 * or undefined. */
export async function api(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (body instanceof Blob) {
    payload = body;
    headers['Content-Type'] = opts.contentType || body.type || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (UNSAFE.has(method) && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'network', t('网络连接失败，请检查网络后重试', 'Network error: please check the connection and retry'));
  }
  const type = res.headers.get('Content-Type') || '';
  let data = null;
  if (type.includes('json')) {
    try {
      data = await res.json();
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    const msg = err.message
      ? pick(err.message)
      : t(`服务器错误（${res.status}）`, `Server error (${res.status})`);
    const e = new ApiError(res.status, err.code || 'http_' + res.status, msg, err);
    if (res.status === 401 && !opts.quiet401) {
      window.dispatchEvent(new CustomEvent('cityops:unauthenticated'));
    }
    throw e;
  }
  return data;
}

export const get = (path, opts) => api('GET', path, undefined, opts);
export const post = (path, body, opts) => api('POST', path, body === undefined ? {} : body, opts);

/* Query string from an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null || v === '') continue;
    u.set(k, String(v));
  }
  const s = u.toString();
  return s ? '?' + s : '';
}

export async function login(username, password) {
  const r = await api('POST', '/api/v1/login', { username, password }, { quiet401: true });
  setSession({ csrf: r.csrf, user: r.user });
  return r.user;
}

export async function me() {
  try {
    const r = await get('/api/v1/me', { quiet401: true });
    setSession(r);
    return r.user;
  } catch (e) {
    if (e.status === 401) {
      setSession(null);
      return null;
    }
    throw e;
  }
}

export async function logout() {
  try {
    await post('/api/v1/logout', {}, { quiet401: true });
  } finally {
    setSession(null);
  }
}

/* Uploads one photo (raw body) and returns its media id. Public pages use
 * the citizens' endpoint. */
export async function uploadPhoto(file, { publicUpload = false } = {}) {
  const okType = /^image\/(jpeg|png|webp)$/.test(file.type);
  if (!okType) {
    throw new ApiError(415, 'bad_type', t('只接受 JPEG、PNG 或 WebP 图片', 'Only JPEG, PNG or WebP images'));
  }
  const r = await api('POST', publicUpload ? '/api/v1/public/media' : '/api/v1/media', file, {
    contentType: file.type,
  });
  return r.id;
}

let taxonomyPromise = null;
export function taxonomy() {
  if (!taxonomyPromise) taxonomyPromise = get('/api/v1/taxonomy').catch((e) => {
    taxonomyPromise = null;
    throw e;
  });
  return taxonomyPromise;
}

/* Map "E0402" → {zh, en} from the taxonomy (loaded once). */
let catNames = null;
export async function categoryNames() {
  if (!catNames) {
    const tax = await taxonomy();
    catNames = new Map(tax.subclasses.map((s) => [(s.kind === 'component' ? 'C' : 'E') + s.code, { zh: s.name, en: s.name_en || s.name }]));
  }
  return catNames;
}

let deptPromise = null;
export function departments() {
  if (!deptPromise) deptPromise = get('/api/v1/departments').catch((e) => {
    deptPromise = null;
    throw e;
  });
  return deptPromise;
}

/* The area hierarchy's names (districts, streets, communities) for search
 * without a map; loaded once, on first use. */
let areasPromise = null;
export function areaIndex() {
  if (!areasPromise) {
    areasPromise = Promise.all(
      ['district', 'street', 'community'].map((level) => get('/api/v1/areas' + qs({ level }))),
    )
      .then(([d, s, c]) => {
        const byCode = new Map();
        const all = [];
        for (const list of [d.items, s.items, c.items]) {
          for (const a of list) {
            byCode.set(a.code, a);
            all.push(a);
          }
        }
        return { byCode, all };
      })
      .catch((e) => {
        areasPromise = null;
        throw e;
      });
  }
  return areasPromise;
}
