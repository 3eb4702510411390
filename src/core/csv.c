/*
** Streaming CSV reader (RFC 4180) and the cell helpers; the contract is in
** include/yoc/csv.h. The writer is in csv_write.c.
**
** The reader keeps one buffer (default 1 MiB, grown up to max_row only when
** a single row does not fit), refilled with large read(2) calls; in-memory
** input is copied through the same buffer in chunks, so both paths share one
** parser. A row is parsed from its first byte each time: if the buffer ends
** inside it, the unread tail is moved to the front, more is read and the row
** is parsed again (at most twice per buffer fill, or geometrically often
** while the buffer grows). Doubled quotes are collapsed in place only once a
** row is complete, so a re-parse always sees the original bytes.
**
** Scanning: 64 bytes at a time are classified into a bit mask of "special"
** bytes (delimiter, LF, CR, quote, NUL) with SSE2 on x86-64, or a portable SWAR
** version elsewhere; the parser then jumps from special byte to special
** byte. The mask of the block holding the end of a row is kept for the next
** row. The buffer has 64 bytes of padding so a block may be loaded past the
** end of the data; bits past the end are cleared.
**
** Line ends: LF, CRLF or a bare CR. A CR outside quotes ends the row, and
** an LF right after it belongs to the same line end; when the CR is the last
** byte in the buffer the row is parsed again once more input is there, so a
** CRLF split by a refill is still one line end. The buffer may grow to
** max_row + 1 bytes so that this one byte of look-ahead never decides whether
** a row is too long.
**
** Must not: print, exit, or allocate other than through yoc_malloc & co.
*/
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#if defined(__SSE2__) && !defined(YOC_CSV_SCALAR)
#include <emmintrin.h>
#define CSV_SSE2 1
#endif

#include "yoc/csv.h"

#define PAD 64
#define DEFAULT_BUF ((size_t)1 << 20)
#define DEFAULT_FIELD ((size_t)1 << 20)
#define DEFAULT_ROW ((size_t)16 << 20)
#define MIN_BUF 4
#define FIRST_CELLS 64

enum { ST_ROW, ST_NEED, ST_NONE, ST_OOM };       /* parse_row results */
enum { RF_OK = 0, RF_FULL = 1 };                  /* refill results (or < 0) */
enum { SK_START, SK_UNQ, SK_QUOTED, SK_QSEEN, SK_CR }; /* skip states */
enum { M_NONE, M_UNTERM, M_STRAY_FIELD, M_STRAY_AFTER, M_RAGGED, M_NUL,
       M_TRUNC, M_FIELD, M_ROW, M_CELLS };        /* fault messages */

/* A quoted cell holding doubled quotes, collapsed when the row is done. */
struct esc {
	uint32_t idx; /* cell index */
	uint32_t n;   /* doubled quotes in it */
};

/* What parse_row found for the current row (or up to the buffer end). */
struct rowscan {
	size_t nc;          /* cells */
	size_t nesc;        /* entries in esc[] */
	long nl;            /* line ends inside quoted cells */
	int quoted;
	int has_nl;         /* row ended with a line end (not end of input) */
	int unterminated;
	int fkind, fmsg;    /* first fault, by position */
	const char *fptr;
	const char *over;   /* first cell past YOC_CSV_MAX_CELLS, or NULL */
	const char *term;   /* where the line ending (or end of input) starts */
	char *next;         /* first byte after the row */
	int pend_state;     /* ST_NEED: skip state at the buffer end */
	char *pend_resume;  /* ST_NEED: where skipping would continue */
	const char *pend_cell; /* ST_NEED: raw start of the unfinished cell */
};

struct yoc_csv {
	char *name;
	int fd, own_fd;
	const char *mem;
	size_t mem_len, mem_pos;
	char *buf;          /* cap bytes + PAD */
	size_t cap;
	char *pos;          /* first unread byte (start of the next row) */
	char *end;          /* end of the data in buf */
	uint64_t buf_off;   /* input offset of buf[0] */
	int eof;            /* input exhausted (data up to end is all there is) */
	int done;           /* no more rows */
	int sticky;         /* YOC_EIO / YOC_ENOMEM: stopped */
	int sys_errno;
	int skipping;       /* rest of a too-long row still to skip */
	int skip_state;
	int no_header;
	long line;          /* line number at pos */
	char delim;
	size_t max_field, max_row;
	size_t ncols;
	struct yoc_cell *hdr; /* one allocation: cells then text */
	struct yoc_cell *cells;
	struct esc *esc;      /* same capacity as cells */
	size_t ccap;
	const char *blk;      /* cached scan block */
	uint64_t blk_m;
	int blk_ok;
	struct rowscan s;
};

const char *yoc_csv_fault_str(int fault)
{
	switch (fault) {
	case YOC_CSV_OK: return "ok";
	case YOC_CSV_UNTERMINATED_QUOTE: return "unterminated_quote";
	case YOC_CSV_STRAY_QUOTE: return "stray_quote";
	case YOC_CSV_RAGGED_ROW: return "ragged_row";
	case YOC_CSV_NUL_BYTE: return "nul_byte";
	case YOC_CSV_TRUNCATED: return "truncated";
	case YOC_CSV_FIELD_TOO_LONG: return "field_too_long";
	case YOC_CSV_ROW_TOO_LONG: return "row_too_long";
	}
	return "unknown";
}

/* ---- block classification ------------------------------------------- */

struct scan {
	const char *b; /* block start */
	uint64_t m;    /* special bytes in [b, b + 64), bits past the data cleared */
#ifdef CSV_SSE2
	__m128i vd, vn, vr, vq, vz;
#else
	uint64_t wd;
#endif
};

static void scan_init(struct scan *sc, char delim)
{
#ifdef CSV_SSE2
	sc->vd = _mm_set1_epi8(delim);
	sc->vn = _mm_set1_epi8('\n');
	sc->vr = _mm_set1_epi8('\r');
	sc->vq = _mm_set1_epi8('"');
	sc->vz = _mm_setzero_si128();
#else
	sc->wd = 0x0101010101010101ULL * (unsigned char)delim;
#endif
}

#ifdef CSV_SSE2
static inline uint64_t classify16(const struct scan *sc, const char *p)
{
	__m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
	__m128i x = _mm_or_si128(_mm_cmpeq_epi8(a, sc->vd), _mm_cmpeq_epi8(a, sc->vn));
	__m128i y = _mm_or_si128(_mm_cmpeq_epi8(a, sc->vq), _mm_cmpeq_epi8(a, sc->vz));
	x = _mm_or_si128(x, _mm_cmpeq_epi8(a, sc->vr));
	return (uint16_t)_mm_movemask_epi8(_mm_or_si128(x, y));
}

static inline uint64_t classify(const struct scan *sc, const char *p)
{
	return classify16(sc, p) | classify16(sc, p + 16) << 16 |
	       classify16(sc, p + 32) << 32 | classify16(sc, p + 48) << 48;
}
#else
/* 0x80 in each byte of w that is zero, exactly (no borrow between bytes). */
static inline uint64_t zero_bytes(uint64_t w)
{
	const uint64_t lo7 = 0x7f7f7f7f7f7f7f7fULL;
	return ~(((w & lo7) + lo7) | w | lo7);
}

static inline uint64_t classify8(const struct scan *sc, const char *p)
{
	uint64_t w;
	memcpy(&w, p, 8);
	uint64_t hit = zero_bytes(w ^ sc->wd) | zero_bytes(w ^ 0x0a0a0a0a0a0a0a0aULL) |
		       zero_bytes(w ^ 0x0d0d0d0d0d0d0d0dULL) |
		       zero_bytes(w ^ 0x2222222222222222ULL) | zero_bytes(w);
	uint64_t bits = 0;
	for (int i = 0; i < 8; i++) /* byte order independent */
		bits |= (uint64_t)(((const unsigned char *)&hit)[i] >> 7) << i;
	return bits;
}

static inline uint64_t classify(const struct scan *sc, const char *p)
{
	uint64_t m = 0;
	for (int i = 0; i < 8; i++)
		m |= classify8(sc, p + 8 * i) << (8 * i);
	return m;
}
#endif

static inline void scan_load(struct scan *sc, const char *s, const char *end)
{
	sc->b = s;
	sc->m = classify(sc, s);
	if (end - s < 64)
		sc->m &= ((uint64_t)1 << (end - s)) - 1;
}

/* First special byte at or after s, or end. s must be >= sc->b. */
static inline const char *next_special(struct scan *sc, const char *s, const char *end)
{
	for (;;) {
		size_t off = (size_t)(s - sc->b);
		if (off < 64) {
			uint64_t mm = sc->m & (~(uint64_t)0 << off);
			if (mm)
				return sc->b + __builtin_ctzll(mm);
			s = sc->b + 64;
		}
		if (s >= end)
			return end;
		scan_load(sc, s, end);
	}
}

/* ---- buffer ----------------------------------------------------------- */

/* Reads until the buffer is full or the input ends. */
static int fill(struct yoc_csv *r)
{
	char *end = r->end, *lim = r->buf + r->cap;
	while (end < lim && !r->eof) {
		size_t want = (size_t)(lim - end);
		if (r->mem || r->fd < 0) {
			size_t k = r->mem_len - r->mem_pos;
			if (k > want)
				k = want;
			if (k) {
				memcpy(end, r->mem + r->mem_pos, k);
				r->mem_pos += k;
				end += k;
			}
			if (r->mem_pos == r->mem_len)
				r->eof = 1;
			continue;
		}
		ssize_t k = read(r->fd, end, want);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			r->sys_errno = errno;
			r->end = end;
			return YOC_EIO;
		}
		if (k == 0)
			r->eof = 1;
		end += k;
	}
	r->end = end;
	return 0;
}

/*
** Makes room after the unread data (from pos) and reads more. RF_FULL when
** the unread data is one row filling a buffer that may not grow further
** (max_row + 1 bytes: a row that fills it is too long whatever follows).
*/
static int refill(struct yoc_csv *r)
{
	size_t keep = (size_t)(r->end - r->pos);
	r->blk_ok = 0;
	if (r->eof)
		return RF_OK;
	if (r->pos == r->buf && keep == r->cap) {
		size_t lim = r->max_row + 1;
		if (r->cap >= lim)
			return RF_FULL;
		size_t ncap = r->cap * 2 < lim ? r->cap * 2 : lim;
		char *nb = yoc_realloc(r->buf, ncap + PAD);
		if (!nb)
			return YOC_ENOMEM;
		memset(nb + ncap, 0, PAD);
		r->buf = r->pos = nb;
		r->end = nb + keep;
		r->cap = ncap;
	} else if (r->pos > r->buf) {
		memmove(r->buf, r->pos, keep);
		r->buf_off += (uint64_t)(r->pos - r->buf);
		r->pos = r->buf;
		r->end = r->buf + keep;
	}
	return fill(r);
}

/* Grows cells[] and esc[] together. 1 if at YOC_CSV_MAX_CELLS. */
static int grow_cells(struct yoc_csv *r)
{
	if (r->ccap >= YOC_CSV_MAX_CELLS)
		return 1;
	size_t n = r->ccap * 2 > YOC_CSV_MAX_CELLS ? YOC_CSV_MAX_CELLS : r->ccap * 2;
	struct yoc_cell *c = yoc_realloc(r->cells, n * sizeof *c);
	if (!c)
		return YOC_ENOMEM;
	r->cells = c;
	struct esc *x = yoc_realloc(r->esc, n * sizeof *x);
	if (!x)
		return YOC_ENOMEM;
	r->esc = x;
	r->ccap = n;
	return 0;
}

/* ---- the row parser --------------------------------------------------- */

#define FAULT(K, M, P) do { \
	const char *fp_ = (P); \
	if (!fk || fp_ < fp) { fk = (K); fm = (M); fp = fp_; } \
} while (0)

#define PUSH(P, N) do { \
	if (nc == ccap) { \
		int g_ = grow_cells(r); \
		if (g_ < 0) \
			return ST_OOM; \
		cells = r->cells; \
		ccap = r->ccap; \
	} \
	if (nc < ccap) { \
		cells[nc].p = (P); \
		cells[nc].n = (size_t)(N); \
		nc++; \
	} else if (!over) { \
		over = (P); \
	} \
} while (0)

#define PUSHQ(P, N, K) do { \
	size_t before_ = nc; \
	PUSH(P, N); \
	if ((K) && nc > before_) { \
		r->esc[nesc].idx = (uint32_t)(nc - 1); \
		r->esc[nesc].n = (K); \
		nesc++; \
	} \
} while (0)

/*
** Skips empty lines (LF, CRLF or CR) at pos. ST_ROW: pos is at the start of
** a row; ST_NEED; ST_NONE: end of input.
*/
static int skip_blank(struct yoc_csv *r)
{
	for (;;) {
		char *p = r->pos, *end = r->end;
		if (p == end)
			return r->eof ? ST_NONE : ST_NEED;
		if (*p == '\n') {
			r->pos++;
			r->line++;
			continue;
		}
		if (*p == '\r') {
			if (p + 1 == end && !r->eof)
				return ST_NEED; /* CR or CRLF: one more byte decides */
			r->pos += p + 1 < end && p[1] == '\n' ? 2 : 1;
			r->line++;
			continue;
		}
		return ST_ROW;
	}
}

/*
** Parses the row at r->pos into r->cells and r->s. ST_ROW: a whole row (or
** the last one, at end of input); ST_NEED: the buffer ends inside the row;
** ST_NONE: no more rows; ST_OOM.
*/
static int parse_row(struct yoc_csv *r)
{
	int st = skip_blank(r);
	if (st != ST_ROW)
		return st;
	char *row = r->pos, *end = r->end;
	const char delim = r->delim;
	const int eof = r->eof;
	struct yoc_cell *cells = r->cells;
	size_t nc = 0, ccap = r->ccap, nesc = 0;
	long nl = 0;
	int quoted = 0, fk = 0, fm = 0, has_nl = 0, unterminated = 0;
	const char *fp = NULL, *over = NULL, *cell = row, *q = row, *s = row, *p, *term;
	char *next;
	uint32_t nq = 0;
	struct scan sc;

	scan_init(&sc, delim);
	if (r->blk_ok && s >= r->blk && s < r->blk + 64) {
		sc.b = r->blk;
		sc.m = r->blk_m;
	} else {
		scan_load(&sc, s, end);
	}

	for (;;) {
		p = next_special(&sc, s, end);
		if (p == end)
			goto end_unquoted;
		char c = *p;
		if (c == delim) {
			PUSH(cell, p - cell);
			cell = s = p + 1;
			continue;
		}
		if (c == '\n' || c == '\r') {
			if (c == '\r' && p + 1 == end && !eof) {
				/* CR or CRLF: decided after the refill */
				r->s.pend_state = SK_UNQ;
				r->s.pend_resume = (char *)p;
				r->s.pend_cell = cell;
				goto need;
			}
			PUSH(cell, p - cell);
			term = p;
			next = (char *)p + 1 + (c == '\r' && p + 1 < end && p[1] == '\n');
			has_nl = 1;
			goto done;
		}
		if (c == '"') {
			if (p != cell) {
				FAULT(YOC_CSV_STRAY_QUOTE, M_STRAY_FIELD, p);
				s = p + 1;
				continue;
			}
			quoted = 1;
			q = p;
			s = p + 1;
			nq = 0;
			for (;;) {
				p = next_special(&sc, s, end);
				if (p == end)
					goto end_quoted;
				c = *p;
				if (c == '"') {
					if (p + 1 == end) {
						if (!eof) {
							r->s.pend_state = SK_QSEEN;
							r->s.pend_resume = end;
							r->s.pend_cell = q;
							goto need;
						}
						PUSHQ(q + 1, p - q - 1, nq);
						term = p + 1;
						next = end;
						goto done;
					}
					char c2 = p[1];
					if (c2 == '"') {
						nq++;
						s = p + 2;
						continue;
					}
					if (c2 == delim) {
						PUSHQ(q + 1, p - q - 1, nq);
						cell = s = p + 2;
						break;
					}
					if (c2 == '\n') {
						PUSHQ(q + 1, p - q - 1, nq);
						term = p + 1;
						next = (char *)p + 2;
						has_nl = 1;
						goto done;
					}
					if (c2 == '\r') {
						if (p + 2 == end && !eof) {
							r->s.pend_state = SK_QSEEN;
							r->s.pend_resume = (char *)p + 1;
							r->s.pend_cell = q;
							goto need;
						}
						PUSHQ(q + 1, p - q - 1, nq);
						term = p + 1;
						next = (char *)p + 2 + (p + 2 < end && p[2] == '\n');
						has_nl = 1;
						goto done;
					}
					/* Text after the closing quote: keep the cell raw. */
					FAULT(YOC_CSV_STRAY_QUOTE, M_STRAY_AFTER, p + 1);
					cell = q;
					s = p + 1;
					break;
				}
				if (c == '\n')
					nl++;
				else if (c == '\r')
					nl += p + 1 == end || p[1] != '\n'; /* CRLF is one */
				else if (c == '\0')
					FAULT(YOC_CSV_NUL_BYTE, M_NUL, p);
				s = p + 1; /* or a delimiter inside the quotes */
			}
			continue;
		}
		FAULT(YOC_CSV_NUL_BYTE, M_NUL, p);
		s = p + 1;
	}

end_unquoted:
	if (!eof) {
		r->s.pend_state = cell == end ? SK_START : SK_UNQ;
		r->s.pend_resume = end;
		r->s.pend_cell = cell;
		goto need;
	}
	PUSH(cell, end - cell);
	term = end;
	next = end;
	goto done;

end_quoted:
	if (!eof) {
		r->s.pend_state = SK_QUOTED;
		r->s.pend_resume = end;
		r->s.pend_cell = q;
		goto need;
	}
	FAULT(YOC_CSV_UNTERMINATED_QUOTE, M_UNTERM, q);
	PUSHQ(q + 1, end - q - 1, nq);
	term = end;
	next = end;
	unterminated = 1;
	goto done;

need:
	r->s.nc = nc;
	r->s.nesc = nesc;
	r->s.nl = nl;
	r->s.quoted = quoted;
	r->s.fkind = fk;
	r->s.fmsg = fm;
	r->s.fptr = fp;
	r->s.over = over;
	r->blk_ok = 0;
	return ST_NEED;

done:
	r->s.nc = nc;
	r->s.nesc = nesc;
	r->s.nl = nl;
	r->s.quoted = quoted;
	r->s.has_nl = has_nl;
	r->s.unterminated = unterminated;
	r->s.fkind = fk;
	r->s.fmsg = fm;
	r->s.fptr = fp;
	r->s.over = over;
	r->s.term = term;
	r->s.next = next;
	r->blk = sc.b;
	r->blk_m = sc.m;
	r->blk_ok = 1;
	return ST_ROW;
}

#undef PUSHQ
#undef PUSH
#undef FAULT

static void set_fault(struct rowscan *s, int kind, int msg, const char *p)
{
	if (!s->fkind || p < s->fptr) {
		s->fkind = kind;
		s->fmsg = msg;
		s->fptr = p;
	}
}

/* First byte of a cell as written: its opening quote, if quoted. */
static const char *raw_start(const struct yoc_cell *c, const char *row)
{
	return c->p > row && c->p[-1] == '"' ? c->p - 1 : c->p;
}

static size_t esc_count(const struct yoc_csv *r, size_t idx)
{
	for (size_t i = 0; i < r->s.nesc; i++)
		if (r->esc[i].idx == idx)
			return r->esc[i].n;
	return 0;
}

static void unescape(struct yoc_cell *c)
{
	char *d = (char *)c->p;
	const char *s = c->p, *e = c->p + c->n;
	while (s < e) {
		const char *q = memchr(s, '"', (size_t)(e - s));
		size_t k = q ? (size_t)(q + 1 - s) : (size_t)(e - s);
		memmove(d, s, k);
		d += k;
		s += k + (q != NULL); /* drop the second quote of the pair */
	}
	c->n = (size_t)(d - c->p);
}

static int report(struct yoc_csv *r, const char *row, struct yoc_error *e)
{
	const struct rowscan *s = &r->s;
	long line = r->line;
	const char *ls = row;
	/*
	** Line ends before the fault (inside quoted cells): LF, CRLF or CR,
	** counted as parse_row counts them. The byte after a CR before fptr is
	** in the buffer (a CR at its end is never decided without it).
	*/
	for (const char *p = row; p < s->fptr; p++) {
		if (*p == '\n' || (*p == '\r' && (p + 1 == r->end || p[1] != '\n'))) {
			line++;
			ls = p + 1;
		}
	}
	long col = (long)(s->fptr - ls) + 1;
	int code = s->fkind == YOC_CSV_FIELD_TOO_LONG || s->fkind == YOC_CSV_ROW_TOO_LONG
			   ? YOC_ETOOBIG
			   : YOC_EPARSE;
	const char *f = r->name;
	switch (s->fmsg) {
	case M_UNTERM:
		return yoc_error_set(e, code, f, line, col,
				     "unterminated quoted field (runs to end of input)");
	case M_STRAY_FIELD:
		return yoc_error_set(e, code, f, line, col, "stray quote inside an unquoted field");
	case M_STRAY_AFTER:
		return yoc_error_set(e, code, f, line, col, "text after a closing quote");
	case M_RAGGED:
		return yoc_error_set(e, code, f, line, col, "ragged row: %zu cells, header has %zu",
				     s->nc, r->ncols);
	case M_NUL:
		return yoc_error_set(e, code, f, line, col, "NUL byte");
	case M_TRUNC:
		return yoc_error_set(e, code, f, line, col,
				     "truncated last line: %zu of %zu cells and no final newline",
				     s->nc, r->ncols);
	case M_FIELD:
		return yoc_error_set(e, code, f, line, col, "field longer than %zu bytes",
				     r->max_field);
	case M_ROW:
		return yoc_error_set(e, code, f, line, col, "row longer than %zu bytes",
				     r->max_row);
	case M_CELLS:
		return yoc_error_set(e, code, f, line, col,
				     "row too long: more than %d cells; row rejected",
				     YOC_CSV_MAX_CELLS);
	}
	return yoc_error_set(e, YOC_EINTERNAL, f, line, col, "unknown CSV fault");
}

/*
** Completes the row parse_row left in r->s: checks that need the whole row,
** reports the first fault, collapses doubled quotes and moves past the row.
** partial: the row is too long and only its start is in the buffer.
*/
static int finish_row(struct yoc_csv *r, struct yoc_csv_row *row, struct yoc_error *e,
		      int partial)
{
	struct rowscan *s = &r->s;
	char *rowp = r->pos;
	int rc = 1;

	if (partial) {
		if (s->nc < r->ccap) { /* the unfinished cell, raw */
			r->cells[s->nc].p = s->pend_cell;
			r->cells[s->nc].n = (size_t)(s->pend_resume - s->pend_cell);
			s->nc++;
		}
	}
	size_t len = partial ? 0 : (size_t)(s->next - rowp);
	if (partial || len > r->max_row) {
		/*
		** Always this fault, whatever else the row holds: the rest of a
		** row too long to buffer is never seen, so reporting anything
		** else would depend on the buffer size.
		*/
		s->fkind = YOC_CSV_ROW_TOO_LONG;
		s->fmsg = M_ROW;
		s->fptr = rowp + r->max_row;
	} else if (s->over) {
		/*
		** More cells than the cap: the cells past it were not kept, so
		** this is the fault, whatever else the row holds (a cell count
		** that differs from the header would only be the cap's echo).
		*/
		s->fkind = YOC_CSV_ROW_TOO_LONG;
		s->fmsg = M_CELLS;
		s->fptr = s->over;
	} else {
		if (r->ncols && s->nc != r->ncols) {
			if (s->nc > r->ncols)
				set_fault(s, YOC_CSV_RAGGED_ROW, M_RAGGED,
					  raw_start(&r->cells[r->ncols], rowp));
			else if (!s->has_nl)
				set_fault(s, YOC_CSV_TRUNCATED, M_TRUNC, s->term);
			else
				set_fault(s, YOC_CSV_RAGGED_ROW, M_RAGGED, s->term);
		}
		if (len > r->max_field) {
			for (size_t i = 0; i < s->nc; i++) {
				const struct yoc_cell *c = &r->cells[i];
				if (c->n > r->max_field && c->n - esc_count(r, i) > r->max_field) {
					set_fault(s, YOC_CSV_FIELD_TOO_LONG, M_FIELD, raw_start(c, rowp));
					break;
				}
			}
		}
	}
	if (s->fkind)
		rc = report(r, rowp, e);
	for (size_t i = 0; i < s->nesc; i++)
		unescape(&r->cells[r->esc[i].idx]);

	row->cells = r->cells;
	row->ncells = s->nc;
	row->line = r->line;
	row->fault = s->fkind;
	row->quoted = s->quoted;

	if (partial) {
		r->line += s->nl;
		r->pos = s->pend_resume;
		r->skipping = 1;
		r->skip_state = s->pend_state;
	} else {
		r->line += s->nl + s->has_nl;
		r->pos = s->next;
		if (s->unterminated)
			r->done = 1;
	}
	if (r->no_header && r->ncols == 0 && s->fkind != YOC_CSV_ROW_TOO_LONG)
		r->ncols = s->nc;
	return rc;
}

static int stop(struct yoc_csv *r, int code, struct yoc_error *e)
{
	r->sticky = code;
	if (code == YOC_EIO)
		return yoc_error_set(e, code, r->name, r->line, 0, "read failed: %s",
				     strerror(r->sys_errno));
	return yoc_error_set(e, code, r->name, r->line, 0, "out of memory reading CSV");
}

/*
** Skips the rest of a too-long row, honouring quotes and counting line ends
** as parse_row does. pos is where parse_row stopped, still in the buffer, so
** the byte before it tells whether an LF at pos completes a CRLF.
*/
static int skip_rest(struct yoc_csv *r)
{
	int st = r->skip_state;
	const char delim = r->delim;
	char prev = r->pos > r->buf ? r->pos[-1] : 0;
	for (;;) {
		const char *p = r->pos, *end = r->end;
		while (p < end) {
			char c = *p++;
			switch (st) {
			case SK_START:
				if (c == '"') {
					st = SK_QUOTED;
					break;
				}
				/* fall through */
			case SK_UNQ:
				if (c == '\n') {
					r->line++;
					r->pos = (char *)p;
					r->skipping = 0;
					return 0;
				}
				if (c == '\r') {
					r->line++;
					st = SK_CR;
					break;
				}
				st = c == delim ? SK_START : SK_UNQ;
				break;
			case SK_CR: /* the row ended at a CR: an LF here is part of it */
				r->pos = (char *)(c == '\n' ? p : p - 1);
				r->skipping = 0;
				return 0;
			case SK_QUOTED:
				if (c == '"')
					st = SK_QSEEN;
				else if (c == '\r' || (c == '\n' && prev != '\r'))
					r->line++;
				break;
			case SK_QSEEN:
				if (c == '"') {
					st = SK_QUOTED;
				} else {
					st = SK_UNQ;
					p--; /* closing quote: look at c again, unquoted */
				}
				break;
			}
			prev = c;
		}
		r->pos = (char *)end;
		if (r->eof) {
			r->skipping = 0;
			r->done = 1;
			return 0;
		}
		int rc = refill(r);
		if (rc < 0)
			return rc;
	}
}

static int read_row(struct yoc_csv *r, struct yoc_csv_row *row, struct yoc_error *e)
{
	for (;;) {
		if (r->done)
			return 0;
		switch (parse_row(r)) {
		case ST_ROW:
			return finish_row(r, row, e, 0);
		case ST_NONE:
			r->done = 1;
			return 0;
		case ST_OOM:
			return stop(r, YOC_ENOMEM, e);
		}
		int rc = refill(r);
		if (rc == RF_FULL)
			return finish_row(r, row, e, 1);
		if (rc < 0)
			return stop(r, rc, e);
	}
}

int yoc_csv_next(yoc_csv *r, struct yoc_csv_row *row, struct yoc_error *e)
{
	memset(row, 0, sizeof *row);
	row->cells = r->cells;
	if (r->sticky)
		return stop(r, r->sticky, e);
	if (r->skipping) {
		int rc = skip_rest(r);
		if (rc < 0)
			return stop(r, rc, e);
	}
	return read_row(r, row, e);
}

/* ---- opening ---------------------------------------------------------- */

/*
** Picks the delimiter that occurs most often outside quotes in the first
** line (its first max_row bytes, so the choice never depends on the buffer
** size). Empty lines before it are consumed, as yoc_csv_next would.
*/
static int detect_delim(struct yoc_csv *r)
{
	static const char cand[] = {',', '|', '\t', ';'};
	for (;;) {
		int st = skip_blank(r), rc;
		if (st == ST_NONE)
			break;
		if (st == ST_NEED) {
			if ((rc = refill(r)) < 0)
				return rc;
			continue;
		}
		const char *ls = r->pos;
		size_t avail = (size_t)(r->end - ls), lim = avail < r->max_row ? avail : r->max_row;
		size_t i;
		int inq = 0;
		for (i = 0; i < lim; i++) {
			if (ls[i] == '"')
				inq = !inq;
			else if ((ls[i] == '\n' || ls[i] == '\r') && !inq)
				break;
		}
		if (i == avail && avail < r->max_row && !r->eof) {
			if ((rc = refill(r)) < 0) /* moves the data: scan again */
				return rc;
			if (rc == RF_OK)
				continue;
		}
		size_t count[4] = {0, 0, 0, 0};
		inq = 0;
		for (size_t k = 0; k < i; k++) {
			if (ls[k] == '"')
				inq = !inq;
			else if (!inq)
				for (int c = 0; c < 4; c++)
					count[c] += ls[k] == cand[c];
		}
		int best = 0;
		for (int c = 1; c < 4; c++)
			if (count[c] > count[best])
				best = c;
		r->delim = cand[best];
		return 0;
	}
	r->delim = ',';
	return 0;
}

/* Takes ownership of fd (when own_fd) even on failure. */
static int csv_create(yoc_csv **out, const char *name, int fd, int own_fd,
		      const void *mem, size_t n, const struct yoc_csv_opts *opts,
		      struct yoc_error *e)
{
	struct yoc_csv_opts o = {0};
	yoc_csv *r = NULL;
	int rc;
	if (opts)
		o = *opts;
	*out = NULL;
	if (o.delim == '"' || o.delim == '\n' || o.delim == '\r') {
		rc = yoc_error_set(e, YOC_EINVAL, name, 0, 0,
				   "a quote, CR or LF cannot be the delimiter");
		goto cleanup;
	}
	r = yoc_calloc(1, sizeof *r);
	if (!r) {
		rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
		goto cleanup;
	}
	r->fd = fd;
	r->own_fd = own_fd;
	own_fd = 0;
	r->mem = mem;
	r->mem_len = n;
	r->delim = o.delim;
	r->no_header = o.no_header;
	r->max_field = o.max_field ? o.max_field : DEFAULT_FIELD;
	r->max_row = o.max_row ? o.max_row : DEFAULT_ROW;
	r->cap = o.buf_size ? o.buf_size : DEFAULT_BUF;
	if (r->cap < MIN_BUF)
		r->cap = MIN_BUF;
	r->line = 1;
	r->name = yoc_strdup(name);
	r->buf = yoc_malloc(r->cap + PAD);
	r->cells = yoc_malloc(FIRST_CELLS * sizeof *r->cells);
	r->esc = yoc_malloc(FIRST_CELLS * sizeof *r->esc);
	if (!r->name || !r->buf || !r->cells || !r->esc) {
		rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
		goto cleanup;
	}
	memset(r->buf + r->cap, 0, PAD);
	r->ccap = FIRST_CELLS;
	r->pos = r->end = r->buf;

	rc = fill(r);
	if (rc == 0 && r->end - r->pos >= 3 && memcmp(r->pos, "\xef\xbb\xbf", 3) == 0)
		r->pos += 3;
	if (rc == 0 && !r->delim)
		rc = detect_delim(r);
	if (rc < 0) {
		rc = rc == YOC_EIO ? yoc_error_set(e, rc, name, 0, 0, "read failed: %s",
						   strerror(r->sys_errno))
				   : yoc_error_set(e, rc, name, 0, 0, "out of memory");
		goto cleanup;
	}
	if (!r->no_header) {
		struct yoc_csv_row h;
		rc = read_row(r, &h, e);
		if (rc < 0)
			goto cleanup;
		if (rc == 0) {
			rc = yoc_error_set(e, YOC_EPARSE, name, r->line, 0,
					   "empty input: no header line");
			goto cleanup;
		}
		size_t text = 0;
		for (size_t i = 0; i < h.ncells; i++)
			text += h.cells[i].n;
		r->hdr = yoc_malloc(h.ncells * sizeof *r->hdr + text + 1);
		if (!r->hdr) {
			rc = yoc_error_set(e, YOC_ENOMEM, name, 0, 0, "out of memory");
			goto cleanup;
		}
		char *t = (char *)(r->hdr + h.ncells);
		for (size_t i = 0; i < h.ncells; i++) {
			if (h.cells[i].n)
				memcpy(t, h.cells[i].p, h.cells[i].n);
			r->hdr[i].p = t;
			r->hdr[i].n = h.cells[i].n;
			t += h.cells[i].n;
		}
		r->ncols = h.ncells;
	}
	*out = r;
	r = NULL;
	rc = 0;
cleanup:
	if (own_fd)
		close(fd);
	yoc_csv_close(r);
	return rc;
}

int yoc_csv_open(yoc_csv **out, const char *path, const struct yoc_csv_opts *opts,
		 struct yoc_error *e)
{
	int fd = 0, own = 0;
	if (strcmp(path, "-") != 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			*out = NULL;
			return yoc_error_set(e, YOC_EIO, path, 0, 0, "cannot open: %s",
					     strerror(errno));
		}
		own = 1;
#ifdef POSIX_FADV_SEQUENTIAL
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
	}
	return csv_create(out, strcmp(path, "-") ? path : "<stdin>", fd, own, NULL, 0, opts,
			  e);
}

int yoc_csv_open_mem(yoc_csv **out, const void *data, size_t n, const char *name,
		     const struct yoc_csv_opts *opts, struct yoc_error *e)
{
	return csv_create(out, name ? name : "<memory>", -1, 0, data, n, opts, e);
}

void yoc_csv_close(yoc_csv *r)
{
	if (!r)
		return;
	if (r->own_fd)
		close(r->fd);
	yoc_free(r->name);
	yoc_free(r->buf);
	yoc_free(r->cells);
	yoc_free(r->esc);
	yoc_free(r->hdr);
	yoc_free(r);
}

size_t yoc_csv_ncols(const yoc_csv *r)
{
	return r->ncols;
}

const struct yoc_cell *yoc_csv_header(const yoc_csv *r)
{
	return r->hdr;
}

int yoc_csv_col(const yoc_csv *r, const char *name)
{
	if (!r->hdr)
		return -1;
	size_t n = strlen(name);
	for (size_t i = 0; i < r->ncols; i++)
		if (r->hdr[i].n == n && memcmp(r->hdr[i].p, name, n) == 0)
			return (int)i;
	return -1;
}

char yoc_csv_delim(const yoc_csv *r)
{
	return r->delim;
}

uint64_t yoc_csv_offset(const yoc_csv *r)
{
	return r->buf_off + (uint64_t)(r->pos - r->buf);
}

const char *yoc_csv_name(const yoc_csv *r)
{
	return r->name;
}

/* ---- cell helpers ----------------------------------------------------- */

int yoc_cell_eq(struct yoc_cell c, const char *s)
{
	size_t n = strlen(s);
	return c.n == n && (n == 0 || memcmp(c.p, s, n) == 0);
}

int yoc_cell_int(struct yoc_cell c, int64_t *out)
{
	const char *p = c.p, *e = c.p + c.n;
	int neg = 0;
	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	if (p == e)
		return YOC_EPARSE;
	uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; p < e; p++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';
		if (d > 9 || v > (lim - d) / 10)
			return YOC_EPARSE;
		v = v * 10 + d;
	}
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}

int yoc_cell_pence(struct yoc_cell c, int64_t *out)
{
	const char *p = c.p, *e = c.p + c.n;
	int neg = 0, digits = 0;
	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	uint64_t v = 0; /* whole pounds, then pence */
	const uint64_t lim = (uint64_t)INT64_MAX + (uint64_t)neg;
	for (; p < e && *p != '.'; p++, digits++) {
		unsigned d = (unsigned)(unsigned char)*p - '0';
		if (d > 9 || v > (lim / 100 - d) / 10)
			return YOC_EPARSE;
		v = v * 10 + d;
	}
	v *= 100;
	if (p < e) { /* the '.' */
		p++;
		if (p == e && !digits)
			return YOC_EPARSE;
		unsigned frac = 0, round = 0;
		for (int i = 0; p < e; p++, i++) {
			unsigned d = (unsigned)(unsigned char)*p - '0';
			if (d > 9)
				return YOC_EPARSE;
			if (i == 0)
				frac += 10 * d;
			else if (i == 1)
				frac += d;
			else if (i == 2)
				round = d >= 5;
			digits++;
		}
		if (v > lim - frac - round)
			return YOC_EPARSE;
		v += frac + round;
	}
	if (!digits)
		return YOC_EPARSE;
	*out = neg ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}
