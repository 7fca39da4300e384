// The outside project's property: its echo server passes generated cases (the kit's echo
// protocol, faults included) in the simulation, through check_server (edgecase/property.h).
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstdint>

#include "edgecase/property.h"

void echo_handler(edgecase::Kernel& k, uint16_t port);

namespace {
constexpr uint16_t kPort = 7007;
constexpr int kCases = 100;
}  // namespace

TEST_CASE("an outside project's echo server passes generated cases") {
  edgecase::PropertyOptions o;
  o.gen.handler = "package_echo";
  o.gen.port = kPort;
  o.seed = 1;  // the same cases every run
  o.cases = kCases;
  o.case_dir = "";
  const auto handler = [](edgecase::Kernel& k) { echo_handler(k, kPort); };
  const edgecase::PropertyResult r = edgecase::check_server(handler, edgecase::echo_protocol(), o);
  CHECK(r.passed);
  CHECK(r.cases == kCases);
}
