// Benchmark peer for bench/analyse.sh: DuckDB computes what `yoc analyse` +
// `yoc report` compute, from the same pseudonymised CSV feeds: the
// person-year table (registered population per financial year, practice,
// LTCs from GP register flags and APC ICD-10 codes in a 3-year lookback,
// emergency admissions, bed days, cost in ten settings priced by the NCC
// schedule with department-average fallback, hospital stays per spell with
// long-stay payments beyond the HRG trim points, and the unit-cost table), then
// the report's main aggregates for the latest year (currency bands with
// median and 5th/95th percentiles, Figure 5 by LTC count and setting, the
// population by age band and sex). The same rules as docs/analysis.md and
// docs/costing.md, written in SQL. All work is timed, CSV reading included.
// With DBFILE (a database bench/duckdb_load.mjs made from the same feeds,
// one text table per kind read with the same options), the feeds come from
// its tables instead of the CSVs: DuckDB's analyse + report after its load.
// Usage: node bench/duckdb_analyse.mjs FEEDS DATA [THREADS [DBFILE]]
// prints "key value" lines: wall seconds, person-years, total cost (pence).
import { DuckDBInstance } from '@duckdb/node-api';

const [feeds, data, threads = '2', dbfile] = process.argv.slice(2);
if (!feeds || !data) {
	console.error('usage: node duckdb_analyse.mjs FEEDS DATA [THREADS [DBFILE]]');
	process.exit(2);
}
const lit = (s) => "'" + s.replaceAll("'", "''") + "'";
const csv = (kind) => dbfile ? `src.${kind}` :
	`read_csv(${lit(feeds + '/' + kind + '/*.csv')}, header = true, all_varchar = true,
	union_by_name = true, filename = true, ignore_errors = true, delim = ',', quote = '"', escape = '"')`;
const fy = (d) => `(CASE WHEN month(${d}) >= 4 THEN year(${d}) ELSE year(${d}) - 1 END)`;
const dt = (c) => `TRY_CAST(${c} AS DATE)`;

const t0 = performance.now();
const db = await DuckDBInstance.create(':memory:', { threads });
const con = await db.connect();
if (dbfile)
	await con.run(`ATTACH ${lit(dbfile)} AS src (READ_ONLY)`);
const steps = [];
async function run(name, sql) {
	const t = performance.now();
	await con.run(sql);
	steps.push(`${name} ${((performance.now() - t) / 1000).toFixed(2)}`);
}

// reference tables
await run('tables', `
CREATE TABLE ncc AS SELECT trim("Service Code") svc, trim("Dept or Currency Code") code,
	CAST(round(CAST("Unit cost" AS DECIMAL(18,4)) * 100) AS BIGINT) pence,
	TRY_CAST("Activity" AS DECIMAL(18,0)) act, TRY_CAST("Cost" AS DECIMAL(24,6)) cst
	FROM read_csv(${lit(data + '/ncc_2023_24.csv')}, header = true, all_varchar = true);
CREATE TABLE ncc_avg AS SELECT svc, CAST(round(sum(cst) * 100 / sum(act)) AS BIGINT) pence
	FROM ncc WHERE act > 0 GROUP BY svc;
CREATE TABLE trims AS SELECT trim(hrg) hrg, admission, CAST(trim_days AS INTEGER) tdays,
	CAST(round(CAST(excess_bed_day AS DECIMAL(18,4)) * 100) AS BIGINT) pence
	FROM read_csv(${lit(data + '/apc_trim_points.csv')}, header = true, all_varchar = true);
CREATE TABLE units AS SELECT code, unit, CAST(round(CAST(unit_cost AS DECIMAL(18,4)) * 100) AS BIGINT) pence
	FROM read_csv(${lit(data + '/unit_costs.csv')}, header = true, all_varchar = true);
CREATE TABLE codes AS SELECT condition, kind, source, code
	FROM read_csv(${lit(data + '/ltc_codelist.csv')}, header = true, all_varchar = true);
`);

// registered population: one row per person per year of a register snapshot
await run('register', `
CREATE TABLE reg AS SELECT *, CAST(regexp_extract(filename, '_([0-9]{4})-[0-9]{2}\\.csv$', 1) AS INTEGER) fy
	FROM ${csv('gp_register')} WHERE PSEUDO_ID <> '';
CREATE TABLE pop AS SELECT PSEUDO_ID pid, fy, arg_min(GPPRAC, ${dt('REG_START')}) practice,
	any_value(SEX) sex, any_value(MYDOB) mydob, any_value(IMD_DECILE) imd
	FROM reg WHERE ${dt('REG_START')} <= make_date(fy + 1, 3, 31)
	AND coalesce(${dt('REG_END')}, make_date(fy + 1, 3, 31)) >= make_date(fy, 4, 1)
	GROUP BY ALL;
`);
const flags = (await con.runAndReadAll(`SELECT DISTINCT code FROM codes WHERE source = 'register'`))
	.getRows().map(r => String(r[0]));
const regcols = (await con.runAndReadAll(`DESCRIBE reg`)).getRows().map(r => String(r[0]));
const have = flags.filter(f => regcols.includes(f));
await run('ltc', `
CREATE TABLE ltc_reg AS SELECT pid, c.condition, min(d) d FROM (
	UNPIVOT (SELECT PSEUDO_ID pid, ${have.map(f => `${dt('"' + f + '"')} "${f}"`).join(', ')} FROM reg)
	ON ${have.map(f => `"${f}"`).join(', ')} INTO NAME flag VALUE d)
	JOIN codes c ON c.source = 'register' AND c.code = flag WHERE d IS NOT NULL GROUP BY ALL;
CREATE TABLE apc AS SELECT * FROM ${csv('apc')} WHERE PSEUDO_ID <> '';
CREATE TABLE diag AS SELECT DISTINCT pid, efy, upper(replace(replace(dx, '.', ''), ' ', '')) dx FROM (
	UNPIVOT (SELECT PSEUDO_ID pid, ${fy(dt('EPISTART'))} efy, COLUMNS('^DIAG') FROM apc)
	ON COLUMNS('^DIAG') INTO NAME col VALUE dx) WHERE dx <> '' AND dx <> '-';
CREATE TABLE ltc_icd AS SELECT DISTINCT pid, efy, c.condition FROM diag
	JOIN codes c ON c.source = 'icd10' AND starts_with(dx, c.code);
CREATE TABLE ltc AS SELECT p.pid, p.fy, l.condition FROM pop p
	JOIN ltc_reg l ON l.pid = p.pid AND l.d <= make_date(p.fy + 1, 3, 31)
	UNION
	SELECT p.pid, p.fy, l.condition FROM pop p
	JOIN ltc_icd l ON l.pid = p.pid AND l.efy BETWEEN p.fy - 2 AND p.fy;
CREATE TABLE ltc_n AS SELECT l.pid, l.fy, count(*) n,
	count(*) FILTER (WHERE c.kind = 'mental') nm
	FROM ltc l JOIN (SELECT DISTINCT condition, kind FROM codes) c USING (condition) GROUP BY ALL;
`);

// hospital spells (docs/costing.md): grouped by SUSSPELLID, else provider and
// ADMIDATE; kind and dates from the first and last episodes; the dominant
// (highest-priced) HRG under the spell's POD, else the department average;
// plus the long-stay payment beyond the HRG's (chapter's, any HRG's) trim point
const EMERG = "('21','22','23','24','25','28','2A','2B','2C','2D')";
await run('spells', `
CREATE TABLE ep AS SELECT PSEUDO_ID pid,
	CASE WHEN trim(coalesce(SUSSPELLID, '')) <> '' THEN 'S' || trim(SUSSPELLID)
	  WHEN ${dt('ADMIDATE')} IS NOT NULL THEN 'A' || trim(coalesce(PROCODE, '')) || '|' || ${dt('ADMIDATE')}
	  ELSE 'E' || row_number() OVER () END sid,
	CASE WHEN TRY_CAST(EPIORDER AS INTEGER) > 0 THEN TRY_CAST(EPIORDER AS INTEGER) ELSE 1000000 END o,
	${dt('EPISTART')} s, ${dt('EPIEND')} e, ${dt('ADMIDATE')} a, ${dt('DISDATE')} dd,
	trim(ADMIMETH) m, trim(CLASSPAT) c, trim(SUSHRG) h FROM apc WHERE ${dt('EPISTART')} IS NOT NULL;
CREATE TABLE sp0 AS SELECT pid, sid, arg_min(m, k) m, arg_min(c, k) c, arg_min(h, k) h1, min(o) o1,
	coalesce(arg_min(a, k), arg_min(s, k)) adm, arg_max(dd, k) dis, max(greatest(s, coalesce(e, s))) lastd
	FROM (SELECT *, o * 1000000 + (s - DATE '1900-01-01') k FROM ep) GROUP BY ALL;
CREATE TABLE sp1 AS SELECT *, CASE WHEN m IN ${EMERG} THEN 'emergency' WHEN c = '2' THEN 'daycase'
	WHEN m IN ('11', '12', '13') THEN 'elective' ELSE 'other' END kind,
	greatest(coalesce(dis, greatest(lastd, adm)) - adm, 0) los FROM sp0;
CREATE TABLE sp2 AS SELECT *, CASE kind WHEN 'daycase' THEN 'Daycase' WHEN 'elective' THEN 'Elective Inpatients'
	ELSE CASE WHEN los <= 1 THEN 'Non-Elective Inpatient - Short Stay' ELSE 'Non-Elective Inpatient - Long Stay' END
	END pod0, CASE kind WHEN 'elective' THEN 'elective' ELSE 'nonelective' END cls FROM sp1;
CREATE TABLE dom AS SELECT sp2.pid, sp2.sid, max(n.pence) p, arg_max(ep.h, n.pence * 10000000 - ep.o) h
	FROM sp2 JOIN ep ON ep.pid = sp2.pid AND ep.sid = sp2.sid JOIN ncc n ON n.svc = sp2.pod0 AND n.code = ep.h
	GROUP BY ALL;
CREATE TABLE spells AS SELECT s.pid, adm, kind, o1, los,
	coalesce(dom.p, v.pence) + CASE WHEN kind <> 'daycase' THEN greatest(los - coalesce(t1.tdays, t2.tdays, t3.tdays), 0)
	  * coalesce(t1.pence, t2.pence, t3.pence) ELSE 0 END pence
	FROM (SELECT sp2.*, coalesce(dom.h, sp2.h1) hh FROM sp2 LEFT JOIN dom USING (pid, sid)) s
	LEFT JOIN dom ON dom.pid = s.pid AND dom.sid = s.sid LEFT JOIN ncc_avg v ON v.svc = s.pod0
	LEFT JOIN trims t1 ON t1.hrg = s.hh AND t1.admission = s.cls
	LEFT JOIN trims t2 ON length(s.hh) > 2 AND t2.hrg = substr(s.hh, 1, 2) AND t2.admission = s.cls
	LEFT JOIN trims t3 ON t3.hrg = '*' AND t3.admission = s.cls;
`);
// activity priced per row (hospital stays per spell): (pid, date, setting, pence)
await run('cost', `
CREATE TABLE act AS
SELECT pid, adm d, CASE kind WHEN 'daycase' THEN 'daycase' WHEN 'elective' THEN 'elective'
	ELSE 'nonelective' END setting, pence, 0 beds, 0 emerg FROM spells
UNION ALL
SELECT pid, d, 'outpatient', coalesce(n.pence, v.pence), 0, 0 FROM (SELECT PSEUDO_ID pid, ${dt('APPTDATE')} d, SUSHRG hrg,
	CASE WHEN SUSHRG LIKE 'WF%' THEN 'Consultant Led' ELSE 'Outpatient Procedures' END pod
	FROM ${csv('op')} WHERE PSEUDO_ID <> '' AND ATTENDED IN ('5', '6')) o
	LEFT JOIN ncc n ON n.svc = o.pod AND n.code = trim(o.hrg) LEFT JOIN ncc_avg v ON v.svc = o.pod
UNION ALL
SELECT PSEUDO_ID, ${dt('ARRIVALDATE')}, 'ae', coalesce(n.pence, v.pence), 0, 0 FROM ${csv('ae')} e
	LEFT JOIN ncc n ON n.svc = 'Emergency Care' AND n.code = trim(e.SUSHRG)
	LEFT JOIN ncc_avg v ON v.svc = 'Emergency Care' WHERE PSEUDO_ID <> ''
UNION ALL
SELECT PSEUDO_ID, ${dt('CONTACT_DATE')}, 'community', coalesce(n.pence, v.pence), 0, 0
	FROM ${csv('community')} c
	LEFT JOIN ncc n ON n.svc = 'Community Health Service' AND n.code = trim(c.CURRENCY_CODE)
	LEFT JOIN ncc_avg v ON v.svc = 'Community Health Service'
	WHERE PSEUDO_ID <> '' AND ATTENDED IN ('5', '6')
UNION ALL
SELECT PSEUDO_ID, ${dt('CONTACT_DATE')}, 'mh',
	CASE WHEN CURRENCY_CODE = 'MHPS' THEN n.pence * coalesce(TRY_CAST(BED_DAYS AS BIGINT), 0)
	WHEN ATTENDED IN ('5', '6') THEN n.pence END, coalesce(TRY_CAST(BED_DAYS AS BIGINT), 0), 0
	FROM ${csv('mh')} m LEFT JOIN ncc n ON n.code = trim(m.CURRENCY_CODE) AND n.svc =
	CASE m.CURRENCY_CODE WHEN 'MHCC' THEN 'Mental Health Care Contact' WHEN 'IAPT'
	THEN 'NHS Talking Therapy Care Contact' WHEN 'MHPS' THEN 'Mental Health Provider Spell' END
	WHERE PSEUDO_ID <> ''
UNION ALL
SELECT PSEUDO_ID, ${dt('APPT_DATE')}, 'gp', u.pence * TRY_CAST(DURATION_MIN AS BIGINT), 0, 0
	FROM ${csv('gp_appt')} g JOIN units u ON u.code = g.HCP_TYPE AND u.unit = 'minute'
	WHERE PSEUDO_ID <> '' AND APPT_STATUS = 'Attended'
UNION ALL
SELECT PSEUDO_ID, ${dt('START_DATE')}, 'social_care',
	CAST(round(TRY_CAST(COST AS DECIMAL(18,2)) * 100) AS BIGINT), 0, 0
	FROM ${csv('social_care')} WHERE PSEUDO_ID <> ''
UNION ALL
SELECT PSEUDO_ID, ${dt('INCIDENT_DATE')}, 'ambulance', coalesce(n.pence, v.pence), 0, 0
	FROM ${csv('ambulance')} a
	LEFT JOIN ncc n ON n.svc = 'Ambulance' AND n.code = trim(a.CURRENCY_CODE)
	LEFT JOIN ncc_avg v ON v.svc = 'Ambulance' WHERE PSEUDO_ID <> '';
`);
await run('person_year', `
CREATE TABLE emerg AS SELECT pid, ${fy('adm')} fy, count(*) n FROM spells
	WHERE kind = 'emergency' AND o1 = 1 GROUP BY ALL;
CREATE TABLE beds AS SELECT ep.pid, p.fy, sum(greatest(least(ep.e, make_date(p.fy + 1, 4, 1))
	- greatest(ep.s, make_date(p.fy, 4, 1)), 0)) n
	FROM ep JOIN pop p ON p.pid = ep.pid WHERE ep.e IS NOT NULL GROUP BY ALL;
CREATE TABLE pycost AS SELECT pid, ${fy('d')} fy,
	${['elective', 'nonelective', 'daycase', 'outpatient', 'ae', 'community', 'mh', 'gp',
	   'social_care', 'ambulance'].map(s => `coalesce(sum(pence) FILTER (WHERE setting = '${s}'), 0) cost_${s}`).join(', ')},
	sum(beds) FILTER (WHERE setting = 'mh') mh_beds
	FROM act WHERE pence IS NOT NULL GROUP BY ALL;
CREATE TABLE person_year AS SELECT p.pid pseudo_id, p.fy, p.practice, p.sex, p.imd,
	greatest(p.fy - TRY_CAST(substr(p.mydob, 3, 4) AS INTEGER)
	  - CASE WHEN TRY_CAST(substr(p.mydob, 1, 2) AS INTEGER) >= 4 THEN 1 ELSE 0 END, 0) age,
	coalesce(l.n, 0) ltc_count, coalesce(l.nm, 0) mental_ltc_count,
	CASE WHEN coalesce(l.n, 0) <= 1 THEN 'A' WHEN l.n = 2 THEN 'B' WHEN l.n <= 5 THEN 'C'
	  WHEN l.n <= 8 THEN 'D' ELSE 'E' END band,
	coalesce(e.n, 0) emergency_admissions, coalesce(b.n, 0) bed_days, coalesce(c.mh_beds, 0) mh_bed_days,
	coalesce(c.cost_elective, 0) + coalesce(c.cost_nonelective, 0) + coalesce(c.cost_daycase, 0)
	  + coalesce(c.cost_outpatient, 0) + coalesce(c.cost_ae, 0) + coalesce(c.cost_community, 0)
	  + coalesce(c.cost_mh, 0) + coalesce(c.cost_gp, 0) + coalesce(c.cost_social_care, 0)
	  + coalesce(c.cost_ambulance, 0) cost_total,
	${['elective', 'nonelective', 'daycase', 'outpatient', 'ae', 'community', 'mh', 'gp',
	   'social_care', 'ambulance'].map(s => `coalesce(c.cost_${s}, 0) cost_${s}`).join(', ')}
	FROM pop p LEFT JOIN ltc_n l ON l.pid = p.pid AND l.fy = p.fy
	LEFT JOIN emerg e ON e.pid = p.pid AND e.fy = p.fy
	LEFT JOIN beds b ON b.pid = p.pid AND b.fy = p.fy
	LEFT JOIN pycost c ON c.pid = p.pid AND c.fy = p.fy;
`);
// the report's main tables for the latest year
await run('report', `
CREATE TABLE r_bands AS SELECT band, count(*) n, avg(cost_total) mean, quantile_disc(cost_total, 0.5) median,
	quantile_disc(cost_total, 0.05) p5, quantile_disc(cost_total, 0.95) p95, sum(cost_total) total
	FROM person_year WHERE fy = (SELECT max(fy) FROM person_year) GROUP BY band;
CREATE TABLE r_fig5 AS SELECT least(ltc_count, 9) g, count(*) n, sum(cost_total),
	${['elective', 'nonelective', 'daycase', 'outpatient', 'ae', 'community', 'mh', 'gp',
	   'social_care', 'ambulance'].map(s => `sum(cost_${s})`).join(', ')}
	FROM person_year WHERE fy = (SELECT max(fy) FROM person_year) GROUP BY g;
CREATE TABLE r_pop AS SELECT least(age // 5, 18) ab, sex, count(*) n, count(*) FILTER (WHERE ltc_count >= 2) mm
	FROM person_year WHERE fy = (SELECT max(fy) FROM person_year) GROUP BY ALL;
CREATE TABLE r_prac AS SELECT practice, count(*) n, avg(cost_total), sum(emergency_admissions)
	FROM person_year WHERE fy = (SELECT max(fy) FROM person_year) GROUP BY ALL;
`);
const wall = (performance.now() - t0) / 1000;
const res = (await con.runAndReadAll(`SELECT count(*), sum(cost_total), sum(ltc_count),
	sum(emergency_admissions) FROM person_year`)).getRows()[0];
console.log(`wall ${wall.toFixed(2)}`);
console.log(`steps ${steps.join(', ')}`);
console.log(`person_years ${Number(res[0])}`);
console.log(`cost_total ${res[1]}`);
console.log(`ltc_sum ${res[2]}`);
console.log(`emergency_sum ${res[3]}`);
