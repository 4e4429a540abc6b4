// Events: device, model and rollout events, newest first, optionally about one subject.
import { api, enc } from '../api.js';
import { detail, h, opt, table, time } from '../dom.js';

export function mount(main, params, ctx) {
  const subject = h('input', { type: 'search', id: 'event-subject', name: 'subject', placeholder: 'plant-7/cam-3, rollout/ro-1a2b3c4d, kws/' });
  const live = h('div', { id: 'events-live' });
  main.append(h('h1', {}, 'Events'),
    h('form', { class: 'actions', role: 'search', onsubmit: (e) => { e.preventDefault(); ctx.refreshNow(); } },
      h('div', {}, h('label', { for: 'event-subject' }, 'Subject (exact, or a prefix ending in /)'), subject),
      h('button', { type: 'submit' }, 'Filter')),
    live);
  return {
    async refresh() {
      const s = subject.value.trim();
      const list = await api(`/events?limit=200${s ? `&subject=${enc(s)}` : ''}`);
      live.replaceChildren(table(['Time', 'Kind', 'Subject', 'Actor', 'Detail'], list.map((e) => [time(e.at), e.kind, subjectLink(e.subject),
        opt(e.actor), detail(e.detail)]), { empty: 'No event.' }));
    },
  };
}

function subjectLink(s) {
  if (s.startsWith('rollout/')) {
    return h('a', { href: `#/rollouts/${enc(s.slice(8))}` }, s);
  }
  return s;
}
