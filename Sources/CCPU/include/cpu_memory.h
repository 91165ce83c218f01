#ifndef RESNET_TOOLS_CPU_MEMORY_H
#define RESNET_TOOLS_CPU_MEMORY_H
#include <stddef.h>
/// `bytes` (a multiple of 2 MiB) aligned to 2 MiB and advised as transparent huge pages
/// (madvise MADV_HUGEPAGE), or NULL when the system has no such memory. Free with rt_free_huge.
/// Where THP is off the advice is ignored and the memory works as small pages. NULL, always,
/// under AddressSanitizer (each buffer then has an allocation of its own).
void *rt_alloc_huge(size_t bytes);
void rt_free_huge(void *pointer);

/// A mutex (pthread's) for the Swift side's arena, on every platform the package names
/// (Synchronization's Mutex needs macOS 15). rt_mutex_create returns NULL when none can be had.
struct rt_mutex;
struct rt_mutex *rt_mutex_create(void);
void rt_mutex_lock(struct rt_mutex *mutex);
void rt_mutex_unlock(struct rt_mutex *mutex);
void rt_mutex_destroy(struct rt_mutex *mutex);
#endif
