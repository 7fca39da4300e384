#include "edgecase/fd_mirror.h"

#include <dirent.h>
#include <cstdlib>
#include <vector>

namespace edgecase {

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
