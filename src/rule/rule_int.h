/*
** Internals of the rule module shared by the parser (rule_parse.c), the
** frame loader (rule_frame.c) and the evaluator (rule_eval.c).
**
** A compiled rule is its node array. Children always come before their
** parent, so the array in index order is the plan: evaluating node 0, 1, ...
** each into its own register evaluates the rule. Conversions (a number used
** as a truth value, a truth value used as a number) are nodes of their own,
** inserted by the parser.
*/
#ifndef YOC_RULE_INT_H
#define YOC_RULE_INT_H

#include "rule/rule.h"

/* Value types of nodes. */
enum { T_BOOL = 1, T_NUM, T_TEXT, T_ANY };

enum rule_kind {
	K_FIELD,   /* field[t-lag] */
	K_NUM,     /* number literal (true/false are 1/0) */
	K_STR,     /* text literal: only an operand of a comparison or a set item */
	K_NEG,     /* -a */
	K_ARITH,   /* a op b, op one of + - * / */
	K_CMP,     /* a op b, op one of = != < <= > >= */
	K_IN,      /* a [not] in (items) */
	K_ISNULL,  /* a is [not] null */
	K_NOT,
	K_AND,
	K_OR,
	K_TRUTH,   /* number -> truth value: NULL unknown, 0 false, else true */
	K_TONUM,   /* truth value -> number: true 1, false 0, unknown NULL */
	K_COUNT    /* count(a, b, ...): truth values that are TRUE; NULL if any unknown */
};

/* Comparison and arithmetic operators. */
enum { OP_EQ = 1, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_ADD, OP_SUB, OP_MUL, OP_DIV };

struct rule_node {
	int kind, type;
	int isint;        /* T_NUM: integer-valued (SQL integer arithmetic) */
	int op;
	int neg;          /* not in, is not null */
	int a, b;         /* children, -1 none */
	int first, n;     /* K_IN items, K_COUNT args: r->list[first .. first+n) */
	int field;        /* K_FIELD: schema index, -1 without schema */
	int lag;          /* K_FIELD: k of t-k */
	double num;       /* K_NUM */
	char *str;        /* K_STR text, K_FIELD name (NUL-terminated, owned) */
	size_t slen;
	long pos, end;    /* source span, byte offsets [pos, end) */
};

struct rule_field_ref { /* a column the rule reads */
	char *name;
	int ftype, table, lag;
};

struct yoc_rule {
	char *text;
	struct rule_node *node;
	int nnode, capnode;
	int *list;
	int nlist, caplist;
	int root;
	int has_schema;
	int nclause;
	int *clause;        /* node of each clause */
	char **clause_text;
	int clauses_or;
	struct rule_field_ref *ref; /* distinct (field, lag) pairs */
	int nref;
	int *node_ref;      /* K_FIELD node -> index in ref */
};

struct schema_field {
	char *name;
	int ftype, table;
};
struct yoc_rule_schema {
	struct schema_field *f;
	size_t n, cap;
};

/* A column of the frame. */
struct frame_col {
	char *name;
	int ftype, table, lag;
	double *num;     /* INT, REAL */
	int32_t *code;   /* TEXT: index in the frame's sorted dictionary */
	uint8_t *null;   /* 1 = NULL */
};

struct yoc_rule_frame {
	size_t n;
	char *ids;       /* pseudo_ids, NUL-separated */
	size_t *id_off;
	struct frame_col *col;
	size_t ncol;
	char **dict;     /* sorted distinct texts (NUL-terminated, owned) */
	size_t *dict_len;
	size_t ndict;
};

/* Character column (1-based) of byte offset off in text. */
long yoc__rule_charcol(const char *text, long off);

#endif
