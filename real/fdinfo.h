// Parsing of /proc/<pid>/fdinfo/<epfd> for RealKernel::interest_set.
//
// The kernel (fs/eventpoll.c, ep_show_fdinfo) prints a few generic lines ("pos:", "flags:",
// "mnt_id:", "ino:") and then one line per registration:
//
//   seq_printf(m, "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%lx sdev:%x\n", ...)
//
// i.e. `tfd` is decimal, `events` and `data` are hex without a 0x prefix; the rest of the line
// (pos, ino, sdev, and whatever later kernels append) is ignored.
//
// Observed on this machine (Linux 6.18.44, x86_64), via socketpair fds; `events` column:
//   ADD EPOLLIN, data 5
//     "tfd:        4 events:       19 data:                5  pos:0 ino:1ac3 sdev:9"
//     i.e. EPOLLIN|EPOLLERR|EPOLLHUP = 0x19 (ERR and HUP are always added).
//   MOD EPOLLIN|EPOLLET, data 0x123456789abcdef0
//     "events: 80000019 data: 123456789abcdef0" (data above 2^32 is printed in full 64 bits).
//   ADD EPOLLIN|EPOLLONESHOT, data ~0
//     "events: 40000019 data: ffffffffffffffff"
//     after epoll_wait reported it: "events: 40000000" (disarmed: only the private bit
//     EPOLLONESHOT is left; EPOLLIN, EPOLLERR and EPOLLHUP are gone). MOD rearms it.
//   ADD EPOLLIN|EPOLLEXCLUSIVE           -> "events: 10000019"
//   ADD EPOLLOUT|EPOLLWAKEUP             -> "events:       1c": EPOLLWAKEUP silently cleared,
//     although the process is root and holds CAP_BLOCK_SUSPEND (uid_map is the identity).
//     /sys/power has no wakeup_count/mem_sleep, so this kernel is most likely built without
//     CONFIG_PM_SLEEP, where epoll clears EPOLLWAKEUP unconditionally
//     (ep_take_care_of_epollwakeup). Do not assume root keeps it.
//   ADD EPOLLIN|EPOLLPRI|EPOLLRDHUP      -> "events:     201b"
//   A dup'd fd registered as well        -> a second line with its own tfd and the same ino.
//   close() of a registered fd whose file stays open through a dup leaves its line, still
//   showing the closed fd number (the item is keyed by (file, fd) and removed only when the
//   file is released or by EPOLL_CTL_DEL).
//   An epoll fd with no registrations shows only the generic lines.
#pragma once

#include <string_view>
#include <vector>

#include "edgecase/inspect.h"

namespace edgecase::real {

// Every "tfd:" line of `text`, in the order the kernel printed them (not sorted). Lines whose
// first token does not start with "tfd:" are skipped, so the generic lines (and any text that
// is not epoll fdinfo at all) yield an empty vector. A tfd line that is not "tfd: <fd> events:
// <hex> data: <hex> ..." (a missing label or number, "tfd:4" without a space, a number that does
// not parse or fit: tfd in [0, INT_MAX], events in 32 bits, data in 64 bits) throws
// std::runtime_error quoting the line.
std::vector<Interest> parse_epoll_fdinfo(std::string_view text);

}  // namespace edgecase::real
