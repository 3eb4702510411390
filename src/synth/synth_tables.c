/*
** The model's tables: long-term conditions (prevalence by age, clustering,
** deprivation and sex effects, mortality), reasons for emergency admission
** with their HRG ladders, planned procedures, the feed schemas and the
** defect catalogue. Data only. docs/synth.md explains every number here;
** every HRG is checked against data/ncc_2023_24.csv by the tests.
*/
#include "synth/synth_int.h"

/*
** Cumulative prevalence (% ever diagnosed) at ages 0, 10, ..., 100 for the
** reference person (average deprivation, latent factors 0, sex-neutral),
** shaped on QOF register prevalence by age in England.
*/
const struct cond_def synth_conds[NCOND] = {
	/* id                     prevalence by age 0..100 (%)                               male_or dep  factor   load  p_reg lag  death need  icd */
	{"hypertension",         {0, 0, 0.5f, 2, 6, 14, 28, 45, 58, 66, 70},                   1.15f, 0.30f, F_CARDIO, 0.6f, 0.92f, 60, 1.05f, 0.5f, {"I10X"}},
	{"diabetes",             {0, 0.2f, 0.5f, 1.5f, 3.5f, 7, 12, 17, 20, 20, 20},          1.35f, 0.70f, F_CARDIO, 0.6f, 0.97f, 30, 1.40f, 1.0f, {"E119", "E109", "E112", "E116"}},
	{"chd",                  {0, 0, 0, 0.13f, 0.65f, 1.95f, 4.55f, 8.45f, 13, 16.25f, 17.55f},                     1.80f, 0.60f, F_CARDIO, 0.8f, 0.95f, 30, 1.40f, 1.0f, {"I259", "I251", "I209"}},
	{"heart_failure",        {0, 0, 0, 0.055f, 0.165f, 0.385f, 0.99f, 2.2f, 4.95f, 8.25f, 9.9f},              1.35f, 0.60f, F_CARDIO, 0.9f, 0.85f, 45, 2.20f, 1.6f, {"I509", "I500", "I501"}},
	{"atrial_fibrillation",  {0, 0, 0, 0.1f, 0.3f, 0.8f, 2.5f, 7, 15, 22, 25},             1.35f, 0.05f, F_CARDIO, 0.5f, 0.90f, 30, 1.30f, 0.9f, {"I489", "I480", "I481"}},
	{"stroke_tia",           {0, 0, 0.05f, 0.2f, 0.5f, 1.2f, 3, 6, 11, 16, 18},            1.15f, 0.45f, F_CARDIO, 0.6f, 0.95f, 20, 1.50f, 1.1f, {"I693", "G459", "I639"}},
	{"copd",                 {0, 0, 0, 0.07f, 0.35f, 1.05f, 2.8f, 5.6f, 7.7f, 8.4f, 8.4f},                1.10f, 1.10f, F_RESP, 0.8f, 0.90f, 60, 1.80f, 1.4f, {"J449", "J440", "J441"}},
	{"asthma",               {0, 6, 9, 10, 10.5f, 11, 12, 13, 13, 13, 13},                 0.90f, 0.35f, F_RESP, 0.6f, 0.95f, 30, 1.05f, 0.7f, {"J459", "J450"}},
	{"ckd",                  {0, 0, 0, 0.1f, 0.5f, 1.5f, 4, 10, 22, 32, 35},               0.85f, 0.30f, F_CARDIO, 0.6f, 0.75f, 90, 1.40f, 1.0f, {"N183", "N184", "N185"}},
	{"cancer",               {0, 0.1f, 0.2f, 0.6f, 1.5f, 3, 6, 10, 15, 18, 19},            1.05f, 0.10f, F_GENERAL, 0.3f, 0.92f, 45, 2.50f, 1.5f, {"C349", "C189", "C509"}},
	{"dementia",             {0, 0, 0, 0, 0, 0.065f, 0.325f, 1.3f, 4.55f, 11.7f, 19.5f},                    0.85f, 0.25f, F_FRAIL, 0.8f, 0.80f, 180, 2.50f, 1.4f, {"F03X", "F009", "F019", "G309"}},
	{"depression",           {0, 0.3f, 5, 10, 14, 16, 17, 18, 19, 20, 20},                 0.55f, 0.60f, F_MENTAL, 0.8f, 0.90f, 30, 1.20f, 0.8f, {"F329", "F332", "F331"}},
	{"smi",                  {0, 0, 0.5f, 0.9f, 1.1f, 1.2f, 1.3f, 1.3f, 1.3f, 1.3f, 1.3f}, 1.20f, 0.90f, F_MENTAL, 0.7f, 0.95f, 30, 1.80f, 1.2f, {"F209", "F319", "F259"}},
	{"epilepsy",             {0, 0.4f, 0.7f, 0.8f, 0.9f, 0.9f, 1, 1.1f, 1.2f, 1.2f, 1.2f}, 1.15f, 0.45f, F_GENERAL, 0.3f, 0.95f, 30, 1.50f, 0.9f, {"G409", "G403"}},
	{"learning_disability",  {0.1f, 0.5f, 0.6f, 0.6f, 0.6f, 0.6f, 0.6f, 0.6f, 0.6f, 0.6f, 0.6f}, 1.50f, 0.45f, F_GENERAL, 0.2f, 0.90f, 60, 2.00f, 1.0f, {"F79X", "F71X", "F70X"}},
	{"osteoporosis",         {0, 0, 0, 0, 0.1f, 0.5f, 1.5f, 4, 8, 12, 13},                 0.25f, 0.15f, F_FRAIL, 0.6f, 0.80f, 60, 1.10f, 0.7f, {"M819", "M800"}},
	{"rheumatoid_arthritis", {0, 0, 0.05f, 0.2f, 0.4f, 0.7f, 1.1f, 1.5f, 1.8f, 2, 2},      0.40f, 0.30f, F_GENERAL, 0.4f, 0.92f, 60, 1.30f, 0.9f, {"M069", "M059"}},
	{"pad",                  {0, 0, 0, 0, 0.1f, 0.4f, 1.2f, 2.5f, 4, 5, 5},                1.60f, 0.80f, F_CARDIO, 0.8f, 0.85f, 60, 1.60f, 1.0f, {"I739", "I702"}},
	{"palliative",           {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},                            1.00f, 0.00f, F_GENERAL, 0.0f, 1.00f, 0, 1.00f, 1.5f, {"Z515"}},
	{"hypothyroidism",       {0, 0.1f, 0.5f, 1.5f, 2.5f, 3.5f, 5, 7, 9, 10, 10},           0.22f, 0.00f, F_GENERAL, 0.2f, 0.97f, 30, 1.00f, 0.4f, {"E039"}},
	{"anxiety",              {0, 0.3f, 2.5f, 4, 5, 5.5f, 6, 6, 6, 6, 6},                   0.55f, 0.45f, F_MENTAL, 0.8f, 0.75f, 45, 1.00f, 0.6f, {"F419", "F411"}},
	{"chronic_liver_disease", {0, 0, 0.05f, 0.2f, 0.4f, 0.8f, 1.2f, 1.5f, 1.6f, 1.6f, 1.6f}, 1.50f, 0.90f, F_MENTAL, 0.5f, 0.80f, 60, 2.50f, 1.3f, {"K746", "K703"}},
	{"parkinsons",           {0, 0, 0, 0, 0, 0.05f, 0.2f, 0.6f, 1.4f, 2.2f, 2.5f},         1.50f, 0.00f, F_FRAIL, 0.5f, 0.95f, 90, 1.80f, 1.2f, {"G20X"}},
	{"multiple_sclerosis",   {0, 0, 0.02f, 0.1f, 0.2f, 0.3f, 0.35f, 0.35f, 0.35f, 0.35f, 0.35f}, 0.40f, -0.10f, F_GENERAL, 0.2f, 0.95f, 90, 1.50f, 1.2f, {"G35X"}},
	{"alcohol_dependence",   {0, 0, 0.5f, 1.2f, 1.8f, 2.2f, 2.4f, 2.5f, 2.5f, 2.5f, 2.5f}, 2.20f, 1.00f, F_MENTAL, 0.7f, 0.70f, 60, 2.00f, 1.2f, {"F102", "F101"}},
};

#define L(...) {__VA_ARGS__}, (uint8_t)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *))

/* HRG ladders run from the most to the least complex (highest CC score first). */
const struct reason synth_reasons[NREASON] = {
	[R_PNEUMONIA] = {"J189", L("DZ11R", "DZ11S", "DZ11T", "DZ11U", "DZ11V"), 7.0f, 0.12f, "300", NULL},
	[R_LRTI] = {"J22X", L("DZ22M", "DZ22N", "DZ22P", "DZ22Q"), 5.0f, 0.25f, "300", NULL},
	[R_UTI] = {"N390", L("LA04N", "LA04P", "LA04Q", "LA04R", "LA04S"), 5.0f, 0.30f, "300", NULL},
	[R_CHEST_PAIN] = {"R074", L("EB12A", "EB12B", "EB12C"), 1.5f, 0.60f, "320", NULL},
	[R_CELLULITIS] = {"L031", L("JD07G", "JD07H", "JD07J", "JD07K"), 5.0f, 0.25f, "300", NULL},
	[R_SEPSIS] = {"A419", L("WJ06G", "WJ06H", "WJ06J"), 9.0f, 0.05f, "300", NULL},
	[R_AKI] = {"N179", L("LA07L", "LA07M", "LA07N", "LA07P"), 7.0f, 0.10f, "300", NULL},
	[R_GASTRO] = {"A099", L("FD01F", "FD01G", "FD01H", "FD01J"), 3.0f, 0.35f, "300", NULL},
	[R_SYNCOPE] = {"R55X", L("EB08A", "EB08B", "EB08C", "EB08D", "EB08E"), 3.0f, 0.45f, "300", NULL},
	[R_ABDO_PAIN] = {"R104", L("FD05B"), 2.0f, 0.55f, "100", NULL},
	[R_HIP_FRACTURE] = {"S720", L("HE11E", "HE11F", "HE11G", "HE11H"), 14.0f, 0.02f, "110", "W461"},
	[R_FALL_INJURY] = {"R296", L("HD26D", "HD26E", "HD26F", "HD26G"), 6.0f, 0.25f, "430", NULL},
	[R_HEADACHE] = {"R51X", L("AA31C", "AA31D", "AA31E"), 2.0f, 0.50f, "300", NULL},
	[R_POISONING] = {"T391", L("WH04D", "WH04E"), 1.5f, 0.50f, "300", NULL},
	[R_ANAEMIA] = {"D509", L("SA04G", "SA04H", "SA04J", "SA04K", "SA04L"), 3.0f, 0.40f, "300", NULL},
	[R_ELECTROLYTE] = {"E871", L("KC05J", "KC05K", "KC05L", "KC05M", "KC05N"), 6.0f, 0.15f, "300", NULL},
	[R_GI_BLEED] = {"K922", L("FD03F", "FD03G", "FD03H"), 5.0f, 0.15f, "301", NULL},
	[R_HF] = {"I509", L("EB03A", "EB03B", "EB03C", "EB03D", "EB03E"), 9.0f, 0.08f, "320", NULL},
	[R_COPD] = {"J441", L("DZ65F", "DZ65G", "DZ65H", "DZ65J", "DZ65K"), 6.0f, 0.20f, "340", NULL},
	[R_ASTHMA] = {"J459", L("DZ15N", "DZ15P", "DZ15Q", "DZ15R"), 2.5f, 0.40f, "340", NULL},
	[R_MI] = {"I214", L("EB10A", "EB10B", "EB10C", "EB10D", "EB10E"), 5.0f, 0.05f, "320", NULL},
	[R_AF] = {"I489", L("EB07A", "EB07B", "EB07C", "EB07D", "EB07E"), 3.0f, 0.35f, "320", NULL},
	[R_STROKE] = {"I639", L("AA35A", "AA35B", "AA35C", "AA35D", "AA35E", "AA35F"), 14.0f, 0.03f, "328", NULL},
	[R_TIA] = {"G459", L("AA29C", "AA29D", "AA29E", "AA29F"), 2.0f, 0.50f, "329", NULL},
	[R_DIABETES] = {"E111", L("KB02G", "KB02H", "KB02J", "KB02K"), 4.0f, 0.20f, "307", NULL},
	[R_SEIZURE] = {"G409", L("AA26C", "AA26D", "AA26E", "AA26F", "AA26G", "AA26H"), 2.5f, 0.40f, "400", NULL},
	[R_CANCER] = {"C349", L("DZ17S", "DZ17T", "DZ17U", "DZ17V"), 8.0f, 0.10f, "370", NULL},
	[R_CKD] = {"N185", L("LA08K", "LA08L", "LA08M", "LA08N", "LA08P"), 6.0f, 0.15f, "361", NULL},
	[R_LIVER] = {"K746", L("GC01E", "GC01F"), 8.0f, 0.10f, "306", NULL},
	[R_PAED_WHEEZE] = {"R062", L("PD12A", "PD12B", "PD12C"), 1.5f, 0.50f, "420", NULL},
	[R_PAED_URTI] = {"J069", L("PD11A", "PD11B", "PD11C"), 1.0f, 0.60f, "420", NULL},
	[R_PAED_INFECTION] = {"B349", L("PW17D", "PW17F", "PW17G"), 2.0f, 0.45f, "420", NULL},
	[R_PAED_LRT] = {"J219", L("PD14C", "PD14D", "PD14E", "PD14F"), 3.0f, 0.25f, "420", NULL},
};

/* Cancer admissions use the site's own HRG family (the reason above is lung). */
const char *const synth_cancer_colon[] = {"FD11G", "FD11H", "FD11J", "FD11K"};
const char *const synth_cancer_breast[] = {"JA12G", "JA12H", "JA12J", "JA12K", "JA12L"};

const struct procedure synth_procs[NPROC] = {
	[P_CATARACT] = {"H259", "C751", "130", "BZ34C", 1, 0, 55, 3.0f},
	[P_COLONOSCOPY] = {"K573", "H229", "301", "FE32Z", 1, 0, 40, 2.5f},
	[P_OGD] = {"K219", "G459", "301", "FE22Z", 1, 0, 30, 2.5f},
	[P_CYSTOSCOPY] = {"R31X", "M459", "101", "LB72A", 1, 0, 40, 1.5f},
	[P_SKIN] = {"D229", "S062", "330", "JC43C", 1, 0, 19, 1.5f},
	[P_HERNIA] = {"K409", "T202", "100", "FF62C", 1, 1, 19, 1.5f},
	[P_CHOLE] = {"K802", "J183", "100", "GA10K", 1, 1, 19, 1.2f},
	[P_HIP] = {"M161", "W371", "110", "HN12F", 0, 4, 50, 1.0f},
	[P_KNEE] = {"M171", "W401", "110", "HN22E", 0, 3, 50, 1.0f},
	[P_KNEE_MINOR] = {"M232", "W852", "110", "HN25A", 1, 0, 19, 1.0f},
	[P_CHEMO] = {"C349", "X352", "370", "SB97Z", 1, 0, 0, 0.0f},
};

const char *const synth_ae_hrg[12] = {
	"VB01Z", "VB02Z", "VB03Z", "VB04Z", "VB05Z", "VB06Z", "VB07Z", "VB08Z", "VB09Z",
	"VB10Z", "VB11Z", "VB99Z"
};

const char *const synth_setting_names[NSETTING] = {
	"elective", "nonelective", "daycase", "outpatient", "ae", "community", "mh", "gp",
	"social_care", "ambulance"
};

/* ---- feed schemas ------------------------------------------------------------ */

#define N(x) (int)(sizeof(x) / sizeof(x[0]))

static const struct colspec c_apc[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"PROCODE", CT_CODE, NULL}, {"EPIKEY", CT_KEY, NULL}, {"SUSSPELLID", CT_KEY, NULL},
	{"FYEAR", CT_CODE, NULL}, {"ADMIDATE", CT_DATE, NULL}, {"DISDATE", CT_DATE, NULL},
	{"EPISTART", CT_DATE, NULL}, {"EPIEND", CT_DATE, NULL}, {"EPIORDER", CT_CODE, NULL},
	{"ADMIMETH", CT_CODE, "2E"}, {"ADMISORC", CT_CODE, NULL}, {"DISDEST", CT_CODE, NULL},
	{"DISMETH", CT_CODE, NULL}, {"CLASSPAT", CT_CODE, NULL}, {"TRETSPEF", CT_CODE, "999"},
	{"DIAG_4_01", CT_CODE, "U999"}, {"DIAG_4_02", CT_CODE, NULL}, {"DIAG_4_03", CT_CODE, NULL},
	{"DIAG_4_04", CT_CODE, NULL}, {"DIAG_4_05", CT_CODE, NULL}, {"DIAG_4_06", CT_CODE, NULL},
	{"DIAG_4_07", CT_CODE, NULL}, {"DIAG_4_08", CT_CODE, NULL}, {"DIAG_4_09", CT_CODE, NULL},
	{"DIAG_4_10", CT_CODE, NULL}, {"DIAG_4_11", CT_CODE, NULL}, {"DIAG_4_12", CT_CODE, NULL},
	{"DIAG_4_13", CT_CODE, NULL}, {"DIAG_4_14", CT_CODE, NULL}, {"DIAG_4_15", CT_CODE, NULL},
	{"DIAG_4_16", CT_CODE, NULL}, {"DIAG_4_17", CT_CODE, NULL}, {"DIAG_4_18", CT_CODE, NULL},
	{"DIAG_4_19", CT_CODE, NULL}, {"DIAG_4_20", CT_CODE, NULL},
	{"OPERTN_4_01", CT_CODE, NULL}, {"OPERTN_4_02", CT_CODE, NULL},
	{"OPERTN_4_03", CT_CODE, NULL}, {"OPERTN_4_04", CT_CODE, NULL},
	{"SUSHRG", CT_CODE, "DZ11Z"}, {"GPPRAC", CT_CODE, NULL}, {"LSOA11", CT_CODE, NULL},
	/* discharge (synth_outcome.c): text to the row defects, which leave them be */
	{"DISREADYDATE", CT_TEXT, NULL}, {"RRR_NEED", CT_TEXT, NULL}, {"DELAY_REASON", CT_TEXT, NULL},
};

static const struct colspec c_op[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"PROCODE", CT_CODE, NULL}, {"ATTENDKEY", CT_KEY, NULL}, {"FYEAR", CT_CODE, NULL},
	{"APPTDATE", CT_DATE, NULL}, {"ATTENDED", CT_CODE, "8"}, {"FIRSTATT", CT_CODE, "7"},
	{"TRETSPEF", CT_CODE, "999"}, {"OPERTN_4_01", CT_CODE, NULL}, {"SUSHRG", CT_CODE, "WF01Z"},
	{"GPPRAC", CT_CODE, NULL}, {"LSOA11", CT_CODE, NULL},
};

static const struct colspec c_ae[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"PROCODE", CT_CODE, NULL}, {"AEKEY", CT_KEY, NULL}, {"FYEAR", CT_CODE, NULL},
	{"ARRIVALDATE", CT_DATE, NULL}, {"ARRIVALTIME", CT_TEXT, NULL},
	{"AEARRIVALMODE", CT_CODE, NULL}, {"AEATTENDCAT", CT_CODE, NULL},
	{"AEDEPTTYPE", CT_CODE, NULL}, {"AEATTENDDISP", CT_CODE, "09"}, {"SUSHRG", CT_CODE, "VB12Z"},
	{"GPPRAC", CT_CODE, NULL}, {"LSOA11", CT_CODE, NULL},
};

static const struct colspec c_community[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"PROCODE", CT_CODE, NULL}, {"CONTACTKEY", CT_KEY, NULL}, {"CONTACT_DATE", CT_DATE, NULL},
	{"SERVICE", CT_CODE, NULL}, {"CONTACT_TYPE", CT_CODE, NULL}, {"DURATION_MIN", CT_INT, NULL},
	{"ATTENDED", CT_CODE, NULL}, {"CURRENCY_CODE", CT_CODE, "N99AF"}, {"GPPRAC", CT_CODE, NULL},
};

static const struct colspec c_mh[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"PROCODE", CT_CODE, NULL}, {"MHKEY", CT_KEY, NULL}, {"RECORD_TYPE", CT_CODE, NULL},
	{"CONTACT_DATE", CT_DATE, NULL}, {"TEAM", CT_CODE, NULL}, {"CLUSTER", CT_CODE, "22"},
	{"ATTENDED", CT_CODE, NULL}, {"SPELL_START", CT_DATE, NULL}, {"SPELL_END", CT_DATE, NULL},
	{"BED_DAYS", CT_INT, NULL}, {"CURRENCY_CODE", CT_CODE, "MHXX"}, {"GPPRAC", CT_CODE, NULL},
};

static const struct colspec c_gp_appt[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"GPPRAC", CT_CODE, NULL}, {"APPTKEY", CT_KEY, NULL}, {"APPT_DATE", CT_DATE, NULL},
	{"HCP_TYPE", CT_CODE, "LOCUM"}, {"APPT_MODE", CT_CODE, NULL}, {"DURATION_MIN", CT_INT, NULL},
	{"APPT_STATUS", CT_CODE, NULL},
};

static const struct colspec c_social[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"LA_CODE", CT_CODE, NULL}, {"SERVICEKEY", CT_KEY, NULL}, {"SERVICE_TYPE", CT_CODE, "RESPITE"},
	{"PACKAGE_START", CT_DATE, NULL}, {"PACKAGE_END", CT_DATE, NULL}, {"START_DATE", CT_DATE, NULL},
	{"END_DATE", CT_DATE, NULL}, {"UNITS", CT_INT, NULL}, {"UNIT_TYPE", CT_CODE, NULL},
	{"HOURLY_RATE", CT_MONEY, NULL}, {"WEEKLY_COST", CT_MONEY, NULL}, {"COST", CT_MONEY, NULL},
	{"GPPRAC", CT_CODE, NULL},
	/* outcomes (synth_outcome.c) */
	{"REABLEMENT", CT_TEXT, NULL}, {"HOSP_DISCHARGE", CT_TEXT, NULL}, {"PLACE_91D", CT_TEXT, NULL},
	{"PLACEMENT", CT_TEXT, NULL},
};

static const struct colspec c_ambulance[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"PROCODE", CT_CODE, NULL}, {"INCIDENTKEY", CT_KEY, NULL}, {"INCIDENT_DATE", CT_DATE, NULL},
	{"CATEGORY", CT_CODE, "C5"}, {"OUTCOME", CT_CODE, NULL}, {"CURRENCY_CODE", CT_CODE, "05"},
	{"CONVEYED_TO", CT_CODE, NULL}, {"GPPRAC", CT_CODE, NULL},
};

static const struct colspec c_deaths[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"DOD", CT_DATE, NULL}, {"DOR", CT_DATE, NULL}, {"PLACE", CT_CODE, NULL},
	{"CAUSE", CT_CODE, "U999"}, {"GPPRAC", CT_CODE, NULL}, {"LSOA11", CT_CODE, NULL},
};

static const struct colspec c_careplan[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"GPPRAC", CT_CODE, NULL}, {"PLAN_ID", CT_KEY, NULL}, {"ITEM_TYPE", CT_CODE, NULL},
	{"ITEM_ID", CT_KEY, NULL}, {"RECORD_DATE", CT_DATE, NULL}, {"CREATED", CT_DATE, NULL},
	{"LAST_REVIEW", CT_DATE, NULL}, {"NEXT_REVIEW", CT_DATE, NULL}, {"COORDINATOR", CT_CODE, NULL},
	{"DOMAIN", CT_CODE, NULL}, {"STATUS", CT_CODE, NULL}, {"ACTION_KIND", CT_CODE, NULL},
	{"NEED", CT_CODE, NULL}, {"UNMET_REASON", CT_CODE, NULL}, {"CONSENT_PURPOSE", CT_CODE, NULL},
	{"LSOA11", CT_CODE, NULL},
};

static const struct colspec c_pam[] = {
	{"NEWNHSNO", CT_NHS, NULL}, {"DOB", CT_DATE, NULL}, {"SEX", CT_CODE, NULL},
	{"GPPRAC", CT_CODE, NULL}, {"PAM_ID", CT_KEY, NULL}, {"PAM_DATE", CT_DATE, NULL},
	{"PAM_SCORE", CT_TEXT, NULL}, {"PAM_LEVEL", CT_CODE, NULL}, {"LSOA11", CT_CODE, NULL},
};

/* gp_register's columns depend on the code list: synth_world.c builds them. */
const struct kindspec synth_kinds[K_COUNT] = {
	[K_APC] = {"apc", c_apc, N(c_apc), 0, 3, 8, "DISCHARGE_DATE", -1},
	[K_OP] = {"op", c_op, N(c_op), 0, 3, 9, "TREATMENT_SPECIALTY", -1},
	[K_AE] = {"ae", c_ae, N(c_ae), 0, 3, 11, "DISPOSAL", -1},
	[K_COMMUNITY] = {"community", c_community, N(c_community), 0, 3, 10, "CURRENCY", -1},
	[K_MH] = {"mh", c_mh, N(c_mh), 0, 3, 8, "CLUSTER_CODE", -1},
	[K_GP_APPT] = {"gp_appt", c_gp_appt, N(c_gp_appt), 0, 3, 6, "CLINICIAN_TYPE", -1},
	[K_SOCIAL] = {"social_care", c_social, N(c_social), 0, 3, 13, "WEEKLY_RATE", 14},
	[K_AMBULANCE] = {"ambulance", c_ambulance, N(c_ambulance), 0, 3, 6, "CALL_CAT", -1},
	[K_DEATHS] = {"deaths", c_deaths, N(c_deaths), 0, 5, 6, "CAUSE_CODE", -1},
	[K_REGISTER] = {"gp_register", NULL, 0, 1, 3, 5, "DEREG_DATE", -1},
	/* no file defects: the names below are never used */
	[K_CAREPLAN] = {"careplan", c_careplan, N(c_careplan), 0, 3, 7, "RECORDED", -1},
	[K_PAM] = {"pam", c_pam, N(c_pam), 0, 3, 5, "MEASURED", -1},
};

/* ---- defects ------------------------------------------------------------------- */

const char *const synth_defect_names[D_COUNT] = {
	"nhs_bad_check_digit", "nhs_missing", "date_wrong_format", "date_out_of_range",
	"date_in_future", "unknown_code", "duplicate_row", "stray_quote", "cost_mismatch",
	"truncated_last_line", "duplicate_file", "renamed_column"
};

/*
** Per-row rates at --defect-rate 1 (before each provider's quality factor,
** 0.3x to 3x). cost_mismatch applies only to feeds that carry a cost.
*/
const double synth_defect_rates[D_ROW_COUNT] = {
	0.0020, /* nhs_bad_check_digit */
	0.0040, /* nhs_missing */
	0.0020, /* date_wrong_format */
	0.0005, /* date_out_of_range */
	0.0005, /* date_in_future */
	0.0020, /* unknown_code */
	0.0030, /* duplicate_row */
	0.0003, /* stray_quote */
	0.0100, /* cost_mismatch */
};
