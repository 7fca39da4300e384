#include "harness/sim_run.h"

#include <algorithm>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <stdexcept>

#include "sim/net.h"
#include "sim/tcp.h"

namespace edgecase {

// Cases are validated against the world's time limit (validate_case).
static_assert(RunLimits::kTimeLimit == sim::WorldOptions::kDefaultTimeLimit);

using sim::Stream;

// A peer as an actor of the world: runs when its timer is due or its socket has an edge.
class SimRun::PeerActor final : public sim::Actor {
 public:
  PeerActor(uint32_t index, PeerScript script, sockaddr_in server, sim::World& w)
      : peer(index, std::move(script), server) {
    if (w.tracing()) peer.set_trace([&w](std::string_view line) { w.trace(line); });
  }

  void act(sim::World& w) override {
    const PeerWait wait = peer.run(w.remote(), w.now());
    // A script that reconnects usually gets the same fd number back for its new socket.
    const int fd = peer.fd();
    if (fd >= 0 && (fd != watched_ || peer.sockets() != watched_socket_)) w.watch(*this, fd);
    watched_ = fd;
    watched_socket_ = peer.sockets();
    if (wait.kind == PeerWait::Kind::time) w.wake_at(*this, wait.until);
  }

  Peer peer;

 private:
  int watched_ = -1;
  size_t watched_socket_ = 0;  // Peer::sockets() when watched_ was registered
};

// The server's reads, from the network's receive queues: a consumed byte on an endpoint whose
// remote port is a peer's latest local port is the server reading that peer's stream (the
// peer's own socket has the server's port as its remote port).
class SimRun::ServerReads final : public sim::ReadObserver {
 public:
  ServerReads(ProtocolCheck& check, const std::vector<const Peer*>& peers)
      : check_(check), peers_(peers) {}

  void consumed(const sim::Tcb& t, uint64_t total) override {
    for (const Peer* p : peers_) {
      if (p->local_port() != t.dport || p->local_port() == 0) continue;
      check_.server_read(p->conversation(), p->connect_offset() + total);
      return;
    }
  }

 private:
  ProtocolCheck& check_;
  const std::vector<const Peer*>& peers_;
};

SimRun::SimRun(const Case& c, SimRunOptions options) : case_(c), options_(options) {
  sim::WorldOptions wo;
  wo.seed = c.seed;
  wo.faults = c.faults;
  wo.step_budget = options.step_budget;
  wo.time_limit = options.time_limit;
  wo.wall_time_limit = options.wall_time_limit;
  wo.trace = options.trace;
  world_ = std::make_unique<sim::World>(wo);
  if (options.keep_trace) world_->trace().keep_all(true);
  if (options.trace_sink) world_->trace().set_sink(options.trace_sink);
  trace_header();
  apply_buffer_faults();
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(c.scenario.port);
  server.sin_addr.s_addr = htonl(c.scenario.addr);
  for (uint32_t i = 0; i < c.scenario.peers.size(); ++i) {
    const uint32_t index = i + 1;
    scripts_.push_back(apply_peer_faults(index, c.scenario.peers[i]));
    auto actor = std::make_unique<PeerActor>(index, scripts_.back(), server, *world_);
    actor->peer.set_check(options.check);
    PeerActor* a = actor.get();
    world_->add_actor(std::move(actor));
    peer_views_.push_back(&a->peer);
    world_->start_when_ready(*a, scripts_.back().start);
  }
  if (options.check != nullptr) {
    reads_ = std::make_unique<ServerReads>(*options.check, peer_views_);
    world_->server().net().set_read_observer(reads_.get());
  }
}

SimRun::~SimRun() {
  if (world_) world_->server().net().set_read_observer(nullptr);
}

void SimRun::trace_header() {
  if (!world_->tracing()) return;
  world_->trace(fmt::format("case: handler {}, seed {:#018x}, {} peers",
                            case_.scenario.handler, case_.seed, case_.scenario.peers.size()));
  world_->trace(case_.faults.describe());
}

void SimRun::apply_buffer_faults() {
  if (!world_->fire(FaultKind::small_buffers)) return;
  sim::NetSysctls& sysctl = world_->server().net().sysctl;
  const int wmem = static_cast<int>(
      world_->random().between(Stream::faults, kSmallWmemMin, kSmallWmemMax));
  sysctl.tcp_wmem_default = wmem;
  sysctl.expanded_sndbuf = wmem;
  world_->trace(fmt::format("fault: small-buffers: server send buffers {} bytes", wmem));
}

namespace {
// Index of the script's connect step, or steps.size() when it has none.
size_t connect_step(const std::vector<Step>& steps) {
  return static_cast<size_t>(
      std::find_if(steps.begin(), steps.end(),
                   [](const Step& st) { return st.op == Step::Op::connect; }) -
      steps.begin());
}
void insert_at(std::vector<Step>& steps, size_t at, Step st) {
  steps.insert(steps.begin() + static_cast<std::ptrdiff_t>(at), std::move(st));
}
}  // namespace

// Every fault and its parameters are drawn for every peer, in this order, whether or not the
// script lets it apply, so that one peer's script never shifts the draws of the next.
PeerScript SimRun::apply_peer_faults(uint32_t index, PeerScript s) {
  auto& steps = s.steps;
  sim::World& w = *world_;
  sim::Rng& rng = w.random().stream(Stream::faults);
  const bool connects = connect_step(steps) < steps.size();
  if (w.fire(FaultKind::small_buffers)) {
    const uint64_t n = rng.between(kSmallRcvbufMin, kSmallRcvbufMax);
    if (connects) {
      insert_at(steps, connect_step(steps), Step{Step::Op::rcvbuf, n, 0, ""});
      w.trace(fmt::format("fault: small-buffers: peer#{} SO_RCVBUF {}", index, n));
    }
  }
  if (w.fire(FaultKind::slow_reader)) {
    const uint64_t k = rng.between(1, kSlowReadMaxBytes);
    const auto t = static_cast<Nanos>(rng.between(kSlowReadMinGap, kSlowReadMaxGap));
    if (connects) {
      insert_at(steps, connect_step(steps) + 1, Step{Step::Op::slow_read, k, t, ""});
      w.trace(fmt::format("fault: slow-reader: peer#{} reads {} bytes every {}ns", index, k, t));
    }
  }
  if (w.fire(FaultKind::half_close)) {
    auto last_send = std::find_if(steps.rbegin(), steps.rend(),
                                  [](const Step& st) { return st.op == Step::Op::send; });
    if (last_send != steps.rend()) {
      insert_at(steps, static_cast<size_t>(last_send.base() - steps.begin()),
                Step{Step::Op::shutdown_write, 0, 0, ""});
      w.trace(fmt::format("fault: half-close: peer#{} shuts down after its last send", index));
    }
  }
  if (w.fire(FaultKind::peer_reset)) {
    // The cut falls after the connect and at the latest where the connection closes: a reset
    // after its close (or its own reset) would find no socket. Drawn as a fraction of that
    // span so the draw does not depend on the script.
    const uint64_t draw = rng.below(kResetPointResolution);
    if (connects) {
      const size_t first = connect_step(steps) + 1;
      const size_t last = static_cast<size_t>(
          std::find_if(steps.begin() + static_cast<std::ptrdiff_t>(first), steps.end(),
                       [](const Step& st) {
                         return st.op == Step::Op::close || st.op == Step::Op::reset;
                       }) -
          steps.begin());
      const size_t at = first + static_cast<size_t>(draw * (last - first + 1) / kResetPointResolution);
      steps.resize(at);
      steps.push_back(Step{Step::Op::reset, 0, 0, ""});
      w.trace(fmt::format("fault: peer-reset: peer#{} resets at step {}", index, at + 1));
    }
  }
  return s;
}

sim::World::Result SimRun::run(const HandlerRegistry& handlers) {
  return run(handlers.get(case_.scenario.handler, case_.scenario));
}

sim::World::Result SimRun::run(const Handler& h) { return world_->run(h); }

}  // namespace edgecase
