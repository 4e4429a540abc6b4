// A device: its state, models, runtimes and resources, recent telemetry charts, command history, events.
import { api, enc } from '../api.js';
import { lineChart } from '../chart.js';
import { ago, badge, detail, h, link, num, opt, pct, table, time } from '../dom.js';

const WINDOW = '-15m';

export function mount(main, [fleet, device], ctx) {
  const key = `${fleet}/${device}`;
  const head = h('div');
  const charts = h('div', { class: 'charts', id: 'device-charts' });
  const commands = h('div', { id: 'device-commands' });
  const evts = h('div', { id: 'device-events' });
  main.append(h('h1', {}, `Device ${key}`), h('p', {}, h('a', { href: `#/logs?device=${enc(key)}` }, 'Logs this device forwarded')), head,
    h('h2', {}, 'Telemetry, last 15 minutes'), charts,
    h('h2', {}, 'Command history (rollouts)'), commands,
    h('h2', {}, 'Events'), evts);
  const base = `/fleets/${enc(fleet)}/devices/${enc(device)}`;
  return {
    async refresh() {
      const [d, tel, cmd, ev] = await Promise.all([
        api(base),
        api(`/telemetry${base}?from=${WINDOW}&series=true`),
        ctx.may('rollouts:read') ? api(`${base}/commands`) : Promise.resolve({ commands: [] }),
        api(`/events?subject=${enc(key)}&limit=50`),
      ]);
      head.replaceChildren(...state(d, tel));
      charts.replaceChildren(...telemetry(tel));
      commands.replaceChildren(table(['Rollout', 'Model', 'Version', '#Wave', 'State', 'From', '#Attempts', 'Commanded', 'Activated', 'Error'],
        cmd.commands.map((c) => [link(`#/rollouts/${enc(c.rollout)}`, c.rollout), c.model, c.version, c.wave, badge(c.state),
          opt(c.fromVersion), c.attempts, time(c.commandedAt), time(c.activatedAt), opt(c.error)]),
        { empty: 'No rollout has included this device.' }));
      evts.replaceChildren(table(['Time', 'Kind', 'Actor', 'Detail'], ev.map((e) => [time(e.at), e.kind, opt(e.actor), detail(e.detail)]),
        { empty: 'No events about this device.' }));
    },
  };
}

function state(d, tel) {
  const parts = [
    h('dl', { class: 'kv', id: 'device-state' },
      h('dt', {}, 'Status'), h('dd', {}, badge(d.status), ' since ', ago(d.statusSince)),
      h('dt', {}, 'Last seen'), h('dd', {}, ago(d.lastSeen)),
      h('dt', {}, 'Profile'), h('dd', {}, opt(d.profile)),
      h('dt', {}, 'Agent version'), h('dd', {}, opt(d.agentVersion)),
      h('dt', {}, 'Tags'), h('dd', {}, (d.tags || []).join(', ') || '—'),
      h('dt', {}, 'Registered'), h('dd', {}, time(d.registeredAt)),
      h('dt', {}, 'Enrolled'), h('dd', {}, time(d.enrolledAt)),
      h('dt', {}, 'Telemetry batches lost'), h('dd', {}, num(tel.lostBatches))),
    h('h2', {}, 'Models'),
    table(['Model', 'Active', 'Candidate', 'Previous', 'Health'], (d.models || []).map((m) => [
      link(`#/models/${enc(m.model)}`, m.model), opt(m.active), opt(m.candidate), opt(m.previous), badge(m.health)]),
    { empty: 'The device reports no model.' }),
  ];
  if ((d.runtimes || []).length) {
    parts.push(h('h2', {}, 'Runtimes'), table(['Runtime', 'Loadable', 'Version', 'Detail'],
      d.runtimes.map((r) => [r.runtime, r.loadable ? 'yes' : 'no', opt(r.version), opt(r.detail)])));
  }
  if (d.resources && typeof d.resources === 'object') {
    parts.push(h('h2', {}, 'Resources (latest telemetry window)'), resources(d.resources));
  }
  return parts;
}

function resources(r) {
  const rows = [];
  for (const [k, v] of Object.entries(r)) {
    if (k === 'accelerators') {
      continue;
    }
    const value = k.endsWith('_ratio') ? pct(v) : k.endsWith('_bytes') ? bytes(v) : num(v);
    rows.push([k.replace(/_/g, ' '), value]);
  }
  for (const [i, a] of (r.accelerators || []).entries()) {
    rows.push([`accelerator ${i + 1}`, Object.entries(a).map(([k, v]) => `${k}: ${typeof v === 'number' ? num(v) : v}`).join(', ')]);
  }
  return table(['Resource', '#Value'], rows);
}

function bytes(b) {
  if (typeof b !== 'number') {
    return opt(b);
  }
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let x = b;
  while (x >= 1024 && i < units.length - 1) {
    x /= 1024;
    i += 1;
  }
  return `${num(x)} ${units[i]}`;
}

function telemetry(tel) {
  const series = tel.series || [];
  if (!series.length) {
    return [h('p', { class: 'muted' }, 'No telemetry in the last 15 minutes.')];
  }
  const byModel = new Map();
  for (const a of series) {
    const k = `${a.model}@${a.version}`;
    if (!byModel.has(k)) {
      byModel.set(k, []);
    }
    byModel.get(k).push(a);
  }
  const xs = [...new Set(series.map((a) => seconds(a.bucket)))].sort((a, b) => a - b);
  const line = (f) => [...byModel.entries()].map(([label, rows]) => {
    const at = new Map(rows.map((a) => [seconds(a.bucket), f(a)]));
    return { label, values: xs.map((x) => (at.has(x) ? at.get(x) : null)) };
  });
  const range = { from: seconds(tel.from), to: seconds(tel.to) };
  return [
    lineChart(`Requests per ${tel.bucketSeconds} s`, xs, line((a) => a.count), { integer: true, ...range }),
    lineChart('p95 latency', xs, line((a) => a.p95Ms), { unit: 'ms', ...range }),
    lineChart(`Errors per ${tel.bucketSeconds} s (model and client)`, xs, line((a) => a.errors + a.clientErrorCount), { integer: true, ...range }),
  ];
}

/** An instant as the API writes it (ISO-8601 text, or epoch seconds) in Unix seconds. */
function seconds(t) {
  return typeof t === 'number' ? t : Date.parse(t) / 1000;
}
