#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "cpu_memory.h"

enum { RT_HUGE_PAGE = 2 * 1024 * 1024 };

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_UNDER_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define RT_UNDER_ASAN 1
#endif

void *rt_alloc_huge(size_t bytes) {
#if defined(RT_UNDER_ASAN)
    // Under AddressSanitizer (scripts/fuzz) every buffer keeps an allocation of its own, so an
    // overrun into a neighbour, which would share a chunk here, is reported.
    (void)bytes;
    return 0;
#endif
    if (bytes == 0 || bytes % RT_HUGE_PAGE != 0) return 0;
    void *p = 0;
    if (posix_memalign(&p, RT_HUGE_PAGE, bytes) != 0) return 0;
#if defined(MADV_HUGEPAGE)
    (void)madvise(p, bytes, MADV_HUGEPAGE);  // advice: refused, the pages stay small
#endif
    return p;
}

void rt_free_huge(void *pointer) { free(pointer); }

struct rt_mutex { pthread_mutex_t mutex; };

struct rt_mutex *rt_mutex_create(void) {
    struct rt_mutex *m = malloc(sizeof *m);
    if (m && pthread_mutex_init(&m->mutex, 0) != 0) { free(m); return 0; }
    return m;
}
void rt_mutex_lock(struct rt_mutex *m) { pthread_mutex_lock(&m->mutex); }
void rt_mutex_unlock(struct rt_mutex *m) { pthread_mutex_unlock(&m->mutex); }
void rt_mutex_destroy(struct rt_mutex *m) { pthread_mutex_destroy(&m->mutex); free(m); }
