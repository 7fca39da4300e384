// The handlers the tools know by name, and the ports the seed servers hard-code.
#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "handlers/handlers.h"

namespace edgecase::handlers {

namespace {

// A seed server: called as published, on the port it hard-codes.
struct Seed {
  std::string_view name;
  void (*run)(Kernel&);
  uint16_t port;
};

constexpr Seed kSeeds[] = {
    {"seed000", seed000, kSeed000Port},
    {"seed000-fixed", seed000_fixed, kSeed000Port},
    {"seed001", seed001, kSeed001Port},
    {"seed001-fixed", seed001_fixed, kSeed001Port},
    {"seed002", seed002, kSeed002Port},
    {"seed002-fixed", seed002_fixed, kSeed002Port},
    {"seed003", seed003, kSeed003Port},
    {"seed003-fixed", seed003_fixed, kSeed003Port},
};

const Seed* find_seed(std::string_view name) {
  for (const Seed& s : kSeeds)
    if (s.name == name) return &s;
  return nullptr;
}

}  // namespace

Handler find(std::string_view name, const Scenario& scenario) {
  if (name == "echo")
    return [addr = scenario.addr, port = scenario.port](Kernel& k) { echo_server(k, addr, port); };
  // The seeds ignore the scenario's address and port: they listen where they always did
  // (own_port()), so a scenario for a seed names that port.
  if (const Seed* s = find_seed(name)) return s->run;
  return {};
}

const HandlerRegistry& builtins() {
  // Built once, never changed: a constant table, not process state.
  static const HandlerRegistry registry = [] {
    HandlerRegistry r;
    r.add("echo", [](const Scenario& s) { return find("echo", s); });
    for (const Seed& s : kSeeds)
      r.add(std::string(s.name), [run = s.run](const Scenario&) { return Handler(run); }, s.port);
    return r;
  }();
  return registry;
}

std::vector<std::string> names() {
  std::vector<std::string> out{"echo"};
  for (const Seed& s : kSeeds) out.emplace_back(s.name);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<uint16_t> own_port(std::string_view name) {
  if (const Seed* s = find_seed(name)) return s->port;
  return std::nullopt;
}

}  // namespace edgecase::handlers
