PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
CREATE TABLE person_year(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL, age INTEGER, sex TEXT,
 practice TEXT, imd_decile INTEGER, hypertension INTEGER NOT NULL,
 diabetes INTEGER NOT NULL,
 chd INTEGER NOT NULL,
 heart_failure INTEGER NOT NULL,
 atrial_fibrillation INTEGER NOT NULL,
 stroke_tia INTEGER NOT NULL,
 copd INTEGER NOT NULL,
 asthma INTEGER NOT NULL,
 ckd INTEGER NOT NULL,
 cancer INTEGER NOT NULL,
 dementia INTEGER NOT NULL,
 depression INTEGER NOT NULL,
 smi INTEGER NOT NULL,
 epilepsy INTEGER NOT NULL,
 learning_disability INTEGER NOT NULL,
 osteoporosis INTEGER NOT NULL,
 rheumatoid_arthritis INTEGER NOT NULL,
 pad INTEGER NOT NULL,
 palliative INTEGER NOT NULL,
 hypothyroidism INTEGER NOT NULL,
 anxiety INTEGER NOT NULL,
 chronic_liver_disease INTEGER NOT NULL,
 parkinsons INTEGER NOT NULL,
 multiple_sclerosis INTEGER NOT NULL,
 alcohol_dependence INTEGER NOT NULL, ltc_count INTEGER NOT NULL, mental_ltc_count INTEGER NOT NULL,
 band TEXT NOT NULL, emergency_admissions INTEGER NOT NULL, other_nonelective_admissions INTEGER NOT NULL,
 bed_days INTEGER NOT NULL, emergency_bed_days INTEGER NOT NULL, mh_bed_days INTEGER NOT NULL,
 died INTEGER NOT NULL, cost_total INTEGER NOT NULL, cost_elective INTEGER NOT NULL, cost_nonelective INTEGER NOT NULL, cost_daycase INTEGER NOT NULL, cost_outpatient INTEGER NOT NULL, cost_ae INTEGER NOT NULL, cost_community INTEGER NOT NULL, cost_mh INTEGER NOT NULL, cost_gp INTEGER NOT NULL, cost_social_care INTEGER NOT NULL, cost_ambulance INTEGER NOT NULL, cost_emergency INTEGER NOT NULL,
 cost_other_nonelective INTEGER NOT NULL, cost_apc_provider INTEGER NOT NULL);
CREATE TABLE analyse_run(key TEXT PRIMARY KEY, value TEXT);
INSERT INTO analyse_run VALUES('bench', 'serve');
CREATE TABLE risk_score(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL, probability REAL NOT NULL,
 rank INTEGER NOT NULL, percentile REAL NOT NULL, tier TEXT NOT NULL, top3 TEXT NOT NULL, model_id TEXT NOT NULL);
CREATE TEMP TABLE base AS WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < @N@ - 1)
 SELECT i, printf('%064x', (i * 2654435761) % 281474976710656) id, abs(random()) % 1000000 r FROM n;
INSERT INTO person_year SELECT id, '2023/24', r % 100, CASE r % 2 WHEN 0 THEN '1' ELSE '2' END,
 CASE WHEN r % 53 = 0 THEN NULL ELSE printf('P9%04d', r % 375) END, 1 + (r / 3) % 10,
 (r / 7) % 9 = 0, (r / 10) % 10 = 0, (r / 13) % 11 = 0, (r / 16) % 12 = 0, (r / 19) % 13 = 0, (r / 22) % 14 = 0, (r / 25) % 15 = 0, (r / 28) % 16 = 0, (r / 31) % 17 = 0, (r / 34) % 18 = 0, (r / 37) % 19 = 0, (r / 40) % 20 = 0, (r / 43) % 21 = 0, (r / 46) % 22 = 0, (r / 49) % 23 = 0, (r / 52) % 24 = 0, (r / 55) % 25 = 0, (r / 58) % 26 = 0, (r / 61) % 27 = 0, (r / 64) % 28 = 0, (r / 67) % 29 = 0, (r / 70) % 30 = 0, (r / 73) % 31 = 0, (r / 76) % 32 = 0, (r / 79) % 33 = 0, r % 6, 0, substr('ABCDE', 1 + r % 5, 1),
 CASE WHEN (r / 23) % 9 = 0 THEN (r / 29) % 4 ELSE 0 END, (r / 31) % 2, (r / 37) % 12, (r / 41) % 6, 0, (r / 43) % 100 = 0,
 0, (r * 3) % 40000, (r * 4) % 41000, (r * 5) % 42000, (r * 6) % 43000, (r * 7) % 44000, (r * 8) % 45000, (r * 9) % 46000, (r * 10) % 47000, (r * 11) % 48000, (r * 12) % 49000, 0, 0, 0
 FROM base ORDER BY id;
UPDATE person_year SET cost_total = cost_elective + cost_nonelective + cost_daycase + cost_outpatient + cost_ae + cost_community + cost_mh + cost_gp + cost_social_care + cost_ambulance;
INSERT INTO risk_score SELECT id, '2023/24', (r % 1000) / 1000.0, 0, (r % 10000) / 100.0,
 CASE WHEN r % 1000 < 5 THEN 'top0.5' WHEN r % 1000 < 20 THEN '0.5-2' WHEN r % 1000 < 50 THEN '2-5'
 ELSE 'rest' END, '', 'bench' FROM base ORDER BY id;
