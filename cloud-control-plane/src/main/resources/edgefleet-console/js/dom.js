// Small DOM and formatting helpers. Text always goes in as text nodes, never as HTML.

/** h('td', {class: 'num'}, 'text', childNode, [more]) → an element; null/undefined/false children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) {
      continue;
    }
    if (k.startsWith('on') && typeof v === 'function') {
      el.addEventListener(k.slice(2), v);
    } else if (k === 'dataset') {
      Object.assign(el.dataset, v);
    } else {
      el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) {
      continue;
    }
    if (Array.isArray(c)) {
      append(el, c);
    } else {
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
  }
}

/** A table: headers are strings (a leading '#' marks a numeric column); rows are arrays of cells. */
export function table(headers, rows, { caption, empty = 'None.', rowAttrs } = {}) {
  if (!rows.length) {
    return h('p', { class: 'muted' }, empty);
  }
  const num = headers.map((x) => x.startsWith('#'));
  return h('table', {},
    caption ? h('caption', { class: 'muted' }, caption) : null,
    h('thead', {}, h('tr', {}, headers.map((x, i) => h('th', { scope: 'col', class: num[i] ? 'num' : null }, x.replace(/^#/, ''))))),
    h('tbody', {}, rows.map((r, j) => h('tr', rowAttrs ? rowAttrs(j) : {}, r.map((c, i) => h('td', { class: num[i] ? 'num' : null }, c))))));
}

export function badge(state) {
  const s = String(state ?? 'unknown');
  return h('span', { class: `badge s-${s.replace(/[^a-z0-9-]/gi, '-').toLowerCase()}` }, s);
}

export function link(href, text) {
  return h('a', { href }, text);
}

/** An ISO instant as local date-time, with the ISO text as tooltip; '—' when absent. */
export function time(iso) {
  if (!iso) {
    return '—';
  }
  const d = new Date(iso);
  return h('time', { datetime: iso, title: iso }, d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }));
}

/** "12 s ago", "3 min ago"... */
export function ago(iso) {
  if (!iso) {
    return '—';
  }
  const s = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  const text = s < 60 ? `${Math.max(0, s)} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : s < 86400 ? `${Math.round(s / 3600)} h ago`
    : `${Math.round(s / 86400)} d ago`;
  return h('time', { datetime: iso, title: iso }, text);
}

/** A number with sensible precision: integers as they are, others to 3 significant digits (never 16). */
export function num(x, digits = 3) {
  if (x === undefined || x === null || x === '') {
    return '—';
  }
  if (typeof x !== 'number') {
    return String(x);
  }
  if (!Number.isFinite(x)) {
    return String(x);
  }
  if (Number.isInteger(x)) {
    return x.toLocaleString('en');
  }
  return Number(x.toPrecision(digits)).toString();
}

export function pct(x) {
  return x === undefined || x === null ? '—' : `${num(x * 100)} %`;
}

export function opt(x) {
  return x === undefined || x === null || x === '' ? '—' : String(x);
}

/** An event's or log entry's detail object as one line of key: value pairs. */
export function detail(d) {
  if (!d || typeof d !== 'object') {
    return opt(d);
  }
  const parts = Object.entries(d).map(([k, v]) => `${k}: ${typeof v === 'number' ? num(v) : typeof v === 'object' ? JSON.stringify(v) : v}`);
  return h('span', { class: 'mono' }, parts.join('; '));
}
