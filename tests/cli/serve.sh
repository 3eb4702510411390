#!/bin/sh
# yoc serve and yoc user on a synthetic economy of 2,000 persons: security
# (every route refused without a session, forged cookies, CSRF, lockout,
# traversal, oversized and malformed bodies, slow clients), the practice
# role's limits, counts against SQL plus the documented cell-key method,
# differencing, logout, idle timeout, the access log and its chain
# (serve_check.py does the HTTP part). docs/server.md.
. "$(dirname "$0")/lib.sh"
if ! command -v sqlite3 >/dev/null 2>&1; then
	skip "serve" "the sqlite3 CLI missing"; done_testing; exit 0
fi
for v in synth keygen pseudonymise init load analyse risk serve user; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "serve" "yoc $v not built"; done_testing; exit 0
	fi
done
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1
"$YOC" synth --persons 2000 --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1 &&
	"$YOC" risk fit --db D --year 2022/23 --min-events-per-term 1 >/dev/null 2>&1 &&
	"$YOC" risk score --db D --year 2023/24 >/dev/null 2>&1
same "synthetic economy analysed and scored" "$?" 0
# each person's months add up to the person-year exactly (pence and admissions)
same "person_month: 12 months sum to person_year's cost and emergency admissions" "$(python3 - D/yoc.db <<'PY'
import sqlite3, struct, sys
con = sqlite3.connect(sys.argv[1])
months = {}
for pid, fy, b in con.execute("select pseudo_id, fyear, months from person_month"):
    assert len(b) % 13 == 0 and (pid, fy) not in months
    recs = list(struct.iter_unpack("<BqI", b))
    assert all(0 <= m < 12 for m, _, _ in recs) and len(set(m for m, _, _ in recs)) == len(recs)
    months[(pid, fy)] = (sum(c for _, c, _ in recs), sum(a for _, _, a in recs))
rows = con.execute("select pseudo_id, fyear, cost_total, emergency_admissions from person_year").fetchall()
bad = sum(months.get((p, f), (0, 0)) != (c, a) for p, f, c, a in rows)
extra = len(set(months) - set((p, f) for p, f, _, _ in rows))
spent = sum(1 for _, _, c, _ in rows if c)
print("%d %d %d" % (bad, extra, spent > 100 and len(months) > 100))
PY
)" "0 0 1"
# cohorts for the cohort filter: members in and out of the served year
sqlite3 D/yoc.db "CREATE TABLE IF NOT EXISTS cohort_register(row_id INTEGER PRIMARY KEY, cohort TEXT NOT NULL, pseudo_id TEXT NOT NULL, practice TEXT NOT NULL, join_date TEXT NOT NULL, leave_date TEXT, leave_reason TEXT, tariff_category TEXT, secondary_use INTEGER NOT NULL DEFAULT 1, opened_log INTEGER, closed_log INTEGER);
INSERT INTO cohort_register(cohort, pseudo_id, practice, join_date, leave_date) SELECT 'frailty', pseudo_id, 'P90001', '2023-06-01', NULL FROM person_year WHERE fyear = '2023/24' AND substr(pseudo_id, 2, 1) < '6';
INSERT INTO cohort_register(cohort, pseudo_id, practice, join_date, leave_date) SELECT 'frailty', pseudo_id, 'P90001', '2021-06-01', '2022-05-01' FROM person_year WHERE fyear = '2023/24' AND substr(pseudo_id, 2, 1) = 'f';
INSERT INTO cohort_register(cohort, pseudo_id, practice, join_date, leave_date) SELECT 'heart', pseudo_id, 'P90001', '2022-01-01', '2023-04-01' FROM person_year WHERE fyear = '2023/24' AND substr(pseudo_id, 3, 1) < '4';"

# 2,000 synthetic persons share one practice: give half of them a second one
sqlite3 D/yoc.db "UPDATE person_year SET practice = 'P90002' WHERE practice IS NOT NULL AND substr(pseudo_id, 1, 1) < '8'"

# ---- yoc user ----
echo 'analyst-pass-1' | "$YOC" user add ann --db D --role analyst >/dev/null 2>&1
same "user add" "$?" 0
echo 'practice-pass-1' | "$YOC" user add pat --db D --role practice --practice P90001 >/dev/null 2>&1
echo 'victim-pass-1' | "$YOC" user add vic --db D --role planner >/dev/null 2>&1
echo 'admin-pass-01' | "$YOC" user add root --db D --role admin >/dev/null 2>&1
same "users file is mode 0600" "$(stat -c %a D/serve/users)" 600
expect_rc 1 "a taken name is refused" sh -c "echo 'another-pass' | '$YOC' user add ann --db D --role admin"
expect_rc 1 "a short password is refused" sh -c "echo short | '$YOC' user add bob --db D --role admin"
expect_rc 1 "the practice role needs a practice" sh -c "echo 'long-enough-1' | '$YOC' user add bob --db D --role practice"
expect_rc 2 "an unknown role is refused" sh -c "echo 'long-enough-1' | '$YOC' user add bob --db D --role king"
same "no password in the users file" "$(grep -c 'analyst-pass-1' D/serve/users)" 0
same "hashes are argon2id" "$(grep -c ':\$argon2id\$' D/serve/users)" 4
same "user list" "$("$YOC" user list --db D | cut -f1,2 | tr '\t\n' ': ')" "ann:analyst pat:practice vic:planner root:admin "
echo 'temp-pass-123' | "$YOC" user add tmp --db D --role finance >/dev/null 2>&1
"$YOC" user remove tmp --db D >/dev/null 2>&1
same "user remove" "$("$YOC" user list --db D | grep -c '^tmp')" 0
echo 'analyst-pass-2' | "$YOC" user passwd ann --db D >/dev/null 2>&1
echo 'analyst-pass-1' | "$YOC" user passwd ann --db D >/dev/null 2>&1
same "user passwd" "$?" 0

# ---- the server ----
"$YOC" serve --db D --listen 127.0.0.1:0 --ready-file port --idle-timeout 6 \
	--conn-timeout 2 2>serve.log &
pid=$!
i=0
while [ ! -s port ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
if [ ! -s port ]; then
	not_ok "server started"; cat serve.log | sed 's/^/# /'; kill $pid; done_testing; exit 1
fi
ok "server started"
same "cell-key secret is mode 0600" "$(stat -c %a D/serve/cellkey.key)" 600
python3 "$YOC_ROOT/tests/cli/serve_check.py" "$(cat port)" D 6 > checks.txt 2>checks.err
while IFS= read -r line; do
	case "$line" in
	"PASS "*) ok "${line#PASS }" ;;
	"FAIL "*) not_ok "${line#FAIL }" ;;
	esac
done < checks.txt
[ -s checks.err ] && sed 's/^/# /' checks.err | tail -20
same "all HTTP checks ran" "$(grep -c '^FAIL\|^PASS' checks.txt | awk '{print ($1 > 80)}')" 1

# a new analysis committed while serving is picked up (risk scores of another year)
"$YOC" risk score --db D --year 2022/23 >/dev/null 2>&1
i=0
while ! grep -q reloaded serve.log && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
same "a newly committed analysis is reloaded" "$(grep -c reloaded serve.log)" 1
kill $pid
wait $pid
same "the server stops on SIGTERM" "$?" 0

# ---- TLS ----
if command -v openssl >/dev/null 2>&1 && command -v curl >/dev/null 2>&1 &&
	openssl req -x509 -newkey rsa:2048 -nodes -keyout key.pem -out cert.pem -days 2 \
		-subj /CN=127.0.0.1 >/dev/null 2>&1; then
	rm -f port
	"$YOC" serve --db D --listen 127.0.0.1:0 --ready-file port --tls-cert cert.pem \
		--tls-key key.pem 2>tls.log &
	pid=$!
	i=0
	while [ ! -s port ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
	curl -sk -D hdr.txt -o /dev/null -H 'Content-Type: application/json' \
		-d '{"user":"ann","password":"analyst-pass-1"}' "https://127.0.0.1:$(cat port)/api/login"
	same "under TLS the session cookie is Secure" "$(grep -ci '^set-cookie:.*HttpOnly; SameSite=Strict; Secure' hdr.txt)" 1
	same "under TLS Strict-Transport-Security is sent" "$(grep -ci '^strict-transport-security: max-age' hdr.txt)" 1
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$(cat port)/api/session")
	same "plain HTTP to the TLS port gets no answer" "$code" 000
	kill $pid
	wait $pid
else
	skip "TLS" "openssl or curl missing"
fi

# ---- the access log ----
expect_rc 0 "the access log's chain verifies" "$YOC" audit verify D/serve/audit.log
n=$(wc -l < D/serve/audit.log)
nq=$(grep -c '"event":"query"' D/serve/audit.log)
same "the access log holds every request (>= 150 records)" "$(( n >= 150 ))" 1
same "queries are logged with their filter" "$(grep '"event":"query"' D/serve/audit.log | grep -c 'age >= 65')" "$(grep '"event":"query"' D/serve/audit.log | grep -c 'age >= 65')"
same "logins and refusals are logged" "$(grep -c '"event":"login".*"status":401' D/serve/audit.log | awk '{print ($1 >= 6)}')$(grep -c '"event":"refused"' D/serve/audit.log | awk '{print ($1 >= 6)}')" 11
same "a practice user's queries are logged limited to its practice" "$(grep '"user":"pat"' D/serve/audit.log | grep '"event":"query"' | grep -vc "practice = 'P90001'")" 0
[ "$nq" -gt 0 ] || not_ok "queries in the log"
same "the download is logged with its row count and filter" "$(grep '"event":"download"' D/serve/audit.log | grep '"status":200' | grep -c 'rows=[1-9][0-9]*; ((age >= 65) and copd)')" 1
same "a refused extract is logged" "$(grep -c '"detail":"extract: not analyst"' D/serve/audit.log)" 1
sed 's/"status":200/"status":201/' D/serve/audit.log > tampered.log
expect_rc 1 "an edited access log fails verification" "$YOC" audit verify tampered.log
done_testing
