#include "edgecase/strace.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <iterator>
#include <type_traits>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
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
  return fmt::format(
      "{{it_interval={{tv_sec={}, tv_nsec={}}}, it_value={{tv_sec={}, tv_nsec={}}}}}",
      t.it_interval.tv_sec, t.it_interval.tv_nsec, t.it_value.tv_sec, t.it_value.tv_nsec);
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

std::string event_name(const epoll_event& e, DataNames& names) {
  // epoll_event is packed on x86-64: fmt takes its arguments by reference, and a reference to
  // the misaligned data.u64 is undefined behaviour (clang's UBSan, found by fuzz_seed002).
  const uint64_t data = e.data.u64;
  return fmt::format("{{events={}, {}}}", epoll_events_name(e.events), names.field(data));
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

std::string DataNames::text(uint64_t v) {
  // Numbers are not kept: an echo handler's trace (every event an fd) adds nothing to the map.
  if (v < kAddressLow) return std::to_string(v);
  const auto it = texts_.find(v);
  if (it != texts_.end()) return it->second;
  const auto upper = static_cast<uint32_t>(v >> 32);
  const uint64_t lower = v & 0xffffffffu;
  const auto half = upper_halves_.find(upper);
  if (lower < kStaleLowEnd) {
    // An fd in the lower half. Over a named pointer's upper half: data.fd written over
    // data.ptr. Over any other: data.fd written into an epoll_event never zeroed, whose upper
    // half is what the stack held (a canary, an old return address, or zero: it differs
    // between processes and builds), so it is left out.
    if (half == upper_halves_.end()) return std::to_string(lower);
    return texts_.emplace(v, fmt::format("hi32(ptr#{})|{}", half->second, lower)).first->second;
  }
  if (v >= kUserSpaceEnd) return std::to_string(v);  // never a user address
  std::string t = fmt::format("ptr#{}", ++named_);
  upper_halves_.emplace(upper, named_);  // the first pointer in these 4 GiB names them
  return texts_.emplace(v, std::move(t)).first->second;
}

std::string DataNames::field(uint64_t v) {
  if (v < kAddressLow) return fmt::format(FMT_COMPILE("data.u64={}"), v);
  const std::string t = text(v);
  return (t.starts_with("ptr#") ? "data.ptr=" : "data.u64=") + t;
}

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
R TracingKernel::done(std::string call, R r, std::string_view note) {
  int saved = errno;
  if (r < 0) {
    call += fmt::format(" = -1 {} ({})", errno_name(saved), std::strerror(saved));
  } else {
    fmt::format_to(std::back_inserter(call), FMT_COMPILE(" = {}"), r);  // every read and write
    call += note;
  }
  sink_(call);
  errno = saved;  // the caller sees the errno of the call, not of the tracing
  return r;
}

// --- each call's line ------------------------------------------------------------------------
//
// describe(CallTag<&Kernel::name>, Specific, "name", result, arguments...) is the call's line
// without its result, called after the call returned (out-arguments are filled in; inputs are as
// the handler passed them). A call without an overload of its own gets generic_call's line.
// An overload whose types differ from the table's by even a const is ambiguous with the generic
// one, so it cannot be silently skipped.

namespace {

template <auto Method>
struct CallTag {};
// Carries the trace's state that a line may need: the names of pointers in epoll_data.
struct Specific {
  DataNames* data_names;
};
struct Generic {
  Generic(Specific) {}  // NOLINT: the conversion ranks the generic line below a call's own
};

// An argument as the generic line shows it: numbers in decimal, pointers never by address.
template <class T>
std::string arg_text(T v) {
  if constexpr (std::is_pointer_v<T>) {
    return v == nullptr ? "NULL" : "0x...";
  } else {
    static_assert(std::is_integral_v<T>, "give this call a describe() overload of its own");
    return fmt::format("{}", v);
  }
}

template <auto Method, class R, class... A>
std::string describe(CallTag<Method>, Generic, const char* name, R, A... a) {
  std::string out = name;
  out += '(';
  const char* sep = "";
  ((out += sep, out += arg_text(a), sep = ", "), ...);
  return out + ')';
}

using Line = std::string;
using Name = const char*;

Line describe(CallTag<&Kernel::epoll_create1>, Specific, Name, int, int flags) {
  return fmt::format("epoll_create1({})", flags ? "EPOLL_CLOEXEC" : "0");
}
Line describe(CallTag<&Kernel::epoll_ctl>, Specific s, Name, int, int epfd, int op, int fd,
              struct epoll_event* event) {
  std::string ev = event ? event_name(*event, *s.data_names) : "NULL";
  return fmt::format("epoll_ctl({}, {}, {}, {})", epfd,
                     value_name(static_cast<uint64_t>(op), kCtlOps), fd, ev);
}

std::string events_out(const epoll_event* events, int n, DataNames& names) {
  if (n < 0) return events ? "0x..." : "NULL";
  std::string out = "[";
  for (int i = 0; i < n; ++i) out += (i ? ", " : "") + event_name(events[i], names);
  return out + "]";
}

Line describe(CallTag<&Kernel::epoll_wait>, Specific s, Name, int r, int epfd,
              struct epoll_event* events, int maxevents, int timeout) {
  return fmt::format("epoll_wait({}, {}, {}, {})", epfd, events_out(events, r, *s.data_names),
                     maxevents, timeout);
}
Line describe(CallTag<&Kernel::epoll_pwait>, Specific s, Name, int r, int epfd,
              struct epoll_event* events, int maxevents, int timeout, const sigset_t* sigmask) {
  return fmt::format("epoll_pwait({}, {}, {}, {}, {})", epfd,
                     events_out(events, r, *s.data_names), maxevents,
                     timeout, sigmask ? "[...]" : "NULL");
}
Line describe(CallTag<&Kernel::socket>, Specific, Name, int, int domain, int type, int protocol) {
  return fmt::format("socket({}, {}, {})", value_name(static_cast<uint64_t>(domain), kFamilies),
                     socktype_name(type), protocol);
}
Line describe(CallTag<&Kernel::bind>, Specific, Name, int, int sockfd,
              const struct sockaddr* addr, socklen_t addrlen) {
  return fmt::format("bind({}, {}, {})", sockfd, sockaddr_name(addr, addrlen), addrlen);
}
Line describe(CallTag<&Kernel::accept4>, Specific, Name, int r, int sockfd,
              struct sockaddr* addr, socklen_t* addrlen, int flags) {
  std::string a =
      addr && addrlen && r >= 0 ? sockaddr_name(addr, *addrlen) : (addr ? "0x..." : "NULL");
  return fmt::format("accept4({}, {}, {}, {})", sockfd, a, addrlen ? "[...]" : "NULL",
                     bits_name(static_cast<uint64_t>(flags), kSockTypeFlags));
}
Line describe(CallTag<&Kernel::connect>, Specific, Name, int, int sockfd,
              const struct sockaddr* addr, socklen_t addrlen) {
  return fmt::format("connect({}, {}, {})", sockfd, sockaddr_name(addr, addrlen), addrlen);
}
Line describe(CallTag<&Kernel::shutdown>, Specific, Name, int, int sockfd, int how) {
  return fmt::format("shutdown({}, {})", sockfd, value_name(static_cast<uint64_t>(how), kShut));
}
// recv and send are recvfrom and sendto without an address, as strace shows them.
Line describe(CallTag<&Kernel::recv>, Specific, Name, ssize_t r, int sockfd, void* buf,
              size_t len, int flags) {
  std::string b = r > 0 ? quote_bytes(buf, static_cast<size_t>(r)) : (buf ? "\"\"" : "NULL");
  return fmt::format("recvfrom({}, {}, {}, {}, NULL, NULL)", sockfd, b, len,
                     bits_name(static_cast<uint64_t>(flags), kMsgFlags));
}
Line describe(CallTag<&Kernel::send>, Specific, Name, ssize_t, int sockfd, const void* buf,
              size_t len, int flags) {
  return fmt::format("sendto({}, {}, {}, {}, NULL, 0)", sockfd, quote_bytes(buf, len), len,
                     bits_name(static_cast<uint64_t>(flags), kMsgFlags));
}
Line describe(CallTag<&Kernel::socketpair>, Specific, Name, int r, int domain, int type,
              int protocol, int sv[2]) {
  std::string fds = r == 0 ? fmt::format("[{}, {}]", sv[0], sv[1]) : (sv ? "0x..." : "NULL");
  return fmt::format("socketpair({}, {}, {}, {})",
                     value_name(static_cast<uint64_t>(domain), kFamilies), socktype_name(type),
                     protocol, fds);
}

std::string sockopt_name(int level, int optname) {
  return level == IPPROTO_TCP && optname == TCP_NODELAY
             ? "TCP_NODELAY"
             : value_name(static_cast<uint64_t>(optname), kSockOpts);
}

Line describe(CallTag<&Kernel::setsockopt>, Specific, Name, int, int sockfd, int level,
              int optname, const void* optval, socklen_t optlen) {
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
  return fmt::format("setsockopt({}, {}, {}, {}, {})", sockfd,
                     value_name(static_cast<uint64_t>(level), kLevels),
                     sockopt_name(level, optname), v, optlen);
}
Line describe(CallTag<&Kernel::getsockopt>, Specific, Name, int r, int sockfd, int level,
              int optname, void* optval, socklen_t* optlen) {
  std::string v = "0x...";
  if (r == 0 && optval && optlen && *optlen == sizeof(int)) {
    int x;
    std::memcpy(&x, optval, sizeof x);
    v = fmt::format("[{}]", x);
  }
  return fmt::format("getsockopt({}, {}, {}, {}, [{}])", sockfd,
                     value_name(static_cast<uint64_t>(level), kLevels),
                     sockopt_name(level, optname), v, optlen ? std::to_string(*optlen) : "NULL");
}

// getsockname and getpeername: the address filled in, and its length.
std::string name_call(const char* call, int r, int sockfd, const sockaddr* addr,
                      const socklen_t* addrlen) {
  return fmt::format("{}({}, {}, [{}])", call, sockfd,
                     r == 0 && addrlen ? sockaddr_name(addr, *addrlen) : "0x...",
                     addrlen ? std::to_string(*addrlen) : "NULL");
}
Line describe(CallTag<&Kernel::getsockname>, Specific, Name name, int r, int sockfd,
              struct sockaddr* addr, socklen_t* addrlen) {
  return name_call(name, r, sockfd, addr, addrlen);
}
Line describe(CallTag<&Kernel::getpeername>, Specific, Name name, int r, int sockfd,
              struct sockaddr* addr, socklen_t* addrlen) {
  return name_call(name, r, sockfd, addr, addrlen);
}
Line describe(CallTag<&Kernel::read>, Specific, Name, ssize_t r, int fd, void* buf,
              size_t count) {
  std::string b = r > 0 ? quote_bytes(buf, static_cast<size_t>(r)) : (buf ? "\"\"" : "NULL");
  return fmt::format(FMT_COMPILE("read({}, {}, {})"), fd, b, count);
}
Line describe(CallTag<&Kernel::write>, Specific, Name, ssize_t, int fd, const void* buf,
              size_t count) {
  return fmt::format(FMT_COMPILE("write({}, {}, {})"), fd, quote_bytes(buf, count), count);
}
Line describe(CallTag<&Kernel::readv>, Specific, Name, ssize_t, int fd, const struct iovec*,
              int iovcnt) {
  return fmt::format("readv({}, [...], {})", fd, iovcnt);
}
Line describe(CallTag<&Kernel::writev>, Specific, Name, ssize_t, int fd, const struct iovec*,
              int iovcnt) {
  return fmt::format("writev({}, [...], {})", fd, iovcnt);
}
Line describe(CallTag<&Kernel::pipe2>, Specific, Name, int r, int pipefd[2], int flags) {
  std::string fds =
      r == 0 ? fmt::format("[{}, {}]", pipefd[0], pipefd[1]) : (pipefd ? "0x..." : "NULL");
  return fmt::format("pipe2({}, {})", fds, bits_name(static_cast<uint64_t>(flags), kOpenFlags));
}
// open(3) is the openat system call, on the working directory.
Line describe(CallTag<&Kernel::open>, Specific, Name, int, const char* path, int flags) {
  const auto v = static_cast<uint64_t>(flags);
  const uint64_t mode = v & O_ACCMODE;
  std::string f = mode == 0 ? "O_RDONLY" : value_name(mode, kAccessModes);
  const uint64_t rest = v & ~static_cast<uint64_t>(O_ACCMODE);
  if (rest) (f += '|') += bits_name(rest, kStatusFlags);
  return fmt::format("openat(AT_FDCWD, {}, {})",
                     path ? quote_bytes(path, std::strlen(path)) : "NULL", f);
}
// eventfd(3) is the eventfd2 system call.
Line describe(CallTag<&Kernel::eventfd>, Specific, Name, int, unsigned int initval, int flags) {
  return fmt::format("eventfd2({}, {})", initval,
                     bits_name(static_cast<uint64_t>(flags), kEfdFlags));
}
Line describe(CallTag<&Kernel::fcntl>, Specific, Name, int, int fd, int cmd, long arg) {
  std::string a;
  if (cmd == F_SETFL) a = ", " + file_flags_name(arg);
  else if (cmd == F_SETFD) a = arg & FD_CLOEXEC ? ", FD_CLOEXEC" : ", 0";
  else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) a = fmt::format(", {}", arg);
  return fmt::format("fcntl({}, {}{})", fd, value_name(static_cast<uint64_t>(cmd), kFcntlCmds), a);
}
Line describe(CallTag<&Kernel::ioctl>, Specific, Name, int, int fd, unsigned long request,
              int* arg) {
  std::string a = arg ? fmt::format("[{}]", *arg) : "NULL";
  return fmt::format("ioctl({}, {}, {})", fd, value_name(request, kIoctls), a);
}
Line describe(CallTag<&Kernel::clock_gettime>, Specific, Name, int, clockid_t clockid,
              struct timespec*) {
  return fmt::format("clock_gettime({}, ...)",
                     value_name(static_cast<uint64_t>(clockid), kClocks));
}
Line describe(CallTag<&Kernel::timerfd_create>, Specific, Name, int, int clockid, int flags) {
  return fmt::format("timerfd_create({}, {})", value_name(static_cast<uint64_t>(clockid), kClocks),
                     bits_name(static_cast<uint64_t>(flags), kTfdFlags));
}
// The old value is shown as the call left it.
Line describe(CallTag<&Kernel::timerfd_settime>, Specific, Name, int r, int fd, int flags,
              const struct itimerspec* new_value, struct itimerspec* old_value) {
  std::string old = old_value == nullptr ? "NULL" : r == 0 ? itimerspec_name(*old_value) : "0x...";
  return fmt::format("timerfd_settime({}, {}, {}, {})", fd,
                     bits_name(static_cast<uint64_t>(flags), kTfdSettimeFlags),
                     new_value ? itimerspec_name(*new_value) : "NULL", old);
}
Line describe(CallTag<&Kernel::timerfd_gettime>, Specific, Name, int r, int fd,
              struct itimerspec* curr_value) {
  std::string cur =
      curr_value == nullptr ? "NULL" : r == 0 ? itimerspec_name(*curr_value) : "0x...";
  return fmt::format("timerfd_gettime({}, {})", fd, cur);
}
Line describe(CallTag<&Kernel::poll>, Specific, Name, int, struct pollfd* fds, nfds_t nfds,
              int timeout) {
  return fmt::format("poll({}, {}, {})", pollfds_name(fds, nfds, false), nfds, timeout);
}

// What strace prints after a successful call's result: nothing, but for poll the ready
// entries, or "(Timeout)".
template <auto Method, class R, class... A>
std::string result_note(CallTag<Method>, Generic, R, A...) {
  return {};
}
std::string result_note(CallTag<&Kernel::poll>, Specific, int r, struct pollfd* fds, nfds_t nfds,
                        int) {
  return r == 0 ? " (Timeout)" : " (" + pollfds_name(fds, nfds, true) + ")";
}

Line describe(CallTag<&Kernel::dup3>, Specific, Name, int, int oldfd, int newfd, int flags) {
  return fmt::format("dup3({}, {}, {})", oldfd, newfd,
                     bits_name(static_cast<uint64_t>(flags), kOpenFlags));
}
Line describe(CallTag<&Kernel::recvfrom>, Specific, Name, ssize_t r, int sockfd, void* buf,
              size_t len, int flags, struct sockaddr* src_addr, socklen_t* addrlen) {
  std::string b = r > 0 ? quote_bytes(buf, static_cast<size_t>(r)) : (buf ? "\"\"" : "NULL");
  return fmt::format("recvfrom({}, {}, {}, {}, {}, {})", sockfd, b, len,
                     bits_name(static_cast<uint64_t>(flags), kMsgFlags),
                     src_addr ? "0x..." : "NULL",
                     addrlen ? fmt::format("[{}]", *addrlen) : "NULL");
}
Line describe(CallTag<&Kernel::sendto>, Specific, Name, ssize_t, int sockfd, const void* buf,
              size_t len, int flags, const struct sockaddr* dest_addr, socklen_t addrlen) {
  return fmt::format("sendto({}, {}, {}, {}, {}, {})", sockfd, quote_bytes(buf, len), len,
                     bits_name(static_cast<uint64_t>(flags), kMsgFlags),
                     sockaddr_name(dest_addr, addrlen), addrlen);
}

// A msghdr as strace shows it: each iovec with the bytes it holds (`filled` bytes in all, or
// its whole length for a send), then the lengths and flags.
std::string msghdr_text(const struct msghdr* msg, size_t filled) {
  if (msg == nullptr) return "NULL";
  std::string iov = "[";
  for (size_t i = 0; msg->msg_iov != nullptr && i < msg->msg_iovlen; ++i) {
    const size_t n = std::min(msg->msg_iov[i].iov_len, filled);
    filled -= n;
    fmt::format_to(std::back_inserter(iov), "{}{{iov_base={}, iov_len={}}}", i ? ", " : "",
                   quote_bytes(msg->msg_iov[i].iov_base, n), msg->msg_iov[i].iov_len);
  }
  iov += ']';
  return fmt::format("{{msg_name={}, msg_namelen={}, msg_iov={}, msg_iovlen={}, "
                     "msg_controllen={}, msg_flags={}}}",
                     msg->msg_name ? "0x..." : "NULL", msg->msg_namelen, iov, msg->msg_iovlen,
                     msg->msg_controllen, bits_name(static_cast<uint64_t>(msg->msg_flags), kMsgFlags));
}

Line describe(CallTag<&Kernel::recvmsg>, Specific, Name, ssize_t r, int sockfd,
              struct msghdr* msg, int flags) {
  return fmt::format("recvmsg({}, {}, {})", sockfd,
                     msghdr_text(msg, r > 0 ? static_cast<size_t>(r) : 0),
                     bits_name(static_cast<uint64_t>(flags), kMsgFlags));
}
Line describe(CallTag<&Kernel::sendmsg>, Specific, Name, ssize_t, int sockfd,
              const struct msghdr* msg, int flags) {
  return fmt::format("sendmsg({}, {}, {})", sockfd, msghdr_text(msg, SIZE_MAX),
                     bits_name(static_cast<uint64_t>(flags), kMsgFlags));
}

std::string timespec_text(const struct timespec* t) {
  return t ? fmt::format("{{tv_sec={}, tv_nsec={}}}", t->tv_sec, t->tv_nsec) : "NULL";
}
Line describe(CallTag<&Kernel::clock_getres>, Specific, Name, int r, clockid_t clockid,
              struct timespec* res) {
  return fmt::format("clock_getres({}, {})", value_name(static_cast<uint64_t>(clockid), kClocks),
                     r == 0 ? timespec_text(res) : (res ? "0x..." : "NULL"));
}
Line describe(CallTag<&Kernel::nanosleep>, Specific, Name, int r, const struct timespec* req,
              struct timespec* rem) {
  return fmt::format("nanosleep({}, {})", timespec_text(req),
                     r < 0 && errno == EINTR ? timespec_text(rem) : (rem ? "0x..." : "NULL"));
}

constexpr Named kRlimits[] = {{RLIMIT_NOFILE, "RLIMIT_NOFILE"}, {RLIMIT_CORE, "RLIMIT_CORE"},
                              {RLIMIT_STACK, "RLIMIT_STACK"}, {RLIMIT_AS, "RLIMIT_AS"}};
std::string rlim_text(rlim_t v) {
  return v == RLIM_INFINITY ? "RLIM_INFINITY" : std::to_string(v);
}
std::string rlimit_text(const struct rlimit* l) {
  return l ? fmt::format("{{rlim_cur={}, rlim_max={}}}", rlim_text(l->rlim_cur),
                         rlim_text(l->rlim_max))
           : "NULL";
}
Line describe(CallTag<&Kernel::getrlimit>, Specific, Name, int r, int resource,
              struct rlimit* rlim) {
  return fmt::format("getrlimit({}, {})", value_name(static_cast<uint64_t>(resource), kRlimits),
                     r == 0 ? rlimit_text(rlim) : (rlim ? "0x..." : "NULL"));
}
Line describe(CallTag<&Kernel::setrlimit>, Specific, Name, int, int resource,
              const struct rlimit* rlim) {
  return fmt::format("setrlimit({}, {})", value_name(static_cast<uint64_t>(resource), kRlimits),
                     rlimit_text(rlim));
}

}  // namespace

// Every call: forwarded, then its line (errno as the call left it, whatever the formatting did).
#define EDGECASE_ARGS(...) __VA_ARGS__
#define EDGECASE_DEFAULT_ARG(v)
#define EDGECASE_KERNEL_CALL(ret, name, params, args, fd)                                  \
  ret TracingKernel::name params {                                                         \
    const ret r = inner_.name args;                                                        \
    const int saved = errno;                                                               \
    std::string line =                                                                     \
        describe(CallTag<&Kernel::name>{}, Specific{&data_names_}, #name, r,                \
                 EDGECASE_ARGS args);                                                      \
    const std::string note =                                                               \
        result_note(CallTag<&Kernel::name>{}, Specific{&data_names_}, r, EDGECASE_ARGS args); \
    errno = saved;                                                                         \
    return done(std::move(line), r, note);                                                 \
  }
#include "edgecase/kernel_calls.def"
#undef EDGECASE_ARGS

}  // namespace edgecase
