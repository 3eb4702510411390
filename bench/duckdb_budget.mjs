// Benchmark peer for bench/budget.sh: DuckDB tags the same activity rows as
// `yoc tag`: every row of the pseudonymised feeds (PSEUDO_ID and activity
// date; a hospital episode by its admission date) joined with the cohort's
// register rows (inside a membership when join_date <= date <= leave_date),
// and inside the budget by its setting as data/service_map.csv decides
// (gp and social care outside), counted by tag. CSV reading is timed apart
// (duckdb_load_s); the join and count is timed alone (duckdb_join_s,
// fastest of 3, and its CPU time over all threads, duckdb_join_cpu_s).
// Usage: node bench/duckdb_budget.mjs FEEDS REGISTER.csv
import { DuckDBInstance } from '@duckdb/node-api';

const [feeds, register] = process.argv.slice(2);
const lit = (s) => "'" + s.replaceAll("'", "''") + "'";
const csv = (kind) => `read_csv(${lit(feeds + '/' + kind + '/*.csv')}, header = true, all_varchar = true,
	union_by_name = true, ignore_errors = true, delim = ',', quote = '"', escape = '"')`;
const kinds = {
	apc: 'coalesce(TRY_CAST(ADMIDATE AS DATE), TRY_CAST(EPISTART AS DATE))',
	op: 'TRY_CAST(APPTDATE AS DATE)', ae: 'TRY_CAST(ARRIVALDATE AS DATE)',
	community: 'TRY_CAST(CONTACT_DATE AS DATE)', mh: 'TRY_CAST(CONTACT_DATE AS DATE)',
	gp_appt: 'TRY_CAST(APPT_DATE AS DATE)', social_care: 'TRY_CAST(START_DATE AS DATE)',
	ambulance: 'TRY_CAST(INCIDENT_DATE AS DATE)',
};
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
let t = performance.now();
await con.run(`CREATE TABLE act AS ` + Object.entries(kinds).map(([k, d]) =>
	`SELECT PSEUDO_ID pid, '${k}' kind, ${d} d FROM ${csv(k)} WHERE PSEUDO_ID <> ''`).join(' UNION ALL '));
await con.run(`CREATE TABLE reg AS SELECT pseudo_id pid, CAST(join_date AS DATE) j,
	coalesce(TRY_CAST(leave_date AS DATE), DATE '9999-12-31') l FROM read_csv(${lit(register)},
	header = true, all_varchar = true)`);
const n = (await con.runAndReadAll('SELECT count(*) FROM act')).getRows()[0][0];
console.log(`duckdb_load_s ${((performance.now() - t) / 1000).toFixed(2)} (${n} activity rows read from CSV)`);
const q = `SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM reg WHERE reg.pid = act.pid) THEN 'not_member'
	WHEN m.pid IS NULL THEN 'outside_membership' WHEN act.kind IN ('gp_appt', 'social_care') THEN 'outside_map'
	ELSE 'capitated' END tag, count(*) n
	FROM act LEFT JOIN reg m ON m.pid = act.pid AND act.d BETWEEN m.j AND m.l GROUP BY 1 ORDER BY 1`;
let best = Infinity, cpu = 0, rows;
for (let k = 0; k < 3; k++) {
	const s = performance.now(), c = process.cpuUsage();
	rows = (await con.runAndReadAll(q)).getRows();
	const t = performance.now() - s, u = process.cpuUsage(c);
	if (t < best) {
		best = t;
		cpu = (u.user + u.system) / 1e6; /* every thread of the process */
	}
}
for (const [tag, c] of rows)
	console.log(`duckdb: ${tag} ${c}`);
console.log(`duckdb_join_s ${(best / 1000).toFixed(2)}`);
console.log(`duckdb_join_cpu_s ${cpu.toFixed(2)}`);
