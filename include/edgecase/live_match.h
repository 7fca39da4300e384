// Making a SimKernel comparable, call for call, with the live kernel of this process: the same
// configuration-dependent behaviour, and the same fd numbers.
#pragma once

#include "edgecase/sim_kernel.h"

namespace edgecase {

// SimOptions matching this process's live kernel where the kernel's build decides: whether
// EPOLLWAKEUP is kept (CONFIG_PM_SLEEP and CAP_BLOCK_SUSPEND) and whether alarm timerfds are
// allowed (CAP_WAKE_ALARM) are asked of the kernel itself.
SimOptions sim_options_like_live();

// A process inherits whatever fds its parent left open (CI runners, shells and IDEs do).
// For every fd open in this process (read from /proc/self/fd) that is free in `sim`, opens
// /dev/null at that number in `sim`. Returns how many fds were occupied.
int mirror_open_fds(SimKernel& sim);

}  // namespace edgecase
