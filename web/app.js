'use strict';
// The selection tool's front end: plain DOM, no libraries. All checks are on
// the server; this only builds requests and draws the answers.
let csrf = '';
const $ = (id) => document.getElementById(id);
const fmt = (v) => (v === null || v === undefined) ? '*' : v.toLocaleString('en-GB');

async function call(method, url, body) {
  const h = {'Content-Type': 'application/json'};
  if (method === 'POST' && csrf) h['X-CSRF-Token'] = csrf;
  const r = await fetch(url, {method, headers: h, body: body ? JSON.stringify(body) : undefined,
    credentials: 'same-origin'});
  let j = {};
  try { j = await r.json(); } catch (e) { j = {error: 'bad response'}; }
  return {status: r.status, body: j};
}

function opts(sel, values) {
  for (const v of values) { const o = document.createElement('option'); o.value = v; o.textContent = v; sel.appendChild(o); }
}

function signedOut(msg) {
  csrf = '';
  $('tool').hidden = true; $('login').hidden = false; $('logout').hidden = true;
  $('who').textContent = '';
  delete document.body.dataset.meta;
  if (msg) $('login-msg').textContent = msg;
}

async function signedIn(s) {
  csrf = s.csrf;
  $('who').textContent = s.user + ' (' + s.role + (s.practice ? ', ' + s.practice : '') + ')';
  $('login').hidden = true; $('tool').hidden = false; $('logout').hidden = false;
  $('extract').hidden = s.role !== 'analyst';
  const m = await call('GET', '/api/meta');
  if (m.status !== 200) return signedOut('Your session has ended; please log in again.');
  for (const id of ['practice', 'ltc', 'band', 'tier']) {
    const sel = $(id); while (sel.options.length > (id === 'practice' ? 1 : 0)) sel.remove(sel.options.length - 1);
  }
  opts($('practice'), m.body.practices); opts($('ltc'), m.body.conditions);
  opts($('band'), m.body.bands); opts($('tier'), m.body.tiers);
  $('result').textContent = '';
  document.body.dataset.meta = 'loaded'; // the choices are filled in
}

function num(id) { const v = $(id).value.trim(); return v === '' ? null : parseInt(v, 10); }
function multi(id) { return Array.from($(id).selectedOptions).map((o) => o.value); }

function request() {
  const f = {};
  for (const k of ['age_min', 'age_max', 'ltc_count_min', 'emergency_min', 'bed_days_min', 'cost_min']) {
    const v = num(k); if (v !== null) f[k] = v;
  }
  if ($('sex').value) f.sex = [$('sex').value];
  if ($('practice').value) f.practice = [$('practice').value];
  const imd = $('imd').value.split(',').map((x) => x.trim()).filter((x) => x).map((x) => parseInt(x, 10));
  if (imd.length) f.imd = imd;
  const l = multi('ltc'); if (l.length) { f.ltc = l; f.ltc_mode = $('ltc_mode').value; }
  const b = multi('band'); if (b.length) f.band = b;
  const t = multi('tier'); if (t.length) f.tier = t;
  const req = {filters: f};
  if ($('rule').value.trim()) req.rule = $('rule').value.trim();
  return req;
}

function table(caption, head, rows) {
  const t = document.createElement('table');
  const c = document.createElement('caption'); c.textContent = caption; t.appendChild(c);
  const tr = document.createElement('tr');
  for (const h of head) { const th = document.createElement('th'); th.scope = 'col'; th.textContent = h; tr.appendChild(th); }
  t.appendChild(tr);
  for (const r of rows) {
    const row = document.createElement('tr');
    r.forEach((v, i) => { const td = document.createElement(i ? 'td' : 'th'); if (!i) td.scope = 'row'; td.textContent = v; row.appendChild(td); });
    t.appendChild(row);
  }
  return t;
}

function pyramid(rows) {
  // a plain SVG age/sex pyramid of the group's percentages
  const ns = 'http://www.w3.org/2000/svg', w = 420, bh = 12, h = rows.length * bh + 20;
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h); svg.setAttribute('width', w); svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Age and sex pyramid of the group (percent of the group); the table below has the figures');
  const max = Math.max(1, ...rows.map((r) => Math.max(r.male_pct || 0, r.female_pct || 0)));
  rows.slice().reverse().forEach((r, i) => {
    const y = i * bh;
    const m = document.createElementNS(ns, 'rect'); const mw = (r.male_pct || 0) / max * 170;
    m.setAttribute('x', 200 - mw); m.setAttribute('y', y); m.setAttribute('width', mw); m.setAttribute('height', bh - 2); m.setAttribute('fill', '#005eb8');
    const f = document.createElementNS(ns, 'rect'); const fw = (r.female_pct || 0) / max * 170;
    f.setAttribute('x', 220); f.setAttribute('y', y); f.setAttribute('width', fw); f.setAttribute('height', bh - 2); f.setAttribute('fill', '#ae2573');
    const tx = document.createElementNS(ns, 'text'); tx.setAttribute('x', 210); tx.setAttribute('y', y + bh - 3);
    tx.setAttribute('font-size', '8'); tx.setAttribute('text-anchor', 'middle'); tx.textContent = r.age;
    svg.append(m, f, tx);
  });
  return svg;
}

function draw(r) {
  const out = $('result'); out.textContent = '';
  const p = document.createElement('p'); p.className = 'big'; p.id = 'count';
  p.textContent = fmt(r.count) + ' people';
  const sub = document.createElement('p');
  sub.textContent = 'of ' + fmt(r.population) + ' (' + (r.share_pct === null ? '*' : r.share_pct + '%') + ') in ' + r.fyear +
    '; cost ' + (r.cost_total === null ? '*' : '£' + fmt(r.cost_total)) + ', £' + fmt(r.cost_per_person) +
    ' a person (whole population £' + fmt(r.population_cost_per_person) + ')';
  const note = document.createElement('p'); note.className = 'note'; note.textContent = r.disclosure;
  out.append(p, sub, note);
  out.appendChild(table('Cost by setting', ['Setting', 'Total £', '£ a person', 'Population £ a person'],
    r.cost.map((c) => [c.setting, fmt(c.total), fmt(c.per_person), fmt(c.population_per_person)])));
  out.appendChild(table('Activity', ['Measure', 'Total', 'Per 1,000', 'Population per 1,000'],
    r.activity.map((c) => [c.measure.replace(/_/g, ' '), fmt(c.total), fmt(c.per_1000), fmt(c.population_per_1000)])));
  out.appendChild(pyramid(r.pyramid));
  out.appendChild(table('Age and sex', ['Age', 'Male', 'Female', 'Male %', 'Female %', 'Population male %', 'Population female %'],
    r.pyramid.map((c) => [c.age, fmt(c.male), fmt(c.female), fmt(c.male_pct), fmt(c.female_pct), fmt(c.population_male_pct), fmt(c.population_female_pct)])));
  out.appendChild(table('Long-term conditions', ['Condition', 'People', '%', 'Population %'],
    r.conditions.map((c) => [c.condition.replace(/_/g, ' '), fmt(c.count), fmt(c.pct), fmt(c.population_pct)])));
  out.appendChild(table('Bands', ['Band', 'People', '%', 'Population %'],
    r.bands.map((c) => [c.band, fmt(c.count), fmt(c.pct), fmt(c.population_pct)])));
  if (r.tiers.length) out.appendChild(table('Risk tiers', ['Tier', 'People', '%', 'Population %'],
    r.tiers.map((c) => [c.tier, fmt(c.count), fmt(c.pct), fmt(c.population_pct)])));
}

document.addEventListener('DOMContentLoaded', async () => {
  $('login-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('login-msg').textContent = '';
    const r = await call('POST', '/api/login', {user: $('user').value, password: $('password').value});
    $('password').value = '';
    if (r.status === 200) signedIn(r.body); else $('login-msg').textContent = r.body.error || 'Login failed';
  });
  $('logout').addEventListener('click', async () => { await call('POST', '/api/logout'); signedOut('You have logged out.'); });
  $('filters').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('msg').textContent = '';
    const r = await call('POST', '/api/select', request());
    if (r.status === 401) return signedOut('Your session has ended; please log in again.');
    if (r.status !== 200) { $('msg').textContent = r.body.error || 'The request failed'; return; }
    draw(r.body);
  });
  $('extract').addEventListener('click', async () => {
    $('msg').textContent = '';
    const r = await fetch('/api/extract', {method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': csrf}, body: JSON.stringify(request())});
    if (r.status === 401) return signedOut('Your session has ended; please log in again.');
    if (r.status !== 200) { $('msg').textContent = 'The download was refused'; return; }
    const url = URL.createObjectURL(await r.blob());
    const a = document.createElement('a'); a.href = url; a.download = 'extract.csv';
    document.body.appendChild(a); a.click(); a.remove(); URL.revokeObjectURL(url);
  });
  const s = await call('GET', '/api/session');
  if (s.status === 200) signedIn(s.body); else signedOut('');
});
