/*
** Internal declarations shared by the files of the synth module:
**   synth_rng.c      random streams (xoshiro256**, seeded per person)
**   synth_tables.c   condition model, diagnosis, procedure and HRG tables
**   synth_world.c    calendar, geography, providers, NHS numbers, file table
**   synth_people.c   a person's demographics, registrations, conditions, death
**   synth_activity.c a person's activity in every setting
**   synth_emit.c     formatting feed rows, pricing them, the truth row
**   synth_defects.c  row and file defects with their exact counts
**   synth_output.c   row buffers, files, manifest, contracts, opt-outs
**   synth_outcome.c  discharge readiness, reablement, care plans and PAM
**   synth_run.c      yoc_synth_run: the person loop
** Not a public header: nothing outside src/synth includes it.
*/
#ifndef YOC_SYNTH_INT_H
#define YOC_SYNTH_INT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cost/cost.h"
#include "ltc/ltc.h"
#include "synth/synth.h"
#include "yoc/date.h"
#include "yoc/io.h"

#define NEVER INT32_MAX

/* ---- random streams ------------------------------------------------------ */

struct rng {
	uint64_t s[4];
};

static inline uint64_t rng_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_u64(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rng_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rng_rotl(s[3], 45);
	return out;
}

/* Uniform in [0, 1). */
static inline double rng_unif(struct rng *r)
{
	return (double)(rng_u64(r) >> 11) * 0x1.0p-53;
}

/* Uniform integer in [0, n), n > 0. */
static inline uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_u64(r) >> 32) * (uint64_t)n) >> 32);
}

/* Exponential with mean 1. */
static inline double rng_exp(struct rng *r)
{
	return -log(1.0 - rng_unif(r));
}

static inline int rng_chance(struct rng *r, double p)
{
	return rng_unif(r) < p;
}

uint64_t synth_mix64(uint64_t x);
/* Stream for (seed, stream, index): independent of any other triple. */
void rng_seed(struct rng *r, uint64_t seed, uint64_t stream, uint64_t index);
double rng_normal(struct rng *r);
/* Index drawn with probability w[i] / sum(w). */
int rng_pick(struct rng *r, const double *w, int n);
/* Poisson count with mean lambda (lambda < 50). */
int rng_poisson(struct rng *r, double lambda);

enum {
	STREAM_WORLD = 1, STREAM_PERSON = 2, STREAM_DEFECT = 3, STREAM_FILES = 4, STREAM_PILOT = 5,
	STREAM_OUTCOME = 6
};

/* ---- feed kinds ------------------------------------------------------------ */

/*
** Kinds from K_CAREPLAN on are the outcome feeds (synth_outcome.c): added
** after the others, with no share in the world's draws, the file defects or
** the row defects, so that the other feeds are as they were without them.
*/
enum {
	K_APC = 0, K_OP, K_AE, K_COMMUNITY, K_MH, K_GP_APPT, K_SOCIAL, K_AMBULANCE,
	K_DEATHS, K_REGISTER, K_CAREPLAN, K_PAM, K_COUNT
};
/* The kind number hospital spell keys (SUSSPELLID) are made with. */
#define KEY_SPELL 10

/* Column types: what a defect may do to a cell. */
enum { CT_NHS = 1, CT_DATE, CT_CODE, CT_TEXT, CT_INT, CT_MONEY, CT_KEY };

struct colspec {
	const char *name;
	uint8_t type;
	const char *unknown;  /* CT_CODE: value written by an unknown_code defect, else NULL */
};

struct kindspec {
	const char *name;             /* folder under feeds/ */
	const struct colspec *cols;   /* NULL for gp_register (built at run time) */
	int ncols;
	int yearly;                   /* one file per year, not per month */
	int stray_col;                /* column that gets a stray quote */
	int rename_col;               /* column renamed by a renamed_column defect */
	const char *rename_to;
	int cost_col;                 /* MONEY column checked by cost_mismatch, or -1 */
};

extern const struct kindspec synth_kinds[K_COUNT];

/* ---- defects ----------------------------------------------------------------- */

enum {
	D_NHS_BAD_CHECK = 0, D_NHS_MISSING, D_DATE_FORMAT, D_DATE_RANGE, D_DATE_FUTURE,
	D_UNKNOWN_CODE, D_DUPLICATE, D_STRAY_QUOTE, D_COST_MISMATCH,
	D_ROW_COUNT, /* row-level defects above, file-level below */
	D_TRUNCATED = D_ROW_COUNT, D_DUP_FILE, D_RENAMED, D_COUNT
};
extern const char *const synth_defect_names[D_COUNT];
/* Default row rates (per row, before the provider factor and --defect-rate). */
extern const double synth_defect_rates[D_ROW_COUNT];
/*
** Outcome defects (synth_outcome.c), counted per file on rows that carry no
** row defect, so each is found downstream exactly as often as the manifest
** says.
*/
enum { OD_READY_AFTER = 0, OD_PAM_RANGE, OD_PAM_LEVEL, OD_UNREGISTERED, OD_COUNT };
extern const char *const synth_odefect_names[OD_COUNT];

/* ---- conditions ------------------------------------------------------------ */

enum {
	C_HYP = 0, C_DM, C_CHD, C_HF, C_AF, C_STIA, C_COPD, C_AST, C_CKD, C_CAN, C_DEM,
	C_DEP, C_SMI, C_EP, C_LD, C_OST, C_RA, C_PAD, C_PC, C_THY, C_ANX, C_CLD, C_PD,
	C_MS, C_ALC, NCOND
};

enum { F_CARDIO = 0, F_RESP, F_MENTAL, F_FRAIL, F_GENERAL, NFACTOR };

#define NKNOT 11 /* prevalence knots at ages 0, 10, ..., 100 */

struct cond_def {
	const char *id;           /* condition id in data/ltc_codelist.csv */
	float prev[NKNOT];        /* cumulative % ever diagnosed by age, reference group */
	float male_or;            /* odds ratio male vs female */
	float dep_logor;          /* log odds ratio, most vs least deprived (half each side) */
	uint8_t factor;           /* latent cluster */
	float loading;            /* log-odds per SD of the cluster factor */
	float p_register;         /* chance the diagnosis reaches the GP register */
	float reg_lag_days;       /* mean days from onset to register entry */
	float death_hr;           /* hazard ratio for death */
	float need;               /* weight in the activity need score */
	const char *icd[4];       /* ICD-10 codes written for it (NULL-terminated) */
};
extern const struct cond_def synth_conds[NCOND];

/* An admission reason: primary diagnosis and HRG ladder (most to least complex). */
struct reason {
	const char *diag;
	const char *hrg[8];
	uint8_t nhrg;
	float los_mean;           /* mean length of stay of a non-zero stay, days */
	float p_zero;             /* chance of a 0-day stay */
	const char *tretspef;
	const char *opcs;         /* procedure or NULL */
};

enum {
	R_PNEUMONIA = 0, R_LRTI, R_UTI, R_CHEST_PAIN, R_CELLULITIS, R_SEPSIS, R_AKI,
	R_GASTRO, R_SYNCOPE, R_ABDO_PAIN, R_HIP_FRACTURE, R_FALL_INJURY, R_HEADACHE,
	R_POISONING, R_ANAEMIA, R_ELECTROLYTE, R_GI_BLEED,
	/* condition-related */
	R_HF, R_COPD, R_ASTHMA, R_MI, R_AF, R_STROKE, R_TIA, R_DIABETES, R_SEIZURE,
	R_CANCER, R_CKD, R_LIVER,
	/* children */
	R_PAED_WHEEZE, R_PAED_URTI, R_PAED_INFECTION, R_PAED_LRT,
	NREASON
};
extern const struct reason synth_reasons[NREASON];

/* Elective and daycase procedures. */
struct procedure {
	const char *diag, *opcs, *tretspef;
	const char *hrg;
	uint8_t daycase;          /* 1: CLASSPAT 2, else ordinary elective admission */
	uint8_t los;              /* typical length of stay for inpatients */
	uint8_t min_age;
	float weight;
};
enum {
	P_CATARACT = 0, P_COLONOSCOPY, P_OGD, P_CYSTOSCOPY, P_SKIN, P_HERNIA, P_CHOLE,
	P_HIP, P_KNEE, P_KNEE_MINOR, P_CHEMO, NPROC
};
extern const struct procedure synth_procs[NPROC];

/* Code sets written by the generator (also in data/code_sets.csv). */
extern const char *const synth_ae_hrg[12];     /* VB01Z..VB11Z, VB99Z */
extern const char *const synth_acute_diags[];  /* NULL-terminated */

/* ---- world --------------------------------------------------------------- */

#define MAX_YEARS 10
#define MAX_MONTHS (12 * MAX_YEARS)

/*
** Rows wait in fixed-size chunks (no copying as they grow); a flush writes a
** file's chunks and returns them to the world's pool for reuse.
*/
#define CHUNK_SIZE (32 * 1024)
#define ROW_RESERVE 4096  /* a row (and its rewrite by a defect) fits in this */

struct chunk {
	struct chunk *next;
	size_t len;
	char data[CHUNK_SIZE];
};

struct sfile {
	char *wp, *wend;           /* write position and end in the tail chunk */
	struct chunk *head, *tail; /* the tail's len is wp - data until it is sealed */
	size_t len;                /* bytes waiting in the chunks */
	uint64_t rows;
	uint64_t bytes;            /* bytes written to disk so far */
	uint64_t defects[D_COUNT];
	uint32_t last_len;         /* length of the last row written */
	uint8_t last_clean;        /* last row carries no defect */
	uint8_t created;
	uint8_t withheld;          /* a provider missing a month: never written */
	uint8_t renamed;           /* header has rename_to instead of the column */
	uint8_t truncate;          /* cut the last line at the end */
	uint8_t dupfile;           /* sent twice: a copy is written at the end */
	uint8_t truncated;         /* the cut was made */
	uint8_t kind;
	uint16_t prov;
	uint16_t per;
	uint8_t last_odef;         /* outcome defect of the last row, or OD_COUNT */
	uint32_t odef[4];          /* rows carrying each outcome defect (OD_*) */
};

/* A provider whose activity is priced against a contract. */
struct contract_prov {
	char code[8];
	const char *setting;
};

struct world {
	const struct yoc_synth_opts *o;
	int years, first_year, nmonths;
	int32_t w0, w1;                   /* first and last day of the window */
	int32_t extract_date;             /* feeds are "extracted" on this day */
	int32_t mstart[MAX_MONTHS + 1];   /* first day of each month, and the day after */
	int32_t fstart[MAX_YEARS + 1];
	uint64_t nbase, nbirth, nmover, ntotal;

	/* geography */
	uint32_t nlsoa;
	uint8_t *lsoa_decile;
	double *lsoa_cum;                 /* cumulative population weight */
	uint16_t *lsoa_prac;              /* nearest practice */
	uint32_t nprac;
	char (*prac_code)[8];

	/* providers by kind; index [kind][i] */
	uint32_t nprov[K_COUNT];
	char (*prov_code[K_COUNT])[8];
	double *prov_quality[K_COUNT];    /* defect-rate factor per provider */

	/* NHS numbers: valid 9-digit prefixes, permuted by person index */
	uint32_t *nhs999;
	uint32_t n999;
	uint32_t *nhs000;
	uint32_t n000;
	uint64_t perm_a, perm_b, perm2_a, perm2_b;

	/* month index and packed y<<16|m<<8|d of days tab0 .. tab0 + ntab - 1 */
	int16_t *tab_month;
	uint32_t *tab_ymd;
	int32_t tab0;
	uint32_t ntab;

	/* date text: "YYYY-MM-DD" for days ds0 .. ds0 + nds - 1 */
	char (*ds)[10];
	int32_t ds0;
	uint32_t nds;

	/* tables */
	yoc_tariff *tariff;
	yoc_ltc *ltc;
	int cond_ltc[NCOND];              /* generator condition -> code-list index */
	uint64_t mental_mask;             /* code-list mental conditions */

	/* output */
	struct sfile *files;
	size_t nfiles;
	size_t fbase[K_COUNT];
	uint32_t nper[K_COUNT];
	size_t buffered, budget;
	struct chunk *pool;               /* free chunks */
	void *act;                        /* synth_activity.c's work area, reused per person */
	char *scratch;                    /* a row being rewritten by a defect */
	char regcols[NCOND][16];          /* gp_register flag columns (code-list flags) */
	struct colspec reg_spec[8 + NCOND];
	int regcol_ltc[8 + NCOND];        /* code-list condition of a register column */
	int reg_ncols;

	struct yoc_afile truth;
	char *tbuf;
	size_t tlen;
	struct yoc_afile optout;
	struct yoc_afile regtruth;        /* truth/registrations.csv */
	struct yoc_afile risk;            /* truth/risk.csv: the oracle risk */
	struct yoc_afile pilotf;          /* truth/pilot.csv (with a pilot) */
	unsigned char *pilot_prac;        /* per practice: 1 if in the pilot */
	struct truth_acc *tcf;            /* an enrolled person's counterfactual truth */
	uint64_t pilot_eligible, pilot_enrolled;
	int pilot_missing_prac;           /* listed pilot practices not in this economy */

	/* contracts: providers of apc/op/ae, community, mh, ambulance x years */
	struct contract_prov *cprov;
	uint32_t ncprov;
	uint32_t cbase[K_COUNT];          /* first contract provider of a kind, or UINT32_MAX */
	int64_t *priced;                  /* [ncprov * years] pence */

	/* defect thresholds: cumulative row rates per [kind][provider][defect] */
	double *defect_cum[K_COUNT];

	/* prices resolved once through the cost rules (synth_emit.c) */
	int64_t gp_per_minute[3];         /* GP, NURSE, OTHER */
	uint64_t cond_mask[NCOND][4];     /* code-list mask of each condition's ICD-10 codes */
	uint64_t reason_mask[NREASON];
	uint64_t proc_mask[NPROC];
	struct pcache { const char *code; int pod; int64_t pence; } pcache[1024];

	/* counters */
	uint64_t person_years, rows, defect_rows, nhs_overflow;
	void *oc;                         /* synth_outcome.c's state */
	double defect_scale;
	int oom;                          /* a row buffer could not grow */
	void *idn;                        /* synth_idnoise.c's state, NULL without --identifiers */
};

int synth_world_init(struct world *w, const struct yoc_synth_opts *o, struct yoc_error *e);
void synth_world_free(struct world *w);

/* Month index (0..nmonths-1) of a day in the window (table lookup). */
static inline int world_month(const struct world *w, int32_t d)
{
	uint32_t i = (uint32_t)(d - w->tab0);
	if (d >= w->tab0 && i < w->ntab)
		return w->tab_month[i];
	int y, m, dd;
	yoc_date_to_ymd(d, &y, &m, &dd);
	return (y - w->first_year) * 12 + (m - 4);
}
/* Financial year index (0..years-1) of a day. */
static inline int world_fyear(const struct world *w, int32_t d)
{
	uint32_t i = (uint32_t)(d - w->tab0);
	if (d >= w->tab0 && i < w->ntab)
		return w->tab_month[i] < 0 ? -1 - (-1 - w->tab_month[i]) / 12 : w->tab_month[i] / 12;
	return yoc_fyear_of(d) - w->first_year;
}

/* ---- a person -------------------------------------------------------------- */

#define NREG 3

struct regp {
	int32_t start, end;   /* inclusive; end NEVER while still registered */
	uint16_t prac;
};

enum { ORIGIN_BASE = 0, ORIGIN_BIRTH, ORIGIN_MOVER };

struct person {
	uint64_t idx;
	char nhs[10];
	int32_t dob;
	uint8_t sex;                /* 1 male, 2 female */
	uint8_t decile;             /* IMD decile, 1 most deprived */
	uint8_t origin;
	uint8_t optout;
	uint32_t lsoa;
	uint8_t nreg;
	struct regp reg[NREG];
	int32_t obs0, obs1;         /* first and last registered (and alive) day in the window */
	int32_t death;              /* NEVER if alive to the end of the window */
	int32_t moved_out;          /* NEVER if not */
	int32_t onset[NCOND];       /* NEVER if no onset by the end of the window */
	int32_t regdate[NCOND];     /* date on the GP register, NEVER if never recorded */
	uint8_t variant[NCOND];     /* which ICD-10 code of the condition */
	float z[NFACTOR];
	float frailty;              /* persistent personal utilisation effect */
	uint16_t acute, community, mh, la, amb;
	uint8_t dies_in_hospital;
	int dob_y, dob_md;          /* year, month * 100 + day of birth */
	char head[24];              /* "NEWNHSNO,DOB,SEX" as every row starts */
	const uint32_t *ymd;        /* the world's day table, for ages */
	int32_t ymd0;
	uint32_t nymd;
	struct rng r;               /* the person's main stream */
	struct rng d;               /* the person's defect stream */
	struct rng o;               /* the person's outcome stream (synth_outcome.c) */
};

/* Builds person idx completely (demographics to death); 0 if never registered. */
int synth_person_make(struct world *w, struct person *p, uint64_t idx);
/* Practice registered on day d, or -1. */
int person_practice_on(const struct person *p, int32_t d);
/* Number of conditions (not palliative) with onset on or before d. */
int person_ncond(const struct person *p, int32_t d);
/* Age in whole years on d (0 before birth). */
static inline int person_age(const struct person *p, int32_t d)
{
	uint32_t i = (uint32_t)(d - p->ymd0);
	int a;
	if (d >= p->ymd0 && i < p->nymd) {
		uint32_t v = p->ymd[i];
		int y = (int)(v >> 16), md = (int)((v >> 8 & 0xff) * 100 + (v & 0xff));
		a = y - p->dob_y - (md < p->dob_md);
	} else {
		a = yoc_age_on(p->dob, d);
	}
	return a < 0 ? 0 : a;
}
static inline int person_has(const struct person *p, int c, int32_t d)
{
	return p->onset[c] <= d;
}

/* ---- truth accumulators ------------------------------------------------------ */

enum {
	S_ELECTIVE = 0, S_NONELECTIVE, S_DAYCASE, S_OUTPATIENT, S_AE, S_COMMUNITY, S_MH,
	S_GP, S_SOCIAL, S_AMBULANCE, NSETTING
};
extern const char *const synth_setting_names[NSETTING];

#define MAX_EPI_LOG 1024

struct truth_acc {
	int64_t cost[MAX_YEARS][NSETTING];
	int64_t cost_emergency[MAX_YEARS];      /* cost_nonelective, split: emergency */
	int64_t cost_other_ne[MAX_YEARS];       /* ... and other non-elective */
	int64_t cost_apc_provider[MAX_YEARS];   /* APC episodes at NCC prices */
	int32_t emergency[MAX_YEARS];
	int32_t other_ne[MAX_YEARS];            /* other non-elective admissions */
	int32_t bed_days[MAX_YEARS];
	int32_t emergency_bed_days[MAX_YEARS];
	int32_t mh_bed_days[MAX_YEARS];
	double p_emergency[MAX_YEARS];          /* oracle: P(1+ emergency admissions) */
	/* APC episodes: start day and code-list mask of their diagnoses */
	int32_t epi_start[MAX_EPI_LOG];
	uint64_t epi_mask[MAX_EPI_LOG];
	int nepi;
	int epi_overflow;
	int32_t reg_known[YOC_LTC_MAX];   /* earliest register date written, per code-list condition */
};

/* ---- emitting rows ------------------------------------------------------------ */

/* Row builder: appends text to the current file's buffer. */
struct rowb {
	char *p;          /* write position */
	char *start;      /* start of the row */
	struct sfile *f;
};

struct sfile *synth_file(struct world *w, int kind, uint32_t prov, uint32_t per);
struct chunk *synth_chunk(struct world *w);
/* Appends a fresh chunk to f (sealing the tail's length); 0 or -1 when out of memory. */
int synth_file_grow(struct world *w, struct sfile *f);
/* Starts a row in f (reserving room); returns the builder. */
void row_begin(struct world *w, struct rowb *b, struct sfile *f);
/* Ends the row: newline, defect decision and application, counts. */
void row_end(struct world *w, struct rowb *b, struct person *p);

/* Identifiers at source (synth_idnoise.c), only with opts.identifiers. */
int synth_idnoise_open(struct world *w, struct yoc_error *e);
int synth_idnoise_finish(struct world *w, struct yoc_error *e);
void synth_idnoise_abort(struct world *w);
/* Appends ",GIVEN,FAMILY,POSTCODE" of p to the row being built. */
void synth_idnoise_cells(struct world *w, struct rowb *b, const struct person *p);
/* The header's extra columns, starting with a comma. */
const char *synth_idnoise_header(void);
/* Rewrites the last row of f (*n bytes), whose NHS number a defect lost, with
   noisy identifiers, and records whose it is in truth/link.csv. */
void synth_idnoise_row(struct world *w, struct sfile *f, char *row, size_t *n,
		       const struct person *p);
/* On a hospital, mental health or community row that kept p's NHS number:
   now and then sends it under p's temporary number instead (a valid number
   never issued in the run) and records it in truth/duplicates.csv. */
void synth_idnoise_dup(struct world *w, struct sfile *f, char *row, const struct person *p);

static inline void rb_comma(struct rowb *b)
{
	*b->p++ = ',';
}
static inline void rb_str(struct rowb *b, const char *s)
{
	while (*s)
		*b->p++ = *s++;
}
static inline void rb_mem(struct rowb *b, const char *s, size_t n)
{
	memcpy(b->p, s, n);
	b->p += n;
}
void rb_uint(struct rowb *b, uint64_t v);
void rb_uint_pad(struct rowb *b, uint64_t v, int width);
void rb_date(struct rowb *b, const struct world *w, int32_t d);
void rb_pence(struct rowb *b, int64_t pence);
/* NEWNHSNO,DOB,SEX */
void rb_person(struct rowb *b, const struct world *w, const struct person *p);

/* Unique 19-digit key for (kind, person, sequence). */
uint64_t synth_key(const struct world *w, int kind, uint64_t person, uint32_t seq);

/* ---- events: one row (or one spell) of a feed, before formatting ------------- */

enum { SP_NE = 0, SP_EL, SP_DC, SP_TRANSFER };

struct ev_episode {
	int32_t start, end;
	const char *hrg;
	const char *tretspef;
};

struct ev_spell {
	int32_t adm, dis;
	uint8_t kind;
	uint8_t nepi;
	uint8_t via_ae;           /* ADMIMETH 21: an A&E attendance the same day */
	uint8_t terminal;         /* the person dies in this spell */
	uint16_t prov;
	const char *admimeth, *admisorc, *disdest, *dismeth, *classpat;
	const char *diag1;        /* primary diagnosis */
	const char *opcs;
	struct ev_episode epi[3];
	/* discharge (synth_outcome.c): ready date NEVER for day cases and deaths */
	int32_t ready;            /* as generated */
	int32_t ready_bad;        /* a date after dis a defect may send instead, or NEVER */
	uint8_t rrr;              /* needed rehabilitation, recovery or reablement */
	const char *delay;        /* delay reason, NULL when not delayed */
};

struct ev_op {
	int32_t date;
	uint16_t prov;
	const char *attended, *firstatt, *tretspef, *opcs, *hrg;
};

struct ev_ae {
	int32_t date;
	uint16_t prov;
	int hhmm;
	const char *mode, *cat, *disp, *hrg;
};

struct ev_community {
	int32_t date;
	uint16_t prov;
	int dur;
	const char *service, *ctype, *attended, *currency;
};

struct ev_mh {
	int32_t date;
	uint16_t prov;
	uint8_t bedday;           /* a BEDDAYS row (else a CONTACT) */
	int32_t spell_start, spell_end; /* spell_end NEVER while ongoing at the month end */
	int bed_days;
	const char *team, *cluster, *attended, *currency;
};

struct ev_gp {
	int32_t date;
	int prac;
	int dur;
	const char *hcp, *mode, *status;
};

struct ev_social {
	uint16_t la;
	uint8_t type;             /* 0 home care, 1 residential, 2 nursing */
	uint32_t package;         /* sequence of the package for the key */
	int32_t pstart, pend;     /* package; pend NEVER if ongoing at the row's end */
	int32_t start, end;       /* the period billed in this month */
	int64_t units;
	int64_t hourly, weekly, cost; /* pence */
	int64_t cost_clean;
	/* outcomes: reablement after a discharge, placement kind */
	uint8_t reable;
	int32_t hosp_dis;         /* reablement: the discharge it followed */
	const char *place91;      /* reablement: where the person was 91 days on */
	const char *placement;    /* residential, nursing: PERMANENT or TEMPORARY */
};

struct ev_amb {
	int32_t date;
	const char *cat, *outcome, *currency;
	int conveyed_to;          /* acute provider index or -1 */
};

/* Formatting, pricing and truth of single events (synth_emit.c). */
struct emit_ctx {
	struct world *w;
	struct person *p;
	struct truth_acc *t;
	uint32_t seq[K_COUNT + 1];   /* key sequence per kind ([K_COUNT]: spells) */
	/* a pilot (synth_pilot.c): all zero / NEVER / NULL without one */
	int32_t enrol;               /* enrolment day, NEVER if not enrolled */
	uint8_t drop;                /* this event does not happen with the pilot */
	uint8_t copy;                /* this event happens only with the pilot */
	struct truth_acc *tcf;       /* enrolled: the truth without the pilot */
	struct rng pr;               /* enrolled: the pilot's stream */
	uint32_t cseq[K_COUNT + 1];  /* key sequence of the pilot's extra rows */
};
void emit_spell(struct emit_ctx *c, const struct ev_spell *s);
void emit_op(struct emit_ctx *c, const struct ev_op *e);
void emit_ae(struct emit_ctx *c, const struct ev_ae *e);
void emit_community(struct emit_ctx *c, const struct ev_community *e);
void emit_mh(struct emit_ctx *c, const struct ev_mh *e);
void emit_gp(struct emit_ctx *c, const struct ev_gp *e);
void emit_social(struct emit_ctx *c, const struct ev_social *e);
void emit_ambulance(struct emit_ctx *c, const struct ev_amb *e);
void emit_death(struct emit_ctx *c, const char *place, const char *cause);
void emit_register(struct emit_ctx *c);
int synth_emit_init(struct world *w, struct yoc_error *e);

/* ---- a pilot (synth_pilot.c) ------------------------------------------------------ */

/*
** Truth accumulation that keeps the counterfactual: an event added by the
** pilot counts only with it, an event the pilot removed only without it.
*/
#define T_ADD(c, field, v)                                  \
	do {                                                \
		if (!(c)->drop)                             \
			(c)->t->field += (v);               \
		if ((c)->tcf && !(c)->copy)                 \
			(c)->tcf->field += (v);             \
	} while (0)

int synth_pilot_init(struct world *w, struct yoc_error *e);
/* Opens truth/pilot.csv under dir. */
int synth_pilot_open(struct world *w, const char *dir, struct yoc_error *e);
/* Whether p enrols (their state at the start, spells already drawn: nprior
 * emergency admissions in the year before); sets up c if so. */
void synth_pilot_enrol(struct world *w, struct person *p, struct emit_ctx *c, int nprior);
/* Writes an enrolled person's rows of truth/pilot.csv. */
int synth_pilot_write(struct world *w, const struct person *p, const struct emit_ctx *c,
		      struct yoc_error *e);

/* ---- outcomes (synth_outcome.c) ------------------------------------------------- */

/* A care package or placement, for where a person is on a day. */
struct oc_place {
	int32_t start, end;       /* end inclusive, NEVER if open */
	uint8_t type;             /* 0 home care, 1 residential, 2 nursing */
};

int synth_outcome_open(struct world *w, struct yoc_error *e);
int synth_outcome_finish(struct world *w, struct yoc_error *e);
void synth_outcome_abort(struct world *w);
void synth_outcome_free(struct world *w);
/* Discharge readiness of the person's spells, from the outcome stream. */
void synth_outcome_spells(struct world *w, struct person *p, struct ev_spell *sp, int nsp,
			  const struct oc_place *pl, int npl);
/* The truth row of a spell with a ready date (called once it is written). */
void synth_outcome_spell_truth(struct world *w, const struct person *p, uint64_t spell_key,
			       const struct ev_spell *s);
/* PERMANENT or TEMPORARY for a residential or nursing placement, else NULL. */
const char *synth_outcome_placement(int type, int32_t start, int32_t end);
/*
** The person's outcome rows after all their other rows: reablement packages
** in social_care after discharges that needed it, care plans and PAM results,
** with their truth. Draws only from p->o (and p->d for the rows' defects,
** after every other row of the person).
*/
void synth_outcome_rows(struct emit_ctx *c, const struct ev_spell *sp, int nsp,
			const struct oc_place *pl, int npl);
/* Manifest: the outcome defects of file f as JSON members (", \"name\": n"...). */
void synth_outcome_manifest_file(const struct world *w, const struct sfile *f,
				 char *buf, size_t cap);
void synth_outcome_manifest_totals(const struct world *w, char *buf, size_t cap);

/* Generates and writes all of a person's rows and fills their truth. */
int synth_person_activity(struct world *w, struct person *p, struct truth_acc *t);

/* Defects (synth_defects.c). */
void synth_defect_row(struct world *w, struct rowb *b, struct person *p);
/* 1 if the next n rows of p in file f will carry no row defect (a look ahead
 * on a copy of the defect stream: clean rows take one draw each). */
int synth_defect_clean_ahead(const struct world *w, const struct sfile *f,
			     const struct person *p, int n);
void synth_defect_files(struct world *w);                  /* choose file-level defects */
int synth_defect_finish(struct world *w, struct yoc_error *e);  /* truncate, copy */

/* Output (synth_output.c). */
int synth_out_open(struct world *w, struct yoc_error *e);
int synth_out_flush(struct world *w, int final, struct yoc_error *e);
void synth_file_path(const struct world *w, const struct sfile *f, int copy, char *buf,
		     size_t cap);
int synth_out_header(const struct world *w, const struct sfile *f, char *buf, size_t cap);
int synth_truth_write(struct world *w, const struct person *p, struct truth_acc *t,
		      struct yoc_error *e);
int synth_out_finish(struct world *w, struct yoc_synth_stats *st, struct yoc_error *e);
/* synth_billing.c: the providers' billing feed from the written feeds (new files only). */
int synth_billing_write(struct world *w, struct yoc_error *e);
void synth_out_abort(struct world *w);

/* Pricing cache helpers (synth_emit.c). */
void synth_priced(struct world *w, int kind, uint32_t prov, int32_t day, int64_t pence);

#endif
