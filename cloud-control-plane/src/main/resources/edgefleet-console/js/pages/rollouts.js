// Rollouts: every rollout, newest first; operators start one from a JSON spec (RolloutSpec).
import { api, ApiError, enc } from '../api.js';
import { badge, h, link, opt, table, time } from '../dom.js';

const TEMPLATE = `{
  "model": "MODEL",
  "version": "VERSION",
  "selector": "fleet=FLEET",
  "waves": [{"percent": 10, "bake": "10m"}, {"percent": 50, "bake": "30m"}, {"percent": 100}],
  "onFailure": "rollback",
  "gates": {"maxErrorRate": 0.05}
}`;

export function mount(main, params, ctx) {
  const live = h('div', { id: 'rollouts-live' });
  main.append(h('h1', {}, 'Rollouts'));
  if (ctx.may('rollouts:write')) {
    main.append(createForm(ctx));
  }
  main.append(live);
  return {
    async refresh() {
      const list = await api('/rollouts');
      live.replaceChildren(table(['Rollout', 'Model', 'Version', 'State', 'Reason', 'Created', 'By'], list.map((r) => [
        link(`#/rollouts/${enc(r.id)}`, r.id), r.model, r.version, badge(r.state), opt(r.reason), time(r.createdAt), opt(r.createdBy)]),
      { empty: 'No rollout yet.' }));
    },
  };
}

function createForm(ctx) {
  const spec = h('textarea', { id: 'rollout-spec', name: 'spec', spellcheck: 'false', 'aria-describedby': 'rollout-spec-help' });
  spec.value = TEMPLATE;
  const err = h('div', { class: 'form-error', id: 'rollout-create-error', role: 'alert' });
  return h('details', { id: 'new-rollout' }, h('summary', {}, 'Start a rollout'),
    h('form', { class: 'panel', onsubmit: async (e) => {
      e.preventDefault();
      err.replaceChildren();
      let body;
      try {
        body = JSON.parse(spec.value);
      } catch (x) {
        err.replaceChildren(h('strong', {}, 'Not JSON'), `: ${x.message}`);
        return;
      }
      try {
        const st = await api('/rollouts', { method: 'POST', body });
        location.hash = `#/rollouts/${enc(st.rollout.id)}`;
      } catch (x) {
        if (x instanceof ApiError) {
          err.replaceChildren(h('strong', {}, x.problem.title || 'Refused'), ` (${x.status}): ${x.problem.detail || ''}`);
        } else {
          ctx.showProblem(x);
        }
      }
    } },
    h('label', { for: 'rollout-spec' }, 'Rollout spec (JSON)'),
    spec,
    h('p', { id: 'rollout-spec-help', class: 'muted' }, 'Fields as in "edgefleet rollout create": model, version, selector, waves '
      + '(cumulative percent or count, bake), maxConcurrent, maxPerMinute, commandTimeout, retries, onFailure (rollback|pause), '
      + 'telemetryWait, onTelemetryWait, waitForDevices, gates. Gates left out take their defaults.'),
    h('button', { type: 'submit', class: 'primary', id: 'start-rollout' }, 'Start rollout'),
    err));
}
