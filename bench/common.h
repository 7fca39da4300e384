// Shared by the benchmark programs: making either backend, opening channels and registering
// idle sockets, with every return value checked. A helper that fails returns a short
// description of the failed call (errno still set by it, or 0 when the call returned an
// unexpected value rather than an error); the benchmark then calls fail(), which skips it, so
// that no figure is ever reported for a run in which a call failed.
#pragma once

#include <benchmark/benchmark.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "edgecase/kernel.h"
#include "edgecase/real_kernel.h"
#include "edgecase/sim_kernel.h"

namespace edgecase::bench {

enum class Backend { sim, live };
enum class Transport { socketpair, pipe };

inline const char* name(Backend b) { return b == Backend::sim ? "sim" : "live"; }
inline const char* name(Transport t) { return t == Transport::socketpair ? "socketpair" : "pipe"; }

// fds the fixtures use besides the ones they are sized for: stdio, the epoll fd, the ready
// channel, and room for the benchmark library's own files on the live backend.
inline constexpr int kFdSlack = 64;

// Skips the benchmark with "what: <strerror(errno)>" (or "what: unexpected result").
inline void fail(benchmark::State& state, const char* what) {
  int err = errno;
  std::string msg = std::string(what) + ": " + (err ? std::strerror(err) : "unexpected result");
  state.SkipWithError(msg.c_str());
}

// A simulated kernel with room for `nofile` fds, or the live one. For the live backend the
// soft RLIMIT_NOFILE is raised to the hard limit; nullptr (errno set) if even that is below
// `nofile`.
inline std::unique_ptr<Kernel> make_kernel(Backend b, int nofile) {
  if (b == Backend::sim) {
    SimOptions o;
    o.nofile = nofile;
    return std::make_unique<SimKernel>(o);
  }
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return nullptr;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &rl) != 0) return nullptr;
  }
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < static_cast<rlim_t>(nofile)) {
    errno = EMFILE;
    return nullptr;
  }
  return std::make_unique<RealKernel>();
}

// One nonblocking byte stream: bytes written on `tx` are read on `rx`.
struct Channel {
  int tx = -1;
  int rx = -1;
};

// A nonblocking AF_UNIX stream socketpair (sv[0] writes, sv[1] reads) or pipe.
inline const char* open_channel(Kernel& k, Transport t, Channel* out) {
  int fds[2];
  if (t == Transport::socketpair) {
    if (k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) != 0) return "socketpair";
    *out = {fds[0], fds[1]};
  } else {
    if (k.pipe2(fds, O_NONBLOCK) != 0) return "pipe2";
    *out = {fds[1], fds[0]};
  }
  return nullptr;
}

// EPOLL_CTL_ADD of `fd` for `events`, with the fd itself as the data.
inline const char* add(Kernel& k, int ep, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = static_cast<uint64_t>(fd);
  return k.epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0 ? nullptr : "epoll_ctl(ADD)";
}

inline const char* del(Kernel& k, int ep, int fd) {
  return k.epoll_ctl(ep, EPOLL_CTL_DEL, fd, nullptr) == 0 ? nullptr : "epoll_ctl(DEL)";
}

// Opens `pairs` nonblocking socketpairs; both ends of each are appended to `fds` and, if
// `ep` >= 0, registered there for EPOLLIN (idle: nothing is ever written to them).
template <class Fds>
const char* open_idle_sockets(Kernel& k, int ep, int pairs, Fds* fds) {
  for (int i = 0; i < pairs; ++i) {
    Channel c;
    if (const char* e = open_channel(k, Transport::socketpair, &c)) return e;
    fds->push_back(c.tx);
    fds->push_back(c.rx);
    if (ep < 0) continue;
    if (const char* e = add(k, ep, c.tx, EPOLLIN)) return e;
    if (const char* e = add(k, ep, c.rx, EPOLLIN)) return e;
  }
  return nullptr;
}

// epoll_wait(timeout 0) must report exactly one event: EPOLLIN for `fd`.
inline const char* expect_one_in(Kernel& k, int ep, int fd) {
  constexpr int kMaxEvents = 8;  // room to notice an unexpected second event
  epoll_event evs[kMaxEvents];
  int n = k.epoll_wait(ep, evs, kMaxEvents, 0);
  if (n < 0) return "epoll_wait";
  errno = 0;
  if (n != 1) return "epoll_wait: not exactly one event";
  if (evs[0].events != EPOLLIN || evs[0].data.u64 != static_cast<uint64_t>(fd))
    return "epoll_wait: wrong event";
  return nullptr;
}

}  // namespace edgecase::bench
