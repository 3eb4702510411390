/*
** Tariff categories: the ordered category file (NAME [< PARENT] : RULE per
** line) and the categorising of one year's person-years, first TRUE rule
** wins, through the rule module's frame (one load for all the rules).
** It must not leave a person-year uncategorised: that is bad input, named
** by the file's last line.
*/
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "budget/budget.h"
#include "rule/rule.h"
#include "yoc/io.h"

struct cat {
	char name[48];
	char pname[48];
	int parent;
	char *rule;
	long line;
	long col;       /* column of the rule text in its line */
};

struct yoc_budget_cats {
	char file[256];
	char version[64];
	char *text;
	struct cat *c;
	size_t n;
};

static const char *const set_names[YOC_BSET_COUNT] = {
	"elective", "nonelective", "daycase", "outpatient", "ae",
	"community", "mh", "gp", "social_care", "ambulance"
};

const char *yoc_budget_setting_name(int set)
{
	return set >= 0 && set < YOC_BSET_COUNT ? set_names[set] : "";
}

int yoc_budget_setting_of(const char *name, size_t n)
{
	for (int i = 0; i < YOC_BSET_COUNT; i++)
		if (strlen(set_names[i]) == n && memcmp(set_names[i], name, n) == 0)
			return i;
	return -1;
}

int64_t yoc_budget_div_round(__int128 num, __int128 den)
{
	int neg = (num < 0) != (den < 0);
	if (num < 0)
		num = -num;
	if (den < 0)
		den = -den;
	__int128 q = (num * 2 + den) / (den * 2);
	return (int64_t)(neg ? -q : q);
}

void yoc_budget_cats_free(yoc_budget_cats *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		yoc_free(c->c[i].rule);
	yoc_free(c->c);
	yoc_free(c->text);
	yoc_free(c);
}

static int ident(const char *p, const char *end, size_t *len)
{
	size_t k = 0;
	while (p + k < end && (isalnum((unsigned char)p[k]) || p[k] == '_'))
		k++;
	*len = k;
	return k > 0 && k < 48;
}

static int parse_line(yoc_budget_cats *c, const char *p, const char *end, long line,
		      struct yoc_error *e)
{
	const char *s = p;
	size_t k;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (!ident(s, end, &k))
		return yoc_error_set(e, YOC_EPARSE, c->file, line, (long)(s - p) + 1,
				     "expected a category name (letters, digits, _; at most 47)");
	struct cat ct;
	memset(&ct, 0, sizeof ct);
	ct.parent = -1;
	ct.line = line;
	memcpy(ct.name, s, k);
	s += k;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	if (s < end && *s == '<') {
		s++;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
		if (!ident(s, end, &k))
			return yoc_error_set(e, YOC_EPARSE, c->file, line, (long)(s - p) + 1,
					     "expected the parent category's name after '<'");
		memcpy(ct.pname, s, k);
		s += k;
		while (s < end && (*s == ' ' || *s == '\t'))
			s++;
	}
	if (s >= end || *s != ':')
		return yoc_error_set(e, YOC_EPARSE, c->file, line, (long)(s - p) + 1,
				     "expected ':' then the category's rule");
	s++;
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	const char *r_end = end;
	while (r_end > s && (r_end[-1] == ' ' || r_end[-1] == '\t' || r_end[-1] == '\r'))
		r_end--;
	if (r_end == s)
		return yoc_error_set(e, YOC_EPARSE, c->file, line, (long)(s - p) + 1,
				     "category '%s' has no rule (use 'true' for a catch-all)",
				     ct.name);
	ct.col = (long)(s - p) + 1;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->c[i].name, ct.name) == 0)
			return yoc_error_set(e, YOC_EPARSE, c->file, line, 1,
					     "category '%s' is already defined on line %ld",
					     ct.name, c->c[i].line);
	ct.rule = yoc_strndup(s, (size_t)(r_end - s));
	if (!ct.rule)
		return yoc_error_set(e, YOC_ENOMEM, c->file, line, 0, "out of memory");
	yoc_rule *r = NULL;
	struct yoc_error re;
	yoc_error_clear(&re);
	if (yoc_rule_compile(ct.rule, NULL, &r, &re)) {
		yoc_free(ct.rule);
		return yoc_error_set(e, re.code, c->file, line, ct.col + (re.col > 0 ? re.col - 1 : 0),
				     "%s", re.msg);
	}
	yoc_rule_free(r);
	struct cat *nc = yoc_realloc(c->c, (c->n + 1) * sizeof *nc);
	if (!nc) {
		yoc_free(ct.rule);
		return yoc_error_set(e, YOC_ENOMEM, c->file, line, 0, "out of memory");
	}
	c->c = nc;
	c->c[c->n++] = ct;
	return 0;
}

int yoc_budget_cats_parse(const char *text, size_t n, const char *name,
			  yoc_budget_cats **out, struct yoc_error *e)
{
	*out = NULL;
	yoc_budget_cats *c = yoc_calloc(1, sizeof *c);
	int rc = 0;
	if (!c || !(c->text = yoc_strndup(text, n))) {
		rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
		goto cleanup;
	}
	snprintf(c->file, sizeof c->file, "%s", name ? name : "categories");
	const char *p = text, *end = text + n;
	long line = 0;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		line++;
		const char *s = p;
		while (s < le && (*s == ' ' || *s == '\t' || *s == '\r'))
			s++;
		if (s < le && *s == '#') {
			static const char vkey[] = "# version:";
			if ((size_t)(le - s) > sizeof vkey - 1 &&
			    memcmp(s, vkey, sizeof vkey - 1) == 0) {
				const char *v = s + sizeof vkey - 1;
				while (v < le && *v == ' ')
					v++;
				const char *ve = le;
				while (ve > v && (ve[-1] == ' ' || ve[-1] == '\r'))
					ve--;
				snprintf(c->version, sizeof c->version, "%.*s", (int)(ve - v), v);
			}
		} else if (s < le && (rc = parse_line(c, p, le, line, e))) {
			goto cleanup;
		}
		p = nl ? nl + 1 : end;
	}
	if (c->n == 0) {
		rc = yoc_error_set(e, YOC_EPARSE, c->file, line ? line : 1, 0,
				   "no categories in the file");
		goto cleanup;
	}
	for (size_t i = 0; i < c->n; i++) {
		if (!c->c[i].pname[0])
			continue;
		int j = yoc_budget_cats_find(c, c->c[i].pname);
		if (j < 0 || (size_t)j == i) {
			if (j < 0)
				rc = yoc_error_set(e, YOC_EPARSE, c->file, c->c[i].line, 1,
						   "parent '%s' of '%s' is not a category of the file",
						   c->c[i].pname, c->c[i].name);
			else
				rc = yoc_error_set(e, YOC_EPARSE, c->file, c->c[i].line, 1,
						   "category '%s' cannot be its own parent",
						   c->c[i].name);
			goto cleanup;
		}
		c->c[i].parent = j;
	}
	/* parents must not form a loop */
	for (size_t i = 0; i < c->n; i++) {
		int j = c->c[i].parent;
		size_t steps = 0;
		while (j >= 0 && steps <= c->n) {
			j = c->c[j].parent;
			steps++;
		}
		if (j >= 0) {
			rc = yoc_error_set(e, YOC_EPARSE, c->file, c->c[i].line, 1,
					   "parents of '%s' form a loop", c->c[i].name);
			goto cleanup;
		}
	}
	*out = c;
	c = NULL;
cleanup:
	yoc_budget_cats_free(c);
	return rc;
}

int yoc_budget_cats_load(const char *path, yoc_budget_cats **out, struct yoc_error *e)
{
	*out = NULL;
	char *text = NULL;
	size_t n = 0;
	int rc = yoc_read_file(path, 1 << 20, &text, &n, e);
	if (rc)
		return rc;
	rc = yoc_budget_cats_parse(text, n, path, out, e);
	yoc_free(text);
	return rc;
}

size_t yoc_budget_cats_count(const yoc_budget_cats *c) { return c->n; }
const char *yoc_budget_cats_name(const yoc_budget_cats *c, size_t i) { return c->c[i].name; }
int yoc_budget_cats_parent(const yoc_budget_cats *c, size_t i) { return c->c[i].parent; }
const char *yoc_budget_cats_rule(const yoc_budget_cats *c, size_t i) { return c->c[i].rule; }
long yoc_budget_cats_line(const yoc_budget_cats *c, size_t i) { return c->c[i].line; }
const char *yoc_budget_cats_version(const yoc_budget_cats *c) { return c->version; }
const char *yoc_budget_cats_text(const yoc_budget_cats *c) { return c->text; }

int yoc_budget_cats_find(const yoc_budget_cats *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->c[i].name, name) == 0)
			return (int)i;
	return -1;
}

void yoc_budget_assign_free(struct yoc_budget_assign *a)
{
	if (!a)
		return;
	yoc_free(a->pseudo);
	yoc_free(a->cat);
	memset(a, 0, sizeof *a);
}

int yoc_budget_categorise(sqlite3 *db, const yoc_budget_cats *c, const char *fyear,
			  struct yoc_budget_assign *out, struct yoc_error *e)
{
	memset(out, 0, sizeof *out);
	yoc_rule_schema *sc = NULL;
	yoc_rule **rules = NULL;
	yoc_rule_frame *f = NULL;
	struct yoc_rule_result res;
	memset(&res, 0, sizeof res);
	int rc;
	if ((rc = yoc_rule_schema_load(db, &sc, e)))
		goto cleanup;
	rules = yoc_calloc(c->n, sizeof *rules);
	if (!rules) {
		rc = yoc_error_set(e, YOC_ENOMEM, c->file, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t i = 0; i < c->n; i++) {
		struct yoc_error re;
		yoc_error_clear(&re);
		if ((rc = yoc_rule_compile(c->c[i].rule, sc, &rules[i], &re))) {
			yoc_error_set(e, rc, c->file, c->c[i].line,
				      c->c[i].col + (re.col > 0 ? re.col - 1 : 0), "%s", re.msg);
			goto cleanup;
		}
	}
	if ((rc = yoc_rule_frame_load(db, fyear, rules, c->n, &f, e)))
		goto cleanup;
	size_t nr = yoc_rule_frame_rows(f);
	if (nr == 0) {
		rc = yoc_error_set(e, YOC_ENOTFOUND, "person_year", 0, 0,
				   "no person_year rows for %s (run yoc analyse over that year)",
				   fyear);
		goto cleanup;
	}
	out->n = nr;
	out->pseudo = yoc_malloc(nr * sizeof *out->pseudo);
	out->cat = yoc_malloc(nr * sizeof *out->cat);
	if (!out->pseudo || !out->cat) {
		rc = yoc_error_set(e, YOC_ENOMEM, c->file, 0, 0, "out of memory");
		goto cleanup;
	}
	for (size_t r = 0; r < nr; r++) {
		out->cat[r] = -1;
		snprintf(out->pseudo[r], sizeof out->pseudo[r], "%s", yoc_rule_frame_pseudo(f, r));
	}
	size_t left = nr;
	for (size_t i = 0; i < c->n && left; i++) {
		if ((rc = yoc_rule_eval(rules[i], f, &res, e)))
			goto cleanup;
		for (size_t r = 0; r < nr; r++)
			if (out->cat[r] < 0 && yoc_rule_bit(res.selected, r)) {
				out->cat[r] = (int)i;
				left--;
			}
		yoc_rule_result_free(&res);
	}
	if (left) {
		size_t first = 0;
		while (out->cat[first] >= 0)
			first++;
		rc = yoc_error_set(e, YOC_EDATA, c->file, c->c[c->n - 1].line, 0,
				   "%zu person-years of %s are in no category (the first: %.16s...);"
				   " end the file with a catch-all such as 'other : true'",
				   left, fyear, out->pseudo[first]);
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (rc)
		yoc_budget_assign_free(out);
	yoc_rule_result_free(&res);
	yoc_rule_frame_free(f);
	if (rules)
		for (size_t i = 0; i < c->n; i++)
			yoc_rule_free(rules[i]);
	yoc_free(rules);
	yoc_rule_schema_free(sc);
	return rc;
}
