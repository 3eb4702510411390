// Browser checks of yoc serve in Debian's chromium through puppeteer-core
// (tests/cli/browser.sh starts the server). Prints PASS/FAIL lines.
// Expected counts are computed here independently: the people by SQL (the
// sqlite3 CLI), keys by HMAC-SHA256 (node's crypto), the cell-key table and
// rounding of docs/server.md.
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const puppeteer = require('puppeteer-core');
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const [port, db, idle] = [process.argv[2], process.argv[3], Number(process.argv[4])];
const base = `http://127.0.0.1:${port}`;
const secret = Buffer.from(readFileSync(`${db}/serve/cellkey.key`, 'utf8').trim(), 'hex');
let fails = 0;
const res = (ok, what) => { console.log((ok ? 'PASS ' : 'FAIL ') + what); if (!ok) fails++; };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sqlIds(where) {
  const fy = execFileSync('sqlite3', [`${db}/yoc.db`, 'select max(fyear) from person_year']).toString().trim();
  const out = execFileSync('sqlite3', [`${db}/yoc.db`,
    `select pseudo_id from person_year where fyear = '${fy}' and (${where})`]).toString();
  return out.split('\n').filter((x) => x);
}
function publish(ids) {
  const n = ids.length;
  if (n === 0) return 0;
  let ck = 0;
  for (const p of ids) ck += createHmac('sha256', secret).update(p).digest()[0];
  ck &= 255;
  const r = (ck + 167 * n) & 255;
  let d = r < 26 ? -2 : r < 77 ? -1 : r < 179 ? 0 : r < 230 ? 1 : 2;
  if (n + d < 1) d = 1 - n;
  const v = n + d;
  return v <= 7 ? null : Math.floor((v + 2) / 5) * 5;
}
function publishCount(n) { // a count on its own, no cell key: the report's rule
  return n === 0 ? 0 : n <= 7 ? null : Math.floor((n + 2) / 5) * 5;
}
const shown = (v) => v === null ? '*' : v.toLocaleString('en-GB');

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  headless: true,
});

async function axe(page, what) {
  await page.evaluate(axeSource);
  const r = await page.evaluate(async () => {
    const out = await window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] });
    return out.violations.map((v) => v.id + ': ' + v.nodes.length);
  });
  res(r.length === 0, `axe-core finds no WCAG A/AA violation on ${what} ${r.join(', ')}`);
}

async function login(page, user, pw) {
  await page.goto(base + '/', { waitUntil: 'networkidle0' });
  await page.waitForSelector('#login:not([hidden])');
  await page.type('#user', user);
  await page.type('#password', pw);
  await page.keyboard.press('Enter'); // the keyboard alone logs in
  // signed in once the tool shows with its choices filled in (/api/meta answered)
  await page.waitForFunction(() => (!document.getElementById('tool').hidden &&
    document.body.dataset.meta === 'loaded') ||
    document.getElementById('login-msg').textContent !== '', { timeout: 20000 });
  return page.$eval('#who', (e) => e.textContent);
}

async function show(page) {
  // clear the last answer first, so the count read is this request's
  await page.$eval('#result', (e) => { e.textContent = ''; });
  await page.click('#filters button[type=submit]');
  await page.waitForSelector('#count', { timeout: 20000 });
  return page.$eval('#count', (e) => e.textContent);
}

try {
  const users = [['ann', 'analyst-pass-1', 'analyst'], ['pat', 'practice-pass-1', 'practice'],
    ['pho', 'public-health-1', 'public_health'], ['pla', 'planner-pass-1', 'planner'],
    ['fin', 'finance-pass-1', 'finance'], ['root', 'admin-pass-01', 'admin']];
  for (const [u, pw, role] of users) {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    const who = await login(page, u, pw);
    res(who.includes(role), `${role} logs in through the form (${who})`);
    const hidden = await page.$eval('#extract', (e) => e.hidden);
    res(hidden === (role !== 'analyst'), `the extract button is offered to ${role}: ${!hidden}`);
    await ctx.close();
  }

  // the dashboards: each role sees exactly its pages, each page passes axe-core
  const pages = {
    analyst: ['tool', 'population', 'risk', 'outcomes', 'evaluation'],
    practice: ['tool', 'practice', 'worklist'],
    public_health: ['tool', 'population', 'risk', 'outcomes', 'evaluation'],
    planner: ['tool', 'population', 'risk', 'outcomes', 'evaluation'],
    finance: ['tool', 'finance', 'evaluation'],
    admin: ['tool', 'admin'],
  };
  const axed = new Set();
  for (const [u, pw, role] of users) {
    const ctx = await browser.createBrowserContext();
    const page = await ctx.newPage();
    await login(page, u, pw);
    const nav = await page.$$eval('#nav-list button', (bs) => bs.map((b) => b.dataset.dash));
    res(JSON.stringify(nav) === JSON.stringify(pages[role]), `the ${role} role's navigation is ${nav}`);
    for (const name of nav.filter((n) => n !== 'tool')) {
      await page.focus('#nav-' + name);
      await page.keyboard.press('Enter'); // the keyboard alone opens a dashboard
      await page.waitForFunction((n) => document.body.dataset.dash === n, { timeout: 20000 }, name);
      const tables = await page.$$eval('#dash-body table', (ts) => ts.length);
      const missing = await page.$$eval('#dash-body .missing', (ms) => ms.map((m) => m.textContent));
      res(tables > 0 || missing.length > 0, `${role}: the ${name} dashboard shows ${tables} tables${missing.length ? ', ' + missing.join(' ') : ''}`);
      if (!axed.has(name)) { axed.add(name); await axe(page, `the ${name} dashboard`); }
    }
    if (role === 'public_health') {
      await page.click('#nav-population');
      await page.waitForFunction(() => document.body.dataset.dash === 'population');
      const total = await page.$eval('#table-ltc_count', (t) => t.rows[t.rows.length - 1].cells[1].textContent);
      const want = publishCount(sqlIds('1').length);
      res(total === shown(want), `the population page's total is SQL's count after disclosure control (${total} vs ${shown(want)})`);
      const svgs = await page.$$eval('#dash-body svg[role=img]', (s) => s.filter((x) => x.getAttribute('aria-label')).length);
      res(svgs >= 3, `the population page's charts are labelled images beside their tables (${svgs})`);
      await page.click('#nav-outcomes');
      await page.waitForFunction(() => document.body.dataset.dash === 'outcomes');
      const spc = await page.$$eval('#sec-kpi svg', (s) => s.length);
      res(spc >= 1, `the outcomes page draws SPC charts of the KPI series (${spc})`);
    }
    if (role === 'admin') {
      await page.click('#nav-admin');
      await page.waitForFunction(() => document.body.dataset.dash === 'admin');
      const chain = await page.$eval('#chain', (e) => e.textContent);
      res(/intact/.test(chain), `the admin sees the access log's chain status (${chain})`);
    }
    await ctx.close();
  }

  // the analyst builds a group and sees SQL's count after disclosure control
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.goto(base + '/', { waitUntil: 'networkidle0' });
  await axe(page, 'the login page');
  await login(page, 'ann', 'analyst-pass-1');
  await page.type('#age_min', '65');
  await page.select('#ltc', 'copd');
  let got = await show(page);
  let want = publish(sqlIds('age >= 65 and copd'));
  res(got === shown(want) + ' people', `age >= 65 and copd: the page shows ${got}, SQL + cell key gives ${shown(want)}`);
  await axe(page, 'the results page');
  await page.select('#ltc', 'diabetes', 'chd');
  await page.select('#ltc_mode', 'or');
  await page.$eval('#age_min', (e) => { e.value = ''; });
  await page.type('#ltc_count_min', '2');
  got = await show(page);
  want = publish(sqlIds('(diabetes or chd) and ltc_count >= 2'));
  res(got === shown(want) + ' people', `(diabetes or chd) and 2+ conditions: ${got} vs ${shown(want)}`);
  const noted = await page.$eval('#result', (e) => e.textContent);
  res(/perturbed/.test(noted), 'the page says counts are perturbed');
  // the analyst's download: the CSV the page fetches holds SQL's people
  const csv = await page.evaluate(async () => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch('/api/extract', { method: 'POST', headers: { 'X-CSRF-Token': s.csrf },
      body: JSON.stringify({ filters: { ltc: ['diabetes', 'chd'], ltc_mode: 'or', ltc_count_min: 2 } }) });
    return r.text();
  });
  const ids = csv.trim().split('\n').slice(1).map((l) => l.split(',')[0]).sort();
  const want2 = sqlIds('(diabetes or chd) and ltc_count >= 2').sort();
  res(ids.length === want2.length && ids.every((x, i) => x === want2[i]),
    `the analyst's extract holds SQL's ${want2.length} people (${ids.length})`);
  // the month trend: drawn (line chart and table) when the response has it, else nothing
  const real = await page.evaluate(async () => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch('/api/select', { method: 'POST', headers: { 'X-CSRF-Token': s.csrf },
      body: JSON.stringify({ filters: { ltc: ['diabetes', 'chd'], ltc_mode: 'or', ltc_count_min: 2 } }) });
    return r.json();
  });
  let drawn = await page.$$eval('#result h3', (hs) => hs.filter((h) => /Trend by month/.test(h.textContent)).length);
  res(drawn === (real.trend ? 1 : 0), `the trend is drawn only when the response has one (${drawn}, ${!!real.trend})`);
  const months = ['2023-04', '2023-05', '2023-06', '2023-07'];
  const fake = Object.assign({}, real, { trend: { months, measures: [
    { measure: 'cost_per_person', group: [210, 190, null, 230], population: [150, 151, 149, 152] },
    { measure: 'emergency_admissions_per_1000', group: [12.5, 11, 13, 9.5], population: [8, 8.2, 7.9, 8.1] }] } });
  await page.setRequestInterception(true);
  const swap = (rq) => {
    if (rq.url().endsWith('/api/select')) {
      rq.respond({ status: 200, contentType: 'application/json', body: JSON.stringify(fake) });
    } else rq.continue();
  };
  page.on('request', swap);
  await show(page);
  page.off('request', swap);
  await page.setRequestInterception(false);
  const tr = await page.evaluate(() => {
    const t = Array.from(document.querySelectorAll('#result table')).find((x) => /cost per person by month/.test(x.caption.textContent));
    return { lines: document.querySelectorAll('#result svg[aria-label^="cost per person"] path').length,
      rows: t ? Array.from(t.rows).slice(1).map((r) => Array.from(r.cells).map((c) => c.textContent).join('|')) : [] };
  });
  res(tr.lines === 2 && tr.rows.join(';') === '2023-04|210|150;2023-05|190|151;2023-06|*|149;2023-07|230|152',
    `a trend in the response is drawn as group and population lines with its table (${tr.lines} lines; ${tr.rows.join(';')})`);
  await axe(page, 'the results page with a trend');

  // save the group as a cohort rule through the form
  await page.type('#cohort_name', 'browsergroup');
  await page.click('#cohort-form button[type=submit]');
  await page.waitForFunction(() => document.getElementById('cohort-msg').textContent !== '', { timeout: 20000 });
  const saved = await page.$eval('#cohort-msg', (e) => e.textContent);
  res(/^Saved cohort browsergroup version 1: .*diabetes or chd/.test(saved), `the analyst saves the group as a cohort rule (${saved})`);
  // CSRF: a POST from the page without the token is refused
  const st = await page.evaluate(async () => (await fetch('/api/select', { method: 'POST', body: '{}' })).status);
  res(st === 403, `a POST without the CSRF token is refused in the browser (${st})`);
  // logout
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])');
  const after = await page.evaluate(async () => (await fetch('/api/session')).status);
  res(after === 401, `after logout the session is gone (${after})`);
  await ctx.close();

  // a forged cookie
  const c2 = await browser.createBrowserContext();
  const p2 = await c2.newPage();
  await p2.goto(base + '/', { waitUntil: 'networkidle0' });
  await p2.setCookie({ name: 'yoc_session', value: 'a'.repeat(32), url: base });
  const forged = await p2.evaluate(async () => (await fetch('/api/meta')).status);
  res(forged === 401, `a forged session cookie is refused (${forged})`);
  await c2.close();

  // the practice user: the UI offers only its practice, and edited requests get nothing else
  const c3 = await browser.createBrowserContext();
  const p3 = await c3.newPage();
  await login(p3, 'pat', 'practice-pass-1');
  const opts = await p3.$$eval('#practice option', (os) => os.map((o) => o.value).filter((v) => v));
  res(opts.length === 1 && opts[0] === 'P90001', `the practice list holds only P90001 (${opts})`);
  got = await show(p3);
  want = publish(sqlIds("practice = 'P90001'"));
  res(got === shown(want) + ' people', `the practice sees its own practice: ${got} vs ${shown(want)}`);
  const edited = await p3.evaluate(async () => {
    const s = await (await fetch('/api/session')).json();
    const r = await fetch('/api/select', { method: 'POST', headers: { 'X-CSRF-Token': s.csrf },
      body: JSON.stringify({ filters: { practice: ['P90002'] } }) });
    return (await r.json()).count;
  });
  res(edited === 0, `an edited request for another practice returns no one (${edited})`);
  await p3.click('#nav-worklist');
  await p3.waitForFunction(() => document.body.dataset.dash === 'worklist', { timeout: 20000 });
  const wl = await p3.$$eval('#table-worklist tr', (rs) => rs.slice(1).map((r) => r.cells[1].textContent));
  const theirs = new Set(sqlIds("practice != 'P90001'"));
  res(wl.length > 0 && wl.every((x) => !theirs.has(x)), `the practice's worklist (${wl.length} people) holds no one of another practice`);
  const reach = await p3.evaluate(async () => {
    const a = await fetch('/api/dash/practice?practice=P90002');
    const j = await a.json();
    const b = await fetch('/api/dash/population');
    const c = await fetch('/api/dash/finance');
    return [j.practice, b.status, c.status];
  });
  res(reach[0] === 'P90001' && reach[1] === 403 && reach[2] === 403,
    `an edited dashboard request cannot reach another practice or other dashboards (${reach})`);
  await p3.click('#nav-tool');
  // idle timeout
  await sleep((idle + 1.5) * 1000);
  await p3.click('#filters button[type=submit]');
  await p3.waitForSelector('#login:not([hidden])', { timeout: 20000 });
  const msg = await p3.$eval('#login-msg', (e) => e.textContent);
  res(/ended/.test(msg), `after the idle timeout the page asks to log in again (${msg})`);
  await c3.close();
} catch (err) {
  res(false, 'browser run: ' + err.message);
} finally {
  await browser.close();
}
process.exit(fails ? 1 : 0);
