// edgecase::RealKernel — the live backend: every edgecase::Kernel method is the libc function of
// the same name (`::epoll_wait`, `::accept4`, ...), called with the same arguments, returning its
// result with `errno` exactly as the call left it. Nothing is simulated, translated or retried:
// fcntl's `arg` goes through as the third argument (a long) whatever `cmd` is, and ioctl's `arg`
// as the third argument (the pointer itself).
//
// fd ownership. A RealKernel remembers every fd it handed out — the results of epoll_create,
// epoll_create1, socket, accept4, pipe2, socketpair, eventfd, timerfd_create, open, dup, dup2, dup3
// and fcntl(F_DUPFD / F_DUPFD_CLOEXEC) — and its destructor closes those still open, so a test
// that fails half-way through leaks nothing. Rules:
//   * close(fd) forgets fd, whatever close returns: on Linux the descriptor is released even
//     when close fails (EINTR, EIO), and EBADF means it was not open anyway. The fd is forgotten
//     *before* the syscall, so another thread that is handed the same number right after the
//     close keeps its claim.
//   * dup2(oldfd, newfd) that succeeds with oldfd != newfd makes newfd owned (it now refers to a
//     file this kernel opened, replacing whatever was there). dup2(fd, fd) changes nothing.
//   * fds this kernel did not hand out (stdin, fds from ::socket directly, ...) are never closed
//     by the destructor, even if passed to other methods.
//   * Close owned fds through this RealKernel, not ::close: otherwise the destructor would close
//     the number later, possibly after it has been reused for something else.
// The bookkeeping is a bit per fd number behind a mutex held only for the bit update (outside
// the destructor, never across a syscall), so a RealKernel may be shared between threads.
//
// SIGPIPE. RealKernel never changes the process's signal disposition: a send or write on a
// socket or pipe whose reader is gone raises SIGPIPE unless MSG_NOSIGNAL is passed or the caller
// has ignored SIGPIPE (signal(SIGPIPE, SIG_IGN)). The caller decides; the test mains ignore it.
//
// Inspect. bytes_to_read is ioctl(FIONREAD); bytes_to_send is ioctl(SIOCOUTQ), on sockets only;
// interest_set parses /proc/self/fdinfo/<epfd> (see real/fdinfo.h for what the fields show).
// They leave errno as they found it.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "edgecase/inspect.h"
#include "edgecase/kernel.h"

namespace edgecase {

class RealKernel final : public Kernel, public Inspect {
 public:
  RealKernel() = default;
  // Closes every fd this kernel handed out that is still open. errno is preserved.
  ~RealKernel() override;

  // --- Kernel: every call of the table (kernel_calls.def), each the libc call of its name ---
#define EDGECASE_KERNEL_CALL(ret, name, params, args, fd) ret name params override;
#include "edgecase/kernel_calls.def"

  // --- Inspect -------------------------------------------------------------------------------
  // ioctl(FIONREAD); nullopt if it fails (EINVAL on a listening socket or an epoll fd, ENOTTY on
  // an eventfd, EBADF, ...). Live quirk: a pipe's write end reports the pipe's contents too.
  std::optional<uint64_t> bytes_to_read(int fd) override;
  // ioctl(SIOCOUTQ) if fstat says `fd` is a socket; nullopt otherwise or if the ioctl fails
  // (EINVAL on a listening TCP socket; a listening AF_UNIX socket reports 0). AF_UNIX counts
  // skb truesize (768 bytes for a 5-byte write here), not payload, until the reader has
  // consumed the whole skb.
  std::optional<uint64_t> bytes_to_send(int fd) override;
  // Parses /proc/self/fdinfo/<epfd>; nullopt unless /proc/self/fd/<epfd> links to
  // "anon_inode:[eventpoll]" and the fdinfo file can be read. Throws std::runtime_error if the
  // kernel prints a tfd line that real/fdinfo.h cannot parse.
  std::optional<std::vector<Interest>> interest_set(int epfd) override;
  // poll(2) with a zero timeout; accept_queue is TCP_INFO's tcpi_unacked on a listener.
  std::optional<uint32_t> poll_mask(int fd) override;
  std::optional<uint64_t> accept_queue(int fd) override;

  // True if `fd` was handed out by this kernel and not closed through it since.
  bool owns(int fd) const;
  // How many fds owns() is true for.
  size_t owned_count() const;
  // The fds owns() is true for, in increasing order.
  std::vector<int> owned_fds() const;

 private:
  void adopt(int fd);   // no-op if fd < 0
  void forget(int fd);  // no-op if fd < 0 or not owned

  mutable std::mutex mu_;
  std::vector<bool> owned_;  // indexed by fd
};

}  // namespace edgecase
