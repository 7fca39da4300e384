// Robustness fuzzing of the simulated kernel: any sequence of SimKernel calls with any
// arguments, valid or not (bad fds, unknown flags and commands, zero, huge and negative
// lengths, NULL where Linux accepts or rejects it). No call may crash, leak (LeakSanitizer at
// each input's end, when the SimKernel is gone) or hit undefined behaviour, a blocking call
// that can never complete must throw edgecase::Deadlock (caught here) and nothing else, and
// SimKernel::check_invariants() must hold after every call.
//
// Pointers are always NULL or to memory of the size the call may touch: a length larger than
// its buffer would make this harness, not the simulation, read out of bounds. The kernel's
// EFAULT for a bad non-NULL pointer is therefore not exercised.
#include <fuzzer/FuzzedDataProvider.h>

#include <arpa/inet.h>
#include <array>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <vector>

#include "edgecase/sim_kernel.h"

namespace {

using edgecase::SimKernel;

// Calls per input: enough for a few sockets, a connection, nested epolls and their teardown.
constexpr size_t kMaxCalls = 200;
// The one data buffer every read and write uses, and the iovecs and events arrays.
constexpr size_t kBufferBytes = 64 * 1024;
constexpr int kMaxIov = 8;
constexpr int kMaxEvents = 16;
// Small fd limits reach EMFILE within a few calls.
constexpr int kNofileMenu[] = {4, 16, 64, 1024};
// Timeouts (ms) of the waits: a poll, a short and a long timed wait (the virtual clock jumps),
// forever (a Deadlock when nothing can wake the caller), and INT_MAX.
constexpr int kTimeouts[] = {0, 1, 1000, -1, INT_MAX};
constexpr uint16_t kPorts[] = {0, 7000, 7001};
constexpr uint32_t kAddrs[] = {INADDR_LOOPBACK, INADDR_LOOPBACK + 1, INADDR_ANY, INADDR_BROADCAST};
// Constants of the calls, valid and not, that the fuzzer picks among besides raw values.
constexpr int kSpecialFds[] = {-1, 0, 1, 2, 3, 1023, 1024, INT_MAX, INT_MIN};
constexpr int kFcntlCmds[] = {F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, -1};
constexpr unsigned long kIoctls[] = {FIONREAD, FIONBIO, TIOCOUTQ, 0};
constexpr int kSockLevels[] = {SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP, -1};
constexpr int kSockOpts[] = {SO_ERROR, SO_TYPE, SO_DOMAIN, SO_ACCEPTCONN, SO_RCVBUF, SO_SNDBUF,
                             SO_LINGER, SO_REUSEADDR, SO_KEEPALIVE, SO_RCVLOWAT, TCP_NODELAY,
                             TCP_CORK, TCP_KEEPIDLE, -1};
constexpr int kEpollOps[] = {EPOLL_CTL_ADD, EPOLL_CTL_MOD, EPOLL_CTL_DEL, 0, 4};

enum class Call : uint8_t {
  epoll_create1, epoll_create, epoll_ctl, epoll_wait, epoll_pwait, socket, bind, listen,
  accept4, connect, shutdown, recv, send, socketpair, setsockopt, getsockopt, getsockname,
  getpeername, read, write, readv, writev, close, dup, dup2, pipe2, eventfd, fcntl, ioctl,
  clock_gettime, kLast = clock_gettime
};

class Caller {
 public:
  Caller(FuzzedDataProvider& in, SimKernel& k) : in_(in), k_(k) {}

  // Each argument is drawn into a local first, in order: the order of the draws is the
  // input's meaning, and C++ leaves the order of a call's arguments unspecified.
  void call(Call c) {
    switch (c) {
      case Call::epoll_create1: keep(k_.epoll_create1(flags())); break;
      case Call::epoll_create: keep(k_.epoll_create(in_.ConsumeIntegral<int>())); break;
      case Call::epoll_ctl: {
        const int epfd = fd(), op = pick_or_raw(kEpollOps), target = fd();
        epoll_event ev{in_.ConsumeIntegral<uint32_t>(), {}};
        ev.data.u64 = in_.ConsumeIntegral<uint64_t>();
        k_.epoll_ctl(epfd, op, target, in_.ConsumeBool() ? &ev : nullptr);
        break;
      }
      case Call::epoll_wait:
      case Call::epoll_pwait: {
        const int epfd = fd();
        epoll_event* out = events();
        const int max = maxevents(), ms = timeout();
        if (c == Call::epoll_wait) {
          k_.epoll_wait(epfd, out, max, ms);
          break;
        }
        sigset_t set;
        sigemptyset(&set);
        if (in_.ConsumeBool()) sigaddset(&set, SIGINT);
        k_.epoll_pwait(epfd, out, max, ms, in_.ConsumeBool() ? &set : nullptr);
        break;
      }
      case Call::socket: {
        const int domain = in_.ConsumeBool() ? AF_INET : in_.ConsumeIntegral<int>();
        const int type = socket_type();
        keep(k_.socket(domain, type, in_.ConsumeBool() ? 0 : in_.ConsumeIntegral<int>()));
        break;
      }
      case Call::bind:
      case Call::connect: {
        const int sock = fd();
        const socklen_t len = addr();
        const sockaddr* a = in_.ConsumeBool() ? as_sockaddr() : nullptr;
        c == Call::bind ? k_.bind(sock, a, len) : k_.connect(sock, a, len);
        break;
      }
      case Call::listen: {
        const int sock = fd();
        k_.listen(sock, in_.ConsumeIntegral<int>());
        break;
      }
      case Call::accept4: {
        const int sock = fd();
        socklen_t len = addrlen_in();
        sockaddr* a = in_.ConsumeBool() ? as_sockaddr() : nullptr;
        socklen_t* l = in_.ConsumeBool() ? &len : nullptr;
        keep(k_.accept4(sock, a, l, flags()));
        break;
      }
      case Call::shutdown: {
        const int sock = fd();
        k_.shutdown(sock, pick_or_raw(std::array{int{SHUT_RD}, int{SHUT_WR}, int{SHUT_RDWR}}));
        break;
      }
      case Call::recv:
      case Call::send: {
        const int sock = fd();
        const size_t n = length();
        const int f = flags();
        c == Call::recv ? k_.recv(sock, buffer(), n, f) : k_.send(sock, buffer(), n, f | MSG_NOSIGNAL);
        break;
      }
      case Call::socketpair: {
        int sv[2] = {-1, -1};
        const int domain = in_.ConsumeBool() ? AF_UNIX : in_.ConsumeIntegral<int>();
        const int type = socket_type();
        const int protocol = in_.ConsumeBool() ? 0 : in_.ConsumeIntegral<int>();
        if (k_.socketpair(domain, type, protocol, in_.ConsumeBool() ? sv : nullptr) == 0) {
          keep(sv[0]);
          keep(sv[1]);
        }
        break;
      }
      case Call::setsockopt: {
        const int sock = fd(), level = pick_or_raw(kSockLevels), name = pick_or_raw(kSockOpts);
        std::array<uint8_t, 16> opt{};
        for (uint8_t& b : opt) b = in_.ConsumeIntegral<uint8_t>();
        // The simulation reads at most sizeof(linger) bytes of the value, so any length is safe.
        const auto len = in_.ConsumeIntegral<socklen_t>();
        k_.setsockopt(sock, level, name, in_.ConsumeBool() ? opt.data() : nullptr, len);
        break;
      }
      case Call::getsockopt: {
        const int sock = fd(), level = pick_or_raw(kSockLevels), name = pick_or_raw(kSockOpts);
        std::array<uint8_t, 16> opt{};
        socklen_t len = in_.ConsumeBool() ? in_.ConsumeIntegralInRange<socklen_t>(0, opt.size())
                                          : in_.ConsumeIntegral<socklen_t>();
        // A length above the buffer is only given with a NULL value (EFAULT or nothing copied).
        const bool with_value = len <= opt.size() && in_.ConsumeBool();
        const bool with_len = in_.ConsumeBool();
        k_.getsockopt(sock, level, name, with_value ? opt.data() : nullptr, with_len ? &len : nullptr);
        break;
      }
      case Call::getsockname:
      case Call::getpeername: {
        const int sock = fd();
        socklen_t len = addrlen_in();
        sockaddr* a = in_.ConsumeBool() ? as_sockaddr() : nullptr;
        socklen_t* l = in_.ConsumeBool() ? &len : nullptr;
        c == Call::getsockname ? k_.getsockname(sock, a, l) : k_.getpeername(sock, a, l);
        break;
      }
      case Call::read:
      case Call::write: {
        const int f = fd();
        const size_t n = length();
        c == Call::read ? k_.read(f, buffer(), n) : k_.write(f, buffer(), n);
        break;
      }
      case Call::readv:
      case Call::writev: {
        const int f = fd();
        const int count = iovcnt();
        iovec* v = in_.ConsumeBool() ? iov(count) : nullptr;
        c == Call::readv ? k_.readv(f, v, count) : k_.writev(f, v, count);
        break;
      }
      case Call::close: k_.close(fd()); break;
      case Call::dup: keep(k_.dup(fd())); break;
      case Call::dup2: {
        const int from = fd(), to = fd();
        keep(k_.dup2(from, to));
        break;
      }
      case Call::pipe2: {
        int p[2] = {-1, -1};
        int* out = in_.ConsumeBool() ? p : nullptr;
        if (k_.pipe2(out, flags()) == 0) {
          keep(p[0]);
          keep(p[1]);
        }
        break;
      }
      case Call::eventfd: {
        const auto initval = in_.ConsumeIntegral<unsigned>();
        keep(k_.eventfd(initval, flags()));
        break;
      }
      case Call::fcntl: {
        const int f = fd(), cmd = pick_or_raw(kFcntlCmds);
        keep(k_.fcntl(f, cmd, in_.ConsumeIntegral<long>()));
        break;
      }
      case Call::ioctl: {
        const int f = fd();
        const unsigned long request = pick_or_raw(kIoctls);
        int v = in_.ConsumeIntegral<int>();
        k_.ioctl(f, request, in_.ConsumeBool() ? &v : nullptr);
        break;
      }
      case Call::clock_gettime: {
        timespec ts{};
        const auto clock = static_cast<clockid_t>(
            pick_or_raw(std::array<int, 4>{CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_PROCESS_CPUTIME_ID}));
        k_.clock_gettime(clock, in_.ConsumeBool() ? &ts : nullptr);
        break;
      }
    }
  }

 private:
  // An fd a call returned (open or closed since), or any other number.
  int fd() {
    if (!fds_.empty() && in_.ConsumeIntegralInRange<int>(0, 3) != 0)
      return fds_[in_.ConsumeIntegralInRange<size_t>(0, fds_.size() - 1)];
    return in_.ConsumeBool() ? in_.PickValueInArray(kSpecialFds) : in_.ConsumeIntegral<int>();
  }
  void keep(int fd) {
    if (fd >= 0) fds_.push_back(fd);
  }
  template <typename T, size_t N>
  T pick_or_raw(const std::array<T, N>& menu) {
    return in_.ConsumeBool() ? in_.PickValueInArray(menu) : in_.ConsumeIntegral<T>();
  }
  template <typename T, size_t N>
  T pick_or_raw(const T (&menu)[N]) {
    return in_.ConsumeBool() ? in_.PickValueInArray(menu) : in_.ConsumeIntegral<T>();
  }
  // Flag words: the usual bits (nonblock, cloexec, a few MSG_ ones) or any value.
  int flags() {
    if (in_.ConsumeBool()) return in_.ConsumeIntegral<int>();
    int f = 0;
    for (int bit : {int{O_NONBLOCK}, int{O_CLOEXEC}, int{MSG_DONTWAIT}, int{MSG_PEEK}, kEfdSemaphore})
      if (in_.ConsumeBool()) f |= bit;
    return f;
  }
  static constexpr int kEfdSemaphore = EFD_SEMAPHORE;
  int socket_type() {
    if (!in_.ConsumeBool()) return in_.ConsumeIntegral<int>();
    int t = SOCK_STREAM;
    if (in_.ConsumeBool()) t |= SOCK_NONBLOCK;
    if (in_.ConsumeBool()) t |= SOCK_CLOEXEC;
    return t;
  }
  // A byte count: within the buffer, or anything when the buffer will be NULL (buffer()).
  size_t length() {
    null_buffer_ = in_.ConsumeIntegralInRange<int>(0, 7) == 0;
    if (null_buffer_) return in_.ConsumeBool() ? 0 : in_.ConsumeIntegral<size_t>();
    return in_.ConsumeIntegralInRange<size_t>(0, in_.ConsumeBool() ? 64 : kBufferBytes);
  }
  void* buffer() { return null_buffer_ ? nullptr : buf_.data(); }
  int iovcnt() {
    switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: return in_.ConsumeIntegral<int>() | INT_MIN;  // negative
      case 1: return in_.ConsumeIntegralInRange<int>(IOV_MAX + 1, INT_MAX);
      default: return in_.ConsumeIntegralInRange<int>(0, kMaxIov);
    }
  }
  // `count` iovecs (a count outside 0..kMaxIov is rejected before any is read): each within
  // the buffer or NULL.
  iovec* iov(int count) {
    for (int i = 0; i < kMaxIov && i < count; ++i) {
      const size_t len = in_.ConsumeIntegralInRange<size_t>(0, kBufferBytes / kMaxIov);
      const bool null = in_.ConsumeIntegralInRange<int>(0, 7) == 0;
      iov_[static_cast<size_t>(i)] = iovec{null ? nullptr : buf_.data() + i * (kBufferBytes / kMaxIov), len};
    }
    return iov_.data();
  }
  epoll_event* events() { return in_.ConsumeIntegralInRange<int>(0, 7) == 0 ? nullptr : events_.data(); }
  // maxevents: within the events array, or a value epoll_wait rejects before writing any.
  int maxevents() {
    switch (in_.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: return -in_.ConsumeIntegralInRange<int>(0, INT_MAX);
      case 1: return in_.ConsumeIntegralInRange<int>(INT_MAX / static_cast<int>(sizeof(epoll_event)) + 1, INT_MAX);
      default: return in_.ConsumeIntegralInRange<int>(1, kMaxEvents);
    }
  }
  int timeout() { return in_.ConsumeBool() ? in_.PickValueInArray(kTimeouts) : in_.ConsumeIntegral<int>(); }
  // Fills the address buffer (an AF_INET address, or raw bytes) and returns a length for it:
  // up to its size, or any value (the kernel refuses one above sizeof(sockaddr_storage)).
  socklen_t addr() {
    addr_ = {};
    if (in_.ConsumeBool()) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&addr_);
      sin->sin_family = in_.ConsumeBool() ? AF_INET : in_.ConsumeIntegral<sa_family_t>();
      sin->sin_port = htons(in_.ConsumeBool() ? in_.PickValueInArray(kPorts) : in_.ConsumeIntegral<uint16_t>());
      sin->sin_addr.s_addr = htonl(in_.ConsumeBool() ? in_.PickValueInArray(kAddrs) : in_.ConsumeIntegral<uint32_t>());
    } else {
      const std::vector<uint8_t> raw = in_.ConsumeBytes<uint8_t>(sizeof addr_);
      std::copy(raw.begin(), raw.end(), reinterpret_cast<uint8_t*>(&addr_));
    }
    if (in_.ConsumeBool()) return sizeof(sockaddr_in);
    return in_.ConsumeBool() ? in_.ConsumeIntegralInRange<socklen_t>(0, sizeof addr_) : in_.ConsumeIntegral<socklen_t>();
  }
  // An in-out address length: the simulation copies at most the address's size (<= the
  // buffer's), so any value is safe.
  socklen_t addrlen_in() {
    return in_.ConsumeBool() ? static_cast<socklen_t>(sizeof addr_) : in_.ConsumeIntegral<socklen_t>();
  }
  sockaddr* as_sockaddr() { return reinterpret_cast<sockaddr*>(&addr_); }

  FuzzedDataProvider& in_;
  SimKernel& k_;
  std::vector<int> fds_;
  std::vector<uint8_t> buf_ = std::vector<uint8_t>(kBufferBytes);
  std::array<iovec, kMaxIov> iov_{};
  std::array<epoll_event, kMaxEvents> events_{};
  sockaddr_storage addr_{};
  bool null_buffer_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  edgecase::SimOptions options;
  options.nofile = in.PickValueInArray(kNofileMenu);
  SimKernel k(options);
  Caller caller(in, k);
  std::vector<std::string> calls;
  for (size_t i = 0; i < kMaxCalls && in.remaining_bytes() > 0; ++i) {
    const auto c = static_cast<Call>(in.ConsumeIntegralInRange<int>(0, static_cast<int>(Call::kLast)));
    calls.push_back(std::to_string(static_cast<int>(c)));
    try {
      caller.call(c);
    } catch (const edgecase::Deadlock&) {
      // A blocking call that can never complete: the simulation's answer, and the kernel is
      // left as the call found it (checked below).
    }
    if (const std::string broken = k.check_invariants(); !broken.empty()) {
      std::string seq;
      for (const std::string& s : calls) seq += " " + s;
      std::fprintf(stderr, "fuzz_sim_calls: invariant broken after call %zu (calls:%s): %s\n", i + 1,
                   seq.c_str(), broken.c_str());
      std::abort();
    }
  }
  return 0;
}
