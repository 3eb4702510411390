// Benchmark peer for bench/link.sh: a straightforward linkage in DuckDB SQL
// over the same register and rows: the same blocking rules as yoc link
// (names exact where yoc uses its sound-alike key, DuckDB having none),
// the same comparison levels (jaro_winkler_similarity for names), the same
// m and u (read from yoc's model.json, so both score with one model), term
// frequencies of names from the register, and the best candidate per row.
// Prints load time (not compared), the pairs scored, scoring time and pairs
// per second, and the rows linked at the same threshold.
// Usage: node bench/duckdb_link.mjs DIR MODEL_JSON  (DIR: register.csv, in/ae/RA1_2024-01.csv)
import { DuckDBInstance } from '@duckdb/node-api';
import { readFileSync } from 'node:fs';

const [dir, modelPath] = process.argv.slice(2);
const model = JSON.parse(readFileSync(modelPath, 'utf8'));
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
let t = performance.now();
const norm = (c) => `regexp_replace(upper(coalesce(${c}, '')), '[^A-Z0-9]', '', 'g')`;
const prep = (src) => `SELECT row_number() OVER () AS rid, NEWNHSNO AS nhs,
	TRY_CAST(DOB AS DATE) AS dob, TRY_CAST(SEX AS INTEGER) AS sex,
	${norm('GIVEN_NAME')} AS g, ${norm('FAMILY_NAME')} AS f, ${norm('POSTCODE')} AS pc
	FROM read_csv('${src}', header = true, all_varchar = true)`;
await con.run(`CREATE TABLE reg AS ${prep(dir + '/register.csv')}`);
await con.run(`CREATE TABLE q AS ${prep(dir + '/in/ae/RA1_2024-01.csv')}`);
for (const T of ['reg', 'q'])
	await con.run(`ALTER TABLE ${T} ADD COLUMN y INTEGER; ALTER TABLE ${T} ADD COLUMN ym INTEGER;
		ALTER TABLE ${T} ADD COLUMN md INTEGER; ALTER TABLE ${T} ADD COLUMN sector VARCHAR;
		UPDATE ${T} SET y = year(dob), ym = year(dob) * 100 + month(dob), md = month(dob) * 100 + day(dob),
		sector = CASE WHEN length(pc) >= 5 THEN left(pc, length(pc) - 2) END`);
await con.run(`CREATE TABLE tfg AS SELECT g, -log2(count(*) / (SELECT count(*) FROM reg)) AS w FROM reg WHERE g <> '' GROUP BY g`);
await con.run(`CREATE TABLE tff AS SELECT f, -log2(count(*) / (SELECT count(*) FROM reg)) AS w FROM reg WHERE f <> '' GROUP BY f`);
console.log(`duckdb_load_ms ${(performance.now() - t).toFixed(0)}`);

const F = model.fields;
const w = (field, l) => Math.log2(Math.max(F[field].m[l], 1e-3) / F[field].u[l]);
const lm = (field) => Math.log2(Math.max(F[field].m[3], 1e-3));
const prior = Math.log2(model.prior_lambda / (1 - model.prior_lambda));
const nameLv = (a, b, field) => `CASE WHEN ${a} = '' OR ${b} = '' THEN 0.0
	WHEN ${a} = ${b} THEN coalesce(${lm(field)} + tf.w, ${w(field, 3)})
	WHEN jaro_winkler_similarity(${a}, ${b}) >= 0.92 THEN ${w(field, 2)}
	WHEN jaro_winkler_similarity(${a}, ${b}) >= 0.80 THEN ${w(field, 1)}
	ELSE ${w(field, 0)} END`;
const blocks = [
	'q.dob = r.dob', 'q.sector = r.sector AND q.y = r.y', "q.f <> '' AND q.f = r.f AND q.ym = r.ym",
	"q.f <> '' AND q.f = r.f AND q.md = r.md", "q.g <> '' AND q.g = r.g AND q.ym = r.ym AND q.sex = r.sex",
	"q.g <> '' AND q.f <> '' AND q.g = r.g AND q.f = r.f",
	'q.y = r.y AND month(q.dob) = day(r.dob) AND day(q.dob) = month(r.dob)',
];
const pairsSql = blocks.map((b) => `SELECT q.rid AS qid, r.rid AS rrid FROM q JOIN reg r ON ${b}`).join(' UNION ');
const scoreSql = `WITH p AS (${pairsSql}),
	s AS (SELECT p.qid, r.nhs, ${prior}
		+ ${nameLv('q.g', 'r.g', 'given_name').replaceAll('tf.w', 'tg.w')}
		+ ${nameLv('q.f', 'r.f', 'family_name').replaceAll('tf.w', 'tf.w')}
		+ CASE WHEN q.dob IS NULL OR r.dob IS NULL THEN 0.0 WHEN q.dob = r.dob THEN ${w('dob', 3)}
			WHEN q.y = r.y AND month(q.dob) = day(r.dob) AND day(q.dob) = month(r.dob) THEN ${w('dob', 2)}
			WHEN (q.y = r.y)::INT + (month(q.dob) = month(r.dob))::INT + (day(q.dob) = day(r.dob))::INT >= 2 THEN ${w('dob', 1)}
			ELSE ${w('dob', 0)} END
		+ CASE WHEN q.sex IS NULL OR r.sex IS NULL THEN 0.0 WHEN q.sex = r.sex THEN ${w('sex', 1)} ELSE ${w('sex', 0)} END
		+ CASE WHEN length(q.pc) < 5 OR length(r.pc) < 5 THEN 0.0 WHEN q.pc = r.pc THEN ${w('postcode', 3)}
			WHEN left(q.pc, length(q.pc) - 2) = left(r.pc, length(r.pc) - 2) THEN ${w('postcode', 2)}
			WHEN left(q.pc, length(q.pc) - 3) = left(r.pc, length(r.pc) - 3) THEN ${w('postcode', 1)}
			ELSE ${w('postcode', 0)} END AS weight
		FROM p JOIN q ON q.rid = p.qid JOIN reg r ON r.rid = p.rrid
		LEFT JOIN tfg tg ON tg.g = r.g LEFT JOIN tff tf ON tf.f = r.f)
	SELECT count(*) AS pairs, (SELECT count(*) FROM (SELECT qid, max(weight) AS mw FROM s GROUP BY qid)
		WHERE mw >= ${Math.log2(0.99 / 0.01)}) AS linked FROM s`;
t = performance.now();
const res = await con.runAndReadAll(scoreSql);
const ms = performance.now() - t;
const [pairs, linked] = res.getRows()[0].map(Number);
console.log(`duckdb_pairs ${pairs}`);
console.log(`duckdb_score_ms ${ms.toFixed(0)}`);
console.log(`duckdb_pairs_per_s ${(pairs / (ms / 1000)).toFixed(0)}`);
console.log(`duckdb_linked_best_weight_over_upper ${linked}`);
