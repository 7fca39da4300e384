// Seed 000 compiled from its published text (posix/seeds/000/: its header, its class, its main,
// main renamed on the command line; seeds/000_prelude.h adds the two headers it leaves out)
// through the interposition layer, label posix. Out of scope until handler threads are
// supported: its InitServer starts the accept thread (ListenThread) with pthread_create, which
// the layer refuses loudly. The run ends there with the kit's limit, not a handler oracle: the
// kit says it cannot check this server, it does not blame it. Its bugs are found through the
// port (handlers/seed000.cc folds the thread into the loop; tests/seeds/seeds_test.cc).
#include <catch2/catch.hpp>

#include <string>

#include "edgecase/gen.h"
#include "edgecase/posix.h"

extern "C" int edgecase_entry_seed000_original(int argc, char** argv);

using namespace edgecase;

namespace {
constexpr uint16_t kPort = 8000;  // the seed's main: InitServer("127.0.0.1", 8000)
constexpr uint64_t kStepBudget = 20'000;
}  // namespace

TEST_CASE("posix: seed 000 as published: its accept thread is out of scope (kit limit)",
          "[posix][seed000]") {
  std::string out;
  posix::HandlerOptions ho;
  ho.session.log = [&out](int fd, std::string_view bytes) {
    if (fd == 1) out += bytes;
  };
  const Handler original = posix::make_handler("seed000", edgecase_entry_seed000_original, ho);
  GenOptions g;
  g.handler = "seed000";
  g.port = kPort;
  g.faults = false;
  const Case c = case_from_seed(*builtin_protocol("hello"), g, 1).value();
  RunOptions ro;
  ro.step_budget = kStepBudget;
  const Report rep = run_case(original, c, ro);
  INFO(rep.format() << "\nlog:\n" << out);
  // It got as far as the thread: its listener is up ("服务端监听中...", "the server listens").
  CHECK(out.find("\xe6\x9c\x8d\xe5\x8a\xa1\xe7\xab\xaf\xe7\x9b\x91\xe5\x90\xac\xe4\xb8\xad") !=
        std::string::npos);
  // Then pthread_create: the kit's limit, named, and no oracle blames the server.
  CHECK(rep.kit_limit.find("pthread_create") != std::string::npos);
  CHECK(rep.kit_limit.find("threads are not supported yet") != std::string::npos);
  CHECK(rep.violations.empty());
  CHECK_FALSE(rep.clean());
}
