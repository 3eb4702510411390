#!/bin/sh
# The selection tool and the dashboards in a real browser: Debian's chromium
# driven by puppeteer-core, with axe-core for accessibility (both from npm, installed
# into tests/browser/node_modules on first run). A failed npm install fails
# the test; only a missing chromium or node skips it. The checks are in
# tests/browser/serve_browser.mjs. docs/server.md.
. "$(dirname "$0")/lib.sh"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ] || ! command -v node >/dev/null 2>&1; then
	skip "browser" "chromium or node missing"; done_testing; exit 0
fi
for v in synth serve user; do
	if ! "$YOC" help "$v" >/dev/null 2>&1; then
		skip "browser" "yoc $v not built"; done_testing; exit 0
	fi
done
B="$YOC_ROOT/tests/browser"
if [ ! -d "$B/node_modules/puppeteer-core" ] || [ ! -d "$B/node_modules/axe-core" ]; then
	if ! (cd "$B" && npm install --prefix . --no-save --no-audit --no-fund --silent \
		puppeteer-core axe-core >/dev/null 2>&1); then
		not_ok "npm install puppeteer-core axe-core (needed for the browser tests)"
		done_testing; exit 1
	fi
fi
ok "puppeteer-core and axe-core present"
export YOC_DATA="${YOC_DATA:-$YOC_ROOT/data}"
cd "$TMP" || exit 1
"$YOC" synth --persons 2000 --out S >/dev/null 2>&1 &&
	"$YOC" keygen --out K >/dev/null 2>&1 &&
	"$YOC" pseudonymise --key K --in S/feeds --out P --optout S/optout.csv >/dev/null 2>&1 &&
	"$YOC" init D >/dev/null 2>&1 && "$YOC" load --db D P >/dev/null 2>&1 &&
	"$YOC" analyse --db D >/dev/null 2>&1
same "synthetic economy analysed" "$?" 0
sqlite3 D/yoc.db "UPDATE person_year SET practice = 'P90002' WHERE practice IS NOT NULL AND substr(pseudo_id, 1, 1) < '8'"
# the tables of the dashboards (the evaluation page is left to say "not yet run")
"$YOC" risk fit --db D --year 2022/23 --min-events-per-term 1 >/dev/null 2>&1 &&
	"$YOC" risk score --db D --year 2023/24 >/dev/null 2>&1 &&
	"$YOC" risk score --db D --year 2022/23 >/dev/null 2>&1 &&
	"$YOC" risk summarise --db D >/dev/null 2>&1 &&
	"$YOC" cohort define frail --db D --rule 'age >= 65 and ltc_count >= 2' >/dev/null 2>&1 &&
	"$YOC" cohort select frail --db D >/dev/null 2>&1 &&
	"$YOC" tariff build --db D --base-years 2022/23 >/dev/null 2>&1 &&
	"$YOC" kpi --db D --data "$YOC_DATA" >/dev/null 2>&1
same "risk, cohort, tariff and kpi ran" "$?" 0
echo 'analyst-pass-1' | "$YOC" user add ann --db D --role analyst >/dev/null &&
	echo 'practice-pass-1' | "$YOC" user add pat --db D --role practice --practice P90001 >/dev/null &&
	echo 'public-health-1' | "$YOC" user add pho --db D --role public_health >/dev/null &&
	echo 'planner-pass-1' | "$YOC" user add pla --db D --role planner >/dev/null &&
	echo 'finance-pass-1' | "$YOC" user add fin --db D --role finance >/dev/null &&
	echo 'admin-pass-01' | "$YOC" user add root --db D --role admin >/dev/null
same "a user per role" "$?" 0
"$YOC" serve --db D --listen 127.0.0.1:0 --ready-file port --idle-timeout 8 2>serve.log &
pid=$!
i=0
while [ ! -s port ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i+1)); done
CHROMIUM="$CHROMIUM" HOME="$TMP" node "$B/serve_browser.mjs" "$(cat port)" D 8 > checks.txt 2> checks.err
while IFS= read -r line; do
	case "$line" in
	"PASS "*) ok "${line#PASS }" ;;
	"FAIL "*) not_ok "${line#FAIL }" ;;
	esac
done < checks.txt
[ -s checks.err ] && sed 's/^/# /' checks.err | tail -20
same "all browser checks ran" "$(grep -c '^PASS\|^FAIL' checks.txt | awk '{print ($1 >= 40)}')" 1
kill $pid
wait $pid
expect_rc 0 "the access log of the browser session verifies" "$YOC" audit verify D/serve/audit.log
done_testing
