/*
** Benchmark data generator: writes a HES-like CSV (21 columns of ints,
** dates, codes, money and a short free-text name) of at least the given
** size. Deterministic for a seed. Not part of the library; built by
** bench/csv.sh.
**
** Usage: gen_csv OUT BYTES QUOTED_PERCENT [SEED]
**   QUOTED_PERCENT 0: no quotes at all; otherwise that share of all fields
**   is quoted, and some quoted names hold the delimiter or doubled quotes.
*/
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}

static unsigned below(unsigned n)
{
	return (unsigned)((rnd() >> 32) % n);
}

struct out {
	char *buf;
	size_t len, cap;
	FILE *f;
	uint64_t total;
};

static void flush(struct out *o)
{
	if (o->len && fwrite(o->buf, 1, o->len, o->f) != o->len) {
		perror("gen_csv: write");
		exit(1);
	}
	o->total += o->len;
	o->len = 0;
}

static void put(struct out *o, const char *s, size_t n)
{
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void putc1(struct out *o, char c)
{
	o->buf[o->len++] = c;
}

static void put_uint(struct out *o, uint64_t v)
{
	char tmp[24], *e = tmp + sizeof tmp, *p = e;
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(o, p, (size_t)(e - p));
}

static void put_2(struct out *o, unsigned v)
{
	putc1(o, (char)('0' + v / 10 % 10));
	putc1(o, (char)('0' + v % 10));
}

static void put_date(struct out *o, unsigned y, unsigned m, unsigned d)
{
	put_uint(o, y);
	putc1(o, '-');
	put_2(o, m);
	putc1(o, '-');
	put_2(o, d);
}

static const char *header =
	"FYEAR,EPIKEY,PSEUDO_HESID,ADMIDATE,EPISTART,EPIEND,DISDATE,STARTAGE,SEX,"
	"ETHNOS,ADMIMETH,DIAG_4_01,DIAG_4_02,OPERTN_4_01,PROCODE3,SITETRET,GPPRAC,"
	"EPIORDER,SPELDUR,COST,SITE_NAME\n";

static const char *plain_names[] = {
	"Royal Infirmary", "General Hospital", "St Marys Hospital", "County Hospital",
	"University Hospital", "Community Hospital", "District General", "Infirmary",
};
static const char *tricky_names[] = { /* only ever written quoted */
	"Royal Infirmary, Leeds", "St Mary\"\"s Hospital", "General Hospital, Bristol",
	"The \"\"New\"\" Wing, Block B",
};

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: gen_csv OUT BYTES QUOTED_PERCENT [SEED]\n");
		return 2;
	}
	uint64_t target = strtoull(argv[2], NULL, 10);
	unsigned qpct = (unsigned)strtoul(argv[3], NULL, 10);
	rng_state = argc > 4 ? strtoull(argv[4], NULL, 10) | 1 : 88172645463325252ULL;
	struct out o = {0};
	o.cap = 1 << 22;
	o.buf = malloc(o.cap);
	o.f = fopen(argv[1], "wb");
	if (!o.buf || !o.f) {
		perror("gen_csv");
		return 1;
	}
	put(&o, header, strlen(header));
	uint64_t epikey = 100000000000ULL;
	const unsigned ncols = 21;
	while (o.total + o.len < target) {
		if (o.len > o.cap - 4096)
			flush(&o);
		unsigned fy = 2015 + below(9);
		unsigned m = 1 + below(12), d = 1 + below(28), stay = below(20);
		for (unsigned c = 0; c < ncols; c++) {
			int q = qpct && below(100) < qpct;
			int tricky = q && c == 20 && below(3) == 0;
			if (c)
				putc1(&o, ',');
			if (q)
				putc1(&o, '"');
			switch (c) {
			case 0: put_2(&o, fy % 100); put_2(&o, (fy + 1) % 100); break;
			case 1: put_uint(&o, epikey++); break;
			case 2:
				for (int i = 0; i < 16; i++)
					putc1(&o, "0123456789ABCDEF"[below(16)]);
				break;
			case 3: case 4: put_date(&o, fy, m, d); break;
			case 5: case 6: put_date(&o, fy, m, d + (stay < 28 - d + 1 ? stay : 0)); break;
			case 7: put_uint(&o, below(100)); break;
			case 8: putc1(&o, (char)('1' + below(2))); break;
			case 9: putc1(&o, (char)('A' + below(26))); break;
			case 10: put_uint(&o, 11 + below(20)); break;
			case 11: case 12:
				if (c == 12 && below(2)) /* often empty */
					break;
				putc1(&o, (char)('A' + below(26)));
				put_2(&o, below(100));
				putc1(&o, below(4) ? (char)('0' + below(10)) : 'X');
				break;
			case 13:
				if (below(3) == 0) {
					putc1(&o, '-');
					break;
				}
				putc1(&o, (char)('A' + below(26)));
				put_uint(&o, 100 + below(900));
				break;
			case 14: putc1(&o, 'R'); putc1(&o, (char)('A' + below(26))); putc1(&o, (char)('0' + below(10))); break;
			case 15: putc1(&o, 'R'); putc1(&o, 'X'); put_uint(&o, 100 + below(900)); put_2(&o, below(100)); break;
			case 16: putc1(&o, (char)('A' + below(26))); put_uint(&o, 10000 + below(90000)); break;
			case 17: put_uint(&o, 1 + below(5)); break;
			case 18: put_uint(&o, stay); break;
			case 19: put_uint(&o, 100 + below(20000)); putc1(&o, '.'); put_2(&o, below(100)); break;
			case 20: {
				const char *s = tricky ? tricky_names[below(4)] : plain_names[below(8)];
				put(&o, s, strlen(s));
				break;
			}
			}
			if (q)
				putc1(&o, '"');
		}
		putc1(&o, '\n');
	}
	flush(&o);
	if (fclose(o.f) != 0) {
		perror("gen_csv: close");
		return 1;
	}
	free(o.buf);
	return 0;
}
