# The CLI skeleton: help, version, verb and option errors with suggestions,
# and `inspect` on the Artificial HES samples and on malformed files.
. "$(dirname "$0")/lib.sh"

expect_rc 0 "--help exits 0" "$YOC" --help
grep -q "^  inspect " "$TMP/.out" && ok "--help lists the verbs" || not_ok "--help lists the verbs"
expect_rc 0 "--version exits 0" "$YOC" --version
same "--version prints the version" "$(cat "$TMP/.out")" "yoc $(sed -n 's/#define YOC_VERSION "\(.*\)"/\1/p' "$YOC_ROOT/include/yoc/core.h")"
expect_rc 2 "no arguments is a usage error" "$YOC"
expect_rc 0 "help VERB" "$YOC" help inspect
grep -q "Usage: yoc inspect" "$TMP/.out" && ok "help VERB shows the verb's usage" || not_ok "help VERB shows the verb's usage"
expect_rc 2 "unknown verb exits 2" "$YOC" inspct
same "unknown verb names the nearest" "$(cat "$TMP/.err")" "yoc: unknown verb 'inspct'; did you mean 'inspect'?"
expect_rc 2 "unknown option exits 2" "$YOC" inspect --jsno x.csv
same "unknown option names the nearest" "$(cat "$TMP/.err")" "yoc inspect: unknown option '--jsno'; did you mean '--json'?"
expect_rc 2 "unknown top-level flag exits 2" "$YOC" --verison
grep -q "did you mean '--version'" "$TMP/.err" && ok "top-level flag suggestion" || not_ok "top-level flag suggestion"
expect_rc 2 "help for an unknown verb exits 2" "$YOC" help synthh

S="$YOC_ROOT/../shared/reference/hes/samples"
if [ -d "$S" ]; then
	expect_rc 0 "inspect reads the APC sample cleanly" "$YOC" inspect --json "$S/artificial_hes_apc_0102.csv"
	grep -q '"columns":193,"rows":2075,"malformed":0' "$TMP/.out" && ok "APC sample: 2,075 rows x 193 columns" || not_ok "APC sample: 2,075 rows x 193 columns"
	expect_rc 0 "inspect reads the OP sample" "$YOC" inspect --json "$S/artificial_hes_op_0304.csv"
	grep -q '"columns":157,"rows":1000,"malformed":0' "$TMP/.out" && ok "OP sample: 1,000 x 157" || not_ok "OP sample: 1,000 x 157"
	expect_rc 0 "inspect reads the A&E sample" "$YOC" inspect --json "$S/artificial_hes_ae_0708.csv"
	grep -q '"columns":165,"rows":1000,"malformed":0' "$TMP/.out" && ok "A&E sample: 1,000 x 165" || not_ok "A&E sample: 1,000 x 165"
	# Independent count: data rows = physical lines - 1 when no field holds a newline.
	n=$(($(wc -l < "$S/artificial_hes_op_0304.csv") - 1))
	same "OP rows agree with wc -l" "$n" 1000
else
	skip "HES samples" "../shared/reference not present"
fi

# Malformed input: every row accounted for, faults named with line:col.
printf 'a,b,c\n1,2,3\n4,5\n6,7"x,8\n9,10,11\n12,"a""b",13\n' > "$TMP/bad.csv"
expect_rc 1 "inspect exits 1 on malformed rows" "$YOC" inspect "$TMP/bad.csv"
grep -q "bad.csv:3:[0-9]*: " "$TMP/.out" && ok "ragged row reported at line 3" || not_ok "ragged row reported at line 3"
grep -q "bad.csv:4:4: " "$TMP/.out" && ok "stray quote reported at line 4 column 4" || not_ok "stray quote reported at line 4 column 4"
grep -q "5 rows x 3 columns.*2 malformed" "$TMP/.out" && ok "5 rows counted, 2 malformed" || not_ok "5 rows counted, 2 malformed"
done_testing
