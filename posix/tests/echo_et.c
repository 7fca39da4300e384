/* A correct edge-triggered echo server in plain C against libc, for `edgecase check --so`
 * (tests/cli/check_so_test.sh): the clean counterpart of seed 002 through the interposition
 * layer. It mirrors the kit's reference echo server (handlers/echo.cc) call for call: every
 * edge is drained to EAGAIN (accept4 and read), a short write keeps the rest for the next
 * EPOLLOUT edge, a peer's shutdown is answered once everything read was written back, EMFILE
 * pauses accepting until a connection closes, and SIGPIPE is ignored (a peer may reset).
 * argv[1], when given, is the port (default 7000, the kit's default). */
#define _GNU_SOURCE /* accept4 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum {
  kDefaultPort = 7000,
  kBacklog = 128,
  kMaxEvents = 64,
  kReadChunk = 16 * 1024,
  kMaxFds = 4096, /* connections on higher fds are closed at once: far beyond any case */
};

struct conn {
  char* out;      /* out[head..len) was read and not yet written back */
  size_t len, cap, head;
  int eof;        /* the peer shut down its write side */
};

/* The server's state lives on its entry's stack, not in globals: the kit runs many cases in
 * one process, and a run ends by unwinding out of the entry (edgecase::Stop), so a global
 * would carry one run's connections into the next. */
struct server {
  int epfd, lfd, accept_paused;
  struct conn* conns[kMaxFds];
};

static int add(struct server* s, int fd, unsigned events) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = events;
  ev.data.fd = fd;
  return epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void accept_all(struct server* s);

static void close_conn(struct server* s, int fd) {
  free(s->conns[fd]->out);
  free(s->conns[fd]);
  s->conns[fd] = NULL;
  close(fd);
  if (s->accept_paused) accept_all(s);
}

/* Accepts to EAGAIN: with ET, connections left queued get no new edge. */
static void accept_all(struct server* s) {
  s->accept_paused = 0;
  for (;;) {
    int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      if (fd >= kMaxFds || (s->conns[fd] = calloc(1, sizeof(struct conn))) == NULL ||
          add(s, fd, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) != 0) {
        if (fd < kMaxFds && s->conns[fd]) close_conn(s, fd);
        else close(fd);
      }
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    /* Out of fds: accept again as soon as a connection closes. */
    if (errno == EMFILE || errno == ENFILE) s->accept_paused = 1;
    return;
  }
}

/* Reads to EAGAIN; 0 when the connection is dead. */
static int read_all(int fd, struct conn* c) {
  while (!c->eof) {
    if (c->cap - c->len < kReadChunk) {
      size_t cap = c->cap * 2 + kReadChunk;
      char* out = realloc(c->out, cap);
      if (out == NULL) return 0;
      c->out = out;
      c->cap = cap;
    }
    ssize_t r = read(fd, c->out + c->len, kReadChunk);
    if (r > 0) c->len += (size_t)r;
    else if (r == 0) c->eof = 1;
    else if (errno == EINTR) continue;
    else return errno == EAGAIN;
  }
  return 1;
}

/* Writes until nothing is left or EAGAIN (the EPOLLOUT edge comes back); 0 when dead. */
static int flush(int fd, struct conn* c) {
  while (c->head < c->len) {
    ssize_t w = write(fd, c->out + c->head, c->len - c->head);
    if (w > 0) c->head += (size_t)w;
    else if (w < 0 && errno == EINTR) continue;
    else return w < 0 && errno == EAGAIN;
  }
  c->head = c->len = 0;
  return 1;
}

static void serve(struct server* s, int fd) {
  struct conn* c = fd >= 0 && fd < kMaxFds ? s->conns[fd] : NULL;
  if (c == NULL) return;
  if (!read_all(fd, c) || !flush(fd, c) || (c->eof && c->head == c->len)) close_conn(s, fd);
}

int echo_et_main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : kDefaultPort;
  struct sockaddr_in a;
  int one = 1;
  struct server srv;
  struct server* s = &srv;
  memset(s, 0, sizeof srv);
  signal(SIGPIPE, SIG_IGN);
  s->epfd = epoll_create1(EPOLL_CLOEXEC);
  s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (s->epfd < 0 || s->lfd < 0 ||
      setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(s->lfd, (struct sockaddr*)&a, sizeof a) != 0 || listen(s->lfd, kBacklog) != 0 ||
      add(s, s->lfd, EPOLLIN | EPOLLET) != 0)
    return 1;
  for (;;) {
    struct epoll_event evs[kMaxEvents];
    int n = epoll_wait(s->epfd, evs, kMaxEvents, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int i = 0; i < n; ++i) {
      if (evs[i].data.fd == s->lfd) accept_all(s);
      else serve(s, evs[i].data.fd);
    }
  }
}
