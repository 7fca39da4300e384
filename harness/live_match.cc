#include "edgecase/live_match.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>

#include <dirent.h>
#include <cstdlib>
#include <vector>

#include "edgecase/real_kernel.h"

namespace edgecase {

SimOptions sim_options_like_live() {
  SimOptions o;
  RealKernel rk;
  int ep = rk.epoll_create1(EPOLL_CLOEXEC);
  int efd = rk.eventfd(0, EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLWAKEUP;
  if (ep >= 0 && efd >= 0 && rk.epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0) {
    auto set = rk.interest_set(ep);
    o.cap_block_suspend = set && set->size() == 1 && ((*set)[0].events & EPOLLWAKEUP) != 0;
  }
  // CAP_WAKE_ALARM: whether this process may make an alarm timerfd (EPERM if not).
  const int alarm = rk.timerfd_create(CLOCK_BOOTTIME_ALARM, TFD_CLOEXEC);
  o.cap_wake_alarm = alarm >= 0;
  return o;
}

int mirror_open_fds(SimKernel& sim) {
  std::vector<int> open;
  if (DIR* d = ::opendir("/proc/self/fd")) {
    const int own = ::dirfd(d);  // the listing's own fd is not really open
    while (const dirent* e = ::readdir(d)) {
      char* end = nullptr;
      long fd = std::strtol(e->d_name, &end, 10);
      if (end != e->d_name && *end == '\0' && fd != own) open.push_back(static_cast<int>(fd));
    }
    ::closedir(d);
  }
  int occupied = 0;
  for (int fd : open) {
    if (fd >= sim.options().nofile || sim.file_at(fd) != nullptr) continue;
    if (sim.dup2(0, fd) == fd) ++occupied;  // fd 0 is /dev/null in a simulated process
  }
  return occupied;
}

}  // namespace edgecase
