/*
** Identifiers at source (`yoc synth --identifiers`): every feed row gains
** GIVEN_NAME, FAMILY_NAME and POSTCODE after its last column, as a provider's
** extract carries them before pseudonymisation (docs/feeds.md). Each person
** has one name and one postcode (from their small area), drawn from a stream
** of their own, so the other streams, and so every other byte, are as
** without the option. On a row whose NHS number a defect dropped or
** corrupted, the identifiers are written with the noise of real records:
** nicknames and spelling variants, typing errors, day and month of birth
** transposed, an old address, missing fields. truth/link.csv says whose
** each such row is, and what noise it carries.
**
** Without the option nothing here runs.
*/
#include <stdio.h>
#include <string.h>

#include "synth/synth_int.h"
#include "yoc/nhsno.h"

#define STREAM_IDENT 21

struct idn {
	struct yoc_afile truth;
	struct yoc_afile dups;  /* truth/duplicates.csv */
	uint64_t idx;           /* the person the names below belong to */
	int have;
	char given[24], family[32], postcode[12];
	struct rng r;           /* the person's identifier stream */
	uint64_t rows;          /* noisy rows written */
};

/* Common given names (a weight falls with rank) and their usual variants. */
static const char *const male[] = {
	"JOHN", "DAVID", "MICHAEL", "PAUL", "ANDREW", "PETER", "JAMES", "ROBERT", "MARK",
	"RICHARD", "STEPHEN", "WILLIAM", "THOMAS", "CHRISTOPHER", "ANTHONY", "DANIEL", "GEORGE",
	"MATTHEW", "IAN", "KEVIN", "GARY", "BRIAN", "ALAN", "STEVEN", "SIMON", "JOSEPH", "JACK",
	"OLIVER", "HARRY", "SAMUEL", "BENJAMIN", "EDWARD", "CHARLES", "KENNETH", "RONALD",
	"ARTHUR", "FREDERICK", "HENRY", "ALFRED", "LEONARD", "NICHOLAS", "PHILIP", "GRAHAM",
	"KEITH", "COLIN", "NEIL", "DEAN", "LUKE", "ADAM", "RYAN", "MOHAMMED", "ALI", "RAJ",
	"OSCAR", "NOAH", "LEO", "ARCHIE", "JOSHUA", "LIAM", "CONNOR"};
static const char *const female[] = {
	"MARGARET", "SUSAN", "ELIZABETH", "SARAH", "PATRICIA", "JANE", "MARY", "CATHERINE",
	"JULIE", "KAREN", "HELEN", "JENNIFER", "NICOLA", "EMMA", "CLAIRE", "LINDA", "ANN",
	"BARBARA", "DOROTHY", "JOAN", "JEAN", "SANDRA", "CHRISTINE", "DEBORAH", "JACQUELINE",
	"REBECCA", "VICTORIA", "LAURA", "RACHEL", "AMANDA", "LOUISE", "KATHLEEN", "IRENE",
	"DORIS", "EILEEN", "MAUREEN", "PAULINE", "ALISON", "GILLIAN", "ANGELA", "CHARLOTTE",
	"OLIVIA", "AMELIA", "ISLA", "EMILY", "SOPHIE", "JESSICA", "CHLOE", "GRACE", "HANNAH",
	"FATIMA", "AISHA", "PRIYA", "ZARA", "ELLIE", "MIA", "LILY", "ISABELLA", "POPPY", "EVIE"};

/* Names as a person may give them: nicknames and spellings (either way). */
static const char *const given_alt[][2] = {
	{"WILLIAM", "BILL"}, {"WILLIAM", "WILL"}, {"ELIZABETH", "LIZ"}, {"ELIZABETH", "BETTY"},
	{"MARGARET", "PEGGY"}, {"MARGARET", "MAGGIE"}, {"ROBERT", "BOB"}, {"ROBERT", "ROB"},
	{"JAMES", "JIM"}, {"JAMES", "JIMMY"}, {"JOHN", "JACK"}, {"RICHARD", "DICK"},
	{"RICHARD", "RICK"}, {"ANTHONY", "TONY"}, {"CATHERINE", "KATE"},
	{"CATHERINE", "KATHERINE"}, {"CATHERINE", "CATH"}, {"SUSAN", "SUE"}, {"DAVID", "DAVE"},
	{"MICHAEL", "MIKE"}, {"MICHAEL", "MICK"}, {"CHRISTOPHER", "CHRIS"},
	{"CHRISTINE", "CHRIS"}, {"PATRICIA", "PAT"}, {"PATRICIA", "TRISH"}, {"ALFRED", "ALF"},
	{"NICHOLAS", "NICK"}, {"STEPHEN", "STEVE"}, {"STEPHEN", "STEVEN"}, {"STEVEN", "STEPHEN"},
	{"THOMAS", "TOM"}, {"HENRY", "HARRY"}, {"EDWARD", "TED"}, {"EDWARD", "EDDIE"},
	{"JENNIFER", "JENNY"}, {"DOROTHY", "DOT"}, {"SARAH", "SALLY"}, {"SARAH", "SARA"},
	{"MARY", "MOLLY"}, {"DANIEL", "DANNY"}, {"SAMUEL", "SAM"}, {"BENJAMIN", "BEN"},
	{"JOSEPH", "JOE"}, {"FREDERICK", "FRED"}, {"PETER", "PETE"}, {"ANDREW", "ANDY"},
	{"MATTHEW", "MATT"}, {"REBECCA", "BECKY"}, {"VICTORIA", "VICKY"}, {"DEBORAH", "DEBBIE"},
	{"JACQUELINE", "JACKIE"}, {"KATHLEEN", "KATH"}, {"ANN", "ANNE"}, {"PHILIP", "PHILLIP"},
	{"PHILIP", "PHIL"}, {"GRAHAM", "GRAEME"}, {"MOHAMMED", "MUHAMMAD"},
	{"MOHAMMED", "MOHAMMAD"}, {"ISLA", "ILA"}, {"CHARLOTTE", "LOTTIE"}, {"OLIVIA", "LIV"},
	{"AMELIA", "MILLIE"}, {"EMILY", "EMMY"}, {"ISABELLA", "BELLA"}, {"JOSHUA", "JOSH"},
	{"LEONARD", "LEN"}, {"KENNETH", "KEN"}, {"RONALD", "RON"}, {"ARTHUR", "ART"},
	{"ALAN", "ALLAN"}, {"ALAN", "ALLEN"}, {"JEAN", "JEANNE"}, {"CLAIRE", "CLARE"},
	{"LOUISE", "LOUISA"}, {"GILLIAN", "JILLIAN"}, {"NEIL", "NEAL"}};

/* Common surnames, most common first. */
static const char *const surnames[] = {
	"SMITH", "JONES", "WILLIAMS", "TAYLOR", "BROWN", "DAVIES", "EVANS", "WILSON", "THOMAS",
	"JOHNSON", "ROBERTS", "ROBINSON", "THOMPSON", "WRIGHT", "WALKER", "WHITE", "EDWARDS",
	"HUGHES", "GREEN", "HALL", "LEWIS", "HARRIS", "CLARKE", "PATEL", "JACKSON", "WOOD",
	"TURNER", "MARTIN", "COOPER", "HILL", "WARD", "MORRIS", "MOORE", "CLARK", "LEE", "KING",
	"BAKER", "HARRISON", "MORGAN", "ALLEN", "JAMES", "SCOTT", "PHILLIPS", "WATSON", "DAVIS",
	"PARKER", "PRICE", "BENNETT", "YOUNG", "GRIFFITHS", "MITCHELL", "KELLY", "COOK",
	"CARTER", "RICHARDSON", "BAILEY", "COLLINS", "BELL", "SHAW", "MURPHY", "MILLER", "COX",
	"RICHARDS", "KHAN", "MARSHALL", "ANDERSON", "SIMPSON", "ELLIS", "ADAMS", "SINGH",
	"BEGUM", "WILKINSON", "FOSTER", "CHAPMAN", "POWELL", "WEBB", "ROGERS", "GRAY", "MASON",
	"ALI", "HUNT", "HUSSAIN", "CAMPBELL", "MATTHEWS", "OWEN", "PALMER", "HOLMES", "MILLS",
	"BARNES", "KNIGHT", "LLOYD", "BUTLER", "RUSSELL", "BARKER", "FISHER", "STEVENS",
	"JENKINS", "MURRAY", "DIXON", "HARVEY", "MCDONALD", "MACKENZIE", "OCONNOR", "SHACKLETON"};

/* Spellings of the same family name as clerks write them. */
static const char *const family_alt[][2] = {
	{"SMITH", "SMYTH"}, {"SMITH", "SMITHE"}, {"THOMPSON", "THOMSON"}, {"CLARKE", "CLARK"},
	{"CLARK", "CLARKE"}, {"DAVIES", "DAVIS"}, {"DAVIS", "DAVIES"}, {"PHILLIPS", "PHILIPS"},
	{"MATTHEWS", "MATHEWS"}, {"GRAY", "GREY"}, {"STEVENS", "STEPHENS"}, {"MCDONALD", "MACDONALD"},
	{"OCONNOR", "O'CONNOR"}, {"GRIFFITHS", "GRIFFITH"}, {"HUSSAIN", "HUSSEIN"},
	{"MOHAMMED", "MOHAMED"}, {"BEGUM", "BEGAM"}, {"RICHARDS", "RICHARD"}, {"ALLEN", "ALLAN"},
	{"REID", "READ"}, {"MACKENZIE", "MCKENZIE"}};

/* Syllables for the long tail of rarer surnames. */
static const char *const syl1[] = {
	"ASH", "BRAD", "CAR", "DUN", "FAIR", "GOLD", "HOL", "KIRK", "LANG", "MAR", "NOR", "PEN",
	"RAD", "SHER", "THORN", "WHIT", "WIN", "BLACK", "CRAN", "ELD", "FARN", "GRIM", "HAR",
	"LOCK", "MIL", "OAK", "PRES", "ROW", "STAN", "TAL", "WAL", "BUR", "CHAD", "DER", "HAW",
	"LAM", "MOR", "REN", "SAL", "TRE"};
static const char *const syl2[] = {
	"WORTH", "FORD", "TON", "LEY", "BY", "HAM", "WELL", "FIELD", "BROOK", "WOOD", "SON",
	"DALE", "STEAD", "MORE", "LOW", "COTT", "WICK", "HURST", "BOURNE", "RIDGE", "LAND",
	"SHAW", "THORPE", "INGTON", "OCK", "ETT", "ER", "IN", "AN", "ELL"};

static const char unit_letters[] = "ABDEFGHJLNPQRSTUWXYZ";

/* Rank drawn with weight 1 / (rank + 2): a few names common, most rarer. */
static uint32_t zipf(struct rng *r, uint32_t n)
{
	double h = 0;
	for (uint32_t i = 0; i < n; i++)
		h += 1.0 / (i + 2.0);
	double u = rng_unif(r) * h, c = 0;
	for (uint32_t i = 0; i < n; i++) {
		c += 1.0 / (i + 2.0);
		if (u < c)
			return i;
	}
	return n - 1;
}

static void copy_name(char *dst, size_t cap, const char *s)
{
	snprintf(dst, cap, "%s", s);
}

/* "YA1 2BD": area from the small area's block of 800, district, sector, unit. */
static void make_postcode(char *out, size_t cap, uint32_t lsoa, struct rng *r)
{
	uint32_t area = lsoa / 800, district = 1 + (lsoa % 800) / 8, sector = 1 + lsoa % 8;
	char u1 = unit_letters[rng_below(r, 20)], u2 = unit_letters[rng_below(r, 20)];
	snprintf(out, cap, "Y%c%u %u%c%c", (char)('A' + area % 26), (unsigned)district,
		 (unsigned)sector, u1, u2);
}

static void person_names(struct idn *s, const struct world *w, const struct person *p)
{
	if (s->have && s->idx == p->idx)
		return;
	rng_seed(&s->r, w->o->seed, STREAM_IDENT, p->idx);
	const char *const *g = p->sex == 1 ? male : female;
	uint32_t ng = p->sex == 1 ? sizeof male / sizeof *male : sizeof female / sizeof *female;
	copy_name(s->given, sizeof s->given, g[zipf(&s->r, ng)]);
	if (rng_chance(&s->r, 0.55)) {
		copy_name(s->family, sizeof s->family,
			  surnames[zipf(&s->r, sizeof surnames / sizeof *surnames)]);
	} else {
		snprintf(s->family, sizeof s->family, "%s%s",
			 syl1[rng_below(&s->r, sizeof syl1 / sizeof *syl1)],
			 syl2[rng_below(&s->r, sizeof syl2 / sizeof *syl2)]);
	}
	make_postcode(s->postcode, sizeof s->postcode, p->lsoa, &s->r);
	s->idx = p->idx;
	s->have = 1;
}

int synth_idnoise_open(struct world *w, struct yoc_error *e)
{
	char path[4096];
	struct idn *s = yoc_calloc(1, sizeof *s);
	if (!s)
		return yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
	snprintf(path, sizeof path, "%s/truth/link.csv", w->o->out_dir);
	int rc = yoc_afile_open(&s->truth, path, e);
	if (rc) {
		yoc_free(s);
		return rc;
	}
	fputs("file,row,nhs_number,noise\n", s->truth.f);
	snprintf(path, sizeof path, "%s/truth/duplicates.csv", w->o->out_dir);
	if ((rc = yoc_afile_open(&s->dups, path, e))) {
		yoc_afile_abort(&s->truth);
		yoc_free(s);
		return rc;
	}
	fputs("file,row,nhs_number,true_nhs_number\n", s->dups.f);
	w->idn = s;
	return 0;
}

int synth_idnoise_finish(struct world *w, struct yoc_error *e)
{
	struct idn *s = w->idn;
	if (!s)
		return 0;
	int rc = yoc_afile_commit(&s->truth, e);
	if (rc)
		yoc_afile_abort(&s->dups);
	else
		rc = yoc_afile_commit(&s->dups, e);
	yoc_free(s);
	w->idn = NULL;
	return rc;
}

void synth_idnoise_abort(struct world *w)
{
	struct idn *s = w->idn;
	if (!s)
		return;
	yoc_afile_abort(&s->truth);
	yoc_afile_abort(&s->dups);
	yoc_free(s);
	w->idn = NULL;
}

void synth_idnoise_cells(struct world *w, struct rowb *b, const struct person *p)
{
	struct idn *s = w->idn;
	person_names(s, w, p);
	rb_comma(b);
	rb_str(b, s->given);
	rb_comma(b);
	rb_str(b, s->family);
	rb_comma(b);
	rb_str(b, s->postcode);
}

const char *synth_idnoise_header(void)
{
	return ",GIVEN_NAME,FAMILY_NAME,POSTCODE";
}

/* A typing error: two letters swapped, one dropped, one doubled or replaced. */
static void typo(char *s, size_t cap, struct rng *r)
{
	size_t n = strlen(s);
	if (n < 3)
		return;
	size_t i = 1 + rng_below(r, (uint32_t)(n - 2));
	switch (rng_below(r, 4)) {
	case 0: {
		char t = s[i];
		s[i] = s[i + 1];
		s[i + 1] = t;
		break;
	}
	case 1:
		memmove(s + i, s + i + 1, n - i);
		break;
	case 2:
		if (n + 1 < cap) {
			memmove(s + i + 1, s + i, n - i + 1);
		}
		break;
	default:
		s[i] = (char)('A' + rng_below(r, 26));
		break;
	}
}

static int alt_of(const char *const (*alt)[2], size_t n, const char *name, struct rng *r,
		  char *out, size_t cap)
{
	const char *cand[8];
	int nc = 0;
	for (size_t i = 0; i < n && nc < 8; i++)
		if (strcmp(alt[i][0], name) == 0)
			cand[nc++] = alt[i][1];
	if (!nc)
		return 0;
	copy_name(out, cap, cand[rng_below(r, (uint32_t)nc)]);
	return 1;
}

static void add_noise(char *buf, size_t cap, const char *what)
{
	size_t n = strlen(buf);
	snprintf(buf + n, cap - n, "%s%s", n ? ";" : "", what);
}

/* Field k of a row: start and length. */
static int field(const char *row, size_t n, int k, size_t *fs, size_t *fl)
{
	size_t s = 0;
	int col = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || row[i] == ',' || row[i] == '\n') {
			if (col == k) {
				*fs = s;
				*fl = i - s;
				return 1;
			}
			col++;
			s = i + 1;
		}
	}
	return 0;
}

void synth_idnoise_row(struct world *w, struct sfile *f, char *row, size_t *n,
		       const struct person *p)
{
	struct idn *s = w->idn;
	struct rng *r = &s->r;
	person_names(s, w, p);
	char given[40], family[40], pc[16], dob[16], sex[4], noise[160] = "";
	copy_name(given, sizeof given, s->given);
	copy_name(family, sizeof family, s->family);
	copy_name(pc, sizeof pc, s->postcode);
	size_t fs, fl;
	if (!field(row, *n, 1, &fs, &fl) || fl != 10)
		return;
	memcpy(dob, row + fs, 10);
	dob[10] = 0;
	snprintf(sex, sizeof sex, "%d", p->sex);

	double u = rng_unif(r);
	if (u < 0.10) {
		if (alt_of(given_alt, sizeof given_alt / sizeof *given_alt, given, r, given,
			   sizeof given))
			add_noise(noise, sizeof noise, "given_variant");
	} else if (u < 0.14) {
		typo(given, sizeof given, r);
		add_noise(noise, sizeof noise, "given_typo");
	} else if (u < 0.18) {
		given[0] = 0;
		add_noise(noise, sizeof noise, "given_missing");
	}
	u = rng_unif(r);
	if (u < 0.04) {
		if (alt_of(family_alt, sizeof family_alt / sizeof *family_alt, family, r, family,
			   sizeof family))
			add_noise(noise, sizeof noise, "family_variant");
	} else if (u < 0.08) {
		typo(family, sizeof family, r);
		add_noise(noise, sizeof noise, "family_typo");
	} else if (u < 0.10) {
		family[0] = 0;
		add_noise(noise, sizeof noise, "family_missing");
	} else if (u < 0.12 && p->sex == 2) {
		/* A surname changed on marriage: no longer the register's. */
		copy_name(family, sizeof family,
			  surnames[zipf(r, sizeof surnames / sizeof *surnames)]);
		add_noise(noise, sizeof noise, "family_changed");
	}
	u = rng_unif(r);
	int dd = (dob[8] - '0') * 10 + dob[9] - '0', mm = (dob[5] - '0') * 10 + dob[6] - '0';
	if (u < 0.05 && dd <= 12 && dd != mm) {
		char t0 = dob[5], t1 = dob[6];
		dob[5] = dob[8], dob[6] = dob[9], dob[8] = t0, dob[9] = t1;
		add_noise(noise, sizeof noise, "dob_transposed");
	} else if (u < 0.08) {
		/* One digit of the year or the day mistyped (still a real date). */
		int k = rng_chance(r, 0.5) ? 3 : 9;
		dob[k] = (char)('0' + (dob[k] - '0' + 1 + (int)rng_below(r, 8)) % 10);
		int32_t dd2;
		if (yoc_date_parse(dob, 10, &dd2) != YOC_DATE_VALID) {
			dob[k] = '1';
			if (yoc_date_parse(dob, 10, &dd2) != YOC_DATE_VALID)
				memcpy(dob, row + fs, 10);
		}
		if (memcmp(dob, row + fs, 10) != 0)
			add_noise(noise, sizeof noise, "dob_typo");
	} else if (u < 0.10) {
		dob[0] = 0;
		add_noise(noise, sizeof noise, "dob_missing");
	}
	u = rng_unif(r);
	if (u < 0.12) {
		/* An old address: another postcode, often in the same district. */
		uint32_t l = p->lsoa;
		if (rng_chance(r, 0.5))
			l = (uint32_t)rng_below(r, w->nlsoa);
		make_postcode(pc, sizeof pc, l, r);
		add_noise(noise, sizeof noise, "old_address");
	} else if (u < 0.16) {
		pc[0] = 0;
		add_noise(noise, sizeof noise, "postcode_missing");
	}
	if (rng_chance(r, 0.01)) {
		sex[0] = 0;
		add_noise(noise, sizeof noise, "sex_missing");
	}

	/* Rewrite DOB, SEX (fields 1, 2) and the three identifier cells at the end. */
	char *t = w->scratch;
	size_t tn = 0, s2, l2;
	/* The comma before GIVEN_NAME: the third from the end. */
	int commas = 0;
	size_t idstart = *n;
	for (size_t i = *n; i-- > 0;) {
		if (row[i] == ',' && ++commas == 3) {
			idstart = i;
			break;
		}
	}
	if (!field(row, *n, 2, &s2, &l2) || idstart >= *n)
		return;
	tn = (size_t)snprintf(t, ROW_RESERVE, "%.*s,%s,%s", (int)fs - 1, row, dob, sex);
	size_t mid = s2 + l2; /* from the comma after SEX up to the identifiers */
	if (tn + (idstart - mid) + 120 >= ROW_RESERVE)
		return;
	memcpy(t + tn, row + mid, idstart - mid);
	tn += idstart - mid;
	tn += (size_t)snprintf(t + tn, ROW_RESERVE - tn, ",%s,%s,%s\n", given, family, pc);
	memcpy(row, t, tn);
	f->wp = row + tn;
	f->len = f->len - *n + tn;
	*n = tn;
	f->last_len = (uint32_t)tn;

	char path[4096];
	synth_file_path(w, f, 0, path, sizeof path);
	size_t od = strlen(w->o->out_dir);
	fprintf(s->truth.f, "%s,%llu,%.10s,%s\n", path + od + 1, (unsigned long long)f->rows,
		p->nhs, noise[0] ? noise : "none");
	s->rows++;
}

/*
** The same person under two NHS numbers: a hospital, mental health or
** community service that gave the person a temporary number sends it on
** about 1 row in 400 of theirs. The temporary number is the permutation's
** entry counted from the top of the 999 range (n999 - 1 - idx): valid, and
** never any person's while the run has fewer than half the range's people.
*/
void synth_idnoise_dup(struct world *w, struct sfile *f, char *row, const struct person *p)
{
	struct idn *s = w->idn;
	if (f->kind != K_APC && f->kind != K_OP && f->kind != K_AE && f->kind != K_MH &&
	    f->kind != K_COMMUNITY)
		return;
	if (w->ntotal >= w->n999 / 2 || p->idx >= w->n999 / 2)
		return;
	person_names(s, w, p);
	if (!rng_chance(&s->r, 0.0025))
		return;
	uint64_t idx = w->n999 - 1 - p->idx;
	uint32_t prefix = w->nhs999[(w->perm_a * idx + w->perm_b) % w->n999];
	char nhs[11];
	for (int i = 8; i >= 0; i--) {
		nhs[i] = (char)('0' + prefix % 10);
		prefix /= 10;
	}
	nhs[9] = (char)('0' + yoc_nhsno_check_digit(nhs));
	nhs[10] = 0;
	if (memcmp(row, p->nhs, 10) != 0 || row[10] != ',')
		return;
	memcpy(row, nhs, 10);
	char path[4096];
	synth_file_path(w, f, 0, path, sizeof path);
	size_t od = strlen(w->o->out_dir);
	fprintf(s->dups.f, "%s,%llu,%s,%.10s\n", path + od + 1, (unsigned long long)f->rows, nhs,
		p->nhs);
}
