// `edgecase demo` (tools/demo.h).
#include "tools/demo.h"

#include <algorithm>
#include <array>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <string_view>
#include <vector>

#include "edgecase/runner.h"
#include "handlers/handlers.h"
#include "tools/timeline_files.h"
#include "props/hunt.h"

namespace edgecase::tools {

namespace {

// One bug of ../shared/design/seed-bugs.md, the oracles that name it, or why no run can reach it.
struct SeedBug {
  std::string_view server;
  std::string_view what;
  std::array<std::string_view, 2> oracles;  // any of these names it ("" unused)
  std::string_view unreachable;              // non-empty: why no single-threaded run reaches it
  bool needs_sanitizer = false;              // only AddressSanitizer sees it
};

constexpr SeedBug kSeedBugs[] = {
    {"seed000", "client sockets left blocking: send blocks on a client that stops reading",
     {oracle::kHandlerBlocked, ""},
     "its 21-byte send follows EPOLLOUT, which tcp_poll reports only with room for it; a "
     "blocking send then waits only under TCP memory pressure, which the model applies to "
     "nonblocking senders only (docs/SEARCH.md)",
     false},
    {"seed000", "one recv(1024) per EPOLLIN, one reply per recv (coalesced requests: one reply)",
     {oracle::kStall, oracle::kStreamCorrupt}, "", false},
    {"seed000", "EPOLL_CTL_DEL without close on recv <= 0 and on errors",
     {oracle::kFdLeak, ""}, "", false},
    {"seed000", "reply sent with strlen + 1: a NUL byte on the wire",
     {oracle::kStreamCorrupt, ""}, "", false},
    {"seed000", "printf(\"%s\") of an unterminated 1024-byte buffer",
     {oracle::kHandlerCrashed, ""}, "", true},
    {"seed000", "partial send ignored", {"", ""},
     "its sockets stay blocking (the first bug), and a blocking send never returns short", false},
    {"seed001", "string(buf) on a full, unterminated 1024-byte buffer (out-of-bounds read)",
     {oracle::kHandlerCrashed, ""}, "", true},
    {"seed001", "string(buf) drops the bytes after a NUL", {"", ""},
     "needs a payload with a NUL byte; the generator's pattern bytes are printable (a case file "
     "can send one: `send-data \"a\\x00b\"`)",
     false},
    {"seed001", "strcpy of a message >= 1024 bytes into a 1024-byte stack buffer",
     {oracle::kHandlerCrashed, ""}, "", false},
    {"seed001", "write loop restarts at offset 0 after a short write, drops the rest on EAGAIN",
     {oracle::kStreamCorrupt, ""}, "", false},
    {"seed001", "read() == 0 closes at once: the echo of a request before SHUT_WR is lost",
     {oracle::kReplyLostAfterHalfClose, ""}, "", false},
    {"seed001", "connfd > 22222 guards a vector of 22222: fd 22222 out of bounds", {"", ""},
     "needs 22,222 fds open at once; RLIMIT_NOFILE here is 20,000", false},
    {"seed002", "ET listener accepts one connection per event", {oracle::kLostAccept, ""}, "",
     false},
    {"seed002", "one read(10240) per ET event", {oracle::kLostReadEvent, ""}, "", false},
    {"seed002", "write() ignores short writes and EAGAIN", {oracle::kStreamCorrupt, ""}, "",
     false},
    {"seed002", "setnonblocking reads the flags with F_GETFD", {"", ""},
     "no effect on Linux: F_GETFD gives 0 here, and F_SETFL only changes O_NONBLOCK-like bits",
     false},
    {"seed002", "setrlimit(RLIMIT_NOFILE, 10000) fails and the server exits", {"", ""},
     "the port calls k.setrlimit as published, and the published text's call reaches the "
     "model too (posix/): its hard limit, 524,288, lets 10,000 through",
     false},
    {"seed003", "ET listener, one accept per event", {oracle::kLostAccept, ""}, "", false},
    {"seed003", "one read per ET event", {oracle::kLostReadEvent, ""}, "", false},
    {"seed003", "epoll_data union misuse (ptr set, fd read); sockfd never set from the event",
     {oracle::kBadFd, ""}, "", false},
};

constexpr std::string_view kServers[] = {"seed000", "seed001", "seed002", "seed003"};

constexpr bool sanitizer_build() {
#if defined(__SANITIZE_ADDRESS__) || defined(EDGECASE_ASAN_HANDLERS)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

std::string protocol_of(std::string_view server) {
  return server.substr(0, 7) == "seed000" ? "hello" : "echo";
}

std::string size_text(const Case& c) {
  const CaseSize s = case_size(c);
  return fmt::format("{} peer{}, {} steps, {} B, {} fault{}", s.peers, s.peers == 1 ? "" : "s",
                     s.steps, s.bytes, s.faults, s.faults == 1 ? "" : "s");
}

// FILE.html beside FILE.case: the smallest case's timeline (docs/TIMELINE.md).
void write_timeline_beside(const std::string& case_path, std::string_view server,
                           const Finding& f) {
  const TimelineFiles files = TimelineFiles::beside(case_path, /*perfetto=*/false);
  std::string why;
  const std::optional<Timeline> t = timeline_of(f.smallest, handlers::builtins(), f.report,
                                                timeline_title(server, case_path), &why);
  if (!t) throw std::runtime_error(fmt::format("{}: no timeline: {}", files.html, why));
  write_timeline_files(*t, files);
}

// Writes the finding's case, with the violation it reproduces as comments above it.
std::string write_finding(const DemoOptions& o, std::string_view server, const Finding& f) {
  std::filesystem::create_directories(o.out_dir);
  const std::string path = fmt::format("{}/{}-{}.case", o.out_dir, server, f.oracle);
  // The comments go after the format line, which must come first.
  const std::string text = f.report.recorded_case_text();
  const size_t body = text.find('\n') + 1;
  std::ofstream out(path);
  out << text.substr(0, body);
  out << fmt::format("# found by `edgecase demo` in {} (generated seed {}, {} runs)\n", server,
                     f.seed, f.runs);
  out << text.substr(body);
  if (!out) throw std::runtime_error(path + ": cannot write");
  out.close();
  write_timeline_beside(path, server, f);
  return path;
}

// Live sockets cannot inject the network's faults nor accept-abort (docs/LIVE.md): a case that
// needs them is not expected to reproduce there.
std::string sim_only_faults(const Case& c) {
  std::string out;
  for (FaultKind k : {FaultKind::split, FaultKind::coalesce, FaultKind::delay,
                      FaultKind::accept_abort})
    if (c.faults.on(k) && c.faults[k].per_mille > 0)
      out += (out.empty() ? "" : ",") + std::string(fault_name(k));
  return out;
}

std::string live_check(const Finding& f, bool isolate) {
  RunOptions o;
  o.backend = Backend::live;
  o.isolate = isolate;
  o.live_time_limit = DemoOptions::kLiveTimeLimit;
  o.handlers = &handlers::builtins();
  const Report live = run_case(f.smallest, o);
  if (live.found(f.oracle)) return "yes";
  // Before the undecided lines: those include one per sim-only fault, said shorter here.
  const std::string faults = sim_only_faults(f.smallest);
  if (!faults.empty()) return "no (uses " + faults + ": sim only)";
  if (!live.undecided.empty()) return "undecided: " + live.undecided.front();
  return live.clean() ? "no (clean live)" : "no (" + fmt::format("{}", fmt::join(live.oracles(), ",")) + ")";
}

struct Row {
  std::string server, bug, found, smallest, live, path;
};

void print_table(std::FILE* out, const std::vector<Row>& rows) {
  std::array<size_t, 6> w{6, 3, 9, 8, 4, 9};
  auto widen = [&](const Row& r) {
    const std::array<const std::string*, 6> f{&r.server, &r.bug, &r.found, &r.smallest, &r.live, &r.path};
    for (size_t i = 0; i < 6; ++i) w[i] = std::max(w[i], f[i]->size());
  };
  const Row head{"server", "bug (seed-bugs.md)", "found by", "smallest failing case",
                 "live sockets", "case file"};
  widen(head);
  for (const Row& r : rows) widen(r);
  auto line = [&](const Row& r) {
    fmt::print(out, "{:<{}}  {:<{}}  {:<{}}  {:<{}}  {:<{}}  {}\n", r.server, w[0], r.bug, w[1],
               r.found, w[2], r.smallest, w[3], r.live, w[4], r.path);
  };
  line(head);
  line(Row{std::string(w[0], '-'), std::string(w[1], '-'), std::string(w[2], '-'),
           std::string(w[3], '-'), std::string(w[4], '-'), std::string(w[5], '-')});
  for (const Row& r : rows) line(r);
}

const Finding* finding_for(const HuntResult& h, const SeedBug& b) {
  for (std::string_view name : b.oracles) {
    if (name.empty()) continue;
    for (const Finding& f : h.findings)
      if (f.oracle == name) return &f;
  }
  return nullptr;
}

}  // namespace

int run_demo(const DemoOptions& o, std::FILE* out) {
  std::vector<Row> rows;
  // Why a bug is not in the table's terms (unreachable, needs ASan): printed under the table.
  std::vector<std::string> notes;
  auto note = [&](std::string text) {
    notes.push_back(std::move(text));
    return fmt::format("see note {}", notes.size());
  };
  bool as_expected = true;
  for (std::string_view server : kServers) {
    const uint16_t port = *handlers::own_port(server);
    HuntOptions ho;
    ho.run.handlers = &handlers::builtins();
    ho.seeds = o.seeds;
    ho.run.isolate = true;  // the buggy servers overflow buffers: a crash is a finding
    ho.run.trace = true;
    const HuntResult hunt_result = edgecase::hunt(server, protocol_of(server), port, ho);
    if (!hunt_result.out_of_time.empty())
      note(fmt::format("{}: {}", server, hunt_result.out_of_time));
    std::vector<std::string> explained;
    for (const SeedBug& b : kSeedBugs) {
      if (b.server != server) continue;
      Row r{std::string(server), std::string(b.what), "", "", "", ""};
      // Only AddressSanitizer sees these: in a build without it, another finding of the same
      // oracle (a crash elsewhere) must not be credited to them.
      const bool unseen = b.needs_sanitizer && !sanitizer_build();
      const Finding* f = b.unreachable.empty() && !unseen ? finding_for(hunt_result, b) : nullptr;
      if (!b.unreachable.empty()) {
        r.found = "unreachable";
        r.smallest = note(std::string(b.unreachable));
      } else if (unseen) {
        r.found = "needs ASan";
        r.smallest = note("seen only by AddressSanitizer: the seeds tests of the ASan build find "
                          "it (scripts/test.sh), as does this demo built with "
                          "-DEDGECASE_ASAN_HANDLERS=ON");
      } else if (f == nullptr) {
        r.found = "NOT FOUND";
        as_expected = false;
      } else {
        r.found = f->oracle;
        r.smallest = size_text(f->smallest);
        r.live = o.live ? live_check(*f, true) : "skipped";
        r.path = write_finding(o, server, *f);
        explained.push_back(f->oracle);
        if (o.verbose) fmt::print(out, "{}\n", f->report.format());
      }
      rows.push_back(std::move(r));
    }
    for (const Finding& f : hunt_result.findings) {
      if (std::find(explained.begin(), explained.end(), f.oracle) != explained.end()) continue;
      Row r{std::string(server), "(also found)", f.oracle, size_text(f.smallest),
            o.live ? live_check(f, true) : "skipped", write_finding(o, server, f)};
      explained.push_back(f.oracle);
      rows.push_back(std::move(r));
    }
  }
  for (std::string_view server : kServers) {
    const std::string fixed = std::string(server) + "-fixed";
    const uint16_t port = *handlers::own_port(fixed);
    HuntOptions ho;
    ho.run.handlers = &handlers::builtins();
    ho.seeds = o.fixed_sim;
    ho.run.trace = false;
    ho.run.isolate = false;
    ho.shrink = true;
    HuntResult sim = edgecase::hunt(fixed, protocol_of(server), port, ho);
    HuntResult live;
    if (o.live) {
      HuntOptions lo = ho;
      lo.seeds = o.fixed_live;
      lo.run.backend = Backend::live;
      lo.run.live_time_limit = DemoOptions::kLiveTimeLimit;
      live = edgecase::hunt(fixed, protocol_of(server), port, lo);
    }
    for (const HuntResult* h : {&sim, &live})
      if (!h->out_of_time.empty()) note(fmt::format("{}: {}", fixed, h->out_of_time));
    Row r{fixed, "fixed version", "", "", "", ""};
    // A hunt its time budget cut short is undecided, not clean.
    const bool clean = sim.findings.empty() && live.findings.empty() &&
                       sim.out_of_time.empty() && live.out_of_time.empty();
    r.found = clean ? "clean" : "FOUND";
    r.smallest = fmt::format("{} generated cases passed", sim.clean_runs);
    r.live = o.live ? fmt::format("{} of {} passed", live.clean_runs, live.runs) : "skipped";
    for (const HuntResult* h : {&sim, &live})
      for (const Finding& f : h->findings) {
        r.path += (r.path.empty() ? "" : " ") + write_finding(o, fixed, f);
        r.found += " " + f.oracle;
      }
    as_expected = as_expected && clean;
    rows.push_back(std::move(r));
  }
  print_table(out, rows);
  if (!notes.empty()) fmt::print(out, "\n");
  for (size_t i = 0; i < notes.size(); ++i) fmt::print(out, "note {}: {}\n", i + 1, notes[i]);
  fmt::print(out, "\n{}\n", as_expected
                                ? "every reachable seed bug was found; every fixed version is clean"
                                : "UNEXPECTED: see the rows marked NOT FOUND or FOUND");
  fmt::print(out, "replay any case file: edgecase replay {}/<file>.case\n", o.out_dir);
  fmt::print(out, "see any as a timeline: open {}/<file>.html in a browser\n", o.out_dir);
  return as_expected ? 0 : 1;
}

}  // namespace edgecase::tools
