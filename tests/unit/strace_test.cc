// The trace's lines read as strace prints them (world/strace.cc).
#include <catch2/catch.hpp>
#include <fcntl.h>
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
