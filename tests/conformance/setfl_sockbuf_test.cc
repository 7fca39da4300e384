// F_SETFL's mask and the buffer-size clamp: small rules found by the differential property and
// by the object models' authors, pinned on both backends.
#include <fcntl.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include "tests/conformance/backend.h"

using namespace edgecase::conformance;

BACKEND_TEST("fcntl: F_SETFL keeps O_APPEND and O_NONBLOCK, and leaves the access mode", "[fcntl]") {
  TestType b;
  auto& k = b.k;
  int efd = k.eventfd(0, 0);
  REQUIRE(efd >= 0);
  REQUIRE(k.fcntl(efd, F_SETFL, O_APPEND | O_NONBLOCK | O_RDONLY) == 0);
  REQUIRE(k.fcntl(efd, F_GETFL) == (O_RDWR | O_APPEND | O_NONBLOCK));
  REQUIRE(k.fcntl(efd, F_SETFL, 0) == 0);
  REQUIRE(k.fcntl(efd, F_GETFL) == O_RDWR);
}

BACKEND_TEST("fcntl: F_SETFL O_DIRECT is packet mode on a pipe and EINVAL on a socket", "[fcntl][pipe]") {
  TestType b;
  auto& k = b.k;
  int p[2];
  REQUIRE(k.pipe2(p, 0) == 0);
  REQUIRE(k.fcntl(p[1], F_SETFL, O_DIRECT) == 0);
  REQUIRE(k.fcntl(p[1], F_GETFL) == (O_WRONLY | O_DIRECT));
  // Packet mode: each write is its own buffer and a read takes one buffer only.
  REQUIRE(write_str(k, p[1], "abc") == 3);
  REQUIRE(write_str(k, p[1], "de") == 2);
  REQUIRE(read_n(k, p[0], 16) == "abc");
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  REQUIRE_ERRNO(k.fcntl(sv[0], F_SETFL, O_DIRECT), EINVAL);
  REQUIRE(k.fcntl(sv[0], F_GETFL) == O_RDWR);
}

BACKEND_TEST("setsockopt: a negative SO_SNDBUF or SO_RCVBUF is clamped as unsigned, to the maximum", "[unix][sockopt]") {
  TestType b;
  auto& k = b.k;
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  int v = -1;
  REQUIRE(k.setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof v) == 0);
  REQUIRE(k.setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof v) == 0);
  int got = 0;
  socklen_t len = sizeof got;
  REQUIRE(k.getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &got, &len) == 0);
  REQUIRE(got == 2 * 4'194'304);  // 2 x net.core.wmem_max on these machines
  REQUIRE(k.getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &got, &len) == 0);
  REQUIRE(got == 2 * 4'194'304);  // 2 x net.core.rmem_max
}

BACKEND_TEST("setsockopt: SO_SNDBUF wakes an ET writer even unchanged, SO_RCVBUF and SO_RCVLOWAT do not",
             "[unix][sockopt][et]") {
  // sock_setsockopt calls sk_write_space for SO_SNDBUF only.
  TestType b;
  auto& k = b.k;
  int sv[2];
  REQUIRE(k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0);
  int ep = k.epoll_create1(0);
  add(k, ep, sv[0], EPOLLOUT | EPOLLET);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, static_cast<uint64_t>(sv[0])}});
  int cur = 0;
  socklen_t len = sizeof cur;
  REQUIRE(k.getsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &cur, &len) == 0);
  int half = cur / 2;  // what, doubled, gives the current value again
  REQUIRE(k.setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &half, sizeof half) == 0);
  int one = 1;
  REQUIRE(k.setsockopt(sv[0], SOL_SOCKET, SO_RCVLOWAT, &one, sizeof one) == 0);
  REQUIRE(wait(k, ep).empty());
  REQUIRE(k.getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &cur, &len) == 0);
  half = cur / 2;
  REQUIRE(k.setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &half, sizeof half) == 0);
  REQUIRE(wait(k, ep) == std::vector<Ev>{{EPOLLOUT, static_cast<uint64_t>(sv[0])}});
}
