/* fuzz/fuzz.h: what every libFuzzer target shares. Each target checks the parser's own
 * invariants, not only that it does not crash: a broken invariant calls fuzz_fail(), which
 * prints what and aborts, so libFuzzer keeps the input as a finding. */
#ifndef PS_FUZZ_FUZZ_H
#define PS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_fail(...)                                                                             \
    do {                                                                                           \
        fprintf(stderr, "%s:%d: invariant broken: ", __FILE__, __LINE__);                          \
        fprintf(stderr, __VA_ARGS__);                                                              \
        fputc('\n', stderr);                                                                       \
        abort();                                                                                   \
    } while (0)

#define fuzz_check(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant broken (%s): ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif /* PS_FUZZ_FUZZ_H */
