// AF_UNIX SOCK_STREAM sockets made by socketpair (net/unix/af_unix.c). Each socket keeps a
// receive queue of skbs; every skb is charged (its truesize: data plus allocation overhead) to
// the SENDER's sk_wmem_alloc until the receiver has consumed all of it. Writability, EAGAIN and
// the sender's wakeups all follow from that charge. socket(AF_UNIX)/bind/listen/connect on paths
// are not modelled (see docs/semantics-unix.md).
#pragma once

#include <cstdint>
#include <list>
#include <vector>

#include "sim/socket.h"

namespace edgecase::sim {

// --- skb geometry on x86_64 (include/linux/skbuff.h), calibrated against SIOCOUTQ on 6.18 ----
inline constexpr int64_t kPageSize = 4096;
// SMP_CACHE_BYTES: SKB_DATA_ALIGN rounds heads to cache lines.
inline constexpr int64_t kSkbDataAlign = 64;
// SKB_DATA_ALIGN(sizeof(struct skb_shared_info)): every head carries one after its data.
inline constexpr int64_t kSkbSharedInfoSize = 320;
// SKB_DATA_ALIGN(sizeof(struct sk_buff)): the struct itself is part of truesize.
inline constexpr int64_t kSkbStructSize = 256;
// SKB_MAX_HEAD(0): the linear part that still fits one page with its shared info.
inline constexpr int64_t kSkbMaxHead = kPageSize - kSkbSharedInfoSize;
// UNIX_SKB_FRAGS_SZ (PAGE_SIZE << get_order(32768)): page fragments allowed per skb.
inline constexpr int64_t kUnixSkbFragsSize = 32768;
// unix_stream_sendmsg: "(sk_sndbuf >> 1) - 64" keeps two messages in the pipe.
inline constexpr int64_t kUnixSndbufSlack = 64;
// SOCK_MAX: socket types at or above it are rejected by __sock_create.
inline constexpr int kSockMax = 11;

// truesize of one stream skb carrying `size` bytes, as alloc_skb_with_frags builds it: a kmalloc'd
// head (power-of-two bucket) for the linear part, whole pages for the fragments, plus the struct.
int64_t unix_skb_truesize(int64_t size);

class UnixStream final : public Socket {
 public:
  explicit UnixStream(unsigned open_flags);
  ~UnixStream() override;
  // unix_socketpair: both ends connected (TCP_ESTABLISHED) to each other.
  static void connect_pair(UnixStream* a, UnixStream* b);

  uint32_t poll(int depth) override;  // unix_poll
  WaitQueue* wait_queue() override { return &wq; }
  void release() override;            // unix_release_sock

  ssize_t recvmsg(std::span<std::byte> buf, int flags) override;        // unix_stream_recvmsg
  ssize_t sendmsg(std::span<const std::byte> buf, int flags, bool resumed) override;  // unix_stream_sendmsg
  int listen(int backlog) override;                                     // unix_listen
  int accept(Socket** out, int flags) override;                         // unix_accept
  int connect(const sockaddr* addr, socklen_t len) override;            // unix_stream_connect
  int shutdown(int how) override;                                       // unix_shutdown
  int getname(sockaddr_storage* out, Name which) override;               // unix_getname
  int64_t inq() override { return rcvq_bytes_; }      // unix_inq_len
  int64_t outq() override { return wmem_alloc_; }     // unix_outq_len: truesize, overhead included
  void sockopt_set(int optname) override;

 private:
  struct Skb {
    std::vector<std::byte> data;
    size_t consumed = 0;   // UNIXCB(skb).consumed
    int64_t truesize = 0;  // charged to the sender's wmem_alloc_
    size_t len() const { return data.size() - consumed; }  // unix_skb_len
  };

  // unix_writable with `refs` extra references on sk_wmem_alloc besides the charged skbs.
  bool writable(int64_t refs) const;
  bool sndbuf_full() const { return wmem_alloc_ >= sk_sndbuf; }  // sock_alloc_send_pskb's test
  int64_t max_skb_size() const;
  void data_ready();               // sock_def_readable
  void state_change();             // sock_def_wakeup
  void write_space(int64_t refs);  // unix_write_space
  void skb_freed(int64_t truesize);  // sock_wfree on the sender
  // One skb of `chunk` bytes onto the peer's queue, or -errno (sock_alloc_send_pskb's checks).
  int send_skb(std::span<const std::byte> chunk);
  int64_t rcvlowat_target(size_t len) const;  // sock_rcvlowat (MSG_WAITALL is not modelled)
  size_t copy_out(std::span<std::byte> buf, bool peek);
  void consume_front();            // unlink and free a fully read skb

  UnixStream* peer_ = nullptr;  // unix_peer; cleared when the peer is released
  // sk_receive_queue: skbs charged to peer_. A list, not a deque: an empty std::deque already
  // allocates a 512-byte node and its map, which made an idle socket cost 865 heap bytes
  // instead of 241 (bench/memory.cc; 10^6 registered sockets must fit in 512 MB).
  std::list<Skb> rcvq_;
  int64_t rcvq_bytes_ = 0;      // unread bytes in rcvq_
  int64_t wmem_alloc_ = 0;      // sk_wmem_alloc_get: truesize of our skbs the peer still holds
};

}  // namespace edgecase::sim
