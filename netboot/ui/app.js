// The fleet page of metalboot-netboot: plain JavaScript, no library, no
// request to any host but this server. The data comes from GET /v1/events
// (server-sent events: "cluster" and "nodes" on connect, then one "node"
// per change); when the stream cannot be had, from GET /v1/cluster and
// GET /v1/nodes every few seconds. Everything is drawn with textContent:
// no text from the server is ever parsed as HTML.
'use strict';

const POLL_MS = 3000; // polling period without a stream
const STREAM_RETRY_MS = 30000; // a new stream attempt while polling
const TOKEN_KEY = 'metalboot.admin-token'; // sessionStorage only
const STATES = ['pending', 'booting', 'provisioning', 'done', 'failed'];
const BOOT_EVENTS = ['dhcp', 'tftp', 'boot-script', 'kernel', 'initrd'];

const page = {
  nodes: new Map(), // MAC -> node as /v1/nodes gives it
  cluster: null,
  clockSkew: 0, // server time minus browser time, ms
  sortKey: 'name',
  sortDir: 1,
  stateFilter: null,
  selected: null, // MAC
  source: null, // the EventSource
  pollTimer: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function now() {
  return Date.now() + page.clockSkew;
}

// "850ms", "12.3s", "4m 05s", "1h 02m".
function fmtDuration(ms) {
  if (!(ms >= 0)) return '';
  if (ms < 1000) return Math.round(ms) + 'ms';
  const s = ms / 1000;
  if (s < 60) return (s < 10 ? s.toFixed(1) : Math.floor(s)) + 's';
  const m = Math.floor(s / 60);
  if (m < 60) return m + 'm ' + String(Math.floor(s % 60)).padStart(2, '0') + 's';
  return Math.floor(m / 60) + 'h ' + String(m % 60).padStart(2, '0') + 'm';
}

// --- What a node's timeline says -----------------------------------------

function isTerminal(n) {
  return n.state === 'done' || n.state === 'failed';
}

// The times of a node's timeline, in ms, oldest first.
function events(n) {
  return (n.timeline || []).map((e) => ({ event: e.event, t: Date.parse(e.time) }));
}

// Where a node's clock stops: its last event when it is done or failed.
function nodeNow(n) {
  const ev = events(n);
  return isTerminal(n) && ev.length ? ev[ev.length - 1].t : now();
}

// The bars of a node's timeline: each boot milestone lasts until the next
// event; each agent step from "running" to its "ok" or "failed" (still
// running: until now). "rearm" is a marker, not a phase.
function phases(n) {
  const ev = events(n);
  const end = nodeNow(n);
  const bars = [];
  const open = new Map();
  ev.forEach((e, i) => {
    const colon = e.event.lastIndexOf(':');
    if (colon < 0) {
      if (e.event === 'rearm') return;
      const next = i + 1 < ev.length ? ev[i + 1].t : end;
      bars.push({ name: e.event, kind: 'boot', status: 'ok', start: e.t, end: next });
      return;
    }
    const step = e.event.slice(0, colon);
    const status = e.event.slice(colon + 1);
    let bar = open.get(step);
    if (status === 'running' || !bar) {
      bar = { name: step, kind: 'step', status, start: e.t, end: null };
      bars.push(bar);
    }
    if (status === 'running') {
      open.set(step, bar);
    } else {
      bar.status = status;
      bar.end = e.t;
      open.delete(step);
    }
  });
  for (const bar of open.values()) bar.end = end;
  return bars;
}

// The row's view of a node: current step, how long in it, since power-on.
function view(n) {
  const ev = events(n);
  const last = ev.length ? ev[ev.length - 1] : null;
  const le = n.last_event;
  let step = '';
  if (le && (!last || !BOOT_EVENTS.includes(last.event))) {
    step = le.step + ' ' + le.status;
  } else if (last) {
    step = last.event;
  }
  const end = nodeNow(n);
  // In step: since the step's "running" (or the milestone) began.
  let since = last ? last.t : NaN;
  if (le && le.status !== 'running') {
    const run = ev.filter((e) => e.event === le.step + ':running').pop();
    if (run) since = run.t;
  }
  return {
    name: n.name,
    mac: n.mac,
    ip: n.ip,
    role: n.role,
    state: n.state,
    step,
    message: n.state === 'failed' && le ? le.message : '',
    inStep: last && n.state !== 'done' ? end - since : NaN,
    sinceOn: ev.length ? end - ev[0].t : NaN,
  };
}

// --- Drawing -------------------------------------------------------------

function renderCluster() {
  const c = page.cluster;
  if (!c) return;
  if (c.name) {
    $('cluster-name').textContent = c.name;
    document.title = 'metalboot: ' + c.name;
  }
  $('k8s-version').textContent = c.kubernetes_version ? 'Kubernetes ' + c.kubernetes_version : '';
}

function renderSummary() {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0]));
  for (const n of page.nodes.values()) counts[n.state] = (counts[n.state] || 0) + 1;
  const box = $('summary');
  box.textContent = '';
  const all = [['all', page.nodes.size]].concat(STATES.map((s) => [s, counts[s]]));
  for (const [state, count] of all) {
    const b = el('button', 'count-' + state);
    b.type = 'button';
    b.dataset.state = state;
    b.setAttribute('aria-pressed', String((page.stateFilter || 'all') === state));
    b.append(el('span', 'count', String(count)), el('span', 'state ' + state, state));
    b.addEventListener('click', () => {
      page.stateFilter = state === 'all' || page.stateFilter === state ? null : state;
      render();
    });
    box.append(b);
  }
}

// The nodes shown, filtered and sorted, as views.
function shownViews() {
  const q = $('filter').value.trim().toLowerCase();
  const rows = [];
  for (const n of page.nodes.values()) {
    const v = view(n);
    if (page.stateFilter && v.state !== page.stateFilter) continue;
    const hay = [v.name, v.mac, v.ip, v.role, v.state, v.step].join(' ').toLowerCase();
    if (q && !hay.includes(q)) continue;
    rows.push(v);
  }
  const k = page.sortKey;
  const order = (v) => (k === 'state' ? STATES.indexOf(v.state) : v[k]);
  rows.sort((a, b) => {
    const x = order(a);
    const y = order(b);
    let c;
    if (typeof x === 'number' || typeof y === 'number') {
      c = (Number.isNaN(x) ? -1 : x) - (Number.isNaN(y) ? -1 : y);
    } else {
      c = String(x).localeCompare(String(y), undefined, { numeric: true });
    }
    return c * page.sortDir || a.name.localeCompare(b.name);
  });
  return rows;
}

function renderRow(v) {
  const tr = el('tr', v.state === 'failed' ? 'failed' : '');
  tr.dataset.mac = v.mac;
  tr.dataset.state = v.state;
  if (page.selected === v.mac) tr.classList.add('selected');
  tr.append(el('td', 'name', v.name), el('td', 'mono', v.mac), el('td', 'mono', v.ip), el('td', '', v.role));
  const st = el('td');
  st.append(el('span', 'state ' + v.state, v.state));
  tr.append(st);
  const step = el('td', 'step', v.step);
  if (v.message) {
    const m = el('span', 'msg', v.message.length > 80 ? v.message.slice(0, 79) + '…' : v.message);
    m.title = v.message;
    step.append(m);
  }
  tr.append(step, el('td', 'num in-step', fmtDuration(v.inStep)), el('td', 'num since-on', fmtDuration(v.sinceOn)));
  const act = el('td', 'admin-only');
  const b = el('button', 'rearm', 're-arm');
  b.type = 'button';
  b.title = 'serve this node its payload again (POST /v1/nodes/MAC/rearm)';
  b.addEventListener('click', (e) => {
    e.stopPropagation();
    rearm(v.mac, v.name, b);
  });
  act.append(b);
  tr.append(act);
  tr.addEventListener('click', () => {
    page.selected = page.selected === v.mac ? null : v.mac;
    render();
  });
  return tr;
}

function renderTable(rows) {
  const tbody = $('fleet').tBodies[0];
  tbody.replaceChildren(...rows.map(renderRow));
  for (const th of $('fleet').tHead.rows[0].cells) {
    if (!th.dataset.key) continue;
    if (th.dataset.key === page.sortKey) th.setAttribute('aria-sort', page.sortDir > 0 ? 'ascending' : 'descending');
    else th.removeAttribute('aria-sort');
  }
  $('shown').textContent = rows.length === page.nodes.size ? '' : rows.length + ' of ' + page.nodes.size + ' shown';
}

function renderDetail() {
  const n = page.selected && page.nodes.get(page.selected);
  $('detail').hidden = !n;
  if (!n) return;
  $('detail-name').textContent = n.name + ' (' + n.mac + ')';
  const st = $('detail-state');
  st.className = 'state ' + n.state;
  st.textContent = n.state;
  const le = n.last_event;
  const fail = $('detail-failure');
  fail.hidden = !(n.state === 'failed' && le);
  if (!fail.hidden) {
    fail.textContent = 'step ' + le.step + ' failed' + (le.message ? ': ' + le.message : '');
  }
  // The tail of the failed program's output (the agent redacts secrets).
  const out = $('detail-output');
  out.hidden = fail.hidden || !le.output;
  out.textContent = out.hidden ? '' : le.output;
  const ev = events(n);
  const t0 = ev.length ? ev[0].t : 0;
  $('detail-events').replaceChildren(
    ...ev.map((e) => el('li', '', '+' + fmtDuration(e.t - t0).padEnd(8) + ' ' + e.event)),
  );
}

// A tick step for the axis that gives at most about 8 ticks.
function tickStep(span) {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];
  for (const s of steps) if (span / (s * 1000) <= 8) return s * 1000;
  return 14400 * 1000;
}

function renderTimeline(rows) {
  const all = rows.map((v) => page.nodes.get(v.mac));
  const bars = all.map(phases);
  const starts = bars.flat().map((b) => b.start);
  const ends = bars.flat().map((b) => b.end);
  const lanes = $('lanes');
  const axis = $('axis');
  if (!starts.length) {
    axis.textContent = '';
    lanes.replaceChildren(el('p', 'muted', 'no node has reported anything yet'));
    return;
  }
  // reduce, not Math.min(...): a big fleet has more bars than arguments.
  const t0 = starts.reduce((a, b) => Math.min(a, b));
  const span = Math.max(1000, ends.reduce((a, b) => Math.max(a, b)) - t0);
  const pct = (t) => ((t - t0) / span) * 100 + '%';
  const step = tickStep(span);
  axis.replaceChildren();
  for (let t = 0; t <= span; t += step) {
    const tick = el('span', 'tick', t ? '+' + (t < 60000 ? t / 1000 + 's' : fmtDuration(t)) : '0s');
    tick.style.left = pct(t0 + t);
    axis.append(tick);
  }
  lanes.replaceChildren(
    ...all.map((n, i) => {
      const lane = el('div', 'lane');
      lane.dataset.mac = n.mac;
      if (page.selected === n.mac) lane.classList.add('selected');
      lane.append(el('span', 'label', n.name));
      for (const b of bars[i]) {
        const bar = el('span', 'bar ' + b.kind + ' ' + b.status);
        bar.dataset.phase = b.name;
        bar.style.left = pct(b.start);
        bar.style.width = ((b.end - b.start) / span) * 100 + '%';
        bar.title = n.name + ': ' + b.name + (b.kind === 'step' ? ' ' + b.status : '') + ', ' + fmtDuration(b.end - b.start);
        lane.append(bar);
      }
      return lane;
    }),
  );
}

function render() {
  renderCluster();
  renderSummary();
  const rows = shownViews();
  renderTable(rows);
  renderDetail();
  renderTimeline(rows);
}

// Once a second the clocks move on: only the duration cells and the
// timeline are redrawn, so that rows under the pointer stay put.
function tick() {
  const running = [...page.nodes.values()].some((n) => !isTerminal(n) && (n.timeline || []).length);
  if (!running) return;
  for (const tr of $('fleet').tBodies[0].rows) {
    const n = page.nodes.get(tr.dataset.mac);
    if (!n || isTerminal(n)) continue;
    const v = view(n);
    tr.querySelector('.in-step').textContent = fmtDuration(v.inStep);
    tr.querySelector('.since-on').textContent = fmtDuration(v.sinceOn);
  }
  renderTimeline(shownViews());
}

// --- Data ----------------------------------------------------------------

function takeCluster(c) {
  page.cluster = c;
  if (c.time) page.clockSkew = Date.parse(c.time) - Date.now();
}

function takeNodes(doc) {
  page.nodes = new Map(doc.nodes.map((n) => [n.mac, n]));
}

function setLive(cls, text) {
  const l = $('live');
  l.className = 'live ' + cls;
  l.textContent = text;
}

async function poll() {
  try {
    const [c, n] = await Promise.all([fetch('/v1/cluster'), fetch('/v1/nodes')]);
    if (!c.ok || !n.ok) throw new Error('HTTP ' + c.status + '/' + n.status);
    takeCluster(await c.json());
    takeNodes(await n.json());
    setLive('poll', 'polling every ' + POLL_MS / 1000 + 's');
    render();
  } catch (e) {
    setLive('off', 'server unreachable');
  }
}

function startPolling() {
  if (page.pollTimer) return;
  poll();
  page.pollTimer = setInterval(poll, POLL_MS);
  setTimeout(startStream, STREAM_RETRY_MS);
}

function stopPolling() {
  clearInterval(page.pollTimer);
  page.pollTimer = null;
}

// The stream. The server ends each one after a few minutes and the
// browser reconnects by itself; a refused stream (503: too many open)
// closes for good, and then we poll and try again later.
function startStream() {
  if (typeof EventSource === 'undefined') {
    startPolling();
    return;
  }
  if (page.source) page.source.close();
  const es = new EventSource('/v1/events');
  page.source = es;
  es.addEventListener('open', () => {
    stopPolling();
    setLive('on', 'live');
  });
  es.addEventListener('cluster', (e) => {
    takeCluster(JSON.parse(e.data));
    renderCluster();
  });
  es.addEventListener('nodes', (e) => {
    takeNodes(JSON.parse(e.data));
    render();
  });
  es.addEventListener('node', (e) => {
    const n = JSON.parse(e.data);
    page.nodes.set(n.mac, n);
    render();
  });
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED) {
      page.source = null;
      startPolling();
    } else {
      setLive('off', 'reconnecting…');
    }
  });
}

// --- Admin ---------------------------------------------------------------

// The admin token lives in this tab's sessionStorage only: never in a
// cookie, never in the page, never sent but in the Authorization header
// of an admin action.
function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

function renderAdmin() {
  const has = token() !== '';
  document.body.classList.toggle('admin', has);
  $('admin-token').hidden = has;
  $('admin-set').hidden = has;
  $('admin-forget').hidden = !has;
  $('admin-token').value = '';
}

async function rearm(mac, name, button) {
  button.disabled = true;
  try {
    const r = await fetch('/v1/nodes/' + mac + '/rearm', {
      method: 'POST',
      headers: { Authorization: 'Bearer ' + token() },
    });
    button.textContent = r.ok ? 're-armed' : r.status === 403 ? 'token refused' : 'failed (' + r.status + ')';
  } catch (e) {
    button.textContent = 'failed';
  }
  setTimeout(() => {
    button.disabled = false;
    button.textContent = 're-arm';
  }, 3000);
}

function setup() {
  for (const th of $('fleet').tHead.rows[0].cells) {
    if (!th.dataset.key) continue;
    th.addEventListener('click', () => {
      page.sortDir = page.sortKey === th.dataset.key ? -page.sortDir : 1;
      page.sortKey = th.dataset.key;
      render();
    });
  }
  $('filter').addEventListener('input', render);
  $('detail-close').addEventListener('click', () => {
    page.selected = null;
    render();
  });
  $('admin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('admin-token').value.trim();
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    renderAdmin();
  });
  $('admin-forget').addEventListener('click', () => {
    sessionStorage.removeItem(TOKEN_KEY);
    renderAdmin();
  });
  renderAdmin();
  render();
  startStream();
  setInterval(tick, 1000);
}

setup();
