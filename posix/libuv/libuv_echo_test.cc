// libuv's TCP echo server (posix/libuv/main.c, as published) on Debian's static libuv, through
// the interposition layer, label posix (posix/README.md, "libuv").
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "edgecase/gen.h"
#include "edgecase/posix.h"
#include "props/hunt.h"

extern "C" int edgecase_entry_libuv_echo(int argc, char** argv);

using namespace edgecase;

namespace {
constexpr uint16_t kPort = 7000;  // main.c's DEFAULT_PORT

Handler libuv_echo() { return posix::make_handler("libuv_echo", edgecase_entry_libuv_echo); }
}  // namespace

TEST_CASE("posix: libuv echo: one case", "[posix][libuv]") {
  GenOptions g;
  g.handler = "libuv_echo";
  g.port = kPort;
  g.faults = false;
  RunOptions ro;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    const Case c = case_from_seed(*builtin_protocol("echo"), g, seed).value();
    const Report rep = run_case(libuv_echo(), c, ro);
    INFO(rep.format());
    CHECK(rep.violations.empty());
    CHECK(rep.kit_limit.empty());
  }
}
