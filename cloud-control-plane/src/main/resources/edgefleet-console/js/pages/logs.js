// Central logs: the WARN and ERROR records agents forward, by device, trace id and level
// (GET /api/v1/logs; a device typed as FLEET/DEVICE is sent as the fleet and device parameters).
import { api, enc } from '../api.js';
import { h, opt, table, time } from '../dom.js';

export function mount(main, params, ctx, query) {
  const device = h('input', { type: 'search', id: 'logs-device', name: 'device', placeholder: 'plant-7/cam-3' });
  const trace = h('input', { type: 'search', id: 'logs-trace', name: 'trace_id', placeholder: '32 hex digits' });
  const level = h('select', { id: 'logs-level', name: 'level' },
    ['', 'WARN', 'ERROR'].map((l) => h('option', { value: l }, l || 'WARN and ERROR')));
  device.value = query.get('device') || '';
  trace.value = query.get('trace_id') || '';
  const live = h('div', { id: 'logs-live' });
  main.append(h('h1', {}, 'Logs'),
    h('form', { class: 'actions', role: 'search', onsubmit: (e) => { e.preventDefault(); ctx.refreshNow(); } },
      h('div', {}, h('label', { for: 'logs-device' }, 'Device'), device),
      h('div', {}, h('label', { for: 'logs-trace' }, 'Trace id'), trace),
      h('div', {}, h('label', { for: 'logs-level' }, 'Level'), level),
      h('button', { type: 'submit' }, 'Filter')),
    live);
  return {
    async refresh() {
      const q = new URLSearchParams({ limit: '200' });
      const d = device.value.trim();
      const slash = d.indexOf('/');
      if (slash > 0) {
        q.set('fleet', d.slice(0, slash));
        q.set('device', d.slice(slash + 1));
      } else if (d) {
        q.set('device', d);
      }
      if (trace.value.trim()) {
        q.set('trace_id', trace.value.trim());
      }
      if (level.value) {
        q.set('level', level.value);
      }
      const data = await api(`/logs?${q}`);
      live.replaceChildren(table(['Time', 'Device', 'Level', 'Logger', 'Message', 'Trace'], (data.records || []).map((r) => [time(r.time),
        opt(r.fleet ? `${r.fleet}/${r.device}` : r.device), h('span', { class: r.level === 'ERROR' || r.level === 'SEVERE' ? 's-bad' : 's-stale' }, opt(r.level)), opt(r.logger),
        opt(r.message), r.trace_id ? h('a', { href: `#/logs?trace_id=${enc(r.trace_id)}` }, r.trace_id) : '—']), { empty: 'No record.' }));
    },
  };
}
