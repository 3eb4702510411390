# Patient data must not leak, whatever the file looks like. A corpus of
# identifiable files in every spelling and layout a careless provider or an
# attacker sends goes through `yoc pseudonymise` and `yoc load`; each must be
# refused or cleaned, and an independent scanner (python3, its own Modulus 11
# and patterns) then reads every byte yoc wrote: pseudonymised files, the
# dataset's catalog and segments through `yoc export` of every table.
. "$(dirname "$0")/lib.sh"
W=$TMP

"$YOC" keygen --out "$W/k.key" > /dev/null

# The independent scanner: FILE:LINE: what, for every identifier found.
cat > "$W/scan.py" <<'EOF'
import re, sys
def mod11(s):
    if len(set(s)) == 1: return False
    c = 11 - sum(int(s[i]) * (10 - i) for i in range(9)) % 11
    c = 0 if c == 11 else c
    return c != 10 and c == int(s[9])
NHS = re.compile(r'(?<![0-9A-Za-z])([0-9]{3})[ -]?([0-9]{3})[ -]?([0-9]{4})(?![0-9A-Za-z])')
DATE = re.compile(r'(?<![0-9A-Za-z])(19[0-9]{2}|20[0-2][0-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])(?![0-9])|(?<![0-9])(0[1-9]|[12][0-9]|3[01])/(0[1-9]|1[0-2])/(19|20)[0-9]{2}')
PC = re.compile(r'\b[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][ABD-HJLNP-UW-Z]{2}\b', re.I)
MAIL = re.compile(r'[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z.]{2,}')
PHONE = re.compile(r'(\+44 ?|\b0)7[0-9]{3} ?[0-9]{6}\b|\b01[0-9]{2} ?[0-9]{3} ?[0-9]{4}\b')
WORDS = re.compile(r'Smith|Jones|High St|Ann Smith|Acacia', re.I)
allow_dates = set(sys.argv[1].split(',')) if len(sys.argv) > 1 and sys.argv[1] else set()
bad = 0
for path in sys.argv[2:]:
    for n, line in enumerate(open(path, encoding='utf-8', errors='replace'), 1):
        for m in NHS.finditer(line):
            if mod11(''.join(m.groups())):
                print(f'{path}:{n}: NHS number'); bad += 1
        if 'date' not in allow_dates and DATE.search(line):
            # dates are legitimate activity dates in feeds; births are 19xx/2000s in this corpus
            for m in DATE.finditer(line):
                if m.group(0) in ('1970-03-15', '15/03/1970', '1950-06-30', '1999-02-28'):
                    print(f'{path}:{n}: date of birth'); bad += 1
        for rx, what in ((PC, 'postcode'), (MAIL, 'e-mail'), (PHONE, 'phone'), (WORDS, 'name/address')):
            m = rx.search(line)
            if m and not (rx is PC and m.group(0).upper().startswith('E0')):
                print(f'{path}:{n}: {what}'); bad += 1
sys.exit(1 if bad else 0)
EOF
scan() { python3 "$W/scan.py" "" "$@"; }

# The scanner sees what it must (a scanner that cannot fail proves nothing).
printf 'a,b\n943 476 5919,x\n1970-03-15,LS1 4AP\nann@x.org,07700 900123\nSmith,\n' > "$W/leak.csv"
[ "$(scan "$W/leak.csv" | wc -l)" -eq 6 ] && ok "scanner finds NHS number, DOB, postcode, e-mail, phone, name" ||
	not_ok "scanner finds NHS number, DOB, postcode, e-mail, phone, name"

ROW_A='9434765919,1970-03-15,Ann Smith,LS1 4AP,07700 900123,2023-04-01,E1,C189,1'
ROW_B='4010232137,1999-02-28,Bob Jones,LS2 1AA,0113 496 0000,2023-04-02,E2,I10X,2'

# ---- 1. identifier columns in every spelling: cleaned ------------------------
mkdir -p "$W/in/apc"
for hdr in \
	'NHS Number,Date of Birth,Patient Name,Post Code,Mobile Number,EPISTART,EPIKEY,DIAG_4_01,SEX' \
	'nhs_no,DOB,Full Name,POSTCODE ,Phone,epistart,epikey,diag 4 01,sex' \
	'NEWNHSNO, DOB,Surname,Home Address,E-mail,Epi Start,EPIKEY,DIAG-4-01,SEX' \
	'NHS-NUMBER,date_of_birth,FORENAME(S),ADDRESS_LINE_1,Telephone,EPISTART,EPIKEY,DIAG_4_01,sex'; do
	i=$((${i:-0} + 1))
	printf '%s\n%s\n%s\n' "$hdr" "$ROW_A" "$ROW_B" > "$W/in/apc/RA1_2023-0$i.csv"
done
expect_rc 0 "pseudonymise: identifier columns in any spelling are cleaned" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in" --out "$W/out" --json
cp "$TMP/.out" "$W/sum.json"
out=$(scan "$W"/out/apc/RA1_2023-0[1-4].csv 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] && ok "nothing identifiable in the pseudonymised files" ||
	{ not_ok "nothing identifiable in the pseudonymised files"; echo "$out" | sed 's/^/# /' | head; }
[ "$(grep -c '"rows_out":2,' "$W/sum.json")" -eq 4 ] && ok "every data row written" || not_ok "every data row written"
[ "$(grep -c '"valid":2,' "$W/sum.json")" -eq 4 ] && ok "the NHS number column is pseudonymised under any spelling" ||
	not_ok "the NHS number column is pseudonymised under any spelling"
same "every output has the same header" "$(head -qn1 "$W"/out/apc/*.csv | sort -u)" \
	"PSEUDO_ID,NHSNO_STATUS,MYDOB,EPISTART,EPIKEY,DIAG_4_01,SEX"
grep -q 'Patient Name (name)' "$W/sum.json" && grep -q 'Mobile Number (phone or e-mail)' "$W/sum.json" &&
	ok "dropped columns are listed with the reason" || not_ok "dropped columns are listed with the reason"
same "MYDOB is month and year" "$(sed -n 2p "$W/out/apc/RA1_2023-01.csv" | cut -d, -f3)" "031970"

# ---- 2. default deny: unknown columns dropped and listed, or refused with --strict
mkdir -p "$W/in2/apc"
printf 'NEWNHSNO,EPISTART,EPIKEY,CARER,CLINIC_LETTER\n9434765919,2023-04-01,E1,Mrs Smith,Dear Ann\n' > "$W/in2/apc/RA1_2023-04.csv"
expect_rc 0 "pseudonymise: unknown columns are dropped" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in2" --out "$W/out2"
grep -q "2 columns dropped: CARER (not in the spec), CLINIC_LETTER (not in the spec)" "$TMP/.out" &&
	ok "the account lists them" || not_ok "the account lists them"
same "only the spec's columns are written" "$(head -n1 "$W/out2/apc/RA1_2023-04.csv")" "PSEUDO_ID,NHSNO_STATUS,EPISTART,EPIKEY"
expect_rc 1 "--strict refuses a file with an unknown column" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in2" --out "$W/out2s" --strict
grep -q "CARER" "$TMP/.err" && [ ! -e "$W/out2s" ] && ok "naming it, nothing written" || not_ok "naming it, nothing written"
printf '# the key holder allows\nCARER\n' > "$W/allow.txt"
expect_rc 0 "an allowed column is kept" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in2" --out "$W/out2a" --allow "$W/allow.txt"
same "allowed column in the output" "$(head -n1 "$W/out2a/apc/RA1_2023-04.csv")" "PSEUDO_ID,NHSNO_STATUS,EPISTART,EPIKEY,CARER"
printf 'Patient Name\n' > "$W/allow_bad.txt"
expect_rc 1 "an identifier cannot be allowed" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in2" --out "$W/out2b" --allow "$W/allow_bad.txt"
[ ! -e "$W/out2b" ] && ok "nothing written (bad allow-list)" || not_ok "nothing written (bad allow-list)"

# ---- 3. identifiers hidden in kept columns: refused, nothing written ---------
i=0
for case in \
	'EPIKEY:9434765919' 'EPIKEY:943 476 5919' 'LSOA11:LS1 4AP' 'LSOA11:SW1A1AA' \
	'SUSSPELLID:ann.smith@example.com' 'SUSSPELLID:07700 900123' 'MYDOB:1970-03-15' \
	'SUSSPELLID:15/03/1970' 'PROCODE3:RA1 seen 943 476 5919' 'GPPRAC:+44 113 496 0000'; do
	i=$((i + 1))
	col=${case%%:*}; v=${case#*:}
	d="$W/in3_$i/apc"; mkdir -p "$d"
	printf 'NEWNHSNO,EPISTART,%s\n4010232137,2023-04-01,"%s"\n' "$col" "$v" > "$d/RA1_2023-04.csv"
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in3_$i" --out "$W/out3_$i" > "$W/o" 2> "$W/e"
	rc=$?
	if [ $rc -eq 1 ] && [ ! -e "$W/out3_$i/apc/RA1_2023-04.csv" ] && grep -q "$col" "$W/e" &&
		grep -q ":2:" "$W/e" && ! grep -qF "$v" "$W/e"; then
		ok "value in $col refused, column and line named, value not shown"
	else
		not_ok "value in $col refused, column and line named, value not shown (exit $rc)"; sed 's/^/# /' "$W/e" | head -3
	fi
done

# ---- 4. odd files -------------------------------------------------------------
mkdir -p "$W/in4/apc"
# Excel's "CSV (Macintosh)": CR-only line endings
printf 'NEWNHSNO,DOB,EPISTART,EPIKEY\r9434765919,1970-03-15,2023-04-01,E1\r4010232137,1999-02-28,2023-04-02,E2\r' > "$W/in4/apc/RA1_2023-04.csv"
expect_rc 0 "CR-only line endings are read as lines" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/in4/apc/RA1_2023-04.csv" --out "$W/cr.csv" --json
grep -q '"rows_in":2,.*"valid":2,' "$TMP/.out" && ok "both rows read and pseudonymised" || not_ok "both rows read and pseudonymised"
out=$(scan "$W/cr.csv" 2>&1) && [ -z "$out" ] && ok "nothing identifiable (CR-only)" || not_ok "nothing identifiable (CR-only)"
expect_rc 0 "inspect counts CR-only rows" "$YOC" inspect --json "$W/in4/apc/RA1_2023-04.csv"
grep -q '"rows":2' "$TMP/.out" && ok "inspect: 2 rows" || { not_ok "inspect: 2 rows"; sed 's/^/# /' "$TMP/.out"; }
# a data row as the header (the header line lost)
printf '9434765919,1970-03-15,2023-04-01,E1\n4010232137,1999-02-28,2023-04-02,E2\n' > "$W/nohdr.csv"
expect_rc 1 "a header of digits is refused" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/nohdr.csv" --out "$W/nohdr.out" --kind apc
! grep -q 9434765919 "$TMP/.err" && [ ! -e "$W/nohdr.out" ] && ok "the digits are not echoed; nothing written" ||
	not_ok "the digits are not echoed; nothing written"
# duplicate names
printf 'NEWNHSNO,EPISTART,SEX,SEX\n9434765919,2023-04-01,1,2\n' > "$W/dup.csv"
expect_rc 1 "duplicate column names are refused" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/dup.csv" --out "$W/dup.out" --kind apc
grep -q "columns 3 'SEX' and 4 'SEX'" "$TMP/.err" && ok "both named" || not_ok "both named"
# thousands of columns
awk 'BEGIN { printf "NEWNHSNO,EPISTART"; for (i = 0; i < 3000; i++) printf ",C%d", i; print "" }' > "$W/wide.csv"
expect_rc 1 "a header of thousands of columns is refused" \
	"$YOC" pseudonymise --key "$W/k.key" --in "$W/wide.csv" --out "$W/wide.out"

# ---- 5. load: the same policy, by any path ---------------------------------------
"$YOC" init "$W/ds" > /dev/null
P=$(printf %064d 0 | tr 0 a)
mkdir -p "$W/ld"
n=0
for hdr in ' DOB' 'NEWNHSNO ' 'POSTCODE ' 'nhs_no' 'NHS Number' 'Patient Name' 'Full Name' \
	'Post Code' 'Date of Birth' 'Mobile Number' 'Notes'; do
	n=$((n + 1))
	printf 'PSEUDO_ID,EPISTART,%s\n%s,2023-04-01,x\n' "$hdr" "$P" > "$W/ld/RA${n}_2023-04.csv"
	expect_rc 1 "load refuses a column '$hdr'" "$YOC" load --db "$W/ds" "$W/ld/RA${n}_2023-04.csv"
	grep -q "pseudonymise" "$TMP/.err" || not_ok "the refusal of '$hdr' says to pseudonymise"
done
n=0
for case in 'EPIKEY:9434765919' 'LSOA11:LS1 4AP' 'SUSSPELLID:a.b@nhs.net' 'MYDOB:15/03/1970' \
	'EXTRA:x'; do
	n=$((n + 1))
	col=${case%%:*}; v=${case#*:}
	# the row also fails validation, so it would be quarantined with its raw text
	printf 'PSEUDO_ID,EPISTART,%s\n%s,not-a-date,"%s"\n%s,2023-04-01,"%s"\n' "$col" "$P" "$v" "$P" "$v" > "$W/ld/RB${n}_2023-04.csv"
done
expect_rc 1 "load refuses files with identifier values, loads the rest" "$YOC" load --db "$W/ds" "$W/ld"/RB*.csv
[ "$(grep -c 'rejected' "$TMP/.out")" -ge 4 ] && ok "four files refused" || not_ok "four files refused"
grep -q "RB5_2023-04.csv: apc RB5 2023-04: .*1 column not loaded: EXTRA" "$TMP/.out" && ok "an unknown column is not loaded, and listed" ||
	{ not_ok "an unknown column is not loaded, and listed"; sed 's/^/# /' "$TMP/.out"; }
for t in files file_columns quarantine flags file_stats apc; do
	"$YOC" export --db "$W/ds" --table "$t" > "$W/export_$t.csv" 2>/dev/null
done
out=$(scan "$W"/export_*.csv 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] && [ -s "$W/export_apc.csv" ] && ok "nothing identifiable in any table of the dataset" ||
	{ not_ok "nothing identifiable in any table of the dataset"; echo "$out" | sed 's/^/# /' | head; }
same "refused files left no rows" "$(sqlite3 "$W/ds/yoc.db" "select count(*) from files where path like '%RB1%' or path like '%RB2%' or path like '%RB3%' or path like '%RB4%'")" "0"
same "the unknown column is not in the dataset" "$(sqlite3 "$W/ds/yoc.db" "select count(*) from file_columns where name = 'EXTRA' or source = 'EXTRA'")" "0"
expect_rc 1 "load --strict refuses an unknown column" "$YOC" load --db "$W/ds" --strict "$W/ld/RB5_2023-04.csv"

done_testing
