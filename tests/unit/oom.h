#ifndef PS_TESTS_UNIT_OOM_H
#define PS_TESTS_UNIT_OOM_H

#include <stdbool.h>

/*
 * Allocation failure injection for the unit tests linked with $(OOM_LDFLAGS)
 * (-Wl,--wrap=malloc,calloc,realloc): the library's objects are linked statically, so their
 * calls go through the wrappers below, while libc's own allocations (strdup, stdio) do not.
 *
 * oom_fail_at(n): the n-th wrapped allocation from now (0 = the next one) returns NULL, once;
 * the ones after it succeed again. oom_fail_at(-1) turns injection off. oom_hit() says whether
 * the armed failure happened. A test loops n = 0, 1, ... until the code under test no longer
 * hits it: every allocation on the path then failed once, and valgrind checks nothing leaked.
 */
void oom_fail_at(long n);
bool oom_hit(void);

#endif
