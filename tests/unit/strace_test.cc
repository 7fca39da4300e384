// The trace's lines read as strace prints them (world/strace.cc).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <sys/resource.h>
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "edgecase/sim_kernel.h"
#include "edgecase/strace.h"

namespace {

std::vector<std::string> traced(const std::function<void(edgecase::Kernel&)>& calls) {
  edgecase::SimKernel sim;
  std::vector<std::string> lines;
  edgecase::TracingKernel t(sim, [&](const std::string& l) { lines.push_back(l); });
  calls(t);
  return lines;
}

}  // namespace

TEST_CASE("strace: F_SETFL names the access mode F_GETFL returned, then the flags",
          "[strace]") {
  // The idiom fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) passes O_RDWR back.
  const auto lines = traced([](edgecase::Kernel& k) {
    int p[2];
    REQUIRE(k.pipe2(p, 0) == 0);
    const int flags = k.fcntl(p[1], F_GETFL, 0);
    k.fcntl(p[1], F_SETFL, flags | O_NONBLOCK);
    k.fcntl(p[0], F_SETFL, O_RDWR | O_APPEND | O_NONBLOCK);
    k.fcntl(p[0], F_SETFL, 0);
  });
  REQUIRE(lines.size() == 5);
  CHECK(lines[1] == "fcntl(4, F_GETFL) = 1");
  CHECK(lines[2] == "fcntl(4, F_SETFL, O_WRONLY|O_NONBLOCK) = 0");
  CHECK(lines[3] == "fcntl(3, F_SETFL, O_RDWR|O_APPEND|O_NONBLOCK) = 0");
  CHECK(lines[4] == "fcntl(3, F_SETFL, 0) = 0");
}

TEST_CASE("strace: timerfd calls and poll read as strace prints them", "[strace][timerfd]") {
  const auto lines = traced([](edgecase::Kernel& k) {
    const int fd = k.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    itimerspec v{};
    v.it_value.tv_sec = 1;
    v.it_interval.tv_nsec = 500'000'000;
    itimerspec old{};
    k.timerfd_settime(fd, 0, &v, nullptr);
    k.timerfd_settime(fd, TFD_TIMER_ABSTIME, &v, &old);
    k.timerfd_gettime(fd, &old);
    k.timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0);
    pollfd fds[] = {{fd, POLLIN, 0}, {-1, POLLOUT, 0}, {fd + 1, POLLIN | POLLRDNORM, 0}};
    k.poll(fds, 3, 0);
    k.poll(fds, 2, 7);
    k.poll(nullptr, 1, 0);
  });
  REQUIRE(lines.size() == 8);
  CHECK(lines[0] == "timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC|TFD_NONBLOCK) = 3");
  CHECK(lines[1] == "timerfd_settime(3, 0, {it_interval={tv_sec=0, tv_nsec=500000000}, "
                    "it_value={tv_sec=1, tv_nsec=0}}, NULL) = 0");
  // The old value is shown after the call: the whole relative second (no call moves a
  // standalone kernel's clock).
  CHECK(lines[2] == "timerfd_settime(3, TFD_TIMER_ABSTIME, {it_interval={tv_sec=0, "
                    "tv_nsec=500000000}, it_value={tv_sec=1, tv_nsec=0}}, {it_interval={tv_sec=0, "
                    "tv_nsec=500000000}, it_value={tv_sec=1, tv_nsec=0}}) = 0");
  CHECK(lines[3] == "timerfd_gettime(3, {it_interval={tv_sec=0, tv_nsec=500000000}, "
                    "it_value={tv_sec=1, tv_nsec=0}}) = 0");
  CHECK(lines[4] == "timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0) = -1 EINVAL (Invalid argument)");
  CHECK(lines[5] == "poll([{fd=3, events=POLLIN}, {fd=-1, events=POLLOUT}, {fd=4, "
                    "events=POLLIN|POLLRDNORM}], 3, 0) = 1 ([{fd=4, revents=POLLNVAL}])");
  CHECK(lines[6] == "poll([{fd=3, events=POLLIN}, {fd=-1, events=POLLOUT}], 2, 7) = 0 (Timeout)");
  CHECK(lines[7] == "poll(NULL, 1, 0) = -1 EFAULT (Bad address)");
}

TEST_CASE("strace: calls without a line of their own get the generic one, the table's new calls "
          "read as strace prints them",
          "[strace]") {
  const auto lines = traced([](edgecase::Kernel& k) {
    const int a = k.eventfd(0, 0);
    k.dup3(a, 7, O_CLOEXEC);
    k.dup3(a, a, 0);
    timespec res{};
    k.clock_getres(CLOCK_MONOTONIC, &res);
    const timespec ms{0, 1'000'000};
    k.nanosleep(&ms, nullptr);
    rlimit l{};
    k.getrlimit(RLIMIT_NOFILE, &l);
    k.close(7);
    k.listen(7, 5);
  });
  REQUIRE(lines.size() == 8);
  CHECK(lines[1] == "dup3(3, 7, O_CLOEXEC) = 7");
  CHECK(lines[2] == "dup3(3, 3, 0) = -1 EINVAL (Invalid argument)");
  CHECK(lines[3] == "clock_getres(CLOCK_MONOTONIC, {tv_sec=0, tv_nsec=1}) = 0");
  CHECK(lines[4] == "nanosleep({tv_sec=0, tv_nsec=1000000}, NULL) = 0");
  CHECK(lines[5] == "getrlimit(RLIMIT_NOFILE, {rlim_cur=1024, rlim_max=524288}) = 0");
  CHECK(lines[6] == "close(7) = 0");  // the generic line
  CHECK(lines[7] == "listen(7, 5) = -1 EBADF (Bad file descriptor)");
}

namespace {

// seed003's union misuse with data.ptr = `at` (the test picks the address, as ASLR would):
// the pointer, data.fd written over it, a second pointer, then values that are not addresses.
std::vector<std::string> union_misuse(uint64_t at) {
  return traced([at](edgecase::Kernel& k) {
    int p[2];
    REQUIRE(k.pipe2(p, 0) == 0);
    const int ep = k.epoll_create1(0);
    epoll_event ev{}, out[4];
    ev.events = EPOLLOUT;
    ev.data.u64 = at;  // ev.data.ptr = &mdata
    k.epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
    k.epoll_wait(ep, out, 4, 0);
    ev.data.fd = p[1];  // the upper half of the pointer stays
    k.epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev);
    k.epoll_wait(ep, out, 4, 0);
    ev.data.u64 = at + 0x400;  // ev.data.ptr = line, a second stack address
    k.epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev);
    ev.data.u64 = at;
    k.epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev);
    for (const uint64_t v : {uint64_t{7}, uint64_t{0xffffffff}, uint64_t{UINT64_MAX}}) {
      ev.data.u64 = v;
      k.epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev);
    }
  });
}

}  // namespace

TEST_CASE("strace: pointers in epoll data are named per trace, numbers stay numbers",
          "[strace]") {
  // A stack address in one process, a heap address in another: the same lines.
  const auto stack = union_misuse(0x7ffc12345678);
  const auto heap = union_misuse(0x55d0abcd1230);
  CHECK(stack == heap);
  REQUIRE(stack.size() == 11);
  CHECK(stack[2] == "epoll_ctl(5, EPOLL_CTL_ADD, 4, {events=EPOLLOUT, data.ptr=ptr#1}) = 0");
  CHECK(stack[3] == "epoll_wait(5, [{events=EPOLLOUT, data.ptr=ptr#1}], 4, 0) = 1");
  CHECK(stack[4] ==
        "epoll_ctl(5, EPOLL_CTL_MOD, 4, {events=EPOLLOUT, data.u64=hi32(ptr#1)|4}) = 0");
  CHECK(stack[5] == "epoll_wait(5, [{events=EPOLLOUT, data.u64=hi32(ptr#1)|4}], 4, 0) = 1");
  CHECK(stack[6] == "epoll_ctl(5, EPOLL_CTL_MOD, 4, {events=EPOLLOUT, data.ptr=ptr#2}) = 0");
  CHECK(stack[7] == "epoll_ctl(5, EPOLL_CTL_MOD, 4, {events=EPOLLOUT, data.ptr=ptr#1}) = 0");
  CHECK(stack[8] == "epoll_ctl(5, EPOLL_CTL_MOD, 4, {events=EPOLLOUT, data.u64=7}) = 0");
  CHECK(stack[9] ==
        "epoll_ctl(5, EPOLL_CTL_MOD, 4, {events=EPOLLOUT, data.u64=4294967295}) = 0");
  CHECK(stack[10] == "epoll_ctl(5, EPOLL_CTL_MOD, 4, {events=EPOLLOUT, "
                     "data.u64=18446744073709551615}) = 0");
}

TEST_CASE("strace: an address above user space or below 4 GiB prints as a number", "[strace]") {
  edgecase::DataNames names;
  CHECK(names.field(5) == "data.u64=5");
  CHECK(names.field(0xffffffff) == "data.u64=4294967295");
  CHECK(names.field(UINT64_MAX) == "data.u64=18446744073709551615");
  CHECK(names.field(edgecase::DataNames::kUserSpaceEnd + 0x10000) == "data.u64=140737488420864");
  CHECK(names.field(edgecase::DataNames::kUserSpaceEnd) == "data.u64=0");  // fd 0, no pointer
  CHECK(names.field(edgecase::DataNames::kAddressLow + 0x10000) == "data.ptr=ptr#1");
  CHECK(names.field(0x7ffc12345678) == "data.ptr=ptr#2");
  CHECK(names.field(edgecase::DataNames::kAddressLow + 0x10000) == "data.ptr=ptr#1");
}

TEST_CASE("strace: data.fd written into an epoll_event never zeroed shows the fd alone",
          "[strace]") {
  // `struct epoll_event ev; ev.data.fd = 3;` keeps the stack's bytes above the fd: a canary,
  // an old stack address or zero, different between processes. The same line every time.
  edgecase::DataNames names;
  CHECK(names.field(0x52f2f76000000003) == "data.u64=3");
  CHECK(names.field(0x00007ffc00000004) == "data.u64=4");
  CHECK(names.field(0x0000000000000004) == "data.u64=4");
  CHECK(names.field(0x00007ffc12345678) == "data.ptr=ptr#1");  // a pointer: named
  CHECK(names.field(0x00007ffc00000005) == "data.u64=hi32(ptr#1)|5");  // written over it
  CHECK(names.field(UINT64_MAX) == "data.u64=18446744073709551615");  // lower half no fd
}
