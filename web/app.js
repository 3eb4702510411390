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
  $('dash').hidden = true; $('nav').hidden = true; $('nav-list').textContent = '';
  $('who').textContent = '';
  delete document.body.dataset.meta;
  if (msg) $('login-msg').textContent = msg;
}

async function signedIn(s) {
  csrf = s.csrf;
  $('who').textContent = s.user + ' (' + s.role + (s.practice ? ', ' + s.practice : '') + ')';
  $('login').hidden = true; $('tool').hidden = false; $('logout').hidden = false; $('dash').hidden = true;
  $('extract').hidden = s.role !== 'analyst';
  $('cohort-form').hidden = s.role !== 'analyst';
  const d = await call('GET', '/api/dash');
  if (d.status === 200) buildNav(d.body);
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
  if (r.trend && r.trend.months) drawTrend(out, r.trend);
  if (r.tiers.length) out.appendChild(table('Risk tiers', ['Tier', 'People', '%', 'Population %'],
    r.tiers.map((c) => [c.tier, fmt(c.count), fmt(c.pct), fmt(c.population_pct)])));
}

// ---- charts: small inline SVG functions, each with a table beside it ----
const NS = 'http://www.w3.org/2000/svg';
function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (text !== undefined) e.textContent = text;
  return e;
}
function svgBox(w, h, label) {
  const svg = el('svg', {viewBox: '0 0 ' + w + ' ' + h, width: w, role: 'img', 'aria-label': label, class: 'chart'});
  return svg;
}

// horizontal bars of one column against the labels of another
function barChart(title, labels, values, heading) {
  const bh = 18, w = 560, lw = 170, top = heading ? 20 : 4, h = labels.length * bh + top + 6;
  const svg = svgBox(w, h, title + ' (bar chart; the table below has the figures)');
  if (heading) svg.appendChild(el('text', {x: lw, y: 13, 'font-size': 12, 'font-weight': 700}, heading));
  const max = Math.max(1, ...values.filter((v) => v !== null));
  labels.forEach((l, i) => {
    const y = i * bh + top, v = values[i];
    svg.appendChild(el('text', {x: lw - 6, y: y + bh - 6, 'font-size': 11, 'text-anchor': 'end'}, String(l).slice(0, 28)));
    if (v === null) { svg.appendChild(el('text', {x: lw + 4, y: y + bh - 6, 'font-size': 11}, '* hidden')); return; }
    const bw = Math.max(0, v / max * (w - lw - 70));
    svg.appendChild(el('rect', {x: lw, y: y, width: bw, height: bh - 4, fill: '#005eb8'}));
    svg.appendChild(el('text', {x: lw + bw + 4, y: y + bh - 6, 'font-size': 11}, fmt(v)));
  });
  return svg;
}

// lines over months: series [{name, values, colour, dash}], null = a gap
function lineChart(title, months, series, extra) {
  const w = 640, h = 240, l = 56, r = 30, t = 12, b = 40;
  const svg = svgBox(w, h, title + ' (line chart; the table below has the figures)');
  const all = [];
  for (const s of series) for (const v of s.values) if (v !== null && v !== undefined) all.push(v);
  if (!all.length) return null;
  let lo = Math.min(...all), hi = Math.max(...all);
  if (lo > 0) lo = 0;
  if (hi === lo) hi = lo + 1;
  const X = (i) => l + (months.length > 1 ? i / (months.length - 1) : 0.5) * (w - l - r);
  const Y = (v) => t + (1 - (v - lo) / (hi - lo)) * (h - t - b);
  svg.appendChild(el('line', {x1: l, y1: Y(lo), x2: w - r, y2: Y(lo), stroke: '#4c6272'}));
  svg.appendChild(el('line', {x1: l, y1: t, x2: l, y2: h - b, stroke: '#4c6272'}));
  for (const v of [lo, (lo + hi) / 2, hi]) svg.appendChild(el('text', {x: l - 4, y: Y(v) + 4, 'font-size': 10, 'text-anchor': 'end'}, fmt(Math.round(v * 10) / 10)));
  const step = Math.max(1, Math.ceil(months.length / 8));
  months.forEach((m, i) => { if (i % step === 0) svg.appendChild(el('text', {x: X(i), y: h - b + 14, 'font-size': 10, 'text-anchor': 'middle'}, m)); });
  for (const s of series) {
    let d = '', pen = false;
    s.values.forEach((v, i) => {
      if (v === null || v === undefined) { pen = false; return; }
      d += (pen ? 'L' : 'M') + X(i).toFixed(1) + ' ' + Y(v).toFixed(1) + ' '; pen = true;
    });
    if (d) svg.appendChild(el('path', {d: d, fill: 'none', stroke: s.colour, 'stroke-width': s.width || 2, 'stroke-dasharray': s.dash || ''}));
    if (s.points) s.values.forEach((v, i) => { if (v !== null) svg.appendChild(el('circle', {cx: X(i), cy: Y(v), r: 2.5, fill: (extra && extra.colour && extra.colour(i)) || s.colour})); });
  }
  let ly = h - 8, lx = l;
  for (const s of series.filter((x) => x.name)) {
    svg.appendChild(el('line', {x1: lx, y1: ly - 4, x2: lx + 18, y2: ly - 4, stroke: s.colour, 'stroke-width': 2, 'stroke-dasharray': s.dash || ''}));
    svg.appendChild(el('text', {x: lx + 22, y: ly, 'font-size': 10}, s.name));
    lx += 30 + s.name.length * 6;
  }
  return svg;
}

// a Making Data Count (SPC) chart: values, centre line and limits; each point
// coloured by the variation the server found (blue improvement, orange
// concern, purple neither, grey common cause)
function spcChart(t) {
  const rows = t.rows, col = (n) => t.columns.indexOf(n);
  const vi = col('Value'), ci = col('Centre'), li = col('Lower limit'), ui = col('Upper limit');
  const wi = col('Variation');
  const vals = rows.map((r) => r[vi]);
  if (vals.some((v) => v === null)) return null; // a hidden month: no chart
  const colour = (i) => {
    const v = String(rows[i][wi] || '');
    return /improvement/.test(v) ? '#005eb8' : /concern/.test(v) ? '#c84d00' : /neither/.test(v) ? '#7a2c81' : '#4c6272';
  };
  return lineChart(t.caption, rows.map((r) => r[0]), [
    {name: 'value', values: vals, colour: '#4c6272', points: true, width: 1.5},
    {name: 'centre', values: rows.map((r) => r[ci]), colour: '#1b1b1b', width: 1},
    {name: 'limits', values: rows.map((r) => r[ui]), colour: '#7a2c81', dash: '4 3', width: 1},
    {name: '', values: rows.map((r) => r[li]), colour: '#7a2c81', dash: '4 3', width: 1},
  ], {colour: colour});
}

function drawTrend(out, tr) {
  const h = document.createElement('h3'); h.textContent = 'Trend by month: the group beside the whole population';
  out.appendChild(h);
  for (const m of tr.measures) {
    const name = m.measure.replace(/_/g, ' ');
    const svg = lineChart(name, tr.months, [
      {name: 'group', values: m.group, colour: '#005eb8'},
      {name: 'population', values: m.population, colour: '#4c6272', dash: '5 3'}]);
    if (svg) out.appendChild(svg);
    out.appendChild(table(name + ' by month', ['Month', 'Group', 'Population'],
      tr.months.map((mo, i) => [mo, fmt(m.group[i]), fmt(m.population[i])])));
  }
}

// ---- dashboards ----
let current = 'tool';
function buildNav(d) {
  const ul = $('nav-list'); ul.textContent = '';
  const items = [{name: 'tool', title: 'Build a group'}].concat(d.dashboards);
  for (const it of items) {
    const li = document.createElement('li'), b = document.createElement('button');
    b.type = 'button'; b.textContent = it.title; b.dataset.dash = it.name; b.id = 'nav-' + it.name;
    b.addEventListener('click', () => show(it.name, it.title));
    li.appendChild(b); ul.appendChild(li);
  }
  $('nav').hidden = false;
  markNav('tool');
}
function markNav(name) {
  current = name;
  for (const b of $('nav-list').querySelectorAll('button')) {
    if (b.dataset.dash === name) b.setAttribute('aria-current', 'page'); else b.removeAttribute('aria-current');
  }
}
function cellText(v, kind) {
  // null is a hidden figure for counts, money and rates; elsewhere nothing to show
  if (v === null || v === undefined) return 'cmagr'.includes(kind) ? '*' : '';
  if (typeof v === 'number' && (kind === 'r' || kind === 'n')) return v.toLocaleString('en-GB', {minimumFractionDigits: 1, maximumFractionDigits: 1});
  if (typeof v === 'number' && kind !== 'i') return v.toLocaleString('en-GB');
  return String(v);
}
function dashTable(t) {
  const tb = table(t.caption, t.columns, t.rows.map((r) => r.map((v, i) => cellText(v, t.kinds[i]))));
  tb.id = 'table-' + t.id;
  // a wide table scrolls on its own; keyboard users reach it by Tab
  const w = document.createElement('div'); w.className = 'tablewrap'; w.tabIndex = 0;
  w.setAttribute('role', 'region'); w.setAttribute('aria-label', t.caption); w.appendChild(tb);
  return w;
}
async function show(name, title) {
  markNav(name);
  $('dash-msg').textContent = '';
  if (name === 'tool') { $('dash').hidden = true; $('tool').hidden = false; return; }
  $('tool').hidden = true; $('dash').hidden = false;
  $('dash-h').textContent = title; $('dash-body').textContent = '';
  delete document.body.dataset.dash;
  const r = await call('GET', '/api/dash/' + name);
  if (r.status === 401) return signedOut('Your session has ended; please log in again.');
  if (r.status !== 200) { $('dash-msg').textContent = r.body.error || 'The dashboard could not be shown'; return; }
  drawDash(r.body);
  document.body.dataset.dash = name;
  $('dash').focus();
}
function drawDash(d) {
  const out = $('dash-body');
  const p = document.createElement('p'); p.className = 'note';
  p.textContent = d.fyear + (d.practice ? ', practice ' + d.practice : '') + '. ' + d.disclosure;
  out.appendChild(p);
  if (d.name === 'practice') {
    const a = document.createElement('a'); a.href = '/api/dash/practice.csv'; a.id = 'pack';
    a.textContent = 'Download the practice data pack (CSV)'; a.setAttribute('download', 'data-pack.csv');
    out.appendChild(a);
  }
  for (const s of d.sections) {
    const sec = document.createElement('section'); sec.id = 'sec-' + s.id;
    const h = document.createElement('h3'); h.textContent = s.title; sec.appendChild(h);
    if (s.missing) { const m = document.createElement('p'); m.className = 'missing'; m.textContent = s.missing.charAt(0).toUpperCase() + s.missing.slice(1) + '.'; sec.appendChild(m); }
    if (s.chain) { const c = document.createElement('p'); c.id = 'chain'; c.textContent = 'Chain of the access log: ' + s.chain; sec.appendChild(c); }
    for (const t of s.tables || []) {
      let svg = null;
      if (t.chart === 'spc') svg = spcChart(t);
      else if (t.chart && t.chart.startsWith('bar:')) {
        const [, li, vi] = t.chart.split(':').map(Number);
        const rows = t.rows.filter((r) => r[li] !== 'Total');
        svg = barChart(t.caption + ': ' + t.columns[vi], rows.map((r) => r[li]), rows.map((r) => r[vi]), t.columns[vi]);
      }
      if (t.chart && t.chart.startsWith('spc')) {
        const h4 = document.createElement('h4'); h4.textContent = t.caption; sec.appendChild(h4);
        const n = document.createElement('p'); n.className = 'note';
        n.textContent = svg ? 'Latest point: ' + t.icon + (t.assurance ? '; ' + t.assurance : '') +
          (t.target !== null && t.target !== undefined ? '; target ' + t.target : '') + '.'
          : 'No chart: a month is hidden, and leaving it out would bias the limits.';
        sec.appendChild(n);
      }
      if (svg) sec.appendChild(svg);
      sec.appendChild(dashTable(t));
      if (t.truncated) { const n = document.createElement('p'); n.className = 'note'; n.textContent = 'Only the first ' + t.truncated.toLocaleString('en-GB') + ' rows are shown.'; sec.appendChild(n); }
    }
    if (s.note) { const n = document.createElement('p'); n.className = 'note'; n.textContent = s.note; sec.appendChild(n); }
    out.appendChild(sec);
  }
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
  $('cohort-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('cohort-msg').textContent = '';
    const body = request(); body.name = $('cohort_name').value.trim();
    if ($('cohort_desc').value.trim()) body.description = $('cohort_desc').value.trim();
    const r = await call('POST', '/api/cohort', body);
    if (r.status === 401) return signedOut('Your session has ended; please log in again.');
    $('cohort-msg').textContent = r.status === 200
      ? 'Saved cohort ' + r.body.cohort + ' version ' + r.body.version + ': ' + r.body.rule + '. Run yoc cohort select ' + r.body.cohort + ' to select it.'
      : (r.body.error || 'The cohort could not be saved');
  });
  const s = await call('GET', '/api/session');
  if (s.status === 200) signedIn(s.body); else signedOut('');
});
