// A FIFO of bytes for a socket's send and receive queues: appended at the back, consumed from
// the front, read anywhere in between. A ring buffer: consuming moves no bytes, and a steady
// stream allocates only while its high-water mark grows (then the queued bytes are copied once
// into the larger ring). Every append, read or segment is one copy (two memcpy at the wrap).
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstring>
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
    if (size_ + n > buf_.size()) grow(size_ + n);
    const size_t tail = (head_ + size_) % buf_.size();
    const size_t first = std::min(n, buf_.size() - tail);
    std::memcpy(buf_.data() + tail, p, first);
    std::memcpy(buf_.data(), p + first, n - first);
    size_ += n;
  }
  // Queued bytes [offset, offset + n) into `out`.
  void copy_out(size_t offset, std::byte* out, size_t n) const {
    assert(offset + n <= size_);
    if (n == 0) return;
    const size_t at = (head_ + offset) % buf_.size();
    const size_t first = std::min(n, buf_.size() - at);
    std::memcpy(out, buf_.data() + at, first);
    std::memcpy(out + first, buf_.data(), n - first);
  }
  // Queued bytes [offset, offset + n) appended to `out` (no zero-filling first).
  void copy_out(size_t offset, size_t n, std::vector<std::byte>& out) const {
    assert(offset + n <= size_);
    if (n == 0) return;
    const size_t at = (head_ + offset) % buf_.size();
    const size_t first = std::min(n, buf_.size() - at);
    out.reserve(out.size() + n);
    out.insert(out.end(), buf_.begin() + static_cast<std::ptrdiff_t>(at),
               buf_.begin() + static_cast<std::ptrdiff_t>(at + first));
    out.insert(out.end(), buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(n - first));
  }
  void consume(size_t n) {
    assert(n <= size_);
    size_ -= n;
    head_ = size_ == 0 ? 0 : (head_ + n) % buf_.size();
  }
  void clear() {
    head_ = 0;  // keeps the capacity
    size_ = 0;
  }

 private:
  void grow(size_t need) {
    std::vector<std::byte> bigger(std::max({need, 2 * buf_.size(), kMinCapacity}));
    copy_out(0, bigger.data(), size_);
    buf_.swap(bigger);
    head_ = 0;
  }

  std::vector<std::byte> buf_;
  size_t head_ = 0;  // where the oldest queued byte is
  size_t size_ = 0;  // bytes queued
};

}  // namespace edgecase::sim
