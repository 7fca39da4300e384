// The probes of probe.c: handler code, linked with --wrap (edgecase_add_handler posix_probe).
#pragma once

#include <cstddef>
#include <ctime>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/uio.h>

extern "C" {
int probe_pipe_in_archive(int fds[2]);
int probe_epoll_create(int size);
int probe_epoll_create1(int flags);
int probe_epoll_ctl(int epfd, int op, int fd, struct epoll_event* ev);
int probe_epoll_wait(int epfd, struct epoll_event* ev, int n, int timeout);
int probe_epoll_pwait(int epfd, struct epoll_event* ev, int n, int timeout);
int probe_socket(int domain, int type, int protocol);
int probe_socketpair(int domain, int type, int protocol, int sv[2]);
int probe_bind(int fd, const struct sockaddr* a, socklen_t len);
int probe_listen(int fd, int backlog);
int probe_accept(int fd);
int probe_accept4(int fd, int flags);
int probe_connect(int fd, const struct sockaddr* a, socklen_t len);
int probe_shutdown(int fd, int how);
ssize_t probe_recv(int fd, void* buf, size_t len, int flags);
ssize_t probe_send(int fd, const void* buf, size_t len, int flags);
ssize_t probe_recvfrom(int fd, void* buf, size_t len, int flags, struct sockaddr* a, socklen_t* alen);
ssize_t probe_sendto(int fd, const void* buf, size_t len, int flags, const struct sockaddr* a, socklen_t alen);
ssize_t probe_recvmsg(int fd, struct msghdr* m, int flags);
ssize_t probe_sendmsg(int fd, const struct msghdr* m, int flags);
int probe_setsockopt(int fd, int level, int name, const void* v, socklen_t len);
int probe_getsockopt(int fd, int level, int name, void* v, socklen_t* len);
int probe_getsockname(int fd, struct sockaddr* a, socklen_t* len);
int probe_getpeername(int fd, struct sockaddr* a, socklen_t* len);
ssize_t probe_read(int fd, void* buf, size_t n);
ssize_t probe_write(int fd, const void* buf, size_t n);
ssize_t probe_readv(int fd, const struct iovec* iov, int n);
ssize_t probe_writev(int fd, const struct iovec* iov, int n);
int probe_close(int fd);
int probe_dup(int fd);
int probe_dup2(int oldfd, int newfd);
int probe_dup3(int oldfd, int newfd, int flags);
int probe_pipe(int fds[2]);
int probe_pipe2(int fds[2], int flags);
int probe_eventfd(unsigned int v, int flags);
int probe_fcntl(int fd, int cmd, long arg);
int probe_ioctl(int fd, unsigned long request, int* arg);
int probe_timerfd_create(int clockid, int flags);
int probe_timerfd_settime(int fd, int flags, const struct itimerspec* v, struct itimerspec* old);
int probe_timerfd_gettime(int fd, struct itimerspec* v);
int probe_poll(struct pollfd* fds, unsigned long n, int timeout);
int probe_clock_getres(clockid_t id, struct timespec* res);
int probe_nanosleep(const struct timespec* req, struct timespec* rem);
unsigned int probe_sleep(unsigned int seconds);
int probe_usleep(unsigned int usec);
int probe_getrlimit(int resource, struct rlimit* r);
int probe_setrlimit(int resource, const struct rlimit* r);
int probe_prlimit(int pid, int resource, const struct rlimit* new_limit, struct rlimit* old);
int probe_clock_gettime(clockid_t id, struct timespec* tp);
int probe_gettimeofday(struct timeval* tv);
long probe_time(void);
int probe_open(const char* path, int flags);
int probe_openat(const char* path, int flags);
long probe_syscall_close(int fd);
int probe_sigpipe_ignore(void);
int probe_sigpipe_block(void);
int probe_sigpipe_catch(void);
int probe_sigpipe_caught(void);
int probe_pthread_create(void);
// pthread_atfork(NULL, NULL, child); probe_atfork_ran: whether that child callback ran.
int probe_pthread_atfork(void);
int probe_atfork_ran(void);
void probe_exit(int status);
void probe__exit(int status);
void probe_abort(void);
void probe_assert(int ok);
int probe_stdio(void);
int edgecase_entry_posix_probe(int argc, char** argv);
}
