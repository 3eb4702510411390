/*
** Writing the analysis into DIR/yoc.db: person_year (in (fyear, pseudo_id)
** order, appended to a plain rowid table: the cheapest insert), analyse_run,
** unpriced_activity, costing_summary and provider_cost, replacing earlier
** results, all in one transaction through prepared statements. Reads the
** accumulators of analyse.c; changes nothing but these tables.
*/
#include <stdio.h>
#include <string.h>

#include "analyse/analyse_int.h"
#include "yoc/date.h"

static int sql_fail(sqlite3 *db, struct yoc_error *e, const char *what)
{
	return yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s: %s", what, sqlite3_errmsg(db));
}

static int exec(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		int rc = yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : "sqlite error");
		sqlite3_free(msg);
		return rc;
	}
	return YOC_OK;
}

static const char *const fixed_cols[] = {
	"pseudo_id", "fyear", "age", "sex", "practice", "imd_decile", "ltc_count",
	"mental_ltc_count", "band", "emergency_admissions", "other_nonelective_admissions",
	"bed_days", "emergency_bed_days", "mh_bed_days", "died", "cost_total", NULL
};

/* A condition id usable as a column name: [a-z0-9_], not starting with a digit, no clash. */
static int col_ok(const char *id)
{
	if (!id[0] || (id[0] >= '0' && id[0] <= '9') || strncmp(id, "cost_", 5) == 0)
		return 0;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	for (int i = 0; fixed_cols[i]; i++)
		if (strcmp(id, fixed_cols[i]) == 0)
			return 0;
	return 1;
}

static int create_tables(struct an_run *R, sqlite3 *db, struct yoc_error *e)
{
	struct yoc_buf b;
	int rc;
	yoc_buf_init(&b, 1 << 20);
	yoc_buf_puts(&b, "DROP TABLE IF EXISTS person_year;"
			 "DROP TABLE IF EXISTS analyse_run;"
			 "DROP TABLE IF EXISTS unpriced_activity;"
			 "DROP TABLE IF EXISTS costing_summary;"
			 "DROP TABLE IF EXISTS provider_cost;"
			 "DROP TABLE IF EXISTS activity_month;"
			 "DROP TABLE IF EXISTS linkage_gain;"
			 "CREATE TABLE person_year(pseudo_id TEXT NOT NULL, fyear TEXT NOT NULL,"
			 " age INTEGER, sex TEXT, practice TEXT, imd_decile INTEGER");
	for (size_t k = 0; k < yoc_ltc_count(R->ltc); k++)
		yoc_buf_printf(&b, ", \"%s\" INTEGER NOT NULL", yoc_ltc_get(R->ltc, k)->id);
	yoc_buf_puts(&b, ", ltc_count INTEGER NOT NULL, mental_ltc_count INTEGER NOT NULL,"
			 " band TEXT NOT NULL, emergency_admissions INTEGER NOT NULL,"
			 " other_nonelective_admissions INTEGER NOT NULL, bed_days INTEGER NOT NULL,"
			 " emergency_bed_days INTEGER NOT NULL, mh_bed_days INTEGER NOT NULL,"
			 " died INTEGER NOT NULL, cost_total INTEGER NOT NULL");
	for (int s = 0; s < NSET; s++)
		yoc_buf_printf(&b, ", cost_%s INTEGER NOT NULL", an_setting_names[s]);
	/* cost_nonelective split by kind of admission; the NCC per-episode view */
	yoc_buf_puts(&b, ", cost_emergency INTEGER NOT NULL, cost_other_nonelective INTEGER NOT NULL,"
			 " cost_apc_provider INTEGER NOT NULL");
	/* no key index: rows are written once, in (fyear, pseudo_id) order, and a
	 * year is read by a scan that is as fast as an index range here */
	yoc_buf_puts(&b, ");"
			 "CREATE TABLE analyse_run(key TEXT PRIMARY KEY, value TEXT);"
			 "CREATE TABLE unpriced_activity(fyear TEXT, feed TEXT, reason TEXT,"
			 " records INTEGER);"
			 "CREATE TABLE costing_summary(fyear TEXT, feed TEXT, how TEXT,"
			 " records INTEGER, cost INTEGER);"
			 "CREATE TABLE provider_cost(fyear TEXT, provider TEXT, setting TEXT,"
			 " people INTEGER, activity INTEGER, cost INTEGER);"
			 "CREATE TABLE activity_month(fyear TEXT, month TEXT, setting TEXT,"
			 " events INTEGER, cost INTEGER);"
			 "CREATE TABLE linkage_gain(fyear TEXT, feed TEXT, status TEXT,"
			 " records INTEGER, emergency_admissions INTEGER, cost INTEGER);");
	if (!b.data) {
		yoc_buf_free(&b);
		return yoc_error_set(e, YOC_ENOMEM, "yoc.db", 0, 0, "out of memory");
	}
	rc = exec(db, b.data, e);
	yoc_buf_free(&b);
	return rc;
}

/*
** Which practice codes name a practice: the GP register's own check of
** GPPRAC (src/spec: an ODS code, a letter and five digits, not all zero),
** the check load flags bad_code with. A code failing it is kept in the
** dataset but names no organisation: its person-years get practice NULL,
** "practice unknown" (docs/analysis.md). Returns a yoc_malloc'd array of
** R->nprac flags (1 = valid), or NULL when out of memory.
*/
static unsigned char *practice_valid(const struct an_run *R)
{
	const struct yoc_field *f =
		yoc_spec_field(yoc_spec_kind(YOC_KIND_GP_REGISTER), "GPPRAC", 6);
	unsigned char *ok = yoc_malloc(R->nprac + 1);
	for (size_t i = 0; ok && i < R->nprac; i++)
		ok[i] = !f || !f->check || f->check(R->prac[i], strlen(R->prac[i]));
	return ok;
}

/* Rows of person_year per INSERT statement: one statement's work (its
 * start, the seek to the table's end, its halt) shared by ROWS rows, in
 * the same order, so the same rowids and the same table. */
#define ROWS 16

/* "INSERT INTO person_year VALUES(?,...),..." for n rows of ncol values. */
static int prepare_rows(sqlite3 *db, int ncol, int n, sqlite3_stmt **st)
{
	struct yoc_buf b;
	yoc_buf_init(&b, 1 << 16);
	yoc_buf_puts(&b, "INSERT INTO person_year VALUES");
	for (int r = 0; r < n; r++) {
		yoc_buf_puts(&b, r ? ",(?" : "(?");
		for (int i = 1; i < ncol; i++)
			yoc_buf_puts(&b, ",?");
		yoc_buf_puts(&b, ")");
	}
	int rc = !b.data ? YOC_ENOMEM
			 : sqlite3_prepare_v2(db, b.data, -1, st, NULL) == SQLITE_OK ? 0 : YOC_EIO;
	yoc_buf_free(&b);
	return rc;
}

/* Person p's row of year y into parameters i + 1 ... (strings bound as
 * static: each lives until the write ends). Its cost_total into *total. */
static void bind_row(const struct an_run *R, sqlite3_stmt *st, int i, int y, size_t p,
		     const char *fy, const unsigned char *prac_ok, const int64_t *cost,
		     int64_t *total)
{
	size_t ncond = yoc_ltc_count(R->ltc);
	int32_t fs = R->fs[y], fe = R->fs[y + 1];
	const struct py *q = &R->py[p * (size_t)R->ny + (size_t)y];
	const struct yoc_person *pp = &R->persons[p];
	i++;
	sqlite3_bind_text(st, i++, pp->pseudo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, i++, fy, -1, SQLITE_STATIC);
	if (pp->birth_year > 0) {
		/* age on 1 April from month and year of birth: someone born in
		 * April or later in the calendar year has not had the birthday */
		int age = R->fy0 + y - pp->birth_year - (pp->birth_month >= 4 ? 1 : 0);
		sqlite3_bind_int(st, i++, age < 0 ? 0 : age);
	} else {
		sqlite3_bind_null(st, i++);
	}
	if (pp->sex[0])
		sqlite3_bind_text(st, i++, pp->sex, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i++);
	if (prac_ok[q->prac - 1])
		sqlite3_bind_text(st, i++, R->prac[q->prac - 1], -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i++); /* practice unknown */
	if (pp->imd_decile)
		sqlite3_bind_int(st, i++, pp->imd_decile);
	else
		sqlite3_bind_null(st, i++);
	uint64_t m = q->reg_mask | q->icd_mask;
	for (size_t k = 0; k < ncond; k++)
		sqlite3_bind_int(st, i++, (int)((m >> k) & 1));
	int n = __builtin_popcountll(m);
	sqlite3_bind_int(st, i++, n);
	sqlite3_bind_int(st, i++, __builtin_popcountll(m & R->mental_mask));
	sqlite3_bind_text(st, i++, yoc_bands_of(&R->bands, n), -1, SQLITE_STATIC);
	sqlite3_bind_int(st, i++, q->emerg);
	sqlite3_bind_int(st, i++, q->other_ne);
	sqlite3_bind_int(st, i++, q->bed_days);
	sqlite3_bind_int(st, i++, q->emerg_bed_days);
	sqlite3_bind_int(st, i++, q->mh_bed_days);
	sqlite3_bind_int(st, i++, pp->dod > YOC_DATE_HES_INVALID && pp->dod >= fs && pp->dod < fe);
	int64_t t = 0;
	for (int s = 0; s < NSET; s++)
		t += cost[s];
	sqlite3_bind_int64(st, i++, t);
	for (int s = 0; s < NSET; s++)
		sqlite3_bind_int64(st, i++, cost[s]);
	sqlite3_bind_int64(st, i++, cost[PY_EMERG]);
	sqlite3_bind_int64(st, i++, cost[PY_OTHER_NE]);
	sqlite3_bind_int64(st, i++, cost[PY_APC_PROV]);
	*total = t;
}

static int write_person_year(struct an_run *R, sqlite3 *db, struct yoc_error *e)
{
	size_t ncond = yoc_ltc_count(R->ltc);
	unsigned char *prac_ok = practice_valid(R);
	int ncol = 6 + (int)ncond + 10 + NSET + 3;
	char (*fy)[8] = yoc_calloc((size_t)R->ny + 1, sizeof *fy);
	sqlite3_stmt *st = NULL, *tail = NULL;
	int rc = YOC_OK, j = 0;
	/* the rows bound, not yet inserted, and their pence */
	struct { int y; size_t p; int64_t cost[PY_NCOST]; } held[ROWS];
	size_t at = 0; /* cursor into R->pwide */
	if (!prac_ok || !fy) {
		rc = yoc_error_set(e, YOC_ENOMEM, "yoc.db", 0, 0, "out of memory");
		goto cleanup;
	}
	for (int y = 0; y < R->ny; y++)
		yoc_fyear_format(R->fy0 + y, fy[y]);
	if ((rc = prepare_rows(db, ncol, ROWS, &st))) {
		rc = rc == YOC_ENOMEM ? yoc_error_set(e, rc, "yoc.db", 0, 0, "out of memory")
				      : sql_fail(db, e, "person_year");
		goto cleanup;
	}
	uint64_t seen_persons = 0;
	an_wides_sort(&R->pwide);
	for (int y = 0; y < R->ny; y++) {
		for (size_t p = 0; p < R->np; p++) {
			const struct py *q = &R->py[p * (size_t)R->ny + (size_t)y];
			if (!q->prac)
				continue;
			int64_t total;
			an_py_costs(R, y, p, &at, held[j].cost);
			bind_row(R, st, j * ncol, y, p, fy[y], prac_ok, held[j].cost, &total);
			held[j].y = y;
			held[j].p = p;
			if (++j == ROWS) {
				if (sqlite3_step(st) != SQLITE_DONE) {
					rc = sql_fail(db, e, "person_year");
					goto cleanup;
				}
				sqlite3_reset(st);
				j = 0;
			}
			if (!prac_ok[q->prac - 1])
				R->st->practice_unknown++;
			R->st->person_years++;
			R->st->cost_total += total;
		}
	}
	if (j) { /* the last rows, fewer than ROWS: a statement of their own */
		if ((rc = prepare_rows(db, ncol, j, &tail))) {
			rc = rc == YOC_ENOMEM ? yoc_error_set(e, rc, "yoc.db", 0, 0, "out of memory")
					      : sql_fail(db, e, "person_year");
			goto cleanup;
		}
		for (int r = 0; r < j; r++) {
			int64_t total;
			bind_row(R, tail, r * ncol, held[r].y, held[r].p, fy[held[r].y], prac_ok,
				 held[r].cost, &total);
		}
		if (sqlite3_step(tail) != SQLITE_DONE) {
			rc = sql_fail(db, e, "person_year");
			goto cleanup;
		}
	}
	for (size_t p = 0; p < R->np; p++)
		for (int y = 0; y < R->ny; y++)
			if (R->py[p * (size_t)R->ny + (size_t)y].prac) {
				seen_persons++;
				break;
			}
	R->st->persons = seen_persons;
cleanup:
	sqlite3_finalize(st);
	sqlite3_finalize(tail);
	yoc_free(prac_ok);
	yoc_free(fy);
	return rc;
}

static int kv(sqlite3_stmt *st, const char *k, const char *v)
{
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v, -1, SQLITE_TRANSIENT);
	return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

static int write_small(struct an_run *R, sqlite3 *db, struct yoc_error *e)
{
	sqlite3_stmt *run = NULL, *un = NULL, *cs = NULL, *pc = NULL, *am = NULL, *lg = NULL;
	int rc = YOC_OK;
	char buf[256], fy[8];
	if (sqlite3_prepare_v2(db, "INSERT INTO analyse_run VALUES(?,?)", -1, &run, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO unpriced_activity VALUES(?,?,?,?)", -1, &un, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO costing_summary VALUES(?,?,?,?,?)", -1, &cs, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO provider_cost VALUES(?,?,?,?,?,?)", -1, &pc, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO activity_month VALUES(?,?,?,?,?)", -1, &am, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT INTO linkage_gain VALUES(?,?,?,?,?,?)", -1, &lg, NULL)) {
		rc = sql_fail(db, e, "analyse tables");
		goto cleanup;
	}
	int bad = 0;
	const struct yoc_analyse_opts *o = R->o;
	bad |= kv(run, "yoc_version", YOC_VERSION);
	bad |= kv(run, "codelist", o->codelist);
	bad |= kv(run, "codelist_version", yoc_ltc_version(R->ltc));
	snprintf(buf, sizeof buf, "%zu", yoc_ltc_count(R->ltc));
	bad |= kv(run, "conditions", buf);
	snprintf(buf, sizeof buf, "%d", o->lookback_years);
	bad |= kv(run, "lookback_years", buf);
	bad |= kv(run, "bands", yoc_bands_format(&R->bands, buf, sizeof buf));
	snprintf(buf, sizeof buf, "%s/ncc_2023_24.csv", o->tariff_dir);
	bad |= kv(run, "ncc_tariff", buf);
	snprintf(buf, sizeof buf, "%s/unit_costs.csv", o->tariff_dir);
	bad |= kv(run, "unit_costs", buf);
	snprintf(buf, sizeof buf, "%s/apc_trim_points.csv", o->tariff_dir);
	bad |= kv(run, "trim_points", buf);
	bad |= kv(run, "trim_points_version", yoc_tariff_trims_version(R->tariff));
	bad |= kv(run, "apc_costing", "per spell (commissioner price) in the year of admission; "
				      "cost_apc_provider: per episode at NCC prices");
	yoc_fyear_format(R->fy0, fy);
	bad |= kv(run, "first_fyear", fy);
	yoc_fyear_format(R->fy0 + R->ny - 1, fy);
	bad |= kv(run, "last_fyear", fy);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)R->st->person_years);
	bad |= kv(run, "person_years", buf);
	bad |= kv(run, "money", "pence (integer); divide by 100 for pounds");
	for (int y = 0; y < R->ny && !bad; y++) {
		yoc_fyear_format(R->fy0 + y, fy);
		for (int k = 0; k < YOC_KIND_COUNT && !bad; k++) {
			for (int j = 0; j < NWHY && !bad; j++) {
				if (!R->why[y][k][j])
					continue;
				sqlite3_reset(un);
				sqlite3_bind_text(un, 1, fy, -1, SQLITE_STATIC);
				sqlite3_bind_text(un, 2, yoc_spec_kind_name(k), -1, SQLITE_STATIC);
				sqlite3_bind_text(un, 3, an_why_names[j], -1, SQLITE_STATIC);
				sqlite3_bind_int64(un, 4, R->why[y][k][j]);
				bad |= sqlite3_step(un) != SQLITE_DONE;
			}
			for (int j = 0; j < NHOW && !bad; j++) {
				if (!R->how_n[y][k][j])
					continue;
				sqlite3_reset(cs);
				sqlite3_bind_text(cs, 1, fy, -1, SQLITE_STATIC);
				sqlite3_bind_text(cs, 2, yoc_spec_kind_name(k), -1, SQLITE_STATIC);
				sqlite3_bind_text(cs, 3, an_how_names[j], -1, SQLITE_STATIC);
				sqlite3_bind_int64(cs, 4, R->how_n[y][k][j]);
				sqlite3_bind_int64(cs, 5, R->how_cost[y][k][j]);
				bad |= sqlite3_step(cs) != SQLITE_DONE;
			}
			for (int j = 0; j < NLK && !bad; j++) {
				const struct an_link *l = &R->lk[y][k][j];
				if (!l->records)
					continue;
				sqlite3_reset(lg);
				sqlite3_bind_text(lg, 1, fy, -1, SQLITE_STATIC);
				sqlite3_bind_text(lg, 2, yoc_spec_kind_name(k), -1, SQLITE_STATIC);
				sqlite3_bind_text(lg, 3, an_link_names[j], -1, SQLITE_STATIC);
				sqlite3_bind_int64(lg, 4, l->records);
				sqlite3_bind_int64(lg, 5, l->emergency);
				sqlite3_bind_int64(lg, 6, l->cost);
				bad |= sqlite3_step(lg) != SQLITE_DONE;
			}
		}
		for (size_t i = 0; i < R->nprov && !bad; i++)
			for (int s = 0; s < NSET && !bad; s++) {
				const struct pacc *a = &R->pacc[i][y * NSET + s];
				if (!a->activity)
					continue;
				int64_t people = 0;
				for (size_t w = 0; a->people && w < R->np / 64 + 1; w++)
					people += __builtin_popcountll(a->people[w]);
				sqlite3_reset(pc);
				sqlite3_bind_text(pc, 1, fy, -1, SQLITE_STATIC);
				sqlite3_bind_text(pc, 2, R->prov[i], -1, SQLITE_STATIC);
				sqlite3_bind_text(pc, 3, an_setting_names[s], -1, SQLITE_STATIC);
				sqlite3_bind_int64(pc, 4, people);
				sqlite3_bind_int64(pc, 5, a->activity);
				sqlite3_bind_int64(pc, 6, a->cost);
				bad |= sqlite3_step(pc) != SQLITE_DONE;
			}
		/* every month of the year and setting, zeros included: a month
		 * without activity is a point of the series */
		for (int m = 0; m < 12 && !bad; m++)
			for (int s = 0; s < NSET && !bad; s++) {
				int mo = y * 12 + m;
				char ym[24];
				snprintf(ym, sizeof ym, "%04d-%02d", R->fy0 + y + (m >= 9),
					 (m + 3) % 12 + 1);
				sqlite3_reset(am);
				sqlite3_bind_text(am, 1, fy, -1, SQLITE_STATIC);
				sqlite3_bind_text(am, 2, ym, -1, SQLITE_STATIC);
				sqlite3_bind_text(am, 3, an_setting_names[s], -1, SQLITE_STATIC);
				sqlite3_bind_int64(am, 4, R->mon_n[mo][s]);
				sqlite3_bind_int64(am, 5, R->mon_cost[mo][s]);
				bad |= sqlite3_step(am) != SQLITE_DONE;
			}
	}
	if (bad)
		rc = sql_fail(db, e, "analyse tables");
cleanup:
	sqlite3_finalize(run);
	sqlite3_finalize(un);
	sqlite3_finalize(cs);
	sqlite3_finalize(pc);
	sqlite3_finalize(am);
	sqlite3_finalize(lg);
	return rc;
}

int an_write(struct an_run *R, struct yoc_error *e)
{
	sqlite3 *db = yoc_store_db(R->s);
	for (size_t k = 0; k < yoc_ltc_count(R->ltc); k++)
		if (!col_ok(yoc_ltc_get(R->ltc, k)->id))
			return yoc_error_set(e, YOC_EDATA, R->o->codelist, 0, 0,
					     "condition id '%s' cannot be a column name (use a-z, 0-9 "
					     "and _, not a person_year column)",
					     yoc_ltc_get(R->ltc, k)->id);
	/* the store's page cache (64 MiB): SQLite writes pages out as it fills,
	 * a few syncs of the journal, where a cache of the whole transaction
	 * held every page (a GB at 1,000,000 persons) in memory until COMMIT */
	int rc = exec(db, "BEGIN IMMEDIATE", e);
	if (rc)
		return rc;
	if ((rc = create_tables(R, db, e)) || (rc = write_person_year(R, db, e)) ||
	    (rc = write_small(R, db, e)) || (rc = an_gaps_write(R, db, e)) ||
	    (rc = an_month_write(R, db, e)) ||
	    (rc = exec(db, "COMMIT", e))) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return rc;
	}
	return YOC_OK;
}
