// Seed 000 (../shared/seeds/000_*.txt, "处理并发之一：LINUX Epoll机制介绍"): CEpollServer, a
// level-triggered "hello" server on 127.0.0.1:8000 (its main's arguments), ported against
// Kernel with its logic and its bugs kept line for line, and a fixed version beside it.
// Protocol: every recv (up to 1024 bytes) is a request; the reply is "Hello, client fd: N\n"
// followed by a NUL byte (strlen + 1), N being the server's fd for the connection.
//
// Deviations the port forced (everything else is the published code, in its order):
// - `k.` in front of every system call; the class holds the Kernel.
// - The accept thread (ListenThread: a blocking accept in a loop, then EPOLL_CTL_ADD) is folded
//   into the loop: InitServer adds the listening socket to the epoll set (EPOLLIN, LT, data.fd
//   = m_isock) instead of pthread_create, and Run() calls ListenOnce() -- one iteration of the
//   thread's loop body, the same blocking accept and the same ADD -- when that fd is ready. A
//   failed accept returns to the loop, as the thread's `continue` did. With level triggering a
//   connection still queued is reported again, so no connection is skipped by this change.
// - InitServer falls off its end without `return` in the seed (UB, -Wreturn-type): `return true`
//   added. main ignores its result, as published (Run() runs even when InitServer failed).
// - ~CEpollServer's close(m_isock) is left out: the world stops the handler by throwing
//   edgecase::Stop through Run(), and a system call during that unwinding would run on a
//   stopped world. The published destructor never ran either (Run() never returns).
// - printf/cout output removed, except that printf("...%s\n", buffer) of the received bytes
//   becomes snprintf(nullptr, 0, ...): nothing printed, but the read of `buffer` up to a NUL
//   is kept (a full 1024-byte recv leaves it unterminated: AddressSanitizer catches the
//   out-of-bounds read through its printf-family interceptors).
// - `struct epoll_event events[_MAX_SOCKFD_COUNT]` stays a stack array (768 KiB) as published.
// - The single `struct epoll_event` variables are zero-initialised (`{}`): the seed sets only
//   data.fd, leaving data's upper 32 bits as stack garbage, which epoll stores and returns as
//   given; they showed in traces (data.u64) and differed between two runs of the same case.
//   The server reads only data.fd, so nothing it does changes.
// Bugs kept: O_NONBLOCK set on the epoll fd instead of the sockets (client sockets block:
// handler-blocked); one recv per EPOLLIN and interest switched to EPOLLOUT only (coalesced
// requests get one reply, long ones several); EPOLL_CTL_DEL without close on recv <= 0, on a
// failed send and on the error branch (fd-leak); the NUL byte sent with the reply; partial sends
// ignored; the unterminated buffer read above.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <stdexcept>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "handlers/handlers.h"

namespace edgecase::handlers {

namespace {

constexpr int _MAX_SOCKFD_COUNT = 65535;  // the seed's #define

class CEpollServer {
 public:
  explicit CEpollServer(Kernel& k) : k_(k) {}

  bool InitServer(const char* pIp, int iPort) {
    m_iEpollFd = k_.epoll_create(_MAX_SOCKFD_COUNT);

    // BUG kept: O_NONBLOCK goes to the epoll fd; the client sockets stay blocking.
    int opts = O_NONBLOCK;
    if (k_.fcntl(m_iEpollFd, F_SETFL, opts) < 0) {
      return false;
    }

    m_isock = k_.socket(AF_INET, SOCK_STREAM, 0);
    if (0 > m_isock) {
      return false;
    }

    sockaddr_in listen_addr;
    listen_addr.sin_family = AF_INET;
    listen_addr.sin_port = htons(iPort);
    listen_addr.sin_addr.s_addr = htonl(INADDR_ANY);
    listen_addr.sin_addr.s_addr = inet_addr(pIp);

    int ireuseadd_on = 1;
    k_.setsockopt(m_isock, SOL_SOCKET, SO_REUSEADDR, &ireuseadd_on, sizeof(ireuseadd_on));

    if (k_.bind(m_isock, (sockaddr*)&listen_addr, sizeof(listen_addr)) != 0) {
      return false;
    }

    if (k_.listen(m_isock, 20) < 0) {
      return false;
    }

    // Port: instead of pthread_create(ListenThread), the listener joins the epoll set.
    struct epoll_event lev{};  // zeroed by the port (see the top of the file)
    lev.events = EPOLLIN;
    lev.data.fd = m_isock;
    k_.epoll_ctl(m_iEpollFd, EPOLL_CTL_ADD, m_isock, &lev);
    return true;  // Port: missing in the seed
  }

  // One iteration of ListenThread's loop.
  void ListenOnce() {
    sockaddr_in remote_addr;
    int len = sizeof(remote_addr);
    int client_socket = k_.accept(m_isock, (sockaddr*)&remote_addr, (socklen_t*)&len);
    if (client_socket < 0) {
      return;  // printf("Server Accept失败!..."); continue;
    } else {
      struct epoll_event ev{};  // zeroed by the port (see the top of the file)
      ev.events = EPOLLIN | EPOLLERR | EPOLLHUP;
      ev.data.fd = client_socket;
      k_.epoll_ctl(m_iEpollFd, EPOLL_CTL_ADD, client_socket, &ev);
    }
  }

  void Run() {
    while (true) {
      struct epoll_event events[_MAX_SOCKFD_COUNT];
      int nfds = k_.epoll_wait(m_iEpollFd, events, _MAX_SOCKFD_COUNT, -1);
      for (int i = 0; i < nfds; i++) {
        if (events[i].data.fd == m_isock) {  // Port: the accept thread's work
          ListenOnce();
          continue;
        }
        int client_socket = events[i].data.fd;
        char buffer[1024];
        memset(buffer, 0, 1024);
        if (events[i].events & EPOLLIN) {
          int rev_size = k_.recv(events[i].data.fd, buffer, 1024, 0);
          if (rev_size <= 0) {
            // BUG kept: removed from epoll, never closed (fd-leak).
            struct epoll_event event_del{};  // zeroed by the port (see the top of the file)
            event_del.data.fd = events[i].data.fd;
            event_del.events = 0;
            k_.epoll_ctl(m_iEpollFd, EPOLL_CTL_DEL, event_del.data.fd, &event_del);
          } else {
            // printf("Terminal Received Msg Content:%s\n", buffer): BUG kept, unterminated
            // when rev_size == 1024.
            std::snprintf(nullptr, 0, "Terminal Received Msg Content:%s\n", buffer);
            struct epoll_event ev{};  // zeroed by the port (see the top of the file)
            ev.events = EPOLLOUT | EPOLLERR | EPOLLHUP;
            ev.data.fd = client_socket;
            k_.epoll_ctl(m_iEpollFd, EPOLL_CTL_MOD, client_socket, &ev);
          }
        } else if (events[i].events & EPOLLOUT) {
          char sendbuff[1024];
          std::snprintf(sendbuff, sizeof sendbuff, "Hello, client fd: %d\n", client_socket);
          // BUG kept: strlen + 1 puts a NUL on the wire; a partial send is ignored; the
          // socket is blocking, so a peer that stops reading blocks the whole server.
          int sendsize = k_.send(client_socket, sendbuff, strlen(sendbuff) + 1, MSG_NOSIGNAL);
          if (sendsize <= 0) {
            struct epoll_event event_del{};  // zeroed by the port (see the top of the file)
            event_del.data.fd = events[i].data.fd;
            event_del.events = 0;
            k_.epoll_ctl(m_iEpollFd, EPOLL_CTL_DEL, event_del.data.fd, &event_del);
          } else {
            struct epoll_event ev{};  // zeroed by the port (see the top of the file)
            ev.events = EPOLLIN | EPOLLERR | EPOLLHUP;
            ev.data.fd = client_socket;
            k_.epoll_ctl(m_iEpollFd, EPOLL_CTL_MOD, client_socket, &ev);
          }
        } else {
          k_.epoll_ctl(m_iEpollFd, EPOLL_CTL_DEL, events[i].data.fd, &events[i]);
        }
      }
    }
  }

 private:
  Kernel& k_;
  int m_iEpollFd = -1;
  int m_isock = -1;
};

}  // namespace

void seed000(Kernel& k) {
  CEpollServer theApp(k);
  theApp.InitServer("127.0.0.1", kSeed000Port);
  theApp.Run();
}

// The same server with each bug removed; every change says which bug it removes. A request is
// a line (bytes up to '\n'), so that coalesced and split requests are told apart.
void seed000_fixed(Kernel& k) {
  constexpr int kMaxEvents = 64;
  constexpr size_t kRecvChunk = 1024;
  const int ep = k.epoll_create1(0);
  // Fix (O_NONBLOCK on the epoll fd): the listener and every client socket are nonblocking.
  const int lsock = k.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int on = 1;
  k.setsockopt(lsock, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kSeed000Port);
  a.sin_addr.s_addr = inet_addr("127.0.0.1");
  if (ep < 0 || lsock < 0 || k.bind(lsock, (sockaddr*)&a, sizeof a) != 0 || k.listen(lsock, 20) != 0)
    throw std::runtime_error("seed000-fixed: cannot listen");  // Fix: init errors not ignored
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = lsock;
  k.epoll_ctl(ep, EPOLL_CTL_ADD, lsock, &ev);
  struct Conn {
    std::string in;   // Fix (one reply per recv): bytes of an unfinished request
    std::string out;  // Fix (partial send ignored): reply bytes not yet sent
    bool eof = false;
  };
  std::map<int, Conn> conns;
  auto want = [&](int fd, const Conn& c) {
    epoll_event e{};
    // Fix (EPOLLOUT only while replying): keep reading while replies are pending.
    e.events = (c.eof ? 0u : static_cast<uint32_t>(EPOLLIN)) | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
    e.data.fd = fd;
    k.epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
  };
  // False when the connection is finished or dead.
  auto serve = [&](int fd, Conn& c, uint32_t events) {
    if ((events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !c.eof) {  // recv reports the error
      char buffer[kRecvChunk];
      const ssize_t r = k.recv(fd, buffer, sizeof buffer, 0);
      if (r > 0) c.in.append(buffer, static_cast<size_t>(r));  // Fix (unterminated %s): length kept
      else if (r == 0) c.eof = true;
      else if (errno != EINTR && errno != EAGAIN) return false;
      for (size_t nl; (nl = c.in.find('\n')) != std::string::npos; c.in.erase(0, nl + 1))
        c.out += "Hello, client fd: " + std::to_string(fd) + "\n";  // Fix (NUL on the wire): strlen
    }
    while (!c.out.empty()) {
      const ssize_t w = k.send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (w > 0) c.out.erase(0, static_cast<size_t>(w));
      else if (w < 0 && (errno == EINTR)) continue;
      else if (w < 0 && errno == EAGAIN) break;
      else return false;
    }
    if (c.eof && c.out.empty()) return false;
    want(fd, c);
    return true;
  };
  // Out of fds, the level-triggered listener would be reported ready at every wait (busy-loop):
  // its interest is off until a connection is closed.
  bool accept_paused = false;
  auto listen_interest = [&](uint32_t events) {
    epoll_event e{};
    e.events = events;
    e.data.fd = lsock;
    k.epoll_ctl(ep, EPOLL_CTL_MOD, lsock, &e);
  };
  epoll_event events[kMaxEvents];
  for (;;) {
    const int nfds = k.epoll_wait(ep, events, kMaxEvents, -1);
    for (int i = 0; i < nfds; i++) {
      const int fd = events[i].data.fd;
      if (fd == lsock) {
        // Fix (blocking accept): nonblocking; LT reports the rest of the queue again.
        const int c = k.accept4(lsock, nullptr, nullptr, SOCK_NONBLOCK);
        if (c < 0) {
          if (errno == EMFILE || errno == ENFILE) {
            accept_paused = true;
            listen_interest(0);
          }
          continue;
        }
        conns[c] = Conn{};
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.fd = c;
        k.epoll_ctl(ep, EPOLL_CTL_ADD, c, &e);
        continue;
      }
      auto it = conns.find(fd);
      if (it == conns.end()) continue;
      if (!serve(fd, it->second, events[i].events)) {
        conns.erase(it);
        k.close(fd);  // Fix (fd-leak): DEL without close; close removes it from epoll
        if (accept_paused) {
          accept_paused = false;
          listen_interest(EPOLLIN);
        }
      }
    }
  }
}

}  // namespace edgecase::handlers
