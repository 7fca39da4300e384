// The timeline reads traces it did not write too (a saved trace, a handler whose bytes are
// quoted in read and write lines): any line, however cut or garbled, becomes one mark, and the
// story, the page and the Perfetto file are still made. Deterministic: a fixed xorshift.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "edgecase/timeline.h"
#include "harness/timeline_model.h"

namespace {

using edgecase::Timeline;

// seed002's lost read event, shortened: one line of every shape the model reads.
const std::vector<std::string> kLines = {
    "[      0.000ms] case: handler seed002, seed 0x0000000000000003, 1 peers",
    "[      0.002ms] socket(AF_INET, SOCK_STREAM, 0) = 3",
    "[      0.006ms] bind(3, {sa_family=AF_INET, sin_port=htons(6888), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0",
    "[      0.007ms] listen(3, 1024) = 0",
    "[      0.008ms] epoll_create(10000) = 4",
    "[      0.009ms] epoll_ctl(4, EPOLL_CTL_ADD, 3, {events=EPOLLIN|EPOLLET, data.u64=3}) = 0",
    "[      0.010ms] peer#1: socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 4",
    "[      0.010ms] peer#1: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32768)",
    "[      0.010ms] net: 127.0.0.1.32768 > 127.0.0.1.6888: Flags [S], seq 0, win 65536, length 0",
    "[      0.010ms] net: 127.0.0.1.6888 > 127.0.0.1.32768: Flags [S.], seq 0, ack 1, win 65536, length 0",
    "[      0.010ms] peer#1: send 10241 = 10241 (10241/10241)",
    "[      0.010ms] net: 127.0.0.1.32768 > 127.0.0.1.6888: Flags [P.], seq 1:10242, ack 1, win 65536, length 10241",
    "[      0.011ms] accept4(3, {sa_family=AF_INET, sin_port=htons(32768), sin_addr=inet_addr(\"127.0.0.1\")}, [...], 0) = 5",
    "[      0.014ms] epoll_ctl(4, EPOLL_CTL_ADD, 5, {events=EPOLLIN|EPOLLET, data.u64=5}) = 0",
    "[      0.015ms] epoll_wait(4, [{events=EPOLLIN, data.u64=5}], 2, -1) = 1",
    "[      0.016ms] read(5, \"gn7~.P-;IO*=2r#^C>8z\\\"\\\\Pb){_}?V*E\"..., 10240) = 10240",
    "[      0.017ms] fault: short-write: write(5) may copy 1 of 2 bytes",
    "[      0.017ms] write(5, \"gn7~\"..., 10240) = 10240",
    "[      0.017ms] peer#1: recv = 10240 (10240/10241)",
    "[      0.017ms] fault: accept-abort: accept4(3) connection from 127.0.0.1:32770 reset",
    "[      0.017ms] pipe2([6, 7], O_NONBLOCK) = 0",
    "[      0.017ms] close(5) = 0",
    "[      0.018ms] handler stopped (quiescent) in epoll_wait(4) at [      0.018ms]",
};

// Characters the model's reading turns on, and a few it never expects.
const std::string kAlphabet = "()[]{},:=>#.-| 0123456789aefpst\"\\<\x01\xff";

struct XorShift {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  size_t below(size_t n) { return n == 0 ? 0 : static_cast<size_t>(next() % n); }
};

std::string mutate(std::string line, XorShift& r) {
  switch (r.below(4)) {
    case 0: return line.substr(0, r.below(line.size() + 1));  // cut anywhere
    case 1:
      if (!line.empty()) line[r.below(line.size())] = kAlphabet[r.below(kAlphabet.size())];
      return line;
    case 2: return line.erase(r.below(line.size() + 1), r.below(8));
    default: return line.insert(r.below(line.size() + 1), 1, kAlphabet[r.below(kAlphabet.size())]);
  }
}

}  // namespace

TEST_CASE("timeline: any trace, however garbled, gives one mark a line and every file",
          "[timeline]") {
  XorShift r{0x9e3779b97f4a7c15ULL};
  constexpr int kTraces = 300;
  for (int n = 0; n < kTraces; ++n) {
    Timeline t;
    t.title = "garbled";
    for (const std::string& l : kLines) {
      std::string line = l;
      for (size_t k = r.below(4); k > 0; --k) line = mutate(line, r);
      t.trace.push_back(line);
    }
    INFO("trace " << n);
    const edgecase::timeline::Model m = edgecase::timeline::build_model(t.trace);
    REQUIRE(m.marks.size() == t.trace.size());
    for (const auto& mark : m.marks) REQUIRE(mark.lane < m.lanes.size());
    REQUIRE_NOTHROW(edgecase::explain(t));
    const std::string page = edgecase::timeline_html(t);
    REQUIRE(page.find("</html>") != std::string::npos);
    REQUIRE(page.find("@EDGECASE_TIMELINE_DATA@") == std::string::npos);
    REQUIRE(edgecase::timeline_perfetto(t).find("traceEvents") != std::string::npos);
  }
}
