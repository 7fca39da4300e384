#include "sim/fdtable.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cerrno>

#include "sim/file.h"

namespace edgecase::sim {

FdTable::~FdTable() {
  // Close from the highest fd down, so that releases run in a fixed order.
  for (size_t fd = slots_.size(); fd-- > 0;)
    if (slots_[fd].file) fput(remove(static_cast<int>(fd)));
}

int FdTable::alloc(int start) const {
  const size_t words = open_fds_.size();
  size_t w = static_cast<size_t>(start) / kBitsPerWord;
  // Within the first word, bits below `start` do not count.
  if (w < words) {
    uint64_t taken = open_fds_[w] | ((uint64_t{1} << (start % kBitsPerWord)) - 1);
    if (~taken) {
      int fd = static_cast<int>(w * kBitsPerWord) + std::countr_one(taken);
      return fd < nofile_ ? fd : -EMFILE;
    }
    ++w;
  }
  // Skip full words 64 at a time through the summary bitmap.
  while (w < words) {
    size_t sw = w / kBitsPerWord;
    uint64_t full = full_words_[sw] | ((uint64_t{1} << (w % kBitsPerWord)) - 1);
    if (~full) {
      w = sw * kBitsPerWord + static_cast<size_t>(std::countr_one(full));
      if (w >= words) break;
      int fd = static_cast<int>(w * kBitsPerWord) + std::countr_one(open_fds_[w]);
      return fd < nofile_ ? fd : -EMFILE;
    }
    w = (sw + 1) * kBitsPerWord;
  }
  int fd = static_cast<int>(std::max<size_t>(words * kBitsPerWord, static_cast<size_t>(start)));
  return fd < nofile_ ? fd : -EMFILE;
}

void FdTable::mark(int fd, bool open) {
  size_t w = static_cast<size_t>(fd) / kBitsPerWord;
  if (w >= open_fds_.size()) {
    open_fds_.resize(w + 1, 0);
    full_words_.resize(w / kBitsPerWord + 1, 0);
  }
  uint64_t bit = uint64_t{1} << (fd % kBitsPerWord);
  if (open) open_fds_[w] |= bit; else open_fds_[w] &= ~bit;
  uint64_t sbit = uint64_t{1} << (w % kBitsPerWord);
  if (open_fds_[w] == ~uint64_t{0}) full_words_[w / kBitsPerWord] |= sbit;
  else full_words_[w / kBitsPerWord] &= ~sbit;
}

void FdTable::install(int fd, File* f, bool cloexec) {
  assert(fd >= 0 && fd < nofile_);
  if (static_cast<size_t>(fd) >= slots_.size()) {
    // Capacity as expand_fdtable() sizes it: NR_OPEN_DEFAULT (BITS_PER_LONG) slots in the
    // files_struct to begin with, then powers of two; one allocation for a run's first 64 fds.
    if (static_cast<size_t>(fd) >= slots_.capacity())
      slots_.reserve(std::max<size_t>(
          static_cast<size_t>(fd) + 1,
          std::min<size_t>(std::max(kNrOpenDefault, std::bit_ceil(static_cast<size_t>(fd) + 1)),
                           static_cast<size_t>(nofile_))));
    slots_.resize(static_cast<size_t>(fd) + 1);
  }
  assert(slots_[fd].file == nullptr);
  slots_[fd] = {f, cloexec};
  mark(fd, true);
  ++open_;
}

File* FdTable::remove(int fd) {
  File* f = get(fd);
  assert(f);
  slots_[fd] = {};
  mark(fd, false);
  --open_;
  return f;
}

std::string FdTable::check() const {
  size_t n = 0;
  for (size_t fd = 0; fd < slots_.size(); ++fd) {
    bool bit = (open_fds_[fd / kBitsPerWord] >> (fd % kBitsPerWord)) & 1;
    if (bit != (slots_[fd].file != nullptr)) return "fdtable: bitmap disagrees at fd " + std::to_string(fd);
    if (slots_[fd].file) {
      ++n;
      if (slots_[fd].file->f_count <= 0) return "fdtable: fd " + std::to_string(fd) + " has a dead file";
    }
  }
  for (size_t w = 0; w < open_fds_.size(); ++w) {
    bool full = (full_words_[w / kBitsPerWord] >> (w % kBitsPerWord)) & 1;
    if (full != (open_fds_[w] == ~uint64_t{0})) return "fdtable: summary wrong at word " + std::to_string(w);
  }
  return n == open_ ? "" : "fdtable: open count wrong";
}

}  // namespace edgecase::sim
