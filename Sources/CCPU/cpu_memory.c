#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
#include "cpu_memory.h"

enum { RT_HUGE_PAGE = 2 * 1024 * 1024 };

void *rt_alloc_huge(size_t bytes) {
    if (bytes == 0 || bytes % RT_HUGE_PAGE != 0) return 0;
    void *p = 0;
    if (posix_memalign(&p, RT_HUGE_PAGE, bytes) != 0) return 0;
#if defined(MADV_HUGEPAGE)
    (void)madvise(p, bytes, MADV_HUGEPAGE);  // advice: refused, the pages stay small
#endif
    return p;
}

void rt_free_huge(void *pointer) { free(pointer); }
