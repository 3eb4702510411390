/*
** Column names: normalisation, identifier classes, the allow-list and the
** default-deny plan for one header.
**
** Must not: keep a column the spec does not know unless the key holder
** allowed it; let the allow-list admit a direct identifier; print a header
** name that may be data (all digits).
*/
#include <string.h>

#include "ident/ident.h"
#include "yoc/io.h"

#define NORM_CAP 160

size_t yoc_ident_norm(const char *p, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int c = yoc_spec_name_char((unsigned char)p[i]);
		if (!c)
			continue;
		if (k + 1 < cap)
			out[k] = (char)c;
		k++;
	}
	if (cap)
		out[k < cap ? k : cap - 1] = 0;
	return k;
}

/* ---- identifier classes by name ----------------------------------------- */

/*
** Patterns over the normalised name, in order (contact before address, so
** "E-mail Address" is a contact). The whole-name lists catch short words
** that would be too broad as parts (TEL, NOTE, CHI); the part lists catch
** every spelling around them ("PATIENT_SURNAME", "Home Address Line 1").
*/
struct pat {
	int cls;
	const char *const *exact, *const *contains, *const *prefix, *const *suffix;
};
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

static const struct pat pats[] = {
	{YOC_IDC_NHSNO, L("NHS", "NHSN", "NEWNHS"), L("NHSNO", "NHSNUM"), NULL, NULL},
	{YOC_IDC_DOB, L("BIRTHDT", "BDATE"), L("DATEOFBIRTH", "BIRTHDATE", "BIRTHDAY"),
	 L("DOB"), L("DOB")},
	{YOC_IDC_NAME, L("INITIALS", "INITIAL", "TITLE", "FORENAMES", "ALIAS"),
	 L("SURNAME", "FORENAME", "FIRSTNAME", "LASTNAME", "GIVENNAME", "FAMILYNAME",
	   "FULLNAME", "MIDDLENAME", "MAIDENNAME", "PREFERREDNAME", "PATIENTNAME",
	   "PERSONNAME", "CLIENTNAME"),
	 NULL, L("NAME", "NAMES")},
	{YOC_IDC_CONTACT, L("TEL", "TELNO", "EMAIL", "FAX"),
	 L("PHONE", "TELEPHONE", "MOBILE", "EMAIL"), NULL, L("TEL", "TELNO")},
	{YOC_IDC_ADDRESS, L("HOMEADD", "PCODE", "STREET", "HOUSENUMBER", "HOUSENO", "TOWN",
			    "POSTTOWN", "UPRN"),
	 L("ADDRESS", "POSTCODE", "ZIPCODE"), L("ADDR"), NULL},
	{YOC_IDC_FREETEXT, L("NOTE", "NOTES", "NARRATIVE", "REMARKS"),
	 L("FREETEXT", "COMMENT", "NARRATIVE"), L("NOTES"), L("NOTES", "TEXT")},
	{YOC_IDC_LOCALID, L("CHI", "CHINO", "CHINUMBER", "LOPATID", "LOCALPATID", "PATIENTID",
			    "PATID", "PATIENTNO", "PATIENTNUMBER", "MRN", "HOSPNO", "HOSPITALNO",
			    "HOSPITALNUMBER", "CASENOTENUMBER", "CASENOTENO", "NINO", "NINUMBER",
			    "PASID", "PASNUMBER", "PASNO", "SSN", "PERSONID", "CLIENTID"),
	 L("NATIONALINSURANCE", "HOSPITALNUMBER", "LOCALPATIENTID", "MEDICALRECORD"),
	 NULL, NULL},
	{YOC_IDC_NOK, NULL, L("NEXTOFKIN"), L("NOK"), NULL},
};

/* Names that match a pattern above but are fields yoc itself defines. */
static const char *const not_ident[] = {"NHSNOSTATUS", "MYDOB", NULL};

static int in(const char *const *list, const char *s)
{
	for (; list && *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

static int has(const char *const *list, const char *s, size_t n, int where)
{
	for (; list && *list; list++) {
		size_t m = strlen(*list);
		if (m > n)
			continue;
		if (where == 0 && strstr(s, *list))
			return 1;
		if (where == 1 && memcmp(s, *list, m) == 0)
			return 1;
		if (where == 2 && memcmp(s + n - m, *list, m) == 0)
			return 1;
	}
	return 0;
}

int yoc_ident_name_class(const char *p, size_t n)
{
	char s[NORM_CAP];
	size_t m = yoc_ident_norm(p, n, s, sizeof s);
	if (m == 0 || m >= sizeof s || in(not_ident, s))
		return YOC_IDC_NONE;
	for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
		const struct pat *t = &pats[i];
		if (in(t->exact, s) || has(t->contains, s, m, 0) || has(t->prefix, s, m, 1) ||
		    has(t->suffix, s, m, 2))
			return t->cls;
	}
	return YOC_IDC_NONE;
}

const char *yoc_ident_class_str(int cls)
{
	static const char *const names[] = {"none", "NHS number", "date of birth", "name",
		"address or postcode", "phone or e-mail", "free text", "local patient identifier",
		"next of kin"};
	return cls >= 0 && cls < YOC_IDC_COUNT ? names[cls] : "?";
}

const char *yoc_ident_act_str(int act)
{
	static const char *const names[] = {"keep", "drop", "drop (identifier)", "pseudonymise",
		"coarsen", "drop (reserved)"};
	return act >= 0 && act <= YOC_IA_RESERVED ? names[act] : "?";
}

void yoc_ident_show(const char *p, size_t n, char *out, size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < max; i++) {
		unsigned char c = (unsigned char)p[i];
		out[k++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	if (n > max) {
		memcpy(out + k, "...", 3);
		k += 3;
	}
	out[k] = 0;
}

/* ---- the allow-list ----------------------------------------------------- */

struct yoc_allow {
	struct yoc_arena arena;
	char **names;          /* normalised */
	unsigned char *dates;
	size_t n, cap;
};

void yoc_allow_free(yoc_allow *a)
{
	if (!a)
		return;
	yoc_arena_free(&a->arena);
	yoc_free(a->names);
	yoc_free(a->dates);
	yoc_free(a);
}

static int allow_add(yoc_allow *a, const char *norm, size_t m, int dates)
{
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->names[i], norm) == 0) {
			a->dates[i] |= (unsigned char)dates;
			return YOC_OK;
		}
	if (a->n == a->cap) {
		size_t nc = a->cap ? 2 * a->cap : 16;
		char **nn = yoc_realloc(a->names, nc * sizeof *nn);
		if (!nn)
			return YOC_ENOMEM;
		a->names = nn;
		unsigned char *nd = yoc_realloc(a->dates, nc);
		if (!nd)
			return YOC_ENOMEM;
		a->dates = nd;
		a->cap = nc;
	}
	char *s = yoc_arena_alloc(&a->arena, m + 1);
	if (!s)
		return YOC_ENOMEM;
	memcpy(s, norm, m + 1);
	a->names[a->n] = s;
	a->dates[a->n] = (unsigned char)dates;
	a->n++;
	return YOC_OK;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

int yoc_allow_parse(yoc_allow **out, const char *text, size_t n, const char *name,
		    struct yoc_error *e)
{
	*out = NULL;
	yoc_allow *a = yoc_calloc(1, sizeof *a);
	if (!a)
		return yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
	yoc_arena_init(&a->arena, 4096);
	long line = 0;
	size_t i = 0;
	int rc = YOC_OK;
	while (i < n) {
		size_t b = i;
		while (i < n && text[i] != '\n')
			i++;
		size_t end = i;
		if (i < n)
			i++;
		line++;
		for (size_t k = b; k < end; k++)
			if (text[k] == '#') {
				end = k;
				break;
			}
		/* name [, or blanks] [date] */
		size_t s = b;
		while (s < end && is_blank(text[s]))
			s++;
		if (s == end)
			continue;
		size_t t = s;
		while (t < end && text[t] != ',' && text[t] != '\t')
			t++;
		size_t ne = t;
		while (ne > s && is_blank(text[ne - 1]))
			ne--;
		int dates = 0;
		size_t r = t < end ? t + 1 : end;
		while (r < end && is_blank(text[r]))
			r++;
		size_t re = end;
		while (re > r && is_blank(text[re - 1]))
			re--;
		if (re > r) {
			if (re - r == 4 && memcmp(text + r, "date", 4) == 0) {
				dates = 1;
			} else if (!(re - r == 4 && memcmp(text + r, "text", 4) == 0)) {
				rc = yoc_error_set(e, YOC_EPARSE, name, line, (long)(r - b) + 1,
						   "expected 'date' or 'text' after the column name");
				goto fail;
			}
		}
		char norm[NORM_CAP];
		size_t m = yoc_ident_norm(text + s, ne - s, norm, sizeof norm);
		char shown[64];
		yoc_ident_show(text + s, ne - s, shown, 40);
		if (m == 0 || m >= YOC_IDENT_MAX_NAME) {
			rc = yoc_error_set(e, YOC_EPARSE, name, line, 1,
					   "'%s' is not a column name", shown);
			goto fail;
		}
		int cls = yoc_ident_name_class(text + s, ne - s);
		if (cls != YOC_IDC_NONE) {
			rc = yoc_error_set(e, YOC_EPERM, name, line, 1,
					   "'%s' names a direct identifier (%s): it cannot be"
					   " allowed", shown, yoc_ident_class_str(cls));
			goto fail;
		}
		if (strcmp(norm, "PSEUDOID") == 0 || strcmp(norm, "NHSNOSTATUS") == 0) {
			rc = yoc_error_set(e, YOC_EPERM, name, line, 1,
					   "'%s' is a column pseudonymise writes itself", shown);
			goto fail;
		}
		if (allow_add(a, norm, m, dates)) {
			rc = yoc_error_set(e, YOC_ENOMEM, name, line, 0, "out of memory");
			goto fail;
		}
	}
	*out = a;
	return YOC_OK;
fail:
	yoc_allow_free(a);
	return rc;
}

int yoc_allow_load(yoc_allow **out, const char *path, struct yoc_error *e)
{
	char *text = NULL;
	size_t n = 0;
	*out = NULL;
	int rc = yoc_read_file(path, 1 << 20, &text, &n, e);
	if (rc)
		return rc;
	rc = yoc_allow_parse(out, text, n, path, e);
	yoc_free(text);
	return rc;
}

int yoc_allow_has(const yoc_allow *a, const char *p, size_t n)
{
	char norm[NORM_CAP];
	if (!a)
		return 0;
	size_t m = yoc_ident_norm(p, n, norm, sizeof norm);
	if (m == 0 || m >= sizeof norm)
		return 0;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->names[i], norm) == 0)
			return a->dates[i] ? 2 : 1;
	return 0;
}

size_t yoc_allow_count(const yoc_allow *a)
{
	return a ? a->n : 0;
}

/* ---- the plan ----------------------------------------------------------- */

void yoc_ident_plan_free(struct yoc_ident_plan *pl)
{
	if (!pl)
		return;
	yoc_free(pl->cols);
	pl->cols = NULL;
	pl->ncols = 0;
}

/* The NHS number column, best first: NEWNHSNO, then NHS_NUMBER / NHSNO and spellings. */
static int nhs_rank(const char *norm)
{
	if (strcmp(norm, "NEWNHSNO") == 0)
		return 3;
	if (strcmp(norm, "NHSNUMBER") == 0 || strcmp(norm, "NHSNO") == 0 ||
	    strcmp(norm, "NHSNUM") == 0 || strcmp(norm, "NEWNHSNUMBER") == 0 ||
	    strcmp(norm, "PATIENTNHSNUMBER") == 0 || strcmp(norm, "PATIENTNHSNO") == 0)
		return 2;
	return 0;
}

static int dob_rank(const char *norm)
{
	if (strcmp(norm, "DOB") == 0)
		return 3;
	if (strcmp(norm, "DATEOFBIRTH") == 0 || strcmp(norm, "BIRTHDATE") == 0 ||
	    strcmp(norm, "PATIENTDOB") == 0 || strcmp(norm, "PATIENTDATEOFBIRTH") == 0)
		return 2;
	return 0;
}

/* A name that is digits (with any punctuation or blanks): a data row as a header. */
static int digits_only(const char *p, size_t n)
{
	int d = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))
			return 0;
		d |= c >= '0' && c <= '9';
	}
	return d;
}

static int header_checks(const struct yoc_cell *hdr, size_t n, const char *path,
			 struct yoc_error *e)
{
	if (n > YOC_IDENT_MAX_COLS)
		return yoc_error_set(e, YOC_EPARSE, path, 1, 0,
				     "the header has %zu columns, more than any feed (%d): "
				     "refused (is the first line a header?)", n, YOC_IDENT_MAX_COLS);
	for (size_t i = 0; i < n; i++) {
		if (hdr[i].n > YOC_IDENT_MAX_NAME)
			return yoc_error_set(e, YOC_EPARSE, path, 1, (long)i + 1,
					     "column %zu's name is %zu bytes long (at most %d): "
					     "refused (is the first line a header?)", i + 1, hdr[i].n,
					     YOC_IDENT_MAX_NAME);
		if (digits_only(hdr[i].p, hdr[i].n))
			return yoc_error_set(e, YOC_EPARSE, path, 1, (long)i + 1,
					     "column %zu's name is digits, which is data, not a "
					     "name: refused (is the first line a data row, or are "
					     "the line endings unusual?)", i + 1);
	}
	return YOC_OK;
}

static int duplicates(const struct yoc_cell *hdr, size_t n, const char *path,
		      struct yoc_error *e)
{
	/* n <= 1024 names of <= 128 bytes: a quadratic pass over normalised names is cheap. */
	char (*norm)[NORM_CAP] = yoc_malloc((n ? n : 1) * sizeof *norm);
	if (!norm)
		return yoc_error_set(e, YOC_ENOMEM, path, 1, 0, "out of memory");
	int rc = YOC_OK;
	for (size_t i = 0; i < n && !rc; i++) {
		yoc_ident_norm(hdr[i].p, hdr[i].n, norm[i], NORM_CAP);
		for (size_t j = 0; j < i; j++)
			if (strcmp(norm[i], norm[j]) == 0) {
				char a[64], b[64];
				yoc_ident_show(hdr[j].p, hdr[j].n, a, 40);
				yoc_ident_show(hdr[i].p, hdr[i].n, b, 40);
				rc = yoc_error_set(e, YOC_EPARSE, path, 1, (long)i + 1,
						   "columns %zu '%s' and %zu '%s' have the same name%s:"
						   " refused (a value would be lost; rename one)",
						   j + 1, a, i + 1, b, norm[i][0] ? "" : " (empty)");
				break;
			}
	}
	yoc_free(norm);
	return rc;
}

static int reserved(const char *norm, int mode)
{
	if (mode != YOC_IDENT_PSEUDO)
		return 0;
	return strcmp(norm, "PSEUDOID") == 0 || strcmp(norm, "NHSNOSTATUS") == 0 ||
	       strcmp(norm, "PSEUDOHESID") == 0 || strcmp(norm, "TOKENPERSONID") == 0;
}

int yoc_ident_plan_make(struct yoc_ident_plan *pl, const struct yoc_cell *hdr, size_t n,
			const struct yoc_ident_opts *o, const char *path,
			struct yoc_error *e)
{
	int rc;
	memset(pl, 0, sizeof *pl);
	pl->nhs_col = pl->dob_col = -1;
	if ((rc = header_checks(hdr, n, path, e)) || (rc = duplicates(hdr, n, path, e)))
		return rc;
	pl->kind = o->kind >= 0 ? o->kind : yoc_spec_detect(hdr, n);
	if (pl->kind < 0 && o->kind < 0 && path)
		pl->kind = yoc_spec_kind_from_path(path);
	if (pl->kind < 0)
		return yoc_error_set(e, YOC_EINVAL, path, 1, 0,
				     "feed kind not recognised from the header (nor from the "
				     "folder's name); give --kind");
	const struct yoc_kind_spec *ks = yoc_spec_kind(pl->kind);
	pl->cols = yoc_calloc(n ? n : 1, sizeof *pl->cols);
	if (!pl->cols)
		return yoc_error_set(e, YOC_ENOMEM, path, 1, 0, "out of memory");
	pl->ncols = n;

	/* The NHS number and date of birth to transform: the best-ranked of each. */
	int nbest = 0, dbest = 0;
	long mydob = -1;
	for (size_t i = 0; o->mode == YOC_IDENT_PSEUDO && i < n; i++) {
		char norm[NORM_CAP];
		yoc_ident_norm(hdr[i].p, hdr[i].n, norm, sizeof norm);
		int r = nhs_rank(norm), d = dob_rank(norm);
		if (r > nbest) {
			nbest = r;
			pl->nhs_col = (long)i;
		}
		if (d > dbest) {
			dbest = d;
			pl->dob_col = (long)i;
		}
		if (strcmp(norm, "MYDOB") == 0)
			mydob = (long)i;
	}
	for (size_t i = 0; i < n; i++) {
		struct yoc_ident_col *c = &pl->cols[i];
		char norm[NORM_CAP];
		yoc_ident_norm(hdr[i].p, hdr[i].n, norm, sizeof norm);
		int cls = yoc_ident_name_class(hdr[i].p, hdr[i].n);
		const char *sp = NULL;
		const struct yoc_field *f = yoc_spec_match(ks, hdr[i].p, hdr[i].n, &sp);
		int allow = yoc_allow_has(o->allow, hdr[i].p, hdr[i].n);
		if ((long)i == pl->nhs_col) {
			c->act = YOC_IA_NHSNO;
		} else if ((long)i == pl->dob_col) {
			c->act = YOC_IA_DOB;
		} else if (reserved(norm, o->mode) || ((long)i == mydob && pl->dob_col >= 0)) {
			c->act = YOC_IA_RESERVED;
		} else if (cls != YOC_IDC_NONE) {
			c->act = YOC_IA_IDENT;
			c->cls = (unsigned char)cls;
		} else if (f) {
			c->act = YOC_IA_KEEP;
			c->f = f;
			c->spelling = sp;
			c->dates = f->type == YOC_FT_DATE;
		} else if (allow) {
			c->act = YOC_IA_KEEP;
			c->allowed = 1;
			c->dates = allow == 2;
		} else {
			c->act = YOC_IA_DROP;
		}
		char shown[64];
		yoc_ident_show(hdr[i].p, hdr[i].n, shown, 40);
		switch (c->act) {
		case YOC_IA_KEEP: pl->nkeep++; break;
		case YOC_IA_RESERVED: pl->nreserved++; break;
		case YOC_IA_IDENT:
			pl->nident++;
			if (o->mode == YOC_IDENT_LOAD) {
				rc = yoc_error_set(e, YOC_EPERM, path, 1, (long)i + 1,
						   "column %zu '%s' holds a direct identifier (%s) by "
						   "its name: refused; pseudonymise the file first "
						   "with 'yoc pseudonymise'", i + 1, shown,
						   yoc_ident_class_str(cls));
				goto fail;
			}
			break;
		case YOC_IA_DROP:
			pl->ndrop++;
			if (o->strict) {
				rc = yoc_error_set(e, YOC_EPERM, path, 1, (long)i + 1,
						   "column %zu '%s' is not a field of %s feeds nor on "
						   "the allow-list: refused (--strict)", i + 1, shown,
						   ks->name);
				goto fail;
			}
			break;
		}
	}
	if (o->mode == YOC_IDENT_PSEUDO && pl->nhs_col < 0) {
		rc = yoc_error_set(e, YOC_EINVAL, path, 1, 0,
				   "no NHS number column: the header has no NEWNHSNO (or NHS "
				   "number) column (%zu columns); refusing to pseudonymise", n);
		goto fail;
	}
	return YOC_OK;
fail:
	yoc_ident_plan_free(pl);
	return rc;
}
