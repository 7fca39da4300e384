#include "tools/world_cmds.h"

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>
#include <fstream>
#include <sstream>
#include <variant>

#include "edgecase/runner.h"
#include "harness/generate.h"
#include "harness/replay.h"
#include "harness/sim_run.h"

namespace edgecase::tools {

namespace {

constexpr int kExitClean = 0;
constexpr int kExitFound = 1;
constexpr int kExitUsage = 2;
// The fault probability `--faults all` gives every fault.
constexpr uint32_t kAllFaultsPerMille = 200;

struct InputError {
  std::string message;
};

Case load(const std::string& path) {
  auto parsed = read_case_file(path);
  if (auto* err = std::get_if<CaseError>(&parsed)) throw InputError{path + ": " + err->message};
  Case c = std::get<Case>(std::move(parsed));
  if (c.kit_version != build_kit_version())
    fmt::print(stderr, "note: {} was written by edgecase {}, this is {}\n", path, c.kit_version,
               build_kit_version());
  return c;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError{path + ": cannot read the trace file"};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path);
  for (const std::string& l : lines) out << l << '\n';
  if (!out) throw InputError{path + ": cannot write the trace file"};
}

RunOptions run_options(const WorldCommands& o) {
  RunOptions r;
  r.backend = o.backend == "live" ? Backend::live : Backend::sim;
  r.isolate = o.isolate;
  return r;
}

// The oracles a case file says it reproduces: its "# violation: ORACLE: ..." comments.
std::vector<std::string> recorded_violations(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  constexpr std::string_view kPrefix = "# violation: ";
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(kPrefix, 0) != 0) continue;
    const std::string rest = line.substr(kPrefix.size());
    const std::string name = rest.substr(0, rest.find(':'));
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

int do_run(const WorldCommands& o) {
  const Case c = load(o.case_path);
  const Report r = run_case(c, run_options(o));
  fmt::print("{}", r.format());
  if (!o.trace_path.empty()) {
    if (o.backend == "live") throw InputError{"--trace is for the simulation (live runs vary)"};
    if (r.found(oracle::kHandlerCrashed))
      throw InputError{"the handler crashed: no trace can be written in this process"};
    SimRun run(c, SimRunOptions{.keep_trace = true});
    run.run();
    write_lines(o.trace_path, run.world().trace().all());
    fmt::print("trace: {} lines, hash {:016x}, written to {}\n", run.world().trace().count(),
               run.world().trace().hash(), o.trace_path);
  }
  return r.clean() ? kExitClean : kExitFound;
}

// Replays the case: judges it again (in a child process, so a crash is a finding), checks that
// it finds what the file records, and checks that the trace is the same as a saved one or as
// a second run's.
int do_replay(const WorldCommands& o) {
  const Case c = load(o.case_path);
  RunOptions ro;
  ro.isolate = o.isolate;
  const Report r = run_case(c, ro);
  fmt::print("{}", r.format());
  bool same = true;
  if (const std::vector<std::string> recorded = recorded_violations(o.case_path); !recorded.empty()) {
    const std::vector<std::string> now = r.oracles();
    same = recorded == now;
    fmt::print("replay: {} the recorded violations ({})\n",
               same ? "reproduces" : "DOES NOT reproduce", fmt::join(recorded, ", "));
  }
  if (r.found(oracle::kHandlerCrashed)) {
    fmt::print("replay: the handler crashed, so the trace cannot be compared in this process\n");
    return kExitFound;
  }
  const std::vector<std::string> expected =
      o.trace_path.empty() ? trace_of(c) : read_lines(o.trace_path);
  const std::vector<std::string> actual = trace_of(c);
  if (auto diff = compare_traces(expected, actual)) {
    fmt::print("replay: {}\n", diff->message());
    return kExitFound;
  }
  fmt::print("replay: identical trace ({} lines{})\n", actual.size(),
             o.trace_path.empty() ? ", run twice" : ", against " + o.trace_path);
  return r.clean() && same ? kExitClean : kExitFound;
}

FaultPlan plan_named(const std::string& name, uint64_t seed) {
  if (name == "none") return FaultPlan::none();
  if (name == "all") return FaultPlan::all(kAllFaultsPerMille);
  if (name == "swarm") return FaultPlan::swarm(seed);
  throw InputError{"--faults must be none, all or swarm, not `" + name + "`"};
}

int do_case(const WorldCommands& o) {
  EchoShape shape;
  shape.peers = o.peers;
  shape.messages = o.messages;
  shape.max_message = o.max_message;
  const Case c = echo_case(o.seed, plan_named(o.faults, o.seed), shape);
  if (auto why = check_case(c)) throw InputError{"cannot write this case: " + *why};
  const std::string text = write_case(c);
  if (o.out_path.empty() || o.out_path == "-") {
    fmt::print("{}", text);
    return kExitClean;
  }
  std::ofstream out(o.out_path);
  out << text;
  if (!out) throw InputError{o.out_path + ": cannot write"};
  return kExitClean;
}

int do_hashes(const WorldCommands& o) {
  for (uint64_t seed = o.seed; seed < o.seed + o.seeds; ++seed) {
    const TraceSummary t = trace_summary(echo_case(seed, plan_named(o.faults, seed)));
    fmt::print("{} {:016x} {}\n", seed, t.hash, t.lines);
  }
  return kExitClean;
}

}  // namespace

void WorldCommands::add_to(CLI::App& app) {
  run = app.add_subcommand(
      "run", "Run a case file against its handler, judge it with every oracle and print the "
             "report (exit 1 when a violation was found)");
  run->add_option("case", case_path, "The case file")->required();
  run->add_option("--trace", trace_path, "Write the whole trace to this file (sim)");
  run->add_option("--backend", backend, "sim (the simulated world) or live (loopback sockets)")
      ->check(CLI::IsMember({"sim", "live"}));
  run->add_flag("!--in-process", isolate,
                "Run the handler in this process instead of a child (a crash ends the tool)");

  replay = app.add_subcommand(
      "replay", "Run a case file again: print its report, check it finds the violations the "
                "file records (# violation: lines), and check that its trace is identical to a "
                "saved trace or to a second run (exit 1 on a violation or a difference)");
  replay->add_flag("!--in-process", isolate,
                   "Run the handler in this process instead of a child");
  replay->add_option("case", case_path, "The case file")->required();
  replay->add_option("--trace", trace_path, "A trace written by `edgecase run --trace`");

  make_case = app.add_subcommand("case", "Write an echo case file drawn from a seed");
  make_case->add_option("--seed", seed, "The seed of the scenario and the run");
  make_case->add_option("--peers", peers, "Number of peers")->check(CLI::Range(1, 64));
  make_case->add_option("--messages", messages, "Messages over all peers")
      ->check(CLI::Range(0, 4096));
  make_case->add_option("--max-message", max_message, "Largest message in bytes")
      ->check(CLI::Range(1, 1 << 20));
  make_case->add_option("--faults", faults, "none, all (each at 200 per mille) or swarm")
      ->check(CLI::IsMember({"none", "all", "swarm"}));
  make_case->add_option("-o,--output", out_path, "Output file (default: standard output)");

  hashes = app.add_subcommand(
      "hashes", "Print the trace hash of the standard 4-peer echo case for a range of seeds "
                "(compare the output of two builds)");
  hashes->add_option("--first", seed, "First seed");
  hashes->add_option("--seeds", seeds, "Number of seeds")->check(CLI::Range(1, 1'000'000));
  hashes->add_option("--faults", faults, "none, all or swarm")
      ->check(CLI::IsMember({"none", "all", "swarm"}));
}

int WorldCommands::dispatch() {
  try {
    if (run->parsed()) return do_run(*this);
    if (replay->parsed()) return do_replay(*this);
    if (make_case->parsed()) return do_case(*this);
    if (hashes->parsed()) return do_hashes(*this);
  } catch (const InputError& e) {
    fmt::print(stderr, "edgecase: {}\n", e.message);
    return kExitUsage;
  } catch (const std::invalid_argument& e) {
    fmt::print(stderr, "edgecase: {}\n", e.what());
    return kExitUsage;
  }
  return -1;
}

}  // namespace edgecase::tools
