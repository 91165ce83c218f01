// A small spinning thread pool for the executor's parallel loops (issue 11).
// Why not GCD's concurrentPerform: a sleeping GCD worker takes tens of microseconds
// to wake (longer in a VM, where an idle vCPU halts), and a ResNet inference runs
// some fifty parallel loops of 0.1-2 ms each; measured, a loop of two 50 us halves
// ran both halves on the caller in 31 of 50 tries. Workers here spin for
// RT_SPIN_NS after each loop, then sleep on a condition variable.
#define _GNU_SOURCE
#include "parallel.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RT_PAUSE() _mm_pause()
#else
#define RT_PAUSE() ((void)0)
#endif

enum { RT_MAX_WORKERS = 255 };
static const long RT_SPIN_NS = 500000;  // 0.5 ms

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static atomic_long generation;     // bumped once per loop, after the loop is published
static atomic_int busy;            // 1 while a loop runs
// The next index to claim; between loops a value no loop reaches, so a worker that
// claims late (after the last index of its loop) never takes an index of the next
// loop before that loop is published.
#define RT_IDLE_INDEX (1L << 62)
static atomic_long next_index = RT_IDLE_INDEX;
static atomic_long seats;          // workers that may still join this loop
static atomic_long finished;       // indices finished in this loop
// The loop: written before `next_index` is reset to 0 (atomics, as a late claimer may
// read them while the next loop is being written; it then sees RT_IDLE_INDEX and stops).
static _Atomic(rt_parallel_task) loop_task;
static _Atomic(void *) loop_context;
static atomic_long loop_count;
static int workers;                // started so far (under `lock`)

static long elapsed_ns(const struct timespec *since) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000000000L + (now.tv_nsec - since->tv_nsec);
}

// Claims and runs indices until none is left. The claim (an atomic read-modify-write
// of `next_index`) orders the loop's fields: they were written before the index was
// reset to 0, and between loops the index is RT_IDLE_INDEX, above every count.
static void run_indices(void) {
    long i;
    while ((i = atomic_fetch_add(&next_index, 1)) < atomic_load_explicit(&loop_count, memory_order_relaxed)) {
        atomic_load_explicit(&loop_task, memory_order_relaxed)(atomic_load_explicit(&loop_context, memory_order_relaxed), i);
        atomic_fetch_add(&finished, 1);
    }
}

static void *worker_main(void *unused) {
    (void)unused;
    long seen = atomic_load(&generation);
    for (;;) {
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        unsigned spins = 0;
        long current;
        while ((current = atomic_load(&generation)) == seen) {
            RT_PAUSE();
            if ((++spins & 255) == 0 && elapsed_ns(&start) > RT_SPIN_NS) {
                pthread_mutex_lock(&lock);
                while ((current = atomic_load(&generation)) == seen) pthread_cond_wait(&wake, &lock);
                pthread_mutex_unlock(&lock);
                break;
            }
        }
        seen = current;
        if (atomic_fetch_sub(&seats, 1) > 0) run_indices();
    }
    return 0;
}

static void ensure_workers(long wanted) {
    if (wanted > RT_MAX_WORKERS) wanted = RT_MAX_WORKERS;
    pthread_mutex_lock(&lock);
    while (workers < wanted) {
        pthread_t thread;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attr, worker_main, 0);
        pthread_attr_destroy(&attr);
        if (failed) break;  // fewer workers: the caller claims the remaining indices itself
        workers += 1;
    }
    pthread_mutex_unlock(&lock);
}

void rt_parallel_for(long count, long threads, rt_parallel_task task, void *context) {
    if (count <= 0) return;
    int expected = 0;
    if (count == 1 || threads <= 1 || !atomic_compare_exchange_strong(&busy, &expected, 1)) {
        for (long i = 0; i < count; i++) task(context, i);
        return;
    }
    ensure_workers(threads - 1);
    atomic_store(&loop_task, task);
    atomic_store(&loop_context, context);
    atomic_store(&loop_count, count);
    atomic_store(&finished, 0);
    atomic_store(&seats, threads - 1);
    atomic_store(&next_index, 0);
    pthread_mutex_lock(&lock);
    atomic_fetch_add(&generation, 1);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
    run_indices();
    while (atomic_load(&finished) < count) RT_PAUSE();
    atomic_store(&next_index, RT_IDLE_INDEX);
    atomic_store(&busy, 0);
}
