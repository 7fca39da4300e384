// TCP: the inet socket layer (af_inet.c: inet_bind, inet_listen, inet_accept,
// inet_stream_connect, inet_shutdown, inet_getname) and the protocol (tcp.c, tcp_input.c,
// tcp_output.c, tcp_ipv4.c, inet_connection_sock.c), reduced to what a loopback connection
// shows to epoll and to the system calls. See sim/tcp.h for the byte model and
// docs/semantics-tcp.md for what differs from Linux.
#include "sim/tcp.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cassert>
#include <cerrno>
#include <climits>
#include <cstring>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <utility>

#include "sim/net.h"

namespace edgecase::sim {

namespace {

// sock_def_readable's key (tcp_data_ready and a listener's new child).
constexpr uint32_t kReadableKey = EPOLLIN | EPOLLPRI | EPOLLRDNORM | EPOLLRDBAND;
// sk_stream_write_space's key.
constexpr uint32_t kWriteSpaceKey = EPOLLOUT | EPOLLWRNORM | EPOLLWRBAND;
// __sock_create: types at or above SOCK_MAX (SOCK_PACKET + 1) are EINVAL.
constexpr int kSockTypeMax = SOCK_PACKET + 1;
// inet_create: protocols at or above IPPROTO_MAX are EINVAL.
constexpr int kIpprotoMax = IPPROTO_MPTCP + 1;
// MAX_TCP_KEEPIDLE / MAX_TCP_KEEPINTVL / MAX_TCP_KEEPCNT (include/net/tcp.h).
constexpr int kMaxTcpKeepIdle = 32767;
constexpr int kMaxTcpKeepIntvl = 32767;
constexpr int kMaxTcpKeepCnt = 127;

bool any_of_states(TcpState s, std::initializer_list<TcpState> set) {
  return std::find(set.begin(), set.end(), s) != set.end();
}

// tcp_need_reset: states whose abort must tell the peer.
bool need_reset(TcpState s) {
  return any_of_states(s, {TcpState::established, TcpState::close_wait, TcpState::fin_wait1,
                           TcpState::fin_wait2, TcpState::syn_recv});
}

// SOCK_DGRAM protocols inet_create knows (udp, ping, udplite): a type the model lacks.
bool dgram_protocol(int protocol) {
  return protocol == 0 || protocol == IPPROTO_UDP || protocol == IPPROTO_ICMP ||
         protocol == IPPROTO_UDPLITE;
}

}  // namespace

Socket* tcp_create(Net& net, int type, int protocol, unsigned f_flags, int* err) {
  if (type < 0 || type >= kSockTypeMax || protocol < 0 || protocol >= kIpprotoMax) {
    *err = EINVAL;
    return nullptr;
  }
  switch (type) {
    case SOCK_STREAM:
      if (protocol == 0 || protocol == IPPROTO_TCP) return new TcpSocket(net, f_flags);
      *err = EPROTONOSUPPORT;  // MPTCP is not modelled; anything else is not a stream protocol
      return nullptr;
    case SOCK_DGRAM:
      // UDP and ping sockets are not modelled: "type not supported" for their protocols.
      *err = dgram_protocol(protocol) ? ESOCKTNOSUPPORT : EPROTONOSUPPORT;
      return nullptr;
    case SOCK_RAW:
      // Linux wants a protocol (EPROTONOSUPPORT without one); raw sockets are not modelled.
      *err = protocol == 0 ? EPROTONOSUPPORT : ESOCKTNOSUPPORT;
      return nullptr;
    default:  // SOCK_SEQPACKET, SOCK_RDM, SOCK_DCCP, 0, ... and SOCK_PACKET (not modelled)
      *err = ESOCKTNOSUPPORT;
      return nullptr;
  }
}

// ============================================================================================
// Tcb: wakeups and readiness
// ============================================================================================

bool Tcb::reuse() const { return sk ? sk->reuseaddr : orphan_reuse; }

int Tcb::shutdown_bits() const { return sk ? sk->sk_shutdown : kShutdownMask; }

void Tcb::state_change() {
  if (sk) sk->wq.wake(0, /*all=*/true);
}

void Tcb::error_report() {
  if (sk) sk->wq.wake(EPOLLERR);
}

void Tcb::data_ready() {
  if (sk && (readable() || done_)) sk->wq.wake(kReadableKey);
}

void Tcb::write_space() {
  if (!sk || !writable()) return;
  nospace_ = false;
  sk->wq.wake(kWriteSpaceKey);
}

void Tcb::check_space() {
  if (nospace_) write_space();
}

int64_t Tcb::full_space() const { return sk ? sk->sk_rcvbuf / 2 : 0; }

bool Tcb::readable() const {
  const uint64_t avail = rcvq_.size();
  if (avail == 0) return false;
  const uint64_t target = sk ? static_cast<uint64_t>(std::max(sk->sk_rcvlowat, 1)) : 1;
  const uint64_t window_left = rcv_edge_ > rcv_nxt_ ? rcv_edge_ - rcv_nxt_ : 0;
  // Below SO_RCVLOWAT, still readable once the window is too small for the rest to arrive.
  return avail >= target || window_left <= kTcpMssDefault;
}

bool Tcb::writable() const {
  const int64_t queued = static_cast<int64_t>(sndq_.size());
  const int64_t sndbuf = sk ? sk->sk_sndbuf : 0;
  // sk_stream_wspace >= sk_stream_min_wspace, and sk_stream_memory_free.
  return sndbuf - queued >= queued / 2 && queued < sndbuf;
}

bool Tcb::can_receive_more() const {
  return !done_ && sk && !sk->sk_err && !(sk->sk_shutdown & kRcvShutdown) &&
         state != TcpState::close && rcv_edge_ > rcv_nxt_;
}

uint32_t Tcb::poll() {
  assert(sk);
  if (state == TcpState::listen)  // inet_csk_listen_poll
    return accept_queue_.empty() ? 0 : EPOLLIN | EPOLLRDNORM;
  uint32_t mask = 0;
  const int shut = sk->sk_shutdown;
  if (shut == kShutdownMask || state == TcpState::close) mask |= EPOLLHUP;
  if (shut & kRcvShutdown) mask |= EPOLLIN | EPOLLRDNORM | EPOLLRDHUP;
  if (state != TcpState::syn_sent && state != TcpState::syn_recv) {
    if (readable()) mask |= EPOLLIN | EPOLLRDNORM;
    if ((shut & kSendShutdown) || writable())
      mask |= EPOLLOUT | EPOLLWRNORM;
    else
      nospace_ = true;  // so that the ACK freeing space wakes the writer
  }
  if (sk->sk_err) mask |= EPOLLERR;
  return mask;
}

int64_t Tcb::inq() const {
  if (state == TcpState::listen) return -EINVAL;
  if (state == TcpState::syn_sent || state == TcpState::syn_recv) return 0;
  return static_cast<int64_t>(rcvq_.size());
}

int64_t Tcb::outq() const {
  if (state == TcpState::listen) return -EINVAL;
  if (state == TcpState::syn_sent || state == TcpState::syn_recv) return 0;
  return static_cast<int64_t>(sndq_.size());
}

void Tcb::rcvlowat_changed() {
  assert(sk);
  const bool locked = sk->sk_userlocks & kRcvbufLock;
  const int cap = (locked ? sk->sk_rcvbuf : kTcpRmemMax) >> 1;
  sk->sk_rcvlowat = std::max(std::min(sk->sk_rcvlowat, cap), 1);
  data_ready();
  // An unlocked buffer grows so that the window can hold the target (tcp_space_from_win at
  // the initial scaling ratio: twice the window).
  const int64_t space = 2 * static_cast<int64_t>(sk->sk_rcvlowat);
  if (!locked && space > sk->sk_rcvbuf) sk->sk_rcvbuf = static_cast<int>(space);
}

// ============================================================================================
// Tcb: windows and segments out
// ============================================================================================

uint64_t Tcb::select_window(bool advertise) {
  const int64_t full = full_space();
  const int64_t free_space = std::max<int64_t>(0, full - static_cast<int64_t>(rcvq_.size()));
  uint64_t win = static_cast<uint64_t>(free_space);
  // Receiver-side silly window avoidance (__tcp_select_window): less than half free and less
  // than an MSS (or a sixteenth) offers nothing.
  if (free_space < full / 2 &&
      (free_space < full / 16 || static_cast<uint64_t>(free_space) < kLoopbackMss))
    win = 0;
  const uint64_t offered = rcv_edge_ > rcv_nxt_ ? rcv_edge_ - rcv_nxt_ : 0;
  win = std::max(win, offered);  // an offered window is never taken back
  if (advertise) rcv_edge_ = rcv_nxt_ + win;
  return win;
}

Segment Tcb::make_segment(uint8_t flags) {
  Segment s;
  s.saddr = saddr;
  s.sport = sport;
  s.daddr = daddr;
  s.dport = dport;
  s.flags = flags;
  s.seq = snd_nxt_;
  if (flags & Segment::kAck) {
    s.ack = rcv_nxt_;
    ack_sent_ = rcv_nxt_;
  }
  s.wnd = select_window(true);
  return s;
}

void Tcb::transmit(Segment seg) { net.transmit(std::move(seg)); }

void Tcb::send_ack() { transmit(make_segment(Segment::kAck)); }

void Tcb::send_active_reset() { transmit(make_segment(Segment::kRst | Segment::kAck)); }

void Tcb::reply_reset(const Segment& seg) {
  if (!(seg.flags & Segment::kRst)) transmit(reset_for(seg));
}

uint64_t Tcb::data_una() const {
  // Data starts after the SYN (sequence 0); once the FIN is acknowledged nothing is left.
  return std::min(std::max<uint64_t>(snd_una_, 1), write_seq_);
}

void Tcb::push() {
  for (;;) {
    // A segment may come back before transmit returns and change everything: re-read state.
    if (dead || !any_of_states(state, {TcpState::established, TcpState::close_wait,
                                       TcpState::fin_wait1, TcpState::closing,
                                       TcpState::last_ack}))
      return;
    assert(sndq_.size() == write_seq_ - data_una());
    if (snd_nxt_ < write_seq_) {
      if (snd_nxt_ >= snd_edge_) return;  // the peer's window is full
      const uint64_t n = std::min({write_seq_ - snd_nxt_, snd_edge_ - snd_nxt_, kLoopbackMss});
      Segment s = make_segment(Segment::kAck);
      sndq_.copy_out(static_cast<size_t>(snd_nxt_ - data_una()), static_cast<size_t>(n), s.data);
      snd_nxt_ += n;
      transmit(std::move(s));
      continue;
    }
    if (fin_queued_ && snd_nxt_ == write_seq_) {
      Segment s = make_segment(Segment::kFin | Segment::kAck);
      snd_nxt_ = write_seq_ + 1;
      transmit(std::move(s));
    }
    return;
  }
}

void Tcb::send_fin() {
  fin_queued_ = true;
  push();
}

void Tcb::send_syn() {
  assert(state == TcpState::syn_sent);
  snd_nxt_ = 0;
  write_seq_ = 1;
  Segment s = make_segment(Segment::kSyn);
  snd_nxt_ = 1;
  transmit(std::move(s));
  // If a full accept queue drops it, the listener tells the network (Net::syn_dropped).
}

void Tcb::go_back() {
  if (dead || !any_of_states(state, {TcpState::established, TcpState::close_wait,
                                     TcpState::fin_wait1, TcpState::closing,
                                     TcpState::last_ack}))
    return;
  snd_nxt_ = std::max<uint64_t>(snd_una_, 1);
  send_ack();
  push();
}

void Tcb::cleanup_rbuf() {
  if (!sk || (sk->sk_shutdown & kRcvShutdown)) return;
  if (!any_of_states(state, {TcpState::established, TcpState::fin_wait1, TcpState::fin_wait2}))
    return;
  // A window update only if this read at least doubled what the sender may send.
  const uint64_t offered = rcv_edge_ > rcv_nxt_ ? rcv_edge_ - rcv_nxt_ : 0;
  if (2 * offered > static_cast<uint64_t>(full_space())) return;
  const uint64_t win = select_window(false);
  if (win && win >= 2 * offered) send_ack();
}

// ============================================================================================
// Tcb: state
// ============================================================================================

void Tcb::set_state(TcpState s) {
  if (s == TcpState::close && state != TcpState::close) {
    if (hashed) net.unhash(this);
    if (num && !(bind_locks & kBindPortLock)) net.put_port(this);
    net.syn_forget(this);
  }
  state = s;
}

void Tcb::done() {
  set_state(TcpState::close);
  if (sk) {
    sk->sk_shutdown = kShutdownMask;
    state_change();
  } else {
    net.kill(this);
  }
}

bool Tcb::close_state() {
  TcpState next = state;
  bool fin = false;
  switch (state) {
    case TcpState::established: next = TcpState::fin_wait1; fin = true; break;
    case TcpState::syn_recv: next = TcpState::fin_wait1; fin = true; break;
    case TcpState::close_wait: next = TcpState::last_ack; fin = true; break;
    case TcpState::syn_sent: case TcpState::time_wait: case TcpState::listen:
      next = TcpState::close;
      break;
    default: break;  // already closing: nothing changes
  }
  set_state(next);
  return fin;
}

void Tcb::init_buffer_space() {
  if (sk && !(sk->sk_userlocks & kSndbufLock))
    sk->sk_sndbuf = std::max(sk->sk_sndbuf, std::min(net.sysctl.expanded_sndbuf, kTcpWmemMax));
}

int Tcb::listen_start() {
  assert(state == TcpState::close);
  state = TcpState::listen;
  int r = 0;
  if (num == 0)
    r = net.get_port(this, 0);
  else if (net.port_conflict(this))
    r = -EADDRINUSE;
  if (r < 0) {
    state = TcpState::close;
    return r;
  }
  sport = num;
  return 0;
}

std::vector<Tcb*> Tcb::overflowed_clients() const {
  std::vector<Tcb*> out;
  for (const TcpSocket* child : syn_queue_)
    if (child->tcb().ack_dropped_)
      if (Tcb* client = net.peer_of(child->tcb())) out.push_back(client);
  return out;
}

void Tcb::room_made() {
  for (Tcb* client : overflowed_clients()) {
    if (state != TcpState::listen || accept_queue_full()) return;
    client->go_back();
  }
  net.retransmit_syns(saddr, num, this);
}

void Tcb::listen_stop() {
  // Clients that believe they are connected retransmit after the children are gone.
  const std::vector<Tcb*> overflowed = overflowed_clients();
  // inet_child_forget: every queued connection is aborted, so its client gets a RST.
  while (!accept_queue_.empty()) {
    TcpSocket* child = accept_queue_.front();
    accept_queue_.pop_front();
    child->tcb().disconnect();
    fput(fget(child));
  }
  // Half-open ones (request socks) vanish silently.
  while (!syn_queue_.empty()) {
    TcpSocket* child = syn_queue_.front();
    syn_queue_.pop_front();
    child->tcb().parent_ = nullptr;
    child->tcb().set_state(TcpState::close);
    fput(fget(child));
  }
  // Clients whose handshake was dropped now meet a closed port (Linux: at their next
  // retransmission): a RST.
  for (Tcb* client : overflowed) client->go_back();
  net.retransmit_syns(saddr, sport, nullptr);
}

void Tcb::forget_child(TcpSocket* child) {
  syn_queue_.erase(std::find(syn_queue_.begin(), syn_queue_.end(), child));
  child->tcb().set_state(TcpState::close);
  fput(fget(child));
}

void Tcb::child_established(TcpSocket* child) {
  syn_queue_.erase(std::find(syn_queue_.begin(), syn_queue_.end(), child));
  accept_queue_.push_back(child);
  if (sk) sk->wq.wake(kReadableKey);  // the listener's sk_data_ready
}

TcpSocket* Tcb::accept() {
  if (accept_queue_.empty()) return nullptr;
  TcpSocket* child = accept_queue_.front();
  accept_queue_.pop_front();
  room_made();
  return child;
}

int Tcb::connect(uint32_t dst, uint16_t dst_port) {
  assert(state == TcpState::close && !hashed);
  if (dst == INADDR_ANY) dst = kLoopbackAddr;  // ip_route_connect: "this host"
  if (!is_loopback(dst)) return -ENETUNREACH;  // the model has no other network (yet)
  const uint32_t bound_addr = saddr;
  const bool autobind = num == 0;
  if (saddr == 0) saddr = kLoopbackAddr;  // lo's source address for all of 127.0.0.0/8
  daddr = dst;
  dport = dst_port;
  int r = autobind ? net.connect_port(this) : 0;
  if (r == 0) {
    sport = num;
    r = net.hash(this);
  }
  if (r < 0) {
    if (autobind && num) net.put_port(this);
    saddr = bound_addr;
    daddr = 0;
    dport = 0;
    return r;
  }
  set_state(TcpState::syn_sent);
  send_syn();
  return 0;
}

void Tcb::shutdown_send() {
  if (any_of_states(state, {TcpState::established, TcpState::syn_sent, TcpState::syn_recv,
                            TcpState::close_wait}) &&
      close_state())
    send_fin();
}

void Tcb::disconnect() {
  const TcpState old = state;
  if (old != TcpState::close) set_state(TcpState::close);
  const bool unsent = snd_nxt_ < write_seq_;
  if (old == TcpState::listen) {
    listen_stop();
  } else if (need_reset(old) ||
             (unsent && (old == TcpState::closing || old == TcpState::last_ack))) {
    send_active_reset();
    if (sk) sk->sk_err = ECONNRESET;
  } else if (old == TcpState::syn_sent) {
    if (sk) sk->sk_err = ECONNRESET;
  }
  rcvq_.clear();
  sndq_.clear();
  snd_una_ = snd_nxt_ = write_seq_ = snd_edge_ = 0;
  rcv_nxt_ = rcv_edge_ = ack_sent_ = 0;
  fin_queued_ = false;
  done_ = false;
  if (!(bind_locks & kBindAddrLock)) saddr = 0;
  daddr = 0;
  dport = 0;
  if (sk) {
    sk->sk_shutdown = 0;
    error_report();
  }
}

void Tcb::close() {
  assert(sk && !dead);
  sk->sk_shutdown = kShutdownMask;
  const bool linger0 = sk->sk_linger.l_onoff && sk->sk_linger.l_linger == 0;
  orphan_reuse = sk->reuseaddr;
  // sock_orphan: the peer's answers to what follows find a socket without a file, as they do
  // on Linux, where they wait in the socket backlog until __tcp_close has orphaned it.
  sk = nullptr;
  if (state == TcpState::listen) {
    set_state(TcpState::close);
    listen_stop();
    net.kill(this);
    return;
  }
  const bool unread = !rcvq_.empty();
  rcvq_.clear();
  if (state == TcpState::close) {
    net.kill(this);
    return;
  }
  if (unread) {  // RFC 2525: data was lost, so the peer must know (RST, no FIN)
    set_state(TcpState::close);
    send_active_reset();
  } else if (linger0) {
    disconnect();
  } else if (close_state()) {
    send_fin();
  }
  // An orphan still sending, or waiting for the peer's FIN, finishes on its own.
  if (state == TcpState::close) net.kill(this);
}

// ============================================================================================
// Tcb: data
// ============================================================================================

ssize_t Tcb::sendmsg(std::span<const std::byte> buf, bool nonblock) {
  assert(sk);
  if (state != TcpState::established && state != TcpState::close_wait) {
    // sk_stream_wait_connect
    if (sk->sk_err) return sk->sock_error();
    if (state != TcpState::syn_sent && state != TcpState::syn_recv) return -EPIPE;
    // "make sure we wake any epoll edge trigger waiter": EAGAIN with nothing queued.
    if (nonblock && sndq_.empty()) write_space();
    return -EAGAIN;
  }
  if (sk->sk_err || (sk->sk_shutdown & kSendShutdown)) {
    const int err = sk->sock_error();
    return err ? err : -EPIPE;
  }
  if (buf.empty()) return 0;
  const int64_t room = sk->sk_sndbuf - static_cast<int64_t>(sndq_.size());
  if (room <= 0) {
    nospace_ = true;
    return -EAGAIN;
  }
  const size_t n = std::min(buf.size(), static_cast<size_t>(room));
  sndq_.append(buf.data(), n);
  write_seq_ += n;
  push();
  return static_cast<ssize_t>(n);
}

ssize_t Tcb::recvmsg(std::span<std::byte> buf, int flags, bool nonblock) {
  assert(sk);
  if (state == TcpState::listen) return -ENOTCONN;
  if (flags & MSG_OOB) return -EINVAL;  // tcp_recv_urg: no urgent data, ever
  // A zero-length recv() still looks at the queue: 0 with data there, else the empty path.
  if (!rcvq_.empty()) {
    const size_t lowat = static_cast<size_t>(std::max(sk->sk_rcvlowat, 1));
    const size_t target = (flags & MSG_WAITALL) ? buf.size() : std::min(lowat, buf.size());
    // A blocking reader below its target waits for more rather than taking part of it.
    if (!nonblock && rcvq_.size() < target && can_receive_more()) return -EAGAIN;
    const size_t n = std::min(buf.size(), rcvq_.size());
    rcvq_.copy_out(0, buf.data(), n);
    if (n && !(flags & MSG_PEEK)) {
      rcvq_.consume(n);
      copied_ += n;
      if (ReadObserver* r = net.read_observer()) r->consumed(*this, copied_);
      cleanup_rbuf();
    }
    return static_cast<ssize_t>(n);
  }
  // Nothing queued: why not, in tcp_recvmsg_locked's order.
  if (done_) return 0;
  if (sk->sk_err) return sk->sock_error();
  if (sk->sk_shutdown & kRcvShutdown) return 0;
  if (state == TcpState::close) return -ENOTCONN;
  return -EAGAIN;
}

// ============================================================================================
// Tcb: segments in
// ============================================================================================

void Tcb::receive(const Segment& seg) {
  switch (state) {
    case TcpState::listen: listen_receive(seg); return;
    case TcpState::syn_sent: synsent_receive(seg); return;
    case TcpState::close: case TcpState::time_wait: return;  // never hashed in these states
    default: break;
  }
  if (seg.flags & Segment::kRst) {
    reset();
    return;
  }
  if (seg.flags & Segment::kSyn) return;  // a repeated handshake segment: already answered
  if (!(seg.flags & Segment::kAck)) return;
  if (state == TcpState::syn_recv) {
    synrecv_ack(seg);
    if (state == TcpState::syn_recv) return;
  }
  ack_received(seg);
  fin_acked_transition();
  if (state == TcpState::close) return;
  if (!seg.data.empty() || (seg.flags & Segment::kFin)) {
    // RFC 1122: data for a socket that can no longer read it aborts the connection.
    const bool new_data = !seg.data.empty() && seg.seq + seg.data.size() > rcv_nxt_;
    if ((state == TcpState::fin_wait1 || state == TcpState::fin_wait2) &&
        (shutdown_bits() & kRcvShutdown) && new_data) {
      reset();
      reply_reset(seg);
      return;
    }
    data_queue(seg);
    if (state == TcpState::close) return;
  }
  push();  // tcp_data_snd_check
  check_space();
  if (rcv_nxt_ != ack_sent_) send_ack();  // tcp_ack_snd_check, unless data carried it
}

void Tcb::listen_receive(const Segment& seg) {
  if (seg.flags & Segment::kRst) return;
  if (seg.flags & Segment::kAck) {  // no such connection (any more)
    reply_reset(seg);
    return;
  }
  if (!(seg.flags & Segment::kSyn)) return;
  if (accept_queue_full()) {  // tcp_conn_request drops it; the client retransmits
    net.syn_dropped(seg);
    return;
  }
  auto* child = new TcpSocket(net, *sk);
  Tcb& c = child->tcb();
  c.saddr = seg.daddr;
  c.sport = num;
  c.daddr = seg.saddr;
  c.dport = seg.sport;
  c.bind_locks = bind_locks;
  net.inherit_port(&c, num);
  const int hashed_ok = net.hash(&c);
  assert(hashed_ok == 0);
  (void)hashed_ok;
  c.state = TcpState::syn_recv;
  c.rcv_nxt_ = seg.seq + 1;
  c.write_seq_ = 1;
  c.parent_ = this;
  syn_queue_.push_back(child);
  Segment synack = c.make_segment(Segment::kSyn | Segment::kAck);
  c.snd_nxt_ = 1;
  c.transmit(std::move(synack));
}

void Tcb::synsent_receive(const Segment& seg) {
  if ((seg.flags & Segment::kAck) && seg.ack != snd_nxt_) {
    reply_reset(seg);  // acknowledges something we never sent
    return;
  }
  if (seg.flags & Segment::kRst) {
    if (seg.flags & Segment::kAck) reset();  // connection refused
    return;
  }
  // A SYN without ACK would be a simultaneous open, which the model does not implement.
  if (!(seg.flags & Segment::kSyn) || !(seg.flags & Segment::kAck)) return;
  net.syn_forget(this);
  rcv_nxt_ = seg.seq + 1;
  snd_una_ = seg.ack;
  snd_edge_ = seg.ack + seg.wnd;
  set_state(TcpState::established);  // tcp_finish_connect
  init_buffer_space();
  state_change();
  send_ack();
}

void Tcb::synrecv_ack(const Segment& seg) {
  assert(parent_);
  if (seg.ack != snd_nxt_) {
    reply_reset(seg);
    return;
  }
  // inet_csk_complete_hashdance drops the ACK (and whatever data it carries) when the queue
  // filled up since the SYN; the request remembers it was acknowledged, and the client's
  // retransmission completes the handshake once there is room (room_made).
  if (parent_->accept_queue_full()) {
    ack_dropped_ = true;
    return;
  }
  ack_dropped_ = false;
  snd_una_ = seg.ack;
  snd_edge_ = seg.ack + seg.wnd;
  set_state(TcpState::established);
  init_buffer_space();
  Tcb* listener = std::exchange(parent_, nullptr);
  listener->child_established(sk);
}

void Tcb::ack_received(const Segment& seg) {
  if (seg.ack > snd_nxt_) return;  // acknowledges what was never sent
  if (seg.ack > snd_una_) {
    const uint64_t from = data_una();
    const uint64_t to = std::min(seg.ack, write_seq_);
    if (to > from) sndq_.consume(to - from);
    snd_una_ = seg.ack;
  }
  if (seg.ack == snd_una_) snd_edge_ = std::max(snd_edge_, seg.ack + seg.wnd);
}

void Tcb::fin_acked_transition() {
  if (!fin_queued_ || snd_una_ != write_seq_ + 1) return;
  switch (state) {
    case TcpState::fin_wait1:
      set_state(TcpState::fin_wait2);
      if (sk) {
        sk->sk_shutdown |= kSendShutdown;
        state_change();
      }
      break;
    case TcpState::closing:   // to TIME_WAIT, which the model does not keep
    case TcpState::last_ack:
      done();
      break;
    default: break;
  }
}

void Tcb::data_queue(const Segment& seg) {
  // The wire keeps order, so a gap means earlier bytes were dropped (a full accept queue);
  // the go-back that follows sends them again, and this segment after them.
  if (seg.seq > rcv_nxt_) return;
  // A retransmission may start before rcv_nxt: only its new part counts (a FIN already
  // taken makes the whole segment old).
  const uint64_t old = rcv_nxt_ - seg.seq;
  if (old > seg.data.size()) return;
  const uint64_t fresh = seg.data.size() - old;
  const uint64_t room = rcv_edge_ > rcv_nxt_ ? rcv_edge_ - rcv_nxt_ : 0;
  const size_t n = static_cast<size_t>(std::min<uint64_t>(fresh, room));
  const bool fin_in = (seg.flags & Segment::kFin) && n == fresh;
  rcvq_.append(seg.data.data() + old, n);
  rcv_nxt_ += n;
  if (fin_in) {
    rcv_nxt_ += 1;
    fin();
  }
  if (n || fin_in) data_ready();
}

void Tcb::fin() {
  if (sk) sk->sk_shutdown |= kRcvShutdown;
  done_ = true;
  switch (state) {
    case TcpState::syn_recv:
    case TcpState::established: set_state(TcpState::close_wait); break;
    case TcpState::fin_wait1:  // simultaneous close
      send_ack();
      set_state(TcpState::closing);
      break;
    case TcpState::fin_wait2:  // to TIME_WAIT, which the model does not keep
      send_ack();
      done();
      break;
    default: break;
  }
  state_change();
}

void Tcb::reset() {
  int err = ECONNRESET;
  switch (state) {
    case TcpState::syn_sent: err = ECONNREFUSED; break;
    case TcpState::close_wait: err = EPIPE; break;
    case TcpState::close: return;
    default: break;
  }
  if (state == TcpState::syn_recv && parent_) {  // a request sock just goes away
    std::exchange(parent_, nullptr)->forget_child(sk);
    return;
  }
  sndq_.clear();  // tcp_write_queue_purge
  if (sk) sk->sk_err = err;
  done();
  error_report();
}

// ============================================================================================
// TcpSocket: the inet socket layer
// ============================================================================================

TcpSocket::TcpSocket(Net& net, unsigned open_flags)
    : Socket(AF_INET, SOCK_STREAM, IPPROTO_TCP, open_flags), net_(net), tcb_(net.create_tcb()) {
  sk_rcvbuf = net.sysctl.tcp_rmem_default;
  sk_sndbuf = net.sysctl.tcp_wmem_default;
  tcb_->sk = this;
}

TcpSocket::TcpSocket(Net& net, const TcpSocket& listener)
    : Socket(AF_INET, SOCK_STREAM, IPPROTO_TCP, 0),
      ss(Ss::connected),
      net_(net),
      tcb_(net.create_tcb()),
      opts_(listener.opts_) {
  sk_rcvbuf = listener.sk_rcvbuf;
  sk_sndbuf = listener.sk_sndbuf;
  sk_rcvlowat = listener.sk_rcvlowat;
  sk_userlocks = listener.sk_userlocks;
  reuseaddr = listener.reuseaddr;
  keepalive = listener.keepalive;
  sk_linger = listener.sk_linger;
  tcb_->sk = this;
}

TcpSocket::~TcpSocket() { assert(tcb_ == nullptr); }

void TcpSocket::release() {
  Net::Call call(net_);
  std::exchange(tcb_, nullptr)->close();
}

void TcpSocket::sockopt_set(int optname) {
  Net::Call call(net_);
  if (optname == SO_RCVLOWAT) tcb_->rcvlowat_changed();  // tcp_set_rcvlowat
  if (optname == SO_SNDBUF) tcb_->write_space();         // sk_write_space, even if unchanged
}

ssize_t TcpSocket::recvmsg(std::span<std::byte> buf, int flags) {
  Net::Call call(net_);
  return tcb_->recvmsg(buf, flags, nonblock() || (flags & MSG_DONTWAIT));
}

ssize_t TcpSocket::sendmsg(std::span<const std::byte> buf, int flags, bool) {
  Net::Call call(net_);
  if (flags & MSG_OOB) return -EOPNOTSUPP;  // urgent data is not modelled
  return tcb_->sendmsg(buf, nonblock() || (flags & MSG_DONTWAIT));
}

int TcpSocket::bind(const sockaddr* addr, socklen_t len) {
  if (len < sizeof(sockaddr_in)) return -EINVAL;
  sockaddr_in sin;
  std::memcpy(&sin, addr, sizeof sin);
  // AF_UNSPEC passes for INADDR_ANY only: "compatibility games" in __inet_bind.
  if (sin.sin_family != AF_INET &&
      (sin.sin_family != AF_UNSPEC || sin.sin_addr.s_addr != htonl(INADDR_ANY)))
    return -EAFNOSUPPORT;
  const uint32_t addr_h = ntohl(sin.sin_addr.s_addr);
  if (addr_h != INADDR_ANY && !is_loopback(addr_h)) return -EADDRNOTAVAIL;
  Tcb& t = *tcb_;
  if (t.state != TcpState::close || t.num) return -EINVAL;
  const uint16_t port = ntohs(sin.sin_port);
  t.saddr = addr_h;
  if (const int r = net_.get_port(&t, port); r < 0) {
    t.saddr = 0;
    return r;
  }
  if (addr_h) t.bind_locks |= kBindAddrLock;
  if (port) t.bind_locks |= kBindPortLock;
  t.sport = t.num;
  t.daddr = 0;
  t.dport = 0;
  return 0;
}

int TcpSocket::listen(int backlog) {
  Net::Call call(net_);
  Tcb& t = *tcb_;
  if (ss != Ss::unconnected) return -EINVAL;
  if (t.state != TcpState::close && t.state != TcpState::listen) return -EINVAL;
  t.max_backlog = backlog;
  if (t.state == TcpState::close) return t.listen_start();
  t.room_made();  // a larger backlog may make room
  return 0;
}

int TcpSocket::accept(Socket** out, int) {
  Net::Call call(net_);
  if (tcb_->state != TcpState::listen) return -EINVAL;
  TcpSocket* child = tcb_->accept();
  if (child == nullptr) return -EAGAIN;
  child->ss = Ss::connected;
  *out = child;
  return 0;
}

int TcpSocket::connect(const sockaddr* addr, socklen_t len) {
  Net::Call call(net_);
  if (len < sizeof(sa_family_t)) return -EINVAL;
  if (addr->sa_family == AF_UNSPEC) {  // "disconnect"
    tcb_->disconnect();
    ss = Ss::unconnected;
    return 0;
  }
  switch (ss) {
    case Ss::connected: return -EISCONN;
    case Ss::disconnecting: return -EINVAL;
    case Ss::connecting:
      if (tcb_->state == TcpState::syn_sent || tcb_->state == TcpState::syn_recv)
        return -EALREADY;
      return connect_result();
    case Ss::unconnected: break;
  }
  if (tcb_->state != TcpState::close) return -EISCONN;
  if (len < sizeof(sockaddr_in)) return -EINVAL;
  sockaddr_in sin;
  std::memcpy(&sin, addr, sizeof sin);
  if (sin.sin_family != AF_INET) return -EAFNOSUPPORT;
  if (const int r = tcb_->connect(ntohl(sin.sin_addr.s_addr), ntohs(sin.sin_port)); r < 0)
    return r;
  ss = Ss::connecting;
  // On loopback the handshake's answer already came back, but Linux looks at it only after
  // this call (it waits in the socket backlog until release_sock); over the world's network it
  // is still on its way: EINPROGRESS either way.
  return -EINPROGRESS;
}

int TcpSocket::connect_result() {
  Net::Call call(net_);
  Tcb& t = *tcb_;
  if (t.state == TcpState::syn_sent || t.state == TcpState::syn_recv) return 1;
  if (t.state == TcpState::close) {  // refused, reset or aborted while connecting
    int err = sock_error();
    if (err == 0) err = -ECONNABORTED;
    ss = Ss::unconnected;
    t.disconnect();
    return err;
  }
  ss = Ss::connected;
  return 0;
}

int TcpSocket::shutdown(int how) {
  Net::Call call(net_);
  Tcb& t = *tcb_;
  // inet_shutdown's how++ wraps (the kernel builds with -fno-strict-overflow): INT_MAX is
  // EINVAL, not undefined behaviour (found by fuzz_sim_calls).
  if (how < SHUT_RD || how > SHUT_RDWR) return -EINVAL;
  const int mode = how + 1;  // SHUT_RD -> RCV_SHUTDOWN, SHUT_WR -> SEND_SHUTDOWN, ...
  if (ss == Ss::connecting) {
    ss = any_of_states(t.state, {TcpState::syn_sent, TcpState::syn_recv, TcpState::close})
             ? Ss::disconnecting
             : Ss::connected;
  }
  int err = 0;
  switch (t.state) {
    case TcpState::close:
      err = -ENOTCONN;  // and the bits are set anyway, "to wake up other listeners"
      [[fallthrough]];
    default:
      sk_shutdown |= mode;
      if (mode & kSendShutdown) t.shutdown_send();
      break;
    case TcpState::listen:
      if (!(mode & kRcvShutdown)) break;
      [[fallthrough]];
    case TcpState::syn_sent:
      t.disconnect();
      ss = Ss::unconnected;
      break;
  }
  t.state_change();
  return err;
}

int TcpSocket::getname(sockaddr_storage* out, Name which) {
  const Tcb& t = *tcb_;
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  if (which != Name::local) {
    // accept's own lookup names a child even if it was reset before accept; getpeername not.
    if (!t.dport || (which == Name::peer &&
                     (t.state == TcpState::close || t.state == TcpState::syn_sent)))
      return -ENOTCONN;
    sin.sin_port = htons(t.dport);
    sin.sin_addr.s_addr = htonl(t.daddr);
  } else {
    sin.sin_port = htons(t.sport);
    sin.sin_addr.s_addr = htonl(t.saddr);
  }
  *out = {};
  std::memcpy(out, &sin, sizeof sin);
  return sizeof sin;
}

int* TcpSocket::tcp_option(int optname) {
  switch (optname) {
    case TCP_NODELAY: return &opts_.nodelay;
    case TCP_CORK: return &opts_.cork;
    case TCP_KEEPIDLE: return &opts_.keepidle;
    case TCP_KEEPINTVL: return &opts_.keepintvl;
    case TCP_KEEPCNT: return &opts_.keepcnt;
    case TCP_USER_TIMEOUT: return &opts_.user_timeout;
    default: return nullptr;
  }
}

int TcpSocket::setsockopt_proto(int level, int optname, const void* val, socklen_t len) {
  if (level != IPPROTO_TCP) return -ENOPROTOOPT;  // ip_setsockopt; IP options are not modelled
  if (len < sizeof(int)) return -EINVAL;
  if (val == nullptr) return -EFAULT;
  int v;
  std::memcpy(&v, val, sizeof v);
  int* slot = tcp_option(optname);
  if (slot == nullptr) return -ENOPROTOOPT;
  switch (optname) {
    case TCP_NODELAY: case TCP_CORK: v = v != 0; break;
    case TCP_KEEPIDLE: if (v < 1 || v > kMaxTcpKeepIdle) return -EINVAL; break;
    case TCP_KEEPINTVL: if (v < 1 || v > kMaxTcpKeepIntvl) return -EINVAL; break;
    case TCP_KEEPCNT: if (v < 1 || v > kMaxTcpKeepCnt) return -EINVAL; break;
    case TCP_USER_TIMEOUT: if (v < 0) return -EINVAL; break;
    default: break;
  }
  *slot = v;
  return 0;
}

int TcpSocket::getsockopt_proto(int level, int optname, void* val, socklen_t* len) {
  // tcp_getsockopt hands other levels to ip_getsockopt, which knows only SOL_IP.
  if (level != IPPROTO_TCP) return level == IPPROTO_IP ? -ENOPROTOOPT : -EOPNOTSUPP;
  if (len == nullptr) return -EFAULT;
  if (static_cast<int>(*len) < 0) return -EINVAL;
  const unsigned n = std::min<unsigned>(*len, sizeof(int));
  const int* slot = tcp_option(optname);
  if (slot == nullptr) return -ENOPROTOOPT;
  if (n && val == nullptr) return -EFAULT;
  if (n) std::memcpy(val, slot, n);  // memcpy from or to NULL is undefined even for 0 bytes
  *len = n;
  return 0;
}

}  // namespace edgecase::sim
