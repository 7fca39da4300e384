// A run's trace: strace-shaped lines for the handler's calls and one line per world event,
// each stamped with virtual time, e.g.
//   [    1.250ms] epoll_wait(4, [{events=EPOLLIN, data.u64=5}], 64, -1) = 1
//   [    1.200ms] net: 127.0.0.1.32768 > 127.0.0.1.7000: Flags [P.], seq 1:101, ack 1, length 100
// The last kTailLines are kept for reports; every line is folded into a hash (FNV-1a, fixed
// by its definition, so both compilers agree) and, on request, kept in full or written out.
#pragma once

#include <cassert>
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/scenario.h"

namespace edgecase::sim {

class Trace {
 public:
  static constexpr size_t kTailLines = 50;
  static constexpr uint64_t kFnvOffset = 0xcbf29ce484222325ULL;
  static constexpr uint64_t kFnvPrime = 0x100000001b3ULL;

  // "[    1.250ms]": milliseconds with microsecond digits, right-aligned.
  static std::string stamp(Nanos at);
  // The same, appended to `out`.
  static void append_stamp(Nanos at, std::string& out);

  void line(Nanos at, std::string_view text) {
    // The line dropping out of the tail lends its buffer: a long run allocates no string per
    // line (it traces tens of thousands).
    std::string s;
    if (tail_.size() >= kTailLines) {
      s = std::move(tail_.front());
      tail_.pop_front();
      s.clear();
    }
    append_stamp(at, s);
    s += ' ';
    s += text;
    for (unsigned char c : s) hash_ = (hash_ ^ c) * kFnvPrime;
    hash_ = (hash_ ^ static_cast<unsigned char>('\n')) * kFnvPrime;
    ++count_;
    if (keep_all_) all_.push_back(s);
    if (sink_) sink_(s);
    tail_.push_back(std::move(s));
    assert(tail_.size() <= kTailLines);
  }

  // Hand every line, as it is written, to `sink` (a timeline recorded in a child process
  // that may crash: the lines before the crash are out already).
  void set_sink(std::function<void(const std::string&)> sink) { sink_ = std::move(sink); }
  // Keep every line (for writing the trace out or comparing line by line).
  void keep_all(bool on) { keep_all_ = on; }
  const std::vector<std::string>& all() const { return all_; }
  const std::deque<std::string>& tail() const { return tail_; }
  uint64_t hash() const { return hash_; }
  uint64_t count() const { return count_; }

 private:
  std::deque<std::string> tail_;
  std::vector<std::string> all_;
  uint64_t hash_ = kFnvOffset;
  uint64_t count_ = 0;
  bool keep_all_ = false;
  std::function<void(const std::string&)> sink_;
};

}  // namespace edgecase::sim
