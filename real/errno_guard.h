// Saves errno on construction and puts it back on destruction, so that bookkeeping and
// inspection around a call never disturb what the call reported to its caller.
#pragma once

#include <cerrno>

namespace edgecase {

class ErrnoGuard {
 public:
  ErrnoGuard() : saved_(errno) {}
  ~ErrnoGuard() { errno = saved_; }
  ErrnoGuard(const ErrnoGuard&) = delete;
  ErrnoGuard& operator=(const ErrnoGuard&) = delete;

 private:
  int saved_;
};

}  // namespace edgecase
