// Benchmark peer for bench/rule.sh: DuckDB runs the benchmark's rule as SQL
// over the same person-years, read from CSV into tables first (load time
// printed, not compared). Timed: the query over one pre-joined table (year t,
// year t-1's emergency_admissions and the risk tier, as yoc's frame holds
// them) and the same query with the joins, fastest of 5 each.
// Usage: node bench/duckdb_rule.mjs DIR  (DIR holds person_year.csv, risk_score.csv)
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
let t = performance.now();
await con.run(`CREATE TABLE person_year AS SELECT * FROM read_csv('${dir}/person_year.csv', header = true,
	types = {'sex': 'VARCHAR', 'practice': 'VARCHAR'})`);
await con.run(`CREATE TABLE risk_score AS SELECT * FROM read_csv('${dir}/risk_score.csv', header = true)`);
await con.run(`CREATE TABLE frame AS SELECT a.*, b.emergency_admissions AS ea1, r.tier
	FROM person_year a LEFT JOIN person_year b ON b.pseudo_id = a.pseudo_id AND b.fyear = '2022/23'
	LEFT JOIN risk_score r ON r.pseudo_id = a.pseudo_id AND r.fyear = a.fyear WHERE a.fyear = '2023/24'`);
console.log(`duckdb_load_ms ${(performance.now() - t).toFixed(0)}`);
const cond = (ea1, tier) => `(age >= 65 AND (copd <> 0)::INT + (heart_failure <> 0)::INT + (ckd <> 0)::INT
	+ (diabetes <> 0)::INT >= 2) OR ${ea1} >= 2 OR ${tier} IN ('top0.5', '0.5-2')
	OR (practice IN ('P90001', 'P90004') AND cost_total > 500000 AND NOT dementia <> 0)`;
async function best(sql) {
	let b = Infinity, v;
	for (let k = 0; k < 5; k++) {
		const s = performance.now();
		const r = await con.runAndReadAll(sql);
		b = Math.min(b, performance.now() - s);
		v = r.getRows()[0][0];
	}
	return [b, v];
}
const [fm, fv] = await best(`SELECT count(*) FROM frame WHERE ${cond('ea1', 'tier')}`);
const [jm, jv] = await best(`SELECT count(*) FROM person_year a
	LEFT JOIN person_year b ON b.pseudo_id = a.pseudo_id AND b.fyear = '2022/23'
	LEFT JOIN risk_score r ON r.pseudo_id = a.pseudo_id AND r.fyear = a.fyear
	WHERE a.fyear = '2023/24' AND (${cond('b.emergency_admissions', 'r.tier').replace(/\b(age|copd|heart_failure|ckd|diabetes|practice|cost_total|dementia)\b/g, 'a.$1')})`);
console.log(`duckdb_frame_ms ${fm.toFixed(1)}`);
console.log(`duckdb_join_ms ${jm.toFixed(1)}`);
console.log(`duckdb_selected ${fv}`);
if (String(jv) !== String(fv)) console.log(`duckdb_join_selected ${jv} (differs)`);
