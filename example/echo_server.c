/* echo_server [PORT]: a small TCP echo server on 127.0.0.1 (default port 7070), plain C against
 * libc, as a user writes one: one thread, one epoll set, nonblocking sockets, edge-triggered.
 * Nothing in it knows about edgecase: the kit runs it as it is (edgecase_add_handler, ENTRY main).
 *
 * Under EPOLLET an event is an edge, not a level: each one is served until the call says EAGAIN
 * (accept until no connection is queued, read until no byte is left), and what a short write
 * leaves stays queued for the next EPOLLOUT edge. */
#define _GNU_SOURCE /* accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { kDefaultPort = 7070, kBacklog = 64, kMaxEvents = 64, kMaxFds = 1024, kChunk = 4096 };

struct conn {
  char* out; /* read, not yet echoed */
  size_t len, cap;
  int eof;   /* the peer half-closed: close once out is written */
};

/* The server's state lives in main's frame, not in globals: a second run starts afresh (the
 * kit may call main again in the same process). */
struct server {
  int ep, lfd, paused; /* paused: accept stopped at EMFILE, resumed when a connection closes */
  struct conn conns[kMaxFds];
};

static void drop(struct server* s, int fd);

static void accept_all(struct server* s) {
  s->paused = 0;
  for (;;) {
    int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      s->paused = errno == EMFILE || errno == ENFILE; /* the queue keeps them: no new edge */
      return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.fd = fd};
    if (fd >= kMaxFds || epoll_ctl(s->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
      close(fd);
      continue;
    }
    memset(&s->conns[fd], 0, sizeof s->conns[fd]);
  }
}

/* Reads until EAGAIN or end of file; 0 when the connection is dead. */
static int read_all(int fd, struct conn* c) {
  char buf[kChunk];
  while (!c->eof) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r == 0) {
      c->eof = 1;
    } else if (r > 0) {
      if (c->len + (size_t)r > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : kChunk;
        while (cap < c->len + (size_t)r) cap *= 2;
        char* out = realloc(c->out, cap);
        if (!out) return 0;
        c->out = out;
        c->cap = cap;
      }
      memcpy(c->out + c->len, buf, (size_t)r);
      c->len += (size_t)r;
    } else if (errno != EINTR) {
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
  }
  return 1;
}

/* Writes until done or EAGAIN (EPOLLOUT's next edge brings the rest); 0 when dead. */
static int flush(int fd, struct conn* c) {
  size_t done = 0;
  while (done < c->len) {
    ssize_t w = write(fd, c->out + done, c->len - done);
    if (w > 0) {
      done += (size_t)w;
    } else if (w < 0 && errno != EINTR) {
      if (errno != EAGAIN && errno != EWOULDBLOCK) return 0;
      break;
    }
  }
  if (done > 0 && done < c->len) memmove(c->out, c->out + done, c->len - done);
  c->len -= done;
  return 1;
}

static void serve(struct server* s, int fd) {
  struct conn* c = &s->conns[fd];
  if (!read_all(fd, c) || !flush(fd, c) || (c->eof && c->len == 0)) drop(s, fd);
}

static void drop(struct server* s, int fd) {
  free(s->conns[fd].out);
  memset(&s->conns[fd], 0, sizeof s->conns[fd]);
  close(fd); /* also leaves the epoll set */
  if (s->paused) accept_all(s);
}

int main(int argc, char** argv) {
  struct server server = {0};
  struct server* s = &server;
  signal(SIGPIPE, SIG_IGN); /* a peer that reset: write() says EPIPE, the process lives */
  struct sockaddr_in a = {.sin_family = AF_INET,
                          .sin_port = htons(argc > 1 ? atoi(argv[1]) : kDefaultPort),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  s->ep = epoll_create1(0);
  s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int one = 1;
  setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = s->lfd};
  if (s->ep < 0 || s->lfd < 0 || bind(s->lfd, (struct sockaddr*)&a, sizeof a) != 0 ||
      listen(s->lfd, kBacklog) != 0 || epoll_ctl(s->ep, EPOLL_CTL_ADD, s->lfd, &ev) != 0)
    return 1;
  struct epoll_event evs[kMaxEvents];
  for (;;) {
    int n = epoll_wait(s->ep, evs, kMaxEvents, -1);
    if (n < 0 && errno != EINTR) return 1;
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.fd == s->lfd) accept_all(s);
      else serve(s, evs[i].data.fd);
    }
  }
}
