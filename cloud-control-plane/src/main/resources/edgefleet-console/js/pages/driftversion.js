// One model version's input drift (docs/drift.md): alarm state, the rule it is judged by, the PSI of every input
// feature in the last judged window against the threshold, the worst feature's and the confidence's PSI over the
// judged windows (a chart and a table). Reads GET /api/v1/models/M/versions/V/drift?windows=100.
import { api, enc } from '../api.js';
import { lineChart } from '../chart.js';
import { h, link, num, table, time } from '../dom.js';
import { alarmBadge, reference } from './drift.js';

const WINDOWS = 100;

export function mount(main, [model, version]) {
  const state = h('div', { id: 'drift-state' });
  const features = h('div', { id: 'drift-features' });
  const charts = h('div', { id: 'drift-charts', class: 'charts' });
  const windows = h('div', { id: 'drift-windows' });
  main.append(h('h1', {}, `Input drift of ${model} version ${version}`),
    h('p', {}, link(`#/models/${enc(model)}`, `Model ${model}`), ' · ', link('#/drift', 'All versions')),
    state, h('h2', {}, 'PSI per feature, last judged window'), features, h('h2', {}, 'Judged windows'), charts, windows);
  let chart = null;
  return {
    async refresh() {
      const d = await api(`/models/${enc(model)}/versions/${enc(version)}/drift?windows=${WINDOWS}`);
      state.replaceChildren(renderState(d));
      features.replaceChildren(renderFeatures(d));
      windows.replaceChildren(renderWindows(d));
      const ws = [...(d.windows || [])].reverse(); // oldest first for the chart
      if (ws.length) {
        const xs = ws.map((w) => Date.parse(w.window_start) / 1000);
        const series = [
          { label: 'worst feature PSI', values: ws.map((w) => w.max_psi) },
          { label: 'confidence PSI', values: ws.map((w) => (w.confidence_psi ?? null)) },
          { label: 'threshold', values: ws.map(() => d.threshold) },
        ];
        if (chart) {
          chart.plot.setData([xs, ...series.map((s) => s.values)]);
        } else {
          chart = lineChart('PSI per judged window', xs, series);
          charts.replaceChildren(chart);
        }
      } else {
        chart = null;
        charts.replaceChildren();
      }
    },
  };
}

function renderState(d) {
  const last = (d.windows || [])[0];
  return h('dl', { class: 'kv' },
    h('dt', {}, 'Alarm'), h('dd', { id: 'drift-alarm' }, alarmBadge(d), last && last.alarm
      ? ` since a run of ${d.consecutive_windows} breaching windows; it clears after ${d.consecutive_windows} clean ones in a row`
      : ` (raised after ${d.consecutive_windows} breaching windows in a row)`),
    h('dt', {}, 'Reference'), h('dd', { id: 'drift-reference' }, reference(d),
      d.reference ? [' (', time(d.reference.created_at), d.reference.has_confidence ? ', with the confidence distribution)' : ')'] : ''),
    h('dt', {}, 'Rule'), h('dd', {}, `a window breaches when its worst feature's PSI or the confidence's PSI is over ${num(d.threshold)}; `
      + `windows with fewer than ${num(d.min_samples)} values per feature are not judged`),
    h('dt', {}, 'Last judged window'), h('dd', {}, last ? [time(last.window_start), `: ${num(last.samples)} values per feature, worst `
      + `${last.worst_feature} PSI ${num(last.max_psi)}`] : 'none yet'));
}

function renderFeatures(d) {
  const f = d.last_window_features;
  if (!f || !Object.keys(f).length) {
    return h('p', { class: 'muted' }, 'Not judged by this control plane since it started (the per-feature values are kept in memory; '
      + 'each stored window keeps its worst feature, below).');
  }
  const entries = Object.entries(f);
  const top = Math.max(d.threshold * 2, ...entries.map(([, v]) => v));
  return table(['Feature', '#PSI', '', 'Judgement'], entries.map(([name, psi]) => {
    const over = psi > d.threshold;
    return [name, num(psi), h('span', { class: 'psi-bar', role: 'presentation' },
      h('span', { class: over ? 'psi-over' : 'psi-ok', style: `width: ${Math.min(100, (100 * psi) / top).toFixed(1)}%` }),
      h('span', { class: 'psi-threshold', style: `left: ${Math.min(100, (100 * d.threshold) / top).toFixed(1)}%` })),
    over ? h('span', { class: 's-fail' }, `over ${num(d.threshold)}`) : 'within'];
  }), { rowAttrs: (j) => ({ 'data-feature': entries[j][0], class: entries[j][1] > d.threshold ? 'gate-fail' : null }) });
}

function renderWindows(d) {
  const ws = d.windows || [];
  return table(['Window start', '#Values', '#Worst PSI', 'Worst feature', '#Mean PSI', '#Confidence PSI', 'Alarm'], ws.map((w) => [
    time(w.window_start), num(w.samples), num(w.max_psi), w.worst_feature, num(w.mean_psi),
    w.confidence_psi == null ? 'not judged' : num(w.confidence_psi),
    w.alarm ? h('span', { class: 's-fail' }, 'alarm') : 'no']), {
    empty: 'No judged window yet.', rowAttrs: (j) => ({ class: ws[j].max_psi > d.threshold || (ws[j].confidence_psi ?? 0) > d.threshold
      ? 'gate-fail' : null }) });
}
