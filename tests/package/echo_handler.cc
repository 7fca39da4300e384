// The outside project's own server, written against edgecase::Kernel: echo over TCP,
// nonblocking and edge-triggered, reading and writing until EAGAIN, answering a half-close.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

#include "edgecase/kernel.h"

namespace {

constexpr int kBacklog = 64;
constexpr int kMaxEvents = 16;
constexpr size_t kReadChunk = 4096;

struct Conn {
  std::string out;  // read, not yet echoed
  bool eof = false;
};

class EchoServer {
 public:
  EchoServer(edgecase::Kernel& k, uint16_t port) : k_(k), port_(port) {}

  [[noreturn]] void run() {
    listen_on_port();
    epoll_event evs[kMaxEvents];
    for (;;) {
      const int n = k_.epoll_wait(ep_, evs, kMaxEvents, -1);
      if (n < 0 && errno != EINTR) throw std::runtime_error("epoll_wait");
      for (int i = 0; i < n; ++i) {
        if (evs[i].data.fd == lfd_) accept_all();
        else serve(evs[i].data.fd);
      }
    }
  }

 private:
  void listen_on_port() {
    ep_ = k_.epoll_create1(0);
    lfd_ = k_.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (k_.bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        k_.listen(lfd_, kBacklog) != 0)
      throw std::runtime_error("listen");
    watch(lfd_, EPOLLIN | EPOLLET);
  }

  void watch(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    if (k_.epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) throw std::runtime_error("epoll_ctl");
  }

  void accept_all() {
    paused_ = false;
    for (;;) {
      const int fd = k_.accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK);
      if (fd >= 0) {
        conns_[fd] = Conn{};
        watch(fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
      } else if (errno != EINTR && errno != ECONNABORTED) {
        paused_ = errno == EMFILE || errno == ENFILE;  // no new edge for those queued
        return;
      }
    }
  }

  void serve(int fd) {
    const auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = it->second;
    const bool alive = read_all(fd, c);
    if (!alive || !flush(fd, c) || (c.eof && c.out.empty())) drop(fd);
  }

  bool read_all(int fd, Conn& c) {
    char buf[kReadChunk];
    while (!c.eof) {
      const ssize_t r = k_.read(fd, buf, sizeof buf);
      if (r > 0) c.out.append(buf, static_cast<size_t>(r));
      else if (r == 0) c.eof = true;
      else if (errno != EINTR) return errno == EAGAIN;
    }
    return true;
  }

  bool flush(int fd, Conn& c) {
    while (!c.out.empty()) {
      const ssize_t w = k_.write(fd, c.out.data(), c.out.size());
      if (w > 0) c.out.erase(0, static_cast<size_t>(w));
      else if (w < 0 && errno != EINTR) return errno == EAGAIN;
    }
    return true;
  }

  void drop(int fd) {
    conns_.erase(fd);
    k_.close(fd);
    if (paused_) accept_all();
  }

  edgecase::Kernel& k_;
  uint16_t port_;
  int ep_ = -1;
  int lfd_ = -1;
  bool paused_ = false;
  std::map<int, Conn> conns_;
};

}  // namespace

void echo_handler(edgecase::Kernel& k, uint16_t port) { EchoServer(k, port).run(); }
