// The conformance suite writes every case once and runs it on both backends (TCP cases also on
// a third, NetBackend: the model behind the world's network):
//
//   BACKEND_TEST("pipe: ET fires on every write", "[pipe][et]") {
//     auto& k = b.k;            // edgecase::Kernel& (SimKernel or RealKernel)
//     ...
//   }
//
// The live kernel is the oracle; a case that fails only on "sim" is a bug in the model.
#pragma once

#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <vector>

#include "edgecase/live_match.h"
#include "edgecase/real_kernel.h"
#include "edgecase/scenario.h"
#include "edgecase/sim_kernel.h"
#include "world/world.h"

namespace edgecase::conformance {

// The model must match the process it is compared with (EPOLLWAKEUP depends on the kernel's
// build); asked once per process.
inline SimOptions sim_options() {
  static const SimOptions options = sim_options_like_live();
  return options;
}

struct SimBackend {
  static constexpr bool live = false;
  SimKernel k{sim_options()};
  Inspect& inspect() { return k; }
};

// The simulated kernel inside the world, with the network model between every two sockets:
// segments are split, coalesced and delayed (order per direction kept). Both ends of every
// connection still live on the server host, so a case is written exactly as for the others;
// the world moves only while a call blocks (epoll_wait with a timeout), as live code awaits
// deliveries. The seed is fixed, so a failure replays.
inline sim::WorldOptions net_world_options() {
  // High enough that most segments are cut, merged or held back, yet not all: runs keep a mix.
  constexpr uint32_t kNetFaultPerMille = 700;
  constexpr uint64_t kSeed = 20261122;
  sim::WorldOptions o;
  o.seed = kSeed;
  o.server = sim_options();
  o.network = true;
  o.trace = false;
  // Cases wait for "nothing happens" on purpose, as many times as they like.
  o.idle_timeouts_for_quiescence = 0;
  for (FaultKind f : {FaultKind::split, FaultKind::coalesce, FaultKind::delay})
    o.faults[f] = Fault{true, kNetFaultPerMille};
  return o;
}

struct NetBackend {
  static constexpr bool live = false;
  sim::World w{net_world_options()};
  SimKernel& k = w.server();
  Inspect& inspect() { return k; }
};

struct LiveBackend {
  static constexpr bool live = true;
  RealKernel k;
  Inspect& inspect() { return k; }
};

// How long a live case waits for something loopback delivers "at once" (a TCP segment, a
// connect completing). The simulation never needs it; live code must wait, so both do.
inline constexpr int kDeliveryTimeoutMs = 2000;

// One reported event, comparable and printable.
struct Ev {
  uint32_t events;
  uint64_t data;
  friend bool operator==(const Ev&, const Ev&) = default;
};

// epoll_wait into a vector; REQUIREs that the call itself succeeded.
inline std::vector<Ev> wait(Kernel& k, int epfd, int maxevents = 16, int timeout = 0) {
  std::vector<epoll_event> buf(static_cast<size_t>(maxevents));
  int n = k.epoll_wait(epfd, buf.data(), maxevents, timeout);
  INFO("epoll_wait errno " << errno);
  REQUIRE(n >= 0);
  std::vector<Ev> out;
  for (int i = 0; i < n; ++i) out.push_back({buf[i].events, buf[i].data.u64});
  return out;
}

// ADD with data.u64 = `data` (defaults to the fd); REQUIREs success.
inline void add(Kernel& k, int epfd, int fd, uint32_t events, uint64_t data = UINT64_MAX) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data == UINT64_MAX ? static_cast<uint64_t>(fd) : data;
  REQUIRE(k.epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == 0);
}
inline void mod(Kernel& k, int epfd, int fd, uint32_t events, uint64_t data = UINT64_MAX) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data == UINT64_MAX ? static_cast<uint64_t>(fd) : data;
  REQUIRE(k.epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev) == 0);
}

// Expects a call to fail with `err`: -1 and errno.
#define REQUIRE_ERRNO(call, err)                       \
  do {                                                 \
    errno = 0;                                         \
    auto r_ = (call);                                  \
    int e_ = errno;                                    \
    INFO(#call " returned " << r_ << ", errno " << e_ << " (" << std::strerror(e_) << ")"); \
    REQUIRE(r_ == -1);                                 \
    REQUIRE(e_ == (err));                              \
  } while (0)

inline ssize_t write_str(Kernel& k, int fd, const std::string& s) {
  return k.write(fd, s.data(), s.size());
}
inline std::string read_n(Kernel& k, int fd, size_t n) {
  std::string s(n, '\0');
  ssize_t r = k.read(fd, s.data(), n);
  s.resize(r > 0 ? static_cast<size_t>(r) : 0);
  return s;
}

// Mask names for failure messages, e.g. "IN|OUT|HUP".
std::string mask_name(uint32_t m);

}  // namespace edgecase::conformance

namespace Catch {
template <>
struct StringMaker<edgecase::conformance::Ev> {
  static std::string convert(const edgecase::conformance::Ev& e) {
    return "{" + edgecase::conformance::mask_name(e.events) + ", " + std::to_string(e.data) + "}";
  }
};
}  // namespace Catch

#define BACKEND_TEST(name, tags)                                                              \
  TEMPLATE_TEST_CASE(name, tags, edgecase::conformance::SimBackend,                           \
                     edgecase::conformance::LiveBackend)
// The same, plus the simulated kernel behind the world's network (NetBackend): for cases that
// must also hold when deliveries are split, merged and late.
#define NET_BACKEND_TEST(name, tags)                                                          \
  TEMPLATE_TEST_CASE(name, tags, edgecase::conformance::SimBackend,                           \
                     edgecase::conformance::NetBackend, edgecase::conformance::LiveBackend)
// Inside a BACKEND_TEST: `TestType b; auto& k = b.k;`
