#!/bin/sh
# yoc quality's caveats.csv against SQL over the store: the practice-unknown
# people and cost, the records without a pseudonym, ranks by pence.
. "$(dirname "$0")/lib.sh"
D=$TMP/demo
YOC_QUIET=1 "$YOC" demo --persons 3000 --out "$D" > /dev/null 2>&1
same "demo ran" "$?" 0
C=$D/quality/caveats.csv
check "quality wrote caveats.csv" test -s "$C"
DB=$D/dataset/yoc.db
fy=$(sqlite3 "$DB" "select max(fyear) from person_year")
want=$(sqlite3 -separator ' ' "$DB" "select count(*), sum(cost_total) from person_year where fyear='$fy' and practice is null")
got=$(python3 -c "
import csv,sys
r=[x for x in csv.DictReader(open(sys.argv[1])) if x['kind']=='practice_unknown']
print(' '.join((r[0]['people'], r[0]['pence'])) if r else '0 ')" "$C")
same "practice unknown: people and pence as SQL" "$got" "$want"
want=$(sqlite3 "$DB" "select coalesce(sum(records),0) from unpriced_activity where fyear='$fy' and reason='no_pseudonym'")
got=$(python3 -c "
import csv,sys
print(sum(int(x['rows']) for x in csv.DictReader(open(sys.argv[1])) if x['kind']=='no_pseudonym'))" "$C")
same "records without a pseudonym as SQL" "$got" "$want"
got=$(python3 -c "
import csv,sys
r=list(csv.DictReader(open(sys.argv[1])))
k=[(-int(x['pence']),-int(x['people']),-int(x['rows'])) for x in r]
print(k==sorted(k) and [int(x['rank']) for x in r]==list(range(1,len(r)+1)))" "$C")
same "ranked by pence, people, rows; ranks 1..n" "$got" True
anchors=$(python3 -c "
import csv,sys
print(' '.join(sorted({x['anchor'].split('#')[1] for x in csv.DictReader(open(sys.argv[1]))})))" "$C")
for a in $anchors; do check "quality.html has the anchor #$a" grep -q "id=\"$a\"" "$D/quality/quality.html"; done
done_testing
