/*
** The feed specification tables and header recognition. Code sets come from
** the HES Technical Output Specification value lists
** (../shared/reference/hes/apc.fields.json); local feeds use the same names
** where HES has one. This file holds data and lookups only.
*/
#include <string.h>

#include "spec/spec.h"
#include "yoc/csv.h"

#define A(...) ((const char *const[]){__VA_ARGS__, NULL})

/* HES value lists (apc.fields.json). */
static const char *const c_admimeth[] = {"11", "12", "13", "21", "22", "23", "24", "25",
	"2A", "2B", "2C", "2D", "28", "31", "32", "81", "82", "83", "84", "89", "98", "99", NULL};
static const char *const c_classpat[] = {"1", "2", "3", "4", "5", "8", "9", NULL};
static const char *const c_sex[] = {"0", "1", "2", "9", "X", NULL};
static const char *const c_admincat[] = {"01", "02", "03", "04", "98", "99", "1", "2", "3", "4", NULL};
static const char *const c_dismeth[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", NULL};
static const char *const c_epitype[] = {"1", "2", "3", "4", "5", "6", NULL};
static const char *const c_epistat[] = {"1", "3", "9", NULL};
/* OP ATTENDED (HES OP TOS): 5/6 attended, 7 late not seen, 2/3 cancelled/DNA, 4 late, 0 not applicable, 9 not known */
static const char *const c_attended[] = {"0", "2", "3", "4", "5", "6", "7", "9", NULL};
static const char *const c_firstatt[] = {"1", "2", "3", "4", "5", "9", "X", NULL};
static const char *const c_arrmode[] = {"1", "2", "9", NULL};
static const char *const c_nhsno_status[] = {"valid", "missing", "malformed", "bad_check_digit", NULL};
static const char *const c_link_status[] = {"linked", "clerical", "review", "unlinked", NULL};
static const char *const c_amb_cat[] = {"C1", "C2", "C3", "C4", "HCP", NULL};
/* HES TOS TRETSPEF value list (apc.fields.json), "&" = not known. */
static const char *const c_spef[] = {"100", "101", "102", "103", "104", "105", "106", "107",
	"108", "109", "110", "111", "113", "115", "120", "130", "140", "141", "142", "143", "144",
	"145", "150", "160", "161", "170", "171", "172", "173", "174", "180", "190", "191", "192",
	"200", "211", "212", "213", "214", "215", "216", "217", "218", "219", "220", "221", "222",
	"223", "230", "240", "241", "242", "250", "251", "252", "253", "254", "255", "256", "257",
	"258", "259", "260", "261", "262", "263", "264", "270", "280", "290", "291", "300", "301",
	"302", "303", "304", "305", "306", "307", "308", "309", "310", "311", "313", "314", "315",
	"316", "317", "318", "319", "320", "321", "322", "323", "324", "325", "326", "327", "328",
	"329", "330", "331", "333", "335", "340", "341", "342", "343", "344", "345", "346", "347",
	"348", "350", "352", "360", "361", "370", "371", "400", "401", "410", "420", "421", "422",
	"424", "430", "431", "450", "451", "460", "461", "501", "502", "503", "504", "505", "560",
	"650", "651", "652", "653", "654", "655", "656", "657", "658", "659", "660", "661", "662",
	"663", "670", "673", "675", "677", "700", "710", "711", "712", "713", "715", "720", "721",
	"722", "723", "724", "725", "726", "727", "730", "800", "811", "812", "822", "834", "840",
	"920", "&",
	/* before 1 April 2004 treatment specialty was coded with the main
	 * specialty list: its codes not above (Artificial HES 2001/02 has them) */
	"146", "147", "148", "149", "199", "312", "499", "510", "520", "600", "601", "610", "620",
	"810", "820", "821", "823", "824", "830", "831", "832", "833", "900", "901", "902", "903",
	"904", "950", "960", "990", NULL};
/* HES TOS MAINSPEF value list (apc.fields.json), "&" = not known. */
static const char *const c_mainspef[] = {"100", "101", "107", "110", "120", "130", "140",
	"141", "142", "143", "145", "146", "147", "148", "149", "150", "160", "170", "171", "180",
	"190", "191", "192", "199", "200", "300", "301", "302", "303", "304", "305", "310", "311",
	"312", "313", "314", "315", "317", "320", "321", "325", "326", "330", "340", "350", "352",
	"360", "361", "370", "371", "400", "401", "410", "420", "421", "430", "450", "451", "460",
	"499", "501", "502", "504", "510", "520", "560", "600", "601", "610", "620", "700", "710",
	"711", "712", "713", "715", "800", "810", "820", "821", "822", "823", "824", "830", "831",
	"832", "833", "834", "900", "901", "902", "903", "904", "950", "960", "990", "&", NULL};
/* HES A&E AEATTENDDISP: 08 and 09 are not used. */
static const char *const c_aedisp[] = {"01", "02", "03", "04", "05", "06", "07", "10", "11",
	"12", "13", "14", "99", NULL};
/* Mental health care clusters 0-8, 10-21 (there is no cluster 9). */
static const char *const c_cluster[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "10",
	"11", "12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "00", "01", "02", "03",
	"04", "05", "06", "07", "08", NULL};
static const char *const c_hcp[] = {"GP", "NURSE", "OTHER", NULL};
static const char *const c_social[] = {"HOME_CARE", "RESIDENTIAL", "NURSING", NULL};
static const char *const c_yn[] = {"Y", "N", NULL};
/* Discharge delay reasons (SUS discharge ready date, grouped). */
static const char *const c_delay[] = {"NO_SERVICE", "ASSESSMENT", "RESIDENTIAL", "HOME", NULL};
/* Where a person discharged into reablement was 91 days later (ASCOF 2B(1)). */
static const char *const c_place91[] = {"HOME", "RESIDENTIAL", "NURSING", "HOSPITAL", "DIED",
	"UNKNOWN", NULL};
static const char *const c_placement[] = {"PERMANENT", "TEMPORARY", NULL};
/* Care and support plans. */
static const char *const c_item_type[] = {"PLAN", "GOAL", "ACTION", "NEED", "CONSENT", NULL};
static const char *const c_coordinator[] = {"GP", "PRACTICE_NURSE", "COMMUNITY_MATRON",
	"CARE_COORDINATOR", "SOCIAL_WORKER", NULL};
static const char *const c_domain[] = {"CLINICAL", "CARE", "WELLBEING", NULL};
static const char *const c_item_status[] = {"NOT_STARTED", "IN_PROGRESS", "ACHIEVED", "ABANDONED",
	"OPEN", "DONE", "MET", "PARTLY", "UNMET", NULL};
static const char *const c_action_kind[] = {"REFERRAL_COMMUNITY", "REFERRAL_SOCIAL_CARE",
	"REFERRAL_MENTAL_HEALTH", "SOCIAL_PRESCRIBING", "VOLUNTARY_SECTOR", "MEDICATION_REVIEW",
	"SELF_MANAGEMENT", "TELEHEALTH", NULL};
static const char *const c_need[] = {"MOBILITY", "FALLS", "PERSONAL_CARE", "MEDICATION",
	"LONELINESS", "CARER_SUPPORT", "HOUSING", "FINANCE", "MENTAL_HEALTH", "TRANSPORT", NULL};
static const char *const c_unmet[] = {"NO_SERVICE", "WAITING_LIST", "DECLINED", "NOT_ELIGIBLE",
	"COST", NULL};
static const char *const c_consent[] = {"DIRECT_CARE", "SHARE_SOCIAL_CARE", "SHARE_VOLUNTARY",
	"RESEARCH", NULL};
static const char *const c_pam_level[] = {"1", "2", "3", "4", NULL};

/* HES writes fixed-width fields padded with spaces ("-   "): the padding is format. */
static size_t unpad(const char *v, size_t n)
{
	while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	return n;
}

/*
** ICD-10 four-character code as HES writes it: a letter, two digits, then a
** digit or X ("I10X", "E119"); "-" (none) or "&" (not known), padded or not.
** Chapter U (codes for special purposes) is accepted only for U07 (COVID-19)
** and U09.
*/
static int icd10_ok(const char *v, size_t n)
{
	n = unpad(v, n);
	if (n == 1 && (v[0] == '-' || v[0] == '&'))
		return 1;
	if (n < 3 || n > 4 || v[0] < 'A' || v[0] > 'Z' || v[1] < '0' || v[1] > '9' ||
	    v[2] < '0' || v[2] > '9')
		return 0;
	if (n == 4 && !((v[3] >= '0' && v[3] <= '9') || v[3] == 'X'))
		return 0;
	if (v[0] == 'U' && !(v[1] == '0' && (v[2] == '7' || v[2] == '9')))
		return 0;
	return 1;
}

/* OPCS-4 four-character code ("W371"), or "-" (no operation) / "&" (not known), padded or not. */
static int opcs4_ok(const char *v, size_t n)
{
	n = unpad(v, n);
	if (n == 1 && (v[0] == '-' || v[0] == '&'))
		return 1;
	if (n != 4 || v[0] < 'A' || v[0] > 'Z' || v[0] == 'I')
		return 0;
	for (size_t i = 1; i < 4; i++)
		if (v[i] < '0' || v[i] > '9')
			return 0;
	return 1;
}

/* ODS GP practice code: a letter then five digits, not all zero ("P81001"). */
static int practice_ok(const char *v, size_t n)
{
	if (n != 6 || v[0] < 'A' || v[0] > 'Z')
		return 0;
	int nonzero = 0;
	for (size_t i = 1; i < 6; i++) {
		if (v[i] < '0' || v[i] > '9')
			return 0;
		nonzero |= v[i] != '0';
	}
	return nonzero;
}

/*
** Patient Activation Measure score: 0.0 to 100.0, digits with at most one
** decimal ("63", "63.4"). Anything else, a score above 100 included, is not
** a score: the row goes to quarantine.
*/
static int pam_score_ok(const char *v, size_t n)
{
	size_t i = 0;
	int whole = 0, nd = 0;
	while (i < n && v[i] >= '0' && v[i] <= '9' && nd < 4) {
		whole = whole * 10 + (v[i++] - '0');
		nd++;
	}
	if (!nd || nd > 3)
		return 0;
	int tenth = 0;
	if (i < n && v[i] == '.') {
		if (i + 2 != n || v[i + 1] < '0' || v[i + 1] > '9')
			return 0;
		tenth = v[i + 1] - '0';
		i += 2;
	}
	return i == n && whole * 10 + tenth <= 1000;
}

/* A practice code in an activity feed, or HES "&": not known (derived in HES where no code was submitted). */
static int practice_or_unknown_ok(const char *v, size_t n)
{
	n = unpad(v, n);
	return (n == 1 && v[0] == '&') || practice_ok(v, n);
}

static const char *const a_pseudo[] = {"PSEUDO_HESID", "Token_Person_ID", NULL};
static const char *const a_gpprac[] = {"PRACTICE", "PRACTICE_CODE", "GP_PRACTICE", NULL};
static const char *const a_lsoa[] = {"LSOA", "LSOA21", "LSOA_CODE", NULL};
static const char *const a_procode[] = {"PROCODE", "PROCODE5", "PROVIDER", "PROVIDER_CODE", NULL};
static const char *const a_cost[] = {"COST_GBP", "PRICE", "TARIFF", "CHARGE", NULL};
static const char *const a_hrg[] = {"HRG", "HRG_CODE", "HRGNHS", NULL};
static const char *const a_currency[] = {"CURRENCY", NULL};

#define F_PERSON {"PSEUDO_ID", a_pseudo, YOC_FT_PSEUDO, 0, NULL, YOC_BAD_NULL, YOC_ROLE_PERSON, \
	"person pseudonym (64 lowercase hex HMAC) or HES PSEUDO_HESID; empty when the NHS number was not valid", NULL}
/* NHS number status, and how yoc link found the person at source (docs/linkage.md) */
#define F_STATUS {"NHSNO_STATUS", NULL, YOC_FT_CODE, 0, c_nhsno_status, YOC_BAD_KEEP, YOC_ROLE_NHSNO_STATUS, \
	"NHS number status set by yoc pseudonymise", NULL}, \
	{"LINK_STATUS", NULL, YOC_FT_CODE, 0, c_link_status, YOC_BAD_KEEP, 0, \
	 "set by yoc link: linked, clerical, review, unlinked; empty for the row's own NHS number", NULL}, \
	{"LINK_WEIGHT", NULL, YOC_FT_TEXT, 0, NULL, YOC_BAD_KEEP, 0, \
	 "set by yoc link: match weight of the linked or best candidate", NULL}
#define F_MYDOB {"MYDOB", NULL, YOC_FT_MYDOB, 0, NULL, YOC_BAD_NULL, 0, "month and year of birth MMYYYY", NULL}
#define F_SEX {"SEX", A("GENDER"), YOC_FT_CODE, 0, c_sex, YOC_BAD_NULL, 0, "sex (HES SEX)", NULL}
#define F_GPPRAC {"GPPRAC", a_gpprac, YOC_FT_CODE, 0, NULL, YOC_BAD_KEEP, 0, "GP practice code (ODS); & not known (HES)", practice_or_unknown_ok}
#define F_LSOA {"LSOA11", a_lsoa, YOC_FT_CODE, 0, NULL, YOC_BAD_KEEP, 0, "Lower Super Output Area of residence", NULL}
#define F_PROCODE {"PROCODE3", a_procode, YOC_FT_CODE, 0, NULL, YOC_BAD_KEEP, YOC_ROLE_PROVIDER, "provider code", NULL}
#define F_COST {"COST", a_cost, YOC_FT_MONEY, 0, NULL, YOC_BAD_NULL, YOC_ROLE_COST, "cost in pounds carried by the feed", NULL}
#define F_HRG {"SUSHRG", a_hrg, YOC_FT_CODE, 0, NULL, YOC_BAD_KEEP, 0, "HRG (checked against the NCC tariff by yoc quality)", NULL}
#define F_CURRENCY(doc) {"CURRENCY_CODE", a_currency, YOC_FT_CODE, 0, NULL, YOC_BAD_KEEP, 0, doc, NULL}
#define F_FYEAR {"FYEAR", NULL, YOC_FT_CODE, 0, NULL, YOC_BAD_KEEP, 0, "HES financial year (e.g. 2324)", NULL}
#define F_DATE(n, al, doc) {n, al, YOC_FT_DATE, 1, NULL, YOC_BAD_QUARANTINE, YOC_ROLE_DATE, doc, NULL}
#define F_ODATE(n, al, doc) {n, al, YOC_FT_DATE, 0, NULL, YOC_BAD_NULL, 0, doc, NULL}
#define F_CODE(n, al, set, doc) {n, al, YOC_FT_CODE, 0, set, YOC_BAD_KEEP, 0, doc, NULL}
#define F_CHECK(n, al, fn, doc) {n, al, YOC_FT_CODE, 0, NULL, YOC_BAD_KEEP, 0, doc, fn}
#define F_INT(n, al, doc) {n, al, YOC_FT_INT, 0, NULL, YOC_BAD_NULL, 0, doc, NULL}
#define F_MONEY(n, al, doc) {n, al, YOC_FT_MONEY, 0, NULL, YOC_BAD_NULL, 0, doc, NULL}
#define F_TEXT(n, al, doc) {n, al, YOC_FT_TEXT, 0, NULL, YOC_BAD_KEEP, 0, doc, NULL}
#define F_DIAG(n) F_CHECK(n, NULL, icd10_ok, "diagnosis, ICD-10 4 characters")
#define F_OPER(n) F_CHECK(n, NULL, opcs4_ok, "procedure, OPCS-4 4 characters")

/*
** Aliases include the names providers have been seen to rename a column to
** (DISDATE sent as DISCHARGE_DATE): the value still loads under its
** canonical name, and yoc quality reports the rename against the provider's
** usual header.
*/
static const struct yoc_field f_apc[] = {
	F_PERSON, F_STATUS, F_FYEAR,
	F_TEXT("EPIKEY", NULL, "episode record identifier"),
	F_TEXT("SUSSPELLID", NULL, "spell identifier"),
	F_DATE("EPISTART", NULL, "episode start date (activity date)"),
	F_ODATE("EPIEND", NULL, "episode end date"),
	F_ODATE("ADMIDATE", NULL, "admission date"),
	F_ODATE("DISDATE", A("DISCHARGE_DATE"), "discharge date"),
	F_CODE("ADMIMETH", NULL, c_admimeth, "method of admission"),
	F_CODE("ADMISORC", NULL, NULL, "source of admission"),
	F_CODE("DISDEST", NULL, NULL, "discharge destination"),
	F_CODE("CLASSPAT", NULL, c_classpat, "patient classification"),
	F_CODE("ADMINCAT", NULL, c_admincat, "administrative category"),
	F_CODE("DISMETH", NULL, c_dismeth, "method of discharge"),
	F_CODE("EPITYPE", NULL, c_epitype, "episode type"),
	F_CODE("EPISTAT", NULL, c_epistat, "episode status"),
	F_INT("EPIORDER", NULL, "episode order within the spell"),
	F_INT("EPIDUR", NULL, "episode duration, days"),
	F_INT("SPELDUR", NULL, "spell duration, days"),
	F_INT("STARTAGE", NULL, "age at episode start"),
	F_CODE("MAINSPEF", NULL, c_mainspef, "main specialty"),
	F_CODE("TRETSPEF", A("TREATMENT_SPECIALTY"), c_spef, "treatment specialty (HES list)"),
	F_DIAG("DIAG_4_01"), F_DIAG("DIAG_4_02"), F_DIAG("DIAG_4_03"), F_DIAG("DIAG_4_04"),
	F_DIAG("DIAG_4_05"), F_DIAG("DIAG_4_06"), F_DIAG("DIAG_4_07"), F_DIAG("DIAG_4_08"),
	F_DIAG("DIAG_4_09"), F_DIAG("DIAG_4_10"), F_DIAG("DIAG_4_11"), F_DIAG("DIAG_4_12"),
	F_DIAG("DIAG_4_13"), F_DIAG("DIAG_4_14"), F_DIAG("DIAG_4_15"), F_DIAG("DIAG_4_16"),
	F_DIAG("DIAG_4_17"), F_DIAG("DIAG_4_18"), F_DIAG("DIAG_4_19"), F_DIAG("DIAG_4_20"),
	F_OPER("OPERTN_4_01"), F_OPER("OPERTN_4_02"), F_OPER("OPERTN_4_03"), F_OPER("OPERTN_4_04"),
	F_HRG, F_COST, F_SEX, F_MYDOB, F_GPPRAC, F_LSOA, F_PROCODE,
	/* discharge (optional: older extracts do not have them) */
	F_ODATE("DISREADYDATE", A("DISCHARGE_READY_DATE"),
		"discharge ready date of the spell; empty for day cases and deaths"),
	F_CODE("RRR_NEED", NULL, c_yn, "discharge needed rehabilitation, recovery or reablement: Y, N"),
	F_CODE("DELAY_REASON", NULL, c_delay,
	       "why discharge came after DISREADYDATE: NO_SERVICE, ASSESSMENT, RESIDENTIAL, HOME"),
};

static const struct yoc_field f_op[] = {
	F_PERSON, F_STATUS, F_FYEAR,
	F_TEXT("ATTENDKEY", NULL, "attendance record identifier"),
	F_DATE("APPTDATE", NULL, "appointment date (activity date)"),
	F_CODE("ATTENDED", NULL, c_attended, "attended or did not attend"),
	F_CODE("FIRSTATT", NULL, c_firstatt, "first or follow-up attendance"),
	F_CODE("ADMINCAT", NULL, c_admincat, "administrative category"),
	F_CODE("MAINSPEF", NULL, c_mainspef, "main specialty"),
	F_CODE("TRETSPEF", A("TREATMENT_SPECIALTY"), c_spef, "treatment specialty (HES list)"),
	F_DIAG("DIAG_4_01"), F_OPER("OPERTN_4_01"),
	F_HRG, F_COST, F_SEX, F_MYDOB, F_GPPRAC, F_LSOA, F_PROCODE,
};

static const struct yoc_field f_ae[] = {
	F_PERSON, F_STATUS, F_FYEAR,
	F_TEXT("AEKEY", NULL, "attendance record identifier"),
	F_DATE("ARRIVALDATE", NULL, "arrival date (activity date)"),
	F_TEXT("ARRIVALTIME", NULL, "arrival time HH:MM"),
	F_CODE("AEARRIVALMODE", NULL, c_arrmode, "arrival mode"),
	F_CODE("AEATTENDCAT", NULL, NULL, "attendance category"),
	F_CODE("AEATTENDDISP", A("DISPOSAL"), c_aedisp, "attendance disposal (HES list)"),
	F_CODE("AEDEPTTYPE", NULL, NULL, "department type"),
	F_DIAG("DIAG_4_01"),
	F_HRG, F_COST, F_SEX, F_MYDOB, F_GPPRAC, F_LSOA, F_PROCODE,
};

static const struct yoc_field f_community[] = {
	F_PERSON, F_STATUS,
	F_TEXT("CONTACTKEY", NULL, "contact record identifier"),
	F_DATE("CONTACT_DATE", A("CONTACTDATE"), "contact date (activity date)"),
	F_CODE("SERVICE", A("SERVICE_TYPE", "TEAM_TYPE"), NULL, "community service"),
	F_CODE("CONTACT_TYPE", NULL, NULL, "contact type"),
	F_INT("DURATION_MIN", A("DURATION"), "contact duration, minutes"),
	F_CODE("ATTENDED", NULL, c_attended, "attended (5, 6) or not"),
	F_CURRENCY("NCC community currency (checked against the tariff by yoc quality)"),
	F_HRG, F_COST, F_SEX, F_MYDOB, F_GPPRAC, F_LSOA, F_PROCODE,
};

static const struct yoc_field f_mh[] = {
	F_PERSON, F_STATUS,
	F_TEXT("MHKEY", NULL, "record identifier"),
	F_CODE("RECORD_TYPE", NULL, A("CONTACT", "BEDDAYS"), "CONTACT or BEDDAYS"),
	F_DATE("CONTACT_DATE", A("CONTACTDATE"), "contact date (activity date)"),
	F_CODE("TEAM", A("SERVICE", "SERVICE_TYPE", "TEAM_TYPE"), NULL, "mental health team"),
	F_CODE("CLUSTER", A("CLUSTER_CODE", "MH_CLUSTER", "CARE_CLUSTER"), c_cluster, "care cluster 0-21"),
	F_CODE("ATTENDED", NULL, c_attended, "attended (5, 6) or not"),
	F_ODATE("SPELL_START", NULL, "inpatient spell start"),
	F_ODATE("SPELL_END", NULL, "inpatient spell end"),
	F_INT("BED_DAYS", NULL, "bed days in the month"),
	F_CURRENCY("NCC mental health currency (MHCC, IAPT, MHPS)"),
	F_HRG, F_COST, F_SEX, F_MYDOB, F_GPPRAC, F_LSOA, F_PROCODE,
};

static const struct yoc_field f_gp_appt[] = {
	F_PERSON, F_STATUS,
	F_TEXT("APPTKEY", NULL, "appointment identifier"),
	F_DATE("APPT_DATE", A("APPOINTMENT_DATE"), "appointment date (activity date)"),
	F_CODE("APPT_STATUS", A("STATUS"), NULL, "Attended, DNA, cancelled"),
	F_CODE("HCP_TYPE", A("CLINICIAN_TYPE", "STAFF_TYPE"), c_hcp, "type of clinician: GP, NURSE, OTHER"),
	F_CODE("APPT_MODE", A("MODE"), NULL, "face to face, telephone, video, home visit"),
	F_INT("DURATION_MIN", A("DURATION"), "appointment duration, minutes"),
	F_COST, F_SEX, F_MYDOB, F_GPPRAC, F_LSOA,
};

#define F_LTC(n) F_ODATE(n, NULL, "long-term condition register: date first on the register")
static const struct yoc_field f_gp_register[] = {
	F_PERSON, F_STATUS,
	{"GPPRAC", a_gpprac, YOC_FT_CODE, 1, NULL, YOC_BAD_KEEP, 0,
	 "GP practice code (required; a malformed code is kept and flagged)", practice_ok},
	F_DATE("REG_START", A("REGISTRATION_DATE", "REG_DATE"), "registration start date"),
	F_ODATE("REG_END", A("DEREG_DATE", "DEREGISTRATION_DATE"), "registration end date (empty while registered)"),
	F_SEX, F_MYDOB, F_LSOA,
	F_INT("IMD_DECILE", A("IMD19_DECILE", "IMD04_DECILE", "IMD"), "index of multiple deprivation decile 1-10"),
	/* Condition register flags (data/ltc_codelist.csv, column flag). */
	F_LTC("HYP"), F_LTC("DM"), F_LTC("CHD"), F_LTC("HF"), F_LTC("AF"), F_LTC("STIA"),
	F_LTC("COPD"), F_LTC("AST"), F_LTC("CKD"), F_LTC("CAN"), F_LTC("DEM"), F_LTC("DEP"),
	F_LTC("MH"), F_LTC("EP"), F_LTC("LD"), F_LTC("OST"), F_LTC("RA"), F_LTC("PAD"),
	F_LTC("PC"), F_LTC("THY"), F_LTC("ANX"), F_LTC("CLD"), F_LTC("PD"), F_LTC("MS"),
	F_LTC("ALC"),
};

static const struct yoc_field f_social_care[] = {
	F_PERSON, F_STATUS,
	F_TEXT("SERVICEKEY", NULL, "service record identifier"),
	F_CODE("SERVICE_TYPE", A("SERVICE"), c_social, "care package type: HOME_CARE, RESIDENTIAL, NURSING"),
	F_ODATE("PACKAGE_START", NULL, "care package start"),
	F_ODATE("PACKAGE_END", NULL, "care package end"),
	F_DATE("START_DATE", A("SERVICE_START", "ACTIVITY_DATE"), "start of the period billed (activity date)"),
	F_ODATE("END_DATE", A("SERVICE_END"), "end of the period billed"),
	F_INT("UNITS", A("HOURS"), "units delivered"),
	F_CODE("UNIT_TYPE", NULL, A("HOURS", "DAYS", "WEEKS"), "unit of UNITS"),
	F_MONEY("HOURLY_RATE", NULL, "rate per hour, pounds"),
	F_MONEY("WEEKLY_COST", A("WEEKLY_RATE"), "rate per week, pounds"),
	F_COST, F_SEX, F_MYDOB, F_GPPRAC, F_LSOA,
	F_TEXT("LA_CODE", A("LOCAL_AUTHORITY"), "local authority"),
	/* outcomes (optional: older extracts do not have them) */
	F_CODE("REABLEMENT", NULL, c_yn, "the package is reablement after a hospital discharge: Y, N"),
	F_ODATE("HOSP_DISCHARGE", NULL, "reablement: the hospital discharge it followed"),
	F_CODE("PLACE_91D", NULL, c_place91,
	       "reablement: where the person was 91 days after HOSP_DISCHARGE (ASCOF 2B(1))"),
	F_CODE("PLACEMENT", NULL, c_placement, "residential or nursing: PERMANENT or TEMPORARY"),
};

static const struct yoc_field f_ambulance[] = {
	F_PERSON, F_STATUS,
	F_TEXT("INCIDENTKEY", NULL, "incident identifier"),
	F_DATE("INCIDENT_DATE", A("CALL_DATE"), "incident date (activity date)"),
	F_CODE("CATEGORY", A("CALL_CAT", "CALL_CATEGORY"), c_amb_cat, "response category"),
	F_CODE("OUTCOME", A("RESPONSE_OUTCOME", "DISPOSITION"), NULL, "hear and treat, see and treat, conveyed"),
	F_CURRENCY("NCC ambulance currency (checked against the tariff by yoc quality)"),
	F_CODE("CONVEYED_TO", NULL, NULL, "receiving provider"),
	F_HRG, F_COST, F_SEX, F_MYDOB, F_GPPRAC, F_LSOA, F_PROCODE,
};

static const struct yoc_field f_deaths[] = {
	F_PERSON, F_STATUS,
	F_DATE("DOD", A("DATE_OF_DEATH", "REG_DATE_OF_DEATH", "DEATH_DATE"), "date of death"),
	F_ODATE("DOR", A("DATE_OF_REGISTRATION"), "date the death was registered"),
	F_CHECK("CAUSE", A("CAUSE_CODE", "UNDERLYING_CAUSE", "CAUSE_OF_DEATH"), icd10_ok, "underlying cause, ICD-10"),
	F_CODE("PLACE", A("PLACE_OF_DEATH", "POD"), NULL, "place of death"),
	F_SEX, F_MYDOB, F_GPPRAC, F_LSOA,
};

/* One row per plan item; PLAN rows carry the plan's dates. Not activity. */
static const struct yoc_field f_careplan[] = {
	F_PERSON, F_STATUS,
	F_GPPRAC,
	F_TEXT("PLAN_ID", NULL, "care and support plan identifier"),
	F_CODE("ITEM_TYPE", NULL, c_item_type, "PLAN, GOAL, ACTION, NEED, CONSENT"),
	F_TEXT("ITEM_ID", NULL, "plan item identifier"),
	F_DATE("RECORD_DATE", NULL, "date the row describes (activity date)"),
	F_ODATE("CREATED", NULL, "PLAN: plan created"),
	F_ODATE("LAST_REVIEW", NULL, "PLAN: last review"),
	F_ODATE("NEXT_REVIEW", NULL, "PLAN: next review due"),
	F_CODE("COORDINATOR", NULL, c_coordinator, "PLAN: care coordinator role"),
	F_CODE("DOMAIN", NULL, c_domain, "GOAL: CLINICAL, CARE, WELLBEING"),
	F_CODE("STATUS", NULL, c_item_status, "GOAL, ACTION or NEED status"),
	F_CODE("ACTION_KIND", NULL, c_action_kind, "ACTION: referral, prescribing or support"),
	F_CODE("NEED", NULL, c_need, "NEED: the need recorded"),
	F_CODE("UNMET_REASON", NULL, c_unmet, "NEED partly met or unmet: why"),
	F_CODE("CONSENT_PURPOSE", NULL, c_consent, "CONSENT: what the person consented to"),
	F_SEX, F_MYDOB, F_LSOA,
};

/* Patient Activation Measure results. Not activity. */
static const struct yoc_field f_pam[] = {
	F_PERSON, F_STATUS,
	F_GPPRAC,
	F_TEXT("PAM_ID", NULL, "measurement identifier"),
	F_DATE("PAM_DATE", NULL, "date measured (activity date)"),
	{"PAM_SCORE", NULL, YOC_FT_TEXT, 0, NULL, YOC_BAD_QUARANTINE, 0,
	 "activation score 0.0-100.0, one decimal (out of range: row quarantined)", pam_score_ok},
	F_CODE("PAM_LEVEL", NULL, c_pam_level, "activation level 1-4 (checked against the score by yoc quality)"),
	F_SEX, F_MYDOB, F_LSOA,
};

/* Signatures use columns no provider renames: record keys and activity dates. */
#define K(id, nm, title, sig, f) {id, nm, title, sig, f, sizeof(f) / sizeof(f[0])}
static const struct yoc_kind_spec kinds[YOC_KIND_COUNT] = {
	K(YOC_KIND_APC, "apc", "Admitted patient care (HES APC)", A("EPISTART"), f_apc),
	K(YOC_KIND_OP, "op", "Outpatients (HES OP)", A("APPTDATE"), f_op),
	K(YOC_KIND_AE, "ae", "Accident and emergency (HES A&E / ECDS)", A("ARRIVALDATE"), f_ae),
	K(YOC_KIND_COMMUNITY, "community", "Community services (CSDS)", A("CONTACT_DATE", "CONTACTKEY"), f_community),
	K(YOC_KIND_MH, "mh", "Mental health services (MHSDS)", A("CONTACT_DATE", "MHKEY"), f_mh),
	K(YOC_KIND_GP_APPT, "gp_appt", "GP appointments", A("APPT_DATE"), f_gp_appt),
	K(YOC_KIND_GP_REGISTER, "gp_register", "GP registered population", A("REG_START"), f_gp_register),
	K(YOC_KIND_SOCIAL_CARE, "social_care", "Adult social care", A("START_DATE", "SERVICE_TYPE"), f_social_care),
	K(YOC_KIND_AMBULANCE, "ambulance", "Ambulance incidents", A("INCIDENT_DATE"), f_ambulance),
	K(YOC_KIND_DEATHS, "deaths", "Deaths (civil registration)", A("DOD"), f_deaths),
	K(YOC_KIND_CAREPLAN, "careplan", "Care and support plans (GP systems)", A("PLAN_ID", "ITEM_ID"), f_careplan),
	K(YOC_KIND_PAM, "pam", "Patient Activation Measure", A("PAM_ID", "PAM_DATE"), f_pam),
};

const struct yoc_kind_spec *yoc_spec_kind(int kind)
{
	if (kind < 0 || kind >= YOC_KIND_COUNT)
		return NULL;
	return &kinds[kind];
}

int yoc_spec_kind_by_name(const char *name)
{
	for (int k = 0; k < YOC_KIND_COUNT; k++)
		if (strcmp(kinds[k].name, name) == 0)
			return k;
	return -1;
}

const char *yoc_spec_kind_name(int kind)
{
	const struct yoc_kind_spec *k = yoc_spec_kind(kind);
	return k ? k->name : "unknown";
}

int yoc_spec_kind_activity(int kind)
{
	return kind >= 0 && kind < YOC_KIND_COUNT && kind != YOC_KIND_GP_REGISTER &&
	       kind != YOC_KIND_DEATHS && kind != YOC_KIND_CAREPLAN && kind != YOC_KIND_PAM;
}

/* z (NUL-terminated) equals the n bytes at p; stops at the first difference,
 * as most compares are against a list of codes that differ early. */
static int eqn(const char *z, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!z[i] || z[i] != p[i])
			return 0;
	return z[n] == 0;
}

int yoc_spec_name_char(int c)
{
	if (c >= 'a' && c <= 'z')
		return c - 32;
	if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return c;
	return 0;
}

int yoc_spec_name_eq(const char *z, const char *p, size_t n)
{
	size_t i = 0;
	for (;;) {
		while (*z && !yoc_spec_name_char((unsigned char)*z))
			z++;
		while (i < n && !yoc_spec_name_char((unsigned char)p[i]))
			i++;
		if (!*z || i == n)
			return !*z && i == n;
		if (yoc_spec_name_char((unsigned char)*z) != yoc_spec_name_char((unsigned char)p[i]))
			return 0;
		z++;
		i++;
	}
}

static const char *field_matches(const struct yoc_field *f, const char *p, size_t n)
{
	if (yoc_spec_name_eq(f->name, p, n))
		return f->name;
	for (const char *const *a = f->aliases; a && *a; a++)
		if (yoc_spec_name_eq(*a, p, n))
			return *a;
	return NULL;
}

const struct yoc_field *yoc_spec_match(const struct yoc_kind_spec *k, const char *name,
				       size_t n, const char **spelling)
{
	for (size_t i = 0; i < k->nfields; i++) {
		const char *sp = field_matches(&k->fields[i], name, n);
		if (sp) {
			if (spelling)
				*spelling = sp;
			return &k->fields[i];
		}
	}
	return NULL;
}

const struct yoc_field *yoc_spec_field(const struct yoc_kind_spec *k, const char *name,
				       size_t n)
{
	return yoc_spec_match(k, name, n, NULL);
}

/*
** A signature column counts when the header has it under its name or an
** alias: spelled exactly (exact = 1), or the same once normalised. Exact
** spellings are tried first, since two kinds' signatures can be the same
** name normalised (OP's APPTDATE, GP appointments' APPT_DATE).
*/
static int same_name(const char *z, const char *p, size_t n, int exact)
{
	return exact ? eqn(z, p, n) : yoc_spec_name_eq(z, p, n);
}

static int header_has(const struct yoc_kind_spec *k, const char *sig,
		      const struct yoc_cell *hdr, size_t n, int exact)
{
	const struct yoc_field *f = NULL;
	for (size_t i = 0; i < k->nfields && !f; i++)
		if (strcmp(k->fields[i].name, sig) == 0)
			f = &k->fields[i];
	for (size_t i = 0; i < n; i++) {
		if (same_name(sig, hdr[i].p, hdr[i].n, exact))
			return 1;
		for (const char *const *a = f ? f->aliases : NULL; a && *a; a++)
			if (same_name(*a, hdr[i].p, hdr[i].n, exact))
				return 1;
	}
	return 0;
}

static int detect(const struct yoc_cell *hdr, size_t n, int exact)
{
	int best = -1, best_len = 0, tie = 0;
	for (int k = 0; k < YOC_KIND_COUNT; k++) {
		int len = 0, all = 1;
		for (const char *const *s = kinds[k].signature; *s; s++, len++)
			if (!header_has(&kinds[k], *s, hdr, n, exact))
				all = 0;
		if (!all)
			continue;
		if (len > best_len) {
			best = k;
			best_len = len;
			tie = 0;
		} else if (len == best_len) {
			tie = 1;
		}
	}
	return tie ? -1 : best;
}

int yoc_spec_kind_from_path(const char *path)
{
	const char *end = strrchr(path, '/');
	if (!end)
		return -1;
	const char *b = end;
	while (b > path && b[-1] != '/')
		b--;
	for (int k = 0; k < YOC_KIND_COUNT; k++)
		if (strlen(kinds[k].name) == (size_t)(end - b) &&
		    memcmp(kinds[k].name, b, (size_t)(end - b)) == 0)
			return k;
	return -1;
}

int yoc_spec_detect(const struct yoc_cell *hdr, size_t n)
{
	int k = detect(hdr, n, 1);
	return k >= 0 ? k : detect(hdr, n, 0);
}

int yoc_spec_code_ok(const char *const *codes, const char *v, size_t n)
{
	if (!codes)
		return 1;
	for (; *codes; codes++)
		if (eqn(*codes, v, n))
			return 1;
	return 0;
}

int yoc_spec_pseudo_ok(const char *v, size_t n)
{
	if (n != 64)
		return 0;
	/*
	 * Eight bytes at a time (every row's pseudonym passes here twice): with
	 * each byte's top bit set, subtracting c from all eight leaves the top
	 * bit set where the byte was >= c, with no borrow between bytes.
	 */
	const uint64_t H = 0x8080808080808080ULL, L = 0x0101010101010101ULL;
	uint64_t bad = 0;
	for (size_t i = 0; i < 64; i += 8) {
		uint64_t w, t;
		memcpy(&w, v + i, 8);
		t = w | H;
		uint64_t digit = ((t - '0' * L) & ~(t - ':' * L)) & H;
		uint64_t lower = ((t - 'a' * L) & ~(t - 'g' * L)) & H;
		bad |= (w & H) | ((digit | lower) ^ H);
	}
	return bad == 0;
}

const char *yoc_ftype_name(int type)
{
	static const char *const names[] = {"text", "code", "date", "integer", "money",
		"pseudonym", "month-year"};
	return type >= 0 && type <= YOC_FT_MYDOB ? names[type] : "?";
}

const char *yoc_onbad_name(int onbad)
{
	static const char *const names[] = {"quarantine row", "set null, flag", "keep, flag"};
	return onbad >= 0 && onbad <= YOC_BAD_KEEP ? names[onbad] : "?";
}
