/*
** The rule language's lexer, recursive-descent parser and type checker, and
** the printing of a compiled rule (normalised text, clauses, plan).
**
** The parser builds the node array children first (rule_int.h), checking
** types as it goes and inserting conversions, so the array is the plan the
** evaluator runs. It does no I/O and keeps no pointer into its input.
*/
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rule/rule_int.h"

enum tok {
	TK_EOF, TK_IDENT, TK_NUM, TK_STR, TK_LP, TK_RP, TK_LB, TK_RB, TK_COMMA,
	TK_PLUS, TK_MINUS, TK_STAR, TK_SLASH, TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
	TK_AND, TK_OR, TK_NOT, TK_IN, TK_IS, TK_NULL, TK_TRUE, TK_FALSE
};

struct parser {
	const char *s;
	size_t len;
	size_t pos;                /* next byte to lex */
	int tok;                   /* current token */
	size_t tpos, tend;         /* its span */
	double num;
	int isint;
	struct yoc_buf str;        /* decoded text of TK_STR, text of TK_IDENT */
	yoc_rule *r;
	const yoc_rule_schema *sc;
	struct yoc_error *e;
	int depth;
	int failed;
};

long yoc__rule_charcol(const char *text, long off)
{
	long col = 1;
	for (long i = 0; i < off && text[i]; i++)
		if (((unsigned char)text[i] & 0xC0) != 0x80)
			col++;
	return col;
}

static int perr(struct parser *p, size_t at, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int perr(struct parser *p, size_t at, int code, const char *fmt, ...)
{
	if (p->failed)
		return p->failed;
	va_list ap;
	va_start(ap, fmt);
	yoc_error_vset(p->e, code, "rule", 1, yoc__rule_charcol(p->s, (long)at), fmt, ap);
	va_end(ap);
	p->failed = code;
	return code;
}

static int oom(struct parser *p)
{
	return perr(p, p->tpos, YOC_ENOMEM, "out of memory");
}

static const struct { const char *w; int t; } keywords[] = {
	{"and", TK_AND}, {"or", TK_OR}, {"not", TK_NOT}, {"in", TK_IN}, {"is", TK_IS},
	{"null", TK_NULL}, {"true", TK_TRUE}, {"false", TK_FALSE}, {NULL, 0}
};

static const char *tok_name(int t)
{
	static const char *const names[] = {
		"end of rule", "name", "number", "text", "'('", "')'", "'['", "']'", "','",
		"'+'", "'-'", "'*'", "'/'", "'='", "'!='", "'<'", "'<='", "'>'", "'>='",
		"'and'", "'or'", "'not'", "'in'", "'is'", "'null'", "'true'", "'false'"};
	return names[t];
}

/* Reads the next token into p->tok. 0 or an error status. */
static int next(struct parser *p)
{
	const char *s = p->s;
	while (p->pos < p->len && (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' ||
				   s[p->pos] == '\r'))
		p->pos++;
	p->tpos = p->pos;
	if (p->pos >= p->len) {
		p->tok = TK_EOF;
		p->tend = p->pos;
		return 0;
	}
	unsigned char c = (unsigned char)s[p->pos];
	size_t i = p->pos;
	yoc_buf_reset(&p->str);
	if (isalpha(c) || c == '_') {
		while (i < p->len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
			i++;
		if (yoc_buf_append(&p->str, s + p->pos, i - p->pos))
			return oom(p);
		p->tok = TK_IDENT;
		for (int k = 0; keywords[k].w; k++)
			if (strcasecmp(keywords[k].w, p->str.data) == 0)
				p->tok = keywords[k].t;
	} else if (isdigit(c) || (c == '.' && i + 1 < p->len && isdigit((unsigned char)s[i + 1]))) {
		int real = 0;
		while (i < p->len && isdigit((unsigned char)s[i]))
			i++;
		if (i < p->len && s[i] == '.') {
			real = 1;
			i++;
			while (i < p->len && isdigit((unsigned char)s[i]))
				i++;
		}
		if (i < p->len && (s[i] == 'e' || s[i] == 'E')) {
			size_t j = i + 1;
			if (j < p->len && (s[j] == '+' || s[j] == '-'))
				j++;
			if (j < p->len && isdigit((unsigned char)s[j])) {
				real = 1;
				i = j;
				while (i < p->len && isdigit((unsigned char)s[i]))
					i++;
			}
		}
		if (i < p->len && (isalpha((unsigned char)s[i]) || s[i] == '_'))
			return perr(p, i, YOC_EPARSE, "a number runs into a name; put a space between them,"
				    " or quote the text");
		char buf[64];
		if (i - p->pos >= sizeof buf)
			return perr(p, p->pos, YOC_EPARSE, "number too long");
		memcpy(buf, s + p->pos, i - p->pos);
		buf[i - p->pos] = 0;
		p->num = strtod(buf, NULL);
		if (!isfinite(p->num))
			return perr(p, p->pos, YOC_EPARSE, "number out of range");
		p->isint = !real && p->num < 9007199254740992.0;
		p->tok = TK_NUM;
	} else if (c == '\'') {
		i++;
		for (;;) {
			if (i >= p->len)
				return perr(p, p->pos, YOC_EPARSE, "unterminated text: a quote ' opened here"
					    " is never closed");
			if (s[i] == '\'') {
				if (i + 1 < p->len && s[i + 1] == '\'') {
					if (yoc_buf_putc(&p->str, '\''))
						return oom(p);
					i += 2;
					continue;
				}
				i++;
				break;
			}
			if (s[i] == 0)
				return perr(p, i, YOC_EPARSE, "NUL character in text");
			if (yoc_buf_putc(&p->str, s[i]))
				return oom(p);
			i++;
		}
		if (yoc_buf_reserve(&p->str, 1))
			return oom(p);
		p->str.data[p->str.len] = 0;
		p->tok = TK_STR;
	} else {
		i++;
		char d = i < p->len ? s[i] : 0;
		switch (c) {
		case '(': p->tok = TK_LP; break;
		case ')': p->tok = TK_RP; break;
		case '[': p->tok = TK_LB; break;
		case ']': p->tok = TK_RB; break;
		case ',': p->tok = TK_COMMA; break;
		case '+': p->tok = TK_PLUS; break;
		case '-': p->tok = TK_MINUS; break;
		case '*': p->tok = TK_STAR; break;
		case '/': p->tok = TK_SLASH; break;
		case '=': p->tok = TK_EQ; if (d == '=') i++; break;
		case '!':
			if (d != '=')
				return perr(p, p->pos, YOC_EPARSE, "'!' alone: write != or not");
			p->tok = TK_NE; i++; break;
		case '<':
			if (d == '=') { p->tok = TK_LE; i++; }
			else if (d == '>') { p->tok = TK_NE; i++; }
			else p->tok = TK_LT;
			break;
		case '>':
			if (d == '=') { p->tok = TK_GE; i++; } else p->tok = TK_GT;
			break;
		case '"':
			return perr(p, p->pos, YOC_EPARSE, "text is quoted with ' (single quotes), not \"");
		default:
			if (c >= 0x20 && c < 0x7f)
				return perr(p, p->pos, YOC_EPARSE, "unexpected character '%c'", c);
			return perr(p, p->pos, YOC_EPARSE, "unexpected character (byte 0x%02x)", c);
		}
	}
	p->pos = i;
	p->tend = i;
	return 0;
}

static int new_node(struct parser *p, int kind, int type, size_t pos, size_t end)
{
	yoc_rule *r = p->r;
	if (r->nnode >= YOC_RULE_MAX_NODES) {
		perr(p, pos, YOC_ETOOBIG, "rule too long (more than %d parts)", YOC_RULE_MAX_NODES);
		return -1;
	}
	if (r->nnode == r->capnode) {
		int cap = r->capnode ? r->capnode * 2 : 32;
		struct rule_node *n = yoc_realloc(r->node, (size_t)cap * sizeof *n);
		if (!n) {
			oom(p);
			return -1;
		}
		r->node = n;
		r->capnode = cap;
	}
	struct rule_node *n = &r->node[r->nnode];
	memset(n, 0, sizeof *n);
	n->kind = kind;
	n->type = type;
	n->a = n->b = n->first = n->field = -1;
	n->pos = (long)pos;
	n->end = (long)end;
	return r->nnode++;
}

#define ND(i) (p->r->node[(i)])

static int wrap(struct parser *p, int kind, int type, int child)
{
	int k = new_node(p, kind, type, (size_t)ND(child).pos, (size_t)ND(child).end);
	if (k < 0)
		return -1;
	ND(k).a = child;
	ND(k).isint = kind == K_TONUM;
	return k;
}

/* A truth value from node i (numbers: non-zero is true). */
static int to_bool(struct parser *p, int i, const char *ctx)
{
	if (i < 0)
		return -1;
	switch (ND(i).type) {
	case T_BOOL: case T_ANY: return i;
	case T_NUM: return wrap(p, K_TRUTH, T_BOOL, i);
	}
	perr(p, (size_t)ND(i).pos, YOC_EPARSE, "text is not a truth value (%s); compare it,"
	     " as in practice = 'P90001'", ctx);
	return -1;
}

static int to_num(struct parser *p, int i, const char *ctx)
{
	if (i < 0)
		return -1;
	switch (ND(i).type) {
	case T_NUM: case T_ANY: return i;
	case T_BOOL: return wrap(p, K_TONUM, T_NUM, i);
	}
	perr(p, (size_t)ND(i).pos, YOC_EPARSE, "%s needs a number, not text", ctx);
	return -1;
}

static int set_str(struct parser *p, int i, const char *s, size_t n)
{
	char *c = yoc_strndup(s, n);
	if (!c)
		return oom(p);
	yoc_free(ND(i).str);
	ND(i).str = c;
	ND(i).slen = n;
	return 0;
}

/* An integer literal used as text (sex = 2 means sex = '2', as SQLite's affinity does). */
static int num_to_text(struct parser *p, int i)
{
	if (!ND(i).isint)
		return perr(p, (size_t)ND(i).pos, YOC_EPARSE, "compare text with text: quote the"
			    " value ('%g')", ND(i).num);
	char buf[32];
	int n = snprintf(buf, sizeof buf, "%.0f", ND(i).num);
	if (set_str(p, i, buf, (size_t)n))
		return -1;
	ND(i).kind = K_STR;
	ND(i).type = T_TEXT;
	return 0;
}

/* A text literal compared with a number: it must read as one (SQLite's numeric affinity). */
static int text_to_num(struct parser *p, int i)
{
	const char *s = ND(i).str;
	char *end = NULL;
	double v = ND(i).slen && !isspace((unsigned char)s[0]) ? strtod(s, &end) : 0;
	if (!end || *end || (size_t)(end - s) != ND(i).slen || !isfinite(v))
		return perr(p, (size_t)ND(i).pos, YOC_EPARSE, "'%s' is not a number, and is"
			    " compared with one", s);
	ND(i).kind = K_NUM;
	ND(i).type = T_NUM;
	ND(i).num = v;
	ND(i).isint = strspn(s, "0123456789-") == ND(i).slen;
	return 0;
}

static int parse_or(struct parser *p);

static int lev(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 63 || lb > 63)
		return 99;
	int row[64];
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		int prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j];
			int sub = prev + (tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]));
			int m = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
			row[j] = m < sub ? m : sub;
			prev = cur;
		}
	}
	return row[lb];
}

static int unknown_field(struct parser *p, const char *name, size_t at)
{
	const yoc_rule_schema *sc = p->sc;
	char list[400];
	size_t used = 0;
	list[0] = 0;
	/* nearest first: distance 1, 2, 3, or a common prefix of 3 letters */
	for (int d = 1; d <= 4; d++)
		for (size_t k = 0; k < sc->n; k++) {
			int dist = lev(name, sc->f[k].name);
			int pre = strlen(name) >= 3 && strncasecmp(name, sc->f[k].name, 3) == 0;
			int want = d < 4 ? dist == d : (dist > 3 && pre);
			if (!want)
				continue;
			int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "",
					 sc->f[k].name);
			if (w < 0 || (size_t)w >= sizeof list - used) {
				list[used] = 0;
				goto done;
			}
			used += (size_t)w;
		}
done:;
	char all[300];
	size_t au = 0;
	all[0] = 0;
	for (size_t k = 0; k < sc->n; k++) {
		int w = snprintf(all + au, sizeof all - au, "%s%s", au ? ", " : "", sc->f[k].name);
		if (w < 0 || (size_t)w >= sizeof all - au - 4) {
			snprintf(all + au, sizeof all - au, ", ...");
			break;
		}
		au += (size_t)w;
	}
	if (used)
		return perr(p, at, YOC_ENOTFOUND, "unknown field '%s'; nearest: %s; known: %s", name,
			    list, all);
	return perr(p, at, YOC_ENOTFOUND, "unknown field '%s'; known: %s", name, all);
}

/* name [ '[' t [ - k ] ']' ] ; the name is in p->str, the current token is past it */
static int parse_field(struct parser *p, size_t pos, char *name)
{
	int lag = 0;
	size_t end = pos + strlen(name);
	if (p->tok == TK_LB) {
		if (next(p))
			return -1;
		if (p->tok != TK_IDENT || strcasecmp(p->str.data, "t") != 0) {
			perr(p, p->tpos, YOC_EPARSE, "a look-back is written [t-1], [t-2] ...");
			return -1;
		}
		if (next(p))
			return -1;
		if (p->tok == TK_MINUS) {
			if (next(p))
				return -1;
			if (p->tok != TK_NUM || !p->isint) {
				perr(p, p->tpos, YOC_EPARSE, "a look-back is written [t-1], [t-2] ...");
				return -1;
			}
			if (p->num > YOC_RULE_MAX_LAG) {
				perr(p, p->tpos, YOC_ETOOBIG, "look-back beyond t-%d", YOC_RULE_MAX_LAG);
				return -1;
			}
			lag = (int)p->num;
			if (next(p))
				return -1;
		}
		if (p->tok != TK_RB) {
			perr(p, p->tpos, YOC_EPARSE, "expected ']' closing the look-back, found %s",
			     tok_name(p->tok));
			return -1;
		}
		end = p->tend;
		if (next(p))
			return -1;
	}
	int type = T_ANY, isint = 0, fi = -1;
	const char *canon = name;
	if (p->sc) {
		for (size_t k = 0; k < p->sc->n; k++)
			if (strcasecmp(p->sc->f[k].name, name) == 0) {
				fi = (int)k;
				break;
			}
		if (fi < 0) {
			unknown_field(p, name, pos);
			return -1;
		}
		const struct schema_field *f = &p->sc->f[fi];
		canon = f->name;
		type = f->ftype == YOC_RULE_TEXT ? T_TEXT : T_NUM;
		isint = f->ftype == YOC_RULE_INT;
	}
	int k = new_node(p, K_FIELD, type, pos, end);
	if (k < 0)
		return -1;
	ND(k).field = fi;
	ND(k).lag = lag;
	ND(k).isint = isint;
	if (set_str(p, k, canon, strlen(canon)))
		return -1;
	return k;
}

static int parse_primary(struct parser *p)
{
	size_t pos = p->tpos, end = p->tend;
	int k;
	switch (p->tok) {
	case TK_NUM:
	case TK_TRUE:
	case TK_FALSE:
		k = new_node(p, K_NUM, T_NUM, pos, end);
		if (k < 0)
			return -1;
		ND(k).num = p->tok == TK_NUM ? p->num : p->tok == TK_TRUE;
		ND(k).isint = p->tok == TK_NUM ? p->isint : 1;
		return next(p) ? -1 : k;
	case TK_STR:
		k = new_node(p, K_STR, T_TEXT, pos, end);
		if (k < 0 || set_str(p, k, p->str.data, p->str.len))
			return -1;
		return next(p) ? -1 : k;
	case TK_LP:
		if (next(p) || (k = parse_or(p)) < 0)
			return -1;
		if (p->tok != TK_RP) {
			perr(p, p->tpos, YOC_EPARSE, "expected ')' to close the '(' at column %ld,"
			     " found %s", yoc__rule_charcol(p->s, (long)pos), tok_name(p->tok));
			return -1;
		}
		ND(k).pos = (long)pos;
		ND(k).end = (long)p->tend;
		return next(p) ? -1 : k;
	case TK_IDENT: {
		char *name = yoc_strndup(p->str.data, p->str.len);
		if (!name) {
			oom(p);
			return -1;
		}
		if (next(p)) {
			yoc_free(name);
			return -1;
		}
		if (strcasecmp(name, "count") == 0 && p->tok == TK_LP) {
			yoc_free(name);
			int args[256], n = 0;
			if (next(p))
				return -1;
			for (;;) {
				if (n == 256) {
					perr(p, p->tpos, YOC_ETOOBIG, "count() takes at most 256 arguments");
					return -1;
				}
				int a = to_bool(p, parse_or(p), "an argument of count");
				if (a < 0)
					return -1;
				args[n++] = a;
				if (p->tok != TK_COMMA)
					break;
				if (next(p))
					return -1;
			}
			if (p->tok != TK_RP) {
				perr(p, p->tpos, YOC_EPARSE, "expected ',' or ')' in count(...), found %s",
				     tok_name(p->tok));
				return -1;
			}
			k = new_node(p, K_COUNT, T_NUM, pos, p->tend);
			if (k < 0)
				return -1;
			ND(k).isint = 1;
			yoc_rule *r = p->r;
			if (r->nlist + n > r->caplist) {
				int cap = (r->nlist + n) * 2;
				int *l = yoc_realloc(r->list, (size_t)cap * sizeof *l);
				if (!l) {
					oom(p);
					return -1;
				}
				r->list = l;
				r->caplist = cap;
			}
			ND(k).first = r->nlist;
			ND(k).n = n;
			memcpy(r->list + r->nlist, args, (size_t)n * sizeof *args);
			r->nlist += n;
			return next(p) ? -1 : k;
		}
		k = parse_field(p, pos, name);
		yoc_free(name);
		return k;
	}
	case TK_EOF:
		perr(p, pos, YOC_EPARSE, "the rule ends where a value was expected");
		return -1;
	default:
		perr(p, pos, YOC_EPARSE, "expected a field, number, text or '(', found %s",
		     tok_name(p->tok));
		return -1;
	}
}

static int enter(struct parser *p)
{
	if (++p->depth > YOC_RULE_MAX_DEPTH)
		return perr(p, p->tpos, YOC_ETOOBIG, "rule nested too deeply (more than %d levels)",
			    YOC_RULE_MAX_DEPTH);
	return 0;
}

static int parse_unary(struct parser *p)
{
	if (p->tok != TK_MINUS && p->tok != TK_PLUS)
		return parse_primary(p);
	size_t pos = p->tpos;
	int minus = p->tok == TK_MINUS;
	if (enter(p) || next(p))
		return -1;
	int a = to_num(p, parse_unary(p), "'-'");
	p->depth--;
	if (a < 0)
		return -1;
	ND(a).pos = (long)pos;
	if (!minus)
		return a;
	if (ND(a).kind == K_NUM) { /* fold -5 into a literal */
		ND(a).num = -ND(a).num;
		return a;
	}
	int k = wrap(p, K_NEG, T_NUM, a);
	if (k >= 0)
		ND(k).isint = ND(a).isint;
	return k;
}

static int binary(struct parser *p, int kind, int type, int op, int a, int b)
{
	if (a < 0 || b < 0)
		return -1;
	long pos = ND(a).pos < ND(b).pos ? ND(a).pos : ND(b).pos;
	long end = ND(a).end > ND(b).end ? ND(a).end : ND(b).end;
	int k = new_node(p, kind, type, (size_t)pos, (size_t)end);
	if (k < 0)
		return -1;
	ND(k).a = a;
	ND(k).b = b;
	ND(k).op = op;
	return k;
}

static int parse_mul(struct parser *p)
{
	int a = parse_unary(p);
	while (a >= 0 && (p->tok == TK_STAR || p->tok == TK_SLASH)) {
		int op = p->tok == TK_STAR ? OP_MUL : OP_DIV;
		if (next(p))
			return -1;
		a = to_num(p, a, op == OP_MUL ? "'*'" : "'/'");
		int b = to_num(p, parse_unary(p), op == OP_MUL ? "'*'" : "'/'");
		int isint = a >= 0 && b >= 0 && ND(a).isint && ND(b).isint;
		a = binary(p, K_ARITH, T_NUM, op, a, b);
		if (a >= 0)
			ND(a).isint = isint;
	}
	return a;
}

static int parse_add(struct parser *p)
{
	int a = parse_mul(p);
	while (a >= 0 && (p->tok == TK_PLUS || p->tok == TK_MINUS)) {
		int op = p->tok == TK_PLUS ? OP_ADD : OP_SUB;
		if (next(p))
			return -1;
		a = to_num(p, a, op == OP_ADD ? "'+'" : "'-'");
		int b = to_num(p, parse_mul(p), op == OP_ADD ? "'+'" : "'-'");
		int isint = a >= 0 && b >= 0 && ND(a).isint && ND(b).isint;
		a = binary(p, K_ARITH, T_NUM, op, a, b);
		if (a >= 0)
			ND(a).isint = isint;
	}
	return a;
}

static int flip(int op)
{
	switch (op) {
	case OP_LT: return OP_GT;
	case OP_LE: return OP_GE;
	case OP_GT: return OP_LT;
	case OP_GE: return OP_LE;
	}
	return op;
}

/* Types the operands of a comparison; literals end up on the right. */
static int comparison(struct parser *p, int op, size_t at, int a, int b)
{
	if (a < 0 || b < 0)
		return -1;
	if (ND(a).kind == K_STR || (ND(a).kind == K_NUM && ND(b).kind != K_NUM && ND(b).kind != K_STR)) {
		int t = a;
		a = b;
		b = t;
		op = flip(op);
	}
	if (ND(a).kind == K_STR) {
		perr(p, at, YOC_EPARSE, "comparing two texts: one side must be a field");
		return -1;
	}
	int ta = ND(a).type, tb = ND(b).type;
	if (ta == T_TEXT || tb == T_TEXT) {
		if (ta == T_TEXT && tb == T_TEXT)
			;
		else if (ta == T_TEXT && ND(b).kind == K_NUM) {
			if (num_to_text(p, b))
				return -1;
		} else if (ta == T_ANY || tb == T_ANY)
			;
		else if (ND(b).kind == K_STR) {
			if (ta == T_BOOL && (a = to_num(p, a, "comparison")) < 0)
				return -1;
			if (text_to_num(p, b))
				return -1;
		} else {
			perr(p, at, YOC_EPARSE, "comparing text with a number");
			return -1;
		}
	} else {
		if ((a = to_num(p, a, "comparison")) < 0 || (b = to_num(p, b, "comparison")) < 0)
			return -1;
	}
	return binary(p, K_CMP, T_BOOL, op, a, b);
}

/* ( item, ... ) after [not] in */
static int parse_set(struct parser *p, int a, int neg, size_t at)
{
	if (a < 0)
		return -1;
	if (ND(a).kind == K_STR || ND(a).kind == K_NUM) {
		perr(p, at, YOC_EPARSE, "the left of 'in' must be a field or expression");
		return -1;
	}
	if (ND(a).type == T_BOOL && (a = to_num(p, a, "in")) < 0)
		return -1;
	int ta = ND(a).type;
	if (p->tok != TK_LP) {
		perr(p, p->tpos, YOC_EPARSE, "expected '(' after 'in', found %s", tok_name(p->tok));
		return -1;
	}
	if (next(p))
		return -1;
	int first = p->r->nlist, n = 0;
	while (p->tok != TK_RP) {
		if (n > 0) {
			if (p->tok != TK_COMMA) {
				perr(p, p->tpos, YOC_EPARSE, "expected ',' or ')' in the set, found %s",
				     tok_name(p->tok));
				return -1;
			}
			if (next(p))
				return -1;
		}
		size_t ipos = p->tpos;
		int sign = 1;
		if (p->tok == TK_MINUS) {
			sign = -1;
			if (next(p))
				return -1;
			if (p->tok != TK_NUM) {
				perr(p, p->tpos, YOC_EPARSE, "expected a number after '-'");
				return -1;
			}
		}
		int k;
		if (p->tok == TK_NUM) {
			k = new_node(p, K_NUM, T_NUM, ipos, p->tend);
			if (k < 0)
				return -1;
			ND(k).num = sign * p->num;
			ND(k).isint = p->isint;
			if (ta == T_TEXT && num_to_text(p, k))
				return -1;
		} else if (p->tok == TK_STR || p->tok == TK_IDENT) {
			/* a bare word in a set is text: practice in (P90001, P90004) */
			k = new_node(p, K_STR, T_TEXT, ipos, p->tend);
			if (k < 0 || set_str(p, k, p->str.data, p->str.len))
				return -1;
			if (ta == T_NUM && text_to_num(p, k))
				return -1;
		} else {
			perr(p, p->tpos, YOC_EPARSE, "a set holds numbers and texts, found %s",
			     tok_name(p->tok));
			return -1;
		}
		if (next(p))
			return -1;
		yoc_rule *r = p->r;
		if (r->nlist == r->caplist) {
			int cap = r->caplist ? r->caplist * 2 : 16;
			int *l = yoc_realloc(r->list, (size_t)cap * sizeof *l);
			if (!l) {
				oom(p);
				return -1;
			}
			r->list = l;
			r->caplist = cap;
		}
		r->list[r->nlist++] = k;
		n++;
	}
	int k = new_node(p, K_IN, T_BOOL, (size_t)ND(a).pos, p->tend);
	if (k < 0)
		return -1;
	ND(k).a = a;
	ND(k).neg = neg;
	ND(k).first = first;
	ND(k).n = n;
	return next(p) ? -1 : k;
}

static int parse_cmp(struct parser *p)
{
	int a = parse_add(p);
	if (a < 0)
		return -1;
	int op = 0;
	size_t at = p->tpos;
	switch (p->tok) {
	case TK_EQ: op = OP_EQ; break;
	case TK_NE: op = OP_NE; break;
	case TK_LT: op = OP_LT; break;
	case TK_LE: op = OP_LE; break;
	case TK_GT: op = OP_GT; break;
	case TK_GE: op = OP_GE; break;
	case TK_IN:
		if (next(p))
			return -1;
		return parse_set(p, a, 0, at);
	case TK_NOT:
		if (next(p))
			return -1;
		if (p->tok != TK_IN) {
			perr(p, p->tpos, YOC_EPARSE, "expected 'in' after 'not' here");
			return -1;
		}
		if (next(p))
			return -1;
		return parse_set(p, a, 1, at);
	case TK_IS: {
		int neg = 0;
		if (next(p))
			return -1;
		if (p->tok == TK_NOT) {
			neg = 1;
			if (next(p))
				return -1;
		}
		if (p->tok != TK_NULL) {
			perr(p, p->tpos, YOC_EPARSE, "expected 'null' after 'is'");
			return -1;
		}
		if (ND(a).kind == K_STR) {
			perr(p, at, YOC_EPARSE, "'is null' needs a field or expression");
			return -1;
		}
		int k = new_node(p, K_ISNULL, T_BOOL, (size_t)ND(a).pos, p->tend);
		if (k < 0)
			return -1;
		ND(k).a = a;
		ND(k).neg = neg;
		return next(p) ? -1 : k;
	}
	default:
		return a;
	}
	if (next(p))
		return -1;
	int b = parse_add(p);
	int k = comparison(p, op, at, a, b);
	if (k >= 0 && p->tok >= TK_EQ && p->tok <= TK_GE) {
		perr(p, p->tpos, YOC_EPARSE, "comparisons do not chain: join them with 'and'");
		return -1;
	}
	return k;
}

static int parse_not(struct parser *p)
{
	if (p->tok != TK_NOT)
		return parse_cmp(p);
	size_t pos = p->tpos;
	if (enter(p) || next(p))
		return -1;
	int a = to_bool(p, parse_not(p), "'not'");
	p->depth--;
	if (a < 0)
		return -1;
	int k = new_node(p, K_NOT, T_BOOL, pos, (size_t)ND(a).end);
	if (k >= 0)
		ND(k).a = a;
	return k;
}

static int parse_and(struct parser *p)
{
	int a = parse_not(p);
	while (a >= 0 && p->tok == TK_AND) {
		if (next(p))
			return -1;
		a = to_bool(p, a, "'and'");
		a = binary(p, K_AND, T_BOOL, 0, a, to_bool(p, parse_not(p), "'and'"));
	}
	return a;
}

static int parse_or(struct parser *p)
{
	if (enter(p))
		return -1;
	int a = parse_and(p);
	while (a >= 0 && p->tok == TK_OR) {
		if (next(p))
			return -1;
		a = to_bool(p, a, "'or'");
		a = binary(p, K_OR, T_BOOL, 0, a, to_bool(p, parse_and(p), "'or'"));
	}
	p->depth--;
	return a;
}

static void collect(yoc_rule *r, int i, int kind, int *out, int *n)
{
	if (r->node[i].kind != kind) {
		out[(*n)++] = i;
		return;
	}
	collect(r, r->node[i].a, kind, out, n);
	collect(r, r->node[i].b, kind, out, n);
}

static int finish(struct parser *p)
{
	yoc_rule *r = p->r;
	int root = r->root;
	int kind = r->node[root].kind == K_OR ? K_OR : r->node[root].kind == K_AND ? K_AND : -1;
	r->clauses_or = kind == K_OR;
	r->clause = yoc_malloc((size_t)r->nnode * sizeof *r->clause);
	if (!r->clause)
		return oom(p);
	r->nclause = 0;
	if (kind < 0)
		r->clause[r->nclause++] = root;
	else
		collect(r, root, kind, r->clause, &r->nclause);
	r->clause_text = yoc_calloc((size_t)r->nclause, sizeof *r->clause_text);
	if (!r->clause_text)
		return oom(p);
	for (int c = 0; c < r->nclause; c++) {
		struct rule_node *n = &r->node[r->clause[c]];
		r->clause_text[c] = yoc_strndup(r->text + n->pos, (size_t)(n->end - n->pos));
		if (!r->clause_text[c])
			return oom(p);
	}
	/* distinct columns read */
	r->node_ref = yoc_malloc((size_t)r->nnode * sizeof *r->node_ref);
	r->ref = yoc_calloc((size_t)r->nnode, sizeof *r->ref);
	if (!r->node_ref || !r->ref)
		return oom(p);
	for (int i = 0; i < r->nnode; i++) {
		struct rule_node *n = &r->node[i];
		r->node_ref[i] = -1;
		if (n->kind != K_FIELD || n->field < 0)
			continue;
		int k;
		for (k = 0; k < r->nref; k++)
			if (strcmp(r->ref[k].name, n->str) == 0 && r->ref[k].lag == n->lag)
				break;
		if (k == r->nref) {
			const struct schema_field *f = &p->sc->f[n->field];
			r->ref[k].name = yoc_strdup(f->name);
			if (!r->ref[k].name)
				return oom(p);
			r->ref[k].ftype = f->ftype;
			r->ref[k].table = f->table;
			r->ref[k].lag = n->lag;
			r->nref++;
		}
		r->node_ref[i] = k;
	}
	return 0;
}

int yoc_rule_compile(const char *text, const yoc_rule_schema *schema, yoc_rule **out,
		     struct yoc_error *e)
{
	*out = NULL;
	struct parser P;
	memset(&P, 0, sizeof P);
	struct parser *p = &P;
	int rc;
	p->s = text;
	p->len = strlen(text);
	p->sc = schema;
	p->e = e;
	yoc_buf_init(&p->str, YOC_RULE_MAX_TEXT + 1);
	if (p->len > YOC_RULE_MAX_TEXT)
		return yoc_error_set(e, YOC_ETOOBIG, "rule", 1, 0, "rule longer than %d bytes",
				     YOC_RULE_MAX_TEXT);
	p->r = yoc_calloc(1, sizeof *p->r);
	if (!p->r)
		return yoc_error_set(e, YOC_ENOMEM, "rule", 1, 0, "out of memory");
	p->r->has_schema = schema != NULL;
	p->r->text = yoc_strdup(text);
	if (!p->r->text) {
		rc = oom(p);
		goto cleanup;
	}
	if ((rc = next(p)))
		goto cleanup;
	if (p->tok == TK_EOF) {
		rc = perr(p, p->tpos, YOC_EPARSE, "empty rule");
		goto cleanup;
	}
	int root = to_bool(p, parse_or(p), "the rule");
	if (root < 0) {
		rc = p->failed ? p->failed : YOC_EINTERNAL;
		goto cleanup;
	}
	if (p->tok != TK_EOF) {
		const char *hint = p->tok == TK_RP ? " (a ')' without its '(')" :
			p->tok == TK_IDENT || p->tok == TK_NUM || p->tok == TK_STR ?
			" (missing 'and' or 'or'?)" : "";
		rc = perr(p, p->tpos, YOC_EPARSE, "unexpected %s%s", tok_name(p->tok), hint);
		goto cleanup;
	}
	p->r->root = root;
	if ((rc = finish(p)))
		goto cleanup;
	*out = p->r;
	p->r = NULL;
	rc = 0;
cleanup:
	yoc_buf_free(&p->str);
	yoc_rule_free(p->r);
	return rc;
}

void yoc_rule_free(yoc_rule *r)
{
	if (!r)
		return;
	for (int i = 0; i < r->nnode; i++)
		yoc_free(r->node[i].str);
	if (r->clause_text)
		for (int c = 0; c < r->nclause; c++)
			yoc_free(r->clause_text[c]);
	for (int k = 0; k < r->nref; k++)
		yoc_free(r->ref[k].name);
	yoc_free(r->clause_text);
	yoc_free(r->clause);
	yoc_free(r->ref);
	yoc_free(r->node_ref);
	yoc_free(r->node);
	yoc_free(r->list);
	yoc_free(r->text);
	yoc_free(r);
}

size_t yoc_rule_nclauses(const yoc_rule *r)
{
	return (size_t)r->nclause;
}

const char *yoc_rule_clause_text(const yoc_rule *r, size_t i)
{
	return i < (size_t)r->nclause ? r->clause_text[i] : NULL;
}

int yoc_rule_clauses_are_or(const yoc_rule *r)
{
	return r->clauses_or;
}

/* ---- printing ---- */

static const char *op_text(int op)
{
	static const char *const t[] = {"?", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"};
	return op >= 1 && op <= OP_DIV ? t[op] : "?";
}

static int put_num(struct yoc_buf *b, const struct rule_node *n)
{
	if (n->isint && fabs(n->num) < 1e18)
		return yoc_buf_printf(b, "%.0f", n->num);
	/* a real prints as a real (500.0, not 500), so it parses back as one:
	 * 1 / 500.0 is not the integer division 1 / 500 */
	char buf[40];
	int len = snprintf(buf, sizeof buf, "%.17g", n->num);
	if (!strpbrk(buf, ".eE") && len > 0 && len + 3 <= (int)sizeof buf)
		memcpy(buf + len, ".0", 3);
	return yoc_buf_puts(b, buf);
}

static int put_str(struct yoc_buf *b, const char *s, size_t n)
{
	int rc = yoc_buf_putc(b, '\'');
	for (size_t i = 0; i < n && !rc; i++)
		rc = s[i] == '\'' ? yoc_buf_puts(b, "''") : yoc_buf_putc(b, s[i]);
	return rc ? rc : yoc_buf_putc(b, '\'');
}

static int put_field(struct yoc_buf *b, const struct rule_node *n)
{
	int rc = yoc_buf_puts(b, n->str);
	if (!rc && n->lag)
		rc = yoc_buf_printf(b, "[t-%d]", n->lag);
	return rc;
}

/* The tree is at most YOC_RULE_MAX_DEPTH deep apart from and/or chains and
 * arithmetic chains, which are walked down their left spine. */
static int put_node(const yoc_rule *r, int i, struct yoc_buf *b, int top)
{
	const struct rule_node *n = &r->node[i];
	int rc = 0;
	switch (n->kind) {
	case K_FIELD: return put_field(b, n);
	case K_NUM: return put_num(b, n);
	case K_STR: return put_str(b, n->str, n->slen);
	case K_TRUTH:
	case K_TONUM: return put_node(r, n->a, b, top);
	case K_NEG:
		if ((rc = yoc_buf_putc(b, '-')))
			return rc;
		return put_node(r, n->a, b, 0);
	case K_NOT:
		if ((rc = yoc_buf_puts(b, "not ")))
			return rc;
		return put_node(r, n->a, b, 0);
	case K_ISNULL:
		if ((!top && (rc = yoc_buf_putc(b, '('))) || (rc = put_node(r, n->a, b, 0)) ||
		    (rc = yoc_buf_puts(b, n->neg ? " is not null" : " is null")))
			return rc;
		return top ? 0 : yoc_buf_putc(b, ')');
	case K_IN:
		if ((!top && (rc = yoc_buf_putc(b, '('))) || (rc = put_node(r, n->a, b, 0)) ||
		    (rc = yoc_buf_puts(b, n->neg ? " not in (" : " in (")))
			return rc;
		for (int k = 0; k < n->n && !rc; k++) {
			if (k)
				rc = yoc_buf_puts(b, ", ");
			if (!rc)
				rc = put_node(r, r->list[n->first + k], b, 0);
		}
		if (!rc)
			rc = yoc_buf_putc(b, ')');
		return rc || top ? rc : yoc_buf_putc(b, ')');
	case K_COUNT:
		if ((rc = yoc_buf_puts(b, "count(")))
			return rc;
		for (int k = 0; k < n->n && !rc; k++) {
			if (k)
				rc = yoc_buf_puts(b, ", ");
			if (!rc)
				rc = put_node(r, r->list[n->first + k], b, 1);
		}
		return rc ? rc : yoc_buf_putc(b, ')');
	default: {
		const char *o = n->kind == K_AND ? "and" : n->kind == K_OR ? "or" : op_text(n->op);
		if (!top && (rc = yoc_buf_putc(b, '(')))
			return rc;
		/* same-kind left operands print without their own parentheses */
		const struct rule_node *l = &r->node[n->a];
		int left_top = l->kind == n->kind && (n->kind == K_AND || n->kind == K_OR);
		if ((rc = put_node(r, n->a, b, left_top)) || (rc = yoc_buf_printf(b, " %s ", o)) ||
		    (rc = put_node(r, n->b, b, 0)))
			return rc;
		return top ? 0 : yoc_buf_putc(b, ')');
	}
	}
}

int yoc_rule_normalised(const yoc_rule *r, struct yoc_buf *out)
{
	return put_node(r, r->root, out, 1);
}

static const char *type_name(const struct rule_node *n)
{
	switch (n->type) {
	case T_BOOL: return "truth";
	case T_NUM: return n->isint ? "integer" : "number";
	case T_TEXT: return "text";
	}
	return "any";
}

int yoc_rule_explain(const yoc_rule *r, struct yoc_buf *b)
{
	int rc;
	if ((rc = yoc_buf_puts(b, "rule: ")) || (rc = yoc_rule_normalised(r, b)) ||
	    (rc = yoc_buf_printf(b, "\nclauses (%s):\n", r->clauses_or ? "any of" :
				 r->nclause > 1 ? "all of" : "one")))
		return rc;
	for (int c = 0; c < r->nclause; c++)
		if ((rc = yoc_buf_printf(b, "  %d: %s\n", c + 1, r->clause_text[c])))
			return rc;
	if ((rc = yoc_buf_puts(b, "plan (each step over all rows, vectorised):\n")))
		return rc;
	for (int i = 0; i < r->nnode; i++) {
		const struct rule_node *n = &r->node[i];
		if ((rc = yoc_buf_printf(b, "  r%d = ", i)))
			return rc;
		switch (n->kind) {
		case K_FIELD:
			rc = yoc_buf_printf(b, "column %s", n->str);
			if (!rc && n->lag)
				rc = yoc_buf_printf(b, " of year t-%d", n->lag);
			if (!rc && n->field >= 0)
				rc = yoc_buf_puts(b, r->ref[r->node_ref[i]].table == YOC_RULE_RISK_SCORE ?
						  " (risk_score)" : " (person_year)");
			break;
		case K_NUM: rc = yoc_buf_puts(b, "constant "); if (!rc) rc = put_num(b, n); break;
		case K_STR: rc = yoc_buf_puts(b, "text "); if (!rc) rc = put_str(b, n->str, n->slen); break;
		case K_NEG: rc = yoc_buf_printf(b, "-r%d", n->a); break;
		case K_ARITH:
		case K_CMP:
			if (r->node[n->b].kind == K_STR)
				rc = yoc_buf_printf(b, "r%d %s text ", n->a, op_text(n->op));
			else
				rc = yoc_buf_printf(b, "r%d %s r%d", n->a, op_text(n->op), n->b);
			if (!rc && r->node[n->b].kind == K_STR)
				rc = put_str(b, r->node[n->b].str, r->node[n->b].slen);
			if (!rc && n->kind == K_ARITH && n->op == OP_DIV && n->isint)
				rc = yoc_buf_puts(b, " (integer division)");
			break;
		case K_IN:
			rc = yoc_buf_printf(b, "r%d %s set of %d", n->a, n->neg ? "not in" : "in", n->n);
			break;
		case K_ISNULL: rc = yoc_buf_printf(b, "r%d is %snull", n->a, n->neg ? "not " : ""); break;
		case K_NOT: rc = yoc_buf_printf(b, "not r%d", n->a); break;
		case K_AND: rc = yoc_buf_printf(b, "r%d and r%d", n->a, n->b); break;
		case K_OR: rc = yoc_buf_printf(b, "r%d or r%d", n->a, n->b); break;
		case K_TRUTH: rc = yoc_buf_printf(b, "truth of r%d (non-zero)", n->a); break;
		case K_TONUM: rc = yoc_buf_printf(b, "r%d as 1/0", n->a); break;
		case K_COUNT:
			rc = yoc_buf_puts(b, "count true of");
			for (int k = 0; k < n->n && !rc; k++)
				rc = yoc_buf_printf(b, " r%d", r->list[n->first + k]);
			break;
		}
		if (!rc)
			rc = yoc_buf_printf(b, "  [%s]\n", type_name(n));
		if (rc)
			return rc;
	}
	return yoc_buf_printf(b, "select rows where r%d is true\n", r->root);
}
