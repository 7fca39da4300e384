#include "edgecase/strace.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <iterator>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <sys/un.h>

namespace edgecase {

namespace {

struct Named {
  uint64_t value;
  const char* name;
};

// "A|B|0x40" for the bits of `v` named in `names`; "0" when empty.
template <size_t N>
std::string bits_name(uint64_t v, const Named (&names)[N]) {
  std::string out;
  for (const Named& n : names)
    if (n.value && (v & n.value) == n.value) {
      if (!out.empty()) out += '|';
      out += n.name;
      v &= ~n.value;
    }
  if (v) out += fmt::format("{}{:#x}", out.empty() ? "" : "|", v);
  return out.empty() ? "0" : out;
}

template <size_t N>
std::string value_name(uint64_t v, const Named (&names)[N]) {
  for (const Named& n : names)
    if (n.value == v) return n.name;
  return std::to_string(v);
}

constexpr Named kEpollBits[] = {
    {EPOLLIN, "EPOLLIN"},         {EPOLLPRI, "EPOLLPRI"},       {EPOLLOUT, "EPOLLOUT"},
    {EPOLLERR, "EPOLLERR"},       {EPOLLHUP, "EPOLLHUP"},       {EPOLLRDNORM, "EPOLLRDNORM"},
    {EPOLLRDBAND, "EPOLLRDBAND"}, {EPOLLWRNORM, "EPOLLWRNORM"}, {EPOLLWRBAND, "EPOLLWRBAND"},
    {EPOLLMSG, "EPOLLMSG"},       {EPOLLRDHUP, "EPOLLRDHUP"},   {EPOLLEXCLUSIVE, "EPOLLEXCLUSIVE"},
    {EPOLLWAKEUP, "EPOLLWAKEUP"}, {EPOLLONESHOT, "EPOLLONESHOT"}, {EPOLLET, "EPOLLET"}};
constexpr Named kCtlOps[] = {
    {EPOLL_CTL_ADD, "EPOLL_CTL_ADD"}, {EPOLL_CTL_DEL, "EPOLL_CTL_DEL"}, {EPOLL_CTL_MOD, "EPOLL_CTL_MOD"}};
constexpr Named kOpenFlags[] = {{O_NONBLOCK, "O_NONBLOCK"}, {O_CLOEXEC, "O_CLOEXEC"}};
// F_SETFL's argument as strace prints it: the access mode first (a handler passes back what
// F_GETFL returned: O_RDWR|O_NONBLOCK), then the status flags.
constexpr Named kAccessModes[] = {{O_WRONLY, "O_WRONLY"}, {O_RDWR, "O_RDWR"}};
constexpr Named kStatusFlags[] = {{O_APPEND, "O_APPEND"}, {O_ASYNC, "O_ASYNC"},
                                  {O_DIRECT, "O_DIRECT"}, {O_NOATIME, "O_NOATIME"},
                                  {O_NONBLOCK, "O_NONBLOCK"}, {O_CLOEXEC, "O_CLOEXEC"}};
constexpr Named kSockTypeFlags[] = {{SOCK_NONBLOCK, "SOCK_NONBLOCK"}, {SOCK_CLOEXEC, "SOCK_CLOEXEC"}};
constexpr Named kSockTypes[] = {{SOCK_STREAM, "SOCK_STREAM"}, {SOCK_DGRAM, "SOCK_DGRAM"},
                                {SOCK_SEQPACKET, "SOCK_SEQPACKET"}};
constexpr Named kFamilies[] = {{AF_UNIX, "AF_UNIX"}, {AF_INET, "AF_INET"}, {AF_INET6, "AF_INET6"}};
constexpr Named kMsgFlags[] = {{MSG_DONTWAIT, "MSG_DONTWAIT"}, {MSG_PEEK, "MSG_PEEK"},
                               {MSG_NOSIGNAL, "MSG_NOSIGNAL"}, {MSG_MORE, "MSG_MORE"},
                               {MSG_WAITALL, "MSG_WAITALL"}};
constexpr Named kShut[] = {{SHUT_RD, "SHUT_RD"}, {SHUT_WR, "SHUT_WR"}, {SHUT_RDWR, "SHUT_RDWR"}};
constexpr Named kEfdFlags[] = {{EFD_SEMAPHORE, "EFD_SEMAPHORE"}, {EFD_NONBLOCK, "EFD_NONBLOCK"},
                               {EFD_CLOEXEC, "EFD_CLOEXEC"}};
constexpr Named kFcntlCmds[] = {{F_GETFL, "F_GETFL"}, {F_SETFL, "F_SETFL"}, {F_GETFD, "F_GETFD"},
                                {F_SETFD, "F_SETFD"}, {F_DUPFD, "F_DUPFD"},
                                {F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC"}};
constexpr Named kIoctls[] = {{FIONREAD, "FIONREAD"}, {FIONBIO, "FIONBIO"}};
constexpr Named kLevels[] = {{SOL_SOCKET, "SOL_SOCKET"}, {IPPROTO_TCP, "IPPROTO_TCP"}};
constexpr Named kSockOpts[] = {{SO_ERROR, "SO_ERROR"},     {SO_TYPE, "SO_TYPE"},
                               {SO_RCVBUF, "SO_RCVBUF"},   {SO_SNDBUF, "SO_SNDBUF"},
                               {SO_LINGER, "SO_LINGER"},   {SO_REUSEADDR, "SO_REUSEADDR"},
                               {SO_KEEPALIVE, "SO_KEEPALIVE"}, {SO_RCVLOWAT, "SO_RCVLOWAT"},
                               {SO_DOMAIN, "SO_DOMAIN"},   {SO_ACCEPTCONN, "SO_ACCEPTCONN"}};
constexpr Named kClocks[] = {{CLOCK_REALTIME, "CLOCK_REALTIME"},
                             {CLOCK_MONOTONIC, "CLOCK_MONOTONIC"},
                             {CLOCK_PROCESS_CPUTIME_ID, "CLOCK_PROCESS_CPUTIME_ID"},
                             {CLOCK_THREAD_CPUTIME_ID, "CLOCK_THREAD_CPUTIME_ID"},
                             {CLOCK_MONOTONIC_RAW, "CLOCK_MONOTONIC_RAW"},
                             {CLOCK_REALTIME_COARSE, "CLOCK_REALTIME_COARSE"},
                             {CLOCK_MONOTONIC_COARSE, "CLOCK_MONOTONIC_COARSE"},
                             {CLOCK_BOOTTIME, "CLOCK_BOOTTIME"},
                             {CLOCK_REALTIME_ALARM, "CLOCK_REALTIME_ALARM"},
                             {CLOCK_BOOTTIME_ALARM, "CLOCK_BOOTTIME_ALARM"},
                             {CLOCK_TAI, "CLOCK_TAI"}};
constexpr Named kTfdFlags[] = {{TFD_CLOEXEC, "TFD_CLOEXEC"}, {TFD_NONBLOCK, "TFD_NONBLOCK"}};
constexpr Named kTfdSettimeFlags[] = {{TFD_TIMER_ABSTIME, "TFD_TIMER_ABSTIME"},
                                      {TFD_TIMER_CANCEL_ON_SET, "TFD_TIMER_CANCEL_ON_SET"}};
constexpr Named kPollBits[] = {
    {POLLIN, "POLLIN"},         {POLLPRI, "POLLPRI"},       {POLLOUT, "POLLOUT"},
    {POLLERR, "POLLERR"},       {POLLHUP, "POLLHUP"},       {POLLNVAL, "POLLNVAL"},
    {POLLRDNORM, "POLLRDNORM"}, {POLLRDBAND, "POLLRDBAND"}, {POLLWRNORM, "POLLWRNORM"},
    {POLLWRBAND, "POLLWRBAND"}, {POLLMSG, "POLLMSG"},       {POLLRDHUP, "POLLRDHUP"}};
// strace abbreviates arrays after as many elements as its string limit (-s, 32 by default).
constexpr nfds_t kMaxPollfdsShown = 32;

// {it_interval={tv_sec=0, tv_nsec=0}, it_value={tv_sec=1, tv_nsec=500000000}}
std::string itimerspec_name(const struct itimerspec& t) {
  return fmt::format("{{it_interval={{tv_sec={}, tv_nsec={}}}, it_value={{tv_sec={}, tv_nsec={}}}}}",
                     t.it_interval.tv_sec, t.it_interval.tv_nsec, t.it_value.tv_sec,
                     t.it_value.tv_nsec);
}

// poll's array as strace shows it: before the call ("events") or the ready entries after it
// ("revents").
std::string pollfds_name(const struct pollfd* fds, nfds_t nfds, bool revents) {
  if (fds == nullptr) return "NULL";
  std::string out = "[";
  nfds_t shown = 0;
  for (nfds_t i = 0; i < nfds; ++i) {
    if (revents && fds[i].revents == 0) continue;
    if (shown == kMaxPollfdsShown) {
      out += ", ...";
      break;
    }
    const short bits = revents ? fds[i].revents : fds[i].events;
    out += fmt::format("{}{{fd={}, {}={}}}", shown ? ", " : "", fds[i].fd,
                       revents ? "revents" : "events",
                       bits_name(static_cast<uint16_t>(bits), kPollBits));
    ++shown;
  }
  return out + "]";
}

std::string socktype_name(int type) {
  std::string s = value_name(static_cast<uint64_t>(type & 0xf), kSockTypes);
  // Appended in two steps: `"|" + string` trips GCC 12's -Wrestrict false positive at -O3.
  if (type & ~0xf) (s += '|') += bits_name(static_cast<uint64_t>(type & ~0xf), kSockTypeFlags);
  return s;
}

std::string event_name(const epoll_event& e) {
  // epoll_event is packed on x86-64: fmt takes its arguments by reference, and a reference to
  // the misaligned data.u64 is undefined behaviour (clang's UBSan, found by fuzz_seed002).
  const uint64_t data = e.data.u64;
  return fmt::format("{{events={}, data.u64={}}}", epoll_events_name(e.events), data);
}

std::string sockaddr_name(const sockaddr* a, socklen_t len) {
  if (a == nullptr) return "NULL";
  if (len >= sizeof(sockaddr_in) && a->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, a, sizeof in);
    char ip[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &in.sin_addr, ip, sizeof ip);
    return fmt::format("{{sa_family=AF_INET, sin_port=htons({}), sin_addr=inet_addr(\"{}\")}}",
                       ntohs(in.sin_port), ip);
  }
  if (len >= sizeof(sa_family_t))
    return fmt::format("{{sa_family={}}}", value_name(a->sa_family, kFamilies));
  return "{...}";
}

std::string file_flags_name(long flags) {
  const auto v = static_cast<uint64_t>(flags);
  const uint64_t mode = v & O_ACCMODE;
  const uint64_t rest = v & ~static_cast<uint64_t>(O_ACCMODE);
  if (mode == 0) return bits_name(rest, kStatusFlags);
  std::string out = value_name(mode, kAccessModes);
  if (rest) (out += '|') += bits_name(rest, kStatusFlags);
  return out;
}

}  // namespace

std::string epoll_events_name(uint32_t events) { return bits_name(events, kEpollBits); }

std::string errno_name(int err) {
  const char* n = strerrorname_np(err);
  return n ? n : std::to_string(err);
}

std::string quote_bytes(const void* data, size_t len, size_t limit) {
  if (data == nullptr) return "NULL";
  const auto* p = static_cast<const unsigned char*>(data);
  std::string out = "\"";
  for (size_t i = 0; i < len && i < limit; ++i) {
    unsigned char c = p[i];
    switch (c) {
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
        else out += fmt::format("\\{:o}", c);
    }
  }
  out += '"';
  if (len > limit) out += "...";
  return out;
}

TracingKernel::TracingKernel(Kernel& inner, std::function<void(const std::string&)> sink)
    : inner_(inner), sink_(std::move(sink)) {}

template <class R>
R TracingKernel::done(std::string call, R r) {
  int saved = errno;
  if (r < 0)
    call += fmt::format(" = -1 {} ({})", errno_name(saved), std::strerror(saved));
  else
    fmt::format_to(std::back_inserter(call), FMT_COMPILE(" = {}"), r);  // every read and write
  sink_(call);
  errno = saved;  // the caller sees the errno of the call, not of the tracing
  return r;
}

int TracingKernel::epoll_create1(int flags) {
  return done(fmt::format("epoll_create1({})", flags ? "EPOLL_CLOEXEC" : "0"),
              inner_.epoll_create1(flags));
}
int TracingKernel::epoll_create(int size) {
  return done(fmt::format("epoll_create({})", size), inner_.epoll_create(size));
}
int TracingKernel::epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  std::string ev = event ? event_name(*event) : "NULL";
  return done(fmt::format("epoll_ctl({}, {}, {}, {})", epfd, value_name(static_cast<uint64_t>(op), kCtlOps), fd, ev),
              inner_.epoll_ctl(epfd, op, fd, event));
}

static std::string events_out(const epoll_event* events, int n) {
  if (n < 0) return events ? "0x..." : "NULL";
  std::string out = "[";
  for (int i = 0; i < n; ++i) out += (i ? ", " : "") + event_name(events[i]);
  return out + "]";
}

int TracingKernel::epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) {
  int r = inner_.epoll_wait(epfd, events, maxevents, timeout);
  int saved = errno;
  std::string line = fmt::format("epoll_wait({}, {}, {}, {})", epfd, events_out(events, r), maxevents, timeout);
  errno = saved;
  return done(std::move(line), r);
}
int TracingKernel::epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout,
                               const sigset_t* sigmask) {
  int r = inner_.epoll_pwait(epfd, events, maxevents, timeout, sigmask);
  int saved = errno;
  std::string line = fmt::format("epoll_pwait({}, {}, {}, {}, {})", epfd, events_out(events, r), maxevents,
                                 timeout, sigmask ? "[...]" : "NULL");
  errno = saved;
  return done(std::move(line), r);
}
int TracingKernel::socket(int domain, int type, int protocol) {
  return done(fmt::format("socket({}, {}, {})", value_name(static_cast<uint64_t>(domain), kFamilies),
                          socktype_name(type), protocol),
              inner_.socket(domain, type, protocol));
}
int TracingKernel::bind(int sockfd, const struct sockaddr* addr, socklen_t addrlen) {
  return done(fmt::format("bind({}, {}, {})", sockfd, sockaddr_name(addr, addrlen), addrlen),
              inner_.bind(sockfd, addr, addrlen));
}
int TracingKernel::listen(int sockfd, int backlog) {
  return done(fmt::format("listen({}, {})", sockfd, backlog), inner_.listen(sockfd, backlog));
}
int TracingKernel::accept4(int sockfd, struct sockaddr* addr, socklen_t* addrlen, int flags) {
  int r = inner_.accept4(sockfd, addr, addrlen, flags);
  int saved = errno;
  std::string a = addr && addrlen && r >= 0 ? sockaddr_name(addr, *addrlen) : (addr ? "0x..." : "NULL");
  std::string line = fmt::format("accept4({}, {}, {}, {})", sockfd, a, addrlen ? "[...]" : "NULL",
                                 bits_name(static_cast<uint64_t>(flags), kSockTypeFlags));
  errno = saved;
  return done(std::move(line), r);
}
int TracingKernel::connect(int sockfd, const struct sockaddr* addr, socklen_t addrlen) {
  return done(fmt::format("connect({}, {}, {})", sockfd, sockaddr_name(addr, addrlen), addrlen),
              inner_.connect(sockfd, addr, addrlen));
}
int TracingKernel::shutdown(int sockfd, int how) {
  return done(fmt::format("shutdown({}, {})", sockfd, value_name(static_cast<uint64_t>(how), kShut)),
              inner_.shutdown(sockfd, how));
}
ssize_t TracingKernel::recv(int sockfd, void* buf, size_t len, int flags) {
  ssize_t r = inner_.recv(sockfd, buf, len, flags);
  int saved = errno;
  std::string b = r > 0 ? quote_bytes(buf, static_cast<size_t>(r)) : (buf ? "\"\"" : "NULL");
  std::string line = fmt::format("recvfrom({}, {}, {}, {}, NULL, NULL)", sockfd, b, len,
                                 bits_name(static_cast<uint64_t>(flags), kMsgFlags));
  errno = saved;
  return done(std::move(line), r);
}
ssize_t TracingKernel::send(int sockfd, const void* buf, size_t len, int flags) {
  return done(fmt::format("sendto({}, {}, {}, {}, NULL, 0)", sockfd, quote_bytes(buf, len), len,
                          bits_name(static_cast<uint64_t>(flags), kMsgFlags)),
              inner_.send(sockfd, buf, len, flags));
}
int TracingKernel::socketpair(int domain, int type, int protocol, int sv[2]) {
  int r = inner_.socketpair(domain, type, protocol, sv);
  int saved = errno;
  std::string fds = r == 0 ? fmt::format("[{}, {}]", sv[0], sv[1]) : (sv ? "0x..." : "NULL");
  std::string line = fmt::format("socketpair({}, {}, {}, {})", value_name(static_cast<uint64_t>(domain), kFamilies),
                                 socktype_name(type), protocol, fds);
  errno = saved;
  return done(std::move(line), r);
}
int TracingKernel::setsockopt(int sockfd, int level, int optname, const void* optval,
                              socklen_t optlen) {
  std::string v = "NULL";
  if (optval && optlen == sizeof(int)) {
    int x;
    std::memcpy(&x, optval, sizeof x);
    v = fmt::format("[{}]", x);
  } else if (optval && optname == SO_LINGER && optlen >= sizeof(linger)) {
    linger l;
    std::memcpy(&l, optval, sizeof l);
    v = fmt::format("{{l_onoff={}, l_linger={}}}", l.l_onoff, l.l_linger);
  } else if (optval) {
    v = "0x...";
  }
  return done(fmt::format("setsockopt({}, {}, {}, {}, {})", sockfd, value_name(static_cast<uint64_t>(level), kLevels),
                          optname == TCP_NODELAY && level == IPPROTO_TCP ? "TCP_NODELAY" : value_name(static_cast<uint64_t>(optname), kSockOpts),
                          v, optlen),
              inner_.setsockopt(sockfd, level, optname, optval, optlen));
}
int TracingKernel::getsockopt(int sockfd, int level, int optname, void* optval, socklen_t* optlen) {
  int r = inner_.getsockopt(sockfd, level, optname, optval, optlen);
  int saved = errno;
  std::string v = "0x...";
  if (r == 0 && optval && optlen && *optlen == sizeof(int)) {
    int x;
    std::memcpy(&x, optval, sizeof x);
    v = fmt::format("[{}]", x);
  }
  std::string line = fmt::format("getsockopt({}, {}, {}, {}, [{}])", sockfd, value_name(static_cast<uint64_t>(level), kLevels),
                                 level == IPPROTO_TCP && optname == TCP_NODELAY ? "TCP_NODELAY" : value_name(static_cast<uint64_t>(optname), kSockOpts),
                                 v, optlen ? std::to_string(*optlen) : "NULL");
  errno = saved;
  return done(std::move(line), r);
}
int TracingKernel::getsockname(int sockfd, struct sockaddr* addr, socklen_t* addrlen) {
  int r = inner_.getsockname(sockfd, addr, addrlen);
  int saved = errno;
  std::string line = fmt::format("getsockname({}, {}, [{}])", sockfd,
                                 r == 0 && addrlen ? sockaddr_name(addr, *addrlen) : "0x...",
                                 addrlen ? std::to_string(*addrlen) : "NULL");
  errno = saved;
  return done(std::move(line), r);
}
int TracingKernel::getpeername(int sockfd, struct sockaddr* addr, socklen_t* addrlen) {
  int r = inner_.getpeername(sockfd, addr, addrlen);
  int saved = errno;
  std::string line = fmt::format("getpeername({}, {}, [{}])", sockfd,
                                 r == 0 && addrlen ? sockaddr_name(addr, *addrlen) : "0x...",
                                 addrlen ? std::to_string(*addrlen) : "NULL");
  errno = saved;
  return done(std::move(line), r);
}
ssize_t TracingKernel::read(int fd, void* buf, size_t count) {
  ssize_t r = inner_.read(fd, buf, count);
  int saved = errno;
  std::string b = r > 0 ? quote_bytes(buf, static_cast<size_t>(r)) : (buf ? "\"\"" : "NULL");
  std::string line = fmt::format(FMT_COMPILE("read({}, {}, {})"), fd, b, count);
  errno = saved;
  return done(std::move(line), r);
}
ssize_t TracingKernel::write(int fd, const void* buf, size_t count) {
  return done(fmt::format(FMT_COMPILE("write({}, {}, {})"), fd, quote_bytes(buf, count), count),
              inner_.write(fd, buf, count));
}
ssize_t TracingKernel::readv(int fd, const struct iovec* iov, int iovcnt) {
  return done(fmt::format("readv({}, [...], {})", fd, iovcnt), inner_.readv(fd, iov, iovcnt));
}
ssize_t TracingKernel::writev(int fd, const struct iovec* iov, int iovcnt) {
  return done(fmt::format("writev({}, [...], {})", fd, iovcnt), inner_.writev(fd, iov, iovcnt));
}
int TracingKernel::close(int fd) { return done(fmt::format("close({})", fd), inner_.close(fd)); }
int TracingKernel::dup(int oldfd) { return done(fmt::format("dup({})", oldfd), inner_.dup(oldfd)); }
int TracingKernel::dup2(int oldfd, int newfd) {
  return done(fmt::format("dup2({}, {})", oldfd, newfd), inner_.dup2(oldfd, newfd));
}
int TracingKernel::pipe2(int pipefd[2], int flags) {
  int r = inner_.pipe2(pipefd, flags);
  int saved = errno;
  std::string fds = r == 0 ? fmt::format("[{}, {}]", pipefd[0], pipefd[1]) : (pipefd ? "0x..." : "NULL");
  std::string line = fmt::format("pipe2({}, {})", fds, bits_name(static_cast<uint64_t>(flags), kOpenFlags));
  errno = saved;
  return done(std::move(line), r);
}
int TracingKernel::eventfd(unsigned int initval, int flags) {
  return done(fmt::format("eventfd2({}, {})", initval, bits_name(static_cast<uint64_t>(flags), kEfdFlags)),
              inner_.eventfd(initval, flags));
}
int TracingKernel::fcntl(int fd, int cmd, long arg) {
  std::string a;
  if (cmd == F_SETFL) a = ", " + file_flags_name(arg);
  else if (cmd == F_SETFD) a = arg & FD_CLOEXEC ? ", FD_CLOEXEC" : ", 0";
  else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) a = fmt::format(", {}", arg);
  return done(fmt::format("fcntl({}, {}{})", fd, value_name(static_cast<uint64_t>(cmd), kFcntlCmds), a),
              inner_.fcntl(fd, cmd, arg));
}
int TracingKernel::ioctl(int fd, unsigned long request, int* arg) {
  int r = inner_.ioctl(fd, request, arg);
  int saved = errno;
  std::string a = arg ? fmt::format("[{}]", *arg) : "NULL";
  std::string line = fmt::format("ioctl({}, {}, {})", fd, value_name(request, kIoctls), a);
  errno = saved;
  return done(std::move(line), r);
}
int TracingKernel::clock_gettime(clockid_t clockid, struct timespec* tp) {
  return done(fmt::format("clock_gettime({}, ...)", value_name(static_cast<uint64_t>(clockid), kClocks)),
              inner_.clock_gettime(clockid, tp));
}
int TracingKernel::timerfd_create(int clockid, int flags) {
  return done(fmt::format("timerfd_create({}, {})", value_name(static_cast<uint64_t>(clockid), kClocks),
                          bits_name(static_cast<uint64_t>(flags), kTfdFlags)),
              inner_.timerfd_create(clockid, flags));
}
int TracingKernel::timerfd_settime(int fd, int flags, const struct itimerspec* new_value,
                                   struct itimerspec* old_value) {
  const int r = inner_.timerfd_settime(fd, flags, new_value, old_value);
  const int saved = errno;
  std::string old = old_value == nullptr ? "NULL" : r == 0 ? itimerspec_name(*old_value) : "0x...";
  std::string line = fmt::format("timerfd_settime({}, {}, {}, {})", fd,
                                 bits_name(static_cast<uint64_t>(flags), kTfdSettimeFlags),
                                 new_value ? itimerspec_name(*new_value) : "NULL", old);
  errno = saved;
  return done(std::move(line), r);
}
int TracingKernel::timerfd_gettime(int fd, struct itimerspec* curr_value) {
  const int r = inner_.timerfd_gettime(fd, curr_value);
  const int saved = errno;
  std::string cur = curr_value == nullptr ? "NULL" : r == 0 ? itimerspec_name(*curr_value) : "0x...";
  std::string line = fmt::format("timerfd_gettime({}, {})", fd, cur);
  errno = saved;
  return done(std::move(line), r);
}
// poll([{fd=3, events=POLLIN}], 1, 100) = 1 ([{fd=3, revents=POLLIN}]), or = 0 (Timeout).
int TracingKernel::poll(struct pollfd* fds, nfds_t nfds, int timeout) {
  const int r = inner_.poll(fds, nfds, timeout);
  const int saved = errno;
  std::string line = fmt::format("poll({}, {}, {})", pollfds_name(fds, nfds, false), nfds, timeout);
  if (r < 0) {
    errno = saved;
    return done(std::move(line), r);
  }
  line += r == 0 ? " = 0 (Timeout)"
                 : fmt::format(" = {} ({})", r, pollfds_name(fds, nfds, true));
  sink_(line);
  errno = saved;
  return r;
}

}  // namespace edgecase
