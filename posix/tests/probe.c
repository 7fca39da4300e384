/* Handler code for posix_tests: each probe makes one libc call, as an unmodified handler
   would, so that edgecase_add_handler's --wrap routes it (posix/wrap.list). Plain C, compiled
   like any user's C: not the kit's code. */
#define _GNU_SOURCE
#undef NDEBUG /* probe_assert needs assert() in every build type */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int probe_archive_pipe(int fds[2]); /* probe_archive.c, in a static archive */
int probe_pipe_in_archive(int fds[2]) { return probe_archive_pipe(fds); }

int probe_epoll_create(int size) { return epoll_create(size); }
int probe_epoll_create1(int flags) { return epoll_create1(flags); }
int probe_epoll_ctl(int epfd, int op, int fd, struct epoll_event* ev) { return epoll_ctl(epfd, op, fd, ev); }
int probe_epoll_wait(int epfd, struct epoll_event* ev, int n, int timeout) { return epoll_wait(epfd, ev, n, timeout); }
int probe_epoll_pwait(int epfd, struct epoll_event* ev, int n, int timeout) { return epoll_pwait(epfd, ev, n, timeout, NULL); }
int probe_socket(int domain, int type, int protocol) { return socket(domain, type, protocol); }
int probe_socketpair(int domain, int type, int protocol, int sv[2]) { return socketpair(domain, type, protocol, sv); }
int probe_bind(int fd, const struct sockaddr* a, socklen_t len) { return bind(fd, a, len); }
int probe_listen(int fd, int backlog) { return listen(fd, backlog); }
int probe_accept(int fd) { return accept(fd, NULL, NULL); }
int probe_accept4(int fd, int flags) { return accept4(fd, NULL, NULL, flags); }
int probe_connect(int fd, const struct sockaddr* a, socklen_t len) { return connect(fd, a, len); }
int probe_shutdown(int fd, int how) { return shutdown(fd, how); }
ssize_t probe_recv(int fd, void* buf, size_t len, int flags) { return recv(fd, buf, len, flags); }
ssize_t probe_send(int fd, const void* buf, size_t len, int flags) { return send(fd, buf, len, flags); }
ssize_t probe_recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* a, socklen_t* alen) { return recvfrom(fd, buf, len, flags, a, alen); }
ssize_t probe_sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* a, socklen_t alen) { return sendto(fd, buf, len, flags, a, alen); }
ssize_t probe_recvmsg(int fd, struct msghdr* m, int flags) { return recvmsg(fd, m, flags); }
ssize_t probe_sendmsg(int fd, const struct msghdr* m, int flags) { return sendmsg(fd, m, flags); }
int probe_setsockopt(int fd, int level, int name, const void* v, socklen_t len) { return setsockopt(fd, level, name, v, len); }
int probe_getsockopt(int fd, int level, int name, void* v, socklen_t* len) { return getsockopt(fd, level, name, v, len); }
int probe_getsockname(int fd, struct sockaddr* a, socklen_t* len) { return getsockname(fd, a, len); }
int probe_getpeername(int fd, struct sockaddr* a, socklen_t* len) { return getpeername(fd, a, len); }
ssize_t probe_read(int fd, void* buf, size_t n) { return read(fd, buf, n); }
ssize_t probe_write(int fd, const void* buf, size_t n) { return write(fd, buf, n); }
ssize_t probe_readv(int fd, const struct iovec* iov, int n) { return readv(fd, iov, n); }
ssize_t probe_writev(int fd, const struct iovec* iov, int n) { return writev(fd, iov, n); }
int probe_close(int fd) { return close(fd); }
int probe_dup(int fd) { return dup(fd); }
int probe_dup2(int oldfd, int newfd) { return dup2(oldfd, newfd); }
int probe_dup3(int oldfd, int newfd, int flags) { return dup3(oldfd, newfd, flags); }
int probe_pipe(int fds[2]) { return pipe(fds); }
int probe_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
int probe_eventfd(unsigned int v, int flags) { return eventfd(v, flags); }
int probe_fcntl(int fd, int cmd, long arg) { return fcntl(fd, cmd, arg); }
int probe_ioctl(int fd, unsigned long request, int* arg) { return ioctl(fd, request, arg); }
int probe_timerfd_create(int clockid, int flags) { return timerfd_create(clockid, flags); }
int probe_timerfd_settime(int fd, int flags, const struct itimerspec* v, struct itimerspec* old) { return timerfd_settime(fd, flags, v, old); }
int probe_timerfd_gettime(int fd, struct itimerspec* v) { return timerfd_gettime(fd, v); }
int probe_poll(struct pollfd* fds, unsigned long n, int timeout) { return poll(fds, n, timeout); }
int probe_clock_getres(clockid_t id, struct timespec* res) { return clock_getres(id, res); }
int probe_nanosleep(const struct timespec* req, struct timespec* rem) { return nanosleep(req, rem); }
unsigned int probe_sleep(unsigned int seconds) { return sleep(seconds); }
int probe_usleep(unsigned int usec) { return usleep(usec); }
int probe_getrlimit(int resource, struct rlimit* r) { return getrlimit(resource, r); }
int probe_setrlimit(int resource, const struct rlimit* r) { return setrlimit(resource, r); }
int probe_prlimit(int pid, int resource, const struct rlimit* new_limit, struct rlimit* old) { return prlimit(pid, resource, new_limit, old); }
int probe_clock_gettime(clockid_t id, struct timespec* tp) { return clock_gettime(id, tp); }
int probe_gettimeofday(struct timeval* tv) { return gettimeofday(tv, NULL); }
long probe_time(void) { return (long)time(NULL); }
int probe_open(const char* path, int flags) { return open(path, flags); }
int probe_openat(const char* path, int flags) { return openat(AT_FDCWD, path, flags); }
long probe_syscall_close(int fd) { return syscall(SYS_close, fd); }
int probe_sigpipe_ignore(void) { return signal(SIGPIPE, SIG_IGN) == SIG_ERR ? -1 : 0; }
int probe_sigpipe_block(void) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGPIPE);
  return sigprocmask(SIG_BLOCK, &s, NULL);
}
static int probe_sigpipe_seen;
static void on_sigpipe(int sig) { probe_sigpipe_seen = sig; }
int probe_sigpipe_catch(void) {
  struct sigaction a;
  memset(&a, 0, sizeof a);
  a.sa_handler = on_sigpipe;
  probe_sigpipe_seen = 0;
  return sigaction(SIGPIPE, &a, NULL);
}
int probe_sigpipe_caught(void) { return probe_sigpipe_seen; }
static void* probe_thread_body(void* arg) { return arg; }
int probe_pthread_create(void) {
  pthread_t t;
  int e = pthread_create(&t, NULL, probe_thread_body, NULL);
  if (e == 0) pthread_join(t, NULL);
  return e;
}
void probe_exit(int status) { exit(status); }
void probe__exit(int status) { _exit(status); }
void probe_abort(void) { abort(); }
void probe_assert(int ok) { assert(ok); }
int probe_stdio(void) {
  int n = printf("printf %d\n", 1);
  puts("puts");
  putchar('c');
  fputs("fputs\n", stdout);
  fprintf(stderr, "fprintf %s\n", "err");
  fprintf(stderr, "constant\n"); /* the compiler makes it an fwrite */
  fflush(stdout);
  errno = EBADF;
  perror("perror");
  write(1, "write\n", 6);
  return n;
}

/* The entry point: a tiny handler that logs, then ends as argv[1] says (exit, abort, segv). */
int probe_main(int argc, char** argv) {
  printf("probe_main %d\n", argc);
  if (argc > 1 && strcmp(argv[1], "exit") == 0) exit(7);
  if (argc > 1 && strcmp(argv[1], "abort") == 0) abort();
  /* A real crash, which no wrapper sees: `edgecase check --so` must survive it (its runs are
   * isolated in a child process) and report handler-crashed. */
  if (argc > 1 && strcmp(argv[1], "segv") == 0) *(volatile int*)0 = 1;
  return 0;
}
