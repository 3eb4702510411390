#!/bin/sh
# The dashboards of yoc serve on a synthetic economy of 3,000 persons with a
# pilot (docs/server.md, "Dashboards"): first before the verbs that write
# their tables have run (each section says "not yet run: run yoc X"), then
# after risk, cohort, tariff, budget, tag, kpi, rrr, careplan and evaluate:
# every figure checked against SQL plus the report's disclosure control
# computed again in Python (serve_dash.py), every route refused without a
# session and to the roles it is not for, the practice's isolation by edited
# requests, the analyst's group saved as a cohort that `yoc cohort select`
# then selects with SQL's count, and every request in the access log.
. "$(dirname "$0")/lib.sh"
if ! command -v sqlite3 >/dev/null 2>&1 || ! command -v python3 >/dev/null 2>&1; then
	skip "serve_dash" "sqlite3 or python3 missing"; done_testing; exit 0
fi
for v in synth keygen pseudonymise init load analyse risk serve user cohort tariff budget tag \
	kpi rrr careplan evaluate; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "serve_dash" "yoc $v not built"; done_testing; exit 0
	fi
done
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
export YOC_QUIET=1
CHK="$YOC_ROOT/tests/cli/serve_dash.py"
cd "$TMP" || exit 1
sed 's/^practices = .*/practices = P90001, P90002/' "$YOC_DATA/pilot_default.txt" > pilot.txt
"$YOC" synth --persons 3000 --pilot pilot.txt --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1 &&
	"$YOC" risk fit --db D --year 2022/23 --min-events-per-term 1 >/dev/null 2>&1 &&
	"$YOC" risk score --db D --year 2023/24 >/dev/null 2>&1
same "synthetic economy analysed and scored" "$?" 0
# the synthetic persons share one practice: give about half of them a second one
sqlite3 D/yoc.db "UPDATE person_year SET practice = 'P90002' WHERE practice IS NOT NULL AND substr(pseudo_id, 1, 1) < '8'"
echo 'analyst-pass-1' | "$YOC" user add ann --db D --role analyst >/dev/null &&
	echo 'practice-pass-1' | "$YOC" user add pat --db D --role practice --practice P90001 >/dev/null &&
	echo 'public-health-1' | "$YOC" user add pho --db D --role public_health >/dev/null &&
	echo 'planner-pass-1' | "$YOC" user add pla --db D --role planner >/dev/null &&
	echo 'finance-pass-1' | "$YOC" user add fin --db D --role finance >/dev/null &&
	echo 'admin-pass-01' | "$YOC" user add root --db D --role admin >/dev/null
same "a user per role" "$?" 0

"$YOC" serve --db D --listen 127.0.0.1:0 --ready-file port --conn-timeout 2 2>serve.log &
pid=$!
i=0
while [ ! -s port ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
if [ ! -s port ]; then
	not_ok "server started"; sed 's/^/# /' serve.log; kill $pid; done_testing; exit 1
fi
ok "server started"
run_checks() {
	python3 "$CHK" "$(cat port)" D "$1" > "checks_$1.txt" 2> "checks_$1.err"
	while IFS= read -r line; do
		case "$line" in
		"PASS "*) ok "${line#PASS }" ;;
		"FAIL "*) not_ok "${line#FAIL }" ;;
		esac
	done < "checks_$1.txt"
	[ -s "checks_$1.err" ] && sed 's/^/# /' "checks_$1.err" | tail -20
}

# 1. before the verbs: each dashboard says what to run
run_checks missing
same "all 'not yet run' checks ran" "$(grep -c '^PASS\|^FAIL' checks_missing.txt)" 13

# 2. the verbs that write the dashboards' tables, while the server runs
"$YOC" risk score --db D --year 2022/23 >/dev/null 2>&1 &&
	"$YOC" risk summarise --db D >/dev/null 2>&1 &&
	"$YOC" cohort define frail --db D --rule 'age >= 65 and ltc_count >= 2' >/dev/null 2>&1 &&
	"$YOC" cohort select frail --db D --year 2023/24 >/dev/null 2>&1 &&
	"$YOC" cohort simulate-review frail --db D --out REV --date 2023-04-20 >/dev/null 2>&1 &&
	"$YOC" cohort review frail --db D REV/review_*.csv >/dev/null 2>&1 &&
	"$YOC" cohort consent frail --db D REV/consent_*.csv >/dev/null 2>&1 &&
	"$YOC" cohort enrol frail --db D >/dev/null 2>&1 &&
	"$YOC" tariff build --db D --base-years 2022/23 >/dev/null 2>&1 &&
	"$YOC" budget --db D --cohort frail --year 2023/24 >/dev/null 2>&1 &&
	"$YOC" tag --db D --cohort frail >/dev/null 2>&1 &&
	"$YOC" budget risk --db D --reps 50 --seed 5 --sizes 100,1000 >/dev/null 2>&1 &&
	"$YOC" kpi --db D --data "$YOC_DATA" >/dev/null 2>&1 &&
	"$YOC" rrr --db D >/dev/null 2>&1 &&
	"$YOC" careplan --db D >/dev/null 2>&1 &&
	"$YOC" evaluate --db D --truth S --key K --exact emergency_admissions,ltc_count \
		--other-practices >/dev/null 2>&1
same "risk, cohort, tariff, budget, tag, kpi, rrr, careplan and evaluate ran" "$?" 0

# 3. the dashboards' figures, roles, isolation and the cohort save
run_checks full
same "all dashboard checks ran" "$(grep -c '^PASS\|^FAIL' checks_full.txt | awk '{print ($1 >= 100)}')" 1

# a client that stops sending in the middle of a dashboard request is dropped
if python3 - "$(cat port)" > slow.txt 2>&1 <<'PEOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /api/dash/population HTTP/1.1\r\nHost: x\r\n")
s.settimeout(15)
t0 = time.time()
try:
    got = s.recv(100)
except (socket.timeout, ConnectionResetError):
    got = b"timeout"
print(repr(got[:20]), round(time.time() - t0))
sys.exit(0 if got == b"" or got.startswith(b"HTTP/1.1 408") else 1)
PEOF
then ok "a slow client on a dashboard route is dropped ($(cat slow.txt))"
else not_ok "a slow client on a dashboard route is dropped ($(cat slow.txt))"; fi

# the saved group is a cohort the cohort verbs use: select it and compare with SQL
rule=$(sed -n 's/^RULE //p' checks_full.txt)
expect_rc 0 "yoc cohort show webgroup" "$YOC" cohort show webgroup --db D
expect_rc 0 "yoc cohort select webgroup" "$YOC" cohort select webgroup --db D --year 2023/24
got=$(sqlite3 D/yoc.db "SELECT count(*) FROM cohort_candidate WHERE cohort = 'webgroup'")
want=$(sqlite3 D/yoc.db "SELECT count(*) FROM person_year WHERE fyear = '2023/24' AND age >= 70 AND hypertension = 1")
same "the saved cohort selects SQL's people ($rule)" "$got" "$want"
[ "$want" -gt 0 ] || not_ok "the saved cohort's group is not empty"
same "the cohort definition records who saved it" \
	"$(sqlite3 D/yoc.db "SELECT author FROM cohort_def WHERE name = 'webgroup'")" ann

kill $pid
wait $pid

# 4. the access log: every dashboard request and refusal, the chain intact
expect_rc 0 "the access log's chain verifies" "$YOC" audit verify D/serve/audit.log
L=D/serve/audit.log
same "each dashboard read is logged with its name" \
	"$(grep '"event":"dashboard"' $L | grep -c '"path":"/api/dash/population".*"detail":"population"' | awk '{print ($1 >= 4)}')" 1
same "a practice's dashboard reads are logged with its practice" \
	"$(grep '"event":"dashboard"' $L | grep '"user":"pat"' | grep '/api/dash/practice"' | grep -vc 'practice=P90001')" 0
same "the worklist is logged with its row count" \
	"$(grep '"path":"/api/dash/worklist"' $L | grep '"status":200' | grep -c 'rows=[1-9]')" \
	"$(grep '"path":"/api/dash/worklist"' $L | grep -c '"status":200' | awk '{print ($1 - 1)}')"
same "refusals are logged with the role" \
	"$(grep '"event":"refused"' $L | grep -c 'not for the practice role' | awk '{print ($1 >= 6)}')" 1
same "the data pack is logged as a download" "$(grep '"event":"download"' $L | grep -c 'practice.csv')" 1
same "the saved cohort is logged with its rule" \
	"$(grep '"event":"cohort"' $L | grep '"status":200' | grep -c 'cohort webgroup version 1: ')" 1
nreq=$(cat checks_missing.txt checks_full.txt | sed -n 's/^REQS //p' | awk '{s += $1} END {print s}')
same "every one of the $nreq requests to a dashboard route is logged (401, 403, 404, 405 and 413 included)" \
	"$(grep -c '"path":"/api/\(dash\|cohort\)' $L)" "$nreq"
done_testing
