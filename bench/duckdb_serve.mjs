// Benchmark peer for bench/serve.sh: DuckDB answers the selection tool's
// queries over the same person-years (read from CSV first, load not
// compared): the group's count, cost by setting, activity, the 25
// condition counts, bands and tiers, the age/sex pyramid and the trend by
// month (cost, emergency admissions and people with one, per month, from
// the same monthly figures), as yoc serve computes them (without
// disclosure control). Prints p50/p95/p99 per query and overall over
// REPEAT rounds.
// Usage: node bench/duckdb_serve.mjs DIR REPEAT
import { existsSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [dir, rep] = [process.argv[2], Number(process.argv[3] || 20)];
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
let t = performance.now();
await con.run(`CREATE TABLE f AS SELECT p.*, r.tier FROM read_csv('${dir}/person_year.csv', header = true,
	types = {'sex': 'VARCHAR', 'practice': 'VARCHAR', 'band': 'VARCHAR'}) p
	LEFT JOIN read_csv('${dir}/risk_score.csv', header = true) r USING (pseudo_id)`);
const months = existsSync(`${dir}/person_month.csv`);
if (months)
  await con.run(`CREATE TABLE m AS SELECT * FROM read_csv('${dir}/person_month.csv', header = true)`);
console.log(`duckdb_load_ms ${(performance.now() - t).toFixed(0)}`);
const ltc = ['hypertension', 'diabetes', 'chd', 'heart_failure', 'atrial_fibrillation', 'stroke_tia',
  'copd', 'asthma', 'ckd', 'cancer', 'dementia', 'depression', 'smi', 'epilepsy', 'learning_disability',
  'osteoporosis', 'rheumatoid_arthritis', 'pad', 'palliative', 'hypothyroidism', 'anxiety',
  'chronic_liver_disease', 'parkinsons', 'multiple_sclerosis', 'alcohol_dependence'];
const sets = ['elective', 'nonelective', 'daycase', 'outpatient', 'ae', 'community', 'mh', 'gp',
  'social_care', 'ambulance'];
const where = [
  "age >= 65 AND (copd OR heart_failure)",
  "ltc_count >= 3 AND imd_decile IN (1, 2)",
  "tier IN ('top0.5', '0.5-2')",
  "practice = 'P90001' AND emergency_admissions >= 1",
  "age >= 75 AND sex = '2' AND dementia",
  "band IN ('D', 'E') AND bed_days >= 5",
  "age >= 65",
  "sex = '2'",
  "ltc_count >= 1",
  "imd_decile IN (1, 2)",
  "hypertension",
];
const agg = `count(*), ${sets.map((s) => `sum(cost_${s})`).join(', ')}, sum(cost_total),
  sum(emergency_admissions), sum(other_nonelective_admissions), sum(bed_days), sum(emergency_bed_days),
  count(*) FILTER (WHERE emergency_admissions >= 1), ${ltc.map((l) => `sum(${l})`).join(', ')}`;
const pct = (a, q) => a[Math.min(a.length - 1, Math.floor(a.length * q))].toFixed(2);
const all = [];
const counts = [];
for (const [i, w] of where.entries()) {
  const lat = [];
  for (let k = 0; k < rep; k++) {
    const s = performance.now();
    const r = await con.runAndReadAll(`SELECT ${agg} FROM f WHERE ${w}`);
    await con.runAndReadAll(`SELECT least(age // 5, 18), sex, count(*) FROM f WHERE ${w} AND age IS NOT NULL GROUP BY ALL`);
    await con.runAndReadAll(`SELECT band, tier, count(*) FROM f WHERE ${w} GROUP BY ALL`);
    if (months)
      await con.runAndReadAll(`SELECT month, sum(cost), sum(emergency), count(*) FILTER (WHERE emergency > 0)
        FROM m SEMI JOIN (SELECT pseudo_id FROM f WHERE ${w}) g USING (pseudo_id) GROUP BY month`);
    lat.push(performance.now() - s);
    if (k === 0) counts.push(`${i + 1}:${r.getRows()[0][0]}`);
  }
  all.push(...lat);
  lat.sort((a, b) => a - b);
  console.log(`duckdb query ${i + 1} p50_ms ${pct(lat, 0.5)} p95_ms ${pct(lat, 0.95)} p99_ms ${pct(lat, 0.99)}`);
}
all.sort((a, b) => a - b);
console.log(`duckdb_counts ${counts.join(' ')}`);
console.log(`duckdb all p50_ms ${pct(all, 0.5)} p95_ms ${pct(all, 0.95)} p99_ms ${pct(all, 0.99)}${months ? ' (trend included)' : ''}`);
