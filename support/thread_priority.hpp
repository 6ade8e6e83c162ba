// Background work that must never delay an exchange: the thread that does it asks the kernel to
// run it only on CPU time nothing else wants (docs/store.md, "Purge": the removal behind a
// purge marker).
#pragma once

namespace sidecar::support {

/// Puts the calling thread in Linux's SCHED_IDLE class: any ordinary thread that wakes up
/// preempts it at once, and it still makes progress on a busy machine (at a very low weight).
/// False when the kernel refused (the thread then keeps its class).
bool run_this_thread_when_idle() noexcept;

}  // namespace sidecar::support
