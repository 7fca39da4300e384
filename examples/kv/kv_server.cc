// Key-value servers (kv.h): a correct edge-triggered one, and the same loop with one bug.
#include <algorithm>
#include <cerrno>
#include <map>
#include <netinet/in.h>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "examples/kv/kv.h"

namespace kv {

namespace {

constexpr int kBacklog = 128;
constexpr int kMaxEvents = 64;
constexpr size_t kReadChunk = 16 * 1024;

struct Conn {
  std::string in;       // bytes read, not yet handled (at most one partial line, bug aside)
  size_t scanned = 0;   // in[0, scanned) holds no '\n'
  std::string out;      // replies not yet written: out[head..]
  size_t head = 0;
  bool eof = false;     // the peer shut down its write side
  size_t pending() const { return out.size() - head; }
};

class Server {
 public:
  Server(edgecase::Kernel& k, uint32_t addr, uint16_t port, Bug bug) : k_(k), bug_(bug) {
    listen_on(addr, port);
  }

  [[noreturn]] void loop() {
    epoll_event evs[kMaxEvents];
    for (;;) {
      const int n = k_.epoll_wait(ep_, evs, kMaxEvents, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw std::runtime_error("kv: epoll_wait failed");
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
      throw std::runtime_error("kv: cannot listen");
    add(lfd_, EPOLLIN | EPOLLET);
  }

  void add(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = static_cast<uint64_t>(fd);
    if (k_.epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) throw std::runtime_error("kv: epoll_ctl");
  }

  // To EAGAIN; on EMFILE, accepting resumes when a connection is closed (ET brings no new
  // edge for connections already queued).
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
      if (errno == EMFILE || errno == ENFILE) accept_paused_ = true;
      return;
    }
  }

  void serve(int fd) {
    auto it = conns_.find(fd);
    if (it == conns_.end()) return;
    Conn& c = it->second;
    const bool alive = read_all(fd, c);
    // Every complete request read is applied, even when the peer then reset: as a server that
    // handles each read as it returns (Redis does), so a SET read before the reset is stored.
    // Its reply has no one to go to.
    handle_lines(c);
    if (!alive || !flush(fd, c) || (c.eof && c.pending() == 0)) close_conn(fd);
  }

  // Reads to EAGAIN or end of file; false when the connection is dead.
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

  // Every complete line read so far, in order (the first only, with that bug).
  void handle_lines(Conn& c) {
    size_t start = 0;
    for (;;) {
      const size_t nl = c.in.find('\n', std::max(start, c.scanned));
      if (nl == std::string::npos) {
        c.scanned = c.in.size();
        break;
      }
      execute(std::string_view(c.in).substr(start, nl - start), c.out);
      start = nl + 1;
      c.scanned = start;
      if (bug_ == Bug::first_request_only) break;
    }
    c.in.erase(0, start);
    c.scanned -= start;
  }

  void execute(std::string_view line, std::string& out) {
    const Parsed p = parse_request(line.substr(0, kMaxHeaderBytes + 1), line.size());
    switch (p.op) {
      case Parsed::Op::set: {
        std::string_view value = line.substr(p.value_at);
        if (bug_ == Bug::truncates_values) value = value.substr(0, kTruncatedValueBytes);
        store_.insert_or_assign(std::string(p.key), std::string(value));
        out += "OK\n";
        return;
      }
      case Parsed::Op::get: {
        const auto it = store_.find(p.key);
        out += it == store_.end() ? std::string("NOTFOUND") : it->second;
        out += '\n';
        return;
      }
      case Parsed::Op::error: out += "ERROR\n"; return;
    }
  }

  // Writes to EAGAIN (EPOLLOUT's edge brings the rest) or until nothing is left; false when
  // the connection is dead.
  bool flush(int fd, Conn& c) {
    while (c.pending() > 0) {
      const ssize_t w = k_.write(fd, c.out.data() + c.head, c.pending());
      if (w > 0) {
        c.head += static_cast<size_t>(w);
      } else if (w < 0 && errno == EINTR) {
        continue;
      } else {
        return w < 0 && errno == EAGAIN;
      }
    }
    c.out.clear();
    c.head = 0;
    return true;
  }

  void close_conn(int fd) {
    conns_.erase(fd);
    k_.close(fd);
    if (accept_paused_) accept_all();
  }

  edgecase::Kernel& k_;
  Bug bug_;
  int ep_ = -1;
  int lfd_ = -1;
  bool accept_paused_ = false;
  std::map<int, Conn> conns_;
  std::map<std::string, std::string, std::less<>> store_;
};

}  // namespace

void serve(edgecase::Kernel& k, uint32_t addr, uint16_t port, Bug bug) {
  Server(k, addr, port, bug).loop();
}

edgecase::Handler server(const edgecase::Scenario& s, Bug bug) {
  return [addr = s.addr, port = s.port, bug](edgecase::Kernel& k) { serve(k, addr, port, bug); };
}

}  // namespace kv
