// A FIFO of bytes for a socket's send and receive queues: appended at the back, consumed from
// the front, read anywhere in between. A ring buffer: consuming moves no bytes, and a steady
// stream allocates only while its high-water mark grows (then the queued bytes are copied once
// into the larger ring). Every append, read or segment is one copy (two memcpy at the wrap).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

namespace edgecase::sim {

class ByteQueue {
 public:
  // The smallest ring allocated: below this, growing by doubling costs more calls than bytes.
  static constexpr size_t kMinCapacity = 4096;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void append(const std::byte* p, size_t n) {
    if (n == 0) return;
    if (size_ + n > cap_) grow(size_ + n);
    const size_t tail = (head_ + size_) % cap_;
    const size_t first = std::min(n, cap_ - tail);
    std::memcpy(buf_.get() + tail, p, first);
    std::memcpy(buf_.get(), p + first, n - first);
    size_ += n;
  }
  // Queued bytes [offset, offset + n) into `out`.
  void copy_out(size_t offset, std::byte* out, size_t n) const {
    assert(offset + n <= size_);
    if (n == 0) return;
    const size_t at = (head_ + offset) % cap_;
    const size_t first = std::min(n, cap_ - at);
    std::memcpy(out, buf_.get() + at, first);
    std::memcpy(out + first, buf_.get(), n - first);
  }
  // Queued bytes [offset, offset + n) appended to `out` (no zero-filling first).
  void copy_out(size_t offset, size_t n, std::vector<std::byte>& out) const {
    assert(offset + n <= size_);
    if (n == 0) return;
    const size_t at = (head_ + offset) % cap_;
    const size_t first = std::min(n, cap_ - at);
    out.reserve(out.size() + n);
    out.insert(out.end(), buf_.get() + at, buf_.get() + at + first);
    out.insert(out.end(), buf_.get(), buf_.get() + (n - first));
  }
  void consume(size_t n) {
    assert(n <= size_);
    size_ -= n;
    head_ = size_ == 0 ? 0 : (head_ + n) % cap_;
  }
  void clear() {
    head_ = 0;  // keeps the capacity
    size_ = 0;
  }

 private:
  void grow(size_t need) {
    // Not zero-filled: every byte is written before it is read, and a ring's pages are touched
    // only as the stream reaches them.
    const size_t cap = std::max({need, 2 * cap_, kMinCapacity});
    std::unique_ptr<std::byte[]> bigger(new std::byte[cap]);
    copy_out(0, bigger.get(), size_);
    buf_ = std::move(bigger);
    cap_ = cap;
    head_ = 0;
  }

  std::unique_ptr<std::byte[]> buf_;
  size_t cap_ = 0;   // bytes allocated at buf_
  size_t head_ = 0;  // where the oldest queued byte is
  size_t size_ = 0;  // bytes queued
};

}  // namespace edgecase::sim
