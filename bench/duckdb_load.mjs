// Benchmark helper for bench/load.sh: DuckDB loads every CSV under ROOT
// into one table per folder (feed kind), all files of a kind in one
// read_csv (union_by_name, so renamed columns do not stop it; malformed rows
// skipped), into a persistent database DBFILE, then CHECKPOINTs. Columns
// are kept as text, read with the options bench/duckdb_analyse.mjs reads
// the CSVs with, so its analysis can run on these tables (DBFILE argument);
// typing no column is less work than yoc's load, which checks and types
// every value.
// Usage: node bench/duckdb_load.mjs ROOT DBFILE
// prints "wall_seconds rows"
import { DuckDBInstance } from '@duckdb/node-api';
import { readdirSync, statSync } from 'fs';

const [root, dbfile] = process.argv.slice(2);
if (!root || !dbfile) {
	console.error('usage: node duckdb_load.mjs ROOT DBFILE');
	process.exit(2);
}
const walk = d => readdirSync(d).flatMap(f => {
	const p = d + '/' + f;
	return statSync(p).isDirectory() ? walk(p) : p.endsWith('.csv') ? [p] : [];
});
const byKind = {};
for (const f of walk(root)) {
	const k = f.split('/').slice(-2)[0];
	(byKind[k] ||= []).push(f);
}
const db = await DuckDBInstance.create(dbfile);
const c = await db.connect();
const t0 = performance.now();
let rows = 0;
for (const [k, fs] of Object.entries(byKind)) {
	const list = fs.map(f => `'${f.replaceAll("'", "''")}'`).join(',');
	await c.run(`CREATE OR REPLACE TABLE ${k} AS SELECT * FROM read_csv([${list}], ` +
		'header=true, all_varchar=true, union_by_name=true, filename=true, ' +
		`ignore_errors=true, delim=',', quote='"', escape='"')`);
	rows += Number((await c.runAndReadAll(`SELECT count(*) FROM ${k}`)).getRows()[0][0]);
}
await c.run('CHECKPOINT');
console.log(((performance.now() - t0) / 1000).toFixed(3) + ' ' + rows);
