// check_server (edgecase/property.h): the property "every generated case passes every oracle"
// under rapidcheck's own test loop and shrinking (rc::detail::checkProperty), the minimal case
// re-run traced (and live when asked), printed, and written as a case file; or, under
// EDGECASE_REPLAY, one case file run instead.
#include "edgecase/property.h"

#include <rapidcheck.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <map>
#include <stdexcept>
#include <system_error>
#include <utility>
#include <variant>
#include <vector>

#include <fmt/format.h>

#include "props/hunt.h"

namespace edgecase {
namespace {

// What rapidcheck's picks hold: the generated case. Its own type, so that rapidcheck's
// counterexample line shows the case's size (showValue below) instead of "<???>".
struct GeneratedCase {
  Case c;
};

void showValue(const GeneratedCase& g, std::ostream& os) {
  const CaseSize z = case_size(g.c);
  os << z.peers << (z.peers == 1 ? " peer, " : " peers, ") << z.steps << " steps, " << z.bytes
     << " B, " << z.faults << (z.faults == 1 ? " fault" : " faults")
     << " (its case file is in the report below)";
}

}  // namespace
}  // namespace edgecase

template <>
struct rc::ShowType<edgecase::GeneratedCase> {
  static void showType(std::ostream& os) { os << "generated case"; }
};

namespace edgecase {
namespace {

// The first violation of `r` whose oracle is not in `ignore` (PropertyOptions::ignore), or
// nullptr: the one a case fails with.
const Violation* first_unignored(const Report& r, const std::vector<std::string>& ignore) {
  for (const Violation& v : r.violations)
    if (std::find(ignore.begin(), ignore.end(), v.oracle) == ignore.end()) return &v;
  return nullptr;
}

// The stats tags a run reached (RunStats, stats_tags; edgecase/report.h).
std::vector<std::string> run_tags(const Report& r) { return stats_tags(r.stats); }

// rapidcheck's property id for this call: what RC_PARAMS="reproduce=..." is keyed by.
std::string property_id(const Protocol& protocol, const PropertyOptions& o) {
  return fmt::format("check_server {} {}", o.gen.handler, protocol.name);
}

// Runs cases against one handler with fixed options: in this process, or in one child kept
// alive across runs (IsolatedRunner) when the options isolate, one child per option set.
class Runs {
 public:
  Runs(const Handler& handler, RunOptions options) : handler_(handler), options_(options) {}

  Report run(const Case& c, bool traced, Backend backend = Backend::sim) {
    RunOptions o = options_;
    o.trace = traced;
    o.backend = backend;
    if (!o.isolate) return run_case(handler_, c, o);
    auto& runner = isolated_[backend == Backend::live ? 2 : traced ? 1 : 0];
    if (!runner) runner = std::make_unique<IsolatedRunner>(o, handler_);
    return runner->run(c);
  }

 private:
  const Handler& handler_;
  RunOptions options_;
  std::unique_ptr<IsolatedRunner> isolated_[3];  // untraced, traced, live
};

// Counts the tags of each generated case (not the shrinks: rapidcheck reports those to
// onShrinkTried), and nothing else: rapidcheck's default listener would also print a
// "To reproduce" note at exit for properties that are meant to fail (the seed suites).
class TagCounter final : public rc::detail::TestListener {
 public:
  explicit TagCounter(std::map<std::string, int>& tags) : tags_(tags) {}
  void onTestCaseFinished(const rc::detail::CaseDescription& d) override {
    if (d.result.type == rc::detail::CaseResult::Type::Discard) return;
    // RC_TAG shows each value as rapidcheck's show() does: a string in quotes.
    for (const std::string& t : d.tags)
      ++tags_[t.size() >= 2 && t.front() == '"' && t.back() == '"' ? t.substr(1, t.size() - 2) : t];
  }
  void onShrinkTried(const rc::detail::CaseDescription&, bool) override {}
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}

 private:
  std::map<std::string, int>& tags_;
};

// The property's state across rapidcheck's calls of it: the oracle the first failure showed
// (shrinks must still show it, so the minimal case explains the failure found rather than
// another bug it slipped to), the last failing case (the minimal one once shrinking ends:
// every failing shrink is taken), and the shrink runs spent.
struct Search {
  std::optional<std::string> oracle;
  std::optional<std::pair<Case, Report>> last_failing;
  uint64_t shrink_runs = 0;
  std::map<std::string, int> discarded;  // generated cases only, by reason
  int discarded_total = 0;
  int passed = 0;  // generated cases that passed
  // Set when kUndecidedBeforeFirstPass is reached: the error. rapidcheck's shrinks of that
  // failure then run nothing.
  std::string undecidable;
};

// Undecided generated cases before the first pass that end the property with an error: a
// handler told the wrong port (every case a case error) would otherwise cost rapidcheck's
// whole discard budget (10 per case wanted) before it gives up.
constexpr int kUndecidedBeforeFirstPass = 20;

// "; N undecided, most often: REASON" for the verdict line ("" when none was).
std::string undecided_text(const std::map<std::string, int>& undecided) {
  if (undecided.empty()) return "";
  int total = 0;
  const std::pair<const std::string, int>* most = nullptr;
  for (const auto& entry : undecided) {
    total += entry.second;
    if (most == nullptr || entry.second > most->second) most = &entry;
  }
  return fmt::format("; {} undecided (not the handler's doing), most often: {}", total,
                     most->first);
}

// One call of the property: run the case, tag it, judge it. The verdict's description is the
// first violation's line (what rapidcheck prints as the failure).
rc::detail::CaseResult judge(Runs& runs, const rc::Gen<GeneratedCase>& gen,
                             const PropertyOptions& o, Search& s) {
  using rc::detail::CaseResult;
  const Case c = (*gen).c;
  if (!s.undecidable.empty()) return CaseResult(CaseResult::Type::Discard, s.undecidable);
  if (s.oracle) {
    // Shrinking: past the budget every shrink is rejected unrun.
    if (o.max_shrink_runs > 0 && s.shrink_runs >= o.max_shrink_runs)
      return CaseResult(CaseResult::Type::Success, "shrink budget spent");
    ++s.shrink_runs;
  }
  Report r = runs.run(c, false);
  for (const std::string& t : run_tags(r)) RC_TAG(t);
  const Violation* v = first_unignored(r, o.ignore);
  if (v == nullptr) {
    // Undecided (a kit limit, a case that could not run): neither a pass nor a failure.
    const std::string& why = !r.kit_limit.empty() ? r.kit_limit : r.case_errors.empty()
                                                                      ? r.kit_limit
                                                                      : r.case_errors[0];
    if (!why.empty()) {
      if (s.oracle) return CaseResult(CaseResult::Type::Discard, why);
      ++s.discarded[why];
      if (++s.discarded_total >= kUndecidedBeforeFirstPass && s.passed == 0) {
        s.undecidable = fmt::format("the first {} generated cases were all undecided{}",
                                    s.discarded_total, undecided_text(s.discarded));
        throw std::runtime_error(s.undecidable);
      }
      return CaseResult(CaseResult::Type::Discard, why);
    }
    if (!s.oracle) ++s.passed;
    return CaseResult(CaseResult::Type::Success, r.violations.empty() ? "clean" : "ignored");
  }
  // Another bug than the one found first: this shrink is rejected.
  if (s.oracle && !r.found(*s.oracle)) return CaseResult(CaseResult::Type::Success, "other");
  if (!s.oracle) s.oracle = v->oracle;
  CaseResult failed(CaseResult::Type::Failure, v->format());
  s.last_failing.emplace(c, std::move(r));
  return failed;
}

// rapidcheck's parameters: RC_PARAMS's (rapidcheck's configuration), with the options' cases
// and seed when given.
rc::detail::TestParams test_params(const PropertyOptions& o) {
  rc::detail::TestParams p = rc::detail::configuration().testParams;
  if (o.cases > 0) p.maxSuccess = o.cases;
  if (o.seed != 0) p.seed = o.seed;
  return p;
}

// RC_PARAMS="reproduce=... seed=..." for a failure of property `id`, as rapidcheck prints it.
std::string reproduce_text(const std::string& id, const rc::detail::Reproduce& r,
                           const rc::detail::TestParams& params) {
  rc::detail::Configuration config;
  config.testParams = params;
  config.reproduce[id] = r;
  return "RC_PARAMS=\"" + rc::detail::configToMinimalString(config) + "\"";
}

// A file name from a handler's or an oracle's name: letters, digits, '.', '-' and '_' kept.
std::string file_part(std::string_view name) {
  std::string out;
  for (const char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_';
    out += ok ? ch : '_';
  }
  return out.empty() ? "case" : out;
}

// Writes the report's case file (with its # violation: lines) to case_dir as
// HANDLER-ORACLE.case, ORACLE the one the property failed with; the path, or "" with `why` set.
std::string write_case_file(const Report& r, const std::string& failed_with,
                            const PropertyOptions& o, std::string* why) {
  if (o.case_dir.empty()) return "";
  const std::string oracle = failed_with.empty() ? "clean" : failed_with;
  const std::filesystem::path dir(o.case_dir);
  const std::filesystem::path path =
      dir / (file_part(o.gen.handler) + "-" + file_part(oracle) + ".case");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << r.recorded_case_text();
  out.close();
  if (!out) {
    *why = fmt::format("could not write {}", path.string());
    return "";
  }
  return path.string();
}

// The reached tags, "short-read 31, eagain 40, ..." ("none").
std::string tags_text(const std::map<std::string, int>& tags) {
  std::string s;
  for (const auto& [tag, n] : tags) s += fmt::format("{}{} {}", s.empty() ? "" : ", ", tag, n);
  return s.empty() ? "none" : s;
}

// This test binary's path, for the replay command line ("<this test binary>" if unknown).
std::string this_binary() {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? "<this test binary>" : p.string();
}

// `path` from the root, so that the printed command works from any directory (the case file is
// written to the working directory, which ctest sets to the test's build directory).
std::string absolute_path(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path p = std::filesystem::absolute(path, ec);
  return ec ? path : p.lexically_normal().string();
}

// `text` as one word of a POSIX shell command: quoted when it holds anything but a path's
// usual characters.
std::string shell_word(const std::string& text) {
  const bool plain = !text.empty() && text.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                             "abcdefghijklmnopqrstuvwxyz"
                                                             "0123456789_/.,:=+-@%") ==
                                          std::string::npos;
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The minimal case's report (traced), its live confirmation, its case file, the printout.
void finish_failure(PropertyResult& result, Runs& runs, const PropertyOptions& o,
                    const std::string& header) {
  Report traced = runs.run(result.minimal, true);
  // Deterministic, so the traced run fails alike; a crash's report may differ in its text.
  if (first_unignored(traced, o.ignore) != nullptr) result.report = std::move(traced);
  if (const Violation* v = first_unignored(result.report, o.ignore)) result.oracle = v->oracle;
  if (o.confirm_live) result.live = runs.run(result.minimal, true, Backend::live);
  std::string write_error;
  if (!result.replayed)
    result.case_file = write_case_file(result.report, result.oracle, o, &write_error);
  if (!o.verbose) return;
  std::string out = header;
  if (!result.reproduce.empty()) out += "reproduce with rapidcheck: " + result.reproduce + "\n";
  if (!result.case_file.empty())
    out += fmt::format("replay this case: {}={} {}{}\n", kReplayEnv,
                       shell_word(absolute_path(result.case_file)), shell_word(this_binary()),
                       o.replay_test_name.empty() ? "" : " " + o.replay_test_name);
  if (!write_error.empty()) out += "case file NOT written: " + write_error + "\n";
  if (!o.ignore.empty())
    out += fmt::format("failed with {} (ignoring {})\n", result.oracle, fmt::join(o.ignore, ", "));
  out += result.report.format();
  if (result.live) {
    const Report& l = *result.live;
    out += "\nlive sockets: ";
    out += l.clean() ? "clean (not reproduced live)" : fmt::format("{}", fmt::join(l.oracles(), ", "));
    for (const std::string& u : l.undecided) out += "; undecided: " + u;
    out += "\n";
  }
  fmt::print(stderr, "{}\n", out);
}

// EDGECASE_REPLAY: the case file, when it names this handler and protocol; nullopt otherwise.
std::optional<PropertyResult> replay(const Handler& handler, const Protocol& protocol,
                                     const PropertyOptions& o, const std::string& path) {
  PropertyResult result;
  result.replayed = true;
  result.case_file = path;
  const auto parsed = read_case_file(path);
  if (const auto* e = std::get_if<CaseError>(&parsed)) {
    result.passed = false;
    result.error = fmt::format("{}={}: not a case file: {}", kReplayEnv, path, e->message);
    fmt::print(stderr, "edgecase check_server: {}\n", result.error);
    return result;
  }
  const Case& c = std::get<Case>(parsed);
  if (c.scenario.handler != o.gen.handler || c.scenario.protocol != protocol.name) {
    if (o.verbose)
      fmt::print(stderr,
                 "edgecase check_server {} {}: {}={} is for handler \"{}\", protocol \"{}\": "
                 "generating cases as usual\n",
                 o.gen.handler, protocol.name, kReplayEnv, path, c.scenario.handler,
                 c.scenario.protocol);
    return std::nullopt;
  }
  RunOptions run = o.run;
  if (run.checker == nullptr) run.checker = protocol.checker.get();
  Runs runs(handler, run);
  result.cases = 1;
  result.minimal = c;
  result.report = runs.run(c, true);
  for (const std::string& t : run_tags(result.report)) ++result.tags[t];
  const Report& r = result.report;
  result.passed = first_unignored(r, o.ignore) == nullptr && r.case_errors.empty() &&
                  r.kit_limit.empty();
  const std::string head =
      fmt::format("edgecase check_server {} {}: replayed {}: ", o.gen.handler, protocol.name, path);
  if (result.passed) {
    if (o.confirm_live) {
      result.live = runs.run(c, true, Backend::live);
    }
    if (o.verbose) fmt::print(stderr, "{}passes\n", head);
    return result;
  }
  finish_failure(result, runs, o, head + "FAILS\n");
  return result;
}

// gen_case, at full size when options.full_size (property.h).
rc::Gen<Case> sized_case(const Protocol& protocol, const PropertyOptions& options) {
  const rc::Gen<Case> gen = gen_case(protocol, options.gen);
  return options.full_size ? rc::gen::resize(kFullSize, gen) : gen;
}

}  // namespace

PropertyResult check_server(const Handler& handler, const Protocol& protocol,
                            const PropertyOptions& options) {
  if (const char* path = std::getenv(std::string(kReplayEnv).c_str()); path && *path)
    if (std::optional<PropertyResult> r = replay(handler, protocol, options, path)) return *r;

  RunOptions run = options.run;
  if (run.checker == nullptr) run.checker = protocol.checker.get();
  Runs runs(handler, run);
  const rc::Gen<GeneratedCase> gen = rc::gen::map(
      sized_case(protocol, options), [](Case c) { return GeneratedCase{std::move(c)}; });
  Search search;
  PropertyResult result;
  TagCounter listener(result.tags);
  rc::detail::TestMetadata metadata;
  metadata.id = property_id(protocol, options);
  metadata.description = metadata.id;
  const rc::detail::TestParams params = test_params(options);
  const rc::detail::TestResult outcome = rc::detail::checkProperty(
      rc::detail::toProperty([&] { return judge(runs, gen, options, search); }), metadata, params,
      listener, rc::detail::configuration().reproduce);

  const std::string head = fmt::format("edgecase check_server {} {} (seed {}): ", options.gen.handler,
                                       protocol.name, params.seed);
  rc::detail::SuccessResult success;
  rc::detail::FailureResult failure;
  rc::detail::GaveUpResult gave_up;
  rc::detail::Error error;
  result.undecided = search.discarded;
  if (outcome.match(success)) {
    result.cases = success.numSuccess;
    if (options.verbose)
      fmt::print(stderr, "{}{} cases passed{}; cases reaching each edge: {}\n", head,
                 success.numSuccess, undecided_text(result.undecided), tags_text(result.tags));
    return result;
  }
  result.passed = false;
  if (outcome.match(gave_up)) {
    result.cases = gave_up.numSuccess;
    result.error = "rapidcheck gave up: " + gave_up.description + undecided_text(result.undecided);
  } else if (outcome.match(error)) {
    result.error = "rapidcheck: " + error.description;
  } else if (outcome.match(failure) && !search.last_failing) {
    // The property itself threw (a bad case or protocol is the caller's error).
    result.cases = failure.numSuccess + 1;
    result.error = search.undecidable.empty() ? failure.description : search.undecidable;
  }
  if (!result.error.empty()) {
    fmt::print(stderr, "{}{}\n", head, result.error);
    return result;
  }
  result.cases = failure.numSuccess + 1;
  result.shrink_runs = search.shrink_runs;
  result.minimal = search.last_failing->first;
  result.report = search.last_failing->second;
  result.reproduce = reproduce_text(metadata.id, failure.reproduce, params);
  std::ostringstream rc_message;
  rc::detail::printResultMessage(failure, rc_message);
  finish_failure(result, runs, options,
                 fmt::format("{}FAILED after {} cases, {} shrink runs; cases reaching each "
                             "edge: {}\n{}\n",
                             head, result.cases, result.shrink_runs, tags_text(result.tags),
                             rc_message.str()));
  return result;
}

}  // namespace edgecase
