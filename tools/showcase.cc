#include "tools/showcase.h"

#include <fmt/format.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <vector>

#include "edgecase/live_match.h"
#include "edgecase/real_kernel.h"
#include "edgecase/sim_kernel.h"
#include "edgecase/strace.h"

namespace edgecase::tools {

namespace {

struct Step {
  std::string line;
  std::string why;  // shown once, under the line it explains
};

// The sequence every reader of an ET loop must understand: an edge is a wakeup, not a state.
// A partial read leaves bytes behind and no new event; the next write is a new edge.
std::vector<Step> run_sequence(Kernel& real) {
  std::vector<Step> steps;
  TracingKernel k(real, [&](const std::string& l) { steps.push_back({l, ""}); });
  auto note = [&](const char* why) { steps.back().why = why; };
  int sv[2] = {-1, -1};
  k.socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
  int ep = k.epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = static_cast<uint64_t>(sv[1]);
  k.epoll_ctl(ep, EPOLL_CTL_ADD, sv[1], &ev);
  epoll_event out[8];
  char buf[64];
  k.write(sv[0], "hello world", 11);
  k.epoll_wait(ep, out, 8, 0);
  note("the write is an edge: EPOLLIN");
  k.read(sv[1], buf, 5);
  note("a partial read: 6 bytes stay queued");
  k.epoll_wait(ep, out, 8, 0);
  note("no new edge, no event: a handler that stops here has lost the rest");
  k.write(sv[0], "!", 1);
  k.epoll_wait(ep, out, 8, 0);
  note("every write wakes the reader: ET fires again although it was never empty");
  k.read(sv[1], buf, sizeof buf);
  k.read(sv[1], buf, sizeof buf);
  note("drained to EAGAIN: the only safe place for an ET handler to stop");
  k.epoll_wait(ep, out, 8, 0);
  k.close(sv[0]);
  k.epoll_wait(ep, out, 8, 0);
  note("the peer's close wakes the reader: EOF");
  k.read(sv[1], buf, sizeof buf);
  k.close(sv[1]);
  k.close(ep);
  return steps;
}

std::string cut(const std::string& s, size_t width) {
  if (s.size() <= width) return s;
  return s.substr(0, width - 3) + "...";
}

}  // namespace

int run_showcase(const ShowcaseOptions& options, std::FILE* out) {
  SimKernel sim(sim_options_like_live());
  mirror_open_fds(sim);  // same fd numbers on both sides, whatever this process inherited
  RealKernel live;
  std::vector<Step> a = run_sequence(sim);
  std::vector<Step> b = run_sequence(live);
  const auto w = static_cast<size_t>(options.column);
  fmt::print(out, "edgecase showcase: the same calls on the simulated and the live kernel\n\n");
  fmt::print(out, "{:<{}}   {:<{}}\n", "simulated (edgecase::SimKernel)", w, "live (edgecase::RealKernel)", w);
  fmt::print(out, "{:-<{}}   {:-<{}}\n", "", w, "", w);
  int differ = 0;
  for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
    std::string l = i < a.size() ? a[i].line : "";
    std::string r = i < b.size() ? b[i].line : "";
    bool same = l == r;
    differ += !same;
    fmt::print(out, "{:<{}} {} {}\n", cut(l, w), w, same ? "=" : "≠", cut(r, w));
    if (i < a.size() && !a[i].why.empty()) fmt::print(out, "    # {}\n", a[i].why);
  }
  fmt::print(out, "\n{} calls, {} agree, {} differ\n", std::max(a.size(), b.size()),
             std::max(a.size(), b.size()) - static_cast<size_t>(differ), differ);
  return differ;
}

}  // namespace edgecase::tools
