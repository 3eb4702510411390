/*
** SQL over the activity: a SQLite virtual table module exposing each feed
** kind's current rows as a read-only table named by the kind (apc, op, ae,
** community, mh, gp_appt, gp_register, social_care, ambulance, deaths,
** careplan, pam), on a connection to a dataset's catalog DIR/yoc.db, so
** activity joins person, person_year, risk_score, cohort_register and the
** rest in one query. docs/sql.md is the user's description.
**
** The tables are eponymous (no CREATE VIRTUAL TABLE, so a read-only
** connection works). Columns: file_id, line (the row's line in its source
** file), then the kind's fields in data-spec order, then columns the
** kind does not know, as loaded. Dates are ISO text 'YYYY-MM-DD' (the HES
** null dates '1800-01-01' and '1801-01-01' as sent), ints and money are
** integers (money in pence, as person_year's costs), empty cells NULL.
** Rows of superseded files are never shown.
**
** The dataset directory is the folder of the database file the module is
** registered on (sqlite3_db_filename of "main"); the store is opened on the
** first use of a table, read-only, through src/store/store.h only. Segments
** are opened once per connection and kept; the file list is read again
** when the catalog has changed (PRAGMA data_version) and no scan is open.
**
** Pushed down (docs/sql.md, "What is pushed down"): PSEUDO_ID = value and
** PSEUDO_ID IN (...), comparisons of the kind's activity date with an ISO
** date (=, <, <=, >, >=, BETWEEN), and file_id = value. SQLite still checks
** every constraint on the rows returned: the module only skips segments
** and rows that cannot match.
**
** Built twice: into libyoc (the yoc binary registers the module itself,
** for yoc sql) and, with YOC_SQLITE_EXTENSION defined, into the loadable
** extension build/yoc_sqlite.so (entry point sqlite3_yocsqlite_init).
*/
#ifndef YOC_SQLEXT_H
#define YOC_SQLEXT_H

#include <sqlite3.h>
#include <stdint.h>

/* What the tables of one connection did, for tests and `yoc sql --stats`. */
struct yoc_sqlext_stats {
	uint64_t segments;     /* segments a scan came to */
	uint64_t skipped;      /* of those, passed over whole: date range, file_id */
	uint64_t person_scans; /* segments whose person column was read row by row */
	uint64_t person_index; /* lookups in a segment's person index */
	uint64_t rows;         /* rows examined */
	uint64_t returned;     /* rows handed to SQLite */
};

/*
** Registers the twelve tables on db. *stats (may be NULL) points at the
** connection's counters, valid until db is closed. SQLITE_OK or an SQLite
** error code (the module's state is then freed).
*/
int yoc_sqlext_register(sqlite3 *db, const struct yoc_sqlext_stats **stats);

#endif
