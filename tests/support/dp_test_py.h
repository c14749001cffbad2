/* dp_test_py.h: helpers for tests that compare with the numpy oracle (tests/oracle/oracle.py).
 *
 * Data go to python as raw little-endian float64 files in the test's temporary directory
 * (dp_test_py_write / dp_test_py_read); dp_test_py_run runs a script body with numpy imported as
 * np, the oracle as O, and rd(name, shape) / wr(name, array) defined. Every failure ends the test
 * through the harness. dp_test_copula gives the exact empirical copula the oracle uses.
 * Thread safety: none (tests are single-threaded processes).
 */
#ifndef DP_TEST_PY_H
#define DP_TEST_PY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* /usr/bin/python3 with numpy and scipy importable (tests DP_SKIP otherwise). */
bool dp_test_py_have_numpy(void);
void dp_test_py_write(const char *name, const double *x, size_t n);
void dp_test_py_read(const char *name, double *x, size_t n);
void dp_test_py_run(const char *body);
/* Exact empirical marginal model of one column: average ranks R over the finite values,
 * z = Phi^-1(R/(n+1)) (normal scores; the oracle's normal_scores), u = R/n (RDC copula);
 * NaN stays NaN. z or u may be NULL. */
void dp_test_copula(const double *x, int64_t n, double *z, double *u);

#endif
