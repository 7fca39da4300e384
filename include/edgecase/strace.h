// Strace-shaped traces of Kernel calls.
//
// TracingKernel wraps any Kernel and records each call as one line, the way strace prints it:
//   epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, data.u64=4}) = 0
//   read(4, "hello", 3) = 3
//   read(4, 0x..., 64) = -1 EAGAIN (Resource temporarily unavailable)
// Buffers are shown by content (never by address), so two backends running the same calls
// produce the same lines when they behave the same.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/kernel.h"

namespace edgecase {

// Names of epoll event bits ("EPOLLIN|EPOLLET"), errno values ("EAGAIN"), ops, flags.
std::string epoll_events_name(uint32_t events);
std::string errno_name(int err);
// A byte buffer as strace shows it: quoted, escaped, cut after `limit` bytes with "...".
std::string quote_bytes(const void* data, size_t len, size_t limit = 32);

class TracingKernel final : public Kernel {
 public:
  // Every call is forwarded to `inner`; each finished call's line goes to `sink`.
  TracingKernel(Kernel& inner, std::function<void(const std::string&)> sink);

  // Every call of the table (kernel_calls.def): forwarded, then traced.
#define EDGECASE_KERNEL_CALL(ret, name, params, args, fd) ret name params override;
#include "edgecase/kernel_calls.def"

 private:
  // Appends " = r" (then `note`, e.g. poll's " (Timeout)") or " = -1 EXXX (message)" and emits
  // the line; returns r unchanged.
  template <class R>
  R done(std::string call, R r, std::string_view note = {});

  Kernel& inner_;
  std::function<void(const std::string&)> sink_;
};

}  // namespace edgecase
