/*
** The cell-key method (docs/server.md): each person carries a fixed key
** 0-255, a cell's key is the sum of its people's keys mod 256, and the noise
** added to a count comes from a perturbation table indexed by the cell key
** and the count. The same people always give the same noise, whichever rule
** selected them, so repeating a query teaches nothing; two groups that
** differ by one person have unrelated cell keys, so differencing their
** published counts does not give the difference. Then the report's rules
** apply: 1..7 hidden, others rounded to 5 (src/sdc).
**
** The table: a base column of 256 noise values, 26 of -2, 51 of -1, 102 of
** 0, 51 of +1 and 26 of +2 (mean 0, variance 310/256 = 1.21), read at row
** (ckey + 167 * n) mod 256 for a count n, and raised where needed so that a
** count of 1 or more never becomes 0 (a zero stays a true zero).
*/
#include <string.h>

#include <sodium.h>

#include "sdc/sdc.h"
#include "server/server.h"

static int base_noise(unsigned r)
{
	if (r < 26)
		return -2;
	if (r < 77)
		return -1;
	if (r < 179)
		return 0;
	if (r < 230)
		return 1;
	return 2;
}

int yoc_cellkey_noise(unsigned ckey, int64_t n)
{
	if (n <= 0)
		return 0;
	unsigned r = (unsigned)((ckey + 167u * (uint64_t)n) & 255u);
	int d = base_noise(r);
	if (n + d < 1)
		d = (int)(1 - n);
	return d;
}

int64_t yoc_cellkey_publish(unsigned ckey, int64_t n)
{
	struct yoc_sdc s;
	yoc_sdc_init(&s);
	if (n <= 0)
		return 0;
	return yoc_sdc_one(&s, n + yoc_cellkey_noise(ckey & 255u, n));
}

unsigned yoc_cellkey_person(const unsigned char secret[32], const char *pseudo_id)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, secret, 32);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)pseudo_id, strlen(pseudo_id));
	crypto_auth_hmacsha256_final(&st, mac);
	return mac[0];
}
