#include "tools/check_cmd.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <unistd.h>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/gen.h"
#include "edgecase/runner.h"
#include "handlers/handlers.h"
#include "harness/sim_run.h"
#include "props/hunt.h"
#include "tools/exit_codes.h"
#include "tools/timeline_files.h"
#include "tools/world_cmds.h"

namespace edgecase::tools {

namespace {

// What a check runs, resolved and validated from the options before any case runs.
struct Plan {
  std::string handler;  // its name in reports and case files (--so: the entry's name)
  // The built-in handlers, and the shared object's (--so); hunt.run.handlers points here.
  std::shared_ptr<const HandlerRegistry> handlers;
  std::string protocol;
  uint16_t port = 0;
  GenOptions gen;
  HuntOptions hunt;
};

std::string all_fault_names() {
  std::string out;
  for (size_t i = 0; i < kFaultCount; ++i)
    out += (i ? ", " : "") + std::string(fault_name(static_cast<FaultKind>(i)));
  return out;
}

// --faults: none, swarm (each case draws which faults are on: the generator's default), all
// (every fault on in every case), or a list of names (swarm among those only).
void apply_faults(const std::string& profile, GenOptions& gen) {
  if (profile == "none") {
    gen.faults = false;
    return;
  }
  if (profile == "swarm") return;
  if (profile == "all") {
    gen.every_fault = true;
    return;
  }
  uint32_t kinds = 0;
  std::stringstream names(profile);
  for (std::string name; std::getline(names, name, ',');) {
    bool known = false;
    for (size_t i = 0; i < kFaultCount; ++i) {
      if (fault_name(static_cast<FaultKind>(i)) != name) continue;
      kinds |= 1u << i;
      known = true;
    }
    if (!known)
      throw InputError{fmt::format("--faults: `{}` is not a fault; give none, swarm, all, or a "
                                   "comma-separated list of: {}",
                                   name, all_fault_names())};
  }
  gen.fault_kinds = kinds;
}

std::string default_protocol(std::string_view handler) {
  return handler.substr(0, 7) == "seed000" ? "hello" : "echo";
}

// Checks a path can be written before the check's minutes of runs, not after.
void check_writable_file(const std::string& path, std::string_view option) {
  if (path.empty()) return;
  std::ofstream probe(path, std::ios::app);
  if (!probe)
    throw InputError{fmt::format("{} {}: cannot write there ({})", option, path,
                                 std::strerror(errno))};
}

void check_writable_dir(const std::string& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || ::access(dir.c_str(), W_OK) != 0)
    throw InputError{fmt::format("--out {}: cannot write there ({})", dir,
                                 ec ? ec.message() : std::strerror(errno))};
}

// The handler: a built-in one by name, or a shared object's (--so), whose port is not known
// to the kit (its code says it), so --port is required with it.
void resolve_handler(const CheckOptions& o, Plan& p) {
  if (o.so.given()) {
    if (!o.handler.empty())
      throw InputError{fmt::format("give a built-in handler's name (`{}`) or --so, not both",
                                   o.handler)};
    if (o.port < 0)
      throw InputError{fmt::format("--so: give --port, where {} listens (its code says; the kit "
                                   "cannot tell)",
                                   o.so.name())};
    p.handlers = handlers_with(o.so, o.backend == "live" ? Backend::live : Backend::sim,
                               Recorded::on_found_by_line);
    p.handler = o.so.name();
    return;
  }
  if (o.handler.empty())
    throw InputError{"name a handler (see edgecase check --list), or give one's shared object "
                     "with --so"};
  const std::vector<std::string> known = handlers::names();
  if (std::find(known.begin(), known.end(), o.handler) == known.end())
    throw InputError{fmt::format("no handler named `{}` (built-in handlers: {}; see edgecase "
                                 "check --list; a handler of your own: --so NAME.so)",
                                 o.handler, fmt::join(known, ", "))};
  p.handlers = handlers_with(o.so, Backend::sim);  // the built-ins alone
  p.handler = o.handler;
}

Plan make_plan(const CheckOptions& o) {
  Plan p;
  if (o.backend != "sim" && o.backend != "live")
    throw InputError{"--backend must be sim or live, not `" + o.backend + "`"};
  resolve_handler(o, p);
  // A shared object's protocol is not known to the kit: echo unless --protocol says.
  p.protocol = !o.protocol.empty() ? o.protocol
               : o.so.given()      ? std::string("echo")
                                   : default_protocol(p.handler);
  if (!builtin_protocol(p.protocol))
    throw InputError{fmt::format("--protocol: no protocol named `{}` (echo, line, hello)",
                                 p.protocol)};
  const std::optional<uint16_t> own = p.handlers->own_port(p.handler);
  if (own && o.port >= 0 && o.port != *own)
    throw InputError{fmt::format("--port {}: {} listens on its own port {}, so peers sent to "
                                 "{} would find nothing there (drop --port)",
                                 o.port, p.handler, *own, o.port)};
  p.port = own ? *own : o.port >= 0 ? static_cast<uint16_t>(o.port) : Scenario::kDefaultPort;
  if (!o.trace_path.empty() && o.backend == "live")
    throw InputError{"--trace is for the simulation (a live run's trace varies): drop --trace "
                     "or use --backend sim"};
  if ((o.timeline || o.perfetto) && o.backend == "live")
    throw InputError{"--timeline and --perfetto draw the simulation's trace (a live run keeps "
                     "only its tail): drop them or use --backend sim"};
  if (o.cases > UINT64_MAX - o.seed)
    throw InputError{fmt::format("--seed {} --cases {} goes past the last seed", o.seed,
                                 o.cases)};
  apply_faults(o.faults, p.gen);
  p.gen.handler = p.handler;
  p.gen.handler_args = o.so.args;  // in every case file, for run and replay (handler-arg)
  p.gen.port = p.port;
  p.hunt.first_seed = o.seed;
  p.hunt.seeds = o.cases;
  p.hunt.run.backend = o.backend == "live" ? Backend::live : Backend::sim;
  // A handler under test may overflow its buffers: a crash is a finding, not the kit's end.
  p.hunt.run.isolate = true;
  p.hunt.run.trace = true;
  p.hunt.run.handlers = p.handlers.get();  // the handler, by name
  p.hunt.time_budget = static_cast<Nanos>(o.time_limit * 1e9);
  check_writable_dir(o.out_dir);
  check_writable_file(o.trace_path, "--trace");
  check_writable_file(o.junit_path, "--junit");
  check_writable_file(o.json_path, "--json");
  return p;
}

// What the hunt's runs came to, counted as each generated case finishes (HuntOptions::on_case).
struct Tally {
  uint64_t generated = 0;
  uint64_t clean = 0;
  uint64_t violating = 0;
  uint64_t undecided = 0;    // a limit of the kit's ended the run: no verdict on the handler
  // The case could not run as written (Report::case_errors): a peer's own failure, or a port
  // nothing listened on (the handler told the wrong --port).
  uint64_t case_errors = 0;
  // Why runs went undecided or could not run: the kit's limits (Report::kit_limit, which names
  // the call and its arguments the layer cannot honour) and the cases' errors (the first of
  // each report), each distinct message with how many runs it ended: a sorted map, so that what
  // is printed does not depend on the order runs finished in.
  using Reasons = std::map<std::string, uint64_t>;
  Reasons kit_limits;
  Reasons case_error_reasons;
  // Per JUnit batch (generated case i falls in batch (i-1)/kJunitBatch): runs of each party.
  struct Batch {
    uint64_t cases = 0, violating = 0, undecided = 0, case_errors = 0;
    Reasons kit_limits;
    Reasons case_error_reasons;
  };
  std::vector<Batch> batches;
};

// Distinct messages kept per kind, per check (and per JUnit batch): past this, further new
// messages are counted under one line, so that a run that varies its message (a timeout's
// figure) cannot grow the summary without bound.
constexpr size_t kMaxReasonMessages = 16;
constexpr std::string_view kOtherReasons = "(other reasons)";

void add_reason(Tally::Reasons& reasons, const std::string& message) {
  if (reasons.size() < kMaxReasonMessages || reasons.count(message) != 0) ++reasons[message];
  else ++reasons[std::string(kOtherReasons)];
}

// The messages, the most frequent first (ties: by message).
std::vector<std::pair<std::string, uint64_t>> by_frequency(const Tally::Reasons& limits) {
  std::vector<std::pair<std::string, uint64_t>> sorted(limits.begin(), limits.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return sorted;
}

// "N runs: MESSAGE" lines, the most frequent first, for the summary and JUnit.
std::vector<std::string> reason_lines(const Tally::Reasons& limits) {
  std::vector<std::string> out;
  for (const auto& [message, runs] : by_frequency(limits))
    out.push_back(fmt::format("{} run{}: {}", runs, runs == 1 ? "" : "s", message));
  return out;
}

void count(Tally& t, uint64_t generated, const Report& r) {
  t.generated = generated;
  const size_t b = (generated - 1) / CheckOptions::kJunitBatch;
  if (t.batches.size() <= b) t.batches.resize(b + 1);
  Tally::Batch& batch = t.batches[b];
  ++batch.cases;
  if (!r.case_errors.empty()) {
    ++t.case_errors;
    ++batch.case_errors;
    add_reason(t.case_error_reasons, r.case_errors.front());
    add_reason(batch.case_error_reasons, r.case_errors.front());
  } else if (!r.violations.empty()) {
    ++t.violating;
    ++batch.violating;
  } else if (!r.kit_limit.empty() || !r.undecided.empty()) {
    // A live run's undecided checks do not make the run undecided when nothing else did.
    if (!r.kit_limit.empty()) {
      ++t.undecided;
      ++batch.undecided;
      add_reason(t.kit_limits, r.kit_limit);
      add_reason(batch.kit_limits, r.kit_limit);
    } else {
      ++t.clean;
    }
  } else {
    ++t.clean;
  }
}

std::string finding_path(const CheckOptions& o, const Plan& p, const Finding& f) {
  return fmt::format("{}/{}-{}.case", o.out_dir, p.handler, f.oracle);
}

// The check that found a case, and the command that replays it: written into the case file,
// so that a reader has both without the check's log (a shared object's flags included).
std::string found_by(const CheckOptions& o, const Plan& p, const Finding& f) {
  const std::string check =
      o.so.given() ? fmt::format("edgecase check{} --port {} --protocol {}", o.so.flags(), p.port,
                                 p.protocol)
                   : fmt::format("edgecase check {}", p.handler);
  return fmt::format("# found by `{}{}` (generated seed {}, {} runs); replay: `edgecase replay "
                     "{}{}`\n",
                     check, o.backend == "live" ? " --backend live" : "", f.seed, f.runs,
                     shell_quote(finding_path(o, p, f)), o.so.flags());
}

// Longer than any oracle's name (report.h: reply-lost-after-half-close, 27 characters).
constexpr size_t kLongestOracleName = 32;

// The `# found by` line must fit a case file's line (CaseLimits::kMaxLineLength), or the case
// file would not read back: a long --out or --so path is refused before the check runs.
void check_found_by_fits(const CheckOptions& o, const Plan& p) {
  if (o.out_dir.empty()) return;
  Finding longest;
  longest.oracle.assign(kLongestOracleName, 'x');
  longest.seed = UINT64_MAX;
  longest.runs = UINT64_MAX;
  if (found_by(o, p, longest).size() > CaseLimits::kMaxLineLength)
    throw InputError{fmt::format("--out {}{}: too long to record in a case file's `# found by` "
                                 "line (at most {} characters): use a shorter path",
                                 o.out_dir, o.so.given() ? " with --so " + o.so.path : "",
                                 CaseLimits::kMaxLineLength)};
}

// The finding's case, with the violation it reproduces as comments after the format line.
void write_finding(const CheckOptions& o, const Plan& p, const Finding& f) {
  const std::string path = finding_path(o, p, f);
  const std::string text = f.report.recorded_case_text();
  const size_t body = text.find('\n') + 1;
  std::ofstream out(path);
  out << text.substr(0, body);
  out << found_by(o, p, f);
  out << text.substr(body);
  out.close();
  if (!out) throw InputError{path + ": cannot write the case file"};
}

// Each finding's smallest case, drawn (sim): its story goes into the finding's report (what
// the summary, --json and --junit print). A finding whose timeline cannot be recorded keeps the
// report it had, and says why in the returned list (none for a finding drawn).
std::vector<std::optional<Timeline>> draw_findings(const CheckOptions& o, const Plan& p,
                                                   HuntResult& h, std::vector<std::string>& why) {
  std::vector<std::optional<Timeline>> out;
  if (o.backend != "sim") return out;
  for (Finding& f : h.findings) {
    const std::string path = o.out_dir.empty() ? std::string() : finding_path(o, p, f);
    std::string reason;
    out.push_back(timeline_of(
        f.smallest, *p.handlers, f.report,
        timeline_title(p.handler, path.empty() ? f.oracle : path),
        &reason));
    if (out.back()) f.report.story = out.back()->report.story;
    why.push_back(std::move(reason));
  }
  return out;
}

// --timeline, --perfetto: the files beside each case file, after the summary is out (a file
// that cannot be written does not hide the findings). False when one could not be written.
bool write_finding_timelines(const CheckOptions& o, const Plan& p, const HuntResult& h,
                             const std::vector<std::optional<Timeline>>& drawn,
                             const std::vector<std::string>& why) {
  if (!o.timeline && !o.perfetto) return true;
  bool all = true;
  for (size_t i = 0; i < drawn.size() && i < h.findings.size(); ++i) {
    const std::string path = finding_path(o, p, h.findings[i]);
    if (!drawn[i]) {
      fmt::print(stderr, "edgecase check: no timeline for {}: {}\n", path, why[i]);
      continue;
    }
    TimelineFiles files = TimelineFiles::beside(path, o.perfetto);
    if (!o.timeline) files.html.clear();
    try {
      write_timeline_files(*drawn[i], files);
    } catch (const InputError& e) {
      fmt::print(stderr, "edgecase check: {}\n", e.message);
      all = false;
    }
  }
  return all;
}

std::string size_text(const CaseSize& s) {
  return fmt::format("{} peer{}, {} steps, {} B, {} fault{}", s.peers, s.peers == 1 ? "" : "s",
                     s.steps, s.bytes, s.faults, s.faults == 1 ? "" : "s");
}

// XML 1.0 text: the five escapes, and characters XML cannot carry (control bytes a payload
// may put into a report) as U+FFFD.
std::string xml(std::string_view s) {
  std::string out;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && ch != '\n' && ch != '\t' && ch != '\r') out += "\xEF\xBF\xBD";
        else out += ch;
    }
  }
  return out;
}

std::string junit_text(const CheckOptions& o, const Plan& p, const HuntResult& h, const Tally& t) {
  std::string cases;
  uint64_t tests = 0, failures = 0, skipped = 0, errors = 0;
  const std::string cls = xml("edgecase.check." + p.handler);
  for (const Finding& f : h.findings) {
    ++tests;
    ++failures;
    const std::string first = f.report.violations.empty() ? f.oracle
                                                          : f.report.violations.front().format();
    cases += fmt::format(
        "    <testcase classname=\"{}\" name=\"{} (generated seed {})\">\n"
        "      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
        cls, xml(f.oracle), f.seed, xml(f.oracle), xml(first), xml(f.report.format()));
  }
  for (size_t b = 0; b < t.batches.size(); ++b) {
    const Tally::Batch& batch = t.batches[b];
    if (batch.violating > 0) continue;  // its findings are the testcases above
    const uint64_t first = p.hunt.first_seed + b * CheckOptions::kJunitBatch;
    const std::string name = fmt::format("generated seeds {}-{}", first, first + batch.cases - 1);
    ++tests;
    std::string body;
    if (batch.case_errors > 0) {
      ++errors;
      const std::vector<std::string> lines = reason_lines(batch.case_error_reasons);
      body = fmt::format("      <error type=\"case-error\" message=\"{} cases could not run as "
                         "written; most often: {}\">{}</error>\n",
                         batch.case_errors,
                         xml(by_frequency(batch.case_error_reasons).front().first),
                         xml(fmt::format("{}", fmt::join(lines, "\n"))));
    } else if (batch.undecided > 0) {
      // An error, not a skip: the handler was not checked, and a dashboard must show why (the
      // message names the call the layer could not honour).
      ++errors;
      const std::vector<std::string> lines = reason_lines(batch.kit_limits);
      body = fmt::format("      <error type=\"kit-limit\" message=\"{} runs undecided (a limit "
                         "of the kit's, not the handler); most often: {}\">{}</error>\n",
                         batch.undecided, xml(by_frequency(batch.kit_limits).front().first),
                         xml(fmt::format("{}", fmt::join(lines, "\n"))));
    }
    cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\">\n{}    </testcase>\n", cls,
                         xml(name), body);
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n"
      "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\">\n"
      "{}  </testsuite>\n</testsuites>\n",
      xml(fmt::format("edgecase check {} ({}, {} on port {})", p.handler, o.backend, p.protocol,
                      p.port)),
      tests, failures, errors, skipped, cases);
}

nlohmann::ordered_json size_json(const CaseSize& s) {
  return {{"peers", s.peers}, {"steps", s.steps}, {"bytes", s.bytes}, {"faults", s.faults}};
}

std::string json_text(const CheckOptions& o, const Plan& p, const HuntResult& h, const Tally& t,
                      int exit_code) {
  nlohmann::ordered_json j;
  j["handler"] = p.handler;
  if (o.so.given()) {  // the shared object it was loaded from, and its arguments
    j["so"] = o.so.path;
    j["args"] = o.so.args;
  }
  j["protocol"] = p.protocol;
  j["port"] = p.port;
  j["backend"] = o.backend;
  j["faults"] = o.faults;
  j["first_seed"] = o.seed;
  j["cases"] = o.cases;
  j["generated"] = h.generated;
  j["clean"] = t.clean;
  j["violating"] = t.violating;
  j["undecided"] = t.undecided;
  j["case_errors"] = t.case_errors;
  j["case_error_reasons"] = nlohmann::ordered_json::array();
  for (const auto& [message, runs] : t.case_error_reasons)
    j["case_error_reasons"].push_back({{"message", message}, {"runs", runs}});
  j["kit_limits"] = nlohmann::ordered_json::array();
  for (const auto& [message, runs] : t.kit_limits)
    j["kit_limits"].push_back({{"message", message}, {"runs", runs}});
  j["runs"] = h.runs;
  j["out_of_time"] = h.out_of_time;
  j["findings"] = nlohmann::ordered_json::array();
  for (const Finding& f : h.findings) {
    nlohmann::ordered_json v = nlohmann::ordered_json::array();
    for (const Violation& x : f.report.violations) v.push_back(x.format());
    j["findings"].push_back({{"oracle", f.oracle},
                             {"seed", f.seed},
                             {"generated", f.generated},
                             {"runs", f.runs},
                             {"shrink_runs", f.shrink_runs},
                             {"first_size", size_json(f.first_size)},
                             {"smallest_size", size_json(case_size(f.smallest))},
                             {"violations", v},
                             {"story", f.report.story},
                             {"case_file", o.out_dir.empty() ? "" : finding_path(o, p, f)},
                             {"case", f.report.recorded_case_text()}});
  }
  j["seen"] = nlohmann::ordered_json::array();
  for (const auto& [oracle, n] : h.seen) j["seen"].push_back({{"oracle", oracle}, {"cases", n}});
  j["exit"] = exit_code;
  // Reports carry payload bytes: replace what is not UTF-8 rather than fail.
  return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

void write_file(const std::string& path, const std::string& text, std::string_view what) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw InputError{fmt::format("{}: cannot write the {}", path, what)};
}

void write_trace(const CheckOptions& o, const Plan& p, const HuntResult& h, std::FILE* out) {
  if (o.trace_path.empty()) return;
  if (h.findings.empty()) {
    write_file(o.trace_path, "", "trace");
    fmt::print(out, "trace: nothing found, {} left empty\n", o.trace_path);
    return;
  }
  const Finding& f = h.findings.front();
  if (f.oracle == oracle::kHandlerCrashed) {
    fmt::print(out, "trace: the handler crashed in that case; no trace can be taken in this "
                    "process ({} left empty; replay the case file in a sanitizer build)\n",
               o.trace_path);
    write_file(o.trace_path, "", "trace");
    return;
  }
  SimRun run(f.smallest, SimRunOptions{.keep_trace = true});
  run.run(*p.handlers);
  std::string text;
  for (const std::string& l : run.world().trace().all()) text += l + "\n";
  write_file(o.trace_path, text, "trace");
  fmt::print(out, "trace: the {} case's, {} lines, written to {}\n", f.oracle,
             run.world().trace().count(), o.trace_path);
}

void print_summary(const CheckOptions& o, const Plan& p, const HuntResult& h, const Tally& t,
                   std::FILE* out) {
  for (const Finding& f : h.findings) {
    fmt::print(out, "\n=== {}: found in generated case {} (seed {}); smallest after {} shrink "
                    "runs: {}\n",
               f.oracle, f.generated, f.seed, f.shrink_runs, size_text(case_size(f.smallest)));
    fmt::print(out, "{}", f.report.format());
    if (o.out_dir.empty()) continue;
    const std::string path = finding_path(o, p, f);
    fmt::print(out, "case file: {}\n", path);
    const TimelineFiles files = TimelineFiles::beside(path, o.perfetto);
    if (o.timeline && std::filesystem::is_regular_file(files.html))
      fmt::print(out, "timeline: {}\n", files.html);
    if (o.perfetto && std::filesystem::is_regular_file(files.perfetto))
      fmt::print(out, "perfetto: {}\n", files.perfetto);
  }
  fmt::print(out, "\nedgecase check {} ({}, protocol {}, port {}, faults {}): {} of {} cases run "
                  "from seed {}: {} clean, {} violating, {} undecided, {} could not run\n",
             p.handler, o.backend, p.protocol, p.port, o.faults, h.generated, o.cases, o.seed,
             t.clean, t.violating, t.undecided, t.case_errors);
  for (const std::string& line : reason_lines(t.kit_limits))
    fmt::print(out, "undecided, a limit of the kit's: {}\n", line);
  for (const std::string& line : reason_lines(t.case_error_reasons))
    fmt::print(out, "could not run: {}\n", line);
  if (!h.out_of_time.empty()) fmt::print(out, "undecided past that point: {}\n", h.out_of_time);
  std::vector<std::string> oracles;
  for (const Finding& f : h.findings) oracles.push_back(f.oracle);
  if (!oracles.empty())
    fmt::print(out, "verdict: FOUND {} ({})\n", oracles.size(), fmt::join(oracles, ", "));
  else if (t.case_errors > 0)
    fmt::print(out, "verdict: {} generated cases could not run (the case's fault, not the "
                    "handler's); most often: {}\n",
               t.case_errors, by_frequency(t.case_error_reasons).front().first);
  else if (t.undecided > 0 || !h.out_of_time.empty())
    fmt::print(out, "verdict: UNDECIDED (a limit of the kit's, not the handler: {} runs{})\n",
               t.undecided,
               t.kit_limits.empty() ? ""
                                    : "; most often: " + by_frequency(t.kit_limits).front().first);
  else
    fmt::print(out, "verdict: CLEAN\n");
}

int exit_code(const HuntResult& h, const Tally& t) {
  if (t.case_errors > 0) return kExitUsage;
  if (!h.findings.empty()) return kExitFound;
  if (t.undecided > 0 || !h.out_of_time.empty()) return kExitUndecided;
  return kExitClean;
}

void print_list(std::FILE* out) {
  fmt::print(out, "built-in handlers:\n");
  for (const std::string& n : handlers::names()) {
    const auto port = handlers::own_port(n);
    fmt::print(out, "  {:<16} protocol {}{}\n", n, default_protocol(n),
               port ? fmt::format(", listens on its own port {}", *port) : std::string());
  }
  fmt::print(out, "protocols: echo, line, hello\nfaults: {}\n", all_fault_names());
}

}  // namespace

void CheckOptions::add_to(CLI::App& app) {
  command = app.add_subcommand(
      "check",
      "Run generated cases against a handler and report every bug found, each with its "
      "smallest case (exit 0 clean, 1 found, 2 usage or input error, 3 undecided: a limit of "
      "the kit's ended runs)");
  command->footer(
      "Examples:\n"
      "  edgecase check seed002 --cases 200 --out cases/\n"
      "  edgecase check --so build/my_server.so --arg 8080 --port 8080 --protocol echo --cases "
      "200 --out cases/\n"
      "    (a server of your own, unmodified, built into my_server.so by\n"
      "    edgecase_add_handler(my_server ... ENTRY main); --arg 8080 is its argv[1], --port "
      "where it\n"
      "    then listens. Its cases replay with: edgecase replay cases/my_server-ORACLE.case "
      "--so\n"
      "    build/my_server.so)");
  command->add_option("handler", handler, "The handler: a built-in name (see --list); or --so");
  so.add_to(command);
  command->add_flag("--list", list, "Print the built-in handlers, protocols and faults");
  command->add_option("--backend", backend, "sim (the simulated world) or live (loopback sockets)")
      ->capture_default_str();
  command->add_option("--cases", cases, "Generated cases to run")
      ->check(CLI::Range(uint64_t{1}, kMaxCases))
      ->capture_default_str();
  seed_option(command, "--seed", seed, "The first generated seed (default 1; the cases use "
                                       "seed, seed + 1, ...)");
  command->add_option("--faults", faults,
                      "none; swarm (each case draws which faults are on); all (every fault on "
                      "in every case); or a comma-separated list of faults (swarm among them)")
      ->capture_default_str();
  command->add_option("--protocol", protocol,
                      "echo, line or hello (default: the handler's own, see --list; --so: echo)");
  command->add_option("--port", port,
                      "Where the handler listens (default: its own, or 7000; required with --so)")
      ->check(CLI::Range(1, 65535));
  command->add_option("--time-limit", time_limit,
                      "Wall-clock seconds for the whole check; past it the rest is undecided")
      ->check(CLI::Range(0.001, 7 * 24 * 3600.0))
      ->capture_default_str();
  command->add_option("--out", out_dir, "Directory for a case file per finding");
  command->add_option("--trace", trace_path, "Write the first finding's full trace here (sim)");
  command->add_option("--junit", junit_path,
                      "Write JUnit XML: a testcase per finding and per batch of clean cases");
  command->add_option("--json", json_path, "Write the result as JSON");
  auto* out_option = command->get_option("--out");
  command->add_flag("--timeline", timeline,
                    "Write a timeline beside each case file (FILE.html: a self-contained page, a "
                    "lane per connection; sim)")
      ->needs(out_option);
  command->add_flag("--perfetto", perfetto,
                    "Write each finding's run in the Chrome trace event format beside its case "
                    "file (FILE.json, for ui.perfetto.dev; sim)")
      ->needs(out_option);
  command->add_flag("-q,--quiet", quiet, "No progress lines on standard error");
}

int run_check(const CheckOptions& o, std::FILE* out) {
  if (o.list) {
    print_list(out);
    return kExitClean;
  }
  try {
    Plan p = make_plan(o);
    check_found_by_fits(o, p);
    Tally tally;
    // Progress is for a person watching a long check: at most a line a second, on standard
    // error, never in what the check writes (wall-clock time decides only when to print).
    using Clock = std::chrono::steady_clock;
    auto next_line = Clock::now() + CheckOptions::kProgressEvery;
    p.hunt.on_case = [&](uint64_t generated, const Report& r) {
      count(tally, generated, r);
      if (o.quiet || Clock::now() < next_line) return;
      next_line = Clock::now() + CheckOptions::kProgressEvery;
      fmt::print(stderr, "check {}: {}/{} cases, {} violating, {} undecided\n", p.handler,
                 generated, o.cases, tally.violating, tally.undecided);
    };
    HuntResult h = hunt(*builtin_protocol(p.protocol), p.gen, p.hunt);
    if (!o.out_dir.empty())
      for (const Finding& f : h.findings) write_finding(o, p, f);
    std::vector<std::string> why;
    const std::vector<std::optional<Timeline>> drawn = draw_findings(o, p, h, why);
    const bool timelines_written = write_finding_timelines(o, p, h, drawn, why);
    print_summary(o, p, h, tally, out);
    write_trace(o, p, h, out);
    const int code = exit_code(h, tally);
    if (!o.junit_path.empty()) write_file(o.junit_path, junit_text(o, p, h, tally), "JUnit XML");
    if (!o.json_path.empty()) write_file(o.json_path, json_text(o, p, h, tally, code), "JSON");
    // A file asked for and not written: the findings are printed, the exit says the output
    // is incomplete.
    return timelines_written ? code : kExitUsage;
  } catch (const InputError& e) {
    fmt::print(stderr, "edgecase check: {}\n", e.message);
    return kExitUsage;
  }
}

}  // namespace edgecase::tools
