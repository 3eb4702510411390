# Pseudonymisation at source end to end: keygen, pseudonymise (file and tree,
# opt-outs, malformed rows), the refusals that must write nothing, atomic
# output, reidentify round trip and the audit chain. Pseudonyms are checked
# against an independent HMAC (openssl, else python3); outputs are scanned
# with awk for anything that passes Modulus 11, full dates of birth and
# identifier columns. With `yoc synth` built, the same scan runs over the
# pseudonymised output of a whole synthetic care economy.
. "$(dirname "$0")/lib.sh"
W=$TMP

# ---- independent helpers --------------------------------------------------
if command -v openssl > /dev/null 2>&1; then
	hmac() { printf %s "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" | sed 's/^.*= *//'; }
elif command -v python3 > /dev/null 2>&1; then
	hmac() { python3 -c 'import hmac,hashlib,sys; print(hmac.new(bytes.fromhex(sys.argv[1]), sys.argv[2].encode(), hashlib.sha256).hexdigest())' "$1" "$2"; }
else
	hmac() { echo "no-hmac-tool"; }
fi
# hmac_many KEY < numbers: "NUMBER HMAC" per line, computed in one process
# (openssl over one small file per number, else python3).
if command -v openssl > /dev/null 2>&1; then
	hmac_many() {
		hd=$(mktemp -d "$W/hmac.XXXXXX"); i=0
		while read -r n; do i=$((i + 1)); printf %s "$n" > "$hd/$i"; echo "$n" >> "$hd/list"; done
		if [ $i -gt 0 ]; then
			(cd "$hd" && openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" $(seq 1 $i)) |
				sed 's/^.*= *//' | paste -d' ' "$hd/list" -
		fi
		rm -rf "$hd"
	}
else
	hmac_many() { python3 -c 'import hmac,hashlib,sys
k = bytes.fromhex(sys.argv[1])
for l in sys.stdin:
    n = l.strip()
    print(n, hmac.new(k, n.encode(), hashlib.sha256).hexdigest())' "$1"; }
fi

# The scanner: prints FILE:LINE: problem for every identifier it finds.
cat > "$W/scan.awk" <<'EOF'
function mod11(s,   i, sum, c) {
	sum = 0
	for (i = 1; i <= 9; i++) sum += substr(s, i, 1) * (11 - i)
	c = 11 - sum % 11
	if (c == 11) c = 0
	return c != 10 && c == substr(s, 10, 1) + 0
}
function fields(line, f, d,   n, i, c, q, cur, L) {
	if (index(line, "\"") == 0) return split(line, f, d)
	n = 0; cur = ""; q = 0; L = length(line)
	for (i = 1; i <= L; i++) {
		c = substr(line, i, 1)
		if (q) {
			if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { cur = cur c; i++ } else q = 0 }
			else cur = cur c
		} else if (c == "\"") q = 1
		else if (c == d) { f[++n] = cur; cur = "" }
		else cur = cur c
	}
	f[++n] = cur
	return n
}
FNR == 1 {
	d = ","; best = gsub(/,/, ",")
	if ((k = gsub(/\|/, "|")) > best) { d = "|"; best = k }
	if ((k = gsub(/\t/, "\t")) > best) { d = "\t"; best = k }
	if ((k = gsub(/;/, ";")) > best) { d = ";"; best = k }
	split("", dobcol)
	nh = fields($0, h, d)
	for (i = 1; i <= nh; i++) {
		u = toupper(h[i])
		if (u ~ /NAME|ADDR|POSTCODE|HOMEADD|PHONE|MOBILE|EMAIL|NOTES|FREETEXT|COMMENT|^NEWNHSNO$|^NHS_?N(O|UMBER)$|^DOB$|BIRTH/)
			print FILENAME ":1: identifier column " h[i]
		if (u ~ /DOB|BIRTH/) dobcol[i] = 1
	}
	next
}
{
	n = split($0, t, /[^0-9A-Za-z -]+/)
	for (i = 1; i <= n; i++) {
		s = t[i]; gsub(/[ -]/, "", s)
		if (length(s) == 10 && s !~ /[^0-9]/ && mod11(s))
			print FILENAME ":" FNR ": valid NHS number " t[i]
	}
	nf = fields($0, f, d)
	for (i in dobcol)
		if (f[i] ~ /[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9]\/[0-9][0-9]\/[0-9][0-9][0-9][0-9]/)
			print FILENAME ":" FNR ": full date of birth " f[i]
}
EOF
scan() { find "$@" -type f -exec awk -f "$W/scan.awk" {} + 2>&1; }

# The scanner itself must see what it is meant to see.
printf 'NEWNHSNO,SURNAME,MYDOB\n943 476 5919,Smith,1970-03-15\n' > "$W/leak.csv"
[ "$(scan "$W/leak.csv" | wc -l)" -eq 4 ] && ok "scanner finds an NHS number, a full DOB and identifier columns" ||
	not_ok "scanner finds an NHS number, a full DOB and identifier columns"
rm -f "$W/leak.csv"

json_field() { sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1"; }

# ---- keygen ---------------------------------------------------------------
expect_rc 0 "keygen writes a key" "$YOC" keygen --out "$W/k.key"
same "key file mode is 0600" "$(stat -c %a "$W/k.key")" "600"
grep -Eq '^[0-9a-f]{64}$' "$W/k.key" && [ "$(wc -c < "$W/k.key")" -eq 65 ] &&
	ok "key is 64 lowercase hex characters and a newline" || not_ok "key is 64 lowercase hex characters and a newline"
cp "$W/k.key" "$W/k.copy"
expect_rc 1 "keygen refuses an existing file" "$YOC" keygen --out "$W/k.key"
cmp -s "$W/k.key" "$W/k.copy" && ok "the existing key is untouched" || not_ok "the existing key is untouched"
"$YOC" keygen --out "$W/k2.key" > /dev/null
cmp -s "$W/k.key" "$W/k2.key" && not_ok "two keys differ" || ok "two keys differ"
expect_rc 2 "keygen without --out is a usage error" "$YOC" keygen
KEY=$(cat "$W/k.key")

# ---- a small identifiable feed tree ---------------------------------------
mkdir -p "$W/in/apc" "$W/in/op"
cat > "$W/in/apc/a.csv" <<'EOF'
NEWNHSNO,DOB,FORENAME,SURNAME,POSTCODE,HOMEADD,TELEPHONE,EPIKEY,ADMIDATE,NOTES,COST
943 476 5919,1970-03-15,Ann,Smith,LS1 4AP,"1 High St, Leeds",0113 496 0000,E1,2023-05-01,"likes tea,
and biscuits",100.50
9434765918,1980-12-01,Bob,Jones,LS2 1AA,2 Low Rd,,E2,2023-06-01,,20
,1990-02-01,Cara,Khan,LS3 1AA,3 Mid Rd,,E3,2023-07-01,,30
NOT KNOWN,1800-01-01,Dev,Patel,LS4 1AA,4 Top Rd,,E4,2023-07-02,,40
0000000000,2001-05-05,Eve,Brown,LS5 1AA,5 End Rd,,E5,2023-07-03,,50
4010232137,1999-02-28,Finn,Wood,LS6 1AA,6 Side St,,E6,2023-08-01,"said ""hello""",60
450-557-7104,1950-06-30,Gita,Ali,LS7 1AA,7 Back Ln,,E7,2023-08-02,,70
4010232137,1999-02-28,Finn,Wood,LS6 1AA,6 Side St,,E8,2023-09-01,,80
9434765919,1970-03-15,Ann,Smith,LS1 4AP,x,,E9,2023-10-01,bad"quote,90
9434765919,1970-03-15,Ann,Smith,LS1 4AP,x,,E10,2023-11-01,,110
EOF
printf 'NEWNHSNO|DOB|NAME|ADDRESS_LINE_1|APPTDATE|TRETSPEF|SEX\n9434765919|1970-03-15|Ann Smith|1 High St|2023-04-01|100|2\n4505577104|1950-06-30|Gita Ali|7 Back Ln|2023-04-02|110|2\n4010232137|28/02/1999|Finn Wood|6 Side St|2023-04-03|120|1\n' > "$W/in/op/b.csv"
printf '{"contact": "Ann Smith, 9434765919"}\n' > "$W/in/manifest.json"
printf 'nhs_number\n450 557 7104\n' > "$W/optout.csv"
cp -r "$W/in" "$W/in.orig"

expect_rc 0 "pseudonymise a tree (malformed rows do not fail the run)" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in" --out "$W/out" --optout "$W/optout.csv" --json
mv "$TMP/.out" "$W/summary.json"
cp "$TMP/.err" "$W/summary.err"
diff -r "$W/in" "$W/in.orig" > /dev/null && ok "the input is untouched" || not_ok "the input is untouched"
[ -f "$W/out/apc/a.csv" ] && [ -f "$W/out/op/b.csv" ] && ok "tree layout kept" || not_ok "tree layout kept"
[ ! -e "$W/out/manifest.json" ] && ok "non-CSV files are not copied" || not_ok "non-CSV files are not copied"
grep -q 'a.csv:11:[0-9]' "$W/summary.err" && ok "malformed row reported as file:line:col" ||
	{ not_ok "malformed row reported as file:line:col"; sed 's/^/# /' "$W/summary.err"; }
[ "$(wc -l < "$W/summary.json")" -eq 2 ] && ok "--json: one object per file" || not_ok "--json: one object per file"
grep 'a.csv"' "$W/summary.json" > "$W/a.json"
same "a.csv counts: in, out, valid, missing, malformed, bad check digit, opted out, rejected" \
	"$(for k in rows_in rows_out valid missing malformed bad_check_digit opted_out rejected; do json_field "$W/a.json" $k; done | tr '\n' ' ')" \
	"10 8 4 1 2 1 1 1 "
bad=0
while read -r line; do
	echo "$line" > "$W/one.json"
	i=$(json_field "$W/one.json" rows_in); o=$(json_field "$W/one.json" rows_out)
	x=$(json_field "$W/one.json" opted_out); r=$(json_field "$W/one.json" rejected)
	[ "$i" -eq $((o + x + r)) ] || bad=1
done < "$W/summary.json"
[ $bad -eq 0 ] && ok "rows in = rows out + opted out + rejected, every file" || not_ok "rows in = rows out + opted out + rejected, every file"

H1=$(hmac "$KEY" 9434765919)
H2=$(hmac "$KEY" 4010232137)
H3=$(hmac "$KEY" 4505577104)
printf 'PSEUDO_ID,NHSNO_STATUS,MYDOB,EPIKEY,ADMIDATE,COST\n%s,valid,031970,E1,2023-05-01,100.50\n,bad_check_digit,121980,E2,2023-06-01,20\n,missing,021990,E3,2023-07-01,30\n,malformed,011800,E4,2023-07-02,40\n,malformed,052001,E5,2023-07-03,50\n%s,valid,021999,E6,2023-08-01,60\n%s,valid,021999,E8,2023-09-01,80\n%s,valid,031970,E10,2023-11-01,110\n' \
	"$H1" "$H2" "$H2" "$H1" > "$W/a.want"
cmp -s "$W/out/apc/a.csv" "$W/a.want" && ok "a.csv: exact output, PSEUDO_ID = independent HMAC-SHA256 of the 10 digits" ||
	{ not_ok "a.csv: exact output, PSEUDO_ID = independent HMAC-SHA256 of the 10 digits"; diff "$W/a.want" "$W/out/apc/a.csv" | sed 's/^/# /'; }
printf 'PSEUDO_ID|NHSNO_STATUS|MYDOB|APPTDATE|TRETSPEF|SEX\n%s|valid|031970|2023-04-01|100|2\n%s|valid|021999|2023-04-03|120|1\n' \
	"$H1" "$H2" > "$W/b.want"
cmp -s "$W/out/op/b.csv" "$W/b.want" && ok "b.csv: delimiter kept, DD/MM/YYYY coarsened, opted-out row removed" ||
	{ not_ok "b.csv: delimiter kept, DD/MM/YYYY coarsened, opted-out row removed"; diff "$W/b.want" "$W/out/op/b.csv" | sed 's/^/# /'; }
grep -rq "$H3" "$W/out" && not_ok "the opted-out person's pseudonym is absent" || ok "the opted-out person's pseudonym is absent"
s=$(scan "$W/out")
[ -z "$s" ] && ok "scan: no valid NHS number, full DOB or identifier column in the output" ||
	{ not_ok "scan: no valid NHS number, full DOB or identifier column in the output"; echo "$s" | head -5 | sed 's/^/# /'; }
grep -rqiE 'smith|high st|LS1 4AP|biscuits|9434765918|0000000000' "$W/out" &&
	not_ok "no names, addresses, free text or raw invalid numbers in the output" ||
	ok "no names, addresses, free text or raw invalid numbers in the output"
[ -z "$(find "$W/out" -name '*.tmp.*')" ] && ok "no temporary files left" || not_ok "no temporary files left"

# Same key, same pseudonyms across files and runs (deterministic).
expect_rc 0 "pseudonymise one file" "$YOC" pseudonymise --key "$W/k.key" --in "$W/in/op/b.csv" --out "$W/b2.csv"
grep -q "$H3" "$W/b2.csv" && ok "without --optout nobody is removed" || not_ok "without --optout nobody is removed"
grep -c "$H1" "$W/b2.csv" | grep -qx 1 && ok "file mode gives the same pseudonyms" || not_ok "file mode gives the same pseudonyms"

# ---- refusals: a clear message and nothing written -------------------------
chmod 644 "$W/k.key"
expect_rc 1 "key readable by group or others is refused" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in/op/b.csv" --out "$W/r1.csv"
grep -q "0644" "$TMP/.err" && ok "the refusal names the mode" || not_ok "the refusal names the mode"
[ ! -e "$W/r1.csv" ] && ok "nothing written (key mode)" || not_ok "nothing written (key mode)"
chmod 600 "$W/k.key"
printf '%.62s\n' "$KEY" > "$W/short.key"; chmod 600 "$W/short.key"
expect_rc 1 "key of the wrong length is refused" \
	"$YOC" pseudonymise --key "$W/short.key" --in "$W/in/op/b.csv" --out "$W/r2.csv"
printf 'zz%.62s\n' "$KEY" > "$W/nothex.key"; chmod 600 "$W/nothex.key"
expect_rc 1 "key that is not hex is refused" \
	"$YOC" pseudonymise --key "$W/nothex.key" --in "$W/in/op/b.csv" --out "$W/r2.csv"
[ ! -e "$W/r2.csv" ] && ok "nothing written (bad keys)" || not_ok "nothing written (bad keys)"
expect_rc 1 "output that is the input is refused" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in/op/b.csv" --out "$W/in/apc/../op/b.csv"
diff -r "$W/in" "$W/in.orig" > /dev/null && ok "the input is untouched after the refusal" || not_ok "the input is untouched after the refusal"
expect_rc 1 "output directory inside the input is refused" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in" --out "$W/in/pseudo"
[ ! -e "$W/in/pseudo" ] && ok "nothing written (output inside input)" || not_ok "nothing written (output inside input)"
printf 'APPTDATE,DOB\n2023-01-01,1970-01-01\n' > "$W/nonhs.csv"
expect_rc 1 "input with no NEWNHSNO column is refused" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/nonhs.csv" --out "$W/r3.csv"
grep -q "NEWNHSNO" "$TMP/.err" && ok "the refusal names the column" || not_ok "the refusal names the column"
[ ! -e "$W/r3.csv" ] && ok "nothing written (no NHS number column)" || not_ok "nothing written (no NHS number column)"
cp -r "$W/in" "$W/in2"; cp "$W/nonhs.csv" "$W/in2/op/zz.csv"
expect_rc 1 "a tree with one file lacking NEWNHSNO is refused" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in2" --out "$W/r4"
[ ! -e "$W/r4" ] && ok "nothing written for any file of the tree" || not_ok "nothing written for any file of the tree"
printf 'nhs_number\n"4505577104\n' > "$W/badopt.csv"
expect_rc 1 "a malformed opt-out list is refused" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in/op/b.csv" --out "$W/r5.csv" --optout "$W/badopt.csv"
[ ! -e "$W/r5.csv" ] && ok "nothing written (bad opt-out list)" || not_ok "nothing written (bad opt-out list)"
expect_rc 2 "missing --key is a usage error" "$YOC" pseudonymise --in "$W/in" --out "$W/r6"

# ---- atomic output: killed mid-run, the output is absent or complete -------
awk 'BEGIN { print "NEWNHSNO,DOB,NAME,ATTENDKEY,APPTDATE"; for (i = 0; i < 300000; i++) printf "9434765919,1970-03-15,Ann Smith,%d,2023-04-01\n", i }' > "$W/big.csv"
"$YOC" pseudonymise --key "$W/k.key" --in "$W/big.csv" --out "$W/big.ref" > /dev/null
printf 'old\n' > "$W/big.out"
"$YOC" pseudonymise --key "$W/k.key" --in "$W/big.csv" --out "$W/big.out" > /dev/null 2>&1 &
pid=$!
sleep 0.05
kill -9 "$pid" 2> /dev/null
wait "$pid" 2> /dev/null
if [ "$(cat "$W/big.out")" = "old" ] || cmp -s "$W/big.out" "$W/big.ref"; then
	ok "killed mid-write: the output is the old file or the whole new one"
else
	not_ok "killed mid-write: the output is the old file or the whole new one"
fi
rm -f "$W"/big.out.tmp.*
[ "$(wc -l < "$W/big.ref")" -eq 300001 ] && ok "a clean run writes every row" || not_ok "a clean run writes every row"

# ---- reidentify: the round trip and the audit chain ------------------------
printf 'nhs_number\n943 476 5919\n6000000008\n4857773456\n' > "$W/reg.csv"
expect_rc 0 "reidentify with a register" "$YOC" reidentify --key "$W/k.key" --register "$W/reg.csv" \
	--in "$W/out/apc/a.csv" --out "$W/re.csv" --user alice --purpose "direct care: medication review" --audit "$W/audit.log"
same "re-identified file mode is 0600" "$(stat -c %a "$W/re.csv")" "600"
awk -F, 'NR > 1 { print $1 "|" $2 }' "$W/re.csv" > "$W/re.pairs"
awk -F'|' -v h1="$H1" '($1 != "") != ($2 == h1) || ($1 != "" && $1 != "9434765919") { bad = 1 } END { exit bad }' "$W/re.pairs" &&
	ok "NEWNHSNO restored exactly on the registered person's rows" || not_ok "NEWNHSNO restored exactly on the registered person's rows"
same "recovered numbers are exactly the registered people present" \
	"$(awk -F, 'NR > 1 && $1 != "" { print $1 }' "$W/re.csv" | sort -u | tr '\n' ' ')" "9434765919 "
same "all other columns unchanged" "$(cut -d, -f2- "$W/re.csv")" "$(cat "$W/out/apc/a.csv")"
printf 'nhs_number\n9434765919\n4010232137\n4505577104\n' > "$W/reg2.csv"
expect_rc 0 "reidentify again with a larger register" "$YOC" reidentify --key "$W/k.key" --register "$W/reg2.csv" \
	--in "$W/out/apc/a.csv" --out "$W/re2.csv" --user bob --purpose "care coordination" --audit "$W/audit.log"
same "recovers both registered people present, and the opted-out one is not there to recover" \
	"$(awk -F, 'NR > 1 && $1 != "" { print $1 }' "$W/re2.csv" | sort | uniq -c | awk '{ print $2 "x" $1 }' | tr '\n' ' ')" \
	"4010232137x2 9434765919x2 "
expect_rc 0 "audit verify passes" "$YOC" audit verify "$W/audit.log"
grep -q "2 records" "$TMP/.out" && ok "audit verify counts the records" || not_ok "audit verify counts the records"
HEAD=$(sed -n 's/.*head \([0-9a-f]*\).*/\1/p' "$TMP/.out")
grep -q '"user":"alice","purpose":"direct care: medication review"' "$W/audit.log" &&
	grep -q "\"input_sha256\":\"$(sha256sum "$W/out/apc/a.csv" | cut -c1-64)\"" "$W/audit.log" &&
	grep -q '"rows_reidentified":2' "$W/audit.log" &&
	ok "the record holds user, purpose, input checksum and rows" || not_ok "the record holds user, purpose, input checksum and rows"
cp "$W/audit.log" "$W/audit.good"
tamper() { # description, then a command that edits audit.log
	d=$1; shift
	cp "$W/audit.good" "$W/audit.log"
	"$@"
	if "$YOC" audit verify "$W/audit.log" > /dev/null 2> "$W/tamper.err"; then
		not_ok "audit verify fails after $d"
	else
		ok "audit verify fails after $d"
	fi
}
tamper "changing the user" sed -i 's/"user":"alice"/"user":"alicf"/' "$W/audit.log"
grep -q 'audit.log:1:' "$W/tamper.err" && ok "the failure names the broken line" || not_ok "the failure names the broken line"
tamper "changing a count" sed -i '2s/"rows_reidentified":4/"rows_reidentified":3/' "$W/audit.log"
tamper "deleting the first record" sed -i '1d' "$W/audit.log"
tamper "reordering records" sh -c "tac '$W/audit.good' > '$W/audit.log'"
tamper "duplicating a record" sh -c "cat '$W/audit.good' '$W/audit.good' > '$W/audit.log'"
tamper "editing one byte of a hash" sed -i '1s/"hash":"./"hash":"Z/' "$W/audit.log"
cp "$W/audit.good" "$W/audit.log"; sed -i '$d' "$W/audit.log"
expect_rc 1 "removing the last record is caught against the recorded head" "$YOC" audit verify "$W/audit.log" --head "$HEAD"
cp "$W/audit.good" "$W/audit.log"
expect_rc 0 "the restored log verifies" "$YOC" audit verify "$W/audit.log" --head "$HEAD"
sed -i 's/"user":"alice"/"user":"alicf"/' "$W/audit.log"
expect_rc 1 "reidentify refuses to extend a broken log" "$YOC" reidentify --key "$W/k.key" --register "$W/reg.csv" \
	--in "$W/out/apc/a.csv" --out "$W/re3.csv" --user eve --purpose x --audit "$W/audit.log"
[ ! -e "$W/re3.csv" ] && ok "nothing written when the log is broken" || not_ok "nothing written when the log is broken"
cp "$W/audit.good" "$W/audit.log"
expect_rc 1 "reidentify refuses to overwrite its input" "$YOC" reidentify --key "$W/k.key" --register "$W/reg.csv" \
	--in "$W/out/apc/a.csv" --out "$W/out/apc/a.csv" --user eve --purpose x --audit "$W/audit.log"
chmod 644 "$W/k.key"
expect_rc 1 "reidentify refuses a key readable by others" "$YOC" reidentify --key "$W/k.key" --register "$W/reg.csv" \
	--in "$W/out/apc/a.csv" --out "$W/re4.csv" --user eve --purpose x --audit "$W/audit.log"
chmod 600 "$W/k.key"
cmp -s "$W/audit.log" "$W/audit.good" && [ ! -e "$W/re4.csv" ] && ok "refusals write no output and no record" ||
	not_ok "refusals write no output and no record"
expect_rc 2 "reidentify without --purpose is a usage error" "$YOC" reidentify --key "$W/k.key" --register "$W/reg.csv" \
	--in "$W/out/apc/a.csv" --out "$W/re5.csv" --user eve --audit "$W/audit.log"

# ---- a whole synthetic care economy ----------------------------------------
if "$YOC" help synth > /dev/null 2>&1; then
	if YOC_DATA=${YOC_DATA:-$YOC_ROOT/data} "$YOC" synth --persons 3000 --years 1 --out "$W/s" > "$W/synth.log" 2>&1 &&
		[ -d "$W/s/feeds" ]; then
		ok "synth writes identifiable feeds"
		OPT=""
		[ -f "$W/s/optout.csv" ] && OPT="--optout $W/s/optout.csv"
		expect_rc 0 "pseudonymise the whole economy" "$YOC" pseudonymise --key "$W/k.key" --in "$W/s/feeds" --out "$W/sp" $OPT --json
		mv "$TMP/.out" "$W/synth.json"
		nin=$(find "$W/s/feeds" -name '*.csv' | wc -l); nout=$(find "$W/sp" -name '*.csv' | wc -l)
		[ "$nin" -gt 0 ] && [ "$nin" -eq "$nout" ] && ok "every feed file pseudonymised ($nout)" || not_ok "every feed file pseudonymised ($nout of $nin)"
		s=$(scan "$W/sp")
		[ -z "$s" ] && ok "scan of the whole economy: no valid NHS number, full DOB or identifier column" ||
			{ not_ok "scan of the whole economy: no valid NHS number, full DOB or identifier column"; echo "$s" | head -5 | sed 's/^/# /'; }
		# every NHS number of the input, as a whole word, anywhere in the output
		find "$W/s/feeds" -name '*.csv' -exec awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "NEWNHSNO") c = i; next } { v = $c; gsub(/[ -]/, "", v); if (length(v) == 10) print v }' {} + | sort -u > "$W/nums.txt"
		[ -s "$W/nums.txt" ] && ! grep -rqwF -f "$W/nums.txt" "$W/sp" && ok "no input NHS number appears anywhere in the output" ||
			not_ok "no input NHS number appears anywhere in the output"
		tin=$(awk -F'"rows_in":' '{ split($2, a, ","); s += a[1] } END { print s + 0 }' "$W/synth.json")
		tout=$(awk -F'"rows_out":' '{ split($2, a, ","); s += a[1] } END { print s + 0 }' "$W/synth.json")
		topt=$(awk -F'"opted_out":' '{ split($2, a, ","); s += a[1] } END { print s + 0 }' "$W/synth.json")
		trej=$(awk -F'"rejected":' '{ split($2, a, ","); s += a[1] } END { print s + 0 }' "$W/synth.json")
		[ "$tin" -gt 0 ] && [ "$tin" -eq $((tout + topt + trej)) ] && ok "economy: rows in = out + opted out + rejected ($tin = $tout + $topt + $trej)" ||
			not_ok "economy: rows in = out + opted out + rejected ($tin = $tout + $topt + $trej)"
		if [ -n "$OPT" ]; then
			# independent count of rows whose normalised number is on the list
			want=$(find "$W/s/feeds" -name '*.csv' -exec awk -F, -v list="$W/s/optout.csv" '
				BEGIN { while ((getline l < list) > 0) { split(l, a, ","); v = a[1]; gsub(/[ "-]/, "", v); if (length(v) == 10) o[v] = 1 } }
				FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "NEWNHSNO") c = i; next }
				{ v = $c; gsub(/[ -]/, "", v); if (v in o) n++ } END { print n + 0 }' {} + | awk '{ s += $1 } END { print s }')
			# a rejected (malformed) row is counted as rejected even if its person opted out
			[ "$want" -gt 0 ] && [ "$topt" -le "$want" ] && [ "$want" -le $((topt + trej)) ] &&
				ok "economy: opted-out rows removed and counted ($topt, $want rows on the list, $trej rejected)" ||
				not_ok "economy: opted-out rows removed and counted ($topt, $want rows on the list, $trej rejected)"
			awk -F, 'NR > 1 { v = $1; gsub(/[ "-]/, "", v); if (length(v) == 10) print v }' "$W/s/optout.csv" |
				hmac_many "$KEY" | cut -d' ' -f2 > "$W/opt.h"
			[ -s "$W/opt.h" ] && ! grep -rqF -f "$W/opt.h" "$W/sp" &&
				ok "economy: no opted-out person's pseudonym in the output" ||
				not_ok "economy: no opted-out person's pseudonym in the output"
		else
			skip "economy: opted-out rows removed" "synth wrote no optout.csv"
		fi
		# round trip on one file: a register of 40 people from it plus 5 strangers
		f=$(find "$W/s/feeds" -name '*.csv' | sort | head -n 1); rel=${f#"$W/s/feeds/"}
		awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) if ($i == "NEWNHSNO") c = i; next } { v = $c; gsub(/[ -]/, "", v); print v }' "$f" |
			awk 'length($0) == 10' | sort -u > "$W/file_nums.txt"
		{ echo nhs_number; head -n 40 "$W/file_nums.txt"; printf '9434765919\n4010232137\n4505577104\n6000000008\n4857773456\n'; } > "$W/sreg.csv"
		expect_rc 0 "reidentify a synthetic feed" "$YOC" reidentify --key "$W/k.key" --register "$W/sreg.csv" \
			--in "$W/sp/$rel" --out "$W/sre.csv" --user carol --purpose "direct care" --audit "$W/saudit.log"
		awk -F, 'NR > 1 && $1 != "" { print $1 }' "$W/sre.csv" | sort -u > "$W/got.txt"
		# expected: registered, in the file, valid, not opted out
		tail -n +2 "$W/sreg.csv" | sort -u > "$W/regs.txt"
		awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "PSEUDO_ID") c = i; next } { print $c }' "$W/sp/$rel" | sort -u > "$W/pids.txt"
		# independent HMACs of the register and of every recovered number, in one batch
		awk -F, 'NR > 1 && $1 != "" { print $1 " " $2 }' "$W/sre.csv" | sort -u > "$W/pairs.txt"
		{ cat "$W/regs.txt"; cut -d' ' -f1 "$W/pairs.txt"; } | hmac_many "$KEY" > "$W/all.h"
		head -n "$(wc -l < "$W/regs.txt")" "$W/all.h" > "$W/regs.h"
		tail -n +"$(($(wc -l < "$W/regs.txt") + 1))" "$W/all.h" > "$W/pairs.h"
		# expected: on the register and whose HMAC is a PSEUDO_ID of the file
		awk 'NR == FNR { p[$1] = 1; next } ($2 in p) { print $1 }' "$W/pids.txt" "$W/regs.h" | sort -u > "$W/exp.txt"
		[ -s "$W/exp.txt" ] && cmp -s "$W/got.txt" "$W/exp.txt" &&
			ok "economy round trip: exactly the registered people's numbers are recovered" ||
			not_ok "economy round trip: exactly the registered people's numbers are recovered ($(wc -l < "$W/got.txt") vs $(wc -l < "$W/exp.txt"))"
		[ -s "$W/pairs.txt" ] && cmp -s "$W/pairs.txt" "$W/pairs.h" &&
			ok "economy round trip: each recovered number hashes to its row's PSEUDO_ID" ||
			not_ok "economy round trip: each recovered number hashes to its row's PSEUDO_ID"
		check "economy round trip: the audit chain verifies" "$YOC" audit verify "$W/saudit.log"
	else
		not_ok "synth writes identifiable feeds"
		sed 's/^/# /' "$W/synth.log" | tail -n 5
	fi
else
	skip "pseudonymise a whole synthetic economy" "synth not built"
fi

done_testing
