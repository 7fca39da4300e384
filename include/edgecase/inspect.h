// Inspection of kernel state that no system call exposes directly, for oracles and tests.
// Both backends implement it: RealKernel reads FIONREAD, SIOCOUTQ and /proc/self/fdinfo;
// SimKernel reads its own structures.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace edgecase {

// One registration of an epoll instance, as /proc/self/fdinfo/<epfd> shows it ("tfd", "events",
// "data"). `events` is the stored mask: requested bits, plus EPOLLERR|EPOLLHUP, plus the private
// flags (EPOLLET, EPOLLONESHOT, ...); a disarmed ONESHOT item shows only its private bits.
struct Interest {
  int fd = -1;
  uint32_t events = 0;
  uint64_t data = 0;
  friend bool operator==(const Interest&, const Interest&) = default;
};

class Inspect {
 public:
  virtual ~Inspect() = default;
  // Bytes a read on `fd` would find now (FIONREAD); nullopt if `fd` is not a stream.
  virtual std::optional<uint64_t> bytes_to_read(int fd) = 0;
  // Bytes written on `fd` that the peer has not consumed (SIOCOUTQ on sockets); nullopt if
  // `fd` is not a socket. Live AF_UNIX counts kernel overhead too (see docs/SEMANTICS.md).
  virtual std::optional<uint64_t> bytes_to_send(int fd) = 0;
  // The interest set of `epfd`, sorted by (fd, events, data) so that both backends list it in
  // the same order (the kernel's own order follows file pointers); nullopt if `epfd` is not an
  // epoll instance.
  virtual std::optional<std::vector<Interest>> interest_set(int epfd) = 0;
  // The file's readiness now, as poll(2) reports it in epoll bits (EPOLLIN, EPOLLOUT,
  // EPOLLRDHUP, EPOLLERR, EPOLLHUP, ...); nullopt if `fd` is not open.
  virtual std::optional<uint32_t> poll_mask(int fd) = 0;
  // Connections waiting in a listening socket's accept queue (sk_ack_backlog); nullopt if
  // `fd` is not a listening TCP socket.
  virtual std::optional<uint64_t> accept_queue(int fd) = 0;
};

}  // namespace edgecase
