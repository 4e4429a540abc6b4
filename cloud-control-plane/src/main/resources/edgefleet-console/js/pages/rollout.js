// One rollout, live: progress per wave, what the wave waits for, the gates in force next to the values
// of their latest evaluation, the shadow waves' readings against their shadowGates (docs/shadow.md), the event
// timeline, the devices, and (operators only) the operations.
import { api, ApiError, enc } from '../api.js';
import { ago, badge, detail, h, link, num, opt, pct, table, time } from '../dom.js';
import { renderShadow } from './shadow.js';

const ENDED = ['succeeded', 'rolled-back', 'aborted'];
const OPS = [
  ['pause', 'Pause', ['running'], ''],
  ['resume', 'Resume', ['paused'], ''],
  ['promote', 'Promote (skip the bake)', ['running', 'paused'], ''],
  ['abort', 'Abort', ['running', 'paused'], 'danger'],
  ['rollback', 'Roll back', ['running', 'paused', 'succeeded'], 'danger'],
];
const STATES = ['activated', 'shadowing', 'downloading', 'commanded', 'rolling-back', 'rolled-back', 'failed', 'timed-out', 'pending'];

/**
 * How each gate reads the evaluation: the value compared, and whether it is an upper bound (max),
 * the evidence needed (min) or the p95 floor. Keys of RolloutSpec.Gates and of the gate detail.
 */
const GATES = {
  minDevices: { value: (d) => d.reportingDevices, kind: 'min', what: 'devices of the wave that reported telemetry' },
  minRequests: { value: (d) => d.requests, kind: 'min', what: 'requests on the new version' },
  minSamples: { value: (d) => d.requests, kind: 'min', what: 'requests before a noisy gate is judged' },
  maxInstallFailures: { value: (d) => d.installFailures, kind: 'max', what: 'failed or timed-out installs' },
  maxStale: { value: (d) => d.staleAfterUpdate, kind: 'max', what: 'updated devices gone stale or offline' },
  maxNonFiniteRate: { value: (d) => d.nonFiniteRate, kind: 'max', fmt: pct, what: 'answers with NaN or infinity' },
  maxErrorRate: { value: (d) => d.errorRate, kind: 'max', fmt: pct, what: 'error rate of the wave' },
  maxErrorRateIncrease: { value: (d) => (d.baselineErrorRate === undefined ? undefined : d.errorRate - d.baselineErrorRate), kind: 'max',
    fmt: pct, what: 'error rate over the baseline' },
  maxP95Ratio: { value: (d) => d.p95Ratio, kind: 'max', fmt: (x) => `${num(x)}×`, what: 'p95 latency / baseline p95' },
  minP95IncreaseMs: { value: (d) => d.p95IncreaseMs, kind: 'floor', fmt: (x) => `${num(x)} ms`, what: 'p95 increase (both must be exceeded)' },
  maxConfidenceDrop: { value: (d) => d.confidenceDrop, kind: 'max', what: 'mean confidence drop from the baseline' },
  maxEscalationShare: { value: (d) => d.escalationShare, kind: 'max', fmt: pct, what: 'share escalated to the cloud' },
  maxClientErrorRateIncrease: { value: (d) => d.clientErrorIncrease, kind: 'max', fmt: pct, what: 'client errors over the baseline' },
  sustainedEvaluations: { value: () => undefined, kind: 'setting', what: 'consecutive violations a noisy gate needs' },
  // issue 20: the new version's input drift alarm (docs/drift.md); the value is the newest judged window's worst feature
  noDriftAlarm: { value: (d) => (d.driftAlarm === undefined ? undefined : d.driftAlarm), kind: 'alarm',
    fmt: (x) => (typeof x === 'boolean' ? (x ? 'on' : 'off') : String(x)), what: 'the new version\'s input drift alarm (docs/drift.md)' },
};

export function mount(main, [id], ctx) {
  const summary = h('div', { id: 'rollout-summary' });
  const waves = h('div', { id: 'rollout-waves' });
  const waiting = h('div', { id: 'rollout-waiting' });
  const gates = h('div', { id: 'rollout-gates' });
  const shadow = h('div', { id: 'rollout-shadow' });
  const timeline = h('div', { id: 'rollout-timeline' });
  const devices = h('div', { id: 'rollout-devices' });
  const actions = ctx.may('rollouts:write') ? operations(id, ctx) : null;
  main.append(...[h('h1', {}, `Rollout ${id}`), summary, actions ? actions.el : null,
    h('h2', {}, 'Waves'), waves,
    h('h2', {}, 'Waiting for'), waiting,
    shadow,
    h('h2', {}, 'Gates'), gates,
    h('h2', {}, 'Timeline'), timeline,
    h('details', {}, h('summary', {}, 'Devices'), devices)].filter(Boolean));
  return {
    async refresh() {
      const st = await api(`/rollouts/${enc(id)}`);
      summary.replaceChildren(renderSummary(st));
      actions?.update(st.rollout.state);
      waves.replaceChildren(renderWaves(st));
      waiting.replaceChildren(renderWaiting(st));
      gates.replaceChildren(...renderGates(st));
      shadow.replaceChildren(...renderShadow(st));
      timeline.replaceChildren(renderTimeline(st));
      devices.replaceChildren(table(['Device', '#Wave', 'State', 'From', '#Attempts', 'Commanded', 'Activated', 'Error'],
        st.devices.map((d) => [link(`#/devices/${enc(d.fleet)}/${enc(d.device)}`, `${d.fleet}/${d.device}`), d.wave, badge(d.state),
          opt(d.fromVersion), d.attempts, time(d.commandedAt), time(d.activatedAt), opt(d.error)])));
    },
  };
}

function renderSummary(st) {
  const r = st.rollout;
  const total = r.spec.waves.length;
  return h('dl', { class: 'kv' },
    h('dt', {}, 'Model'), h('dd', {}, link(`#/models/${enc(r.model)}`, r.model), ` version ${r.version}`),
    h('dt', {}, 'Selector'), h('dd', {}, h('code', {}, r.spec.selector || '(every device)')),
    h('dt', {}, 'State'), h('dd', { id: 'rollout-state' }, badge(r.state)),
    r.reason ? h('dt', {}, 'Reason') : null, r.reason ? h('dd', { id: 'rollout-reason' }, r.reason) : null,
    h('dt', {}, 'Wave'), h('dd', { id: 'rollout-wave' }, ENDED.includes(r.state) ? `${total} waves, ended` : `${st.currentWave} of ${total}`),
    h('dt', {}, 'On failure'), h('dd', {}, r.spec.onFailure || 'rollback'),
    h('dt', {}, 'Created'), h('dd', {}, time(r.createdAt), r.createdBy ? ` by ${r.createdBy}` : ''),
    h('dt', {}, 'Updated'), h('dd', {}, ago(r.updatedAt)));
}

/** Whether wave n (from 1) of the spec is a shadow wave (docs/shadow.md). */
export function isShadow(spec, n) {
  return (spec.waves[n - 1] || {}).mode === 'shadow';
}

/**
 * The devices a wave's row counts: its own, and for the first normal wave also those of the shadow waves before it
 * (their devices were only shadowing; this wave deploys to them). Each wave is its own row: a shadow wave and the
 * normal wave after it are never one bar, even at the same percent.
 */
function waveDevices(st, n) {
  const spec = st.rollout.spec;
  const started = n <= st.currentWave && !(st.rollout.state === 'rolled-back' && n === st.currentWave && isShadow(spec, n));
  return st.devices.filter((d) => d.wave === n || (started && n === firstNormal(spec) && d.wave < n && isShadow(spec, d.wave)));
}

function firstNormal(spec) {
  return spec.waves.findIndex((w) => w.mode !== 'shadow') + 1;
}

function renderWaves(st) {
  const r = st.rollout;
  const rows = r.spec.waves.map((w, i) => {
    const n = i + 1;
    const shadow = w.mode === 'shadow';
    const counts = {};
    for (const d of waveDevices(st, n)) {
      counts[d.state] = (counts[d.state] || 0) + 1;
    }
    const size = Object.values(counts).reduce((a, b) => a + b, 0);
    let stage;
    if (r.state === 'succeeded' || n < st.currentWave) {
      stage = 'done';
    } else if (n === st.currentWave) {
      stage = ENDED.includes(r.state) ? r.state : r.state === 'paused' ? 'paused' : 'in progress';
    } else {
      stage = ENDED.includes(r.state) ? 'not started' : 'waiting';
    }
    // a shadow wave that is over: its devices are now counted by the wave that deployed them (or rolled back)
    const shownCounts = shadow && stage === 'done' ? {} : counts;
    const bar = h('div', { class: `progress${shadow ? ' shadow' : ''}`, role: 'img', 'aria-label': `wave ${n}${shadow ? ' (shadow)' : ''}: ${describe(shownCounts, size)}` },
      STATES.filter((s) => shownCounts[s]).map((s) => h('span', { class: `p-${s}`, style: `width:${(100 * shownCounts[s]) / size}%`, title: `${s}: ${shownCounts[s]}` })));
    const target = w.percent !== undefined && w.percent !== null ? `${num(w.percent)} % cumulative` : `${w.count} device(s) cumulative`;
    const shadowDevices = st.devices.filter((d) => d.wave < n && isShadow(r.spec, d.wave)).length;
    let legend = shadow && stage === 'done'
      ? `shadow step over: ${size} device(s) compared the candidate; the next wave deploys to them`
      : describe(shownCounts, size);
    if (n === firstNormal(r.spec) && n > st.currentWave && shadowDevices && !ENDED.includes(r.state)) {
      legend += `; starting, it also deploys to the ${shadowDevices} device(s) of the shadow wave(s)`;
    }
    return [h('span', {}, `Wave ${n}`, shadow ? [' ', h('span', { class: 'badge s-shadow', title: 'the candidate runs next to the active version, off the answer path' }, 'shadow')] : ''),
      shadow ? [target, h('br'), h('span', { class: 'muted' }, 'no device answers with the candidate')] : target,
      w.bake || '0s', size, h('div', {}, bar, h('span', { class: 'legend' }, legend)),
      shadow ? h('span', { class: 'muted', title: 'a shadow wave never activates the candidate' }, 'none (shadow)') : counts.activated || 0, badge(stage)];
  });
  return table(['Wave', 'Target', 'Bake', '#Devices', 'Progress', '#Activated', 'Stage'], rows, {
    rowAttrs: (j) => ({ id: `wave-${j + 1}`, class: isShadow(r.spec, j + 1) ? 'wave-shadow' : null, 'data-mode': isShadow(r.spec, j + 1) ? 'shadow' : 'normal',
      'data-activated': isShadow(r.spec, j + 1) ? 0 : waveDevices(st, j + 1).filter((d) => d.state === 'activated').length }),
  });
}

function describe(counts, size) {
  if (!size) {
    return 'no device yet';
  }
  return STATES.filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(', ');
}

function renderWaiting(st) {
  if (!st.waitingFor.length) {
    return h('p', { class: 'muted' }, ENDED.includes(st.rollout.state) ? 'Nothing: the rollout has ended.' : 'Nothing: the next tick decides.');
  }
  return table(['Condition', 'Gate', '#Have', '#Need', 'Time left', 'Detail'], st.waitingFor.map((w) => [
    badge(w.condition), opt(w.gate), num(w.have), num(w.need), w.leftMillis !== undefined && w.leftMillis !== null ? `${num(w.leftMillis / 1000)} s` : '—',
    w.detail]));
}

/** The latest evaluation: the live one of the engine, or the last gate verdict in the log. */
function latestEvaluation(st) {
  if (st.evaluation) {
    return { at: st.evaluation.at, wave: st.evaluation.wave, verdict: st.evaluation.verdict, detail: st.evaluation.detail, live: true };
  }
  const l = [...st.log].reverse().find((x) => x.kind === 'gate-passed' || x.kind === 'gate-failed');
  return l ? { at: l.at, wave: l.wave, verdict: l.detail.verdict || l.kind.replace('gate-', ''), detail: l.detail, live: false } : null;
}

function renderGates(st) {
  const ev = latestEvaluation(st);
  const d = ev ? ev.detail : {};
  const rows = [];
  const failing = [];
  for (const [gate, threshold] of Object.entries(st.gates)) {
    if (threshold === null || threshold === undefined) {
      continue;
    }
    const g = GATES[gate] || { value: () => undefined, kind: 'max', what: '' };
    const fmt = g.fmt || num;
    const value = ev ? g.value(d) : undefined;
    let judgement;
    let bad = false;
    const notJudged = d.notJudged && d.notJudged[gate];
    const streak = d.violationStreaks && d.violationStreaks[gate];
    if (g.kind === 'setting') {
      judgement = 'setting';
    } else if (notJudged) {
      judgement = `not judged: ${notJudged}`;
    } else if (value === undefined || value === null) {
      judgement = ev ? 'not evaluated' : 'no evaluation yet';
    } else if (g.kind === 'alarm') {
      bad = threshold === true && value === true;
      judgement = value ? 'in alarm' : `no alarm (${d.driftWorstFeature} PSI ${num(d.driftMaxPsi)}, ${d.driftWindows} window(s) judged)`;
    } else if (g.kind === 'max') {
      bad = value > threshold;
      judgement = bad ? `over the limit${streak ? ` (violated on ${streak} evaluation(s))` : ''}` : 'within';
    } else if (g.kind === 'min') {
      judgement = value < threshold ? 'not yet' : 'met';
    } else {
      judgement = value > threshold ? 'exceeded' : 'within';
    }
    if (bad) {
      failing.push(gate);
    }
    const shown = g.kind === 'alarm' && typeof value === 'boolean' ? (value ? 'alarm' : `${num(d.driftMaxPsi)} PSI`) : value;
    rows.push({ gate, cells: [h('span', { title: g.what }, gate), fmt(threshold), shown === undefined || shown === null ? '—' : g.kind === 'alarm' ? shown : fmt(shown),
      bad ? h('span', { class: 's-fail' }, judgement) : judgement] });
  }
  const out = [];
  if (ev && d.mode === 'shadow') {
    out.push(h('p', { class: 'muted', id: 'gate-shadow-note' }, `Wave ${ev.wave} is a shadow wave: its shadow gates (above) judge it; `
      + 'the gates below judge the normal waves, on the answers of updated devices.'));
  }
  out.push(h('p', { class: 'muted', id: 'gate-evaluated' }, ev
    ? [`Values from the ${ev.live ? 'latest' : 'last recorded'} evaluation of wave ${ev.wave}, `, ago(ev.at), ': verdict ', badge(ev.verdict), '.']
    : 'No evaluation yet.'));
  const t = table(['Gate', '#Threshold', '#Value', 'Judgement'], rows.map((r) => r.cells), {
    rowAttrs: (j) => ({ 'data-gate': rows[j].gate, class: failing.includes(rows[j].gate) ? 'gate-fail' : null }),
  });
  t.id = 'gate-table';
  out.push(t);
  const failures = d.failures || [];
  if (failures.length) {
    out.push(h('div', { class: 'problem', id: 'gate-failures' }, h('strong', {}, 'Failing: '), failures.join('; ')));
  }
  if (ev && ev.detail.baselineVersion !== undefined) {
    out.push(h('p', { class: 'muted' }, `Baseline: version ${ev.detail.baselineVersion || '—'} on ${num(ev.detail.baselineDevices)} device(s), `
      + `${num(ev.detail.baselineRequests)} requests, p95 ${num(ev.detail.baselineP95Ms)} ms, error rate ${pct(ev.detail.baselineErrorRate)}.`));
  }
  return out;
}

function renderTimeline(st) {
  const rows = [...st.log].reverse().map((l) => {
    let what;
    if ((l.kind === 'gate-passed' || l.kind === 'gate-failed') && l.detail.mode === 'shadow') {
      const d = l.detail;
      what = [`shadow: ${num(d.shadowSamples)} samples on ${num(d.shadowDevices)} device(s), agreement ${pct(d.shadowAgreement)} `
        + `(at most ${pct(d.shadowAgreementUpper)}), latency ratio ${num(d.shadowLatencyRatio)}, non-finite ${num(d.shadowNonFinite)}`,
      (d.failures || []).length ? ` — ${d.failures.join('; ')}` : ''];
    } else if (l.kind === 'gate-passed' || l.kind === 'gate-failed') {
      const d = l.detail;
      what = [`requests ${num(d.requests)}, devices reporting ${num(d.reportingDevices)}, error rate ${pct(d.errorRate)}, `
        + `p95 ${num(d.p95Ms)} ms, install failures ${num(d.installFailures)}`, (d.failures || []).length ? ` — ${d.failures.join('; ')}` : ''];
    } else {
      what = detail(l.detail);
    }
    return [time(l.at), l.wave, badge(l.kind), opt(l.actor), what];
  });
  return table(['Time', '#Wave', 'Event', 'Actor', 'Detail'], rows, { empty: 'No event yet.' });
}

function operations(id, ctx) {
  const reason = h('input', { type: 'text', id: 'op-reason', name: 'reason', maxlength: 500, placeholder: 'why (recorded in the log and the audit)' });
  const result = h('p', { class: 'form-error', id: 'op-error', role: 'alert' });
  const buttons = OPS.map(([op, label, states, cls]) => {
    const b = h('button', { type: 'button', id: `op-${op}`, class: cls || null, 'data-op': op, onclick: async () => {
      result.replaceChildren();
      if (!reason.value.trim()) {
        result.replaceChildren('Give a reason first: it is recorded with the operation.');
        reason.focus();
        return;
      }
      if (cls === 'danger' && !window.confirm(`${label} rollout ${id}?`)) {
        return;
      }
      try {
        await api(`/rollouts/${enc(id)}/${op}`, { method: 'POST', body: { reason: reason.value.trim() } });
        reason.value = '';
        ctx.refreshNow();
      } catch (e) {
        if (e instanceof ApiError) {
          result.replaceChildren(h('strong', {}, e.problem.title || 'Refused'), ` (${e.status}): ${e.problem.detail || ''}`);
        } else {
          ctx.showProblem(e);
        }
      }
    } }, label);
    b.states = states;
    return b;
  });
  const el = h('section', { class: 'panel', id: 'rollout-actions', 'aria-label': 'Operations' },
    h('div', { class: 'actions' }, h('div', {}, h('label', { for: 'op-reason' }, 'Reason'), reason), buttons), result);
  return {
    el,
    update(state) {
      for (const b of buttons) {
        b.hidden = !b.states.includes(state);
      }
      el.hidden = buttons.every((b) => b.hidden);
    },
  };
}
