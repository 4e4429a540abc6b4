// The model registry: every model with its versions.
import { api, enc } from '../api.js';
import { h, link, opt, table, time } from '../dom.js';

export function mount(main) {
  const live = h('div', { id: 'models-live' });
  main.append(h('h1', {}, 'Model registry'), live);
  return {
    async refresh() {
      const models = await api('/models');
      live.replaceChildren(table(['Model', 'Task', 'Owner', 'Versions', 'Registered'], models.map((m) => [
        link(`#/models/${enc(m.name)}`, m.name), opt(m.task), opt(m.owner), (m.versions || []).join(', '), time(m.createdAt)]),
      { empty: 'No model is registered yet (edgefleet model push).' }));
    },
  };
}
