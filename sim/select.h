// poll(2)'s waiting (fs/select.c): struct poll_wqueues, the table a polling task registers on
// each file's wait queue while it sleeps.
//
// On its first pass over the fds, do_poll hands each file a poll table (__pollwait links one
// entry per file into the file's queue, keyed with the events asked for plus POLLERR and
// POLLHUP); the entries stay linked until poll returns (poll_freewait). A wakeup whose key
// misses an entry's key is ignored (pollwake); any other marks the table triggered and wakes
// the task, which then polls every fd again.
#pragma once

#include <cstdint>
#include <deque>

#include "sim/file.h"
#include "sim/wait.h"

namespace edgecase::sim {

// DEFAULT_POLLMASK: what vfs_poll reports for a file without a poll method (/dev/null).
inline constexpr uint32_t kDefaultPollMask = EPOLLIN | EPOLLOUT | EPOLLRDNORM | EPOLLWRNORM;

class PollWqueues {
 public:
  PollWqueues() = default;
  ~PollWqueues();  // poll_freewait: unlinks every entry, drops the file references
  PollWqueues(const PollWqueues&) = delete;
  PollWqueues& operator=(const PollWqueues&) = delete;

  // vfs_poll with this table: the file's mask (DEFAULT_POLLMASK without a poll method); when
  // `wait` is set, the table also joins the file's wait queue with `key` (__pollwait).
  uint32_t poll(File* f, uint32_t key, bool wait);
  // Where the polling task sleeps: pollwake wakes it.
  WaitQueue& task() { return task_; }
  // A wakeup arrived since the last reset (pwq->triggered): sleeping now would miss it.
  bool triggered = false;

 private:
  struct Entry : WaitEntry {  // struct poll_table_entry
    Entry(PollWqueues* t, File* f, uint32_t k) : WaitEntry(&PollWqueues::pollwake), table(t),
                                                 filp(f), key(k) {}
    PollWqueues* table;
    File* filp;  // holds a reference
    uint32_t key;
  };
  static int pollwake(WaitEntry* e, uint32_t key);

  std::deque<Entry> entries_;  // a deque: entries never move once linked
  WaitQueue task_;
};

}  // namespace edgecase::sim
