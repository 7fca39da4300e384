// Seed 002 (../shared/seeds/002_*.txt, cnblogs ggjucheng 2012): an edge-triggered echo server
// on port 6888, ported against Kernel with its logic and its bugs kept line for line, and a
// fixed version beside it.
//
// Deviations the port forced (everything else is the published code, in its order):
// - `struct epoll_event ev` is zero-initialised (`{}`): the seed sets only data.fd, leaving
//   data's upper 32 bits as stack garbage that epoll stores and returns; they showed in
//   traces and differed between runs of one case. The server reads only data.fd.
// - `k.` in front of every system call; `handle` and `setnonblocking` take the Kernel too.
// - setrlimit(RLIMIT_NOFILE, 10000) is k.setrlimit, as published: the simulated process's limit
//   becomes 10,000 (hard and soft), and a failure ("setrlimit fails where the hard limit is
//   lower") ends the server as published (handler-threw here, see the next line).
// - `return -1` from main (every fatal setup error) throws std::runtime_error, so the world
//   reports handler-threw instead of the handler returning silently.
// - perror/printf/fprintf output removed (the world's trace shows the calls); with it went the
//   sprintf of the peer's address into `buf` (inet_ntoa), so main's `buf` and the never-used
//   `nread` are gone (they would be unused-variable warnings under -Werror).
// - bzero replaced by value-initialisation of servaddr (same bytes).
// - `socklen` is set once before the loop, as published (accept never shrinks it for AF_INET).
#include <cerrno>
#include <cstdint>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "handlers/handlers.h"

namespace edgecase::handlers {

namespace {

constexpr int MAXEPOLLSIZE = 10000;  // the seed's #define: events array size, connection cap
constexpr int MAXLINE = 10240;       // the seed's #define: the one read per event

// BUG kept: reads the descriptor flags (F_GETFD) instead of the status flags (F_GETFL); works
// only because FD_CLOEXEC is not a status flag.
int setnonblocking(Kernel& k, int sockfd) {
  if (k.fcntl(sockfd, F_SETFL, k.fcntl(sockfd, F_GETFD, 0) | O_NONBLOCK) == -1) {
    return -1;
  }
  return 0;
}

// BUGS kept: one read per edge-triggered event (lost-read-event), EAGAIN treated as an error
// (closes a live connection), write() result ignored (short writes and EAGAIN lose bytes).
int handle(Kernel& k, int connfd) {
  int nread;
  char buf[MAXLINE];
  nread = k.read(connfd, buf, MAXLINE);

  if (nread == 0) {
    k.close(connfd);
    return -1;
  }
  if (nread < 0) {
    k.close(connfd);
    return -1;
  }
  k.write(connfd, buf, nread);
  return 0;
}

}  // namespace

void seed002(Kernel& k) {
  int servPort = kSeed002Port;
  int listenq = 1024;

  int listenfd, connfd, kdpfd, nfds, n, curfds;
  struct sockaddr_in servaddr{}, cliaddr;
  socklen_t socklen = sizeof(struct sockaddr_in);
  struct epoll_event ev{};  // zeroed by the port (see the top of the file)
  struct epoll_event events[MAXEPOLLSIZE];
  struct rlimit rt;

  /* 设置每个进程允许打开的最大文件数 */
  rt.rlim_max = rt.rlim_cur = MAXEPOLLSIZE;
  if (k.setrlimit(RLIMIT_NOFILE, &rt) == -1) {
    throw std::runtime_error("seed002: setrlimit error");
  }

  servaddr.sin_family = AF_INET;
  servaddr.sin_addr.s_addr = htonl(INADDR_ANY);
  servaddr.sin_port = htons(servPort);

  listenfd = k.socket(AF_INET, SOCK_STREAM, 0);
  if (listenfd == -1) {
    throw std::runtime_error("seed002: can't create socket file");
  }

  int opt = 1;
  k.setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof(opt));

  if (setnonblocking(k, listenfd) < 0) {
    // perror("setnonblock error"); and carry on, as published
  }

  if (k.bind(listenfd, (struct sockaddr*)&servaddr, sizeof(struct sockaddr)) == -1) {
    throw std::runtime_error("seed002: bind error");
  }
  if (k.listen(listenfd, listenq) == -1) {
    throw std::runtime_error("seed002: listen error");
  }
  kdpfd = k.epoll_create(MAXEPOLLSIZE);
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = listenfd;
  if (k.epoll_ctl(kdpfd, EPOLL_CTL_ADD, listenfd, &ev) < 0) {
    throw std::runtime_error("seed002: epoll set insertion error");
  }
  curfds = 1;

  for (;;) {
    nfds = k.epoll_wait(kdpfd, events, curfds, -1);
    if (nfds == -1) {
      continue;  // perror("epoll_wait");
    }
    for (n = 0; n < nfds; ++n) {
      if (events[n].data.fd == listenfd) {
        // BUG kept: one accept per edge-triggered event (lost-accept).
        connfd = k.accept(listenfd, (struct sockaddr*)&cliaddr, &socklen);
        if (connfd < 0) {
          continue;  // perror("accept error");
        }

        if (curfds >= MAXEPOLLSIZE) {
          k.close(connfd);
          continue;
        }
        if (setnonblocking(k, connfd) < 0) {
          // perror("setnonblocking error");
        }
        ev.events = EPOLLIN | EPOLLET;
        ev.data.fd = connfd;
        if (k.epoll_ctl(kdpfd, EPOLL_CTL_ADD, connfd, &ev) < 0) {
          throw std::runtime_error("seed002: add socket to epoll failed");
        }
        curfds++;
        continue;
      }
      if (handle(k, events[n].data.fd) < 0) {
        // BUG kept: handle() already closed the fd, so this DEL fails with EBADF (ctl-error).
        k.epoll_ctl(kdpfd, EPOLL_CTL_DEL, events[n].data.fd, &ev);
        curfds--;
      }
    }
  }
}

// The same server with each bug removed; every change says which bug it removes.
void seed002_fixed(Kernel& k) {
  constexpr int kReadChunk = MAXLINE;
  int listenfd = k.socket(AF_INET, SOCK_STREAM, 0);
  if (listenfd == -1) throw std::runtime_error("seed002-fixed: socket");
  int opt = 1;
  k.setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &opt, sizeof(opt));
  // Fix (F_GETFD instead of F_GETFL): read the status flags before adding O_NONBLOCK.
  auto nonblock = [&k](int fd) { return k.fcntl(fd, F_SETFL, k.fcntl(fd, F_GETFL, 0) | O_NONBLOCK); };
  nonblock(listenfd);
  sockaddr_in servaddr{};
  servaddr.sin_family = AF_INET;
  servaddr.sin_addr.s_addr = htonl(INADDR_ANY);
  servaddr.sin_port = htons(kSeed002Port);
  if (k.bind(listenfd, (sockaddr*)&servaddr, sizeof servaddr) == -1 || k.listen(listenfd, 1024) == -1)
    throw std::runtime_error("seed002-fixed: bind/listen");
  // Fix (setrlimit exits where the hard limit is lower): no setrlimit; EMFILE is handled below.
  const int kdpfd = k.epoll_create1(0);
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.fd = listenfd;
  if (k.epoll_ctl(kdpfd, EPOLL_CTL_ADD, listenfd, &ev) < 0) throw std::runtime_error("seed002-fixed: ctl");
  constexpr int kMaxEvents = 64;
  epoll_event events[kMaxEvents];
  // Fix (lost-accept after EMFILE): remember that the queue was not drained, retry on close.
  bool accept_pending = false;
  auto accept_all = [&] {
    accept_pending = false;
    // Fix (lost-accept): accept until EAGAIN, not once per edge.
    for (;;) {
      const int connfd = k.accept(listenfd, nullptr, nullptr);
      if (connfd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) accept_pending = true;
        return;
      }
      nonblock(connfd);
      ev.events = EPOLLIN | EPOLLOUT | EPOLLET;  // Fix (stuck-output): EPOLLOUT to finish writes
      ev.data.fd = connfd;
      k.epoll_ctl(kdpfd, EPOLL_CTL_ADD, connfd, &ev);
    }
  };
  std::map<int, std::string> pending;  // Fix (short writes ignored): bytes not yet written back
  std::map<int, bool> eof;
  auto close_conn = [&](int fd) {
    pending.erase(fd);
    eof.erase(fd);
    k.close(fd);  // Fix (ctl-error): close removes the fd from epoll; no DEL after close
    if (accept_pending) accept_all();
  };
  // Returns false when the connection must be closed.
  auto serve = [&](int fd) {
    std::string& out = pending[fd];
    char buf[kReadChunk];
    // Fix (lost-read-event): read until EAGAIN; Fix (EAGAIN treated as an error): EAGAIN ends
    // the pass, it does not close.
    while (!eof[fd]) {
      const ssize_t r = k.read(fd, buf, sizeof buf);
      if (r > 0) { out.append(buf, static_cast<size_t>(r)); continue; }
      if (r == 0) { eof[fd] = true; break; }
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return false;
    }
    // Fix (stream-corrupt, short writes ignored): write until done or EAGAIN, keep the rest.
    while (!out.empty()) {
      const ssize_t w = k.write(fd, out.data(), out.size());
      if (w > 0) { out.erase(0, static_cast<size_t>(w)); continue; }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) return true;
      return false;
    }
    // Fix (reply-lost-after-half-close): close only once the echo is out.
    return !eof[fd];
  };
  for (;;) {
    const int nfds = k.epoll_wait(kdpfd, events, kMaxEvents, -1);
    for (int n = 0; n < nfds; ++n) {
      const int fd = events[n].data.fd;
      if (fd == listenfd) accept_all();
      else if (!serve(fd)) close_conn(fd);
    }
  }
}

}  // namespace edgecase::handlers
