// One case run in the simulated world: the World, the case's peers as actors, the peer faults
// of the plan applied to their scripts, and the handler. The world stays alive after run() for
// whoever judges it (tests, oracles, replay).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgecase/case_file.h"
#include "harness/peer.h"
#include "edgecase/runner.h"
#include "world/world.h"

namespace edgecase {

struct SimRunOptions {
  bool trace = true;         // format trace lines (off: only the run's results, for speed)
  bool keep_trace = false;   // keep every line, not just the last Trace::kTailLines
  std::function<void(const std::string&)> trace_sink = nullptr;  // each line as written
  uint64_t step_budget = sim::WorldOptions::kDefaultStepBudget;
  Nanos time_limit = sim::WorldOptions::kDefaultTimeLimit;
  // Fed every chunk the peers receive, and the server's reads of their streams in the order
  // they happen (ProtocolCheck::server_read) (not owned).
  ProtocolCheck* check = nullptr;
  Nanos wall_time_limit = 0;  // the kit's limit (RunOptions::wall_time_limit); 0: none
};

class SimRun {
 public:
  // Rcvbuf values the small-buffers fault gives a peer (SO_RCVBUF before connect), and the
  // range of the server's tcp_wmem[1] it picks (no growth at establishment, as on a path with
  // a small MSS). Linux accepts any of these.
  static constexpr uint64_t kSmallRcvbufMin = 1024;
  static constexpr uint64_t kSmallRcvbufMax = 16 * 1024;
  static constexpr uint64_t kSmallWmemMin = 4096;
  static constexpr uint64_t kSmallWmemMax = 16 * 1024;
  // A slow reader reads 1..kSlowReadMaxBytes bytes every kSlowReadMinGap..kSlowReadMaxGap.
  static constexpr uint64_t kSlowReadMaxBytes = 64;
  static constexpr Nanos kSlowReadMinGap = 10 * kNanosPerMicro;
  static constexpr Nanos kSlowReadMaxGap = 1 * kNanosPerMilli;
  // A peer reset lands at one of this many evenly spaced points of the script's connected span.
  static constexpr uint64_t kResetPointResolution = 1024;

  explicit SimRun(const Case& c, SimRunOptions options = {});
  ~SimRun();

  // Runs the case's handler, found by name in `handlers` (throws std::invalid_argument for an
  // unknown one).
  sim::World::Result run(const HandlerRegistry& handlers);
  // Runs the given handler instead.
  sim::World::Result run(const Handler& h);

  sim::World& world() { return *world_; }
  const Case& the_case() const { return case_; }
  // peer#i is peers()[i - 1].
  const std::vector<const Peer*>& peers() const { return peer_views_; }
  // The scripts as the faults changed them.
  const std::vector<PeerScript>& scripts() const { return scripts_; }

 private:
  class PeerActor;
  class ServerReads;
  void apply_buffer_faults();
  PeerScript apply_peer_faults(uint32_t index, PeerScript s);
  void trace_header();

  Case case_;
  SimRunOptions options_;
  std::unique_ptr<ServerReads> reads_;  // before world_: the network refers to it
  std::unique_ptr<sim::World> world_;
  std::vector<PeerScript> scripts_;
  std::vector<const Peer*> peer_views_;
};

}  // namespace edgecase
