// Audit: every mutating API call and every refusal, newest first (scope audit:read).
import { api, enc } from '../api.js';
import { h, table, time } from '../dom.js';

export function mount(main, params, ctx) {
  const actor = h('input', { type: 'search', id: 'audit-actor', name: 'actor', placeholder: 'token or subject name' });
  const live = h('div', { id: 'audit-live' });
  main.append(h('h1', {}, 'Audit'),
    h('form', { class: 'actions', role: 'search', onsubmit: (e) => { e.preventDefault(); ctx.refreshNow(); } },
      h('div', {}, h('label', { for: 'audit-actor' }, 'Actor'), actor),
      h('button', { type: 'submit' }, 'Filter')),
    live);
  return {
    async refresh() {
      const a = actor.value.trim();
      const list = await api(`/audit?limit=200${a ? `&actor=${enc(a)}` : ''}`);
      live.replaceChildren(table(['Time', 'Actor', 'Kind', 'Method', 'Route', 'Target', '#Status', 'Remote'], list.map((e) => [time(e.at), e.actor,
        e.actorKind, e.method, e.route, e.target, h('span', { class: e.status < 400 ? 's-ok' : 's-bad' }, String(e.status)), e.remote])));
    },
  };
}
