#ifndef RT_PARALLEL_H
#define RT_PARALLEL_H

/// One index of a parallel loop: `context` is the caller's, `index` in 0..<count.
typedef void (*rt_parallel_task)(void *context, long index);

/// Runs task(context, i) for every i in 0..<count, on the calling thread and up to
/// `threads - 1` pool workers, and returns when all have finished. Workers spin for
/// a short while after each loop (so the next loop of an inference starts without a
/// wake-up) and then sleep. A call made while another loop is running (a nested call,
/// or another thread's) runs its indices serially on the calling thread.
void rt_parallel_for(long count, long threads, rt_parallel_task task, void *context);

/// Returns *counter and increments it, atomically (relaxed: the loop's join publishes the work).
static inline long rt_claim_next(long *counter) { return __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED); }

#endif
