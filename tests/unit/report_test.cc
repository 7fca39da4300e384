// Reports as people read them (issue 9 items 3, 4 and 12): what Report::format() shows, and
// that the verdict names the party at fault.
#include <catch2/catch.hpp>

#include <string>

#include "edgecase/runner.h"
#include "handlers/handlers.h"
#include "harness/generate.h"
#include "harness/report_wire.h"

using edgecase::handlers::with_builtins;

namespace edgecase {
namespace {

TEST_CASE("Report::format ends with the case file that replays the run", "[report]") {
  const Case c = echo_case(7, FaultPlan::none(), EchoShape{.peers = 1, .messages = 1});
  const Report r = run_case(c, with_builtins());
  REQUIRE(r.clean());
  const std::string text = r.format();
  INFO(text);
  const std::string label = "case file (replays this run):\n";
  const size_t at = text.find(label);
  REQUIRE(at != std::string::npos);
  CHECK(text.substr(at + label.size()) == write_case(c));
}

}  // namespace
}  // namespace edgecase
