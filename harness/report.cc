// Reports (include/edgecase/report.h) and their wire form between an isolated run's child
// process and the parent (harness/report_wire.h).
#include "edgecase/report.h"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <utility>
#include <fmt/format.h>

#include "edgecase/strace.h"
#include "harness/report_wire.h"
#include "world/trace.h"

namespace edgecase {

std::string_view backend_name(Backend b) { return b == Backend::sim ? "sim" : "live"; }

namespace {

// Evidence::bytes in the unit its oracle counts (docs/ORACLES.md's evidence column).
std::string count_text(std::string_view oracle_name, uint64_t n) {
  if (oracle_name == oracle::kLostAccept)
    return fmt::format("{} connection{} queued", n, n == 1 ? "" : "s");
  if (oracle_name == oracle::kLostReadEvent || oracle_name == oracle::kDisarmedForever)
    return fmt::format("{} unread bytes", n);
  if (oracle_name == oracle::kStuckOutput || oracle_name == oracle::kReplyLostAfterHalfClose)
    return fmt::format("{} bytes still expected", n);
  return fmt::format("bytes {}", n);
}

}  // namespace

std::string Violation::format() const {
  const Evidence& e = evidence;
  std::string s = fmt::format("{}:", oracle);
  if (e.fd >= 0) s += fmt::format(" fd {}", e.fd);
  if (e.interest) s += fmt::format(" ({})", epoll_events_name(*e.interest));
  if (e.peer != 0) s += fmt::format(" peer#{}", e.peer);
  if (e.bytes) s += " " + count_text(oracle, *e.bytes);
  if (e.offset) s += fmt::format(" offset {}", *e.offset);
  s += fmt::format(" at {}", sim::Trace::stamp(e.at));
  if (!e.detail.empty()) s += ": " + e.detail;
  return s;
}

std::vector<std::string> stats_tags(const RunStats& s) {
  std::vector<std::string> out;
  const std::pair<uint64_t, const char*> counts[] = {
      {s.short_reads, "short-read"}, {s.short_writes, "short-write"}, {s.eagain, "eagain"},
      {s.eintr, "eintr"},            {s.resets, "reset"},             {s.half_closes, "half-close"},
      {s.emfile, "emfile"},          {s.econnaborted, "econnaborted"},
  };
  for (const auto& [n, tag] : counts)
    if (n > 0) out.emplace_back(tag);
  return out;
}

bool Report::found(std::string_view oracle_name) const {
  return std::any_of(violations.begin(), violations.end(),
                     [&](const Violation& v) { return v.oracle == oracle_name; });
}

std::vector<std::string> Report::oracles() const {
  std::vector<std::string> out;
  for (const Violation& v : violations)
    if (std::find(out.begin(), out.end(), v.oracle) == out.end()) out.push_back(v.oracle);
  return out;
}

namespace {

// A case file is printable ASCII, comments too.
std::string printable_comment(std::string_view s) {
  std::string out;
  for (const char ch : s) {
    const auto u = static_cast<unsigned char>(ch);
    out += (u >= 0x20 && u < 0x7f) ? std::string(1, ch) : fmt::format("\\x{:02x}", u);
  }
  return out;
}

}  // namespace

std::string Report::recorded_case_text() const {
  const size_t body = case_text.find('\n') + 1;
  std::string out = case_text.substr(0, body);
  for (const Violation& v : violations) out += "# violation: " + printable_comment(v.format()) + "\n";
  return out + case_text.substr(body);
}

std::string Report::format() const {
  // The verdict names the party at fault: the case, the handler, or the kit's limit.
  std::string verdict = "PASS";
  if (!case_errors.empty()) verdict = "CASE ERROR (the case cannot run as written)";
  else if (!violations.empty()) verdict = fmt::format("{} violation(s)", violations.size());
  else if (!kit_limit.empty()) verdict = "UNDECIDED (a limit of the kit ended the run)";
  std::string s = fmt::format("handler {} on {}: {}\n", handler, backend_name(backend), verdict);
  s += fault_plan + "\n";
  s += fmt::format("ending: {} ({} handler calls)\n", ending, steps);
  for (const std::string& e : case_errors) s += "  case error: " + e + "\n";
  for (const Violation& v : violations) s += "  " + v.format() + "\n";
  if (!story.empty()) s += "what happened:\n";
  for (const std::string& line : story) s += "  " + line + "\n";
  for (const std::string& u : undecided) s += "  undecided: " + u + "\n";
  if (!peers.empty()) s += "peers:\n";
  for (const std::string& p : peers) s += "  " + p + "\n";
  if (!last_calls.empty()) s += "last calls:\n";
  for (const std::string& c : last_calls) s += "  " + c + "\n";
  // Unindented, so that what follows the label can be saved as a case file as it is.
  if (!case_text.empty()) s += "case file (replays this run):\n" + recorded_case_text();
  return s;
}

// --- wire form ----------------------------------------------------------------------------
// Every value is "<tag> <length>\n<bytes>\n": binary-safe, and a truncated stream (the child
// died while writing) fails to parse instead of producing half a report.

namespace {

void put(std::string& out, std::string_view tag, std::string_view value) {
  out += fmt::format("{} {}\n", tag, value.size());
  out += value;
  out += '\n';
}

void put_opt(std::string& out, std::string_view tag, const std::optional<uint64_t>& v) {
  put(out, tag, v ? std::to_string(*v) : std::string());
}

struct Reader {
  std::string_view in;
  bool ok = true;

  std::string take(std::string_view tag) {
    if (!ok) return {};
    const size_t sp = in.find(' ');
    const size_t nl = in.find('\n');
    if (sp == std::string_view::npos || nl == std::string_view::npos || sp > nl ||
        in.substr(0, sp) != tag) {
      ok = false;
      return {};
    }
    size_t len = 0;
    const std::string_view digits = in.substr(sp + 1, nl - sp - 1);
    if (std::from_chars(digits.data(), digits.data() + digits.size(), len).ec != std::errc{} ||
        nl + 1 + len + 1 > in.size() || in[nl + 1 + len] != '\n') {
      ok = false;
      return {};
    }
    std::string v(in.substr(nl + 1, len));
    in.remove_prefix(nl + 1 + len + 1);
    return v;
  }
  uint64_t number(std::string_view tag) {
    const std::string v = take(tag);
    uint64_t n = 0;
    if (ok && std::from_chars(v.data(), v.data() + v.size(), n).ec != std::errc{}) ok = false;
    return n;
  }
  int64_t integer(std::string_view tag) {
    const std::string v = take(tag);
    int64_t n = 0;
    if (ok && std::from_chars(v.data(), v.data() + v.size(), n).ec != std::errc{}) ok = false;
    return n;
  }
  std::optional<uint64_t> opt(std::string_view tag) {
    const std::string v = take(tag);
    if (!ok || v.empty()) return std::nullopt;
    uint64_t n = 0;
    if (std::from_chars(v.data(), v.data() + v.size(), n).ec != std::errc{}) ok = false;
    return n;
  }
  // Eight counts, space-separated (RunStats's fields in order).
  RunStats stats(std::string_view tag) {
    const std::string v = take(tag);
    RunStats st;
    uint64_t* fields[] = {&st.short_reads, &st.short_writes, &st.eagain, &st.eintr,
                          &st.resets, &st.half_closes, &st.emfile, &st.econnaborted};
    const char* at = v.data();
    const char* const end = v.data() + v.size();
    for (size_t i = 0; ok && i < std::size(fields); ++i) {
      if (i > 0 && (at == end || *at++ != ' ')) ok = false;
      const auto [next, ec] = std::from_chars(at, end, *fields[i]);
      if (!ok || ec != std::errc{}) ok = false;
      at = next;
    }
    if (at != end) ok = false;
    return st;
  }
  std::vector<std::string> list(std::string_view tag) {
    std::vector<std::string> out(number(tag));
    if (!ok || out.size() > kMaxWireItems) {
      ok = false;
      return {};
    }
    for (std::string& s : out) s = take("item");
    return out;
  }
  static constexpr size_t kMaxWireItems = 1 << 16;
};

void put_list(std::string& out, std::string_view tag, const std::vector<std::string>& v) {
  put(out, tag, std::to_string(v.size()));
  for (const std::string& s : v) put(out, "item", s);
}

}  // namespace

std::string report_to_wire(const Report& r) {
  std::string out;
  put(out, "backend", backend_name(r.backend));
  put(out, "handler", r.handler);
  put(out, "faults", r.fault_plan);
  put(out, "ending", r.ending);
  put(out, "violations", std::to_string(r.violations.size()));
  for (const Violation& v : r.violations) {
    put(out, "oracle", v.oracle);
    put(out, "fd", std::to_string(v.evidence.fd));
    put(out, "peer", std::to_string(v.evidence.peer));
    put_opt(out, "bytes", v.evidence.bytes);
    put_opt(out, "interest", v.evidence.interest);
    put_opt(out, "offset", v.evidence.offset);
    put(out, "at", std::to_string(v.evidence.at));
    put(out, "detail", v.evidence.detail);
  }
  put_list(out, "calls", r.last_calls);
  put_list(out, "peers", r.peers);
  put(out, "case", r.case_text);
  put_list(out, "undecided", r.undecided);
  put_list(out, "case-errors", r.case_errors);
  put(out, "kit-limit", r.kit_limit);
  put(out, "steps", std::to_string(r.steps));
  put(out, "end", std::to_string(r.end));
  const RunStats& st = r.stats;
  put(out, "stats", fmt::format("{} {} {} {} {} {} {} {}", st.short_reads, st.short_writes,
                                st.eagain, st.eintr, st.resets, st.half_closes, st.emfile,
                                st.econnaborted));
  return out;
}

std::optional<Report> report_from_wire(std::string_view wire) {
  Reader rd{wire};
  Report r;
  r.backend = rd.take("backend") == "live" ? Backend::live : Backend::sim;
  r.handler = rd.take("handler");
  r.fault_plan = rd.take("faults");
  r.ending = rd.take("ending");
  const uint64_t n = rd.number("violations");
  if (!rd.ok || n > Reader::kMaxWireItems) return std::nullopt;
  for (uint64_t i = 0; i < n && rd.ok; ++i) {
    Violation v;
    v.oracle = rd.take("oracle");
    v.evidence.fd = static_cast<int>(rd.integer("fd"));
    v.evidence.peer = static_cast<uint32_t>(rd.number("peer"));
    v.evidence.bytes = rd.opt("bytes");
    if (auto m = rd.opt("interest")) v.evidence.interest = static_cast<uint32_t>(*m);
    v.evidence.offset = rd.opt("offset");
    v.evidence.at = rd.integer("at");
    v.evidence.detail = rd.take("detail");
    r.violations.push_back(std::move(v));
  }
  r.last_calls = rd.list("calls");
  r.peers = rd.list("peers");
  r.case_text = rd.take("case");
  r.undecided = rd.list("undecided");
  r.case_errors = rd.list("case-errors");
  r.kit_limit = rd.take("kit-limit");
  r.steps = rd.number("steps");
  r.end = rd.integer("end");
  r.stats = rd.stats("stats");
  if (!rd.ok || !rd.in.empty()) return std::nullopt;
  return r;
}

}  // namespace edgecase
