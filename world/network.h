// The world's network: what happens to a TCP segment between two hosts (or between two sockets
// of one host) when the network is not an instant loopback. Installed as the Net's Wire, it
// takes every segment and hands it back to Net::deliver later, choosing with the seed's
// network stream how the bytes travel:
//   - split: one data segment becomes several smaller ones;
//   - coalesce: a segment joins the undelivered one before it in the same direction, so the
//     receiver sees one delivery and one wakeup where the sender made two transmissions;
//   - delay: a segment waits before delivery.
// Per direction, order is always kept (a FIN or RST arrives after the bytes sent before it),
// and nothing is lost or duplicated: windows and send buffers are the TCP model's, so the
// network never has to drop. Every delivery is processed by the receiving endpoint at once,
// waking its readers as Linux does for each segment.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "edgecase/scenario.h"
#include "sim/net.h"
#include "world/random.h"

namespace edgecase::sim {

class Network final : public Wire {
 public:
  // A split makes at most this many pieces: enough to show a reader several deliveries (and
  // several wakeups) for one write, few enough that a run's trace stays readable.
  static constexpr uint64_t kMaxPieces = 8;
  // The longest delay a segment may take, in microseconds (whole ones, so that trace stamps
  // stay short): 2 ms is far beyond loopback's few microseconds, yet short enough that a run
  // of thousands of segments stays within the world's time limit.
  static constexpr uint64_t kMaxDelayMicros = 2'000;

  // What the network needs from the world that owns it.
  class Host {
   public:
    virtual ~Host() = default;
    virtual Nanos now() const = 0;
    // Arranges for deliver_next(flow) to run at virtual time `at` (never before now()).
    virtual void schedule_delivery(Nanos at, uint32_t flow) = 0;
    // True when fault `k` is on in the plan and fires at this opportunity.
    virtual bool fire(FaultKind k) = 0;
    // The network stream: segment sizes and delays.
    virtual Rng& rng() = 0;
    // World events for the trace; tracing() says whether lines are wanted at all.
    virtual bool tracing() const = 0;
    virtual void trace(std::string_view line) = 0;
  };

  // Installs itself as `net`'s wire; the destructor delivers nothing more and uninstalls it.
  Network(Net& net, Host& host);
  ~Network() override;
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  void send(Segment seg) override;
  // Delivers the oldest undelivered segment of `flow` (the world calls this when it is due).
  void deliver_next(uint32_t flow);
  // Segments taken and not yet delivered.
  size_t in_flight() const { return in_flight_; }
  // The trace line for a delivered segment, tcpdump-shaped:
  //   net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [P.], seq 1:101, ack 1, win 65535, length 100
  static std::string describe(const Segment& seg);

 private:
  using Direction = std::tuple<uint32_t, uint16_t, uint32_t, uint16_t>;  // from, to
  struct Pending {
    Nanos at;
    Segment seg;
  };
  struct Flow {
    std::deque<Pending> queue;
    Nanos last_at = 0;  // the latest delivery time given in this direction: order is kept
  };

  uint32_t flow_of(const Segment& seg);
  void enqueue(uint32_t flow, Segment seg);
  // The fault may merge `seg` into the undelivered tail of its direction only when the result
  // is a segment TCP could have sent: contiguous, no SYN or RST, nothing after a FIN.
  static bool coalescible(const Segment& tail, const Segment& seg);
  bool try_coalesce(Flow& f, Segment& seg);
  std::vector<Segment> split(Segment seg);
  Nanos delivery_time(Flow& f);

  Net& net_;
  Host& host_;
  std::map<Direction, uint32_t> flow_ids_;  // ordered: nothing depends on hashing
  std::vector<Flow> flows_;
  size_t in_flight_ = 0;
};

}  // namespace edgecase::sim
