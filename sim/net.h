// The network of one simulated kernel: the loopback addresses (127.0.0.0/8), the TCP port table
// (inet_bind_bucket: who holds which local port), the connection table (ehash: 4-tuple to
// endpoint), and the wire.
//
// The wire is one function, Net::transmit. Every exchange between two TCP endpoints goes
// through it as a Segment: SYN, SYN-ACK and the handshake's ACK, data, ACKs carrying window
// updates, FIN and RST. Alone it delivers at once, so a segment is processed before transmit
// returns, as loopback does within the sending system call. A Wire installed with set_wire
// (the world's network: segment sizes, delays) takes every segment instead and hands it back
// to Net::deliver later; endpoints never touch each other directly.
//
// Several hosts may share one Net (SimKernel's second constructor): the world's peers live on
// a host of their own, with their own fd table, and reach the server through this network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <memory>
#include <tuple>
#include <vector>

namespace edgecase::sim {

class Tcb;

// Addresses and ports are in host byte order throughout the simulation.
inline constexpr uint32_t kLoopbackAddr = 0x7f00'0001;  // INADDR_LOOPBACK, 127.0.0.1
inline constexpr uint32_t kLoopbackNet = 0x7f00'0000;   // 127.0.0.0/8: every address is local
inline constexpr uint32_t kLoopbackMask = 0xff00'0000;
// net.ipv4.ip_local_port_range on the machines here.
inline constexpr uint16_t kLocalPortLow = 32768;
inline constexpr uint16_t kLocalPortHigh = 60999;

inline bool is_loopback(uint32_t addr) { return (addr & kLoopbackMask) == kLoopbackNet; }

// One TCP segment. Sequence numbers are 64-bit byte offsets starting at 0 in each direction
// (no wrap-around, no random ISN); SYN and FIN each take one number, as on the wire.
struct Segment {
  static constexpr uint8_t kFin = 0x01;  // TCPHDR_FIN ...
  static constexpr uint8_t kSyn = 0x02;
  static constexpr uint8_t kRst = 0x04;
  static constexpr uint8_t kAck = 0x10;

  uint32_t saddr = 0;
  uint32_t daddr = 0;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint8_t flags = 0;
  uint64_t seq = 0;
  uint64_t ack = 0;  // with kAck: the next sequence number the sender expects
  uint64_t wnd = 0;  // receive window in bytes, from `ack` on (no window scaling to model)
  std::vector<std::byte> data;

  uint64_t end_seq() const {  // TCP_SKB_CB(skb)->end_seq
    return seq + data.size() + ((flags & kSyn) ? 1 : 0) + ((flags & kFin) ? 1 : 0);
  }
};

// The RST that answers `seg` when nothing may accept it (tcp_v4_send_reset).
Segment reset_for(const Segment& seg);

// What carries segments between endpoints when the network is not instant.
class Wire {
 public:
  virtual ~Wire() = default;
  // Takes the segment; must hand it to Net::deliver later, in order per direction.
  virtual void send(Segment seg) = 0;
};

// Told each time a reader takes data off an endpoint's receive queue (tcp_recvmsg consuming,
// not peeking), on any host of the network: how a driver learns in which order the server read
// its peers' streams, without the simulation knowing who reads what for. Implementations only
// record; they must not call into the network (a socket call is in progress).
class ReadObserver {
 public:
  virtual ~ReadObserver() = default;
  // `t` (saddr:sport local, daddr:dport remote) has had `total` data bytes read from it so far.
  virtual void consumed(const Tcb& t, uint64_t total) = 0;
};

// The network namespace's TCP sysctls the model reads (net.ipv4.tcp_rmem[1], tcp_wmem[1]) and
// the send buffer a connection grows to at establishment (tcp_sndbuf_expand, which depends on
// the path's MSS). Defaults: this machine's loopback.
inline constexpr int kTcpRmemDefault = 131'072;   // tcp_rmem[1]: a new socket's sk_rcvbuf
inline constexpr int kTcpWmemDefault = 16'384;    // tcp_wmem[1]: a new socket's sk_sndbuf
// tcp_sndbuf_expand at establishment on lo (MSS 65483: 30 skbs of 131328 bytes), measured.
inline constexpr int kLoopbackExpandedSndbuf = 3'939'840;
struct NetSysctls {
  int tcp_rmem_default = kTcpRmemDefault;
  int tcp_wmem_default = kTcpWmemDefault;
  int expanded_sndbuf = kLoopbackExpandedSndbuf;
};

class Net {
 public:
  Net();
  ~Net();  // frees the endpoints still alive (orphans finishing their close)
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  // --- endpoints -----------------------------------------------------------------------------
  // A new endpoint, owned by the network, in state CLOSE.
  Tcb* create_tcb();
  // The endpoint is finished: unhashed and its port released at once, freed when the outermost
  // socket call returns (its own code, or a segment it is processing, may still be running).
  void kill(Tcb* t);
  // Held by every socket call that may end an endpoint; the last one out frees the killed.
  class Call {
   public:
    explicit Call(Net& n) : net_(n) { ++net_.busy_; }
    ~Call() {
      if (--net_.busy_ == 0) net_.reap();
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

   private:
    Net& net_;
  };

  // --- the port table (inet_csk_get_port, inet_put_port, __inet_inherit_port) ----------------
  // Binds `t` (address t->saddr) to `port`, or to a free ephemeral port when `port` is 0:
  // 0 or -EADDRINUSE.
  int get_port(Tcb* t, uint16_t port);
  // Re-checks the port `t` holds against the others, as inet_csk_listen_start does.
  bool port_conflict(const Tcb* t) const;
  // A connecting socket's local port (__inet_hash_connect): 0 or -EADDRNOTAVAIL.
  int connect_port(Tcb* t);
  void inherit_port(Tcb* child, uint16_t port);
  void put_port(Tcb* t);

  // --- the connection table ------------------------------------------------------------------
  // 0, or -EADDRNOTAVAIL if another endpoint already uses the 4-tuple.
  int hash(Tcb* t);
  void unhash(Tcb* t);

  // The endpoint at the other end of `t`'s connection, if it is in the connection table (both
  // ends of every connection share this network).
  Tcb* peer_of(const Tcb& t) const;

  // --- the wire ------------------------------------------------------------------------------
  void transmit(Segment seg);
  // Processes a segment at its destination now (tcp_v4_rcv's demultiplexing).
  void deliver(const Segment& seg);
  // nullptr: segments are delivered within transmit, as on loopback.
  void set_wire(Wire* w) { wire_ = w; }
  Wire* wire() const { return wire_; }
  // Told of every read that consumes data (nullptr: none). Not owned; changes nothing.
  void set_read_observer(ReadObserver* r) { read_observer_ = r; }
  ReadObserver* read_observer() const { return read_observer_; }

  NetSysctls sysctl;

  // --- SYN retransmission --------------------------------------------------------------------
  // A SYN that a full accept queue dropped is retransmitted by the client when its timer
  // fires (1 s, then 3 s, ...). The model has no timers yet: the client waits here, and its
  // SYN is sent again as soon as the listener has room (accept, a larger backlog) or is gone.
  void syn_unanswered(Tcb* client);
  // A listener dropped `syn` (its accept queue was full): its sender, found by the reverse
  // 4-tuple, waits for room. Called where the SYN is dropped, so it holds whether the wire
  // delivers at once or later.
  void syn_dropped(const Segment& syn);
  void syn_forget(Tcb* client);
  // Retransmits the waiting SYNs addressed to (addr, port) — addr 0 means any address at that
  // port — while `room` says the listener can take one. Without `room`, retransmits them all.
  void retransmit_syns(uint32_t addr, uint16_t port, const Tcb* room);

  // Endpoints alive (sockets, queued children, orphans), for invariant checks.
  size_t tcb_count() const { return tcbs_.size(); }
  // Between socket calls: no call in progress, nothing left to reap, and every endpoint in the
  // port and connection tables alive and holding the port it is filed under. "" when all hold.
  std::string check() const;

 private:
  using FourTuple = std::tuple<uint32_t, uint16_t, uint32_t, uint16_t>;  // local, remote

  Tcb* lookup_listener(uint32_t addr, uint16_t port) const;
  bool port_free(uint16_t port) const { return bhash_.find(port) == bhash_.end(); }
  // The first free port at or after *cursor with its parity, advancing the cursor; 0 if none.
  uint16_t pick_port(uint16_t* cursor);
  void reap();

  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Tcb>> tcbs_;  // by creation serial: deterministic order
  std::map<uint16_t, std::vector<Tcb*>> bhash_;     // port -> endpoints holding it
  std::map<FourTuple, Tcb*> ehash_;
  std::deque<Tcb*> syn_waiting_;
  std::vector<Tcb*> graveyard_;
  int busy_ = 0;  // socket calls in progress (Call)
  Wire* wire_ = nullptr;
  ReadObserver* read_observer_ = nullptr;
  // Next ephemeral candidates. bind() takes odd ports and connect() even ones, as
  // inet_csk_find_open_port and __inet_hash_connect prefer; Linux starts at a random offset,
  // the model at the bottom of the range, so runs are reproducible.
  uint16_t next_bind_port_ = kLocalPortLow + 1;
  uint16_t next_connect_port_ = kLocalPortLow;
};

}  // namespace edgecase::sim
