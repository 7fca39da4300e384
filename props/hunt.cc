// Hunting bugs (props/hunt.h): generated cases (case_from_seed) run until the oracles fire,
// each new oracle's case shrunk by rapidcheck (findLocalMin over the case's shrink tree).
#include "props/hunt.h"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <deque>
#include <fmt/format.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>


namespace edgecase {

namespace {

using Op = Step::Op;

// Whether the case's peers speak lines (hello, line) rather than echo bytes.
bool line_protocol(const Case& c) { return c.scenario.protocol != "echo"; }

// One message of a script: the send steps of one request and the step that reads its reply.
struct Message {
  std::vector<size_t> sends;  // step indices, in order
  size_t expect = 0;          // the expect (echo) or expect_line (lines) answering it
};

// Whether send step `st` ends a request: every echo send does; a line ends at its '\n'.
bool ends_request(const Step& st, bool lines) {
  return !lines || (!st.data.empty() && st.data.back() == '\n');
}

// The script's messages, paired in order within each connection: the k-th request of a
// connection with its k-th reply read. Sends or reads left unpaired are not messages, and an
// echo pair whose sizes differ is not one either (halving or dropping it would desynchronise
// the rest).
std::vector<Message> messages(const PeerScript& p, bool lines) {
  std::vector<Message> out;
  std::deque<std::vector<size_t>> requests;
  std::vector<size_t> partial;
  const Op reply = lines ? Op::expect_line : Op::expect;
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Step& st = p.steps[i];
    if (st.op == Op::connect) {
      requests.clear();
      partial.clear();
    } else if (st.op == Op::send) {
      partial.push_back(i);
      if (ends_request(st, lines)) requests.push_back(std::exchange(partial, {}));
    } else if (st.op == reply && !requests.empty()) {
      Message m{std::move(requests.front()), i};
      requests.pop_front();
      if (lines || (m.sends.size() == 1 && p.steps[m.sends[0]].n == st.n)) out.push_back(std::move(m));
    }
  }
  return out;
}

void erase_steps(PeerScript& p, std::vector<size_t> at) {
  std::sort(at.rbegin(), at.rend());
  for (size_t i : at) p.steps.erase(p.steps.begin() + static_cast<std::ptrdiff_t>(i));
}

// --- the shrinker's passes: each lists the candidates one step smaller than `c`, in a fixed
// order. Every candidate is a well-formed conversation (each request still has its reply read,
// each read its request), so a stall the shrunk case shows is the handler's, not the script's.

std::vector<Case> drop_peer(const Case& c) {
  std::vector<Case> out;
  if (c.scenario.peers.size() < 2) return out;
  for (size_t i = 0; i < c.scenario.peers.size(); ++i) {
    Case d = c;
    d.scenario.peers.erase(d.scenario.peers.begin() + static_cast<std::ptrdiff_t>(i));
    out.push_back(std::move(d));
  }
  return out;
}

// A reconnecting peer's conversations: [connect, next connect).
std::vector<Case> drop_connection(const Case& c) {
  std::vector<Case> out;
  for (size_t pi = 0; pi < c.scenario.peers.size(); ++pi) {
    const auto& steps = c.scenario.peers[pi].steps;
    std::vector<size_t> starts;
    for (size_t i = 0; i < steps.size(); ++i)
      if (steps[i].op == Op::connect) starts.push_back(i);
    if (starts.size() < 2) continue;
    starts.push_back(steps.size());
    for (size_t k = 0; k + 1 < starts.size(); ++k) {
      Case d = c;
      auto& s = d.scenario.peers[pi].steps;
      s.erase(s.begin() + static_cast<std::ptrdiff_t>(starts[k]),
              s.begin() + static_cast<std::ptrdiff_t>(starts[k + 1]));
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::vector<Case> drop_message(const Case& c) {
  std::vector<Case> out;
  const bool lines = line_protocol(c);
  for (size_t pi = 0; pi < c.scenario.peers.size(); ++pi) {
    for (const Message& m : messages(c.scenario.peers[pi], lines)) {
      Case d = c;
      std::vector<size_t> at = m.sends;
      at.push_back(m.expect);
      erase_steps(d.scenario.peers[pi], std::move(at));
      out.push_back(std::move(d));
    }
  }
  return out;
}

// Steps that are neither requests nor replies: pauses, buffer settings, a half-close (with
// the read of the end of file that follows it in the same connection).
std::vector<Case> drop_extra(const Case& c) {
  std::vector<Case> out;
  for (size_t pi = 0; pi < c.scenario.peers.size(); ++pi) {
    const auto& steps = c.scenario.peers[pi].steps;
    for (size_t i = 0; i < steps.size(); ++i) {
      const Op op = steps[i].op;
      if (op != Op::sleep && op != Op::rcvbuf && op != Op::slow_read && op != Op::shutdown_write)
        continue;
      std::vector<size_t> at{i};
      for (size_t j = i + 1; op == Op::shutdown_write && j < steps.size(); ++j) {
        if (steps[j].op == Op::connect) break;
        if (steps[j].op == Op::read_eof) at.push_back(j);
      }
      Case d = c;
      erase_steps(d.scenario.peers[pi], std::move(at));
      out.push_back(std::move(d));
    }
  }
  return out;
}

// Each fault on: off, else silenced (on at 0 per mille). Switching a fault off also removes
// its draws from the world's fault stream, so every later fault fires elsewhere and the bug
// may vanish; a silenced fault still draws (Rng::chance always does) and never fires.
std::vector<Case> faults_off(const Case& c) {
  std::vector<Case> out;
  for (size_t i = 0; i < kFaultCount; ++i) {
    if (!c.faults.faults[i].on) continue;
    Case d = c;
    d.faults.faults[i] = Fault{};
    out.push_back(std::move(d));
    if (c.faults.faults[i].per_mille == 0) continue;
    Case z = c;
    z.faults.faults[i].per_mille = 0;
    out.push_back(std::move(z));
  }
  return out;
}

// A line's request half as long: its pattern part halved (or dropped at one byte), else its
// data bytes. False when there is nothing left to halve ("\n" alone).
bool halve_line(PeerScript& p, const Message& m) {
  for (size_t i : m.sends) {
    Step& st = p.steps[i];
    if (!st.data.empty()) continue;
    if (st.n >= 2) {
      st.n /= 2;
    } else {
      erase_steps(p, {i});
    }
    return true;
  }
  std::string text;
  for (size_t i : m.sends) text += p.steps[i].data;
  if (text.size() < 2) return false;
  text.resize((text.size() - 1) / 2);
  text += '\n';
  const size_t first = m.sends.front();
  erase_steps(p, m.sends);
  std::vector<Step> chunks;
  for (size_t at = 0; at < text.size(); at += CaseLimits::kMaxDataBytes)
    chunks.push_back(Step{Op::send, 0, 0, text.substr(at, CaseLimits::kMaxDataBytes)});
  p.steps.insert(p.steps.begin() + static_cast<std::ptrdiff_t>(first), chunks.begin(), chunks.end());
  return true;
}

std::vector<Case> halve_message(const Case& c) {
  std::vector<Case> out;
  const bool lines = line_protocol(c);
  for (size_t pi = 0; pi < c.scenario.peers.size(); ++pi) {
    for (const Message& m : messages(c.scenario.peers[pi], lines)) {
      Case d = c;
      PeerScript& p = d.scenario.peers[pi];
      if (lines) {
        if (!halve_line(p, m)) continue;
      } else {
        if (p.steps[m.expect].n < 2) continue;
        p.steps[m.sends[0]].n /= 2;
        p.steps[m.expect].n /= 2;
      }
      out.push_back(std::move(d));
    }
  }
  return out;
}

std::vector<Case> zero_starts(const Case& c) {
  std::vector<Case> out;
  auto& peers = c.scenario.peers;
  const auto started_late = [](const PeerScript& p) { return p.start != 0; };
  if (std::count_if(peers.begin(), peers.end(), started_late) > 1) {
    Case d = c;
    for (PeerScript& p : d.scenario.peers) p.start = 0;
    out.push_back(std::move(d));
  }
  for (size_t i = 0; i < peers.size(); ++i) {
    if (!started_late(peers[i])) continue;
    Case d = c;
    d.scenario.peers[i].start = 0;
    out.push_back(std::move(d));
  }
  return out;
}

using Pass = std::vector<Case> (*)(const Case&);
// Biggest cuts first: a dropped peer saves more runs later than a halved message.
constexpr Pass kPasses[] = {drop_peer,  drop_connection, drop_message, drop_extra,
                            faults_off, halve_message,   zero_starts};

}  // namespace

CaseSize case_size(const Case& c) {
  CaseSize s;
  s.peers = c.scenario.peers.size();
  for (const PeerScript& p : c.scenario.peers) {
    s.steps += p.steps.size();
    for (const Step& st : p.steps)
      if (st.op == Op::send) s.bytes += st.data.empty() ? st.n : st.data.size();
  }
  for (const Fault& f : c.faults.faults) s.faults += f.on && f.per_mille > 0 ? 1 : 0;
  return s;
}

Case shrink_case(const Case& c, const std::function<bool(const Case&)>& still_fails,
                 uint64_t max_runs, uint64_t* runs) {
  Case cur = c;
  uint64_t spent = 0;
  for (bool changed = true; changed && spent < max_runs;) {
    changed = false;
    for (Pass pass : kPasses) {
      // The candidates are listed again after each success, from the same index: the
      // candidates before it failed already and (mostly) still would.
      for (size_t i = 0; spent < max_runs;) {
        std::vector<Case> candidates = pass(cur);
        if (i >= candidates.size()) break;
        Case& cand = candidates[i];
        assert(!check_case(cand).has_value());
        ++spent;
        if (still_fails(cand)) {
          cur = std::move(cand);
          changed = true;
        } else {
          ++i;
        }
      }
    }
  }
  if (runs != nullptr) *runs = spent;
  return cur;
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
    for (const std::string& oracle : report.oracles()) {
      count_seen(result, oracle);
      if (!targeted(options, oracle) || result.find(oracle) != nullptr) continue;
      Finding f{oracle, generated, report, seed, 0, result.generated, 0, case_size(generated)};
      if (options.shrink) {
        Report last = report;
        // Every shrink the budget leaves no run for, or that no longer fails, is rejected:
        // the smallest case so far is kept.
        const auto still_fails = [&](const Case& cand) {
          if (f.shrink_runs >= options.max_shrink_runs || spent()) return false;
          ++f.shrink_runs;
          Report r = run(cand, run_options);
          if (!r.found(oracle)) return false;
          last = std::move(r);
          return true;
        };
        if (options.greedy_shrink) {
          uint64_t runs = 0;
          f.smallest = shrink_case(
              generated, [&](const Case& cand) { return !spent() && still_fails(cand); },
              options.max_shrink_runs, &runs);
        } else {
          f.smallest = rapidcheck_shrink(tree, still_fails);
        }
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
