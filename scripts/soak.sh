#!/bin/sh
# Soak test of crash safety: SOAK_KILLS (default 1000) SIGKILLs at random
# moments of `yoc load`, `yoc analyse`, `yoc pseudonymise` (a tree and a single
# file) and `yoc report`, each followed by a check that what is on disk is
# exactly the state before that run or the state after it, and by an
# uninterrupted rerun that must succeed and equal a run never killed. Run by
# `make soak`, not by `make check` (it takes minutes). docs/store.md, "Soak".
#
#   SOAK_KILLS=1000     kills in all, spread at random over the five targets
#   SOAK_SEED=N         the schedule (target, moment, starting state); printed
#   SOAK_PERSONS=3000   size of the synthetic economy (3 financial years)
#   SOAK_TIMEOUT=300    seconds allowed to any one yoc run (GNU timeout)
#   SOAK_STRICT_TREE=1  an output folder left mixed (some files old, some new,
#                       each whole) counts as a failure, not only a figure
#   SOAK_KEEP=1         keep the work folder (its path is printed)
#   YOC=path            the binary (default ./yoc at the repository root)
#
# The economy is built once: synth, two keys, references. Each target has an
# "old" state (what is on disk before the run) and a "new" one (what an
# uninterrupted run leaves), both made by uninterrupted runs first:
#
#   load         dataset with the first two years loaded; the run loads all
#                three years plus a resubmitted (replacing) month. Checked:
#                `yoc status` works; sqlite3: integrity_check is ok, the row
#                totals of the catalog equal the old or the new totals; every
#                segment the catalog names exists, has the catalog's row count,
#                a size matching its header and a right trailer checksum
#                (yoc_hash64 written out again in soak_check.py); segments no
#                row names are stale temporaries. Rerun: the totals of a clean
#                load, no stale segment left.
#   analyse      person_year built from the first two years; the run rebuilds
#                it from all three. Checked: integrity_check, and count, cost
#                sums and LTC sums of person_year with its companion tables
#                (provider_cost, costing_summary, unpriced_activity,
#                analyse_run) all old or all new. Rerun: all new.
#   pseudonymise (tree) output folder holding an older extract (two years)
#                pseudonymised under another key, or no folder (one run in
#                four); the run writes the three-year extract under the key.
#   pseudonymise (file) the same for one file: every GP appointment of the
#                three years in one extract (42,000 rows, 3.8 MB at 3,000
#                persons), so that a run lasts long enough to be hit.
#   report       output folder holding the report of the two-year dataset, or
#                none; the run reports the three-year dataset.
#
# For the three folder targets every file must be whole: its sha256 equal to
# the same file of the old or of the new reference (an .xlsx is compared by
# its members, with the write time libxlsxwriter records blanked: the only
# content of yoc's outputs that differs between two runs on the same inputs).
# A folder may be old, new, or mixed (today's per-file atomic writes: some
# files already new); a kill must never leave a file that is neither, lose a
# file of the old output, or leave an NHS number, a DOB column or an
# opted-out person's pseudonym in any file, temporaries included. Entries
# named *.tmp.DIGITS (files or folders, in or beside the output) are stale
# temporaries of the killed run; after the uninterrupted rerun none may
# remain (counted as "left"; it fails until runs sweep dead runs'
# temporaries). The rerun's output must equal the new reference exactly.
#
# Exit status: 0 when no check failed and nothing was left after a rerun;
# 1 otherwise; 2 when the setup itself failed.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
YOC=${YOC:-$ROOT/yoc}
CHECK="python3 $ROOT/scripts/soak_check.py"
KILLS=${SOAK_KILLS:-1000}
SEED=${SOAK_SEED:-$(($(date +%s) % 100000))}
PERSONS=${SOAK_PERSONS:-3000}
LIMIT=${SOAK_TIMEOUT:-300}
export YOC_QUIET=1
t_start=$(date +%s)

W=$(mktemp -d "${TMPDIR:-/tmp}/yoc_soak_XXXXXX") || exit 2
tp=
cleanup() {
	# a run in flight: timeout passes TERM on to yoc
	[ -n "$tp" ] && kill -TERM "$tp" 2>/dev/null && wait "$tp" 2>/dev/null
	if [ "${SOAK_KEEP:-0}" = 1 ]; then echo "soak: work folder kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

die() { echo "soak: setup: $*" >&2; exit 2; }
ms_now() { date +%s%N | cut -c1-13; }
# y CMD...: an uninterrupted yoc run, bounded by timeout; output in $W/y.out
y() { timeout "$LIMIT" "$YOC" "$@" > "$W/y.out" 2>&1; }
ysetup() { y "$@" || { tail -5 "$W/y.out" >&2; die "yoc $* failed"; }; }

E=$W/eco      # identifiable economy
R=$W/ref      # references: inputs, old and new states, manifests (read only)
S=$W/run      # where the killed runs write
mkdir -p "$R" "$S"

[ -x "$YOC" ] || die "no binary $YOC (run make)"
for c in sqlite3 python3 timeout; do command -v $c > /dev/null || die "needs $c"; done

# ---- the economy and its references -----------------------------------------
echo "soak: ${KILLS} kills, seed ${SEED}, economy of ${PERSONS} persons (2021/22-2023/24)"
ysetup synth --persons "$PERSONS" --years 3 --first-year 2021 --seed 1 --out "$E"
ysetup keygen --out "$R/key.hex"
ysetup keygen --out "$R/key_old.hex"
KEY=$R/key.hex KEY_OLD=$R/key_old.hex OPTOUT=$E/optout.csv

last_year() { # true when a feed file name's period is in 2023/24
	case $(basename "$1") in
	*_2023-0[4-9]* | *_2023-1[0-2]* | *_2024-0[1-3]* | *_2023-24*) return 0 ;;
	esac
	return 1
}
# old extract: the first two years; single file: every GP appointment
(cd "$E/feeds" && find . -name '*.csv') | sort | while read -r f; do
	last_year "$f" && continue
	mkdir -p "$(dirname "$R/extract_old/$f")" && cp "$E/feeds/$f" "$R/extract_old/$f"
done
awk 'NR == 1 || FNR > 1' "$E"/feeds/gp_appt/*.csv > "$R/single.csv"

ysetup pseudonymise --key "$KEY_OLD" --optout "$OPTOUT" --in "$R/extract_old" --out "$R/pd_old"
ysetup pseudonymise --key "$KEY" --optout "$OPTOUT" --in "$E/feeds" --out "$R/pd_new"
ysetup pseudonymise --key "$KEY_OLD" --optout "$OPTOUT" --in "$R/single.csv" --out "$R/pf_old.csv"
ysetup pseudonymise --key "$KEY" --optout "$OPTOUT" --in "$R/single.csv" --out "$R/pf_new.csv"
$CHECK ids "$E/feeds" "$OPTOUT" "$KEY" "$KEY_OLD" > "$R/ids" || die "ids"
for t in pd_old pd_new pf_old.csv pf_new.csv; do
	$CHECK scan "$R/ids" "$R/$t" > "$W/scan" || { head "$W/scan" >&2; die "identifiers in a reference output $t"; }
done

# load inputs: the first two years; all three with one month resubmitted
(cd "$R/pd_new" && find . -name '*.csv') | sort | while read -r f; do
	last_year "$f" && continue
	mkdir -p "$(dirname "$R/feeds_old/$f")" && cp "$R/pd_new/$f" "$R/feeds_old/$f"
done
cp -r "$R/pd_new" "$R/feeds_new"
resub=$(cd "$R/feeds_old" && find ./apc -name '*.csv' | sort | head -1)
head -n -3 "$R/feeds_old/$resub" > "$R/feeds_new/$resub"

LOAD_SQL="select (select count(*) from files), (select count(*) from current_files),
 (select total(rows) from current_files), (select total(loaded) from current_files),
 (select total(quarantined) from current_files), (select count(*) from quarantine),
 (select count(*) from flags), (select count(*) from file_stats), (select count(*) from person),
 (select count(*) from linkage), (select total(linked) from linkage), (select count(*) from loads),
 (select total(rows) from loads), (select count(*) from duplicate_files)"
AN_SQL="select (select count(*) from person_year), (select total(cost_total) from person_year),
 (select total(cost_elective + cost_nonelective + cost_daycase + cost_outpatient + cost_ae +
  cost_community + cost_mh + cost_gp + cost_social_care + cost_ambulance) from person_year),
 (select total(ltc_count) from person_year), (select total(emergency_admissions) from person_year),
 (select count(*) from provider_cost), (select total(cost) from provider_cost),
 (select count(*) from costing_summary), (select total(records) from unpriced_activity),
 (select value from analyse_run where key = 'person_years')"
# sig_load DIR, sig_an DIR: one line, equal for equal states. Tables holding
# times (loads, files) are only counted. Load writes in a fixed order, so its
# tables are hashed in rowid order (.sha3sum); analyse's threads number the
# providers in the order they meet them, so provider_cost's rows (and, to be
# safe, every analyse table's) are hashed sorted by their key.
sig_load() {
	sqlite3 "$1/yoc.db" "$LOAD_SQL" ".sha3sum person" ".sha3sum linkage" ".sha3sum quarantine" \
		".sha3sum flags" ".sha3sum file_stats" ".sha3sum file_columns" ".sha3sum nhsno_status" 2>&1 |
		tr '\n' ' '
}
sorted() { echo "select lower(hex(sha3_query('select * from $1 order by $2')))"; }
sig_an() {
	sqlite3 "$1/yoc.db" "$AN_SQL" "$(sorted person_year fyear,pseudo_id)" \
		"$(sorted provider_cost fyear,provider,setting)" "$(sorted costing_summary fyear,feed,how)" \
		"$(sorted unpriced_activity fyear,feed,reason)" ".sha3sum analyse_run" 2>&1 | tr '\n' ' '
}
# sigdiff GOT WANT: the fields of two signatures that differ
sigdiff() {
	echo "$1" "|" "$2" | awk '{ n = 0; for (i = 1; $i != "|"; i++) n = i
		for (i = 1; i <= n; i++) if ($i != $(i + n + 1)) printf "field %d: %s, want %s; ", i, $i, $(i + n + 1) }'
}

ysetup init "$R/ds_old"
ysetup load --db "$R/ds_old" "$R/feeds_old"
ysetup analyse --db "$R/ds_old"
ysetup report --db "$R/ds_old" --out "$R/rep_old"
cp -a "$R/ds_old" "$R/ds_new"
ysetup load --db "$R/ds_new" "$R/feeds_new"
grep -q ' 1 replaced' "$W/y.out" || die "the resubmitted month did not replace its file"
cp "$R/ds_new/yoc.db" "$R/analyse_base.db"   # all three years loaded, person_year old
LOAD_OLD=$(sig_load "$R/ds_old") LOAD_NEW=$(sig_load "$R/ds_new")
AN_OLD=$(sig_an "$R/ds_new")
ysetup analyse --db "$R/ds_new"
AN_NEW=$(sig_an "$R/ds_new")
ysetup report --db "$R/ds_new" --out "$R/rep_new"
[ "$LOAD_OLD" != "$LOAD_NEW" ] && [ "$AN_OLD" != "$AN_NEW" ] || die "old and new states do not differ"

for t in pd_old pd_new pf_old.csv pf_new.csv rep_old rep_new; do
	$CHECK manifest "$R/$t" > "$R/$t.man" || die "manifest $t"
done
$CHECK manifest "$R/ds_old/segments" > "$R/seg_old.man" || die "manifest ds_old"
$CHECK manifest "$R/ds_new/segments" > "$R/seg_new.man" || die "manifest ds_new"
cp -a "$R/ds_new" "$S/ds_an"    # analyse runs here (its yoc.db restored each time)
cp -a "$R/ds_new" "$S/ds_rep"   # report reads here

# ---- the five targets --------------------------------------------------------
TARGETS="load an pd pf rep"
name_load=load name_an=analyse name_pd="pseudonymise (tree)" name_pf="pseudonymise (file)"
name_rep=report

# on T RUNNER [ARG...]: calls RUNNER ARG... with the yoc arguments of target T
on() {
	t_=$1; shift
	case $t_ in
	load) "$@" load --db "$S/ds_load" "$R/feeds_new" ;;
	an) "$@" analyse --db "$S/ds_an" ;;
	pd) "$@" pseudonymise --key "$KEY" --optout "$OPTOUT" --in "$E/feeds" --out "$S/pd/out" ;;
	pf) "$@" pseudonymise --key "$KEY" --optout "$OPTOUT" --in "$R/single.csv" --out "$S/pf/out.csv" ;;
	rep) "$@" report --db "$S/ds_rep" --out "$S/rep/out" ;;
	esac
}

# restore T START: the old state (START none: no output at all)
restore() {
	case $1 in
	load) rm -rf "$S/ds_load" && cp -a "$R/ds_old" "$S/ds_load" ;;
	an) rm -f "$S/ds_an/yoc.db-journal" && cp "$R/analyse_base.db" "$S/ds_an/yoc.db" ;;
	pd) rm -rf "$S/pd" && mkdir "$S/pd" && { [ "$2" = none ] || cp -a "$R/pd_old" "$S/pd/out"; } ;;
	pf) rm -rf "$S/pf" && mkdir "$S/pf" && { [ "$2" = none ] || cp -a "$R/pf_old.csv" "$S/pf/out.csv"; } ;;
	rep) rm -rf "$S/rep" && mkdir "$S/rep" && { [ "$2" = none ] || cp -a "$R/rep_old" "$S/rep/out"; } ;;
	esac
}

# killed DELAY ARG...: yoc ARG... under timeout, SIGKILLed DELAY seconds after
# its start; $rc is its exit status (137: the kill landed while it ran).
# The pid file is written by the shell that then execs yoc; the kill is sent
# only while that pid is still timeout's child, never to a recycled pid.
killed() {
	d_=$1; shift
	rm -f "$W/pid"
	timeout "$LIMIT" sh -c 'echo $$ > "$0"; exec "$@"' "$W/pid" "$YOC" "$@" > "$W/killed.out" 2>&1 &
	tp=$!
	sleep "$d_"
	pid=
	while :; do
		if [ -s "$W/pid" ]; then read -r pid < "$W/pid"; break; fi
		kill -0 "$tp" 2> /dev/null || break
		sleep 0.001
	done
	pp=
	[ -n "$pid" ] && [ -r "/proc/$pid/stat" ] && read -r _ _ _ pp _ < "/proc/$pid/stat" 2> /dev/null
	[ "$pp" = "$tp" ] && kill -KILL "$pid" 2> /dev/null
	{ wait "$tp"; } 2> /dev/null # no "Killed" from the shell
	rc=$?
	tp=
}

# ---- checks: each failed check calls fail; $bad counts them for this kill -----
fail() {
	bad=$((bad + 1))
	echo "FAIL kill $i, $tname ($when): $*"
}
details() { tail -n +2 "$1" | head -n 8 | sed 's/^/    /'; }
add() { eval "$1_$2=\$((\$1_$2 + $3))"; } # add COUNTER TARGET N

integrity() {
	ic_=$(sqlite3 "$1/yoc.db" 'pragma integrity_check' 2>&1 | tr '\n' ' ')
	[ "$ic_" = "ok " ] || fail "$2: integrity_check: $ic_"
}

# segments DIR WHEN: the catalog's segments on disk; $stale = files no row names
segments() {
	stale=0
	sqlite3 -separator ' ' "$1/yoc.db" 'select segment, loaded from files' 2> /dev/null |
		$CHECK segments "$1" "$R/seg_old.man" "$R/seg_new.man" > "$W/chk" 2>&1
	if ! read -r _ stale nb_ < "$W/chk" || [ "$nb_" != 0 ]; then
		fail "$2: segments do not match the catalog"
		details "$W/chk"
	fi
}

check_load() {
	D=$S/ds_load
	y status --db "$D" || fail "yoc status fails after the kill: $(tail -n 1 "$W/y.out")"
	integrity "$D" "after the kill"
	s_=$(sig_load "$D")
	if [ "$s_" != "$LOAD_OLD" ] && [ "$s_" != "$LOAD_NEW" ]; then
		fail "catalog totals are neither the old nor the new ones: $(sigdiff "$s_" "$LOAD_NEW")"
	fi
	segments "$D" "after the kill"
	add stale load "$stale"
	y load --db "$D" "$R/feeds_new" || fail "the next load fails: $(tail -n 2 "$W/y.out" | tr '\n' ' ')"
	integrity "$D" "after the next load"
	s_=$(sig_load "$D")
	[ "$s_" = "$LOAD_NEW" ] || fail "after the next load the catalog differs from a clean load's: $(sigdiff "$s_" "$LOAD_NEW")"
	segments "$D" "after the next load"
	add left load "$stale"
}

tmps() { find "$1" -name '*.tmp*' | wc -l; }

check_an() {
	D=$S/ds_an
	y status --db "$D" || fail "yoc status fails after the kill: $(tail -n 1 "$W/y.out")"
	integrity "$D" "after the kill"
	s_=$(sig_an "$D")
	if [ "$s_" != "$AN_OLD" ] && [ "$s_" != "$AN_NEW" ]; then
		fail "person_year and its companions are neither old nor new: $(sigdiff "$s_" "$AN_NEW")"
	fi
	add stale an "$(tmps "$D")"
	y analyse --db "$D" || fail "the next analyse fails: $(tail -n 2 "$W/y.out" | tr '\n' ' ')"
	integrity "$D" "after the next analyse"
	s_=$(sig_an "$D")
	[ "$s_" = "$AN_NEW" ] || fail "after the next analyse the tables differ from a clean run's: $(sigdiff "$s_" "$AN_NEW")"
	add left an "$(tmps "$D")"
}

# tree T START IDS PARENT NAME REF SUFFIX WHEN: classify the output against the
# references $R/REF_old/new SUFFIX; sets $state (old, new, mixed) and $stale
tree() {
	$CHECK tree "$3" "$R/$6_old$7.man" "$R/$6_new$7.man" "$4" "$5" "$2" > "$W/chk" 2>&1
	if ! read -r state stale nb_ < "$W/chk"; then
		state=error stale=0
		fail "$8: the tree check failed: $(head -n 3 "$W/chk")"
	elif [ "$nb_" != 0 ]; then
		fail "$8: $nb_ problem(s) in the output"
		details "$W/chk"
	fi
}

check_out() { # T START IDS PARENT NAME REF SUFFIX
	tree "$@" "after the kill"
	add stale "$1" "$stale"
	[ "$state" = mixed ] && add mixed "$1" 1
	on "$1" y || fail "the next run fails: $(tail -n 2 "$W/y.out" | tr '\n' ' ')"
	tree "$@" "after the next run"
	[ "$state" = new ] || fail "after the next run the output is $state, not the new one"
	add left "$1" "$stale"
}
check_pd() { check_out pd "$1" "$R/ids" "$S/pd" out pd ""; }
check_pf() { check_out pf "$1" "$R/ids" "$S/pf" out.csv pf .csv; }
check_rep() { check_out rep "$1" - "$S/rep" out rep ""; }

# is_new T: the uninterrupted run just made gave exactly the new state
is_new() {
	case $1 in
	load) [ "$(sig_load "$S/ds_load")" = "$LOAD_NEW" ] ;;
	an) [ "$(sig_an "$S/ds_an")" = "$AN_NEW" ] ;;
	pd) $CHECK tree "$R/ids" "$R/pd_old.man" "$R/pd_new.man" "$S/pd" out old | grep -qx 'new 0 0' ;;
	pf) $CHECK tree "$R/ids" "$R/pf_old.csv.man" "$R/pf_new.csv.man" "$S/pf" out.csv old | grep -qx 'new 0 0' ;;
	rep) $CHECK tree - "$R/rep_old.man" "$R/rep_new.man" "$S/rep" out old | grep -qx 'new 0 0' ;;
	esac
}

# ---- measure each target's uninterrupted run (median of 3) -------------------
for t in $TARGETS; do
	: > "$W/ms"
	for k in 1 2 3; do
		restore $t old || die "restore $t"
		a=$(ms_now)
		on $t y || { tail -n 3 "$W/y.out" >&2; die "uninterrupted $t failed"; }
		b=$(ms_now)
		echo $((b - a)) >> "$W/ms"
		is_new $t || die "two uninterrupted runs of $t differ (not deterministic?)"
	done
	eval "ms_$t=$(sort -n "$W/ms" | sed -n 2p)"
	eval "kills_$t=0 mid_$t=0 fails_$t=0 stale_$t=0 mixed_$t=0 left_$t=0"
done
echo "soak: setup $(($(date +%s) - t_start)) s; uninterrupted runs (ms): load $ms_load," \
	"analyse $ms_an, pseudonymise tree $ms_pd, file $ms_pf, report $ms_rep"

# The schedule: target (load, analyse, pseudonymise, report equally likely;
# pseudonymise half tree, half file), moment (a uniform fraction of the
# target's measured run), and for the folder targets the starting state (no
# output in one run in four). The seed fixes targets, fractions and states.
awk -v n="$KILLS" -v seed="$SEED" -v ml="$ms_load" -v ma="$ms_an" -v md="$ms_pd" \
	-v mf="$ms_pf" -v mr="$ms_rep" 'BEGIN {
	srand(seed); ms["load"] = ml; ms["an"] = ma; ms["pd"] = md; ms["pf"] = mf; ms["rep"] = mr
	for (i = 1; i <= n; i++) {
		v = int(rand() * 4); tree = rand() < 0.5; f = rand(); none = rand() < 0.25
		t = v == 0 ? "load" : v == 1 ? "an" : v == 3 ? "rep" : tree ? "pd" : "pf"
		s = (t == "load" || t == "an" || !none) ? "old" : "none"
		printf "%s %.3f %s %.4f\n", t, f * ms[t] / 1000, s, f
	}
}' > "$W/plan"

# ---- the kills ---------------------------------------------------------------
i=0
while read -r t delay start frac <&3; do
	i=$((i + 1))
	eval "tname=\$name_$t ms=\$ms_$t"
	[ -t 2 ] && printf '\rsoak: kill %d/%d %-20s' "$i" "$KILLS" "$tname" >&2
	restore $t "$start" || die "restore $t"
	on $t killed "$delay"
	bad=0
	add kills $t 1
	case $rc in
	137) add mid $t 1; when="killed ${delay}s into a ${ms} ms run, from $start" ;;
	0) when="${delay}s: it had already finished, from $start" ;;
	*) when="${delay}s, from $start"; fail "the run exited $rc by itself: $(tail -n 2 "$W/killed.out" | tr '\n' ' ')" ;;
	esac
	check_$t "$start"
	[ $bad -gt 0 ] && add fails $t 1
done 3< "$W/plan"
[ -t 2 ] && printf '\r%60s\r' '' >&2

# ---- summary -----------------------------------------------------------------
secs=$(($(date +%s) - t_start))
echo "soak: ${KILLS} kills, seed ${SEED}, ${PERSONS} persons, $((secs / 60)) min $((secs % 60)) s"
printf '%-20s %6s %8s %9s %10s %6s %5s\n' verb kills mid-run failures stale-tmp mixed left
T_k=0 T_m=0 T_f=0 T_s=0 T_x=0 T_l=0
for t in $TARGETS; do
	eval "n=\$name_$t k=\$kills_$t m=\$mid_$t f=\$fails_$t s=\$stale_$t x=\$mixed_$t l=\$left_$t"
	case $t in load | an | pf) xs=- ;; *) xs=$x ;; esac
	printf '%-20s %6d %8d %9d %10d %6s %5d\n' "$n" "$k" "$m" "$f" "$s" "$xs" "$l"
	T_k=$((T_k + k)) T_m=$((T_m + m)) T_f=$((T_f + f)) T_s=$((T_s + s)) T_x=$((T_x + x)) T_l=$((T_l + l))
done
printf '%-20s %6d %8d %9d %10d %6d %5d\n' total "$T_k" "$T_m" "$T_f" "$T_s" "$T_x" "$T_l"
echo "(mid-run: the process was still running when killed; failures: kills after which a"
echo " check failed; stale-tmp: temporaries or unnamed segments the kills left; mixed: output"
echo " folders left with some files old and some new, each whole; left: temporaries still"
echo " there after the next uninterrupted run)"
status=0
[ "$T_f" -gt 0 ] && status=1
[ "$T_l" -gt 0 ] && status=1
[ "${SOAK_STRICT_TREE:-0}" = 1 ] && [ "$T_x" -gt 0 ] && status=1
exit $status
