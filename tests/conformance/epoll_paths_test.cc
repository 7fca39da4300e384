// Wakeup paths (fs/eventpoll.c: reverse_path_check): an EPOLL_CTL_ADD that takes the full check
// (the target is an epoll, or the epoll added to is itself watched by one) counts, for every
// non-epoll file that gains paths, the paths from it up to an epoll nobody watches. More than
// path_limits[] = {1000, 500, 100, 50, 10} paths ending at one depth is EINVAL; depth 0 (the
// file's own, unnested epolls) is never limited. A path is a chain of items, so dup'd fds and
// diamonds multiply them. Each case builds its paths from one pipe's dups and stays small
// (at most about a thousand fds and items) so that it is cheap on both backends.
#include <array>
#include <fcntl.h>
#include <vector>

#include "tests/conformance/backend.h"

namespace edgecase::conformance {
namespace {

// path_limits[] of fs/eventpoll.c, by the depth a path ends at (0: the file's own epoll).
constexpr std::array<int, 5> kPathLimits = {1000, 500, 100, 50, 10};
// EP_MAX_NESTS: a chain has at most this many links, so paths end at depth 0..4.
constexpr int kMaxDepth = 4;

int make_ep(Kernel& k) {
  int ep = k.epoll_create1(EPOLL_CLOEXEC);
  INFO("epoll_create1 errno " << errno);
  REQUIRE(ep >= 0);
  return ep;
}

struct Pipe {
  int r = -1, w = -1;
};

Pipe make_pipe(Kernel& k) {
  int p[2];
  REQUIRE(k.pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  return {p[0], p[1]};
}

// `n` fds on one description: `fd` itself and n - 1 dups.
std::vector<int> dups(Kernel& k, int fd, int n) {
  std::vector<int> out{fd};
  while (static_cast<int>(out.size()) < n) {
    int d = k.dup(fd);
    INFO("dup errno " << errno);
    REQUIRE(d >= 0);
    out.push_back(d);
  }
  return out;
}

int ctl(Kernel& k, int ep, int op, int fd, uint32_t events = EPOLLIN, uint64_t data = 0) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = data;
  return k.epoll_ctl(ep, op, fd, &ev);
}

void add_all(Kernel& k, int ep, const std::vector<int>& fds) {
  for (int fd : fds) add(k, ep, fd, EPOLLIN);
}

size_t items(auto& b, int ep) {
  auto set = b.inspect().interest_set(ep);
  REQUIRE(set.has_value());
  return set->size();
}

}  // namespace

BACKEND_TEST("epoll paths: a chain built bottom-up over a pipe's dups is EINVAL past the limit of its depth", "[epoll][nested][errno][paths]") {
  const int depth = GENERATE(range(1, kMaxDepth + 1));
  const bool past = GENERATE(false, true);
  const int limit = kPathLimits[static_cast<size_t>(depth)];
  INFO("depth " << depth << ", paths " << limit + past);
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  std::vector<int> ep;
  for (int i = 0; i <= depth; ++i) ep.push_back(make_ep(k));
  // limit (+ 1) items in ep[0], then ep[i] in ep[i+1]: each link adds a depth to every path.
  add_all(k, ep[0], dups(k, p.r, limit + past));
  for (int i = 0; i + 1 < depth; ++i) add(k, ep[static_cast<size_t>(i) + 1], ep[static_cast<size_t>(i)], EPOLLIN);
  const int below = ep[static_cast<size_t>(depth) - 1];
  const int top = ep[static_cast<size_t>(depth)];
  if (!past) {
    add(k, top, below, EPOLLIN, 7);
    REQUIRE(write_str(k, p.w, "x") == 1);
    REQUIRE(wait(k, top) == std::vector<Ev>{{EPOLLIN, 7}});
    return;
  }
  // The link that makes limit + 1 paths of this depth fails and leaves nothing behind.
  REQUIRE_ERRNO(ctl(k, top, EPOLL_CTL_ADD, below), EINVAL);
  REQUIRE(items(b, top) == 0);
  REQUIRE(write_str(k, p.w, "x") == 1);
  REQUIRE(wait(k, top).empty());
  REQUIRE(!wait(k, below).empty());
}

BACKEND_TEST("epoll paths: the issue's example, 11 dups under a chain of 5 epolls, with the chain built first", "[epoll][nested][errno][paths]") {
  // ADD of a plain file into an epoll that is itself watched takes the full check too.
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  std::array<int, kMaxDepth + 1> ep{};
  for (int& fd : ep) fd = make_ep(k);
  for (size_t i = 0; i + 1 < ep.size(); ++i) add(k, ep[i + 1], ep[i], EPOLLIN);
  const std::vector<int> fds = dups(k, p.r, kPathLimits[kMaxDepth] + 1);
  for (size_t i = 0; i + 1 < fds.size(); ++i) add(k, ep[0], fds[i], EPOLLIN);
  const int last = fds.back();
  REQUIRE_ERRNO(ctl(k, ep[0], EPOLL_CTL_ADD, last), EINVAL);
  REQUIRE_ERRNO(ctl(k, ep[0], EPOLL_CTL_MOD, last), ENOENT);  // not registered
  REQUIRE_ERRNO(ctl(k, ep[0], EPOLL_CTL_ADD, fds[0]), EEXIST);  // EEXIST comes first
  REQUIRE(items(b, ep[0]) == fds.size() - 1);
  // An epoll nobody watches takes it: a path of depth 0 is not limited (and not checked).
  int lone = make_ep(k);
  add(k, lone, last, EPOLLIN);
  // The count is of the paths there are now: one fewer, and the ADD works.
  REQUIRE(k.epoll_ctl(ep[0], EPOLL_CTL_DEL, fds[0], nullptr) == 0);
  add(k, ep[0], last, EPOLLIN);
  // A watched epoll one level up has room for far more (limit 50 at depth 3).
  add(k, ep[1], fds[0], EPOLLIN);
}

BACKEND_TEST("epoll paths: a plain file added under a nested epoll is checked at every depth", "[epoll][nested][errno][paths]") {
  const int depth = GENERATE(range(1, kMaxDepth + 1));
  const int limit = kPathLimits[static_cast<size_t>(depth)];
  INFO("depth " << depth);
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  std::vector<int> ep;
  for (int i = 0; i <= depth; ++i) ep.push_back(make_ep(k));
  for (size_t i = 0; i + 1 < ep.size(); ++i) add(k, ep[i + 1], ep[i], EPOLLIN);
  const std::vector<int> fds = dups(k, p.r, limit + 1);
  for (int i = 0; i < limit; ++i) add(k, ep[0], fds[static_cast<size_t>(i)], EPOLLIN);
  REQUIRE_ERRNO(ctl(k, ep[0], EPOLL_CTL_ADD, fds.back()), EINVAL);
  REQUIRE(items(b, ep[0]) == static_cast<size_t>(limit));
}

BACKEND_TEST("epoll paths: depth 0 is not limited (path_limits[0] is never used)", "[epoll][nested][paths]") {
  // 32 dups in each of 32 unnested epolls: 1024 paths of depth 0. A full check of the pipe (its
  // ADD under a nested epoll) counts them and still passes.
  constexpr int kSide = 32;
  static_assert(kSide * kSide > kPathLimits[0]);
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  const std::vector<int> fds = dups(k, p.r, kSide);
  for (int i = 0; i < kSide; ++i) add_all(k, make_ep(k), fds);
  int inner = make_ep(k);
  int outer = make_ep(k);
  add(k, outer, inner, EPOLLIN);
  add(k, inner, p.r, EPOLLIN);
  add(k, inner, p.w, EPOLLOUT);
}

BACKEND_TEST("epoll paths: paths multiply through dup'd epoll fds and add up over several epolls", "[epoll][nested][errno][paths]") {
  // p x10 in a, a x10 in b, b in c: 100 paths of depth 2, the limit. One more through x -> b is
  // EINVAL; x straight into c ends at depth 1, which has room.
  constexpr int kFan = 10;
  static_assert(kFan * kFan == kPathLimits[2]);
  TestType b;
  auto& k = b.k;
  Pipe p = make_pipe(k);
  int a = make_ep(k), bb = make_ep(k), c = make_ep(k), x = make_ep(k);
  add_all(k, a, dups(k, p.r, kFan));
  add_all(k, bb, dups(k, a, kFan));
  add(k, c, bb, EPOLLIN);
  add(k, x, p.r, EPOLLIN);  // x is not nested: no check, a path of depth 0
  REQUIRE_ERRNO(ctl(k, bb, EPOLL_CTL_ADD, x), EINVAL);
  REQUIRE(items(b, bb) == static_cast<size_t>(kFan));
  add(k, c, x, EPOLLIN);
  // The loop check comes before the path check: c holds x, so c under x is a loop.
  REQUIRE_ERRNO(ctl(k, x, EPOLL_CTL_ADD, c), ELOOP);
}

}  // namespace edgecase::conformance
