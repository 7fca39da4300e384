#include "harness/generate.h"

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/search.h"

#include "sim/random.h"

namespace edgecase {

Scenario echo_scenario(uint64_t seed, const EchoShape& shape) {
  sim::Rng rng(seed ^ kScenarioSalt);
  Scenario s;
  s.handler = "echo";
  s.protocol = "echo";
  s.peers.resize(shape.peers);
  for (PeerScript& p : s.peers) {
    p.start = static_cast<Nanos>(rng.between(0, static_cast<uint64_t>(shape.max_start)));
    p.steps.push_back(Step{Step::Op::connect, 0, 0, ""});
  }
  for (uint32_t m = 0; m < shape.messages && shape.peers > 0; ++m) {
    PeerScript& p = s.peers[m % shape.peers];
    const uint64_t n = rng.between(1, shape.max_message);
    p.steps.push_back(Step{Step::Op::send, n, 0, ""});
    p.steps.push_back(Step{Step::Op::expect, n, 0, ""});
  }
  for (PeerScript& p : s.peers) p.steps.push_back(Step{Step::Op::close, 0, 0, ""});
  return s;
}

Case echo_case(uint64_t seed, const FaultPlan& faults, const EchoShape& shape) {
  Case c;
  c.kit_version = std::string(build_kit_version());
  c.scenario = echo_scenario(seed, shape);
  c.seed = seed;
  c.faults = faults;
  return c;
}

}  // namespace edgecase

// --- generate_case (harness/search.h): the hunt's shapes ----------------------------------------

namespace edgecase {

namespace {

using Op = Step::Op;

// The hunt's shapes draw from seed ^ kSearchSalt: independent of the swarm's plan for the same
// seed (its own salt) and of the world's streams (seeded from the seed itself).
constexpr uint64_t kSearchSalt = 0x6875'6e74'5ea4'c400ULL;  // "hunt", then noise

// Peers per case: several connect together (lost-accept needs two), few enough to shrink fast.
constexpr uint64_t kMaxPeers = 6;
// Messages per connection for the ordinary shapes; connections of a reconnecting peer.
constexpr uint64_t kMaxMessages = 6;
constexpr uint64_t kMaxConnections = 3;
// Peers that start "spread" start within this much of the first wait; "together" all at 0.
constexpr Nanos kMaxSpread = 1 * kNanosPerMilli;
// A pause between two messages of an ordinary peer (a second delivery before the read).
constexpr Nanos kMaxPause = 200 * kNanosPerMicro;
// A stop-reader sends this many messages before reading any reply ...
constexpr uint64_t kStopReaderMinMessages = 8;
constexpr uint64_t kStopReaderMaxMessages = 32;
// ... and a hello stop-reader this many lines, half of them huge: each recv (1024 bytes at
// most) earns seed 000's 21-byte reply, so filling the reader's window and a small server send
// buffer (~20 KB together) takes a megabyte or two of requests.
constexpr uint64_t kStopReaderMinLines = 2;
constexpr uint64_t kStopReaderMaxLines = 8;
constexpr uint64_t kHugeLineMin = 128 * 1024;
constexpr uint64_t kHugeLineMax = 768 * 1024;
// A stop-reader may shrink its receive buffer first (SO_RCVBUF before connect): a client on a
// small window, whose replies back up into the server sooner.
constexpr uint64_t kSmallRcvbufMin = 1024;
constexpr uint64_t kSmallRcvbufMax = 8192;
// What one peer sends at most, so that runs stay fast (and live runs bounded).
constexpr uint64_t kMaxPeerBytes = 1024 * 1024;
constexpr uint64_t kMaxStopReaderBytes = 2 * 1024 * 1024;
// With the slow-reader fault on, what a peer sends at most: the slowest reader the world makes
// (1 byte per millisecond, SimRun::kSlowReadMaxGap) takes the run's 60 s time limit for 60 KB,
// and a case a correct server cannot finish in time would report a stall that is not there
// (live runs, given 30 s in tests/seeds, are slower still than the simulation's schedule).
constexpr uint64_t kSlowReaderPeerBytes = 16 * 1024;
// The EINTR fault's probability at most (see generate_case).
constexpr uint32_t kMaxEintrPerMille = 500;
// Lines up to this long are written as data steps (readable in the case file); longer ones as
// a pattern send and a "\n".
constexpr uint64_t kLongestDataLine = 4 * CaseLimits::kMaxDataBytes;

// A size band of the menu and its weight (out of the band weights' sum).
struct Band {
  uint64_t lo;
  uint64_t hi;
  uint32_t weight;
};
// Echo message sizes: small, around the 1 KiB read buffers (001's 1024, 003's 1024, 000's
// recv), 2-3 KiB, around 002's 10240-byte read, and up to a loopback MSS.
constexpr Band kEchoBands[] = {
    {1, 64, 40}, {1000, 1100, 16}, {2048, 3072, 10}, {10240, 12288, 12}, {12289, 65536, 6}};
// Exact thresholds, drawn as a band of their own: a read that fills a buffer exactly.
constexpr uint64_t kEchoEdges[] = {1, 1023, 1024, 1025, 2048, 4096, 10240, 10241, 65536};
constexpr uint32_t kEchoEdgeWeight = 24;
// Hello request lines (bytes with the '\n'): short, and around the 1024-byte recv.
constexpr Band kLineBands[] = {{1, 64, 60}, {1000, 1100, 28}};
constexpr uint64_t kLineEdges[] = {1, 1023, 1024, 1025, 1026};
constexpr uint32_t kLineEdgeWeight = 12;

template <size_t B, size_t E>
uint64_t draw_size(sim::Rng& rng, const Band (&bands)[B], const uint64_t (&edges)[E],
                   uint32_t edge_weight) {
  uint32_t total = edge_weight;
  for (const Band& b : bands) total += b.weight;
  uint64_t pick = rng.below(total);
  for (const Band& b : bands) {
    if (pick < b.weight) return rng.between(b.lo, b.hi);
    pick -= b.weight;
  }
  return edges[rng.below(E)];
}

// The shapes a peer may take, with their weights.
enum class Kind : uint8_t { plain, pipelined, stop_reader, half_closer, reconnecting };
constexpr uint32_t kKindWeights[] = {35, 25, 10, 15, 15};

Kind draw_kind(sim::Rng& rng) {
  uint32_t total = 0;
  for (uint32_t w : kKindWeights) total += w;
  uint64_t pick = rng.below(total);
  for (size_t i = 0; i < std::size(kKindWeights); ++i) {
    if (pick < kKindWeights[i]) return static_cast<Kind>(i);
    pick -= kKindWeights[i];
  }
  return Kind::plain;
}

// Writes one peer's script. Echo messages are pattern sends expected back byte for byte; hello
// messages are request lines (data steps of printable bytes, the last ending in '\n'; a huge
// line is a pattern send and a data "\n") each answered by one line.
class PeerWriter {
 public:
  PeerWriter(sim::Rng& rng, bool lines, uint64_t budget)
      : rng_(rng), lines_(lines), budget_(budget) {}

  bool room() const { return planned_ < budget_; }
  // `n` bytes, or what is left of the peer's budget (a message has at least one byte).
  uint64_t plan(uint64_t n) {
    n = std::max<uint64_t>(1, std::min(n, budget_ - std::min(budget_, planned_)));
    planned_ += n;
    return n;
  }

  void op(Op o, uint64_t n = 0, Nanos t = 0) { steps_.push_back(Step{o, n, t, ""}); }

  // A message of `n` bytes (a line's bytes count its '\n').
  uint64_t draw_message() {
    return lines_ ? draw_size(rng_, kLineBands, kLineEdges, kLineEdgeWeight)
                  : draw_size(rng_, kEchoBands, kEchoEdges, kEchoEdgeWeight);
  }

  void send(uint64_t n) {
    if (!lines_) return op(Op::send, n);
    if (n > kLongestDataLine) {  // huge: a pattern (it has no '\n') and the '\n' alone
      op(Op::send, n - 1);
      steps_.push_back(Step{Op::send, 0, 0, "\n"});
      return;
    }
    std::string line;
    for (uint64_t i = 0; i + 1 < n; ++i) line += static_cast<char>('!' + rng_.below(kPrintable));
    line += '\n';
    for (size_t at = 0; at < line.size(); at += CaseLimits::kMaxDataBytes)
      steps_.push_back(Step{Op::send, 0, 0, line.substr(at, CaseLimits::kMaxDataBytes)});
  }

  void expect(uint64_t n) { lines_ ? op(Op::expect_line) : op(Op::expect, n); }

  // connect, then messages one at a time (or all sent before any is read), then close.
  void conversation(uint64_t messages, bool pipelined) {
    op(Op::connect);
    std::vector<uint64_t> sizes;
    for (uint64_t m = 0; m < messages && room(); ++m) sizes.push_back(plan(draw_message()));
    for (uint64_t n : sizes) {
      send(n);
      if (!pipelined) expect(n);
      if (!pipelined && rng_.chance(1, 8))
        op(Op::sleep, 0, static_cast<Nanos>(rng_.between(1, kMaxPause)));
    }
    if (pipelined)
      for (uint64_t n : sizes) expect(n);
    op(Op::close);
  }

  // Many requests, no read until all are sent: the server's replies pile up in the buffers.
  void stop_reader() {
    if (rng_.chance(1, 2)) op(Op::rcvbuf, rng_.between(kSmallRcvbufMin, kSmallRcvbufMax));
    op(Op::connect);
    std::vector<uint64_t> sizes;
    const uint64_t count = lines_ ? rng_.between(kStopReaderMinLines, kStopReaderMaxLines)
                                  : rng_.between(kStopReaderMinMessages, kStopReaderMaxMessages);
    for (uint64_t m = 0; m < count && room(); ++m) {
      const bool huge = lines_ && rng_.chance(1, 2);
      const uint64_t n = plan(huge ? rng_.between(kHugeLineMin, kHugeLineMax) : draw_message());
      sizes.push_back(n);
      send(n);
    }
    for (uint64_t n : sizes) expect(n);
    op(Op::close);
  }

  // Requests, shutdown(SHUT_WR), then the replies and the server's end of file.
  void half_closer() {
    op(Op::connect);
    std::vector<uint64_t> sizes;
    const uint64_t count = rng_.between(1, kMaxMessages);
    for (uint64_t m = 0; m < count && room(); ++m) sizes.push_back(plan(draw_message()));
    for (uint64_t n : sizes) send(n);
    op(Op::shutdown_write);
    for (uint64_t n : sizes) expect(n);
    op(Op::read_eof);
    op(Op::close);
  }

  std::vector<Step> take() { return std::move(steps_); }

 private:
  static constexpr uint64_t kPrintable = '~' - '!' + 1;  // '!'..'~': no space, no '\n'
  sim::Rng& rng_;
  bool lines_;
  std::vector<Step> steps_;
  uint64_t budget_;
  uint64_t planned_ = 0;
};

// --- the batch shape ----------------------------------------------------------------------------
// Several peers with one script, all starting at 0: their SYNs, then their first requests (each
// sent when its connect completes, which is when the SYN-ACK arrives), land in the same
// instant, and so do the FINs or resets that end them. The handler wakes on the first arrival
// and the rest pile up while it works: its next epoll_wait returns several connections at once
// (bug class 16: the handler of event i closes j, then acts on j's event). The draw is its own
// (seed ^ kBatchSalt), so the cases of the other seeds are the ones they always were.
constexpr uint64_t kBatchSalt = 0x6261'7463'6800'0016ULL;  // "batch", class 16
// One generated case in kBatchOneIn has the batch shape.
constexpr uint64_t kBatchOneIn = 8;
// Peers of a batch case: enough for several events in one batch, and more than a server that
// caps its connections at two keeps.
constexpr uint64_t kBatchMinPeers = 3;
constexpr uint64_t kBatchMaxPeers = kMaxPeers;
// Conversations per batch peer (a second one brings a SYN among the others' requests: a new
// connection may get the number of one closed in the same batch).
constexpr uint64_t kBatchMaxConversations = 2;
// Messages per conversation of a batch peer.
constexpr uint64_t kBatchMaxMessages = 3;

// How each conversation of a batch peer ends: a close after the replies, a shutdown_write
// after the requests (data and FIN together), or (the last one only) a reset after the
// requests.
enum class BatchEnd : uint8_t { close, half_close, reset };

// One script for every peer of a batch case.
std::vector<Step> batch_script(sim::Rng& rng, bool lines, uint64_t budget) {
  PeerWriter w(rng, lines, budget);
  const uint64_t conversations = rng.between(1, kBatchMaxConversations);
  for (uint64_t c = 0; c < conversations; ++c) {
    auto end = static_cast<BatchEnd>(rng.below(3));
    // A reset conversation's replies are never read, and the checkers compare a peer's whole
    // stream over its connections (Peer::sent, Peer::received): a reset ends the script.
    if (end == BatchEnd::reset && c + 1 < conversations) end = BatchEnd::close;
    std::vector<uint64_t> sizes;
    const uint64_t messages = rng.between(1, kBatchMaxMessages);
    for (uint64_t m = 0; m < messages && w.room(); ++m) sizes.push_back(w.plan(w.draw_message()));
    w.op(Op::connect);
    switch (end) {
      case BatchEnd::close:
        for (uint64_t n : sizes) {
          w.send(n);
          w.expect(n);
        }
        w.op(Op::close);
        break;
      case BatchEnd::half_close:
        for (uint64_t n : sizes) w.send(n);
        w.op(Op::shutdown_write);
        for (uint64_t n : sizes) w.expect(n);
        w.op(Op::read_eof);
        w.op(Op::close);
        break;
      case BatchEnd::reset:
        for (uint64_t n : sizes) w.send(n);
        w.op(Op::reset);
        break;
    }
  }
  return w.take();
}

// The batch shape, or nullopt for the seeds that do not draw it.
std::optional<std::vector<PeerScript>> batch_peers(uint64_t seed, bool lines,
                                                   bool slow_readers) {
  sim::Rng rng(seed ^ kBatchSalt);
  if (!rng.chance(1, kBatchOneIn)) return std::nullopt;
  const uint64_t peers = rng.between(kBatchMinPeers, kBatchMaxPeers);
  const std::vector<Step> steps =
      batch_script(rng, lines, slow_readers ? kSlowReaderPeerBytes : kMaxPeerBytes);
  return std::vector<PeerScript>(peers, PeerScript{0, steps});
}

PeerScript generate_peer(sim::Rng& rng, bool lines, bool together, bool slow_readers) {
  PeerScript p;
  p.start = together ? 0 : static_cast<Nanos>(rng.between(0, kMaxSpread));
  const Kind kind = draw_kind(rng);
  const uint64_t budget = slow_readers            ? kSlowReaderPeerBytes
                          : kind == Kind::stop_reader ? kMaxStopReaderBytes
                                                      : kMaxPeerBytes;
  PeerWriter w(rng, lines, budget);
  switch (kind) {
    case Kind::plain: w.conversation(rng.between(1, kMaxMessages), false); break;
    case Kind::pipelined: w.conversation(rng.between(2, kMaxMessages), true); break;
    case Kind::stop_reader: w.stop_reader(); break;
    case Kind::half_closer: w.half_closer(); break;
    case Kind::reconnecting: {
      const uint64_t connections = rng.between(2, kMaxConnections);
      for (uint64_t i = 0; i < connections; ++i)
        w.conversation(rng.between(1, kMaxMessages), rng.chance(1, 2));
      break;
    }
  }
  p.steps = w.take();
  return p;
}

}  // namespace

Case generate_case(std::string_view handler, std::string_view protocol, uint16_t port,
                   uint64_t seed) {
  sim::Rng rng(seed ^ kSearchSalt);
  Case c;
  c.kit_version = std::string(build_kit_version());
  c.seed = seed;
  c.faults = FaultPlan::swarm(seed);
  // A signal at every blocking epoll_wait never lets a run go quiet: the world interrupts even
  // the final wait, a correct handler retries until the step budget, and nothing can be judged
  // at quiescence. Half the waits still get the signal.
  if (Fault& eintr = c.faults[FaultKind::eintr]; eintr.on && eintr.per_mille > kMaxEintrPerMille)
    eintr.per_mille = kMaxEintrPerMille;
  c.scenario.handler = std::string(handler);
  c.scenario.protocol = std::string(protocol);
  c.scenario.port = port;
  const bool lines = protocol != "echo";
  if (auto batch = batch_peers(seed, lines, c.faults.on(FaultKind::slow_reader))) {
    c.scenario.peers = std::move(*batch);
    // The delay fault would spread the arrivals the shape lines up (sim/network.cc:
    // delivery_time draws each segment's delay); the other faults act per peer or per call.
    c.faults[FaultKind::delay] = Fault{};
    return c;
  }
  const uint64_t peers = rng.between(1, kMaxPeers);
  const bool together = rng.chance(1, 2);
  for (uint64_t i = 0; i < peers; ++i) c.scenario.peers.push_back(
        generate_peer(rng, lines, together, c.faults.on(FaultKind::slow_reader)));
  return c;
}

}  // namespace edgecase
