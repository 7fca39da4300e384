// struct files_struct / fdtable (fs/file.c): fd numbers pointing at open file descriptions.
// The lowest free number is always allocated. A two-level bitmap (open_fds and full_fds_bits, as
// in the kernel) keeps that O(1) amortised for sequential use and O(n/4096) at worst.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace edgecase::sim {

class File;

class FdTable {
 public:
  explicit FdTable(int nofile) : nofile_(nofile) {}
  ~FdTable();  // drops every reference still held
  FdTable(const FdTable&) = delete;
  FdTable& operator=(const FdTable&) = delete;

  int nofile() const { return nofile_; }
  void set_nofile(int limit) { nofile_ = limit; }
  // The file at `fd`, or nullptr (no reference taken).
  File* get(int fd) const {
    return fd >= 0 && static_cast<size_t>(fd) < slots_.size() ? slots_[fd].file : nullptr;
  }
  bool cloexec(int fd) const { return slots_[fd].cloexec; }
  void set_cloexec(int fd, bool on) { slots_[fd].cloexec = on; }

  // The lowest free fd >= `start` below the limit, or -EMFILE (alloc_fd).
  int alloc(int start = 0) const;
  // Stores `f` (taking over one reference) at free slot `fd` (fd_install).
  void install(int fd, File* f, bool cloexec);
  // Empties slot `fd` and returns its file, whose reference the caller now owns.
  File* remove(int fd);
  // One past the highest slot ever used.
  int size() const { return static_cast<int>(slots_.size()); }
  // Number of open fds.
  size_t open_count() const { return open_; }
  std::string check() const;

 private:
  struct Slot {
    File* file = nullptr;
    bool cloexec = false;
  };
  static constexpr int kBitsPerWord = 64;
  static constexpr size_t kNrOpenDefault = 64;  // NR_OPEN_DEFAULT: BITS_PER_LONG
  void mark(int fd, bool open);

  int nofile_;
  std::vector<Slot> slots_;
  std::vector<uint64_t> open_fds_;   // bit per fd
  std::vector<uint64_t> full_words_; // bit per open_fds_ word that is all ones
  size_t open_ = 0;
};

}  // namespace edgecase::sim
