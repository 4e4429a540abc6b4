// A/B experiments (docs/ab.md): every experiment, newest first, with its arms, split, devices, state and whether its
// comparison is judged yet. Reads GET /api/v1/experiments, then GET /api/v1/experiments/ID of the newest few for
// "judged" (the list does not carry the comparison).
import { api, enc } from '../api.js';
import { badge, h, link, num, table, time } from '../dom.js';

/** How many of the newest experiments get their comparison fetched for the Judged column on every refresh. */
const JUDGED_OF = 20;

export function mount(main) {
  const live = h('div', { id: 'experiments-live' });
  main.append(h('h1', {}, 'A/B experiments'),
    h('p', { class: 'muted' }, 'Arm A is the version the devices had active, arm B the candidate; both answer for real. Start one with '
      + '"edgefleet experiment start --model M --candidate V --share 0.2 [--by key] [--selector S]".'), live);
  return {
    async refresh() {
      const list = (await api('/experiments')).experiments || [];
      const judged = await Promise.all(list.slice(0, JUDGED_OF).map((e) => api(`/experiments/${enc(e.id)}`).then((x) => x.comparison, () => null)));
      live.replaceChildren(table(['Experiment', 'Model', 'Arm A', 'Arm B', 'Split', '#Devices', 'State', 'Judged', 'Created'], list.map((e, i) => [
        link(`#/experiments/${enc(e.id)}`, e.id), e.model, e.versionA, e.versionB, split(e), num((e.devices || []).length), badge(e.state),
        judgedCell(judged[i]), time(e.createdAt)]),
      { empty: 'No experiment yet.', rowAttrs: (j) => ({ 'data-experiment': list[j].id }) }));
    },
  };
}

/** "20 % to B, per request" or "20 % to B, sticky per client key". */
export function split(e) {
  return `${num(e.share * 100)} % to B, ${e.splitBy === 'key' ? 'sticky per client key' : 'per request'}`;
}

function judgedCell(c) {
  if (!c) {
    return '—';
  }
  return c.judged ? h('span', { class: 'badge s-pass' }, 'judged') : h('span', { class: 'badge s-not-judged' }, 'not yet');
}
