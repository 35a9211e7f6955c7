/* Comparison of two float arrays relative to the larger one's scale. */
#ifndef SFR_TESTS_FLOAT_COMPARE_H
#define SFR_TESTS_FLOAT_COMPARE_H

#include <check.h>
#include <math.h>
#include <stdint.h>

/* max |got - want| <= tol * max |want|, and want is not all zero (a
 * comparison of zeros would prove nothing). */
static inline void assert_floats_close(const float *got, const float *want, int64_t n, double tol)
{
    double worst = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        worst = fmax(worst, fabs((double)got[i] - want[i]));
        scale = fmax(scale, fabs((double)want[i]));
    }
    ck_assert(scale > 0);
    ck_assert_msg(worst <= tol * scale, "off by %g (scale %g)", worst, scale);
}

#endif /* SFR_TESTS_FLOAT_COMPARE_H */
