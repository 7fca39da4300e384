#include "sim/file.h"

#include <cassert>
#include <cerrno>

#include "sim/epoll.h"

namespace edgecase::sim {

File::~File() { assert(f_ep.empty()); }

ssize_t File::read(std::span<std::byte>) { return -EINVAL; }
ssize_t File::write(std::span<const std::byte>) { return -EINVAL; }
int File::ioctl(unsigned long, int*) { return -ENOTTY; }

void fput(File* f) {
  assert(f->f_count > 0);
  if (--f->f_count > 0) return;
  eventpoll_release(f);  // __fput: epoll items go first, then the object's release
  f->release();
  delete f;
}

}  // namespace edgecase::sim
