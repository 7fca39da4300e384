// Seed 003 (../shared/seeds/003_*.txt): the "almost every epoll program uses this framework"
// loop skeleton, completed minimally into a server on port 8003 (the skeleton names none), its
// logic and its bugs kept line for line, and a fixed version beside it.
//
// What the completion added (the skeleton gives only the loop):
// - Declarations: events[20], ev, line[MAXLINE] (MAXLINE = 1024, zero-filled once), clientaddr,
//   clilen, n, nfds, i, connfd, and `sockfd`, initialised to -1 because the skeleton never
//   sets it before its first use in the read branch (an uninitialised read would be UB and a
//   -Wmaybe-uninitialized error; -1 keeps the bug visible as EBADF: *bad-fd*).
// - `struct myepoll_data { int fd; void* ptr; }` ("md为自定义类型") and one instance `mdata`
//   that `md` points to; the read branch fills it with sockfd and the line just read (the
//   skeleton's "添加数据"), so the write branch's dereference of data.ptr is always valid
//   memory in this port.
// - A listener: socket, SO_REUSEADDR, bind to INADDR_ANY:8003, listen(128), O_NONBLOCK on it,
//   epoll_create(256), and ADD of listenfd with EPOLLIN|EPOLLET and data.fd = listenfd.
// - The read line `n = read(sockfd, line, MAXLINE)) < 0 //读` is a fragment: completed as
//   `if ((n = read(...)) < 0) {}`, i.e. its result is not acted on.
// - The write branch's `struct myepoll_data* md` is named md_out: it would shadow the outer
//   `md` the completion declared (-Wshadow).
// - `k.` in front of every system call; nothing is printed; no global state.
// Bugs kept: ET listener with one accept per event (lost-accept); one read per ET event
// (lost-read-event); data.ptr set in the read branch, data.fd in the write branch, and
// data.fd == listenfd tested on every event (epoll_data union misuse, bad-fd); sockfd used in
// the read branch without being set from the event; if / else if on EPOLLIN then EPOLLOUT;
// connections never closed (fd-leak); strlen on the read buffer (a full 1024-byte read leaves
// it unterminated: out-of-bounds read for AddressSanitizer; a shorter read after a longer one
// sends the longer one's tail).
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <stdexcept>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>

#include "handlers/handlers.h"

namespace edgecase::handlers {

namespace {

constexpr int MAXLINE = 1024;   // the read size; the skeleton names it, not its value
constexpr int kBacklog = 128;   // completion: the skeleton has no listen()
constexpr int kEpollSize = 256; // completion: epoll_create's hint, ignored by Linux

struct myepoll_data {
  int fd;
  void* ptr;
};

int listen_8003(Kernel& k) {
  const int listenfd = k.socket(AF_INET, SOCK_STREAM, 0);
  int on = 1;
  k.setsockopt(listenfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  k.fcntl(listenfd, F_SETFL, k.fcntl(listenfd, F_GETFL, 0) | O_NONBLOCK);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kSeed003Port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (listenfd < 0 || k.bind(listenfd, (sockaddr*)&a, sizeof a) != 0 ||
      k.listen(listenfd, kBacklog) != 0)
    throw std::runtime_error("seed003: cannot listen");
  return listenfd;
}

}  // namespace

void seed003(Kernel& k) {
  const int listenfd = listen_8003(k);
  const int epfd = k.epoll_create(kEpollSize);
  struct epoll_event ev{}, events[20];
  ev.data.fd = listenfd;
  ev.events = EPOLLIN | EPOLLET;
  k.epoll_ctl(epfd, EPOLL_CTL_ADD, listenfd, &ev);
  char line[MAXLINE] = {0};
  sockaddr_in clientaddr;
  socklen_t clilen = sizeof clientaddr;
  int nfds, i, connfd, n;
  int sockfd = -1;
  myepoll_data mdata{};
  myepoll_data* md = &mdata;

  for (;;) {
    nfds = k.epoll_wait(epfd, events, 20, 500);
    for (i = 0; i < nfds; ++i) {
      if (events[i].data.fd == listenfd) {
        connfd = k.accept(listenfd, (sockaddr*)&clientaddr, &clilen);
        ev.data.fd = connfd;
        ev.events = EPOLLIN | EPOLLET;
        k.epoll_ctl(epfd, EPOLL_CTL_ADD, connfd, &ev);
      } else if (events[i].events & EPOLLIN) {
        if ((n = k.read(sockfd, line, MAXLINE)) < 0) {
        }
        md->fd = sockfd;  // completion of "md为自定义类型,添加数据"
        md->ptr = line;
        ev.data.ptr = md;
        ev.events = EPOLLOUT | EPOLLET;
        k.epoll_ctl(epfd, EPOLL_CTL_MOD, sockfd, &ev);
      } else if (events[i].events & EPOLLOUT) {
        struct myepoll_data* md_out = (myepoll_data*)events[i].data.ptr;
        sockfd = md_out->fd;
        k.send(sockfd, md_out->ptr, strlen((char*)md_out->ptr), 0);
        ev.data.fd = sockfd;
        ev.events = EPOLLIN | EPOLLET;
        k.epoll_ctl(epfd, EPOLL_CTL_MOD, sockfd, &ev);
      } else {
        // 其他的处理
      }
    }
  }
}

// The skeleton with each bug removed; every change says which bug it removes.
void seed003_fixed(Kernel& k) {
  const int listenfd = listen_8003(k);
  const int epfd = k.epoll_create(kEpollSize);
  epoll_event ev{}, events[20];
  // Fix (union misuse, bad-fd): data.fd everywhere, never data.ptr; per-fd state in a map.
  ev.data.fd = listenfd;
  ev.events = EPOLLIN | EPOLLET;
  k.epoll_ctl(epfd, EPOLL_CTL_ADD, listenfd, &ev);
  std::map<int, std::string> out;  // bytes read and not yet sent back
  std::map<int, bool> eof;
  bool accept_pending = false;
  auto accept_all = [&] {
    accept_pending = false;
    for (;;) {  // Fix (lost-accept): accept until EAGAIN
      const int connfd = k.accept4(listenfd, nullptr, nullptr, SOCK_NONBLOCK);
      if (connfd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        if (errno == EMFILE || errno == ENFILE) accept_pending = true;
        return;
      }
      out[connfd].clear();
      eof[connfd] = false;
      ev.data.fd = connfd;
      // Fix (if / else if, stuck-output): one registration for both directions.
      ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
      k.epoll_ctl(epfd, EPOLL_CTL_ADD, connfd, &ev);
    }
  };
  // False when the connection is finished or dead.
  auto serve = [&](int sockfd) {
    char line[MAXLINE];
    while (!eof[sockfd]) {  // Fix (lost-read-event): read until EAGAIN
      const ssize_t n = k.read(sockfd, line, MAXLINE);
      if (n > 0) out[sockfd].append(line, static_cast<size_t>(n));  // Fix (strlen): length kept
      else if (n == 0) eof[sockfd] = true;
      else if (errno == EINTR) continue;
      else if (errno == EAGAIN) break;
      else return false;
    }
    std::string& o = out[sockfd];
    while (!o.empty()) {  // Fix (send result ignored): keep what was not sent
      const ssize_t w = k.send(sockfd, o.data(), o.size(), MSG_NOSIGNAL);
      if (w > 0) o.erase(0, static_cast<size_t>(w));
      else if (w < 0 && errno == EINTR) continue;
      else if (w < 0 && errno == EAGAIN) return true;
      else return false;
    }
    return !eof[sockfd];
  };
  for (;;) {
    const int nfds = k.epoll_wait(epfd, events, 20, 500);
    for (int i = 0; i < nfds; ++i) {
      const int sockfd = events[i].data.fd;  // Fix (sockfd not set): taken from the event
      if (sockfd == listenfd) { accept_all(); continue; }
      if (out.count(sockfd) == 0) continue;
      if (!serve(sockfd)) {
        out.erase(sockfd);
        eof.erase(sockfd);
        k.close(sockfd);  // Fix (fd-leak): connections are closed
        if (accept_pending) accept_all();
      }
    }
  }
}

}  // namespace edgecase::handlers
