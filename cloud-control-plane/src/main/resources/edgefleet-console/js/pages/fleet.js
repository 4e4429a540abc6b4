// Fleet overview: devices by status, agent version and profile; offline and stale devices first.
import { api, enc } from '../api.js';
import { ago, badge, h, link, table } from '../dom.js';

const ORDER = { offline: 0, stale: 1, unknown: 2, registered: 3, online: 4 };

export function mount(main, params, ctx) {
  const selector = h('input', { type: 'search', id: 'selector', name: 'selector', placeholder: 'fleet=plant-7,tag=line-3,status=offline',
    'aria-describedby': 'selector-help' });
  const live = h('div', { id: 'fleet-live' });
  main.append(
    h('h1', {}, 'Fleet'),
    h('form', { class: 'actions', role: 'search', onsubmit: (e) => { e.preventDefault(); ctx.refreshNow(); } },
      h('div', {}, h('label', { for: 'selector' }, 'Selector'), selector),
      h('button', { type: 'submit' }, 'Filter')),
    h('p', { id: 'selector-help', class: 'muted' }, 'Keys: fleet, device, tag, profile, model, status; comma-separated terms all apply.'),
    live);
  return {
    async refresh() {
      const q = selector.value.trim();
      const data = await api(`/devices${q ? `?selector=${enc(q)}` : ''}`);
      live.replaceChildren(...render(data.devices));
    },
  };
}

function countBy(devices, key) {
  const m = new Map();
  for (const d of devices) {
    const k = key(d) ?? '—';
    m.set(k, (m.get(k) || 0) + 1);
  }
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

function card(title, entries, id, asBadge) {
  return h('section', { class: 'card', id, 'aria-label': title }, h('h2', {}, title),
    h('ul', {}, entries.map(([k, n]) => h('li', {}, asBadge ? badge(k) : k, ` ${n}`))));
}

function render(devices) {
  const sorted = [...devices].sort((a, b) => (ORDER[a.status] ?? 2) - (ORDER[b.status] ?? 2)
    || String(a.lastSeen || '').localeCompare(String(b.lastSeen || ''))
    || `${a.fleet}/${a.device}`.localeCompare(`${b.fleet}/${b.device}`));
  const rows = sorted.map((d) => [
    link(`#/devices/${enc(d.fleet)}/${enc(d.device)}`, `${d.fleet}/${d.device}`),
    badge(d.status),
    ago(d.statusSince),
    d.profile || '—',
    d.agentVersion || '—',
    (d.models || []).map((m) => `${m.model}@${m.active || '—'}`).join(', ') || '—',
    ago(d.lastSeen),
    (d.tags || []).join(', ') || '—',
  ]);
  return [
    h('div', { class: 'cards' },
      card(`Status (${devices.length} devices)`, countBy(devices, (d) => d.status), 'by-status', true),
      card('Agent version', countBy(devices, (d) => d.agentVersion), 'by-version'),
      card('Profile', countBy(devices, (d) => d.profile), 'by-profile')),
    table(['Device', 'Status', 'Since', 'Profile', 'Agent', 'Models (active)', 'Last seen', 'Tags'], rows,
      { caption: 'Offline and stale devices first, the longest silent first.', empty: 'No device matches.' }),
  ];
}
