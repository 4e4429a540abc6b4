// The console's shell: sign-in, the hash router (#/fleet, #/devices/F/D, #/models[/M], #/rollouts[/ID],
// #/events, #/audit, #/logs?device=&trace_id=, #/drift[/M/V],
// #/experiments[/ID]), the problem banner and live updates by polling the API every few seconds.
import { api, ApiError, setToken, token } from './api.js';
import { h } from './dom.js';
import * as fleet from './pages/fleet.js';
import * as device from './pages/device.js';
import * as models from './pages/models.js';
import * as model from './pages/model.js';
import * as rollouts from './pages/rollouts.js';
import * as rollout from './pages/rollout.js';
import * as events from './pages/events.js';
import * as audit from './pages/audit.js';
import * as logs from './pages/logs.js';
import * as drift from './pages/drift.js';
import * as driftVersion from './pages/driftversion.js';
import * as experiments from './pages/experiments.js';
import * as experiment from './pages/experiment.js';

const POLL_MS = 3000;
const ROUTES = [
  [/^\/fleet$/, fleet, 'fleet'],
  [/^\/devices\/([^/]+)\/([^/]+)$/, device, 'fleet'],
  [/^\/models$/, models, 'models'],
  [/^\/models\/([^/]+)$/, model, 'models'],
  [/^\/rollouts$/, rollouts, 'rollouts'],
  [/^\/rollouts\/([^/]+)$/, rollout, 'rollouts'],
  [/^\/events$/, events, 'events'],
  [/^\/audit$/, audit, 'audit'],
  [/^\/logs$/, logs, 'logs'],
  [/^\/drift$/, drift, 'drift'],
  [/^\/drift\/([^/]+)\/([^/]+)$/, driftVersion, 'drift'],
  [/^\/experiments$/, experiments, 'experiments'],
  [/^\/experiments\/([^/]+)$/, experiment, 'experiments'],
];

const main = document.getElementById('main');
const banner = document.getElementById('problem');
const nav = document.getElementById('nav');
const whoEl = document.getElementById('who');
const signout = document.getElementById('signout');
const updated = document.getElementById('updated');

let who = null; // {name, kind, role, scopes}
let current = null; // {page, generation}
let generation = 0;
let timer = null;

/** Shows an API problem (or any error) in the banner, for everyone to read: title, detail, status. */
export function showProblem(e) {
  const p = e instanceof ApiError ? e.problem : { title: 'Error', detail: String(e && e.message ? e.message : e) };
  banner.replaceChildren(h('strong', {}, p.title || 'Error'), p.status ? ` (${p.status})` : '', p.detail ? `: ${p.detail}` : '');
  banner.hidden = false;
}

function clearProblem() {
  banner.hidden = true;
  banner.replaceChildren();
}

const ctx = {
  may: (scope) => !!who && who.scopes.includes(scope),
  who: () => who,
  showProblem,
  clearProblem,
  refreshNow: () => tick(true),
};

function signIn(problem) {
  stopPolling();
  who = null;
  nav.hidden = true;
  signout.hidden = true;
  whoEl.textContent = '';
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true, 'aria-describedby': 'token-help' });
  const err = h('p', { class: 'form-error', id: 'signin-error', role: 'alert' }, problem || '');
  const form = h('form', { class: 'panel', id: 'signin', onsubmit: async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    const value = input.value.trim();
    try {
      const me = await api('/whoami', { bearer: value });
      setToken(value);
      who = me;
      start();
    } catch (e) {
      err.textContent = e instanceof ApiError ? `${e.problem.title}: ${e.problem.detail || ''}` : String(e);
    }
  } },
  h('h1', {}, 'Sign in'),
  h('label', { for: 'token' }, 'API token'),
  input,
  h('p', { id: 'token-help', class: 'muted' }, 'A token of this control plane (for example cloud-data/tokens/viewer.token), or an OIDC access token. '
    + 'It is kept in this tab only (session storage) and sent as "Authorization: Bearer".'),
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  err);
  clearProblem();
  main.replaceChildren(form);
  input.focus();
}

function start() {
  nav.hidden = false;
  signout.hidden = false;
  for (const a of nav.querySelectorAll('a[data-scope]')) {
    a.hidden = !ctx.may(a.dataset.scope);
  }
  whoEl.textContent = `${who.name} (${who.role})`;
  if (!location.hash || location.hash === '#' || location.hash === '#/') {
    location.hash = '#/fleet';
  } else {
    route();
  }
}

function stopPolling() {
  if (timer) {
    clearTimeout(timer);
    timer = null;
  }
}

function route() {
  if (!who) {
    return;
  }
  stopPolling();
  clearProblem();
  const [rawPath, rawQuery] = location.hash.replace(/^#/, '').split('?');
  const path = rawPath || '/fleet';
  const query = new URLSearchParams(rawQuery || '');
  const found = ROUTES.map(([re, page, section]) => [path.match(re), page, section]).find(([m]) => m);
  for (const a of nav.querySelectorAll('a')) {
    a.toggleAttribute('aria-current', false);
  }
  if (!found) {
    main.replaceChildren(h('h1', {}, 'Not found'), h('p', {}, `Nothing is at ${decodeURIComponent(path)}. `, h('a', { href: '#/fleet' }, 'Go to the fleet.')));
    return;
  }
  const [m, page, section] = found;
  nav.querySelector(`a[data-section="${section}"]`)?.setAttribute('aria-current', 'page');
  generation += 1;
  main.replaceChildren();
  const params = m.slice(1).map(decodeURIComponent);
  current = { view: page.mount(main, params, ctx, query), generation };
  tick(true);
}

async function tick() {
  stopPolling();
  const mine = current;
  if (!mine || !mine.view || !mine.view.refresh) {
    return;
  }
  try {
    await mine.view.refresh();
    if (mine.generation !== generation) {
      return;
    }
    clearProblem();
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}; refreshes every ${POLL_MS / 1000} s.`;
  } catch (e) {
    if (mine.generation !== generation) {
      return;
    }
    if (e instanceof ApiError && e.status === 401) {
      setToken(null);
      signIn(`Signed out: ${e.problem.detail || e.problem.title}`);
      return;
    }
    showProblem(e);
  }
  if (mine.generation === generation && mine.view.live !== false) {
    timer = setTimeout(() => {
      if (!document.hidden) {
        tick();
      }
    }, POLL_MS);
  }
}

document.addEventListener('visibilitychange', () => {
  if (!document.hidden && who && current) {
    tick(true);
  } else {
    stopPolling();
  }
});
window.addEventListener('hashchange', route);
signout.addEventListener('click', () => {
  setToken(null);
  signIn('');
});

(async function boot() {
  if (!token()) {
    signIn('');
    return;
  }
  try {
    who = await api('/whoami');
    start();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      setToken(null);
      signIn(`${e.problem.title}: ${e.problem.detail || ''}`);
    } else {
      showProblem(e);
    }
  }
})();
