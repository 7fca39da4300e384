// The kit's one scenario generator (edgecase/gen.h): a case is drawn as a structure (peers, their
// kinds, their conversations, their requests), which rapidcheck shrinks, and written as peer
// scripts by one function (write_peer), so every shrink is a well-formed conversation.
#include "edgecase/gen.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace edgecase {

namespace {

using Op = Step::Op;

// --- choices that shrink toward the first ----------------------------------------------------
// rapidcheck's weightedElement/weightedOneOf never shrink from one choice to another; a kind, a
// band or an ending shrinks here toward choice 0, the simplest one.

// Index i with probability weights[i] / sum, shrinking toward 0.
rc::Gen<size_t> weighted_index(std::vector<uint32_t> weights) {
  uint64_t total = 0;
  for (uint32_t w : weights) total += w;
  return [weights, total](const rc::Random& random, int) {
    uint64_t pick = rc::Random(random).next() % total;
    size_t i = 0;
    while (pick >= weights[i]) pick -= weights[i++];
    return rc::shrinkable::shrinkRecur(
        i, [](size_t x) { return rc::shrink::towards<size_t>(x, 0); });
  };
}

template <typename T>
rc::Gen<T> weighted_of(std::vector<std::pair<uint32_t, rc::Gen<T>>> choices) {
  std::vector<uint32_t> weights;
  std::vector<rc::Gen<T>> gens;
  for (auto& [w, g] : choices) {
    weights.push_back(w);
    gens.push_back(std::move(g));
  }
  return rc::gen::mapcat(weighted_index(std::move(weights)),
                         [gens](size_t i) { return gens[i]; });
}

// One in `n`, shrinking toward false.
rc::Gen<bool> one_in(uint32_t n) {
  return rc::gen::map(weighted_index({n - 1, 1}), [](size_t i) { return i == 1; });
}

// `lo + (hi - lo) * size / kFullSize`: counts that grow with rapidcheck's size.
uint64_t scaled(uint64_t lo, uint64_t hi, int size) {
  const auto s = static_cast<uint64_t>(std::clamp(size, 0, kFullSize));
  return lo + (hi - lo) * s / static_cast<uint64_t>(kFullSize);
}

// A vector of lo..hi elements (hi scaled by size), shrinking by removing chunks (never below
// `keep`) and then by shrinking elements: rapidcheck's container strategy with a count range.
template <typename T>
rc::Gen<std::vector<T>> vector_of(uint64_t lo, uint64_t hi, size_t keep, rc::Gen<T> element) {
  return [=](const rc::Random& random, int size) {
    rc::Random r = random;
    const uint64_t top = scaled(lo, std::max(lo, hi), size);
    const uint64_t count = lo + r.split().next() % (top - lo + 1);
    std::vector<rc::Shrinkable<T>> elements;
    for (uint64_t i = 0; i < count; ++i) elements.push_back(element(r.split(), size));
    using Elements = std::vector<rc::Shrinkable<T>>;
    return rc::shrinkable::map(
        rc::shrinkable::shrinkRecur(
            std::move(elements),
            [keep](const Elements& es) {
              return rc::seq::concat(
                  rc::seq::filter(rc::shrink::removeChunks(es),
                                  [keep](const Elements& x) { return x.size() >= keep; }),
                  rc::shrink::eachElement(
                      es, [](const rc::Shrinkable<T>& s) { return s.shrinks(); }));
            }),
        [](const Elements& es) {
          std::vector<T> out;
          out.reserve(es.size());
          for (const auto& s : es) out.push_back(s.value());
          return out;
        });
  };
}

// --- sizes ---------------------------------------------------------------------------------------

// A size band of a menu and its weight. Bands shrink toward their low end (a threshold).
struct Band {
  uint64_t lo;
  uint64_t hi;
  uint32_t weight;
};

// The largest request a size allows: 64 bytes at size 0, doubling every 10, unbounded at
// kFullSize (small sizes give small cases).
constexpr uint64_t kSmallestTop = 64;
constexpr int kSizePerDoubling = 10;
uint64_t size_top(int size) {
  if (size >= kFullSize) return UINT64_MAX;
  return kSmallestTop << (std::max(size, 0) / kSizePerDoubling);
}

// Sizes from `bands` and, as a band of its own (`edge_weight`), exact thresholds: a read that
// exactly fills a buffer. Bands past the size's top are left out (the first always stays).
rc::Gen<uint64_t> sizes(std::vector<Band> bands, std::vector<uint64_t> edges,
                        uint32_t edge_weight) {
  return rc::gen::withSize([=](int size) {
    const uint64_t top = size_top(size);
    std::vector<std::pair<uint32_t, rc::Gen<uint64_t>>> menu;
    for (const Band& b : bands)
      if (menu.empty() || b.lo <= top)
        menu.emplace_back(b.weight, rc::gen::inRange<uint64_t>(b.lo, std::min(b.hi, top) + 1));
    std::vector<uint64_t> fit;
    for (uint64_t e : edges)
      if (e <= top) fit.push_back(e);
    if (!fit.empty()) menu.emplace_back(edge_weight, rc::gen::sizedElementOf(fit));
    return weighted_of(std::move(menu));
  });
}

// Echo request sizes: small, around the 1 KiB read buffers (001's 1024, 003's 1024, 000's
// recv), 2-3 KiB, around 002's 10240-byte read, up to a loopback MSS, and a few hundred KB
// (past every socket buffer: the sender meets a full window).
const std::vector<Band> kEchoBands = {{1, 64, 40},        {1000, 1100, 16},   {2048, 3072, 10},
                                      {10240, 12288, 12}, {12289, 65536, 6}, {65537, 327680, 3}};
// Exact thresholds: buffer sizes of the seed servers, a page, socket buffer sizes.
const std::vector<uint64_t> kEchoEdges = {1, 1023, 1024, 1025, 2048, 4096, 10240, 10241, 65536};
constexpr uint32_t kEchoEdgeWeight = 24;
// Request lines (bytes with the '\n'): short, and around the 1024-byte recv.
const std::vector<Band> kLineBands = {{1, 64, 60}, {1000, 1100, 28}};
const std::vector<uint64_t> kLineEdges = {1, 1023, 1024, 1025, 1026};
constexpr uint32_t kLineEdgeWeight = 12;
// A flooding hello peer's huge lines: each recv (1024 bytes at most) earns seed 000's 21-byte
// reply, so filling the reader's window and a small server send buffer (~20 KB together) takes
// a megabyte or two of requests.
constexpr uint64_t kHugeLineMin = 128 * 1024;
constexpr uint64_t kHugeLineMax = 768 * 1024;

// Printable bytes, no space and no '\n'.
constexpr char kFirstPrintable = '!';
constexpr char kLastPrintable = '~';

// A line of `n` bytes (the last one '\n'): printable bytes drawn at random, not shrunk (the
// length shrinks, the line is drawn again).
rc::Gen<Request> line_of(uint64_t n) {
  const auto printable = rc::gen::inRange<char>(kFirstPrintable, kLastPrintable + 1);
  return rc::gen::map(
      rc::gen::noShrink(rc::gen::container<std::string>(static_cast<size_t>(n - 1), printable)),
      [](std::string text) {
        text += '\n';
        return Request{std::move(text), 0, "", Request::Reply::lines, 1};
      });
}

rc::Gen<Request> line_requests() {
  return rc::gen::mapcat(sizes(kLineBands, kLineEdges, kLineEdgeWeight), line_of);
}

// A huge line: pattern bytes (they hold no '\n') and the '\n' alone, so the case file and the
// checker never copy it.
rc::Gen<Request> huge_lines() {
  return rc::gen::map(rc::gen::inRange<uint64_t>(kHugeLineMin, kHugeLineMax + 1), [](uint64_t n) {
    return Request{"", n - 1, "\n", Request::Reply::lines, 1};
  });
}

// The built-in checkers live as long as the process: a non-owning shared_ptr to one of them.
std::shared_ptr<const ProtocolChecker> builtin_checker(std::string_view name) {
  return std::shared_ptr<const ProtocolChecker>(std::shared_ptr<const ProtocolChecker>{},
                                                find_checker(name));
}

// --- the structure ------------------------------------------------------------------------------

// One request and, for a peer that reads each reply before the next request, an optional pause
// after the reply.
struct Exchange {
  Request request;
  Nanos pause = 0;
};

// How a connection ends: a close after the replies, a shutdown_write after the requests (then
// the replies and the server's end of file), or a reset after the requests (no reply read).
enum class End : uint8_t { close, half_close, reset };

// One connection of a peer.
struct Talk {
  std::vector<Exchange> exchanges;
  bool pipelined = false;  // every request sent before any reply is read
  End end = End::close;
};

struct PeerPlan {
  Nanos start = 0;
  uint64_t rcvbuf = 0;  // SO_RCVBUF before the first connect (0: not set)
  uint64_t budget = 0;  // bytes it may send
  std::vector<Talk> talks;
};

struct ScenarioPlan {
  bool together = true;  // every peer starts at 0
  std::vector<PeerPlan> peers;
};

// Peers per case: several connect together (lost-accept needs two), few enough to shrink fast.
constexpr uint64_t kMinPeers = 1;
// Requests per connection for the ordinary kinds; connections of a reconnecting peer.
constexpr uint64_t kMinConnections = 2;
constexpr uint64_t kMaxConnections = 3;
// Peers that do not start together start within this much of the server's first wait.
constexpr Nanos kMaxSpread = 1 * kNanosPerMilli;
// A pause after a reply, before the next request (a second delivery before the next read) ...
constexpr Nanos kMaxPause = 200 * kNanosPerMicro;
constexpr uint32_t kPauseOneIn = 8;  // ... after one reply in this many
// A stop-reader sends this many requests before reading any reply (a flooding protocol's
// peers, whose requests are large, fewer).
constexpr uint64_t kStopReaderMinRequests = 8;
constexpr uint64_t kStopReaderMaxRequests = 32;
constexpr uint64_t kFloodMinRequests = 2;
constexpr uint64_t kFloodMaxRequests = 8;
// A stop-reader may shrink its receive buffer first (SO_RCVBUF before connect): a client on a
// small window, whose replies back up into the server sooner.
constexpr uint64_t kSmallRcvbufMin = 1024;
constexpr uint64_t kSmallRcvbufMax = 8192;
// A stop-reader may send this many times a peer's budget (GenOptions::max_peer_bytes).
constexpr uint64_t kStopReaderBudgetFactor = 2;
// With the slow-reader fault on, what a peer sends at most: the slowest reader the world makes
// (1 byte per millisecond, SimRun::kSlowReadMaxGap) takes the run's 60 s time limit for 60 KB,
// and a case a correct server cannot finish in time would report a stall that is not there.
constexpr uint64_t kSlowReaderPeerBytes = 16 * 1024;
// The EINTR fault's probability at most: a signal at every blocking epoll_wait never lets a
// run go quiet (the world interrupts even the final wait, a correct handler retries until the
// step budget, and nothing can be judged at quiescence). Half the waits still get the signal.
constexpr uint32_t kMaxEintrPerMille = 500;
// The fault plan's probabilities: FaultPlan::swarm's menu.
const std::vector<uint32_t> kPerMilleMenu = {50, 200, 500, 1000};

// The kinds a peer may take, with their weights; plain first (what kinds shrink toward).
enum class Kind : uint8_t { plain, pipelined, half_closer, reconnecting, resetting, stop_reader };
// A stop-reader is the only kind that can make a server block on a full send buffer (seed
// 000's stall), and only when no other peer's oracle fires first: 20, where 10 (the old
// generator's) found that stall after a median of 600 cases (docs/SEARCH.md).
const std::vector<uint32_t> kKindWeights = {25, 20, 15, 15, 5, 20};

// --- the batch shape ----------------------------------------------------------------------------
// Several peers with one script, all starting at 0: their SYNs, then their first requests (each
// sent when its connect completes, which is when the SYN-ACK arrives), land in the same
// instant, and so do the FINs or resets that end them. The handler wakes on the first arrival
// and the rest pile up while it works: its next epoll_wait returns several connections at once
// (bug class 16: the handler of event i closes j, then acts on j's event). The delay fault is
// off for it (world/network.cc's delivery_time would spread the arrivals the shape lines up).
constexpr uint32_t kBatchOneIn = 8;
// Peers of a batch case: enough for several events in one batch, and more than a server that
// caps its connections at two keeps.
constexpr uint64_t kBatchMinPeers = 3;
constexpr uint64_t kBatchMaxConversations = 2;
constexpr uint64_t kBatchMaxRequests = 3;

struct Plan {
  ScenarioPlan scenario;
  uint64_t batch_copies = 0;  // >0: the batch shape, scenario.peers[0] copied this many times
};

rc::Gen<Exchange> exchange(const rc::Gen<Request>& request, bool pauses) {
  if (!pauses) return rc::gen::map(request, [](Request r) { return Exchange{std::move(r), 0}; });
  const auto pause = weighted_of<Nanos>(
      {{kPauseOneIn - 1, rc::gen::just<Nanos>(0)}, {1, rc::gen::inRange<Nanos>(1, kMaxPause + 1)}});
  return rc::gen::apply([](Request r, Nanos p) { return Exchange{std::move(r), p}; }, request,
                        pause);
}

rc::Gen<Talk> talk(const rc::Gen<Request>& request, uint64_t lo, uint64_t hi, bool pipelined,
                   End end) {
  return rc::gen::map(vector_of(lo, hi, 0, exchange(request, !pipelined && end == End::close)),
                      [pipelined, end](std::vector<Exchange> x) {
                        return Talk{std::move(x), pipelined, end};
                      });
}

rc::Gen<PeerPlan> one_talk(uint64_t budget, rc::Gen<Talk> t) {
  return rc::gen::map(std::move(t), [budget](Talk x) { return PeerPlan{0, 0, budget, {std::move(x)}}; });
}

rc::Gen<PeerPlan> peer_of_kind(Kind kind, const Protocol& p, const GenOptions& o) {
  const uint64_t budget = o.max_peer_bytes;
  const uint64_t most = std::max<uint64_t>(1, o.max_requests);
  switch (kind) {
    case Kind::plain: return one_talk(budget, talk(p.request, 1, most, false, End::close));
    case Kind::pipelined:
      return one_talk(budget, talk(p.request, std::min<uint64_t>(2, most), most, true, End::close));
    case Kind::half_closer:
      return one_talk(budget, talk(p.request, 1, most, true, End::half_close));
    case Kind::resetting: return one_talk(budget, talk(p.request, 1, most, true, End::reset));
    case Kind::reconnecting: {
      const auto conversation = rc::gen::mapcat(rc::gen::arbitrary<bool>(), [=](bool pipelined) {
        return talk(p.request, 1, most, pipelined, End::close);
      });
      return rc::gen::map(vector_of(kMinConnections, kMaxConnections, 1, conversation),
                          [budget](std::vector<Talk> ts) { return PeerPlan{0, 0, budget, std::move(ts)}; });
    }
    case Kind::stop_reader: {
      const bool flooding = p.flood.has_value();
      const rc::Gen<Request> request =
          flooding ? weighted_of<Request>({{1, p.request}, {1, *p.flood}}) : p.request;
      const uint64_t lo = flooding ? kFloodMinRequests : kStopReaderMinRequests;
      const uint64_t hi = flooding ? kFloodMaxRequests : kStopReaderMaxRequests;
      const auto rcvbuf = weighted_of<uint64_t>(
          {{1, rc::gen::just<uint64_t>(0)},
           {1, rc::gen::inRange<uint64_t>(kSmallRcvbufMin, kSmallRcvbufMax + 1)}});
      return rc::gen::apply(
          [budget](uint64_t buf, Talk t) {
            return PeerPlan{0, buf, budget * kStopReaderBudgetFactor, {std::move(t)}};
          },
          rcvbuf, talk(request, lo, hi, true, End::close));
    }
  }
  return one_talk(budget, talk(p.request, 1, most, false, End::close));
}

rc::Gen<PeerPlan> peer(const Protocol& p, const GenOptions& o) {
  const auto body = rc::gen::mapcat(weighted_index(kKindWeights), [p, o](size_t k) {
    return peer_of_kind(static_cast<Kind>(k), p, o);
  });
  return rc::gen::apply(
      [](Nanos start, PeerPlan plan) {
        plan.start = start;
        return plan;
      },
      rc::gen::inRange<Nanos>(0, kMaxSpread + 1), body);
}

// One case in kSoloOneIn (beyond the uniform count's share) has one peer: a finding that one
// peer shows is not masked by another peer's (seed 000 corrupts the stream of every peer that
// reads two replies, which hides its stall behind a stop-reader).
constexpr uint32_t kSoloOneIn = 4;

rc::Gen<Plan> ordinary(const Protocol& p, const GenOptions& o) {
  const uint64_t most = std::max<uint64_t>(kMinPeers, o.max_peers);
  const auto crowd = weighted_of<std::vector<PeerPlan>>(
      {{1, vector_of(kMinPeers, kMinPeers, kMinPeers, peer(p, o))},
       {kSoloOneIn - 1, vector_of(kMinPeers, most, kMinPeers, peer(p, o))}});
  return rc::gen::apply(
      [](bool together, std::vector<PeerPlan> peers) {
        return Plan{ScenarioPlan{together, std::move(peers)}, 0};
      },
      // Together shrinks to true (every peer at 0), spread is the second choice.
      rc::gen::map(weighted_index({1, 1}), [](size_t i) { return i == 0; }), crowd);
}

// One batch conversation: its end drawn first (close shrinks first), its requests.
rc::Gen<Talk> batch_talk(const Protocol& p) {
  return rc::gen::mapcat(weighted_index({1, 1, 1}), [p](size_t e) {
    return talk(p.request, 1, kBatchMaxRequests, true, static_cast<End>(e));
  });
}

rc::Gen<Plan> batch(const Protocol& p, const GenOptions& o) {
  const uint64_t most = std::max<uint64_t>(kBatchMinPeers, o.max_peers);
  return rc::gen::apply(
      [budget = o.max_peer_bytes](uint64_t copies, std::vector<Talk> talks) {
        Plan plan;
        plan.scenario.peers.push_back(PeerPlan{0, 0, budget, std::move(talks)});
        plan.batch_copies = copies;
        return plan;
      },
      rc::gen::inRange<uint64_t>(kBatchMinPeers, most + 1),
      vector_of(1, kBatchMaxConversations, 1, batch_talk(p)));
}

rc::Gen<Plan> plan(const Protocol& p, const GenOptions& o) {
  return rc::gen::mapcat(one_in(kBatchOneIn), [p, o](bool b) {
    return b ? batch(p, o) : ordinary(p, o);
  });
}

// --- the scripts -----------------------------------------------------------------------------------

// Writes one peer's script from its plan, within its byte budget and CaseLimits::kMaxSteps.
class ScriptWriter {
 public:
  ScriptWriter(uint64_t budget, uint64_t* run_bytes) : budget_(budget), run_bytes_(run_bytes) {}

  // The request as it fits what is left of the budget, or false (it and the rest are dropped).
  bool fit(Request& r) {
    if (full_) return false;
    const uint64_t left = std::min(budget_ - std::min(budget_, sent_),
                                   RunLimits::kMaxRunBytes - std::min(RunLimits::kMaxRunBytes, *run_bytes_));
    const uint64_t fixed = r.data.size() + r.tail.size();
    if (r.size() > left) {
      if (fixed > left || left == 0) return full_ = true, false;
      r.pattern = left - fixed;
      if (r.reply == Request::Reply::bytes) r.reply_count = std::min(r.reply_count, r.size());
    }
    if (steps_.size() + send_steps(r) + read_steps(r) + kReservedSteps > CaseLimits::kMaxSteps)
      return full_ = true, false;
    sent_ += r.size();
    *run_bytes_ += r.size();
    return true;
  }

  void op(Op o, uint64_t n = 0, Nanos t = 0) { steps_.push_back(Step{o, n, t, ""}); }

  void send(const Request& r) {
    data(r.data);
    if (r.pattern > 0) op(Op::send, r.pattern);
    data(r.tail);
  }

  void read(const Request& r) {
    switch (r.reply) {
      case Request::Reply::bytes:
        if (r.reply_count > 0) op(Op::expect, r.reply_count);
        break;
      case Request::Reply::lines:
        for (uint64_t i = 0; i < r.reply_count; ++i) op(Op::expect_line);
        break;
      case Request::Reply::none: break;
    }
  }

  void talk(const Talk& t) {
    std::vector<Exchange> xs;
    for (Exchange x : t.exchanges)
      if (fit(x.request)) xs.push_back(std::move(x));
    op(Op::connect);
    if (t.end == End::reset) {
      for (const Exchange& x : xs) send(x.request);
      return op(Op::reset);
    }
    if (t.end == End::half_close) {
      for (const Exchange& x : xs) send(x.request);
      op(Op::shutdown_write);
      for (const Exchange& x : xs) read(x.request);
      op(Op::read_eof);
      return op(Op::close);
    }
    if (t.pipelined) {
      for (const Exchange& x : xs) send(x.request);
      for (const Exchange& x : xs) read(x.request);
      return op(Op::close);
    }
    for (const Exchange& x : xs) {
      send(x.request);
      read(x.request);
      if (x.pause > 0) op(Op::sleep, 0, x.pause);
    }
    op(Op::close);
  }

  std::vector<Step> take() { return std::move(steps_); }

 private:
  // Steps kept for a connection's connect, shutdown, read_eof, close and a pause.
  static constexpr size_t kReservedSteps = 6;

  void data(const std::string& bytes) {
    for (size_t at = 0; at < bytes.size(); at += CaseLimits::kMaxDataBytes)
      steps_.push_back(Step{Op::send, 0, 0, bytes.substr(at, CaseLimits::kMaxDataBytes)});
  }
  static size_t send_steps(const Request& r) {
    const auto chunks = [](size_t n) {
      return (n + CaseLimits::kMaxDataBytes - 1) / CaseLimits::kMaxDataBytes;
    };
    return chunks(r.data.size()) + (r.pattern > 0 ? 1 : 0) + chunks(r.tail.size());
  }
  static size_t read_steps(const Request& r) {
    return r.reply == Request::Reply::lines ? static_cast<size_t>(r.reply_count) : 1;
  }

  uint64_t budget_;
  uint64_t* run_bytes_;
  uint64_t sent_ = 0;
  bool full_ = false;
  std::vector<Step> steps_;
};

PeerScript write_peer(const PeerPlan& p, bool together, uint64_t budget, uint64_t* run_bytes) {
  ScriptWriter w(budget, run_bytes);
  if (p.rcvbuf > 0) w.op(Op::rcvbuf, p.rcvbuf);
  for (size_t i = 0; i < p.talks.size(); ++i) {
    Talk t = p.talks[i];
    // A reset conversation's replies are never read, and the checkers compare a peer's whole
    // stream over its connections (Peer::sent, Peer::received): only the last may reset.
    if (t.end == End::reset && i + 1 < p.talks.size()) t.end = End::close;
    w.talk(t);
  }
  return PeerScript{together ? 0 : p.start, w.take()};
}

Scenario write_scenario(const Plan& plan, const Protocol& protocol, const GenOptions& o,
                        bool slow_readers) {
  Scenario s;
  s.handler = o.handler;
  s.handler_args = o.handler_args;
  s.protocol = protocol.name;
  s.port = o.port;
  uint64_t run_bytes = 0;
  const auto budget = [&](const PeerPlan& p) {
    return slow_readers ? std::min(p.budget, kSlowReaderPeerBytes) : p.budget;
  };
  if (plan.batch_copies > 0) {
    const PeerPlan& p = plan.scenario.peers.front();
    // Every copy sends the same bytes: the script is written once, within 1/copies of the run.
    uint64_t copy_bytes = RunLimits::kMaxRunBytes - RunLimits::kMaxRunBytes / plan.batch_copies;
    const PeerScript one = write_peer(p, true, budget(p), &copy_bytes);
    s.peers.assign(plan.batch_copies, one);
    return s;
  }
  for (const PeerPlan& p : plan.scenario.peers)
    s.peers.push_back(write_peer(p, plan.scenario.together, budget(p), &run_bytes));
  return s;
}

rc::Gen<Fault> fault(uint32_t most) {
  std::vector<uint32_t> menu;
  for (uint32_t pm : kPerMilleMenu)
    if (pm <= most) menu.push_back(pm);
  // On or off, 1 in 2, shrinking toward off; its probability does not shrink (a lower one
  // would fire elsewhere: a new schedule, rarely a smaller case).
  return rc::gen::apply([](bool on, uint32_t pm) { return on ? Fault{true, pm} : Fault{}; },
                        rc::gen::arbitrary<bool>(), rc::gen::elementOf(menu));
}

// A fault that is on in every case (with a probability from the menu), shrinking to off: the
// `every_fault` profile.
rc::Gen<Fault> fault_on(uint32_t most) {
  std::vector<uint32_t> menu;
  for (uint32_t pm : kPerMilleMenu)
    if (pm <= most) menu.push_back(pm);
  const rc::Gen<uint32_t> level = rc::gen::elementOf(menu);
  return [level](const rc::Random& random, int size) {
    const uint32_t pm = level(random, size).value();
    return rc::shrinkable::shrinkRecur(Fault{true, pm}, [](const Fault& f) {
      return f.on ? rc::seq::just(Fault{}) : rc::Seq<Fault>();
    });
  };
}

}  // namespace

// --- protocols -----------------------------------------------------------------------------------

Protocol echo_protocol() {
  return Protocol{"echo", rc::gen::map(sizes(kEchoBands, kEchoEdges, kEchoEdgeWeight), [](uint64_t n) {
                    return Request{"", n, "", Request::Reply::bytes, n};
                  }),
                  builtin_checker("echo"), std::nullopt};
}

Protocol line_protocol() { return Protocol{"line", line_requests(), builtin_checker("line"), std::nullopt}; }

Protocol hello_protocol() {
  return Protocol{"hello", line_requests(), builtin_checker("hello"), huge_lines()};
}

std::optional<Protocol> builtin_protocol(std::string_view name) {
  if (name == "echo") return echo_protocol();
  if (name == "line") return line_protocol();
  if (name == "hello") return hello_protocol();
  return std::nullopt;
}

// --- generators ------------------------------------------------------------------------------------

rc::Gen<FaultPlan> gen_fault_plan(uint32_t kinds, bool every) {
  std::vector<rc::Gen<Fault>> each;
  for (size_t i = 0; i < kFaultCount; ++i) {
    const uint32_t most =
        static_cast<FaultKind>(i) == FaultKind::eintr ? kMaxEintrPerMille : Fault::kPerMille;
    // A kind left out still takes its split of the random stream below, so the other kinds
    // draw what they draw in the full plan.
    if ((kinds >> i & 1u) == 0)
      each.push_back(rc::gen::just(Fault{}));
    else
      each.push_back(every ? fault_on(most) : fault(most));
  }
  // One generator per fault, in FaultKind order: a tuple of kFaultCount faults.
  return [each](const rc::Random& random, int size) {
    rc::Random r = random;
    std::vector<rc::Shrinkable<Fault>> faults;
    for (const auto& g : each) faults.push_back(g(r.split(), size));
    using Faults = std::vector<rc::Shrinkable<Fault>>;
    return rc::shrinkable::map(
        rc::shrinkable::shrinkRecur(std::move(faults),
                                    [](const Faults& fs) {
                                      return rc::shrink::eachElement(
                                          fs, [](const rc::Shrinkable<Fault>& f) { return f.shrinks(); });
                                    }),
        [](const Faults& fs) {
          FaultPlan plan;
          for (size_t i = 0; i < kFaultCount; ++i) plan.faults[i] = fs[i].value();
          return plan;
        });
  };
}

rc::Gen<Scenario> gen_scenario(const Protocol& protocol, const GenOptions& options) {
  return rc::gen::map(plan(protocol, options), [protocol, options](const Plan& p) {
    return write_scenario(p, protocol, options, false);
  });
}

rc::Gen<Case> gen_case(const Protocol& protocol, const GenOptions& options) {
  const rc::Gen<FaultPlan> faults =
      options.faults ? gen_fault_plan(options.fault_kinds, options.every_fault)
                     : rc::gen::just(FaultPlan::none());
  return rc::gen::apply(
      [protocol, options](FaultPlan f, const Plan& p, uint64_t seed) {
        Case c;
        c.kit_version = std::string(build_kit_version());
        c.seed = seed;
        if (p.batch_copies > 0) f[FaultKind::delay] = Fault{};
        c.faults = f;
        c.scenario = write_scenario(p, protocol, options, f.on(FaultKind::slow_reader));
        return c;
      },
      // The faults first: rapidcheck tries a tuple's shrinks in order, and turning a fault off
      // is one cheap candidate (the scenario's are many), so the budget goes to the faults
      // before the scenario's shrinks spend it.
      faults, plan(protocol, options),
      // The world's seed: a new schedule, never a smaller case, so it does not shrink.
      rc::gen::noShrink(rc::gen::arbitrary<uint64_t>()));
}

rc::Shrinkable<Case> case_from_seed(const Protocol& protocol, const GenOptions& options,
                                    uint64_t seed) {
  // The generator's key: the seed and a salt ("gen_case"), so the world's streams (seeded from
  // the seed itself) and the generator's draws are unrelated.
  constexpr uint64_t kGenSalt = 0x6765'6e5f'6361'7365ULL;
  const rc::Random random(rc::Random::Key{seed, kGenSalt, 0, 0});
  return rc::shrinkable::map(gen_case(protocol, options)(random, kFullSize), [seed](Case c) {
    c.seed = seed;  // the case seed names: its world runs from it
    return c;
  });
}

}  // namespace edgecase
