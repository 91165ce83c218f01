#ifndef RESNET_TOOLS_CPU_HINTS_H
#define RESNET_TOOLS_CPU_HINTS_H
/// Asks the CPU to bring the 64-byte line holding `address` into its caches (a hint: it
/// never faults, whatever the address). Swift has no prefetch of its own; inlined here.
static inline void rt_prefetch(const void *address) { __builtin_prefetch(address, 0, 3); }
/// The same into L2 (prefetcht1): for lines needed later than the next few microseconds.
static inline void rt_prefetch_l2(const void *address) { __builtin_prefetch(address, 0, 2); }
/// The same for a line about to be written: prefetchw where the compile target has PRFCHW,
/// else prefetcht0 (as in the portable module, where PackedGemm's prefetchRows uses it).
static inline void rt_prefetch_write(const void *address) { __builtin_prefetch(address, 1, 3); }
#endif
