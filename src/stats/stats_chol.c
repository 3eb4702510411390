/*
** Cholesky factorisation of a symmetric positive semi-definite matrix, with
** aliased (constant or collinear) columns detected by a threshold on each
** pivot, and the solve and inverse built on it. Used by the IRLS in
** stats_logit.c to solve the normal equations X'WX b = X'Wz; p is small
** (up to a few hundred), so the loops are the textbook ones.
**
** A pivot d_j = A_jj - sum_k L_jk^2 is the squared (weighted) norm of the
** part of column j that the earlier kept columns do not explain, and A_jj is
** its whole squared norm: d_j <= tol * A_jj is R's QR test
** |r_jj| < tol |x_j| on squares. Nothing here allocates.
*/
#include <math.h>
#include <float.h>

#include "stats/stats.h"

int yoc_chol_factor(double *a, int p, double tol, unsigned char *aliased)
{
	int nalias = 0;
	for (int j = 0; j < p; j++) {
		double *lj = a + (size_t)j * p;
		double ajj = lj[j];
		double d = ajj;
		for (int k = 0; k < j; k++)
			d -= lj[k] * lj[k];
		/* A clearly negative pivot is not rounding: the matrix is not
		 * positive semi-definite, and no column choice mends that. */
		if (ajj < 0 || d < -sqrt(DBL_EPSILON) * ajj)
			return YOC_EDATA;
		aliased[j] = d <= tol * ajj;
		if (aliased[j]) {
			nalias++;
			for (int k = 0; k <= j; k++)
				lj[k] = 0;
			for (int i = j + 1; i < p; i++)
				a[(size_t)i * p + j] = 0;
			continue;
		}
		lj[j] = sqrt(d);
		for (int i = j + 1; i < p; i++) {
			double *li = a + (size_t)i * p;
			double s = li[j];
			for (int k = 0; k < j; k++)
				s -= li[k] * lj[k];
			li[j] = s / lj[j];
		}
	}
	for (int i = 0; i < p; i++)
		for (int k = i + 1; k < p; k++)
			a[(size_t)i * p + k] = 0;
	return nalias;
}

void yoc_chol_solve(const double *l, int p, const unsigned char *aliased, double *b)
{
	/* forward: L y = b */
	for (int i = 0; i < p; i++) {
		const double *li = l + (size_t)i * p;
		if (aliased[i]) {
			b[i] = 0;
			continue;
		}
		double s = b[i];
		for (int k = 0; k < i; k++)
			s -= li[k] * b[k];
		b[i] = s / li[i];
	}
	/* backward: L' x = y */
	for (int i = p - 1; i >= 0; i--) {
		if (aliased[i])
			continue;
		double s = b[i];
		for (int k = i + 1; k < p; k++)
			s -= l[(size_t)k * p + i] * b[k];
		b[i] = s / l[(size_t)i * p + i];
	}
}

void yoc_chol_inverse(const double *l, int p, const unsigned char *aliased,
		      double *inv, double *work)
{
	for (int j = 0; j < p; j++) {
		for (int i = 0; i < p; i++)
			work[i] = i == j && !aliased[j];
		yoc_chol_solve(l, p, aliased, work);
		for (int i = 0; i < p; i++)
			inv[(size_t)i * p + j] = work[i];
	}
}
