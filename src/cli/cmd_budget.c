/*
** yoc budget: the capitated budget of a cohort for a year and its monthly
** payment schedule (from the cohort register and the stored tariff), the
** financial risk of cohorts by size (bootstrap), and the year-end
** risk-share settlement (src/budget, docs/budget.md). Exact pence: for the
** finance lead on the pseudonymised store, not for publication.
*/
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "budget/budget.h"
#include "cli/cli.h"
#include "cost/cost.h"
#include "sdc/sdc.h"
#include "yoc/io.h"
#include "store/store.h"
#include "yoc/date.h"

static const char usage_text[] =
	"Usage: yoc budget --db DIR --cohort NAME --year FY [--profile flat|seasonal]\n"
	"                  [--tariff-version N]\n"
	"       yoc budget risk --db DIR [--year FY] [--sizes N,N,...] [--reps N]\n"
	"                  [--seed N] [--level P] [--tariff-version N]\n"
	"       yoc budget settle (--budget POUNDS --actual POUNDS | --db DIR --cohort NAME\n"
	"                  --year FY) [--corridor P] [--share P] [--kpi P]\n"
	"       yoc budget view --db DIR --cohort NAME --year FY\n"
	"       yoc budget workbook --db DIR --cohort NAME --year FY --out FILE.xlsx\n"
	"                  [--reconcile DIR]\n\n"
	"budget  Σ over the cohort's register members of tariff(category) x days in\n"
	"        the cohort in FY / days in FY (a day covered by two register rows\n"
	"        is paid once), and the monthly payments to the lead provider: flat\n"
	"        (each month the value of its member-days) or seasonal (weighted by\n"
	"        the baseline's in-scope activity per month). Writes the tables\n"
	"        budget_member (who, category, days, pay), budget_payment (month x\n"
	"        category: members, days, amount) and budget_plan.\n"
	"risk    bootstrap over the person-years of FY (default: the tariff's last\n"
	"        base year) within categories: for each cohort size, the chance that\n"
	"        actual in-scope cost exceeds its budget (each category's mean annual\n"
	"        cost in FY) by more than 5%% and 10%%, the\n"
	"        coefficient of variation, and the smallest size whose chance of a 5%%\n"
	"        overspend is below --level (default 0.05). --reps (default 1000),\n"
	"        --seed (default 1): the same seed gives the same figures. Writes\n"
	"        the table budget_risk.\n"
	"view    after budget and yoc tag: spend per member per month (partial months by\n"
	"        days) by category, practice, risk tier, provider and month, expected\n"
	"        against actual (table budget_pmpm); the shadow year: month by month the\n"
	"        budget next to what the current contracts paid for the members'\n"
	"        in-scope activity, the difference by category and setting\n"
	"        (budget_shadow).\n"
	"workbook  the finance workbook (xlsx): tariffs with their trims, the tariff's\n"
	"        inputs, the service map, budget, monthly schedule, shadow year, tagging\n"
	"        and the risk table with its chart, and with --reconcile DIR the summary\n"
	"        yoc reconcile wrote there; money exact, counts of people\n"
	"        through disclosure control (docs/budget.md).\n"
	"settle  year-end risk share: within +-corridor%% (default 2) of the budget\n"
	"        the provider keeps or bears the variance; beyond it the provider\n"
	"        bears --share%% (default 50), the commissioner the rest; --kpi P\n"
	"        adds (or with -P withholds) P%% of the budget for outcomes. With --db:\n"
	"        the cohort's budget and its capitated activity of the year (yoc tag).\n";

static int parse_fy(const char *s, int *fy)
{
	return s && yoc_fyear_parse(s, strlen(s), fy) == 0 ? 0 : -1;
}

static int exec(sqlite3 *db, const char *sql, struct yoc_error *e)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		yoc_error_set(e, YOC_EIO, "yoc.db", 0, 0, "%s", msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return YOC_EIO;
	}
	return 0;
}

static const char budget_schema[] =
	"CREATE TABLE IF NOT EXISTS budget_plan(cohort TEXT NOT NULL, fyear TEXT NOT NULL,"
	" tariff_version INTEGER NOT NULL, profile TEXT NOT NULL, members INTEGER NOT NULL,"
	" member_days INTEGER NOT NULL, overlap_days INTEGER NOT NULL, budget INTEGER NOT NULL,"
	" built TEXT NOT NULL, PRIMARY KEY(cohort, fyear));"
	"CREATE TABLE IF NOT EXISTS budget_payment(cohort TEXT NOT NULL, fyear TEXT NOT NULL,"
	" month TEXT NOT NULL, category TEXT NOT NULL, members INTEGER NOT NULL,"
	" days INTEGER NOT NULL, amount INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS budget_member(cohort TEXT NOT NULL, fyear TEXT NOT NULL,"
	" pseudo_id TEXT NOT NULL, category TEXT NOT NULL, category_year TEXT NOT NULL,"
	" days INTEGER NOT NULL, amount INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS budget_member_month(cohort TEXT NOT NULL, fyear TEXT NOT NULL,"
	" pseudo_id TEXT NOT NULL, month TEXT NOT NULL, days INTEGER NOT NULL,"
	" amount INTEGER NOT NULL);";

/* Categories of the people in ids for the budget year: each person's latest
 * analysed year before fy (else fy, else the latest year at all). */
struct catpick {
	char (*pseudo)[72];
	int *cat;
	int *year;
	size_t n;
};

static int cmp_pseudo(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static int pick_categories(sqlite3 *db, const yoc_budget_cats *c, int fy, struct catpick *p,
			   struct yoc_error *e)
{
	sqlite3_stmt *st = NULL;
	int years[64], ny = 0, rc = 0;
	if (sqlite3_prepare_v2(db, "SELECT DISTINCT fyear FROM person_year ORDER BY fyear DESC", -1,
			       &st, NULL)) {
		return yoc_error_set(e, YOC_EDATA, "person_year", 0, 0, "%s", sqlite3_errmsg(db));
	}
	while (sqlite3_step(st) == SQLITE_ROW && ny < 64) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (t && yoc_fyear_parse(t, strlen(t), &years[ny]) == 0)
			ny++;
	}
	sqlite3_finalize(st);
	/* years before fy first (latest first), then fy, then later ones */
	int order[64], no = 0;
	for (int i = 0; i < ny; i++)
		if (years[i] < fy)
			order[no++] = years[i];
	for (int i = ny - 1; i >= 0; i--)
		if (years[i] >= fy)
			order[no++] = years[i];
	for (int k = 0; k < no; k++) {
		struct yoc_budget_assign a;
		char fys[16];
		yoc_fyear_format(order[k], fys);
		if ((rc = yoc_budget_categorise(db, c, fys, &a, e)))
			return rc;
		for (size_t i = 0; i < p->n; i++) {
			if (p->cat[i] >= 0)
				continue;
			char(*hit)[72] = bsearch(p->pseudo[i], a.pseudo, a.n, sizeof *a.pseudo,
						 cmp_pseudo);
			if (hit) {
				p->cat[i] = a.cat[hit - a.pseudo];
				p->year[i] = order[k];
			}
		}
		yoc_budget_assign_free(&a);
	}
	return 0;
}

/* Seasonal weights: the base year's in-scope activity rows per month, each
 * month's mean daily activity relative to the year's. */
static void seasonal_weights(sqlite3 *db, int base, const int in[YOC_BSET_COUNT], double w[12])
{
	static const struct { const char *kind; int set; } km[] = {
		{"apc", YOC_BSET_ELECTIVE}, {"apc", YOC_BSET_NONELECTIVE}, {"apc", YOC_BSET_DAYCASE},
		{"op", YOC_BSET_OUTPATIENT}, {"ae", YOC_BSET_AE}, {"community", YOC_BSET_COMMUNITY},
		{"mh", YOC_BSET_MH}, {"gp_appt", YOC_BSET_GP}, {"social_care", YOC_BSET_SOCIAL},
		{"ambulance", YOC_BSET_AMBULANCE},
	};
	double rows[12] = {0}, days[12], tot = 0, totd = 0;
	for (int k = 0; k < 12; k++) {
		int y = base + (k >= 9), mo = (k + 3) % 12 + 1;
		int32_t a = yoc_date_from_ymd(y, mo, 1);
		int32_t b = k == 11 ? yoc_fyear_end(base) + 1 : yoc_date_from_ymd(y + (mo == 12), mo % 12 + 1, 1);
		days[k] = b - a;
		w[k] = 1;
	}
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, "SELECT f.kind, l.month, sum(l.linked) FROM linkage l JOIN files f"
				   " USING(file_id) WHERE f.superseded_by IS NULL GROUP BY 1, 2",
			       -1, &st, NULL) != SQLITE_OK)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(st, 0);
		const char *m = (const char *)sqlite3_column_text(st, 1);
		int y, mo;
		if (!kind || !m || sscanf(m, "%4d-%2d", &y, &mo) != 2)
			continue;
		int k = mo >= 4 ? mo - 4 : mo + 8;
		if ((mo >= 4 ? y : y - 1) != base)
			continue;
		int use = 0;
		for (size_t i = 0; i < sizeof km / sizeof km[0]; i++)
			if (strcmp(km[i].kind, kind) == 0 && in[km[i].set])
				use = 1;
		if (use)
			rows[k] += (double)sqlite3_column_int64(st, 2);
	}
	sqlite3_finalize(st);
	for (int k = 0; k < 12; k++) {
		tot += rows[k];
		totd += days[k];
	}
	if (tot <= 0)
		return;
	for (int k = 0; k < 12; k++)
		w[k] = rows[k] > 0 ? (rows[k] / days[k]) / (tot / totd) : 1;
}

static void month_name(int fy, int k, char *buf, size_t cap)
{
	int y = fy + (k >= 9), mo = (k + 3) % 12 + 1;
	snprintf(buf, cap, "%04d-%02d", y, mo);
}

static int run_plan(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"cohort", 1, NULL}, {"year", 1, NULL}, {"profile", 1, NULL},
		{"tariff-version", 1, NULL}, {NULL, 0, NULL}
	};
	int npos = 0, rc = cli_parse("budget", argc, argv, opts, &npos);
	if (rc)
		return rc;
	const char *dir = cli_get(opts, "db"), *cohort = cli_get(opts, "cohort");
	const char *prof = cli_get(opts, "profile") ? cli_get(opts, "profile") : "flat";
	int fy;
	long tv = 0;
	if (!dir || !cohort || parse_fy(cli_get(opts, "year"), &fy) || npos ||
	    (strcmp(prof, "flat") && strcmp(prof, "seasonal"))) {
		cli_err("budget", "needs --db DIR --cohort NAME --year FY [--profile flat|seasonal];"
			" see 'yoc help budget'");
		return 2;
	}
	if ((rc = cli_get_long("budget", opts, "tariff-version", 0, &tv)))
		return rc;
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	sqlite3_stmt *st = NULL, *st2 = NULL;
	struct yoc_tariff_stored t;
	struct yoc_budget_plan plan;
	struct catpick cp = {0};
	struct yoc_member_span *sp = NULL;
	char **ids = NULL;
	size_t ns = 0, cap = 0;
	memset(&t, 0, sizeof t);
	memset(&plan, 0, sizeof plan);
	rc = 1;
	if (yoc_store_open(&s, dir, YOC_STORE_WRITE, &e) ||
	    yoc_tariff_load_stored(yoc_store_db(s), (int)tv, &t, &e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	sqlite3 *db = yoc_store_db(s);
	if (sqlite3_prepare_v2(db, "SELECT pseudo_id, join_date, leave_date FROM cohort_register"
				   " WHERE cohort = ?1 ORDER BY pseudo_id, join_date", -1, &st,
			       NULL) != SQLITE_OK) {
		cli_err("budget", "%s: no cohort register in the dataset (%s): enrol a cohort with"
			" yoc cohort first", dir, sqlite3_errmsg(db));
		goto cleanup;
	}
	sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (ns == cap) {
			cap = cap ? cap * 2 : 1024;
			struct yoc_member_span *n1 = yoc_realloc(sp, cap * sizeof *sp);
			char **n2 = n1 ? yoc_realloc(ids, cap * sizeof *ids) : NULL;
			if (n1)
				sp = n1;
			if (n2)
				ids = n2;
			if (!n1 || !n2) {
				cli_err("budget", "out of memory");
				goto cleanup;
			}
		}
		const char *id = (const char *)sqlite3_column_text(st, 0);
		const char *jd = (const char *)sqlite3_column_text(st, 1);
		const char *ld = (const char *)sqlite3_column_text(st, 2);
		struct yoc_member_span *m = &sp[ns];
		if (!id || !jd || yoc_date_parse(jd, strlen(jd), &m->join) != YOC_DATE_VALID ||
		    (ld && yoc_date_parse(ld, strlen(ld), &m->leave) != YOC_DATE_VALID)) {
			cli_err("budget", "cohort_register: a row of %s has a bad date", cohort);
			goto cleanup;
		}
		if (!ld)
			m->leave = INT32_MAX;
		if (!(ids[ns] = yoc_strdup(id))) {
			cli_err("budget", "out of memory");
			goto cleanup;
		}
		m->pseudo = ids[ns];
		ns++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (ns == 0) {
		cli_err("budget", "cohort '%s' has no register rows", cohort);
		goto cleanup;
	}
	/* distinct people, then their categories */
	cp.pseudo = yoc_malloc(ns * sizeof *cp.pseudo);
	cp.cat = yoc_malloc(ns * sizeof *cp.cat);
	cp.year = yoc_malloc(ns * sizeof *cp.year);
	if (!cp.pseudo || !cp.cat || !cp.year) {
		cli_err("budget", "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < ns; i++)
		if (cp.n == 0 || strcmp(cp.pseudo[cp.n - 1], sp[i].pseudo) != 0) {
			snprintf(cp.pseudo[cp.n], 72, "%s", sp[i].pseudo);
			cp.cat[cp.n] = -1;
			cp.year[cp.n] = 0;
			cp.n++;
		}
	if (pick_categories(db, t.cats, fy, &cp, &e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	size_t nocat = 0;
	for (size_t i = 0, k = 0; i < ns; i++) {
		while (strcmp(cp.pseudo[k], sp[i].pseudo) != 0)
			k++;
		sp[i].cat = cp.cat[k];
		nocat += cp.cat[k] < 0;
	}
	if (nocat) {
		cli_err("budget", "%zu register rows of %s are of people with no person_year row"
			" in any analysed year: no category, no tariff", nocat, cohort);
		goto cleanup;
	}
	double w[12];
	if (strcmp(prof, "seasonal") == 0)
		seasonal_weights(db, t.last_year ? t.last_year : fy - 1, t.in, w);
	size_t nc = yoc_budget_cats_count(t.cats);
	if (yoc_budget_plan_make(fy, sp, ns, t.tariff, nc, strcmp(prof, "seasonal") ? NULL : w,
				 &plan, &e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	/* write the tables */
	char fys[16], now[32];
	yoc_fyear_format(fy, fys);
	time_t tt = time(NULL);
	struct tm tmv;
	gmtime_r(&tt, &tmv);
	strftime(now, sizeof now, "%Y-%m-%dT%H:%M:%SZ", &tmv);
	if (exec(db, "BEGIN IMMEDIATE", &e) || exec(db, budget_schema, &e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	static const char *const del[] = {
		"DELETE FROM budget_plan WHERE cohort = ?1 AND fyear = ?2",
		"DELETE FROM budget_payment WHERE cohort = ?1 AND fyear = ?2",
		"DELETE FROM budget_member WHERE cohort = ?1 AND fyear = ?2",
		"DELETE FROM budget_member_month WHERE cohort = ?1 AND fyear = ?2",
	};
	for (int k = 0; k < 4; k++) {
		if (sqlite3_prepare_v2(db, del[k], -1, &st, NULL) != SQLITE_OK)
			goto sqlfail;
		sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, fys, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (sqlite3_prepare_v2(db, "INSERT INTO budget_plan VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9)", -1,
			       &st, NULL) != SQLITE_OK)
		goto sqlfail;
	sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fys, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, t.version);
	sqlite3_bind_text(st, 4, prof, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, plan.members);
	sqlite3_bind_int64(st, 6, plan.member_days);
	sqlite3_bind_int64(st, 7, plan.overlap_days);
	sqlite3_bind_int64(st, 8, plan.budget);
	sqlite3_bind_text(st, 9, now, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto sqlfail;
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(db, "INSERT INTO budget_payment VALUES(?1,?2,?3,?4,?5,?6,?7)", -1,
			       &st, NULL) != SQLITE_OK)
		goto sqlfail;
	for (size_t i = 0; i < plan.nlines; i++) {
		const struct yoc_pay_line *L = &plan.lines[i];
		char mn[16];
		month_name(fy, L->month, mn, sizeof mn);
		sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, fys, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, mn, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 4, yoc_budget_cats_name(t.cats, (size_t)L->cat), -1,
				  SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, L->members);
		sqlite3_bind_int64(st, 6, L->days);
		sqlite3_bind_int64(st, 7, L->amount);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto sqlfail;
		sqlite3_reset(st);
	}
	sqlite3_finalize(st);
	st = NULL;
	/* per member: the union of their spans in the year, paid once */
	if (sqlite3_prepare_v2(db, "INSERT INTO budget_member VALUES(?1,?2,?3,?4,?5,?6,?7)", -1,
			       &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "INSERT INTO budget_member_month VALUES(?1,?2,?3,?4,?5,?6)", -1,
			       &st2, NULL) != SQLITE_OK)
		goto sqlfail;
	for (size_t i = 0, k = 0; i < ns;) {
		size_t j = i;
		while (j < ns && strcmp(sp[j].pseudo, sp[i].pseudo) == 0)
			j++;
		struct yoc_budget_plan one;
		if (yoc_budget_plan_make(fy, sp + i, j - i, t.tariff, nc, NULL, &one, &e)) {
			cli_err_rec("budget", &e);
			goto rollback;
		}
		while (strcmp(cp.pseudo[k], sp[i].pseudo) != 0)
			k++;
		if (one.members) {
			char cy[16];
			yoc_fyear_format(cp.year[k], cy);
			sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, fys, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, sp[i].pseudo, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 4, yoc_budget_cats_name(t.cats, (size_t)sp[i].cat), -1,
					  SQLITE_STATIC);
			sqlite3_bind_text(st, 5, cy, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 6, one.member_days);
			sqlite3_bind_int64(st, 7, one.budget);
			if (sqlite3_step(st) != SQLITE_DONE) {
				yoc_budget_plan_free(&one);
				goto sqlfail;
			}
			sqlite3_reset(st);
			for (int mo = 0; mo < 12; mo++) {
				if (!one.month_days[mo])
					continue;
				char mn[16];
				month_name(fy, mo, mn, sizeof mn);
				sqlite3_bind_text(st2, 1, cohort, -1, SQLITE_STATIC);
				sqlite3_bind_text(st2, 2, fys, -1, SQLITE_STATIC);
				sqlite3_bind_text(st2, 3, sp[i].pseudo, -1, SQLITE_STATIC);
				sqlite3_bind_text(st2, 4, mn, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(st2, 5, one.month_days[mo]);
				sqlite3_bind_int64(st2, 6, one.month[mo]);
				if (sqlite3_step(st2) != SQLITE_DONE) {
					yoc_budget_plan_free(&one);
					goto sqlfail;
				}
				sqlite3_reset(st2);
			}
		}
		yoc_budget_plan_free(&one);
		i = j;
	}
	sqlite3_finalize(st);
	st = NULL;
	sqlite3_finalize(st2);
	st2 = NULL;
	if (exec(db, "COMMIT", &e)) {
		cli_err_rec("budget", &e);
		goto rollback;
	}
	char b[32];
	yoc_pence_format(plan.budget, b);
	printf("budget of %s for %s: £%s for %lld members, %lld member-days (tariff version %d,"
	       " %s profile)\n", cohort, fys, b, (long long)plan.members,
	       (long long)plan.member_days, t.version, prof);
	if (plan.overlap_days)
		printf("note: %lld days were covered by two register rows of one person and paid"
		       " once\n", (long long)plan.overlap_days);
	for (int k = 0; k < 12; k++) {
		char mn[16];
		month_name(fy, k, mn, sizeof mn);
		yoc_pence_format(plan.month[k], b);
		printf("  %s  %10lld member-days  £%14s\n", mn, (long long)plan.month_days[k], b);
	}
	rc = 0;
	goto cleanup;
sqlfail:
	cli_err("budget", "yoc.db: %s", sqlite3_errmsg(db));
rollback:
	sqlite3_finalize(st);
	st = NULL;
	sqlite3_finalize(st2);
	st2 = NULL;
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
cleanup:
	sqlite3_finalize(st);
	sqlite3_finalize(st2);
	yoc_budget_plan_free(&plan);
	yoc_tariff_stored_free(&t);
	for (size_t i = 0; i < ns; i++)
		yoc_free(ids[i]);
	yoc_free(ids);
	yoc_free(sp);
	yoc_free(cp.pseudo);
	yoc_free(cp.cat);
	yoc_free(cp.year);
	yoc_store_close(s);
	return rc;
}

static int parse_num(const char *verb, const char *name, const char *txt, double dflt, double lo,
		     double hi, double *out)
{
	*out = dflt;
	if (!txt)
		return 0;
	char *end;
	*out = strtod(txt, &end);
	if (end == txt || *end || !(*out >= lo && *out <= hi)) {
		cli_err(verb, "--%s '%s': want a number from %g to %g", name, txt, lo, hi);
		return 2;
	}
	return 0;
}

static int run_risk(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"db", 1, NULL}, {"year", 1, NULL}, {"sizes", 1, NULL}, {"reps", 1, NULL},
		{"seed", 1, NULL}, {"level", 1, NULL}, {"tariff-version", 1, NULL}, {NULL, 0, NULL}
	};
	int npos = 0, rc = cli_parse("budget", argc, argv, opts, &npos);
	if (rc)
		return rc;
	long reps = 0, seed = 0, tv = 0;
	double level;
	if ((rc = cli_get_long("budget", opts, "reps", 1000, &reps)) ||
	    (rc = cli_get_long("budget", opts, "seed", 1, &seed)) ||
	    (rc = cli_get_long("budget", opts, "tariff-version", 0, &tv)) ||
	    (rc = parse_num("budget", "level", cli_get(opts, "level"), 0.05, 0, 1, &level)))
		return rc;
	if (!cli_get(opts, "db") || reps < 2 || reps > 1000000 || npos) {
		cli_err("budget", "risk needs --db DIR (and --reps from 2 to 1000000)");
		return 2;
	}
	int64_t sizes[64];
	size_t nsz = 0;
	const char *sz = cli_get(opts, "sizes");
	if (sz) {
		const char *p = sz;
		while (*p && nsz < 64) {
			char *end;
			long long v = strtoll(p, &end, 10);
			if (end == p || v < 1 || (*end && *end != ',')) {
				cli_err("budget", "--sizes '%s': want sizes like 100,500,1000", sz);
				return 2;
			}
			sizes[nsz++] = v;
			p = *end ? end + 1 : end;
		}
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	struct yoc_tariff_stored t;
	struct yoc_tpy *py = NULL;
	size_t n = 0;
	sqlite3_stmt *st = NULL;
	memset(&t, 0, sizeof t);
	rc = 1;
	int fy;
	if (yoc_store_open(&s, cli_get(opts, "db"), YOC_STORE_WRITE, &e) ||
	    yoc_tariff_load_stored(yoc_store_db(s), (int)tv, &t, &e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	if (cli_get(opts, "year")) {
		if (parse_fy(cli_get(opts, "year"), &fy)) {
			cli_err("budget", "--year: want a financial year like 2023/24");
			rc = 2;
			goto cleanup;
		}
	} else {
		fy = t.last_year;
	}
	sqlite3 *db = yoc_store_db(s);
	if (yoc_tariff_person_years(db, t.cats, fy, t.in, &py, &n, &e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	if (!nsz) {
		static const int64_t dflt[] = {100, 250, 500, 1000, 2500, 5000, 10000, 25000,
					       50000, 100000, 250000, 500000, 1000000};
		for (size_t i = 0; i < sizeof dflt / sizeof dflt[0] && dflt[i] < (int64_t)n; i++)
			sizes[nsz++] = dflt[i];
		sizes[nsz++] = (int64_t)n;
	}
	struct yoc_risk_size out[64];
	size_t nc = yoc_budget_cats_count(t.cats);
	/* the budget of a drawn cohort at each category's mean annual cost in
	 * the year drawn from: E[actual / budget] is 1 by construction, so what
	 * remains is volatility alone, not the year's trend (which the tariff's
	 * uplift is for) */
	int64_t *expect = yoc_calloc(nc + 1, sizeof *expect);
	__int128 *cs = yoc_calloc(nc + 1, sizeof *cs);
	int64_t *us = yoc_calloc(nc + 1, sizeof *us);
	if (!expect || !cs || !us) {
		yoc_free(expect);
		yoc_free(cs);
		yoc_free(us);
		cli_err("budget", "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < n; i++) {
		cs[py[i].cat] += py[i].cost;
		us[py[i].cat] += py[i].units;
	}
	for (size_t c = 0; c < nc; c++)
		expect[c] = us[c] ? yoc_budget_div_round(cs[c] * YOC_BUDGET_YEAR_UNITS, us[c]) : 0;
	yoc_free(cs);
	yoc_free(us);
	int brc = yoc_budget_bootstrap(py, n, nc, expect, sizes, nsz, (int)reps, (uint64_t)seed,
				       out, &e);
	yoc_free(expect);
	if (brc) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	char fys[16];
	yoc_fyear_format(fy, fys);
	if (exec(db, "BEGIN IMMEDIATE", &e) ||
	    exec(db, "CREATE TABLE IF NOT EXISTS budget_risk(tariff_version INTEGER NOT NULL,"
		     " fyear TEXT NOT NULL, size INTEGER NOT NULL, reps INTEGER NOT NULL,"
		     " seed INTEGER NOT NULL, p_over5 REAL, p_over10 REAL, p_under5 REAL, cv REAL,"
		     " q05 REAL, q50 REAL, q95 REAL, PRIMARY KEY(tariff_version, fyear, size, reps, seed));", &e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO budget_risk VALUES(?1,?2,?3,?4,?5,?6,?7,"
				   "?8,?9,?10,?11,?12)", -1, &st, NULL) != SQLITE_OK) {
		cli_err("budget", "yoc.db: %s", sqlite3_errmsg(db));
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		goto cleanup;
	}
	printf("overspend risk of cohorts drawn from %zu person-years of %s within categories"
	       " (tariff version %d, %ld replicates, seed %ld)\n", n, fys, t.version, reps, seed);
	printf("%10s %10s %10s %8s %8s %8s %8s\n", "size", "P(>5%)", "P(>10%)", "CV", "q05", "q50",
	       "q95");
	int64_t safe = -1;
	for (size_t k = 0; k < nsz; k++) {
		const struct yoc_risk_size *o = &out[k];
		printf("%10lld %10.3f %10.3f %8.4f %8.3f %8.3f %8.3f\n", (long long)o->size,
		       o->p_over5, o->p_over10, o->cv, o->q05, o->q50, o->q95);
		if (safe < 0 && o->p_over5 < level)
			safe = o->size;
		else if (o->p_over5 >= level)
			safe = -1;
		sqlite3_bind_int(st, 1, t.version);
		sqlite3_bind_text(st, 2, fys, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, o->size);
		sqlite3_bind_int64(st, 4, reps);
		sqlite3_bind_int64(st, 5, seed);
		sqlite3_bind_double(st, 6, o->p_over5);
		sqlite3_bind_double(st, 7, o->p_over10);
		sqlite3_bind_double(st, 8, o->p_under5);
		sqlite3_bind_double(st, 9, o->cv);
		sqlite3_bind_double(st, 10, o->q05);
		sqlite3_bind_double(st, 11, o->q50);
		sqlite3_bind_double(st, 12, o->q95);
		if (sqlite3_step(st) != SQLITE_DONE) {
			cli_err("budget", "yoc.db: %s", sqlite3_errmsg(db));
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			goto cleanup;
		}
		sqlite3_reset(st);
	}
	if (exec(db, "COMMIT", &e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	if (safe > 0)
		printf("from a cohort of %lld, the chance of a 5%% overspend stays below %g\n",
		       (long long)safe, level);
	else
		printf("no size tried keeps the chance of a 5%% overspend below %g\n", level);
	rc = 0;
cleanup:
	sqlite3_finalize(st);
	yoc_free(py);
	yoc_tariff_stored_free(&t);
	yoc_store_close(s);
	return rc;
}

static int64_t one_i64(sqlite3 *db, const char *sql, const char *a, const char *b, int *found)
{
	sqlite3_stmt *st = NULL;
	int64_t v = 0;
	*found = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
			v = sqlite3_column_int64(st, 0);
			*found = 1;
		}
	}
	sqlite3_finalize(st);
	return v;
}

static int run_settle(int argc, char **argv)
{
	struct cli_opt opts[] = {
		{"budget", 1, NULL}, {"actual", 1, NULL}, {"corridor", 1, NULL}, {"share", 1, NULL},
		{"kpi", 1, NULL}, {"db", 1, NULL}, {"cohort", 1, NULL}, {"year", 1, NULL},
		{NULL, 0, NULL}
	};
	int npos = 0, rc = cli_parse("budget", argc, argv, opts, &npos);
	if (rc)
		return rc;
	const char *b = cli_get(opts, "budget"), *a = cli_get(opts, "actual");
	int64_t bp = 0, ap = 0;
	if (npos || (b && yoc_pounds_parse(b, strlen(b), &bp)) ||
	    (a && yoc_pounds_parse(a, strlen(a), &ap)) ||
	    (!cli_get(opts, "db") && (!a || !b))) {
		cli_err("budget", "settle needs --budget POUNDS --actual POUNDS, or --db DIR --cohort"
			" NAME --year FY (the budget of yoc budget, the capitated cost of yoc tag)");
		return 2;
	}
	struct yoc_settle_opts o;
	if ((rc = parse_num("budget", "corridor", cli_get(opts, "corridor"), 2, 0, 100, &o.corridor)) ||
	    (rc = parse_num("budget", "share", cli_get(opts, "share"), 50, 0, 100, &o.share)) ||
	    (rc = parse_num("budget", "kpi", cli_get(opts, "kpi"), 0, -100, 100, &o.kpi)))
		return rc;
	if (cli_get(opts, "db")) {
		int fy;
		const char *cohort = cli_get(opts, "cohort");
		if (!cohort || parse_fy(cli_get(opts, "year"), &fy)) {
			cli_err("budget", "settle --db needs --cohort NAME --year FY");
			return 2;
		}
		struct yoc_error e;
		yoc_error_clear(&e);
		yoc_store *s = NULL;
		if (yoc_store_open(&s, cli_get(opts, "db"), 0, &e)) {
			cli_err_rec("budget", &e);
			return 1;
		}
		char fys[16], d0[16], d1[16], range[40];
		yoc_fyear_format(fy, fys);
		yoc_date_format(yoc_fyear_start(fy), d0);
		yoc_date_format(yoc_fyear_end(fy), d1);
		snprintf(range, sizeof range, "%s|%s", d0, d1);
		int f1 = 1, f2 = 1;
		if (!b)
			bp = one_i64(yoc_store_db(s), "SELECT budget FROM budget_plan WHERE cohort = ?1"
				     " AND fyear = ?2", cohort, fys, &f1);
		if (!a)
			ap = one_i64(yoc_store_db(s), "SELECT sum(cost) FROM activity_tag WHERE cohort = ?1"
				     " AND tag = 'capitated' AND activity_date BETWEEN substr(?2, 1, 10)"
				     " AND substr(?2, 12)", cohort, range, &f2);
		yoc_store_close(s);
		if (!f1 || !f2) {
			cli_err("budget", "no %s of cohort %s for %s: run %s first", !f1 ? "budget"
				: "capitated activity", cohort, fys, !f1 ? "yoc budget" : "yoc tag");
			return 1;
		}
	}
	struct yoc_settlement st;
	yoc_budget_settle(bp, ap, &o, &st);
	char t[7][32];
	yoc_pence_format(st.budget, t[0]);
	yoc_pence_format(st.actual, t[1]);
	yoc_pence_format(st.variance, t[2]);
	yoc_pence_format(st.provider, t[3]);
	yoc_pence_format(st.commissioner, t[4]);
	yoc_pence_format(st.kpi, t[5]);
	yoc_pence_format(st.payment, t[6]);
	printf("budget,actual,variance,provider_share,commissioner_share,kpi_adjustment,payment\n"
	       "%s,%s,%s,%s,%s,%s,%s\n", t[0], t[1], t[2], t[3], t[4], t[5], t[6]);
	return 0;
}

static void print_query(sqlite3 *db, const char *sql, const char *cohort, const char *fy)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, cohort, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, fy, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);
			printf(i ? " %12s" : "  %-22s", v ? v : "");
		}
		printf("\n");
	}
	sqlite3_finalize(st);
}

static int run_view(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL}, {"cohort", 1, NULL}, {"year", 1, NULL},
				 {NULL, 0, NULL}};
	int npos = 0, rc = cli_parse("budget", argc, argv, opts, &npos);
	if (rc)
		return rc;
	int fy;
	const char *cohort = cli_get(opts, "cohort");
	if (!cli_get(opts, "db") || !cohort || parse_fy(cli_get(opts, "year"), &fy) || npos) {
		cli_err("budget", "view needs --db DIR --cohort NAME --year FY");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	rc = 1;
	if (yoc_store_open(&s, cli_get(opts, "db"), YOC_STORE_WRITE, &e) ||
	    yoc_budget_views(yoc_store_db(s), cohort, fy, &e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	char fys[16];
	yoc_fyear_format(fy, fys);
	sqlite3 *db = yoc_store_db(s);
	printf("per member per month, %s %s (pounds): dimension value members member-months"
	       " expected actual\n", cohort, fys);
	print_query(db, "SELECT dimension || ' ' || coalesce(value, ''), members,"
			" printf('%.1f', member_months), printf('%.2f', pmpm_expected),"
			" printf('%.2f', pmpm_actual) FROM budget_pmpm WHERE cohort = ?1 AND fyear = ?2"
			" AND dimension IN ('all', 'category', 'tier') ORDER BY rowid", cohort, fys);
	printf("shadow year (pounds): month budget paid difference\n");
	print_query(db, "SELECT value, printf('%.2f', budget / 100.0), printf('%.2f', paid / 100.0),"
			" printf('%.2f', difference / 100.0) FROM budget_shadow WHERE cohort = ?1 AND"
			" fyear = ?2 AND dimension IN ('month', 'setting') ORDER BY rowid", cohort, fys);
	rc = 0;
cleanup:
	yoc_store_close(s);
	return rc;
}

static int run_workbook(int argc, char **argv)
{
	struct cli_opt opts[] = {{"db", 1, NULL}, {"cohort", 1, NULL}, {"year", 1, NULL},
				 {"out", 1, NULL}, {"reconcile", 1, NULL}, {NULL, 0, NULL}};
	int npos = 0, rc = cli_parse("budget", argc, argv, opts, &npos);
	if (rc)
		return rc;
	int fy;
	const char *cohort = cli_get(opts, "cohort"), *out = cli_get(opts, "out");
	if (!cli_get(opts, "db") || !cohort || !out || parse_fy(cli_get(opts, "year"), &fy) ||
	    npos) {
		cli_err("budget", "workbook needs --db DIR --cohort NAME --year FY --out FILE.xlsx");
		return 2;
	}
	struct yoc_error e;
	yoc_error_clear(&e);
	yoc_store *s = NULL;
	struct yoc_sdc sdc;
	yoc_sdc_init(&sdc);
	rc = 1;
	yoc_tmp_sweep(out, NULL);
	if (yoc_store_open(&s, cli_get(opts, "db"), 0, &e) ||
	    yoc_budget_workbook(yoc_store_db(s), cohort, fy, out, cli_get(opts, "reconcile"), &sdc,
				&e)) {
		cli_err_rec("budget", &e);
		goto cleanup;
	}
	printf("finance workbook of %s -> %s\n", cohort, out);
	rc = 0;
cleanup:
	yoc_store_close(s);
	return rc;
}

static int budget_run(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "workbook") == 0)
		return run_workbook(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "view") == 0)
		return run_view(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "risk") == 0)
		return run_risk(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "settle") == 0)
		return run_settle(argc - 1, argv + 1);
	return run_plan(argc, argv);
}

const struct cli_verb cli_verb_budget = {
	"budget", "capitated budget and payments, overspend risk, risk-share settlement",
	usage_text, budget_run
};
