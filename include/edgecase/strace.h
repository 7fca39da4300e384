// Strace-shaped traces of Kernel calls.
//
// TracingKernel wraps any Kernel and records each call as one line, the way strace prints it:
//   epoll_ctl(3, EPOLL_CTL_ADD, 4, {events=EPOLLIN|EPOLLET, data.u64=4}) = 0
//   read(4, "hello", 3) = 3
//   read(4, 0x..., 64) = -1 EAGAIN (Resource temporarily unavailable)
// Buffers are shown by content (never by address), so two backends running the same calls
// produce the same lines when they behave the same; epoll_event.data that looks like an address
// is shown by a per-trace name (DataNames, below).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
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

// How a trace shows epoll_event.data, so that the same case gives the same line in every
// process (docs/DETERMINISM.md, "Pointers in epoll_data"). A handler may store a pointer in
// data.ptr; under ASLR its value differs from one process to the next. A value that looks like
// a user-space address is shown as a name numbered by first appearance in the run
// ("data.ptr=ptr#1"); any other value as the number it is ("data.u64=5"). A value whose upper
// 32 bits are those of a named pointer and whose lower 32 bits are small is a small number
// (an fd) written over an earlier pointer through data.fd or data.u32, which leaves the
// pointer's upper half in place: shown as "data.u64=hi32(ptr#1)|5". A small number over any
// other upper half was written through data.fd into an epoll_event never zeroed (the common C
// idiom): the upper half is whatever the stack held (a canary, an old address, zero), which
// differs between processes and builds, so only the number is shown ("data.u64=5"). One
// DataNames per trace (TracingKernel, Observer): no state outlives a run.
class DataNames {
 public:
  // x86-64 Linux with 4-level page tables: user space ends at TASK_SIZE_MAX, just under 2^47
  // (arch/x86/include/asm/page_64_types.h); an address above it is never a user pointer.
  static constexpr uint64_t kUserSpaceEnd = uint64_t{1} << 47;
  // Below 4 GiB lies nothing that ASLR places: PIE executables and their brk heap load near
  // ELF_ET_DYN_BASE (0x555555554000 plus up to 2^28 pages of randomisation), libraries, large
  // malloc blocks and thread stacks under mmap_base (0x7f...), the stack at 0x7ffc... . Fds,
  // counts, indexes and 32-bit values (data.fd, data.u32) are all below it, so they keep
  // printing as numbers. (A non-PIE executable's static data and brk heap are below 4 GiB:
  // pointers into them print as numbers; the kit and its handlers are built PIE.)
  static constexpr uint64_t kAddressLow = uint64_t{1} << 32;
  // The lower half of a pointer overwritten by data.fd: the fds of the kit's runs are below it
  // (the simulated fd table and RLIMIT_NOFILE's usual soft limit, 1024, are far smaller). A
  // second true pointer in the same 4 GiB as a named one (the same stack) has its lower half
  // below it about once in 2^16 processes: then its text depends on the address layout.
  static constexpr uint64_t kStaleLowEnd = uint64_t{1} << 16;

  static bool looks_like_address(uint64_t v) { return v >= kAddressLow && v < kUserSpaceEnd; }

  // "5", "ptr#1" or "hi32(ptr#1)|5": an address-like `v` is named the first time it is seen
  // and keeps that text for the rest of the run.
  std::string text(uint64_t v);
  // The field as a trace line shows it: "data.u64=5", "data.ptr=ptr#1", "data.u64=hi32(...)|5".
  std::string field(uint64_t v);

 private:
  std::map<uint64_t, std::string> texts_;     // each address-like value seen: its text
  std::map<uint32_t, unsigned> upper_halves_;  // a named pointer's upper 32 bits: its number
  unsigned named_ = 0;                         // pointers named so far
};

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
  DataNames data_names_;  // this trace's pointer names: a new TracingKernel starts at ptr#1
};

}  // namespace edgecase
