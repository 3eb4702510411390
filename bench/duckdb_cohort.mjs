// Benchmark peer for bench/cohort.sh: DuckDB makes the candidate table of
// the benchmark's rule from the same person-years (read from CSV first; load
// time printed, not compared): each candidate with the clauses it met, its
// practice, age band, risk percentile and tier, emergency admissions and
// cost, stored as a table. Fastest of 3.
// Usage: node bench/duckdb_cohort.mjs DIR  (DIR holds person_year.csv, risk_score.csv)
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
let t = performance.now();
await con.run(`CREATE TABLE person_year AS SELECT * FROM read_csv('${dir}/person_year.csv', header = true,
	types = {'sex': 'VARCHAR', 'practice': 'VARCHAR'})`);
await con.run(`CREATE TABLE risk_score AS SELECT * FROM read_csv('${dir}/risk_score.csv', header = true)`);
console.log(`duckdb_load_ms ${(performance.now() - t).toFixed(0)}`);
const c1 = `(a.age >= 65 AND (a.copd <> 0)::INT + (a.heart_failure <> 0)::INT + (a.ckd <> 0)::INT
	+ (a.diabetes <> 0)::INT >= 2)`;
const c2 = `b.emergency_admissions >= 2`;
const c3 = `r.tier IN ('top0.5', '0.5-2')`;
const c4 = `(a.practice IN ('P90001', 'P90004') AND a.cost_total > 500000 AND NOT a.dementia <> 0)`;
const sql = `CREATE OR REPLACE TABLE candidate AS SELECT a.pseudo_id, a.practice,
	concat_ws('; ', CASE WHEN ${c1} THEN 'clause1' END, CASE WHEN ${c2} THEN 'clause2' END,
		CASE WHEN ${c3} THEN 'clause3' END, CASE WHEN ${c4} THEN 'clause4' END) AS reasons,
	CASE WHEN a.age IS NULL THEN 'unknown' WHEN a.age < 18 THEN '0-17' WHEN a.age < 45 THEN '18-44'
		WHEN a.age < 65 THEN '45-64' WHEN a.age < 75 THEN '65-74' WHEN a.age < 85 THEN '75-84'
		ELSE '85+' END AS age_band,
	a.ltc_count, r.percentile, r.tier, a.emergency_admissions, a.cost_total
	FROM person_year a
	LEFT JOIN person_year b ON b.pseudo_id = a.pseudo_id AND b.fyear = '2022/23'
	LEFT JOIN risk_score r ON r.pseudo_id = a.pseudo_id AND r.fyear = a.fyear
	WHERE a.fyear = '2023/24' AND (${c1} OR ${c2} OR ${c3} OR ${c4})`;
let best = Infinity;
for (let k = 0; k < 3; k++) {
	const s = performance.now();
	await con.run(sql);
	best = Math.min(best, performance.now() - s);
}
const n = (await con.runAndReadAll('SELECT count(*) FROM candidate')).getRows()[0][0];
console.log(`duckdb_select_ms ${best.toFixed(1)}`);
console.log(`duckdb_selected ${n}`);
