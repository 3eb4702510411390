// Benchmark helper: DuckDB on one thread reads a CSV and does the work
// bench/csv_scan.c does with yoc: count the rows, the non-empty cells of
// every column (all read as VARCHAR, so every column is parsed) and sum the
// length of the last column. Only the query is timed, by the wall clock and
// by the CPU time of the whole process.
// Usage: node bench/duckdb_csv.mjs FILE
// prints "rows nonempty lastlen wall_seconds cpu_seconds"
import { DuckDBInstance } from '@duckdb/node-api';

const file = process.argv[2];
if (!file) {
	console.error('usage: node duckdb_csv.mjs FILE');
	process.exit(2);
}
const db = await DuckDBInstance.create(':memory:', { threads: '1' });
const con = await db.connect();
await con.run('SET threads = 1');
const lit = "'" + file.replaceAll("'", "''") + "'";
const src = `read_csv(${lit}, header = true, all_varchar = true, delim = ',', quote = '"', escape = '"')`;
const cols = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`))
	.getRows().map(r => String(r[0]));
const q = (c) => '"' + c.replaceAll('"', '""') + '"';
const sql = `SELECT count(*), ${cols.map(c => `count(NULLIF(${q(c)}, ''))`).join(' + ')}, ` +
	`sum(length(${q(cols[cols.length - 1])})) FROM ${src}`;
const t0 = performance.now(), c0 = process.cpuUsage();
const row = (await con.runAndReadAll(sql)).getRows()[0];
const wall = (performance.now() - t0) / 1000, cu = process.cpuUsage(c0);
const cpu = (cu.user + cu.system) / 1e6;
console.log(`${Number(row[0])} ${Number(row[1])} ${Number(row[2] ?? 0)} ${wall.toFixed(6)} ${cpu.toFixed(6)}`);
