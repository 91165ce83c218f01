#ifndef RESNET_TOOLS_CPU_MEMORY_H
#define RESNET_TOOLS_CPU_MEMORY_H
#include <stddef.h>
/// `bytes` (a multiple of 2 MiB) aligned to 2 MiB and advised as transparent huge pages
/// (madvise MADV_HUGEPAGE), or NULL when the system has no such memory. Free with rt_free_huge.
/// Where THP is off the advice is ignored and the memory works as small pages.
void *rt_alloc_huge(size_t bytes);
void rt_free_huge(void *pointer);
#endif
