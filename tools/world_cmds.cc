#include "tools/world_cmds.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdio>
#include <fmt/format.h>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <variant>

#include "edgecase/runner.h"
#include "edgecase/timeline.h"
#include "edgecase/gen.h"
#include "harness/generate.h"
#include "harness/replay.h"
#include "harness/sim_run.h"
#include "handlers/handlers.h"
#include "tools/exit_codes.h"

namespace edgecase::tools {

namespace {

// Exit codes: tools/exit_codes.h. `case` and `hashes`: 0 done, 2 bad input.
// The fault probability `--faults all` gives every fault.
constexpr uint32_t kAllFaultsPerMille = 200;

// Reads and validates a case file: a file that does not parse, or a case that cannot run as
// written (validate_case), is an input error naming the line.
Case load(const std::string& path) {
  CaseLines lines;
  auto parsed = read_case_file(path, &lines);
  if (auto* err = std::get_if<CaseError>(&parsed)) throw InputError{path + ": " + err->message};
  Case c = std::get<Case>(std::move(parsed));
  if (const std::vector<CaseError> errors = validate_case(c, &lines); !errors.empty()) {
    std::string text = path + ": the case cannot run as written:";
    for (const CaseError& e : errors) text += "\n  " + path + ": " + e.message;
    throw InputError{text};
  }
  if (c.kit_version != build_kit_version())
    fmt::print(stderr, "note: {} was written by edgecase {}, this is {}\n", path, c.kit_version,
               build_kit_version());
  return c;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::error_code ec;  // a directory or a FIFO would read as an empty trace, or hang
  if (!std::filesystem::is_regular_file(path, ec))
    throw InputError{path + ": cannot read the trace file (not a regular file)"};
  std::ifstream in(path);
  if (!in) throw InputError{path + ": cannot read the trace file"};
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// Opens `path` for writing before anything runs: a path that cannot be written is an input
// error, not a failure after the run.
std::ofstream open_for_writing(const std::string& path, std::string_view what) {
  std::ofstream out(path);
  if (!out) throw InputError{fmt::format("{}: cannot write the {} ({})", path, what,
                                         std::strerror(errno))};
  return out;
}

void write_lines(std::ofstream& out, const std::string& path,
                 const std::vector<std::string>& lines) {
  for (const std::string& l : lines) out << l << '\n';
  out.flush();
  if (!out) throw InputError{path + ": cannot write the trace file"};
}

// The handlers a case file may name: the built-in ones, and with --so the shared object's,
// whose entry must be the handler the file names.
std::shared_ptr<const HandlerRegistry> case_handlers(const WorldCommands& o, const Case& c,
                                                     Backend backend) {
  const std::string& named = c.scenario.handler;
  if (o.so.given() && named != o.so.name())
    throw InputError{fmt::format("{} names handler `{}`, but --so {} gives `{}`{}: give the "
                                 "shared object of `{}` (--entry {} if its entry has that name)",
                                 o.case_path, named, o.so.path, o.so.name(),
                                 o.so.entry.empty() ? " (its file name)" : "", named, named)};
  if (!o.so.given() && !handlers::builtins().find(named, c.scenario))
    throw InputError{fmt::format("{}: handler {} is not built in: give its shared object with "
                                 "--so (the case file's `# found by` line has the command)",
                                 o.case_path, named)};
  // The handler's arguments: --arg when given (all of them replace the file's), else the
  // case file's `handler-arg` lines (what `edgecase check --so ... --arg` recorded).
  SharedObject so = o.so;
  if (so.args.empty()) so.args = c.scenario.handler_args;
  return handlers_with(so, backend);
}

RunOptions run_options(const WorldCommands& o, const HandlerRegistry& handlers) {
  RunOptions r;
  r.backend = o.backend == "live" ? Backend::live : Backend::sim;
  r.isolate = o.isolate;
  r.handlers = &handlers;
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

bool crash_recorded(const std::vector<std::string>& recorded) {
  return std::find(recorded.begin(), recorded.end(), oracle::kHandlerCrashed) != recorded.end();
}

void print_timeline_files(const TimelineFiles& files, bool written, const std::string& why) {
  if (!files.any()) return;
  if (!written) {
    fmt::print(stderr, "edgecase: no timeline written: {}\n", why);
    return;
  }
  if (!files.html.empty()) fmt::print("timeline: written to {}\n", files.html);
  if (!files.perfetto.empty())
    fmt::print("perfetto: written to {} (open it in ui.perfetto.dev or chrome://tracing)\n",
               files.perfetto);
}

// Prints the judged report `r` of run and replay. The story in plain words, and the pictures
// (--timeline, --perfetto), come from the whole trace: the case recorded once more, in a child
// (sim; a report with violations, or files asked for).
void print_with_timeline(const WorldCommands& o, const Case& c, const HandlerRegistry& handlers,
                         Report& r) {
  std::optional<Timeline> t;
  std::string why;
  if (o.backend == "sim" && r.case_errors.empty() && (!r.violations.empty() || o.timeline.any()))
    t = timeline_of(c, handlers, r, timeline_title(c.scenario.handler, o.case_path), &why);
  if (t) {
    r.story = t->report.story;
    r.violations = t->report.violations;  // a crash's time, placed by the recording
  }
  fmt::print("{}", r.format());
  if (t) write_timeline_files(*t, o.timeline);
  print_timeline_files(o.timeline, t.has_value(), why);
}

// run's verdict as an exit code: the party at fault.
int run_exit(const Report& r) {
  if (!r.case_errors.empty()) return kExitUsage;
  if (!r.violations.empty()) return kExitFound;
  if (!r.kit_limit.empty()) return kExitUndecided;
  return kExitClean;
}

int do_run(const WorldCommands& o) {
  // Every input is checked before the case runs.
  if (!o.trace_path.empty() && o.backend == "live")
    throw InputError{"--trace is for the simulation (a live run's trace varies): drop "
                     "--trace or use --backend sim"};
  if (o.timeline.any() && o.backend == "live")
    throw InputError{"--timeline and --perfetto draw the simulation's trace (a live run keeps "
                     "only its tail): drop them or use --backend sim"};
  const Case c = load(o.case_path);
  const auto handlers =
      case_handlers(o, c, o.backend == "live" ? Backend::live : Backend::sim);
  std::optional<std::ofstream> trace_out;
  if (!o.trace_path.empty()) trace_out = open_for_writing(o.trace_path, "trace file");
  o.timeline.check_writable({o.case_path, o.trace_path});
  Report r = run_case(c, run_options(o, *handlers));
  print_with_timeline(o, c, *handlers, r);
  if (trace_out) {
    if (r.found(oracle::kHandlerCrashed)) {
      fmt::print(stderr, "edgecase: the handler crashed: no trace can be written in this "
                         "process ({} is left empty)\n",
                 o.trace_path);
    } else {
      SimRun run(c, SimRunOptions{.keep_trace = true});
      run.run(*handlers);
      write_lines(*trace_out, o.trace_path, run.world().trace().all());
      fmt::print("trace: {} lines, hash {:016x}, written to {}\n", run.world().trace().count(),
                 run.world().trace().hash(), o.trace_path);
    }
  }
  return run_exit(r);
}

// Replays the case and says whether it reproduces what the file records: the violations of
// its "# violation:" lines (none recorded: a clean run), and the trace of a saved trace file or
// of a second run. Exit 0 reproduced, 1 not (the differences printed), 2 bad input.
int do_replay(const WorldCommands& o) {
  const Case c = load(o.case_path);
  // Read before the run: a missing trace file is bad input, not a difference.
  const std::optional<std::vector<std::string>> saved =
      o.trace_path.empty() ? std::nullopt : std::optional(read_lines(o.trace_path));
  const auto handlers = case_handlers(o, c, Backend::sim);
  o.timeline.check_writable({o.case_path, o.trace_path});
  RunOptions ro;
  ro.isolate = o.isolate;
  ro.handlers = handlers.get();
  Report r = run_case(c, ro);
  print_with_timeline(o, c, *handlers, r);
  if (!r.case_errors.empty()) throw InputError{o.case_path + ": the case cannot run as written"};
  if (!r.kit_limit.empty()) {
    fmt::print("replay: DOES NOT reproduce: {}\n", r.kit_limit);
    return kNotReproduced;
  }
  const std::vector<std::string> recorded = recorded_violations(o.case_path);
  const std::vector<std::string> found = r.oracles();
  const bool same = recorded == found;
  const auto names = [](const std::vector<std::string>& v) {
    return v.empty() ? std::string("none") : fmt::format("{}", fmt::join(v, ", "));
  };
  if (same)
    fmt::print("replay: reproduces the recorded violations ({})\n", names(recorded));
  else
    fmt::print("replay: DOES NOT reproduce the recorded violations (recorded: {}; found: {})\n",
               names(recorded), names(found));
  if (r.found(oracle::kHandlerCrashed)) {
    fmt::print("replay: the handler crashed, so the trace cannot be compared in this process\n");
    return same ? kReproduced : kNotReproduced;
  }
  if (crash_recorded(recorded)) {
    // The handler corrupted memory here once: running it again in this process to take its
    // trace could end the tool instead of the handler.
    fmt::print("replay: the recorded crash did not recur. A crash without a sanitizer's report "
               "(a signal from memory the handler overwrote) depends on the process's address "
               "layout (ASLR) and old memory as well as on the case; replay it in a build with "
               "-DEDGECASE_SANITIZE=ON, where the overflow itself is reported every time\n");
    return kNotReproduced;
  }
  const std::vector<std::string> actual = trace_of(c, *handlers);
  const std::vector<std::string> expected = saved ? *saved : trace_of(c, *handlers);
  if (auto diff = compare_traces(expected, actual)) {
    fmt::print("replay: {}\n", diff->message());
    return kNotReproduced;
  }
  fmt::print("replay: identical trace ({} lines{})\n", actual.size(),
             saved ? ", against " + o.trace_path : std::string(", run twice"));
  return same ? kReproduced : kNotReproduced;
}

FaultPlan plan_named(const std::string& name, uint64_t seed) {
  if (name == "none") return FaultPlan::none();
  if (name == "all") return FaultPlan::all(kAllFaultsPerMille);
  if (name == "swarm") return FaultPlan::swarm(seed);
  throw InputError{"--faults must be none, all or swarm, not `" + name + "`"};
}

Case case_to_write(const WorldCommands& o) {
  if (!o.generated.empty()) {
    GenOptions g;
    g.handler = o.handler;
    g.port = o.port;
    return case_from_seed(*builtin_protocol(o.generated), g, o.seed).value();
  }
  EchoShape shape;
  shape.peers = o.peers;
  shape.messages = o.messages;
  shape.max_message = o.max_message;
  return echo_case(o.seed, plan_named(o.faults, o.seed), shape);
}

int do_case(const WorldCommands& o) {
  const Case c = case_to_write(o);
  if (auto why = check_case(c)) throw InputError{"cannot write this case: " + *why};
  // A case no run could hold (more bytes than RunLimits allow) is not worth a file.
  if (const std::vector<CaseError> errors = validate_case(c); !errors.empty())
    throw InputError{"this case cannot run as written: " + errors.front().message};
  const std::string text = write_case(c);
  if (o.out_path.empty() || o.out_path == "-") {
    fmt::print("{}", text);
    return kExitClean;
  }
  std::ofstream out(o.out_path);
  out << text;
  out.close();  // a full disk shows at the flush
  if (!out) throw InputError{o.out_path + ": cannot write"};
  return kExitClean;
}

int do_hashes(const WorldCommands& o) {
  if (o.seed > UINT64_MAX - o.seeds)
    throw InputError{fmt::format("--first {} --seeds {} goes past the last seed ({})", o.seed,
                                 o.seeds, UINT64_MAX)};
  for (uint64_t seed = o.seed; seed - o.seed < o.seeds; ++seed) {
    const TraceSummary t =
        trace_summary(echo_case(seed, plan_named(o.faults, seed)), handlers::builtins());
    fmt::print("{} {:016x} {}\n", seed, t.hash, t.lines);
  }
  return kExitClean;
}

// A seed: decimal digits, or 0x and hex digits, that fit 64 bits. No sign, no wrapping (CLI11
// would read "-1" as 2^64 - 1) and no capping of a longer number.
std::string seed_error(const std::string& text) {
  const bool hex = text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  const std::string_view digits = std::string_view(text).substr(hex ? 2 : 0);
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v,
                                         hex ? 16 : 10);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size())
    return fmt::format("`{}` is not a seed: decimal digits (or 0x and hex digits) from 0 to {}",
                       text, UINT64_MAX);
  return {};
}

}  // namespace

void seed_option(CLI::App* app, const char* name, uint64_t& seed, const char* help) {
  app->add_option_function<std::string>(
         name,
         [&seed](const std::string& text) {
           const bool hex = text.size() > 2 && (text[1] == 'x' || text[1] == 'X');
           std::from_chars(text.data() + (hex ? 2 : 0), text.data() + text.size(), seed,
                           hex ? 16 : 10);
         },
         help)
      ->check(CLI::Validator(seed_error, "SEED"));
}

void WorldCommands::add_to(CLI::App& app) {
  run = app.add_subcommand(
      "run", "Run a case file against its handler, judge it with every oracle and print the "
             "report. Exit 0 pass, 1 a violation, 2 bad input or a case that cannot run as "
             "written, 3 undecided (a limit of the kit's ended the run)");
  run->add_option("case", case_path, "The case file")->required();
  run->add_option("--trace", trace_path, "Write the whole trace to this file (sim)");
  run->add_option("--backend", backend, "sim (the simulated world) or live (loopback sockets)")
      ->check(CLI::IsMember({"sim", "live"}));
  run->add_flag("!--in-process", isolate,
                "Run the handler in this process instead of a child (a crash ends the tool)");
  so.add_to(run, /*from_case=*/true);
  timeline.add_to(run);
  run->footer(
      "Example, a case `edgecase check --so` found in a server of your own:\n"
      "  edgecase run cases/my_server-lost-read-event.case --so build/my_server.so\n"
      "    (the handler's --arg values come from the case file; its `# found by` line has the "
      "command)");

  replay = app.add_subcommand(
      "replay", "Run a case file again and check it reproduces what the file records: the "
                "violations of its # violation: lines (none: a clean run) and a trace identical "
                "to a saved trace or to a second run. Exit 0 reproduced as recorded, 1 not "
                "reproduced (the differences printed), 2 bad input");
  replay->add_flag("!--in-process", isolate,
                   "Run the handler in this process instead of a child");
  replay->add_option("case", case_path, "The case file")->required();
  replay->add_option("--trace", trace_path, "A trace written by `edgecase run --trace`");
  so.add_to(replay, /*from_case=*/true);
  timeline.add_to(replay);
  replay->footer(
      "Example, a case `edgecase check --so` found in a server of your own:\n"
      "  edgecase replay cases/my_server-lost-read-event.case --so build/my_server.so\n"
      "    (the handler's --arg values come from the case file; its `# found by` line has the "
      "command)");

  make_case = app.add_subcommand("case", "Write an echo case file drawn from a seed");
  seed_option(make_case, "--seed", seed, "The seed of the scenario and the run");
  make_case->add_option("--peers", peers, "Number of peers")->check(CLI::Range(1, 64));
  make_case->add_option("--messages", messages, "Messages over all peers")
      ->check(CLI::Range(0, 4096));
  make_case->add_option("--max-message", max_message, "Largest message in bytes")
      ->check(CLI::Range(1, 1 << 20));
  make_case->add_option("--faults", faults, "none, all (each at 200 per mille) or swarm")
      ->check(CLI::IsMember({"none", "all", "swarm"}));
  make_case->add_option("-o,--output", out_path, "Output file (default: standard output)");
  auto* gen = make_case
                  ->add_option("--generated", generated,
                               "Instead of the echo shape, the case the hunt draws for the seed "
                               "(case_from_seed) for this protocol: echo, line or hello")
                  ->check(CLI::IsMember({"echo", "line", "hello"}));
  make_case->add_option("--handler", handler, "With --generated: the handler the case names")
      ->needs(gen);
  make_case->add_option("--port", port, "With --generated: the handler's port")
      ->check(CLI::Range(1, 65535))
      ->needs(gen);
  for (const char* shaped : {"--peers", "--messages", "--max-message", "--faults"})
    make_case->get_option(shaped)->excludes(gen);

  hashes = app.add_subcommand(
      "hashes", "Print the trace hash of the standard 4-peer echo case for a range of seeds "
                "(compare the output of two builds)");
  seed_option(hashes, "--first", seed, "First seed");
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
