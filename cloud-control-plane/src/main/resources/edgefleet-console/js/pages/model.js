// One model: its versions, the variants per device profile, validation results (what each runtime
// checked, warnings, refused registrations) and how each version's signature differs from the one before.
import { api, enc } from '../api.js';
import { badge, detail, h, link, num, opt, table, time } from '../dom.js';

export function mount(main, [name]) {
  const live = h('div', { id: 'model-live' });
  main.append(h('h1', {}, `Model ${name}`), live);
  return {
    async refresh() {
      const [m, ev] = await Promise.all([api(`/models/${enc(name)}`), api(`/events?subject=${enc(`${name}/`)}&limit=200`)]);
      live.replaceChildren(...render(name, m.versions, ev));
    },
  };
}

function tensors(list) {
  return (list || []).map((t) => `${t.name} ${t.datatype}[${(t.shape || []).join(',')}]`).join('; ') || '—';
}

/** The differences between two versions' signatures (first variant of each): inputs and outputs by name. */
export function signatureDiff(before, after) {
  const out = [];
  for (const side of ['inputs', 'outputs']) {
    const a = new Map((before?.[side] || []).map((t) => [t.name, t]));
    const b = new Map((after?.[side] || []).map((t) => [t.name, t]));
    for (const [n, t] of a) {
      if (!b.has(n)) {
        out.push(`${side.slice(0, -1)} '${n}' removed`);
      } else {
        const u = b.get(n);
        if (t.datatype !== u.datatype) {
          out.push(`${side.slice(0, -1)} '${n}': datatype ${t.datatype} → ${u.datatype}`);
        }
        if (JSON.stringify(t.shape) !== JSON.stringify(u.shape)) {
          out.push(`${side.slice(0, -1)} '${n}': shape [${t.shape}] → [${u.shape}]`);
        }
      }
    }
    for (const n of b.keys()) {
      if (!a.has(n)) {
        out.push(`${side.slice(0, -1)} '${n}' added`);
      }
    }
  }
  return out;
}

function render(name, versions, events) {
  const sorted = [...versions].sort((a, b) => String(a.createdAt).localeCompare(String(b.createdAt)));
  const parts = [];
  parts.push(table(['Version', 'Status', 'Registered', 'By', 'Target profiles', '#Variants', 'Signature vs previous'],
    sorted.map((v, i) => {
      const diff = i === 0 ? [] : signatureDiff(sorted[i - 1].variants[0], v.variants[0]);
      return [v.version, badge(v.status), time(v.createdAt), opt(v.createdBy), (v.targetProfiles || []).join(', ') || 'any that fits',
        v.variants.length, i === 0 ? '—' : diff.length ? diff.join('; ') : 'unchanged'];
    })));
  for (const v of [...sorted].reverse()) {
    parts.push(h('section', { 'aria-label': `Version ${v.version}` },
      h('h2', {}, `Version ${v.version} `, badge(v.status)),
      v.deprecation ? h('p', {}, `Deprecated ${v.deprecation.at} by ${v.deprecation.by}: ${v.deprecation.reason || 'no reason given'}`) : null,
      v.metadata?.description ? h('p', {}, v.metadata.description) : null,
      h('p', {}, link(`#/drift/${enc(name)}/${enc(v.version)}`, 'Input drift of this version')),
      table(['Variant', 'File', 'Runtime', 'Validated with', 'Precision', '#Size', 'Profiles', 'Inputs', 'Outputs', 'Validation warnings'],
        v.variants.map((x) => [x.id, x.fileName, x.runtime, x.validatedWith, x.precision, `${num(x.sizeBytes / 1024)} KiB`,
          (x.targetProfiles || []).join(', ') || '—', tensors(x.inputs), tensors(x.outputs), (x.warnings || []).join('; ') || 'none']))));
  }
  const registry = events.filter((e) => e.kind.startsWith('model.'));
  parts.push(h('h2', {}, 'Registrations, refusals and deprecations'),
    table(['Time', 'Kind', 'Version', 'Actor', 'Detail'], registry.map((e) => [time(e.at), badge(e.kind.replace('model.', '')),
      e.subject.split('/').slice(1).join('/'), opt(e.actor), detail(e.detail)]), { empty: 'No registry events.' }));
  return parts;
}
