// ui_browser.mjs - run by ui_browser.sh: Debian's chromium, headless,
// through playwright-core, against a metalboot-netboot the shell script
// started and fed. Checks the fleet page as a user sees it:
//   1. the three nodes in the table, with the states /v1/nodes gives;
//   2. a failed event posted while the page is open turns that row to
//      failed, with its message, without a reload;
//   3. the timeline draws one bar per recorded phase of every node;
//   4. no request leaves for another host (all are intercepted);
// and that admin actions appear only with the admin token, which never
// shows in the page; the page over HTTPS gets its stream too; a page
// refused a stream (too many open) polls instead. Writes a
// screenshot. Exits 0 when every check passed.
//
// Environment: UI_BASE (http://127.0.0.1:PORT), UI_TLS_BASE (https://...),
// UI_POST_FAILED (a command that posts the failed event), UI_POST_W2 (one
// that makes w2 provisioning), UI_TOKEN,
// UI_SHOT (screenshot path), UI_PROFILE (a fresh user data directory).
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const base = process.env.UI_BASE;
const tlsBase = process.env.UI_TLS_BASE;
const token = process.env.UI_TOKEN;
let fails = 0;

function check(name, ok, detail = '') {
  console.log((ok ? 'ok: ' : 'FAIL: ') + name + (ok || !detail ? '' : ': ' + detail));
  if (!ok) fails++;
}

// The phases the page must draw for a node, worked out here on our own
// from /v1/nodes: one per boot milestone, one per agent step run (a
// "running" opens one, its "ok"/"failed" closes it; a result without a
// "running" is a run of its own); "rearm" is a marker, not a phase.
function expectedPhases(node) {
  const out = [];
  const open = new Set();
  for (const { event } of node.timeline) {
    const i = event.lastIndexOf(':');
    if (i < 0) {
      if (event !== 'rearm') out.push(event);
      continue;
    }
    const step = event.slice(0, i);
    const status = event.slice(i + 1);
    if (status === 'running' || !open.has(step)) out.push(step);
    if (status === 'running') open.add(step);
    else open.delete(step);
  }
  return out;
}

async function nodesDoc() {
  const r = await fetch(base + '/v1/nodes');
  return (await r.json()).nodes;
}

// Every request of the context, and any that is not for origin.
function guard(context, origins) {
  const seen = [];
  const foreign = [];
  context.on('request', (req) => seen.push(req.url()));
  return context
    .route('**/*', (route) => {
      const url = route.request().url();
      if (origins.some((o) => url === o || url.startsWith(o + '/'))) return route.continue();
      foreign.push(url);
      return route.abort('blockedbyclient');
    })
    .then(() => ({ seen, foreign }));
}

async function rowStates(page) {
  return page.$$eval('#fleet tbody tr', (trs) =>
    Object.fromEntries(trs.map((tr) => [tr.querySelector('.name').textContent, tr.dataset.state])),
  );
}

async function checkTable(page) {
  await page.waitForFunction(() => document.querySelectorAll('#fleet tbody tr').length === 3, null, {
    timeout: 10000,
  });
  const nodes = await nodesDoc();
  const want = Object.fromEntries(nodes.map((n) => [n.name, n.state]));
  const got = await rowStates(page);
  check('three rows', Object.keys(got).length === 3, JSON.stringify(got));
  check(
    'row states are the server\'s',
    JSON.stringify(got) === JSON.stringify(want),
    'page ' + JSON.stringify(got) + ', server ' + JSON.stringify(want),
  );
  check(
    'states are done, provisioning, booting',
    got.cp1 === 'done' && got.w1 === 'provisioning' && got.w2 === 'booting',
    JSON.stringify(got),
  );
  const summary = await page.$eval('#summary', (e) => e.textContent);
  check('summary counts', /1\s*done/.test(summary) && /3\s*all/.test(summary), summary);
  const title = await page.$eval('header', (e) => e.textContent);
  check('cluster name and version', title.includes('lab') && title.includes('Kubernetes v1.30.2'), title);
}

async function checkFailedLive(page) {
  // A mark that a reload would lose.
  await page.evaluate(() => {
    window.notReloaded = true;
  });
  let navigations = 0;
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
  execFileSync('bash', ['-c', process.env.UI_POST_FAILED], { stdio: 'inherit' });
  await page
    .waitForSelector('#fleet tbody tr[data-state=failed]', { timeout: 10000 })
    .catch(() => null);
  const got = await rowStates(page);
  check('w1 turned failed', got.w1 === 'failed', JSON.stringify(got));
  const row = await page.$('#fleet tbody tr.failed');
  const text = row ? await row.textContent() : '';
  check('failed row shows its message', text.includes('kubeadm join: exit status 1'), text);
  check('no reload', (await page.evaluate(() => window.notReloaded === true)) && navigations === 0);
  // One click away: the detail panel names the step and the message.
  if (row) await row.click();
  const detail = await page.$eval('#detail-failure', (e) => (e.hidden ? '' : e.textContent));
  check('detail shows the failed step', detail.startsWith('step kubeadm-join failed: kubeadm join'), detail);
  // ... and the tail of the failed program's output.
  const output = await page.$eval('#detail-output', (e) => (e.hidden ? '' : e.textContent));
  check('detail shows the output tail',
    output === "[preflight] Running pre-flight checks\nerror: could not validate the identity of the API Server\n",
    JSON.stringify(output));
}

async function checkTimeline(page) {
  // Let the live rendering settle on the latest document.
  await page.waitForTimeout(300);
  for (const n of await nodesDoc()) {
    const want = expectedPhases(n);
    const got = await page.$$eval(`#lanes .lane[data-mac="${n.mac}"] .bar`, (bars) =>
      bars.map((b) => b.dataset.phase),
    );
    check(`timeline bars of ${n.name}`, JSON.stringify(got) === JSON.stringify(want),
      'page ' + JSON.stringify(got) + ', phases ' + JSON.stringify(want));
    const widths = await page.$$eval(`#lanes .lane[data-mac="${n.mac}"] .bar`, (bars) =>
      bars.map((b) => b.getBoundingClientRect().width),
    );
    check(`bars of ${n.name} are drawn`, widths.length > 0 && widths.every((w) => w >= 1), JSON.stringify(widths));
  }
}

async function checkAdmin(page) {
  const visible = () => page.$$eval('button.rearm', (bs) => bs.filter((b) => b.offsetParent !== null).length);
  check('no admin action without the token', (await visible()) === 0);
  await page.fill('#admin-token', token);
  await page.click('#admin-set');
  check('admin actions with the token', (await visible()) === 3);
  const html = await page.content();
  check('token not in the page', !html.includes(token));
  const stored = await page.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie]);
  check('token in sessionStorage only', stored[0] === 1 && stored[1] === 0 && stored[2] === '', JSON.stringify(stored));
  await page.click('#fleet tbody tr[data-state=done] button.rearm');
  await page.waitForFunction(
    () => document.querySelector('#fleet tbody tr[data-state=done] button.rearm')?.textContent === 're-armed',
    null,
    { timeout: 5000 },
  ).catch(() => null);
  const cp1 = (await nodesDoc()).find((n) => n.name === 'cp1');
  check('re-arm reached the server', cp1.timeline.at(-1).event === 'rearm', cp1.timeline.at(-1).event);
}

async function checkTls(context) {
  const page = await context.newPage();
  await page.goto(tlsBase + '/ui/');
  await page
    .waitForFunction(() => document.querySelector('#live')?.textContent === 'live', null, { timeout: 10000 })
    .catch(() => null);
  check('HTTPS page is live', (await page.$eval('#live', (e) => e.textContent)) === 'live');
  check('HTTPS table', Object.keys(await rowStates(page)).length === 3);
  await page.close();
}

// With every stream of this address taken (the page holds one, we take
// the rest), a new page is refused its stream and polls: it still shows
// the fleet and follows it.
async function checkPolling(context) {
  const held = [];
  // Twice, a second apart: a stream of a page just closed may still be
  // counted the first time.
  for (let round = 0; round < 2; round++) {
    while (held.length < 8) {
      const ac = new AbortController();
      const r = await fetch(base + '/v1/events', { signal: ac.signal });
      if (r.status !== 200) break;
      held.push(ac);
    }
    await new Promise((done) => setTimeout(done, 1000));
  }
  const page = await context.newPage();
  await page.goto(base + '/');
  await page
    .waitForFunction(() => document.querySelector('#live')?.textContent.startsWith('polling'), null, {
      timeout: 10000,
    })
    .catch(() => null);
  const live = await page.$eval('#live', (e) => e.textContent);
  check('refused a stream, the page polls', live.startsWith('polling'), live + ', ' + held.length + ' held');
  execFileSync('bash', ['-c', process.env.UI_POST_W2], { stdio: 'inherit' });
  await page
    .waitForSelector('#fleet tbody tr[data-state=provisioning]', { timeout: 10000 })
    .catch(() => null);
  const got = await rowStates(page);
  check('polling follows the fleet', got.w2 === 'provisioning', JSON.stringify(got));
  for (const ac of held) ac.abort();
  await page.close();
}

async function main() {
  const context = await chromium.launchPersistentContext(process.env.UI_PROFILE, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const { seen, foreign } = await guard(context, [base, tlsBase]);
  const errors = [];
  context.on('weberror', (e) => errors.push(String(e.error())));
  const page = context.pages()[0] || (await context.newPage());
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  try {
    await page.goto(base + '/');
    await checkTable(page);
    await checkFailedLive(page);
    await checkTimeline(page);
    await page.screenshot({ path: process.env.UI_SHOT, fullPage: true });
    await checkAdmin(page);
    await checkTls(context);
    await checkPolling(context);
  } finally {
    await context.close();
  }
  check('no request for another host', foreign.length === 0, JSON.stringify(foreign));
  for (const p of ['/', '/ui/app.js', '/ui/style.css', '/v1/events']) {
    check('page asked for ' + p, seen.includes(base + p), JSON.stringify(seen));
  }
  check('no script error', errors.length === 0, JSON.stringify(errors));
  console.log(fails ? fails + ' check(s) failed' : 'all browser checks passed');
  process.exit(fails ? 1 : 0);
}

main().catch((e) => {
  console.error('FAIL: ' + (e.stack || e));
  process.exit(1);
});
