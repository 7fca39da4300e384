// The port table, the connection table and the wire of one simulated kernel
// (net/ipv4/inet_connection_sock.c, inet_hashtables.c, tcp_ipv4.c: tcp_v4_rcv's lookup and
// tcp_v4_send_reset).
#include "sim/net.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <utility>

#include "sim/tcp.h"

namespace edgecase::sim {

namespace {

// inet_bind_conflict: two endpoints may share a port only on disjoint addresses, or when both
// set SO_REUSEADDR and the one already there is not listening.
bool bind_conflict(const Tcb* t, const Tcb* other) {
  if (t == other) return false;
  const bool overlap = !t->saddr || !other->saddr || t->saddr == other->saddr;
  if (!overlap) return false;
  return !(t->reuse() && other->reuse() && other->state != TcpState::listen);
}

// The next candidate of the same parity, wrapping inside the local port range.
uint16_t next_candidate(uint16_t port) {
  const int next = port + 2;
  if (next <= kLocalPortHigh) return static_cast<uint16_t>(next);
  return static_cast<uint16_t>(kLocalPortLow + (port - kLocalPortLow) % 2);
}

}  // namespace

Net::Net() = default;

Net::~Net() {
  graveyard_.clear();
  tcbs_.clear();
}

Tcb* Net::create_tcb() {
  const uint64_t id = next_id_++;
  auto [it, inserted] = tcbs_.emplace(id, std::make_unique<Tcb>(*this, id));
  assert(inserted);
  (void)inserted;
  return it->second.get();
}

void Net::kill(Tcb* t) {
  if (t->dead) return;
  assert(t->sk == nullptr);
  t->dead = true;
  if (t->hashed) unhash(t);
  if (t->num) put_port(t);
  syn_forget(t);
  graveyard_.push_back(t);
}

void Net::reap() {
  if (busy_) return;
  for (Tcb* t : graveyard_) tcbs_.erase(t->id);
  graveyard_.clear();
}

std::string Net::check() const {
  if (busy_ != 0) return "net: a socket call is still in progress";
  if (!graveyard_.empty()) return "net: killed endpoints were not reaped";
  auto alive = [this](const Tcb* t) {
    auto it = tcbs_.find(t->id);
    return it != tcbs_.end() && it->second.get() == t;
  };
  for (const auto& [port, holders] : bhash_)
    for (const Tcb* t : holders) {
      if (!alive(t)) return "net: a dead endpoint holds port " + std::to_string(port);
      if (t->sport != port) return "net: endpoint filed under the wrong port " + std::to_string(port);
    }
  for (const auto& [tuple, t] : ehash_)
    if (!alive(t)) return "net: a dead endpoint is in the connection table";
  return "";
}

// --- ports ------------------------------------------------------------------------------------

uint16_t Net::pick_port(uint16_t* cursor) {
  constexpr int kCandidates = (kLocalPortHigh - kLocalPortLow + 1) / 2;
  for (int i = 0; i < kCandidates; ++i) {
    const uint16_t port = *cursor;
    *cursor = next_candidate(port);
    if (port_free(port)) return port;
  }
  return 0;
}

int Net::get_port(Tcb* t, uint16_t port) {
  assert(t->num == 0);
  if (port == 0) {
    port = pick_port(&next_bind_port_);
    if (port == 0) return -EADDRINUSE;  // inet_csk_find_open_port found nothing
  } else if (auto it = bhash_.find(port); it != bhash_.end()) {
    for (const Tcb* other : it->second)
      if (bind_conflict(t, other)) return -EADDRINUSE;
  }
  bhash_[port].push_back(t);
  t->num = port;
  return 0;
}

bool Net::port_conflict(const Tcb* t) const {
  auto it = bhash_.find(t->num);
  if (it == bhash_.end()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [t](const Tcb* other) { return bind_conflict(t, other); });
}

int Net::connect_port(Tcb* t) {
  assert(t->num == 0);
  const uint16_t port = pick_port(&next_connect_port_);
  if (port == 0) return -EADDRNOTAVAIL;  // __inet_hash_connect: the range is exhausted
  bhash_[port].push_back(t);
  t->num = port;
  return 0;
}

void Net::inherit_port(Tcb* child, uint16_t port) {
  assert(child->num == 0 && bhash_.count(port));
  bhash_[port].push_back(child);
  child->num = port;
}

void Net::put_port(Tcb* t) {
  auto it = bhash_.find(t->num);
  assert(it != bhash_.end());
  auto& owners = it->second;
  owners.erase(std::find(owners.begin(), owners.end(), t));
  if (owners.empty()) bhash_.erase(it);
  t->num = 0;
}

// --- connections ------------------------------------------------------------------------------

int Net::hash(Tcb* t) {
  assert(!t->hashed && t->num);
  auto [it, inserted] = ehash_.emplace(FourTuple{t->saddr, t->num, t->daddr, t->dport}, t);
  (void)it;
  if (!inserted) return -EADDRNOTAVAIL;  // __inet_check_established: the 4-tuple is taken
  t->hashed = true;
  return 0;
}

void Net::unhash(Tcb* t) {
  assert(t->hashed);
  const size_t erased = ehash_.erase(FourTuple{t->saddr, t->num, t->daddr, t->dport});
  assert(erased == 1);
  (void)erased;
  t->hashed = false;
}

Tcb* Net::peer_of(const Tcb& t) const {
  auto it = ehash_.find(FourTuple{t.daddr, t.dport, t.saddr, t.sport});
  return it == ehash_.end() ? nullptr : it->second;
}

// --- the wire ---------------------------------------------------------------------------------

void Net::transmit(Segment seg) {
  if (wire_) {
    wire_->send(std::move(seg));
    return;
  }
  // Loopback: the segment is processed now, within the sender's call.
  deliver(seg);
}

void Net::deliver(const Segment& seg) {
  auto it = ehash_.find(FourTuple{seg.daddr, seg.dport, seg.saddr, seg.sport});
  if (it != ehash_.end()) {
    it->second->receive(seg);
    return;
  }
  if (Tcb* listener = lookup_listener(seg.daddr, seg.dport)) {
    listener->receive(seg);
    return;
  }
  // Nothing is bound there: tcp_v4_rcv's no_tcp_socket path answers with a RST.
  if (!(seg.flags & Segment::kRst)) transmit(reset_for(seg));
}

Tcb* Net::lookup_listener(uint32_t addr, uint16_t port) const {
  auto it = bhash_.find(port);
  if (it == bhash_.end()) return nullptr;
  // An exact address scores above a wildcard one (compute_score).
  Tcb* wildcard = nullptr;
  for (Tcb* t : it->second) {
    if (t->state != TcpState::listen) continue;
    if (t->saddr == addr) return t;
    if (t->saddr == 0 && wildcard == nullptr) wildcard = t;
  }
  return wildcard;
}

Segment reset_for(const Segment& seg) {
  assert(!(seg.flags & Segment::kRst));
  Segment rst;
  rst.saddr = seg.daddr;
  rst.sport = seg.dport;
  rst.daddr = seg.saddr;
  rst.dport = seg.sport;
  if (seg.flags & Segment::kAck) {
    rst.flags = Segment::kRst;
    rst.seq = seg.ack;
  } else {
    rst.flags = Segment::kRst | Segment::kAck;
    rst.ack = seg.end_seq();
  }
  return rst;
}

// --- SYN retransmission -----------------------------------------------------------------------

void Net::syn_unanswered(Tcb* client) {
  assert(!client->syn_waiting);
  client->syn_waiting = true;
  syn_waiting_.push_back(client);
}

void Net::syn_dropped(const Segment& syn) {
  auto it = ehash_.find(FourTuple{syn.saddr, syn.sport, syn.daddr, syn.dport});
  if (it == ehash_.end()) return;  // the client gave up while its SYN was on the way
  Tcb* client = it->second;
  if (client->state == TcpState::syn_sent && !client->syn_waiting) syn_unanswered(client);
}

void Net::syn_forget(Tcb* client) {
  if (!client->syn_waiting) return;
  syn_waiting_.erase(std::find(syn_waiting_.begin(), syn_waiting_.end(), client));
  client->syn_waiting = false;
}

void Net::retransmit_syns(uint32_t addr, uint16_t port, const Tcb* room) {
  // Each retransmission may complete, queue the client again, or refuse it: work on a copy.
  std::vector<Tcb*> due;
  for (Tcb* c : syn_waiting_)
    if (c->dport == port && (addr == 0 || c->daddr == addr)) due.push_back(c);
  for (Tcb* c : due) {
    if (room && (room->state != TcpState::listen || room->accept_queue_full())) return;
    if (!c->syn_waiting) continue;  // an earlier retransmission's side effects settled it
    syn_forget(c);
    c->send_syn();
  }
}

}  // namespace edgecase::sim
