// One A/B experiment (docs/ab.md): its arms and split, each arm's requests, errors, devices and the error rate, model
// latency and confidence (and accuracy, where labels came back) with their intervals, the differences B − A with
// their intervals and whether they are significant, whether the comparison is judged yet, and how to end it: stop
// (operators, here) or promote B (stop, then a rollout of B). Reads GET /api/v1/experiments/ID.
import { api, ApiError, enc } from '../api.js';
import { badge, h, link, num, pct, table, time } from '../dom.js';
import { split } from './experiments.js';

/** The compared measures: key in the comparison JSON, label, formatter of a value and of a difference. */
const MEASURES = [
  ['errorRate', 'Error rate', (x) => pct(clean(x)), (x) => `${sign(x)}${pct(clean(x))}`],
  ['latencyMs', 'Model latency (mean)', (x) => `${num(x)} ms`, (x) => `${sign(x)}${num(x)} ms`],
  ['confidence', 'Confidence (mean top-class probability)', (x) => num(clean(x)), (x) => `${sign(x)}${num(clean(x))}`],
  ['accuracy', 'Accuracy (labelled requests)', (x) => pct(clean(x)), (x) => `${sign(x)}${pct(clean(x))}`],
];

export function mount(main, [id], ctx) {
  const summary = h('div', { id: 'experiment-summary' });
  const judged = h('div', { id: 'experiment-judged' });
  const arms = h('div', { id: 'experiment-arms' });
  const diffs = h('div', { id: 'experiment-differences' });
  const end = h('div', { id: 'experiment-end' });
  main.append(h('h1', {}, `Experiment ${id}`), h('p', {}, link('#/experiments', 'All experiments')), summary, judged,
    h('h2', {}, 'Arms'), arms, h('h2', {}, 'Differences (B − A)'), diffs, h('h2', {}, 'Ending it'), end);
  let state = null;
  return {
    async refresh() {
      const e = await api(`/experiments/${enc(id)}`);
      const c = e.comparison || {};
      summary.replaceChildren(renderSummary(e, c));
      judged.replaceChildren(renderJudged(c));
      arms.replaceChildren(renderArms(e, c));
      diffs.replaceChildren(renderDifferences(c));
      if (state !== e.state) { // keep the operator's half-typed reason across refreshes
        state = e.state;
        end.replaceChildren(...renderEnd(e, ctx));
      }
    },
  };
}

/** A rounding residue of an interval's bound at 0 (1.7e-18) is 0. */
function clean(x) {
  return typeof x === 'number' && Math.abs(x) < 1e-12 ? 0 : x;
}

function sign(x) {
  return typeof x === 'number' && clean(x) > 0 ? '+' : '';
}

function renderSummary(e, c) {
  return h('dl', { class: 'kv' },
    h('dt', {}, 'Model'), h('dd', {}, link(`#/models/${enc(e.model)}`, e.model)),
    h('dt', {}, 'Arm A'), h('dd', { id: 'experiment-a' }, e.state === 'running' ? `version ${e.versionA} (active on the devices)`
      : `version ${e.versionA} (active on the devices when the experiment ran)`),
    h('dt', {}, 'Arm B'), h('dd', { id: 'experiment-b' }, `version ${e.versionB} (candidate)`),
    h('dt', {}, 'Split'), h('dd', {}, split(e)),
    h('dt', {}, 'Devices'), h('dd', { id: 'experiment-devices' }, (e.devices || []).length
      ? (e.devices || []).flatMap((d, i) => [i ? ', ' : '', link(`#/devices/${enc(d.split('/')[0])}/${enc(d.split('/').slice(1).join('/'))}`, d)])
      : 'none'),
    h('dt', {}, 'State'), h('dd', { id: 'experiment-state' }, badge(e.state)),
    h('dt', {}, 'Started'), h('dd', {}, time(e.createdAt)),
    e.stoppedAt ? h('dt', {}, 'Stopped') : null, e.stoppedAt ? h('dd', {}, time(e.stoppedAt)) : null,
    h('dt', {}, 'Intervals'), h('dd', {}, `two-sided at ${num((c.level ?? 0.95) * 100)} %`));
}

function renderJudged(c) {
  const min = c.minSamples ?? 200;
  const a = (c.a || {}).requests ?? 0;
  const b = (c.b || {}).requests ?? 0;
  if (c.judged) {
    return h('p', { class: 'panel', 'data-judged': 'true' }, badge('judged'), ` Both arms have at least ${num(min)} requests. Looking many times and `
      + 'acting on the first "significant" raises false alarms: decide the number of requests first, or read it at a stricter level.');
  }
  return h('p', { class: 'panel', 'data-judged': 'false' }, badge('not judged'),
    ` Not judged yet: ${num(Math.min(a, b))} of ${num(min)} requests per arm (arm A ${num(a)}, arm B ${num(b)}). The intervals are shown `
    + 'all the same; do not act on them yet.');
}

function interval(est, fmt) {
  if (!est) {
    return '—';
  }
  return [fmt(est.value), est.low !== undefined ? h('span', { class: 'muted interval' }, ` [${fmt(est.low)}, ${fmt(est.high)}]`) : ''];
}

function renderArms(e, c) {
  const measures = MEASURES.filter(([k]) => k !== 'accuracy' || ['a', 'b'].some((arm) => (c[arm] || {}).accuracy));
  const rows = ['a', 'b'].map((arm) => {
    const x = c[arm] || {};
    return [arm.toUpperCase(), arm === 'a' ? e.versionA : e.versionB, num(x.requests ?? 0), num(x.errors ?? 0), num(x.devices ?? 0),
      ...measures.map(([k, , fmt]) => interval(x[k], fmt))];
  });
  return table(['Arm', 'Version', '#Requests', '#Errors', '#Devices', ...measures.map(([, label]) => label)], rows,
    { rowAttrs: (j) => ({ 'data-arm': j ? 'b' : 'a' }) });
}

function renderDifferences(c) {
  const d = c.difference || {};
  const measures = MEASURES.filter(([k]) => d[k]);
  return table(['Measure', 'B − A', 'Interval', 'Significant'], measures.map(([k, label, , fmt]) => {
    const x = d[k];
    return [label, fmt(x.value), x.low !== undefined ? `[${fmt(x.low)}, ${fmt(x.high)}]` : '—',
      x.significant ? h('span', { class: 'significant s-bad' }, c.judged ? 'yes: the interval excludes 0' : 'yes, but not judged yet')
        : 'no: the interval holds 0'];
  }), { empty: 'No difference yet: both arms need requests.', rowAttrs: (j) => ({ 'data-measure': measures[j][0] }) });
}

function renderEnd(e, ctx) {
  const promote = h('p', {}, `To promote arm B: ${e.state === 'running' ? 'stop the experiment, then ' : ''}start a normal rollout of version ${e.versionB} (`,
    link('#/rollouts', 'Rollouts'), `, or "edgefleet rollout create spec.yaml" with model: ${e.model}, version: "${e.versionB}"); its waves and gates `
    + 'move the fleet to B with the usual rollback. An experiment never changes the active version by itself.');
  if (e.state !== 'running') {
    return [h('p', {}, `Stopped${e.stoppedAt ? ` at ${e.stoppedAt}` : ''}: every device was sent back to arm A only and told to unload arm B`
      + ' (a rollout since may have changed the active version).'), promote];
  }
  const out = [h('p', {}, `To stop: every device goes back to arm A only and unloads arm B ("edgefleet experiment stop ${e.id}").`)];
  if (ctx.may('rollouts:write')) {
    const err = h('p', { class: 'form-error', id: 'experiment-stop-error', role: 'alert' });
    out.push(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'danger', id: 'experiment-stop', onclick: async () => {
      err.replaceChildren();
      if (!window.confirm(`Stop experiment ${e.id}?`)) {
        return;
      }
      try {
        await api(`/experiments/${enc(e.id)}/stop`, { method: 'POST', body: {} });
        ctx.refreshNow();
      } catch (x) {
        if (x instanceof ApiError) {
          err.replaceChildren(h('strong', {}, x.problem.title || 'Refused'), ` (${x.status}): ${x.problem.detail || ''}`);
        } else {
          ctx.showProblem(x);
        }
      }
    } }, 'Stop experiment')), err);
  }
  out.push(promote);
  return out;
}
