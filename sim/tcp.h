// TCP over the simulated network (net/ipv4/tcp*.c, af_inet.c, inet_connection_sock.c).
//
// Two objects, as in the kernel. TcpSocket is the open file and struct socket: the inet_*
// layer (sock->state, argument checks, bind/listen/connect/accept/shutdown entry points) and
// the SOL_SOCKET fields of the Socket base. Tcb is struct tcp_sock: the connection's state
// machine, its queues and sequence numbers. The Net owns every Tcb, because an endpoint
// outlives its file: a closed socket goes on sending its queued data and its FIN as an orphan,
// and answers the peer's late data with a RST. Endpoints only ever talk through
// Net::transmit (sim/net.h).
//
// Byte model. Each direction has a receive queue at the receiver, bounded by the window it
// advertises (half of sk_rcvbuf, TCP_DEFAULT_SCALING_RATIO), and a send queue at the sender
// holding what the peer has not acknowledged, bounded by sk_sndbuf. Bytes move from the send
// queue to the peer as the window allows and leave the send queue when acknowledged; a read
// that frees enough of the window sends a window update, which moves more. What is queued is
// counted in payload bytes: the kernel's skb overhead and autotuning make live capacities
// differ (docs/semantics-tcp.md).
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <vector>
#include <sys/types.h>

#include "sim/byte_queue.h"
#include "sim/net.h"
#include "sim/socket.h"

namespace edgecase::sim {

class Net;
class TcpSocket;
struct Segment;

// include/net/tcp_states.h
enum class TcpState : uint8_t {
  established, syn_sent, syn_recv, fin_wait1, fin_wait2, time_wait, close, close_wait,
  last_ack, listen, closing,
};

// --- sysctls and constants of the machines here (net.ipv4.tcp_*) ------------------------------
inline constexpr int kTcpRmemMax = 33'554'432;    // tcp_rmem[2]: SO_RCVLOWAT may grow rcvbuf to it
inline constexpr int kTcpWmemMax = 4'194'304;     // tcp_wmem[2]: sndbuf autotuning's ceiling
// lo's MTU 65536 minus IP and TCP headers and the timestamp option: the largest segment.
inline constexpr uint64_t kLoopbackMss = 65'483;
// TCP_MSS_DEFAULT: the receiver's initial rcv_mss estimate, used by tcp_epollin_ready.
inline constexpr uint64_t kTcpMssDefault = 536;
// sk_userlocks bits set by bind(): an explicit address or port survives a disconnect.
inline constexpr int kBindAddrLock = 4;
inline constexpr int kBindPortLock = 8;

class Tcb {
 public:
  Tcb(Net& n, uint64_t serial) : net(n), id(serial) {}
  Tcb(const Tcb&) = delete;
  Tcb& operator=(const Tcb&) = delete;

  // --- called by the socket layer; results are >= 0 or -errno --------------------------------
  int connect(uint32_t dst, uint16_t dst_port);  // tcp_v4_connect: routes, binds, sends the SYN
  int listen_start();                            // inet_csk_listen_start
  TcpSocket* accept();                           // the first established child, or nullptr
  void shutdown_send();                          // tcp_shutdown
  void disconnect();                             // tcp_disconnect
  void close();                                  // __tcp_close: the socket is gone after this
  ssize_t sendmsg(std::span<const std::byte> buf, bool nonblock);  // tcp_sendmsg_locked
  ssize_t recvmsg(std::span<std::byte> buf, int flags, bool nonblock);
  uint32_t poll();                               // tcp_poll
  int64_t inq() const;                           // SIOCINQ
  int64_t outq() const;                          // SIOCOUTQ
  void rcvlowat_changed();                       // tcp_set_rcvlowat
  void write_space();                            // sk_stream_write_space
  void state_change();                           // sock_def_wakeup

  // --- called by the wire ---------------------------------------------------------------------
  void receive(const Segment& seg);  // a segment demultiplexed to this endpoint
  void send_syn();                   // tcp_connect, and the SYN's retransmission
  // The retransmission timer's go-back: everything from snd_una again (an ACK, the data, the
  // FIN). Only ever needed after a full accept queue dropped the handshake's last ACK.
  void go_back();
  // A listener has room again (accept, a larger backlog): clients whose handshake a full
  // accept queue dropped retransmit, those whose ACK was dropped first, then waiting SYNs.
  void room_made();
  size_t accept_backlog() const { return accept_queue_.size(); }  // sk_ack_backlog
  bool accept_queue_full() const {   // sk_acceptq_is_full
    return accept_queue_.size() > static_cast<size_t>(max_backlog);
  }

  // tcp_sendmsg when the protocol's memory accounting refuses more (tcp_memory_pressure):
  // the write returns what it copied so far and sets SOCK_NOSPACE, so the next ACK that frees
  // space wakes writers (sk_stream_write_space). The world's short-write fault.
  void memory_pressure() { nospace_ = true; }

  bool reuse() const;         // sk_reuse
  int shutdown_bits() const;  // sk_shutdown (an orphan is always fully shut)

  Net& net;
  const uint64_t id;
  TcpSocket* sk = nullptr;  // nullptr once the socket is closed (SOCK_DEAD)
  TcpState state = TcpState::close;
  // inet_sock, host byte order. `num` is the port held in the port table (inet_num), `sport`
  // the one getsockname shows; they differ after the port is released at CLOSE.
  uint32_t saddr = 0;
  uint16_t sport = 0;
  uint16_t num = 0;
  uint32_t daddr = 0;
  uint16_t dport = 0;
  int bind_locks = 0;        // kBindAddrLock | kBindPortLock (sk_userlocks)
  int max_backlog = 0;       // sk_max_ack_backlog
  bool hashed = false;       // in the connection table
  bool syn_waiting = false;  // in the network's SYN retransmission queue
  bool dead = false;         // killed, waiting to be freed
  bool orphan_reuse = false; // sk_reuse, kept when the socket goes away

 private:
  // Segments out.
  Segment make_segment(uint8_t flags);  // our addresses, snd_nxt, ack and window
  void transmit(Segment seg);
  void send_ack();
  void send_active_reset();             // tcp_send_active_reset
  void push();                          // tcp_write_xmit: data and FIN, as the window allows
  void send_fin();                      // tcp_send_fin
  // Segments in, by state.
  void listen_receive(const Segment& seg);   // tcp_conn_request and the child
  void synsent_receive(const Segment& seg);  // tcp_rcv_synsent_state_process
  void synrecv_ack(const Segment& seg);      // the handshake's last ACK reaches a child
  void ack_received(const Segment& seg);     // tcp_ack
  void fin_acked_transition();               // FIN_WAIT1, CLOSING, LAST_ACK on their FIN's ACK
  void data_queue(const Segment& seg);       // tcp_data_queue
  void fin();                                // tcp_fin
  void reset();                              // tcp_reset: an incoming RST
  void reply_reset(const Segment& seg);      // answer a segment with a RST
  // State.
  void set_state(TcpState s);  // tcp_set_state: CLOSE unhashes and may release the port
  void done();                 // tcp_done
  bool close_state();          // tcp_close_state: true if a FIN is due
  void init_buffer_space();    // tcp_init_buffer_space: sndbuf autotuning at establishment
  void listen_stop();          // inet_csk_listen_stop: queued children are reset
  void child_established(TcpSocket* child);  // a child's handshake ended: to the accept queue
  void forget_child(TcpSocket* child);       // a half-open child was reset: it just goes
  // Clients of the half-open children whose handshake-completing ACK a full queue dropped.
  std::vector<Tcb*> overflowed_clients() const;
  // Windows and readiness.
  int64_t full_space() const;  // the window a fully drained receive queue offers
  uint64_t select_window(bool advertise);  // tcp_select_window
  void cleanup_rbuf();         // tcp_cleanup_rbuf: a window update after a read, if worth it
  bool readable() const;       // tcp_epollin_ready at sk_rcvlowat
  bool writable() const;       // __sk_stream_is_writeable
  bool can_receive_more() const;
  void data_ready();           // tcp_data_ready -> sock_def_readable
  void error_report();         // sock_def_error_report
  void check_space();          // tcp_check_space
  uint64_t data_una() const;   // sequence number of sndq_'s first byte

  // Send side: sequence 0 is the SYN, data starts at 1, the FIN follows the data.
  ByteQueue sndq_;  // [data_una(), write_seq_): not yet acknowledged
  uint64_t snd_una_ = 0;
  uint64_t snd_nxt_ = 0;
  uint64_t write_seq_ = 0;
  uint64_t snd_edge_ = 0;       // snd_una + snd_wnd: the peer's window's right edge
  bool fin_queued_ = false;     // a FIN follows write_seq_
  bool nospace_ = false;        // SOCK_NOSPACE: a writer found the socket full
  // Receive side.
  ByteQueue rcvq_;  // in-order bytes not yet read
  uint64_t copied_ = 0;         // data bytes read so far (copied_seq, counted from 0)
  uint64_t rcv_nxt_ = 0;
  uint64_t rcv_edge_ = 0;       // rcv_wup + rcv_wnd: the right edge we advertised
  uint64_t ack_sent_ = 0;       // rcv_nxt as of the last segment we sent
  bool done_ = false;           // SOCK_DONE: the peer's FIN arrived
  // Listener: children in SYN_RECV, then established ones waiting for accept().
  std::deque<TcpSocket*> syn_queue_;
  std::deque<TcpSocket*> accept_queue_;
  Tcb* parent_ = nullptr;       // a SYN_RECV child's listener
  // A SYN_RECV child whose client believes it is connected: the handshake's last ACK met a
  // full accept queue and was dropped (inet_rsk(req)->acked).
  bool ack_dropped_ = false;
};

class TcpSocket final : public Socket {
 public:
  // inet_create + tcp_v4_init_sock.
  TcpSocket(Net& net, unsigned open_flags);
  // sk_clone_lock: a child for a connection arriving at `listener`, inheriting its options.
  TcpSocket(Net& net, const TcpSocket& listener);
  ~TcpSocket() override;

  uint32_t poll(int) override { return tcb_->poll(); }
  WaitQueue* wait_queue() override { return &wq; }
  void release() override;  // tcp_close

  ssize_t recvmsg(std::span<std::byte> buf, int flags) override;        // tcp_recvmsg
  ssize_t sendmsg(std::span<const std::byte> buf, int flags, bool resumed) override;  // tcp_sendmsg
  int bind(const sockaddr* addr, socklen_t len) override;               // inet_bind
  int listen(int backlog) override;                                     // inet_listen
  int accept(Socket** out, int flags) override;                         // inet_accept
  int connect(const sockaddr* addr, socklen_t len) override;            // inet_stream_connect
  int connect_result() override;
  int shutdown(int how) override;                                       // inet_shutdown
  int getname(sockaddr_storage* out, Name which) override;               // inet_getname
  int setsockopt_proto(int level, int optname, const void* val, socklen_t len) override;
  int getsockopt_proto(int level, int optname, void* val, socklen_t* len) override;
  int64_t inq() override { return tcb_->inq(); }
  int64_t accept_backlog() override {
    return listening() ? static_cast<int64_t>(tcb_->accept_backlog()) : -EINVAL;
  }
  int64_t outq() override { return tcb_->outq(); }
  bool listening() const override { return tcb_->state == TcpState::listen; }
  void sockopt_set(int optname) override;

  Tcb& tcb() const { return *tcb_; }

  // struct socket's state (include/uapi/linux/net.h), distinct from the TCP state.
  enum class Ss : uint8_t { unconnected, connecting, connected, disconnecting };
  Ss ss = Ss::unconnected;

 private:
  // IPPROTO_TCP options the model stores (none changes how bytes move).
  struct TcpOptions {
    int nodelay = 0;
    int cork = 0;
    int keepidle = 7200;   // TCP_KEEPIDLE: net.ipv4.tcp_keepalive_time
    int keepintvl = 75;    // tcp_keepalive_intvl
    int keepcnt = 9;       // tcp_keepalive_probes
    int user_timeout = 0;
  };
  int* tcp_option(int optname);

  Net& net_;
  Tcb* tcb_;
  TcpOptions opts_;
};

}  // namespace edgecase::sim
