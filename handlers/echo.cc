// The kit's reference echo server: what a correct edge-triggered loop looks like.
#include <cerrno>
#include <cstdint>
#include <map>
#include <netinet/in.h>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "handlers/handlers.h"

namespace edgecase::handlers {

namespace {

constexpr int kBacklog = 128;
constexpr int kMaxEvents = 64;
constexpr size_t kReadChunk = 16 * 1024;

struct Conn {
  std::string out;    // out[head..] was read and not yet written back
  size_t head = 0;    // bytes of `out` already written back
  bool eof = false;   // the peer shut down its write side

  size_t pending() const { return out.size() - head; }
};

class EchoServer {
 public:
  EchoServer(Kernel& k, uint32_t addr, uint16_t port) : k_(k) { listen_on(addr, port); }

  [[noreturn]] void loop() {
    epoll_event evs[kMaxEvents];
    for (;;) {
      const int n = k_.epoll_wait(ep_, evs, kMaxEvents, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("epoll_wait failed");
      }
      for (int i = 0; i < n; ++i) {
        const int fd = static_cast<int>(evs[i].data.u64);
        if (fd == lfd_) accept_all(); else serve(fd);
      }
    }
  }

 private:
  void listen_on(uint32_t addr, uint16_t port) {
    ep_ = k_.epoll_create1(EPOLL_CLOEXEC);
    lfd_ = k_.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    k_.setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(addr);
    if (ep_ < 0 || lfd_ < 0 || k_.bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        k_.listen(lfd_, kBacklog) != 0)
      throw std::runtime_error("echo: cannot listen");
    add(lfd_, EPOLLIN | EPOLLET);
  }

  void add(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = static_cast<uint64_t>(fd);
    if (k_.epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) throw std::runtime_error("echo: epoll_ctl");
  }

  void accept_all() {
    accept_paused_ = false;
    for (;;) {
      const int fd = k_.accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd >= 0) {
        conns_[fd] = Conn{};
        add(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
        continue;
      }
      if (errno == EINTR || errno == ECONNABORTED) continue;
      // Out of fds: the queued connections stay queued, and with ET no new edge comes for
      // them. Accept again as soon as a connection is closed.
      if (errno == EMFILE || errno == ENFILE) accept_paused_ = true;
      return;
    }
  }

  void serve(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = it->second;
    if (!read_all(fd, c) || !flush(fd, c) || (c.eof && c.pending() == 0)) close_conn(fd);
  }

  // Reads to EAGAIN, however much waits to be written back: a client may send everything
  // before it reads (the cost is this server's memory, not a stall); false when the connection
  // is dead.
  bool read_all(int fd, Conn& c) {
    char buf[kReadChunk];
    while (!c.eof) {
      const ssize_t r = k_.read(fd, buf, sizeof buf);
      if (r > 0) {
        c.out.append(buf, static_cast<size_t>(r));
      } else if (r == 0) {
        c.eof = true;
      } else if (errno == EINTR) {
        continue;
      } else {
        return errno == EAGAIN;
      }
    }
    return true;
  }

  // Writes to EAGAIN or until nothing is left; false when the connection is dead.
  bool flush(int fd, Conn& c) {
    while (c.pending() > 0) {
      const ssize_t w = k_.write(fd, c.out.data() + c.head, c.pending());
      if (w > 0) {
        written(c, static_cast<size_t>(w));
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else {
        return w < 0 && errno == EAGAIN;  // EPOLLOUT (edge) will come back
      }
    }
    return true;
  }

  // Drops what was written: at once when nothing is left, else once the written prefix
  // outgrows the rest (each byte moved at most once on average, not once per write).
  static void written(Conn& c, size_t n) {
    c.head += n;
    if (c.head == c.out.size()) {
      c.out.clear();
      c.head = 0;
    } else if (c.head >= kReadChunk && c.head >= c.pending()) {
      c.out.erase(0, c.head);
      c.head = 0;
    }
  }

  void close_conn(int fd) {
    conns_.erase(fd);
    k_.close(fd);
    if (accept_paused_) accept_all();
  }

  Kernel& k_;
  int ep_ = -1;
  int lfd_ = -1;
  bool accept_paused_ = false;
  std::map<int, Conn> conns_;
};

}  // namespace

void echo_server(Kernel& k, uint32_t addr, uint16_t port) { EchoServer(k, addr, port).loop(); }

}  // namespace edgecase::handlers
