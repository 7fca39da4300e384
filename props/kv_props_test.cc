// A user's own protocol with check_server (label props): the key-value example of examples/kv
// (a request generator and a model checker fed in the server's read order), its correct
// server passing and each planted bug failing with the oracle that names it. Cost (g++,
// ASan+UBSan): docs/PROPERTIES.md.
#include <catch2/catch.hpp>

#include <netinet/in.h>

#include <cstdint>
#include <string>
#include <vector>

#include "edgecase/property.h"
#include "handlers/handlers.h"
#include "examples/kv/kv.h"

namespace {

constexpr uint64_t kSeed = 20261122;
constexpr uint16_t kPort = 7300;
// The correct server's cases; a buggy one must fail within as many (each fails within 40).
constexpr int kCases = 300;

edgecase::PropertyOptions kv_options() {
  edgecase::PropertyOptions o;
  o.gen.handler = "kv";
  o.gen.port = kPort;
  o.seed = kSeed;
  o.cases = kCases;
  o.case_dir = "";
  return o;
}

edgecase::Handler kv_server(kv::Bug bug) {
  return [bug](edgecase::Kernel& k) { kv::serve(k, INADDR_LOOPBACK, kPort, bug); };
}

// The property fails for the server with `bug`, with `oracle`, and its minimal case fails
// again with it.
void fails_with(kv::Bug bug, const std::string& oracle,
                std::vector<std::string> ignore = {}) {
  edgecase::PropertyOptions o = kv_options();
  o.ignore = std::move(ignore);
  const edgecase::PropertyResult r = edgecase::check_server(kv_server(bug), kv::kv_protocol(), o);
  REQUIRE(r.error == "");
  REQUIRE_FALSE(r.passed);
  INFO(r.report.format());
  CHECK(r.oracle == oracle);
  edgecase::RunOptions again;
  again.handlers = &edgecase::handlers::builtins();
  const edgecase::Protocol kv = kv::kv_protocol();
  again.checker = kv.checker.get();
  CHECK(edgecase::run_case(kv_server(bug), r.minimal, again).found(oracle));
}

}  // namespace

// Among its cases: a peer sends `SET a <16 KiB>` and resets, another GETs a (the model stores
// a value once the server read its line; the server applies every request it read).
TEST_CASE("props: kv (a user's protocol and model) passes with the correct server", "[kv]") {
  const edgecase::PropertyResult r =
      edgecase::check_server(kv_server(kv::Bug::none), kv::kv_protocol(), kv_options());
  INFO(r.report.format());
  CHECK(r.error == "");
  CHECK(r.passed);
  CHECK(r.cases == kCases);
}

TEST_CASE("props: kv fails with a server that answers one request per readable event", "[kv]") {
  // Two requests in one segment answered once: the second reply never comes (stall). And
  // since the model applies requests in the order the server read them (a sequential server's
  // contract), a GET read after an unserved SET of the same key that answers NOTFOUND is a
  // wrong reply too: at full size (PropertyOptions::full_size) that shows first.
  fails_with(kv::Bug::first_request_only, "stream-corrupt");
  fails_with(kv::Bug::first_request_only, "stall", {"stream-corrupt"});
}

TEST_CASE("props: kv fails with a server that truncates values", "[kv]") {
  // Values beyond 64 KiB cut short: the GET's reply differs from the model's.
  fails_with(kv::Bug::truncates_values, "stream-corrupt");
}
