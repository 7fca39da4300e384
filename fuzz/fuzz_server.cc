// Scenario fuzzing (include/edgecase/fuzz.h): libFuzzer's bytes, read with FuzzedDataProvider,
// become peers' scripts and a fault plan; the case runs on the simulated world; a violation
// aborts with the report and a case file.
#include "edgecase/fuzz.h"

#include <fuzzer/FuzzedDataProvider.h>
#include <sanitizer/common_interface_defs.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgecase {

namespace {

using Op = Step::Op;

// What one peer sends at most; with the slow-reader fault on, less: the slowest reader the
// world makes (1 byte per ms) must finish inside the run's 60 s time limit, or a correct
// server is called stalled (props/gen.cc has the same bound).
constexpr uint64_t kPeerBytes = 24 * 1024;
constexpr uint64_t kSlowReaderPeerBytes = 16 * 1024;
// A flooding connection's own budget (Shape::flood): two or three of hello's huge lines.
constexpr uint64_t kFloodPeerBytes = 2 * 1024 * 1024;
// Peer starts and pauses, in virtual time.
constexpr Nanos kMaxStart = 1 * kNanosPerMilli;
constexpr Nanos kMaxPause = 200 * kNanosPerMicro;
// A small receive buffer before connect (a peer on a small window).
constexpr uint64_t kSmallRcvbufMin = 1024;
constexpr uint64_t kSmallRcvbufMax = 8192;
// Fault probabilities: the swarm's menu (world/fault_plan.cc); EINTR at most every other
// wait, else the world interrupts even the final wait and no run ever goes quiet.
constexpr uint32_t kPerMilleMenu[] = {50, 200, 500, 1000};
constexpr uint32_t kMaxEintrPerMille = 500;

// How a connection's conversation goes.
enum class Shape : uint8_t { plain, pipelined, half_close, reset, flood, kLast = flood };

// `r` cut to at most `max_bytes` as gen.h cuts a request to a peer's budget: pattern bytes
// go, data and tail stay, a `bytes` reply reads what is left. False if it cannot fit.
bool fit(Request& r, uint64_t max_bytes) {
  if (r.size() <= max_bytes) return true;
  const uint64_t fixed = r.data.size() + r.tail.size();
  if (fixed > max_bytes || max_bytes == 0) return false;
  r.pattern = max_bytes - fixed;
  if (r.reply == Request::Reply::bytes) r.reply_count = std::min(r.reply_count, r.size());
  return true;
}

// Appends the sends of `r` (data split into case-file-sized steps).
void add_sends(std::vector<Step>& steps, const Request& r) {
  auto literal = [&steps](const std::string& s) {
    for (size_t at = 0; at < s.size(); at += CaseLimits::kMaxDataBytes)
      steps.push_back(Step{Op::send, 0, 0, s.substr(at, CaseLimits::kMaxDataBytes)});
  };
  literal(r.data);
  if (r.pattern > 0) steps.push_back(Step{Op::send, r.pattern, 0, ""});
  literal(r.tail);
}

void add_reply(std::vector<Step>& steps, const Request& r) {
  switch (r.reply) {
    case Request::Reply::bytes:
      if (r.reply_count > 0) steps.push_back(Step{Op::expect, r.reply_count, 0, ""});
      break;
    case Request::Reply::lines:
      for (uint64_t i = 0; i < r.reply_count; ++i) steps.push_back(Step{Op::expect_line, 0, 0, ""});
      break;
    case Request::Reply::none: break;
  }
}

// The fault plan in 6 bytes: which faults are on (a bit each), then each one's probability
// (two bits each, an index into the menu). Compact, so that a short input reaches its requests
// (fuzz_case).
FaultPlan decode_faults(FuzzedDataProvider& in) {
  static_assert(kFaultCount <= 16 && 2 * kFaultCount <= 32 && std::size(kPerMilleMenu) == 4);
  const auto on = in.ConsumeIntegral<uint16_t>();
  const auto levels = in.ConsumeIntegral<uint32_t>();
  FaultPlan plan;
  for (size_t i = 0; i < kFaultCount; ++i) {
    if ((on >> i & 1U) == 0) continue;
    uint32_t per_mille = kPerMilleMenu[levels >> (2 * i) & 3U];
    if (static_cast<FaultKind>(i) == FaultKind::eintr) per_mille = std::min(per_mille, kMaxEintrPerMille);
    plan.faults[i] = Fault{true, per_mille};
  }
  return plan;
}

// One connection: connect, requests and their replies in the connection's shape, and its end.
// Requests drawn from `gen` with a seed and a size read from the fuzzer's bytes (so that
// libFuzzer's mutations steer them), cut to fit; if one cannot, decode_connection ends the
// requests there.
RequestDecoder drawn_from(const rc::Gen<Request>& gen) {
  return [gen](FuzzedDataProvider& in, uint64_t max_bytes) {
    // The size first and a 32-bit seed: a request's decisions take 5 bytes (see fuzz_case).
    const int size = in.ConsumeIntegralInRange<int>(0, kFullSize);
    const uint64_t seed = in.ConsumeIntegral<uint32_t>();
    Request r = gen(rc::Random(seed), size).value();
    fit(r, max_bytes);
    return r;
  };
}

// Returns false when the script must end here (a reset).
bool decode_connection(FuzzedDataProvider& in, const FuzzOptions& o, const RequestDecoder& next,
                       bool last, uint64_t& budget, std::vector<Step>& steps) {
  auto shape = static_cast<Shape>(in.ConsumeIntegralInRange<int>(0, static_cast<int>(Shape::kLast)));
  // The checkers compare a peer's whole stream over its connections: a reset leaves replies
  // unread, so only the script's last connection may end in one.
  if (shape == Shape::reset && !last) shape = Shape::plain;
  // A flood (the protocol's huge requests, sent before any reply is read) only for a protocol
  // that has one, and with its own budget: filling a reader's window and a server's send
  // buffer one small reply per KiB read takes about a megabyte (hello, seed 000's stall).
  if (shape == Shape::flood && !o.protocol.flood) shape = Shape::pipelined;
  const RequestDecoder flood_next =
      shape == Shape::flood ? drawn_from(*o.protocol.flood) : RequestDecoder{};
  uint64_t flood_budget = kFloodPeerBytes;
  steps.push_back(Step{Op::connect, 0, 0, ""});
  std::vector<Request> requests;
  const uint32_t count = in.ConsumeIntegralInRange<uint32_t>(1, std::max<uint32_t>(1, o.max_requests));
  for (uint32_t i = 0; i < count && budget > 0; ++i) {
    uint64_t& left = shape == Shape::flood ? flood_budget : budget;
    const uint64_t most = shape == Shape::flood ? left : std::min(left, o.max_request_bytes);
    Request r = shape == Shape::flood ? flood_next(in, most) : next(in, most);
    if (r.size() == 0 || r.size() > most) break;  // a request that cannot fit: stop here
    left -= r.size();
    requests.push_back(std::move(r));
  }
  switch (shape) {
    case Shape::plain:
      for (const Request& r : requests) {
        add_sends(steps, r);
        add_reply(steps, r);
        if (in.ConsumeIntegralInRange<int>(0, 7) == 0)
          steps.push_back(Step{Op::sleep, 0, in.ConsumeIntegralInRange<Nanos>(1, kMaxPause), ""});
      }
      break;
    case Shape::pipelined:
    case Shape::flood:
      for (const Request& r : requests) add_sends(steps, r);
      for (const Request& r : requests) add_reply(steps, r);
      break;
    case Shape::half_close:
      for (const Request& r : requests) add_sends(steps, r);
      steps.push_back(Step{Op::shutdown_write, 0, 0, ""});
      for (const Request& r : requests) add_reply(steps, r);
      steps.push_back(Step{Op::read_eof, 0, 0, ""});
      break;
    case Shape::reset:
      for (const Request& r : requests) add_sends(steps, r);
      steps.push_back(Step{Op::reset, 0, 0, ""});
      return false;
  }
  steps.push_back(Step{Op::close, 0, 0, ""});
  return true;
}

PeerScript decode_peer(FuzzedDataProvider& in, const FuzzOptions& o, const RequestDecoder& next,
                       uint64_t budget) {
  PeerScript p;
  p.start = in.ConsumeBool() ? 0 : in.ConsumeIntegralInRange<Nanos>(0, kMaxStart);
  if (in.ConsumeIntegralInRange<int>(0, 3) == 0)
    p.steps.push_back(Step{Op::rcvbuf, in.ConsumeIntegralInRange<uint64_t>(kSmallRcvbufMin, kSmallRcvbufMax), 0, ""});
  const uint32_t connections =
      in.ConsumeIntegralInRange<uint32_t>(1, std::max<uint32_t>(1, o.max_connections));
  for (uint32_t c = 0; c < connections; ++c)
    if (!decode_connection(in, o, next, c + 1 == connections, budget, p.steps)) break;
  return p;
}

// Whether every peer sends at most kSlowReaderPeerBytes, so that the slow-reader fault can
// apply without a correct server being called stalled (a flood has a budget of its own).
bool slow_readers_can_finish(const Scenario& s) {
  for (const PeerScript& p : s.peers) {
    uint64_t sent = 0;
    for (const Step& st : p.steps)
      if (st.op == Op::send) sent += st.bytes();
    if (sent > kSlowReaderPeerBytes) return false;
  }
  return true;
}

// FNV-1a: a short name for a case file that depends only on its text.
uint64_t text_hash(const std::string& s) {
  constexpr uint64_t kOffset = 0xcbf29ce484222325ULL;
  constexpr uint64_t kPrime = 0x100000001b3ULL;
  uint64_t h = kOffset;
  for (unsigned char ch : s) h = (h ^ ch) * kPrime;
  return h;
}

// Writes `text` as fuzz-<handler>-<what>-<hash>.case into $EDGECASE_FUZZ_OUT or ".".
std::string write_case_file(const std::string& handler, std::string_view what, const std::string& text) {
  const char* dir = std::getenv("EDGECASE_FUZZ_OUT");
  const std::string path = fmt::format("{}/fuzz-{}-{}-{:016x}.case", dir && *dir ? dir : ".",
                                       handler, what, text_hash(text));
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  return out ? path : "(could not write " + path + ")";
}

// The case being run, for the sanitizers' death callback: a handler that crashes in this
// process (an ASan report, a UBSan error) still leaves a case file next to libFuzzer's crash
// file. The callback takes no argument, hence a variable outside any call; it is only ever set
// and read by fuzz_server on the fuzzer's one thread.
const Case* g_running_case = nullptr;

void write_running_case() {
  if (g_running_case == nullptr) return;
  const Case& c = *g_running_case;
  const std::string path = write_case_file(c.scenario.handler, "crash", write_case(c));
  std::fprintf(stderr, "edgecase: the case that crashed the handler: %s\n", path.c_str());
}

// $EDGECASE_FUZZ_IGNORE, split at commas (read once: the environment does not change).
const std::vector<std::string>& ignored_by_environment() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    const char* env = std::getenv("EDGECASE_FUZZ_IGNORE");
    std::string_view rest = env ? env : "";
    while (!rest.empty()) {
      const size_t comma = std::min(rest.find(','), rest.size());
      if (comma > 0) out.emplace_back(rest.substr(0, comma));
      rest.remove_prefix(std::min(comma + 1, rest.size()));
    }
    return out;
  }();
  return names;
}

// The first violation that stops the fuzzer, or nullptr.
const Violation* stopping_violation(const Report& r, const FuzzOptions& o) {
  auto listed = [](const std::vector<std::string>& names, const std::string& oracle) {
    return std::find(names.begin(), names.end(), oracle) != names.end();
  };
  for (const Violation& v : r.violations)
    if (!listed(o.ignore, v.oracle) && !listed(ignored_by_environment(), v.oracle)) return &v;
  return nullptr;
}

// $EDGECASE_FUZZ_PRINT set and not empty: every input's case is printed (to see what a corpus
// file decodes to: `EDGECASE_FUZZ_PRINT=1 fuzz_echo FILE`).
bool print_cases() {
  static const bool on = [] {
    const char* env = std::getenv("EDGECASE_FUZZ_PRINT");
    return env != nullptr && *env != '\0';
  }();
  return on;
}

[[noreturn]] void decoder_bug(const Case& c, const std::string& why) {
  std::fprintf(stderr, "edgecase::fuzz_case made a case the kit rejects: %s\n", why.c_str());
  if (!check_case(c)) std::fprintf(stderr, "%s", write_case(c).c_str());
  std::abort();
}

}  // namespace

RequestDecoder protocol_request_decoder(const Protocol& protocol) {
  return drawn_from(protocol.request);
}

Case fuzz_case(const uint8_t* data, size_t size, const FuzzOptions& o) {
  FuzzedDataProvider in(data, size);
  const RequestDecoder next = o.requests ? o.requests : protocol_request_decoder(o.protocol);
  Case c;
  c.scenario.handler = o.handler_name;
  c.scenario.protocol = o.protocol.name;
  c.scenario.port = o.port;
  // The fault plan first, in 6 bytes, then the peers, then the world's seed. libFuzzer grows
  // its inputs a few bytes at a time (-len_control), and FuzzedDataProvider gives zeros once
  // the bytes run out: the first decisions are the ones short inputs vary. With 22 bytes of
  // faults first, seed 001's overflow on a 1 KiB read took ~30,000 runs to reach (its first
  // request came after them); with the peers first, ~1,500, but a bug that needs a fault
  // (001's short write) waited for long inputs; with 6 bytes of faults first, both within
  // ~7,000 (docs/SEARCH.md). With slow readers, a peer sends less; a flood is more than a
  // slow reader can take in the time limit, and the fault is dropped from a case with one.
  if (o.faults) c.faults = decode_faults(in);
  const uint64_t budget = c.faults.on(FaultKind::slow_reader) ? kSlowReaderPeerBytes : kPeerBytes;
  const uint32_t peers = in.ConsumeIntegralInRange<uint32_t>(1, std::max<uint32_t>(1, o.max_peers));
  for (uint32_t i = 0; i < peers; ++i) c.scenario.peers.push_back(decode_peer(in, o, next, budget));
  c.seed = in.ConsumeIntegral<uint32_t>();  // the world's seed: 2^32 are plenty to vary
  if (c.faults.on(FaultKind::slow_reader) && !slow_readers_can_finish(c.scenario))
    c.faults.faults[static_cast<size_t>(FaultKind::slow_reader)] = Fault{};
  return c;
}

int fuzz_server(const uint8_t* data, size_t size, const Handler& handler, const FuzzOptions& o) {
  static const bool registered = (__sanitizer_set_death_callback(write_running_case), true);
  (void)registered;
  const Case c = fuzz_case(data, size, o);
  if (std::optional<std::string> bad = check_case(c)) decoder_bug(c, *bad);
  if (std::vector<CaseError> errors = validate_case(c); !errors.empty()) decoder_bug(c, errors[0].message);
  if (print_cases()) std::fprintf(stderr, "%s", write_case(c).c_str());
  RunOptions ro;
  ro.step_budget = o.step_budget;
  // Several times faster: a failing case runs again with the trace and the text for its report.
  ro.trace = false;
  ro.report_text = false;
  ro.checker = o.protocol.checker.get();
  g_running_case = &c;
  Report r = run_case(handler, c, ro);
  if (stopping_violation(r, o) != nullptr) {
    ro.trace = true;
    ro.report_text = true;
    Report traced = run_case(handler, c, ro);
    // The same case gives the same run: a clean second run is the kit's bug, and is reported.
    if (traced.violations != r.violations)
      std::fprintf(stderr, "edgecase: NOT DETERMINISTIC: the run with the trace on differs\n");
    else
      r = std::move(traced);
  }
  g_running_case = nullptr;
  const Violation* stop = stopping_violation(r, o);
  if (stop == nullptr) return 0;
  std::fprintf(stderr, "%s", r.format().c_str());
  const std::string path = write_case_file(c.scenario.handler, stop->oracle, r.recorded_case_text());
  std::fprintf(stderr, "edgecase: case file written: %s\n", path.c_str());
  std::abort();
}

}  // namespace edgecase
