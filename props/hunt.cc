// Hunting bugs (props/hunt.h): generated cases (case_from_seed) run until the oracles fire,
// each new oracle's case shrunk by rapidcheck (findLocalMin over the case's shrink tree).
#include "props/hunt.h"

#include <algorithm>
#include <chrono>
#include <fmt/format.h>
#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

namespace edgecase {

CaseSize case_size(const Case& c) {
  CaseSize s;
  s.peers = c.scenario.peers.size();
  for (const PeerScript& p : c.scenario.peers) {
    s.steps += p.steps.size();
    for (const Step& st : p.steps)
      if (st.op == Step::Op::send) s.bytes += st.bytes();
  }
  for (const Fault& f : c.faults.faults) s.faults += f.on && f.per_mille > 0 ? 1 : 0;
  return s;
}

const Finding* HuntResult::find(std::string_view oracle) const {
  for (const Finding& f : findings)
    if (f.oracle == oracle) return &f;
  return nullptr;
}

namespace {

bool targeted(const HuntOptions& o, std::string_view oracle) {
  return o.targets.empty() ||
         std::find(o.targets.begin(), o.targets.end(), oracle) != o.targets.end();
}

void count_seen(HuntResult& r, const std::string& oracle) {
  for (auto& [name, n] : r.seen)
    if (name == oracle) {
      ++n;
      return;
    }
  r.seen.emplace_back(oracle, 1);
}

// The smallest case rapidcheck's shrink tree leads to from `generated` while `still_fails`
// holds: findLocalMin takes the first shrink that still fails and goes on from its shrinks.
Case rapidcheck_shrink(const rc::Shrinkable<Case>& generated,
                       const std::function<bool(const Case&)>& still_fails) {
  return rc::shrinkable::findLocalMin(generated, still_fails).first;
}

}  // namespace

HuntResult hunt(const Protocol& protocol, const GenOptions& gen, const HuntOptions& options,
                const Handler& handler) {
  HuntResult result;
  RunOptions run_options = options.run;
  if (run_options.checker == nullptr && run_options.checkers == nullptr)
    run_options.checker = protocol.checker.get();
  // Isolated hunts keep one child process for all their runs (a fork per run would cost more
  // than the runs): one for untraced runs, one for traced ones.
  std::unique_ptr<IsolatedRunner> isolated[2];
  const auto run = [&](const Case& c, const RunOptions& o) {
    ++result.runs;
    if (o.isolate) {
      auto& runner = isolated[o.trace ? 1 : 0];
      if (!runner) runner = std::make_unique<IsolatedRunner>(o, handler);
      return runner->run(c);
    }
    return handler ? run_case(handler, c, o) : run_case(c, o);
  };
  // Wall-clock, the hunt's own limit (docs/DETERMINISM.md): it decides only when to stop.
  const auto started = std::chrono::steady_clock::now();
  const auto spent = [&] {
    const auto t = std::chrono::steady_clock::now() - started;
    return options.time_budget > 0 &&
           std::chrono::duration_cast<std::chrono::nanoseconds>(t).count() >= options.time_budget;
  };
  for (uint64_t seed = options.first_seed; seed - options.first_seed < options.seeds; ++seed) {
    if (spent()) {
      result.out_of_time = fmt::format("the time budget ({} ms) ran out after {} generated cases "
                                       "of {}",
                                       options.time_budget / kNanosPerMilli, result.generated,
                                       options.seeds);
      break;
    }
    const rc::Shrinkable<Case> tree = case_from_seed(protocol, gen, seed);
    const Case generated = tree.value();
    const Report report = run(generated, run_options);
    ++result.generated;
    if (report.clean()) ++result.clean_runs;
    if (options.on_case) options.on_case(result.generated, report);
    for (const std::string& oracle : report.oracles()) {
      count_seen(result, oracle);
      if (!targeted(options, oracle) || result.find(oracle) != nullptr) continue;
      Finding f{oracle, generated, report, seed, 0, result.generated, 0, case_size(generated)};
      if (options.shrink) {
        Report last = report;
        // Shrinks that write the same case as one already run (a start toggled where every
        // start is 0, a request cut back to the same budget) are judged without a run.
        std::map<std::string, bool> judged{{write_case(generated), true}};
        // Every shrink the budget leaves no run for, or that no longer fails, is rejected:
        // the smallest case so far is kept.
        const auto still_fails = [&](const Case& cand) {
          std::string text = write_case(cand);
          if (const auto it = judged.find(text); it != judged.end()) return false;
          if (f.shrink_runs >= options.max_shrink_runs || spent()) return false;
          ++f.shrink_runs;
          Report r = run(cand, run_options);
          const bool fails = r.found(oracle);
          judged.emplace(std::move(text), fails);
          if (fails) last = std::move(r);
          return fails;
        };
        f.smallest = rapidcheck_shrink(tree, still_fails);
        f.report = std::move(last);
      }
      // The hunt runs untraced for speed; the finding's report shows the last calls.
      if (!run_options.trace) {
        RunOptions traced = run_options;
        traced.trace = true;
        if (Report r = run(f.smallest, traced); r.found(oracle)) f.report = std::move(r);
      }
      f.runs = f.generated + f.shrink_runs;
      result.findings.push_back(std::move(f));
    }
    if (options.stop_at_first && !result.findings.empty()) break;
    if (!options.targets.empty() && result.findings.size() == options.targets.size()) break;
  }
  return result;
}

HuntResult hunt(std::string_view handler_name, std::string_view protocol, uint16_t port,
                const HuntOptions& options, const Handler& handler) {
  const std::optional<Protocol> p = builtin_protocol(protocol);
  if (!p) throw std::invalid_argument("no such protocol: " + std::string(protocol));
  GenOptions gen;
  gen.handler = std::string(handler_name);
  gen.port = port;
  return hunt(*p, gen, options, handler);
}

}  // namespace edgecase
