import { DuckDBInstance } from '@duckdb/node-api';
import { readdirSync, statSync } from 'fs';
const [root, dbfile] = process.argv.slice(2);
const walk = d => readdirSync(d).flatMap(f => { const p = d + '/' + f; return statSync(p).isDirectory() ? walk(p) : p.endsWith('.csv') ? [p] : []; });
const byKind = {};
for (const f of walk(root)) { const k = f.split('/').slice(-2)[0]; (byKind[k] ||= []).push(f); }
const db = await DuckDBInstance.create(dbfile);
const c = await db.connect();
const t0 = performance.now();
let rows = 0;
for (const [k, fs] of Object.entries(byKind)) {
  const list = fs.map(f => `'${f}'`).join(',');
  await c.run(`CREATE OR REPLACE TABLE ${k} AS SELECT * FROM read_csv([${list}], union_by_name=true, ignore_errors=true, filename=true)`);
  rows += Number((await c.runAndReadAll(`SELECT count(*) FROM ${k}`)).getRows()[0][0]);
}
await c.run('CHECKPOINT');
console.log(((performance.now() - t0) / 1000).toFixed(3) + ' ' + rows);
