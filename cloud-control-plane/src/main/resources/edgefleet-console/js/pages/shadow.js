// The rollout page's Shadow sections (docs/shadow.md): one per shadow wave, its readings next to the shadowGates in
// force (the same rules as the control plane's ShadowGate), the wave's verdict or what it waits for, and the readings
// per device. Reads the status's "shadow" block: gates, totals (agreementLow/High: the Wilson bounds at z = 3.09 the
// gate judges by), devices and windows.
import { enc } from '../api.js';
import { badge, h, link, num, opt, pct, table, time } from '../dom.js';

/** The elements of every shadow wave's section; none for a rollout without shadow waves. */
export function renderShadow(st) {
  const waves = st.rollout.spec.waves.map((w, i) => [w, i + 1]).filter(([w]) => w.mode === 'shadow');
  if (!waves.length || !st.shadow) {
    return [];
  }
  return waves.map(([, n]) => section(st, n, waves.length > 1));
}

function section(st, n, several) {
  const r = st.rollout;
  const sh = st.shadow;
  const g = sh.gates || {};
  const t = sh.totals || { samples: 0, agreements: 0, nonFinite: 0, dropped: 0, devices: 0 };
  const verdict = verdictOf(st, n);
  const own = new Set(st.devices.filter((d) => d.wave <= n).map((d) => `${d.fleet}/${d.device}`));
  const devices = (sh.devices || []).filter((d) => own.has(d.device));
  return h('section', { class: 'shadow-wave panel', id: `shadow-wave-${n}`, 'aria-labelledby': `shadow-wave-${n}-title` },
    h('h2', { id: `shadow-wave-${n}-title` }, `Shadow wave ${n}`, ' ', h('span', { class: 'badge s-shadow' }, 'shadow')),
    h('p', { class: 'shadow-note', id: `shadow-wave-${n}-note` }, h('strong', {}, `No device answers with version ${r.version} during this wave. `),
      `It is loaded next to the active version on the wave's devices and runs on a sampled share of their live requests, off the answer `
      + 'path; its answers are only compared with the active version\'s on the same inputs.'),
    h('p', { id: `shadow-wave-${n}-verdict`, class: verdict.cls }, h('strong', {}, 'Verdict: '), badge(verdict.badge), ' ', verdict.text),
    rules(t, g),
    several ? h('p', { class: 'muted' }, 'The readings are those of every device of the rollout\'s shadow waves so far, as the gate judges them.') : null,
    h('h3', {}, 'Per device'),
    table(['Device', '#Samples', '#Agreement', '#Latency ratio', '#Confidence diff', '#Non-finite', '#Dropped', '#Windows', 'Last window'],
      devices.map((d) => [link(`#/devices/${enc(d.device.split('/')[0])}/${enc(d.device.split('/').slice(1).join('/'))}`, d.device),
        num(d.samples), d.agreement === undefined ? '—' : pct(d.agreement), num(d.latencyRatio), num(d.confidenceDiff), num(d.nonFinite),
        num(d.dropped), num(d.windows), time(d.lastWindowStart)]),
      { empty: 'No device has reported shadow samples yet.', rowAttrs: (j) => ({ 'data-device': devices[j].device }) }));
}

/** The gate table: each reading, its threshold and the judgement the control plane's ShadowGate makes of it. */
function rules(t, g) {
  const minSamples = g.minSamples ?? 200;
  const minDevices = g.minDevices ?? 1;
  const minAgreement = g.minAgreement ?? 0.95;
  const maxRatio = g.maxLatencyRatio ?? 2.0;
  const floorMs = g.minLatencyIncreaseMs ?? 1;
  const maxNonFinite = g.maxNonFinite ?? 0;
  const enough = t.samples >= minSamples && t.devices >= minDevices;
  const rows = [];
  const fail = (text) => h('span', { class: 's-fail' }, text);
  rows.push(['samples', 'Samples', `min ${num(minSamples)}`, num(t.samples), t.samples >= minSamples ? 'met' : `not yet: ${num(t.samples)} of ${num(minSamples)}`]);
  rows.push(['devices', 'Devices reporting samples', `min ${num(minDevices)}`, num(t.devices),
    t.devices >= minDevices ? 'met' : `not yet: ${num(t.devices)} of ${num(minDevices)}`]);
  let agreement;
  let agreementBad = false;
  if (t.agreement === undefined) {
    agreement = 'no sample yet';
  } else if (!enough) {
    agreement = `not judged before ${num(minSamples)} samples`;
  } else if (t.agreementHigh < minAgreement) {
    agreementBad = true;
    agreement = fail(`fails: at most ${pct(t.agreementHigh)} at 99.9 % confidence, below ${pct(minAgreement)}`);
  } else if (t.agreement >= minAgreement) {
    agreement = 'passes';
  } else {
    agreement = `waits: below ${pct(minAgreement)} but not confidently (the bound reaches ${pct(t.agreementHigh)}); more samples decide`;
  }
  rows.push(['agreement', 'Agreement with the active version', `min ${pct(minAgreement)}`,
    t.agreement === undefined ? '—' : [pct(t.agreement), h('br'), h('span', { class: 'muted bounds', title: 'Wilson score bounds at z = 3.09 (one-sided 0.1 % each): the gate fails when the upper '
      + 'one is below the minimum' }, `bounds ${pct(t.agreementLow)} – ${pct(t.agreementHigh)}`)],
    agreement, agreementBad]);
  let latency = 'no paired run yet';
  let latencyBad = false;
  if (t.latencyRatio !== undefined) {
    const increase = t.activeMs === undefined ? undefined : (t.latencyRatio - 1) * t.activeMs;
    if (!enough) {
      latency = `not judged before ${num(minSamples)} samples`;
    } else if (t.latencyRatio > maxRatio && (increase === undefined || increase > floorMs)) {
      latencyBad = true;
      latency = fail(`fails: over ${num(maxRatio)}× and ${increase === undefined ? 'slower' : `${num(increase)} ms slower`} (floor ${num(floorMs)} ms)`);
    } else {
      latency = t.latencyRatio > maxRatio ? `within: over ${num(maxRatio)}× but only ${num(increase)} ms slower (floor ${num(floorMs)} ms)` : 'within';
    }
  }
  rows.push(['latencyRatio', 'Latency ratio (paired: candidate / active on the same input)', `max ${num(maxRatio)}×`,
    t.latencyRatio === undefined ? '—' : [`${num(t.latencyRatio)}×`, t.activeMs === undefined ? '' : [h('br'), h('span', { class: 'muted' }, `active ${num(t.activeMs)} ms`)]],
    latency, latencyBad]);
  rows.push(['confidenceDiff', 'Confidence difference (candidate − active)', 'shown, not gated', num(t.confidenceDiff), '—']);
  const nfBad = t.nonFinite > maxNonFinite;
  rows.push(['nonFinite', 'Non-finite candidate outputs', `max ${num(maxNonFinite)}`, num(t.nonFinite), nfBad ? fail('fails at once') : 'within', nfBad]);
  rows.push(['dropped', 'Samples dropped under load', 'shown, not gated', num(t.dropped), '—']);
  const tab = table(['Reading', 'Gate', '#Value', 'Judgement'], rows.map((x) => [x[1], x[2], x[3], x[4]]), {
    rowAttrs: (j) => ({ 'data-reading': rows[j][0], class: rows[j][5] ? 'gate-fail' : null }),
  });
  tab.classList.add('shadow-gates');
  return tab;
}

/** The wave's verdict: from the log (passed, failed), the rollout's end, or what the current wave waits for. */
function verdictOf(st, n) {
  const r = st.rollout;
  const logged = [...st.log].reverse().find((l) => l.wave === n && (l.kind === 'gate-passed' || l.kind === 'gate-failed'));
  if (logged && logged.kind === 'gate-failed') {
    const why = (logged.detail.failures || []).join('; ') || opt(r.reason);
    return { badge: 'fail', cls: 's-fail', text: ['the candidate was stopped in its shadow wave, judged ', time(logged.at), `: ${why}`] };
  }
  if (logged) {
    return { badge: 'pass', cls: null, text: ['passed ', time(logged.at), ': the next wave deploys the candidate'] };
  }
  if (r.state === 'succeeded' || n < st.currentWave) {
    return { badge: 'pass', cls: null, text: 'passed' };
  }
  if (n > st.currentWave) {
    return { badge: 'waiting', cls: 'muted', text: 'not started' };
  }
  if (['rolled-back', 'aborted'].includes(r.state)) {
    return { badge: r.state, cls: 's-fail', text: opt(r.reason) };
  }
  const waits = st.waitingFor || [];
  if (waits.length) {
    return { badge: 'wait', cls: null, text: ['waiting for ', waits.map((w) => w.detail).join('; ')] };
  }
  if (st.evaluation && st.evaluation.wave === n) {
    return { badge: st.evaluation.verdict, cls: null, text: (st.evaluation.detail.failures || []).join('; ') };
  }
  return { badge: r.state === 'paused' ? 'paused' : 'wait', cls: null, text: r.state === 'paused' ? `paused: ${opt(r.reason)}` : 'the next tick decides' };
}
