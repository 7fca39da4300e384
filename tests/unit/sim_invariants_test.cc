// SimKernel::check_invariants() after every step of a TCP, socketpair and epoll lifecycle:
// fd table, epoll trees and ready lists, and the network's port and connection tables.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "edgecase/sim_kernel.h"
#include "sim/file.h"

namespace {

using edgecase::SimKernel;

void step(SimKernel& k, const char* what) {
  INFO("after " << what);
  REQUIRE(k.check_invariants() == "");
}

}  // namespace

TEST_CASE("sim invariants hold through a TCP lifecycle", "[sim][invariants]") {
  SimKernel k;
  int ep = k.epoll_create1(0);
  int l = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(k.bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(k.listen(l, 1) == 0);
  socklen_t len = sizeof a;
  REQUIRE(k.getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  epoll_event ev{EPOLLIN | EPOLLET, {}};
  REQUIRE(k.epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) == 0);
  step(k, "listen");
  int c[3];
  for (int& fd : c) {
    fd = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    k.connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS; the 3rd waits
    step(k, "connect");
  }
  int s = k.accept4(l, nullptr, nullptr, SOCK_NONBLOCK);
  REQUIRE(s >= 0);
  step(k, "accept");
  REQUIRE(k.write(c[0], "hello", 5) == 5);
  step(k, "write");
  REQUIRE(k.shutdown(c[0], SHUT_WR) == 0);
  step(k, "shutdown");
  linger lg{1, 0};
  REQUIRE(k.setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) == 0);
  REQUIRE(k.close(s) == 0);  // reset, with unread data too
  step(k, "reset");
  REQUIRE(k.close(l) == 0);  // resets the connections still queued
  step(k, "close listener");
  for (int fd : c) {
    REQUIRE(k.close(fd) == 0);
    step(k, "close client");
  }
  REQUIRE(k.close(ep) == 0);
  step(k, "close epoll");
}

TEST_CASE("sim invariants report a broken state", "[sim][invariants]") {
  // The checker itself must be able to fail: an fd whose file has no reference left is caught.
  SimKernel k;
  int efd = k.eventfd(0, 0);
  REQUIRE(efd >= 0);
  REQUIRE(k.check_invariants() == "");
  edgecase::sim::File* f = k.file_at(efd);
  REQUIRE(f != nullptr);
  int saved = f->f_count;
  f->f_count = 0;
  CHECK(k.check_invariants() != "");
  f->f_count = saved;
  REQUIRE(k.check_invariants() == "");
}
