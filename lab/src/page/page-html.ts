import { createHash } from 'node:crypto';

/**
 * The lab page: one self-contained HTML document (no external assets) whose script asks `/api/state`
 * every second and renders it. Everything read from files or the database is written with `textContent`,
 * never parsed as HTML. Stable `data-testid`s name what the browser test reads.
 */
const STYLE = `
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --warn: #9a6700; --muted: #57606a; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2328; background: #f6f8fa; }
header { padding: 12px 20px; background: #24292f; color: #fff; display: flex; gap: 16px; align-items: baseline; flex-wrap: wrap; }
header h1 { font-size: 18px; margin: 0; }
header p { margin: 0; }
#connection { margin-left: auto; color: #afb8c1; }
#connection.down { color: #ff8182; font-weight: 600; }
main { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 16px; padding: 16px 20px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 12px 16px; overflow-x: auto; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 15px; margin: 0 0 8px; }
h2:not(:first-child) { margin-top: 16px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid var(--line); }
td { white-space: nowrap; }
td.phase { color: var(--muted); font-size: 12px; }
td.count { text-align: right; font-variant-numeric: tabular-nums; }
tr.in-flight td:first-child::before { content: "\\25B6  "; color: var(--warn); }
code, .id { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12.5px; }
ul, ol { margin: 0; padding-left: 20px; }
.muted { color: var(--muted); }
.error { color: var(--bad); font-weight: 600; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; font-weight: 600; font-size: 12px; color: #fff; }
.badge.ok { background: var(--ok); }
.badge.bad { background: var(--bad); }
.badge.phase { background: var(--warn); }
li.fault { color: var(--bad); font-weight: 600; }
li.invariant { margin: 4px 0; }
ul.offending { font-weight: normal; }
ol.reports > li { margin: 0 0 14px; }
ol.reports img { display: block; max-width: 100%; margin-top: 6px; border: 1px solid var(--line); background: #fff; }
`;

const SCRIPT = `
'use strict';
const byId = (id) => document.getElementById(id);

// Builds an element: attrs (class, data-*, href, src, alt…) and children (nodes or text).
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function duration(seconds) {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
}
const since = (iso, now) => duration((Date.parse(now) - Date.parse(iso)) / 1000);

// Re-renders a part only when its data changed, so images are not reloaded every second.
const shown = {};
function render(key, data, draw) {
  const json = JSON.stringify(data);
  if (shown[key] === json) return;
  shown[key] = json;
  draw(data);
}

function drawRun({ live, now }) {
  const box = byId('run');
  if (live.error) return box.replaceChildren(el('span', { class: 'error' }, live.error));
  const file = live.value;
  if (!file) return box.replaceChildren('Nothing has run yet.');
  const run = file.run;
  if (!run) return box.replaceChildren('No run in progress (live file updated ' + since(file.updatedAt, now) + ' ago).');
  box.replaceChildren(
    'Run ', el('span', { class: 'id', 'data-testid': 'run-id' }, run.id), ': ',
    el('strong', {}, run.experiment), ', seed ' + run.seed + ', phase ',
    el('span', { class: 'badge phase', 'data-testid': 'run-phase' }, run.phase),
    ', started ' + since(run.startedAt, now) + ' ago',
  );
}

function drawSagas(sagas) {
  const error = byId('sagas-error');
  const rows = byId('sagas-rows');
  if (sagas.error) {
    error.hidden = false;
    error.textContent = sagas.error;
    rows.replaceChildren();
    byId('sagas-in-flight').textContent = '';
    byId('oldest-in-flight').replaceChildren(el('span', { class: 'muted' }, 'unknown (no database)'));
    return;
  }
  error.hidden = true;
  const summary = sagas.value;
  rows.replaceChildren(
    ...summary.byState.map((row) =>
      el('tr', { 'data-testid': 'saga-state-row', 'data-state': row.state, 'data-phase': row.phase,
                 class: row.phase === 'RUNNING' || row.phase === 'COMPENSATING' ? 'in-flight' : undefined },
        el('td', { 'data-testid': 'saga-state' }, row.state),
        el('td', { class: 'phase' }, row.phase),
        el('td', { class: 'count', 'data-testid': 'saga-count' }, row.count))),
  );
  if (summary.byState.length === 0) rows.replaceChildren(el('tr', {}, el('td', { colspan: 3, class: 'muted' }, 'No sagas.')));
  byId('sagas-in-flight').textContent = summary.inFlight + ' in flight';
  const oldest = summary.oldestInFlight;
  byId('oldest-in-flight').replaceChildren(
    ...(oldest
      ? [el('span', { class: 'id', 'data-testid': 'oldest-saga-id' }, oldest.sagaId), ' in ',
         el('strong', { 'data-testid': 'oldest-saga-state' }, oldest.state), ' (' + oldest.sagaType + '), for ',
         el('span', { 'data-testid': 'oldest-saga-age', 'data-seconds': oldest.ageSeconds }, duration(oldest.ageSeconds))]
      : [el('span', { class: 'muted', 'data-testid': 'no-saga-in-flight' }, 'No saga in flight.')]),
  );
}

function drawFaults({ live, now }) {
  const list = byId('active-faults');
  const faults = live.value ? live.value.faults : [];
  if (faults.length === 0) {
    return list.replaceChildren(el('li', { class: 'muted', 'data-testid': 'no-faults' }, live.error ? 'unknown' : 'No fault active.'));
  }
  list.replaceChildren(...faults.map((fault) =>
    el('li', { class: 'fault', 'data-testid': 'fault' },
      el('span', { 'data-testid': 'fault-name' }, fault.name), ' — for ' + since(fault.since, now))));
}

const MAX_OFFENDING = 20;
function drawVerdict({ live, now }) {
  const box = byId('verdict');
  const verdict = live.value ? live.value.lastVerdict : null;
  box.removeAttribute('data-ok');
  if (!verdict) return box.replaceChildren(el('p', { class: 'muted' }, 'No verdict yet.'));
  box.setAttribute('data-ok', String(verdict.ok));
  box.replaceChildren(
    el('p', {},
      el('span', { class: 'badge ' + (verdict.ok ? 'ok' : 'bad'), 'data-testid': 'verdict-result' },
        verdict.ok ? 'all invariants hold' : 'invariants violated'),
      ' ', el('strong', {}, verdict.experiment), ', run ', el('span', { class: 'id' }, verdict.runId),
      ', ' + since(verdict.at, now) + ' ago'),
    el('ul', {}, ...verdict.invariants.map((inv) =>
      el('li', { class: 'invariant', 'data-testid': 'invariant', 'data-holds': String(inv.holds) },
        el('span', { 'data-testid': 'invariant-name' }, inv.name), ': ',
        el('span', { class: 'badge ' + (inv.holds ? 'ok' : 'bad'), 'data-testid': 'invariant-status' },
          inv.holds ? 'holds' : 'violated'),
        inv.offending.length === 0 ? null : el('span', { class: 'muted' }, ' — offending ids:'),
        inv.offending.length === 0 ? null :
          el('ul', { class: 'offending', 'aria-label': 'offending ids' },
            ...inv.offending.slice(0, MAX_OFFENDING).map((id) => el('li', {}, el('code', { 'data-testid': 'offending-id' }, id))),
            inv.offending.length > MAX_OFFENDING ? el('li', { class: 'muted' }, (inv.offending.length - MAX_OFFENDING) + ' more') : null)))),
  );
}

function drawReports(reports) {
  const list = byId('reports');
  if (reports.error) return list.replaceChildren(el('li', { class: 'error' }, reports.error));
  if (reports.value.length === 0) return list.replaceChildren(el('li', { class: 'muted', 'data-testid': 'no-reports' }, 'No reports yet.'));
  list.replaceChildren(...reports.value.map((report) => {
    const base = '/reports/' + encodeURIComponent(report.id) + '/';
    return el('li', { 'data-testid': 'report', 'data-report-id': report.id },
      el('span', { class: 'badge ' + (report.verdict === 'pass' ? 'ok' : 'bad'), 'data-testid': 'report-verdict' }, report.verdict),
      ' ', el('strong', {}, report.experiment), ', seed ' + report.seed + ' — invariants ' +
        (report.ok ? 'held' : 'broken') + ' (expected: ' + report.expected + '), started ' +
        new Date(report.startedAt).toLocaleString() + ' — ',
      el('a', { href: base + 'report.md', 'data-testid': 'report-link' }, report.id),
      el('img', { src: base + 'timeline.svg', alt: 'Timeline of run ' + report.id, 'data-testid': 'report-timeline' }));
  }));
}

async function poll() {
  const connection = byId('connection');
  try {
    const response = await fetch('/api/state', { cache: 'no-store' });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    const state = await response.json();
    render('run', { live: state.live, now: state.now }, drawRun);
    render('sagas', state.sagas, drawSagas);
    render('faults', { live: state.live, now: state.now }, drawFaults);
    render('verdict', { live: state.live, now: state.now }, drawVerdict);
    render('reports', state.reports, drawReports);
    connection.className = '';
    connection.textContent = 'updated ' + new Date(state.now).toLocaleTimeString();
    document.body.setAttribute('data-updated-at', state.now);
  } catch (error) {
    connection.className = 'down';
    connection.textContent = 'lab page server unreachable (' + error.message + ')';
  }
  setTimeout(poll, 1000);
}
poll();
`;

const BODY = `
<header>
  <h1>Saga Lab — failure lab</h1>
  <p id="run" data-testid="run" role="status" aria-live="polite">Loading…</p>
  <p id="connection" data-testid="connection" role="status"></p>
</header>
<main>
  <section aria-labelledby="sagas-title">
    <h2 id="sagas-title">Sagas by state <span id="sagas-in-flight" class="muted" data-testid="sagas-in-flight"></span></h2>
    <p id="sagas-error" class="error" data-testid="sagas-error" role="alert" hidden></p>
    <table data-testid="sagas-by-state">
      <thead><tr><th scope="col">state</th><th scope="col">phase</th><th scope="col">sagas</th></tr></thead>
      <tbody id="sagas-rows"></tbody>
    </table>
    <h2>Oldest in flight</h2>
    <p id="oldest-in-flight" data-testid="oldest-in-flight"></p>
  </section>
  <section aria-labelledby="faults-title">
    <h2 id="faults-title">Faults active now</h2>
    <ul id="active-faults" data-testid="active-faults"></ul>
  </section>
  <section aria-labelledby="verdict-title">
    <h2 id="verdict-title">Checker's last verdict</h2>
    <div id="verdict" data-testid="verdict"></div>
  </section>
  <section class="wide" aria-labelledby="reports-title">
    <h2 id="reports-title">Last reports</h2>
    <ol id="reports" class="reports" data-testid="reports"></ol>
  </section>
</main>
<noscript>The lab page needs JavaScript to show the lab live; the same data is at <a href="/api/state">/api/state</a>.</noscript>
`;

const hash = (text: string): string => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;

/** The page, and the Content-Security-Policy that admits exactly its own inline script and style. */
export const LAB_PAGE = {
  html: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Saga Lab — failure lab</title>
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`,
  contentSecurityPolicy: [
    "default-src 'none'",
    `script-src ${hash(SCRIPT)}`,
    `style-src ${hash(STYLE)}`,
    "img-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
} as const;
