// A FIFO of bytes for a socket's send and receive queues: appended at the back, consumed from
// the front, read anywhere in between. One contiguous buffer whose consumed prefix is dropped
// once it outgrows the bytes still queued, so a steady stream allocates only while its
// high-water mark grows and every read or segment is one copy.
#pragma once

#include <cassert>
#include <cstddef>
#include <vector>

namespace edgecase::sim {

class ByteQueue {
 public:
  // Below this, a consumed prefix is never worth moving the queued bytes for.
  static constexpr size_t kCompactMin = 4096;

  size_t size() const { return buf_.size() - head_; }
  bool empty() const { return size() == 0; }
  // The queued bytes, contiguous: [data(), data() + size()).
  const std::byte* data() const { return buf_.data() + head_; }

  void append(const std::byte* p, size_t n) { buf_.insert(buf_.end(), p, p + n); }
  void consume(size_t n) {
    assert(n <= size());
    head_ += n;
    if (head_ == buf_.size()) {
      clear();  // keeps the capacity
    } else if (head_ >= kCompactMin && head_ >= size()) {
      buf_.erase(buf_.begin(), buf_.begin() + static_cast<std::ptrdiff_t>(head_));
      head_ = 0;
    }
  }
  void clear() {
    buf_.clear();
    head_ = 0;
  }

 private:
  std::vector<std::byte> buf_;
  size_t head_ = 0;  // bytes at the front already consumed
};

}  // namespace edgecase::sim
