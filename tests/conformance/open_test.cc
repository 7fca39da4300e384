// open (fs/open.c do_sys_openat2) of the two files an event loop opens: "/dev/null" and "/"
// (libuv's spare fd for its EMFILE trick, src/unix/stream.c uv__emfile_trick). Results, errno
// for the paths and modes refused, the fd's flags and what /dev/null does with reads and
// writes (drivers/char/mem.c), the same on both backends.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

constexpr size_t kBytes = 16;

// Restores RLIMIT_NOFILE through the kernel under test when the case ends, however it ends
// (live, the limit is the test process's).
class SavedNofile {
 public:
  explicit SavedNofile(Kernel& k) : k_(k) { REQUIRE(k_.getrlimit(RLIMIT_NOFILE, &saved_) == 0); }
  ~SavedNofile() { k_.setrlimit(RLIMIT_NOFILE, &saved_); }
  SavedNofile(const SavedNofile&) = delete;
  SavedNofile& operator=(const SavedNofile&) = delete;
  const rlimit& saved() const { return saved_; }

 private:
  Kernel& k_;
  rlimit saved_{};
};

BACKEND_TEST("open: /dev/null reads end of file, swallows writes, has no poll", "[open]") {
  TestType b;
  auto& k = b.k;
  const int fd = k.open("/dev/null", O_RDWR | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(k.fcntl(fd, F_GETFD) == FD_CLOEXEC);
  REQUIRE((k.fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDWR);
  char buf[kBytes] = {};
  REQUIRE(k.read(fd, buf, sizeof buf) == 0);
  REQUIRE(k.write(fd, buf, sizeof buf) == static_cast<ssize_t>(sizeof buf));
  const int ep = k.epoll_create1(EPOLL_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  REQUIRE_ERRNO(k.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), EPERM);  // no f_op->poll
  REQUIRE(k.close(ep) == 0);
  REQUIRE(k.close(fd) == 0);

  const int plain = k.open("/dev/null", O_RDONLY);
  REQUIRE(plain >= 0);
  REQUIRE(k.fcntl(plain, F_GETFD) == 0);
  REQUIRE(k.close(plain) == 0);
}

BACKEND_TEST("open: / read-only only, any other path is ENOENT", "[open]") {
  TestType b;
  auto& k = b.k;
  const int root = k.open("/", O_RDONLY | O_CLOEXEC);
  REQUIRE(root >= 0);
  REQUIRE(k.close(root) == 0);
  REQUIRE_ERRNO(k.open("/", O_WRONLY), EISDIR);
  REQUIRE_ERRNO(k.open("/", O_RDWR), EISDIR);
  REQUIRE_ERRNO(k.open("/edgecase-no-such-file", O_RDONLY), ENOENT);
}

BACKEND_TEST("open: the lowest free fd, EMFILE at RLIMIT_NOFILE", "[open]") {
  TestType b;
  auto& k = b.k;
  const SavedNofile guard(k);
  const rlimit was = guard.saved();
  const int a = k.open("/dev/null", O_RDONLY);
  REQUIRE(a >= 0);
  const rlimit low{static_cast<rlim_t>(a) + 1, was.rlim_max};
  REQUIRE(k.setrlimit(RLIMIT_NOFILE, &low) == 0);
  REQUIRE_ERRNO(k.open("/dev/null", O_RDONLY), EMFILE);
  REQUIRE_ERRNO(k.open("/", O_RDONLY), EMFILE);
  REQUIRE_ERRNO(k.open("/", O_WRONLY), EMFILE);  // the fd before may_open's EISDIR
  REQUIRE(k.close(a) == 0);
  const int again = k.open("/", O_RDONLY);
  REQUIRE(again == a);
  REQUIRE(k.close(again) == 0);
}

}  // namespace
}  // namespace edgecase::conformance
