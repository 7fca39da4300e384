// Makes a SimKernel's fd table occupy the numbers this process already has open, so that the
// two backends hand out the same fd numbers and their traces can be compared line for line.
// (A process inherits whatever fds its parent left open: CI runners, shells and IDEs do.)
#pragma once

#include "edgecase/sim_kernel.h"

namespace edgecase {

// For every fd open in this process (read from /proc/self/fd) that is free in `sim`, opens
// /dev/null at that number in `sim`. Returns how many fds were occupied.
int mirror_open_fds(SimKernel& sim);

}  // namespace edgecase
