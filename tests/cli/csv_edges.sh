# Input edge cases from the red-team review: CR-only line ends (Excel
# "CSV (Macintosh)") through inspect, pseudonymise and load; a row with more
# cells than the reader keeps; a FIFO given to load (refused, never waited
# on); a dataset this user may not write (said so, not "another process").
. "$(dirname "$0")/lib.sh"
W=$TMP

# ---- CR-only line ends ------------------------------------------------------
printf 'a,b,c\r1,2,3\r4,5,6\r7,8\r9,10,11\r' > "$W/mac.csv"
expect_rc 1 "inspect: a ragged row in a CR-only file" "$YOC" inspect "$W/mac.csv"
grep -q "mac.csv: 4 rows x 3 columns, delimiter ',', 1 malformed" "$TMP/.out" &&
	ok "inspect counts every CR-terminated row" || not_ok "inspect counts every CR-terminated row"
grep -q "mac.csv:4:4: ragged row" "$TMP/.out" &&
	ok "the fault's line counts CR line ends" || not_ok "the fault's line counts CR line ends"

awk 'BEGIN { printf "id,code,note\r"; for (i = 1; i <= 1000; i++) printf "%d,C%d,\"x\ry\"\r", i, i % 7 }' > "$W/mac1000.csv"
expect_rc 0 "inspect: 1000 CR-only rows, quoted CRs" "$YOC" inspect --json "$W/mac1000.csv"
same "inspect --json reports 1000 rows x 3 columns" "$(cat "$TMP/.out")" \
	"{\"file\":\"$W/mac1000.csv\",\"delimiter\":\",\",\"columns\":3,\"rows\":1000,\"malformed\":0,\"faults\":{}}"

# Identifiers in a CR-only file are rows to pseudonymise, never header names
# passed through as they are.
"$YOC" keygen --out "$W/k.key" > /dev/null 2>&1
printf 'NEWNHSNO,DOB,SEX,CODE\r9434765919,1950-03-02,1,A\r9434765870,1961-11-30,2,B\r' > "$W/id_mac.csv"
expect_rc 0 "pseudonymise a CR-only file" "$YOC" pseudonymise --key "$W/k.key" --in "$W/id_mac.csv" --out "$W/ps_mac.csv" --kind apc
if grep -q -e 9434765919 -e 9434765870 -e 1950-03-02 "$W/ps_mac.csv" 2> /dev/null; then
	not_ok "no NHS number or date of birth in the output"
else
	ok "no NHS number or date of birth in the output"
fi
same "2 rows pseudonymised under a one-line header" "$(wc -l < "$W/ps_mac.csv" | tr -d ' ')" 3

"$YOC" init "$W/ds" > /dev/null
P=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
printf 'PSEUDO_ID,NHSNO_STATUS,EPISTART,ADMIMETH,EPIORDER,COST\r%s,valid,2023-01-05,21,1,10\r%s,valid,2023-01-06,11,1,20\r\r,missing,2023-01-07,11,1,30\r' \
	"$P" "$P" > "$W/RXA_2023-01.csv"
expect_rc 0 "load a CR-only feed" "$YOC" load --db "$W/ds" --json "$W/RXA_2023-01.csv"
grep -q '"rows":3,"loaded":3' "$TMP/.out" && ok "load reads its 3 rows" || { not_ok "load reads its 3 rows"; sed 's/^/# /' "$TMP/.out"; }

# ---- a row with more cells than the reader keeps ----------------------------
awk 'BEGIN { printf "a,b\n"; for (i = 0; i < 70000; i++) printf "%sx", i ? "," : ""; printf "\n1,2\n" }' > "$W/wide.csv"
expect_rc 1 "inspect: a row of 70,000 cells is malformed" "$YOC" inspect "$W/wide.csv"
grep -q "wide.csv:2:[0-9]*: row too long: more than 65536 cells" "$TMP/.out" &&
	ok "it is called too long, not ragged" || { not_ok "it is called too long, not ragged"; sed 's/^/# /' "$TMP/.out"; }

# ---- load refuses what is not a regular file, without blocking --------------
if mkfifo "$W/RXB_202301.csv" 2> /dev/null; then
	expect_rc 1 "load refuses a FIFO (and returns)" timeout 10 "$YOC" load --db "$W/ds" "$W/RXB_202301.csv"
	grep -q "not a regular file" "$TMP/.err" && ok "the FIFO is named as not a regular file" ||
		{ not_ok "the FIFO is named as not a regular file"; sed 's/^/# /' "$TMP/.err"; }
else
	skip "load refuses a FIFO" "mkfifo failed"
	skip "the FIFO is named as not a regular file" "mkfifo failed"
fi

# ---- a dataset this user may only read --------------------------------------
# Permission bits do not stop root: as root, run yoc as nobody (setpriv),
# else skip.
"$YOC" init "$W/ro" > /dev/null
chmod -R a-w "$W/ro"
as=""
if [ "$(id -u)" = 0 ]; then
	as=none
	if command -v setpriv > /dev/null 2>&1 &&
		setpriv --reuid=65534 --regid=65534 --clear-groups true 2> /dev/null; then
		as="setpriv --reuid=65534 --regid=65534 --clear-groups"
		chmod 755 "$TMP" # let nobody reach the dataset and the feed
	fi
fi
if [ "$as" = none ]; then
	skip "load on a read-only dataset fails" "root, and no setpriv to drop it"
	skip "it says the dataset is not writable" "root, and no setpriv to drop it"
else
	expect_rc 1 "load on a read-only dataset fails" $as "$YOC" load --db "$W/ro" "$W/RXA_2023-01.csv"
	if grep -q "not writable by this user: $W/ro: Permission denied" "$TMP/.err" &&
		! grep -q "another yoc process" "$TMP/.err"; then
		ok "it says the dataset is not writable"
	else
		not_ok "it says the dataset is not writable"; sed 's/^/# /' "$TMP/.err"
	fi
fi
chmod -R u+w "$W/ro"

done_testing
