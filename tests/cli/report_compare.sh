# Fair practice comparison (practices.html): indirectly age-sex
# standardised ratios recomputed independently from person_year. SQL sums
# each age-sex cell and each practice; R computes the expected values, the
# ratios, exact Poisson intervals (poisson.test), Spiegelhalter's funnel
# limits (qpois/ppois) and the normal limits of cost, and compares them
# with the published CSVs. Then disclosure control: a tiny practice and its
# network have no ratios, and observed counts are the published ones.
. "$(dirname "$0")/lib.sh"

for tool in sqlite3 Rscript; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		skip "report compare" "$tool missing"; done_testing; exit 0
	fi
done
D="$TMP/ds"; mkdir -p "$D"
DB="$D/yoc.db"
sqlite3 "$DB" <<'SQL'
CREATE TABLE person_year(pseudo_id TEXT, fyear TEXT, age INTEGER, sex TEXT,
  practice TEXT, imd_decile INTEGER, ltc_count INTEGER, mental_ltc_count INTEGER,
  band TEXT, emergency_admissions INTEGER, bed_days INTEGER, died INTEGER,
  cost_total INTEGER, cost_elective INTEGER, cost_nonelective INTEGER,
  cost_daycase INTEGER, cost_outpatient INTEGER, cost_ae INTEGER,
  cost_community INTEGER, cost_mh INTEGER, cost_gp INTEGER,
  cost_social_care INTEGER, cost_ambulance INTEGER);
-- five practices of different age mixes and rates
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
INSERT INTO person_year
SELECT printf('p%05d', i), '2023/24', a, CASE i % 3 WHEN 0 THEN 'F' WHEN 1 THEN 'M' ELSE '9' END,
  printf('P%02d', pr), 1, l, 0, 'A',
  (i * 7 % 10 < 1 + pr) * (1 + (a > 70)) + (l > 3), 0, 0,
  0, 0, (i * 7919) % 50000 * (l > 1) + a * 900 * (1 + pr % 3), 0, 0, 0, 0, 0, 4800 * (1 + l), 0, 0
FROM (SELECT i, i % 5 AS pr, (i * 37 + (i % 5) * 11 * (i % 7)) % 96 AS a,
       ((i * 13 % 97) + (i % 5) * 9) % 7 AS l FROM n);
UPDATE person_year SET cost_total = cost_nonelective + cost_gp;
-- a tiny practice: no ratios; its network neither
INSERT INTO person_year SELECT 't' || pseudo_id, fyear, age, sex, 'TINY', imd_decile, ltc_count,
  mental_ltc_count, band, emergency_admissions, bed_days, died, cost_total, cost_elective,
  cost_nonelective, cost_daycase, cost_outpatient, cost_ae, cost_community, cost_mh, cost_gp,
  cost_social_care, cost_ambulance FROM person_year LIMIT 3;
CREATE TABLE analyse_run(key TEXT, value TEXT);
INSERT INTO analyse_run VALUES ('codelist_version', 'test-1'), ('bands', 'A:0-9+');
SQL
printf 'practice_code,pcn_code,pcn_name\nP00,U1,North\nP01,U1,North\nP02,U2,South\nP03,U2,South\nP04,U3,East\nTINY,U3,East\n' > "$TMP/pcn.csv"

expect_rc 0 "report runs (no suppression, with a PCN mapping)" \
	"$YOC" report --db "$D" --out "$TMP/r" --no-suppression --pcn "$TMP/pcn.csv"
for f in practices.html csv/compare_cost.csv csv/compare_emergency.csv \
	csv/compare_multimorbidity.csv csv/compare_pcn.csv csv/practices/P00_compare.csv; do
	[ -s "$TMP/r/$f" ] && ok "$f written" || not_ok "$f written"
done

# the independent recomputation: cell sums by SQL, everything else in R
CELL="CASE WHEN age >= 90 THEN 18 ELSE age / 5 END AS ab,
  CASE WHEN sex IN ('F', '2') THEN 0 WHEN sex IN ('M', '1') THEN 1 ELSE 2 END AS sx"
sqlite3 -csv -header "$DB" "SELECT $CELL, count(*) n, sum(cost_total) / 100.0 cost,
  sum(cost_total / 100.0 * cost_total / 100.0) sq, sum(emergency_admissions) em,
  sum(ltc_count >= 2) mm FROM person_year WHERE fyear = '2023/24' GROUP BY ab, sx" > "$TMP/cells.csv"
sqlite3 -csv -header "$DB" "SELECT practice, $CELL, count(*) n FROM person_year
  WHERE fyear = '2023/24' GROUP BY practice, ab, sx" > "$TMP/pcells.csv"
sqlite3 -csv -header "$DB" "SELECT practice, sum(cost_total) / 100.0 cost,
  sum(emergency_admissions) em, sum(ltc_count >= 2) mm FROM person_year
  WHERE fyear = '2023/24' GROUP BY practice" > "$TMP/obs.csv"
cat > "$TMP/check.R" <<'R'
args <- commandArgs(TRUE); dir <- args[1]; out <- args[2]
cells <- read.csv(file.path(dir, "cells.csv")); pc <- read.csv(file.path(dir, "pcells.csv"))
obs <- read.csv(file.path(dir, "obs.csv")); pcn <- read.csv(file.path(dir, "pcn.csv"))
key <- function(d) paste(d$ab, d$sx)
rate <- list(cost = cells$cost / cells$n, emergency = cells$em / cells$n, multimorbidity = cells$mm / cells$n)
names(cells$n) <- key(cells)
phi <- sum(cells$sq - cells$cost^2 / cells$n) / sum(cells$cost)
expected <- function(pr, m) { d <- pc[pc$practice == pr, ]; sum(d$n * rate[[m]][match(key(d), key(cells))]) }
position <- function(m, r, E) {
  if (m == "cost") lim <- 1 + c(-3.090232306167813, -1.959963984540054, 1.959963984540054, 3.090232306167813) * sqrt(phi / E)
  else lim <- sapply(c(0.001, 0.025, 0.975, 0.999), function(p) {
    q <- qpois(p, E); a <- (ppois(q, E) - p) / (ppois(q, E) - ppois(q - 1, E)); max(0, (q - a) / E) })
  if (r < lim[1]) "Below 99.8% limit" else if (r < lim[2]) "Below 95% limit" else
    if (r > lim[4]) "Above 99.8% limit" else if (r > lim[3]) "Above 95% limit" else "Within limits"
}
interval <- function(m, O, E) {
  if (m == "cost") { h <- 1.959963984540054 * sqrt(phi * E) / E; c(max(0, O / E - h), O / E + h) }
  else poisson.test(O)$conf.int / E
}
col <- c(cost = "cost", emergency = "em", multimorbidity = "mm")
bad <- 0; checked <- 0
near <- function(a, b, tol) { ok <- abs(a - b) <= tol; if (!ok) cat("# mismatch", a, b, "\n"); ok }
for (m in names(col)) {
  y <- read.csv(file.path(out, "csv", paste0("compare_", m, ".csv")), colClasses = "character", comment.char = "#")
  for (i in seq_len(nrow(y))) {
    pr <- y$practice[i]; O <- obs[obs$practice == pr, col[[m]]]; E <- expected(pr, m)
    ci <- interval(m, O, E)
    ok <- near(as.numeric(y$observed[i]), O, 0.005) &&
      near(as.numeric(y$expected[i]), E, if (m == "cost") 0.5 else 0.05) &&
      near(as.numeric(y$ratio[i]), O / E, 0.005 + 1e-9) &&
      near(as.numeric(y$X95_ci_lower[i]), ci[1], 0.005 + 1e-9) &&
      near(as.numeric(y$X95_ci_upper[i]), ci[2], 0.005 + 1e-9) &&
      y$funnel_position[i] == position(m, O / E, E)
    if (!ok) { cat("# ", m, pr, "differs\n"); bad <- bad + 1 }
    checked <- checked + 1
  }
}
# networks: sums of their practices' observed and expected
y <- read.csv(file.path(out, "csv", "compare_pcn.csv"), colClasses = "character", comment.char = "#")
for (i in seq_len(nrow(y))) {
  pr <- pcn$practice_code[pcn$pcn_code == y$pcn[i]]
  O <- sum(obs$em[obs$practice %in% pr]); E <- sum(sapply(pr, expected, m = "emergency"))
  ci <- poisson.test(O)$conf.int / E
  if (!(near(as.numeric(y$emergency_admissions_ratio[i]), O / E, 0.005 + 1e-9) &&
        near(as.numeric(y$emergency_lower_95[i]), ci[1], 0.005 + 1e-9))) bad <- bad + 1
  checked <- checked + 1
}
cat(checked, bad, "\n")
R
res=$(Rscript "$TMP/check.R" "$TMP" "$TMP/r" 2>&1)
echo "$res" | grep '^#' | head -10
set -- $(echo "$res" | tail -1)
[ "${1:-0}" -ge 21 ] && [ "${2:-1}" -eq 0 ] && ok "ratios, intervals, funnel positions and PCN ratios = R ($1 checked)" \
	|| not_ok "ratios, intervals, funnel positions and PCN ratios = R ($res)"
same "the whole population's ratio is 1 (sum of observed = sum of expected)" \
	"$(awk -F, '/^P/ { o += $4; e += $5 } END { printf "%.3f", o / e }' "$TMP/r/csv/compare_emergency.csv")" "1.000"
grep -q 'Funnel plot: Emergency admissions' "$TMP/r/practices.html" && grep -q '99.8% limits' "$TMP/r/practices.html" \
	&& ok "funnel plots drawn with their limits" || not_ok "funnel plots drawn with their limits"
grep -q 'href="../practices.html"' "$TMP/r/practices/P00.html" && grep -q 'Primary care network: U1' "$TMP/r/practices/P00.html" \
	&& ok "the pack shows its ratios, network and a link to the comparison" || not_ok "the pack shows its ratios and network"
same "the pack's emergency ratio = the comparison's" \
	"$(grep '^Emergency admissions,' "$TMP/r/csv/practices/P00_compare.csv" | cut -d, -f4-7)" \
	"$(grep '^P00,' "$TMP/r/csv/compare_emergency.csv" | cut -d, -f6-9)"

# with disclosure control: observed counts are the published ones, and
# the tiny practice and its network have no ratios
expect_rc 0 "report runs (disclosure control on)" "$YOC" report --db "$D" --out "$TMP/s" --pcn "$TMP/pcn.csv"
# (the table of practices hides one more practice beside TINY: it has no ratios either)
same "observed admissions are the published counts" \
	"$(cut -d, -f1,4 "$TMP/s/csv/compare_emergency.csv" | sed 1d | grep -v ',\*$')" \
	"$(sqlite3 -csv "$DB" "SELECT practice, CASE WHEN n = 0 THEN '0' WHEN n <= 7 THEN '*' ELSE (n + 2) / 5 * 5 END
	  FROM (SELECT practice, sum(emergency_admissions) n FROM person_year GROUP BY practice) ORDER BY practice" |
	  grep -v "^$(grep '^[^,]*,\*,' "$TMP/s/csv/practices.csv" | cut -d, -f1 | tr '\n' '|' | sed 's/|$//; s/|/\\|/g'),")"
same "practices hidden in the table of practices have no ratios" \
	"$(grep -c ',\*,\*,\*,\*,\*,\*,\*$' "$TMP/s/csv/compare_emergency.csv")" \
	"$(grep -c '^[^,]*,\*,' "$TMP/s/csv/practices.csv")"
same "the tiny practice has no ratios" "$(grep '^TINY,' "$TMP/s/csv/compare_emergency.csv")" "TINY,U3,*,*,*,*,*,*,*"
same "its network has none either" "$(grep '^U3,' "$TMP/s/csv/compare_pcn.csv" | cut -d, -f4-)" "*,*,*,*,*,*,*,*,*,*"
# without a mapping no network column and no network table
expect_rc 0 "report runs without a mapping" "$YOC" report --db "$D" --out "$TMP/n" --pcn /dev/null
[ ! -e "$TMP/n/csv/compare_pcn.csv" ] && head -1 "$TMP/n/csv/compare_cost.csv" | grep -q '^practice,people,' \
	&& ok "no mapping: no networks" || not_ok "no mapping: no networks"
done_testing
