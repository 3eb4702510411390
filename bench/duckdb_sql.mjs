// Benchmark peer for bench/sql.sh: DuckDB runs the benchmark's queries on the
// feeds' CSVs, first over tables read from them (the read timed apart), then
// reading the CSVs inside each query. Columns are read as text
// (all_varchar; files of one kind differ in their columns) and cast in the
// queries. Fastest of 3 each; the rows of each answer and the total of its
// counts (second column), as bench/sql.sh prints them for yoc.
// Usage: node bench/duckdb_sql.mjs FEEDS PSEUDO_ID
import { DuckDBInstance } from '@duckdb/node-api';

const [feeds, pid] = process.argv.slice(2);
const kinds = ['apc', 'op', 'ae', 'community', 'mh', 'gp_appt', 'social_care', 'ambulance'];
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
const src = (k) => `read_csv('${feeds}/${k}/*.csv', header = true, union_by_name = true, all_varchar = true)`;
const queries = (t) => ({
	by_month: `SELECT substr(EPISTART, 1, 7) AS month, count(*) AS episodes,
		sum(date_diff('day', TRY_CAST(EPISTART AS DATE), TRY_CAST(EPIEND AS DATE))) AS days
		FROM ${t('apc')} GROUP BY 1 ORDER BY 1`,
	gp_month: `SELECT substr(APPT_DATE, 1, 7) AS month, count(*) AS appointments,
		sum(TRY_CAST(DURATION_MIN AS BIGINT)) AS minutes FROM ${t('gp_appt')} GROUP BY 1 ORDER BY 1`,
	person: `SELECT EPISTART, SUSHRG FROM ${t('apc')} WHERE PSEUDO_ID = '${pid}' ORDER BY EPISTART`,
	person_all: kinds.map((k) => `SELECT '${k}' AS kind, count(*) AS n FROM ${t(k)} WHERE PSEUDO_ID = '${pid}'`)
		.join(' UNION ALL '),
});
async function best(name, sql) {
	let b = Infinity, rows;
	for (let i = 0; i < 3; i++) {
		const s = performance.now();
		const r = await con.runAndReadAll(sql);
		b = Math.min(b, performance.now() - s);
		rows = r.getRows();
	}
	const total = name === 'person' ? '-' : rows.reduce((s, r) => s + Number(r[1] ?? 0), 0);
	return [b, rows.length, total];
}
let t = performance.now();
for (const k of kinds) await con.run(`CREATE TABLE ${k} AS SELECT * FROM ${src(k)}`);
console.log(`duckdb read the CSVs of ${kinds.length} kinds into tables: ${(performance.now() - t).toFixed(0)} ms`);
for (const [name, sql] of Object.entries(queries((k) => k))) {
	const [ms, n, total] = await best(name, sql);
	console.log(`duckdb ${name.padEnd(10)} ${ms.toFixed(0).padStart(6)} ms over tables     ${n} rows, total ${total}`);
}
for (const [name, sql] of Object.entries(queries(src))) {
	const [ms, n, total] = await best(name, sql);
	console.log(`duckdb ${name.padEnd(10)} ${ms.toFixed(0).padStart(6)} ms over the CSVs   ${n} rows, total ${total}`);
}
