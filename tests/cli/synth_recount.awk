# Recounts the defects of yoc synth feed files independently of the C code,
# from the file text alone plus the shipped code sets (used by synth.sh).
#
#   awk -v MANIFEST=m.tsv -v CODES=data/code_sets.csv -v NCC=data/ncc_2023_24.csv \
#       -v PROVIDERS=p.txt -v NOEOL=noeol.txt -v EXTRACT=YYYY-MM-DD \
#       -f synth_recount.awk feeds/*/*.csv
#
# MANIFEST: tab-separated path, kind, rows, then the twelve defect counts in
# manifest order, then renamed-from and renamed-to ("-" when none).
# NOEOL: "path rows" for each file whose last line has no newline (rows =
# its data rows, the cut one included).
# Prints one line "DEFECT path expected got" per disagreement and a final
# "TOTAL defect count" line per defect type. Rules (docs/feeds.md):
#   - a row carries at most one row defect;
#   - nhs_bad_check_digit: NEWNHSNO is ten digits whose Modulus 11 check fails;
#   - date_wrong_format: a date cell in DD/MM/YYYY;
#   - date_out_of_range: an ISO-shaped date cell before 1900 or not a real date;
#   - date_in_future: a valid ISO date after the extract date;
#   - unknown_code: a coded cell outside its code set (a stray-quote row is
#     counted as stray_quote only; the cut last line of a truncated file is
#     counted only as truncated_last_line).

function digits10(s) { return s ~ /^[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]$/ }
function mod11_ok(s,    i, sum, c) {
	sum = 0
	for (i = 1; i <= 9; i++) sum += substr(s, i, 1) * (11 - i)
	c = 11 - sum % 11
	if (c == 11) c = 0
	return c != 10 && c == substr(s, 10, 1) + 0
}
function leap(y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }
function mdays(y, m) { return m == 2 ? (leap(y) ? 29 : 28) : (m == 4 || m == 6 || m == 9 || m == 11) ? 30 : 31 }
function iso(s) { return s ~ /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]$/ }
function dmy(s) { return s ~ /^[0-9][0-9]\/[0-9][0-9]\/[0-9][0-9][0-9][0-9]$/ }
function real_date(s,    y, m, d) {
	y = substr(s, 1, 4) + 0; m = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
	return m >= 1 && m <= 12 && d >= 1 && d <= mdays(y, m)
}
# Days since 1970-01-01 (civil calendar).
function days(s,    y, m, d, era, yoe, doy, doe) {
	y = substr(s, 1, 4) + 0; m = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
	y -= (m <= 2)
	era = int((y >= 0 ? y : y - 399) / 400)
	yoe = y - era * 400
	doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
	doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
	return era * 146097 + doe - 719468
}
function is_date_col(name) {
	return name in DATECOL || (kind == "gp_register" && col_index[name] > 8)
}
function checked(name) {
	return (name in CODESET) || name ~ /^DIAG_4_/ || name ~ /^OPERTN_4_/ || name == "CAUSE" ||
		name == "GPPRAC" || name == "PROCODE" || name == "LA_CODE" || name == "CONVEYED_TO" ||
		name == "LSOA11" || name == "IMD_DECILE" || name == "SUSHRG" || name == "CURRENCY_CODE"
}
function code_ok(name, v,    pod) {
	if (name in CODESET) {
		if (v == "" && ((name in EMPTY_OK) || (name == "ATTENDED" && kind == "mh"))) return 1
		return (CODESET[name] SUBSEP v) in CODE
	}
	if (name ~ /^DIAG_4_/) return v == "" ? name != "DIAG_4_01" : ("ICD10" SUBSEP v) in CODE
	if (name == "CAUSE") return ("ICD10" SUBSEP v) in CODE
	if (name == "OPERTN_4_01") return ("OPCS4" SUBSEP v) in CODE
	if (name ~ /^OPERTN_4_0[234]$/) return v == ""
	if (name == "GPPRAC" || name == "PROCODE" || name == "LA_CODE") return v in PROV
	if (name == "CONVEYED_TO") return v == "" || (v in PROV)
	if (name == "LSOA11") return v ~ /^E01[0-9][0-9][0-9][0-9][0-9][0-9]$/
	if (name == "IMD_DECILE") return v ~ /^([1-9]|10)$/
	if (name == "SUSHRG" || name == "CURRENCY_CODE") {
		pod = ""
		if (kind == "apc") {
			if ($iCP == "2") pod = "Daycase"
			else if ($iAM ~ /^1[123]$/) pod = "Elective Inpatients"
			else if (days($iEE) - days($iES) <= 1) pod = "Non-Elective Inpatient - Short Stay"
			else pod = "Non-Elective Inpatient - Long Stay"
		} else if (kind == "op") pod = v ~ /^WF/ ? "Consultant Led" : "Outpatient Procedures"
		else if (kind == "ae") pod = "Emergency Care"
		else if (kind == "community") pod = "Community Health Service"
		else if (kind == "mh") pod = v == "MHCC" ? "Mental Health Care Contact" : v == "IAPT" ? "NHS Talking Therapy Care Contact" : "Mental Health Provider Spell"
		else if (kind == "ambulance") pod = "Ambulance"
		return (pod SUBSEP v) in NCCCODE
	}
	return 1
}
function cost_ok(    units, want) {
	units = $iUN + 0
	if ($iUT == "HOURS") want = units * pence($iHR)
	else want = int((pence($iWC) * units * 2 + 7) / 14)
	return want == pence($iCO)
}
function pence(s,    p, w, f) {
	p = index(s, ".")
	if (!p) return s * 100
	w = substr(s, 1, p - 1); f = substr(s, p + 1) "00"
	return w * 100 + substr(f, 1, 2)
}
function finish_file(    d, got) {
	if (cur == "") return
	got["rows"] = nrows
	if (!(cur in M_ROWS)) { print "UNLISTED " cur; cur = ""; return }
	if (M_ROWS[cur] != nrows) print "rows " cur " " M_ROWS[cur] " " nrows
	for (d = 1; d <= ND; d++) {
		TOTAL[DN[d]] += cnt[DN[d]]
		if (M[cur, DN[d]] != cnt[DN[d]]) print DN[d] " " cur " " M[cur, DN[d]] " " cnt[DN[d]]
	}
	cur = ""
}
BEGIN {
	FS = ","
	split("nhs_bad_check_digit nhs_missing date_wrong_format date_out_of_range date_in_future unknown_code duplicate_row stray_quote cost_mismatch truncated_last_line duplicate_file renamed_column", DN, " ")
	ND = 12
	split("DOB ADMIDATE DISDATE EPISTART EPIEND APPTDATE ARRIVALDATE CONTACT_DATE SPELL_START SPELL_END APPT_DATE PACKAGE_START PACKAGE_END START_DATE END_DATE INCIDENT_DATE DOD DOR REG_START REG_END", t, " ")
	for (i in t) DATECOL[t[i]] = 1
	split("SEX ADMIMETH ADMISORC DISDEST DISMETH CLASSPAT TRETSPEF EPIORDER ATTENDED FIRSTATT AEARRIVALMODE AEATTENDCAT AEDEPTTYPE AEATTENDDISP CLUSTER RECORD_TYPE TEAM SERVICE CONTACT_TYPE HCP_TYPE APPT_MODE APPT_STATUS SERVICE_TYPE UNIT_TYPE CATEGORY OUTCOME PLACE", t, " ")
	for (i in t) CODESET[t[i]] = t[i]
	EMPTY_OK["CLUSTER"] = 1
	while ((getline line < CODES) > 0) {
		n = split(line, a, ",")
		CODE[a[1], a[2]] = 1
	}
	while ((getline line < NCC) > 0) {
		n = split(line, a, ",")
		NCCCODE[a[1], a[2]] = 1
	}
	while ((getline line < PROVIDERS) > 0) PROV[line] = 1
	while ((getline line < NOEOL) > 0) { split(line, a, " "); LASTROW[a[1]] = a[2] }
	FS = "\t"
	while ((getline line < MANIFEST) > 0) {
		n = split(line, a, "\t")
		M_ROWS[a[1]] = a[3]
		for (d = 1; d <= ND; d++) M[a[1], DN[d]] = a[3 + d]
		if (a[16] != "-") { RENFROM[a[1]] = a[16]; RENTO[a[1]] = a[17] }
	}
	FS = ","
}
FNR == 1 {
	finish_file()
	cur = FILENAME
	sub(/^.*feeds\//, "feeds/", cur)
	kind = cur; sub(/^feeds\//, "", kind); sub(/\/.*$/, "", kind)
	nrows = 0; prev = ""
	for (d = 1; d <= ND; d++) cnt[DN[d]] = 0
	split("", col_index); split("", colname)
	ncol = NF
	for (i = 1; i <= NF; i++) {
		nm = $i
		if ((cur in RENTO) && nm == RENTO[cur]) nm = RENFROM[cur]
		colname[i] = nm; col_index[nm] = i
	}
	nd = 0; nc = 0
	for (i = 1; i <= ncol; i++) {
		if (is_date_col(colname[i])) DC[++nd] = i
		if (checked(colname[i])) CC[++nc] = i
	}
	iCP = col_index["CLASSPAT"]; iAM = col_index["ADMIMETH"]; iES = col_index["EPISTART"]; iEE = col_index["EPIEND"]
	iUN = col_index["UNITS"]; iUT = col_index["UNIT_TYPE"]; iHR = col_index["HOURLY_RATE"]; iWC = col_index["WEEKLY_COST"]; iCO = col_index["COST"]
	if (cur ~ /_v2\.csv$/) dupfile = 1; else dupfile = 0
	if (cur in RENTO) renamed = 1; else renamed = 0
	next
}
{
	nrows++
	if (dupfile) cnt["duplicate_file"]++
	if (renamed) cnt["renamed_column"]++
	line = $0
	is_dup = (line == prev)
	prev = line
	# The cut last line of a truncated file counts only as truncated_last_line.
	if ((cur in LASTROW) && nrows == LASTROW[cur]) { cnt["truncated_last_line"]++; next }
	if (is_dup) { cnt["duplicate_row"]++; next }
	if (index(line, "\"")) { cnt["stray_quote"]++; next }
	nhs = $1
	if (nhs == "") cnt["nhs_missing"]++
	else if (digits10(nhs) && !mod11_ok(nhs)) cnt["nhs_bad_check_digit"]++
	fmt = 0; rng = 0; fut = 0
	for (k = 1; k <= nd; k++) {
		v = $(DC[k])
		if (v == "") continue
		if (dmy(v)) fmt = 1
		else if (iso(v)) {
			if (substr(v, 1, 4) + 0 < 1900 || !real_date(v)) rng = 1
			else if (v > EXTRACT) fut = 1
		} else fmt = 1
	}
	cnt["date_wrong_format"] += fmt; cnt["date_out_of_range"] += rng; cnt["date_in_future"] += fut
	if (fmt || rng || fut || NF < ncol) next
	bad = 0
	for (k = 1; k <= nc; k++)
		if (!code_ok(colname[CC[k]], $(CC[k]))) { bad = 1; if (VERBOSE) print "BADCODE " cur " " colname[CC[k]] "=" $(CC[k]) > "/dev/stderr" }
	cnt["unknown_code"] += bad
	if (kind == "social_care" && !bad && !cost_ok()) cnt["cost_mismatch"]++
}
END { finish_file(); for (d = 1; d <= ND; d++) print "TOTAL " DN[d] " " TOTAL[DN[d]] }
