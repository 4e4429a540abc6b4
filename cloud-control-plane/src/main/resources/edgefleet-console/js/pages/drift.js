// Input drift (docs/drift.md): every model version with a reference profile, its alarm and its last judged window.
// Reads GET /api/v1/drift; a row links to the version's drift page (#/drift/M/V).
import { api, enc } from '../api.js';
import { h, link, num, table, time } from '../dom.js';

export function mount(main) {
  const live = h('div', { id: 'drift-live' });
  main.append(h('h1', {}, 'Input drift'),
    h('p', { class: 'muted' }, 'Per model version: the inputs of each telemetry window against the version\'s reference profile (PSI of the '
      + 'worst feature). The alarm is raised after several breaching windows in a row.'), live);
  return {
    async refresh() {
      const all = await api('/drift');
      live.replaceChildren(table(['Model', 'Version', 'Alarm', 'Reference', '#Last window PSI', 'Worst feature', '#Confidence PSI', 'Last window'],
        all.versions.map((v) => {
          const w = (v.windows || [])[0];
          return [v.model, link(`#/drift/${enc(v.model)}/${enc(v.version)}`, v.version), alarmBadge(v), reference(v),
            w ? num(w.max_psi) : '—', w ? w.worst_feature : '—', w && w.confidence_psi != null ? num(w.confidence_psi) : '—',
            w ? time(w.window_start) : 'none judged yet'];
        }),
        { empty: 'No model version has a drift reference yet: give a sample set (edgefleet model drift M V --reference FILE) or let one be learned '
          + 'from its first windows of traffic.', rowAttrs: (j) => ({ 'data-version': `${all.versions[j].model}/${all.versions[j].version}` }) }));
    },
  };
}

/** 'alarm' (red) or 'no alarm' (green), for a version's drift state as the API answers it. */
export function alarmBadge(v) {
  return h('span', { class: `badge ${v.alarm ? 's-fail' : 's-ok'}`, 'data-alarm': String(!!v.alarm) }, v.alarm ? 'alarm' : 'no alarm');
}

export function reference(v) {
  if (!v.reference) {
    return v.learning_windows !== undefined ? `learning from traffic: ${v.learning_windows} window(s) so far` : 'none';
  }
  return `${v.reference.source === 'samples' ? 'sample set' : 'learned from traffic'}, ${num(v.reference.samples)} samples`;
}


