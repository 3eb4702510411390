/*
** yoc_synth_run: builds the world, then makes, writes and forgets one person
** at a time (so memory does not grow with the population), flushing row
** buffers when they pass the budget, and finishes with the file defects,
** contracts and manifest. Only this file drives progress display.
*/
#include "synth/synth_int.h"

void yoc_synth_opts_init(struct yoc_synth_opts *o)
{
	memset(o, 0, sizeof *o);
	o->persons = 100000;
	o->years = 3;
	o->first_year = 2021;
	o->seed = 1;
	o->defect_rate = 1.0;
	o->data_dir = "data";
}

int yoc_synth_run(const struct yoc_synth_opts *o, struct yoc_synth_stats *st,
		  struct yoc_error *e)
{
	int rc;
	struct world w;
	struct person *p = NULL;
	struct truth_acc *t = NULL;
	struct yoc_progress pg;
	int opened = 0;
	double t0 = yoc_now();
	if (st)
		memset(st, 0, sizeof *st);
	if (!o->out_dir || !*o->out_dir)
		return yoc_error_set(e, YOC_EINVAL, NULL, 0, 0, "no output folder");
	if ((rc = synth_world_init(&w, o, e)) != 0)
		goto cleanup;
	if ((rc = synth_emit_init(&w, e)) != 0)
		goto cleanup;
	if (o->pilot && (rc = synth_pilot_init(&w, e)) != 0)
		goto cleanup;
	p = yoc_malloc(sizeof *p);
	t = yoc_malloc(sizeof *t);
	if (!p || !t) {
		rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory");
		goto cleanup;
	}
	if ((rc = synth_out_open(&w, e)) != 0)
		goto cleanup;
	opened = 1;
	if (o->identifiers && (rc = synth_idnoise_open(&w, e)) != 0)
		goto cleanup;
	memset(&pg, 0, sizeof pg);
	if (o->progress) {
		yoc_progress_start(&pg, "synth", w.ntotal);
		pg.unit = "persons";
	}
	for (uint64_t idx = 0; idx < w.ntotal; idx++) {
		if ((idx & 4095) == 0 && o->progress)
			yoc_progress_update(&pg, idx);
		if (!synth_person_make(&w, p, idx))
			continue;
		if ((rc = synth_person_activity(&w, p, t)) != 0) {
			yoc_error_set(e, rc, NULL, 0, 0, "person %llu: %s", (unsigned long long)idx,
				      rc == YOC_ENOMEM ? "out of memory" : "too many hospital episodes");
			goto cleanup;
		}
		if (w.oom) {
			rc = yoc_error_set(e, YOC_ENOMEM, NULL, 0, 0, "out of memory for row buffers");
			goto cleanup;
		}
		if ((rc = synth_truth_write(&w, p, t, e)) != 0)
			goto cleanup;
		if (w.buffered > w.budget && (rc = synth_out_flush(&w, 0, e)) != 0)
			goto cleanup;
	}
	if (o->progress)
		yoc_progress_end(&pg);
	if ((rc = synth_out_finish(&w, st, e)) != 0)
		goto cleanup;
	opened = 0;
	if ((rc = synth_idnoise_finish(&w, e)) != 0)
		goto cleanup;
	if ((rc = synth_billing_write(&w, e)) != 0)
		goto cleanup;
	if (st)
		st->seconds = yoc_now() - t0;
cleanup:
	if (opened)
		synth_out_abort(&w);
	synth_idnoise_abort(&w);
	yoc_free(p);
	yoc_free(t);
	synth_world_free(&w);
	return rc;
}
