// The server of the README's "Check your own server": a user's own event loop written against
// edgecase::Kernel, speaking the README's ping protocol ("PING <word>\n" answered by
// "PONG <word>\n") on 127.0.0.1:9090. The README's test code is compiled as shown and run
// against it (CMake target readme_example_tests, label props): the README cannot go stale.
//
// Edge-triggered and nonblocking: reads to EAGAIN, answers every complete line, keeps what it
// cannot write yet for EPOLLOUT's edge, answers a half-closed peer before closing, and pauses
// accepting on EMFILE until a connection closes.
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

#include "edgecase/kernel.h"

namespace {

constexpr uint16_t kPort = 9090;
constexpr int kBacklog = 64;
constexpr int kMaxEvents = 16;
constexpr size_t kReadChunk = 4096;

struct Conn {
  std::string in;   // read, not yet a complete line
  std::string out;  // replies not yet written
  bool eof = false;
};

class PingServer {
 public:
  explicit PingServer(edgecase::Kernel& k) : k_(k) {}

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
    a.sin_port = htons(kPort);
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
    answer_lines(c);
    if (!alive || !flush(fd, c) || (c.eof && c.out.empty())) drop(fd);
  }

  // To EAGAIN or end of file; false when the connection is dead (reset).
  bool read_all(int fd, Conn& c) {
    char buf[kReadChunk];
    while (!c.eof) {
      const ssize_t r = k_.read(fd, buf, sizeof buf);
      if (r > 0) c.in.append(buf, static_cast<size_t>(r));
      else if (r == 0) c.eof = true;
      else if (errno != EINTR) return errno == EAGAIN;
    }
    return true;
  }

  void answer_lines(Conn& c) {
    constexpr std::string_view kPing = "PING ";
    size_t start = 0;
    for (size_t nl; (nl = c.in.find('\n', start)) != std::string::npos; start = nl + 1) {
      const std::string_view line = std::string_view(c.in).substr(start, nl - start);
      if (line.substr(0, kPing.size()) == kPing)
        c.out.append("PONG ").append(line.substr(kPing.size())).append("\n");
      else
        c.out.append("ERROR\n");
    }
    c.in.erase(0, start);
  }

  // Writes to EAGAIN (EPOLLOUT's edge brings the rest); false when the connection is dead.
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
  int ep_ = -1;
  int lfd_ = -1;
  bool paused_ = false;
  std::map<int, Conn> conns_;
};

}  // namespace

// Declared by the README's test code.
void my_server(edgecase::Kernel& k) { PingServer(k).run(); }
