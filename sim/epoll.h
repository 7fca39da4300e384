// struct eventpoll (fs/eventpoll.c): an interest tree of items keyed by (file, fd), a FIFO ready
// list filled by the wait-queue callback, and collection that polls each queued item again.
// epoll does not compare old and new readiness: every wakeup queues the item, and the report is
// whatever poll() says at collection. ET, LT and ONESHOT differ only in what collection does
// with the item afterwards.
#pragma once

#include <array>
#include <cerrno>
#include <cstdint>
#include <string>
#include <sys/epoll.h>
#include <vector>

#include "sim/epitem.h"
#include "sim/file.h"
#include "sim/list.h"
#include "sim/rbtree.h"
#include "sim/wait.h"

namespace edgecase::sim {

// EP_MAX_NESTS: how many epoll levels may sit above or below one another.
inline constexpr int kEpMaxNests = 4;
// EP_MAX_EVENTS: the largest maxevents epoll_wait accepts.
inline constexpr int kEpMaxEvents = static_cast<int>(INT32_MAX / sizeof(epoll_event));
// EPOLLEXCLUSIVE_OK_BITS: the only flags EPOLLEXCLUSIVE may be combined with.
inline constexpr uint32_t kExclusiveOkBits =
    EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;

// PATH_ARR_SIZE: wakeup paths are counted by length, one counter per nesting depth 0..4.
inline constexpr int kPathArrSize = 5;
// path_limits[]: how many wakeup paths of each depth may lead up from one file (reverse_path_check).
// Depth 0 (the file's own epolls, not nested) is never limited: path_count_inc skips it, so the
// 1000 is never consulted.
inline constexpr std::array<int, kPathArrSize> kPathLimits = {1000, 500, 100, 50, 10};
static_assert(kPathArrSize == kEpMaxNests + 1, "reverse_path_check_proc stops past EP_MAX_NESTS");

// tfile_check_list: the non-epoll files an EPOLL_CTL_ADD with a full check gives new wakeup
// paths (the target, or every file below an epoll target); reverse_path_check counts theirs.
using TfileCheckList = std::vector<File*>;

// The interest tree orders items by (file creation serial, fd): the kernel's (file pointer, fd)
// with a deterministic stand-in for the pointer.
struct EpItemLess {
  bool operator()(const EpItem& a, const EpItem& b) const;
};

class EventPoll final : public File {
 public:
  // `user_watches` counts items across one kernel, against `max_user_watches` (ENOSPC).
  EventPoll(uint64_t* user_watches, uint64_t max_user_watches);

  uint32_t poll(int depth) override;  // ep_eventpoll_poll
  WaitQueue* wait_queue() override { return &poll_wait_; }
  void release() override;            // ep_clear_and_put: frees every item
  EventPoll* as_epoll() override { return this; }
  // ep_eventpoll_ioctl knows only EPIOCSPARAMS/EPIOCGPARAMS; the live kernel answers any other
  // request (FIONREAD included) with EINVAL.
  int ioctl(unsigned long, int*) override { return -EINVAL; }

  EpItem* find(const File* tf, int fd) const;             // ep_find
  // ep_insert: 0 or -errno. With `full_check` (do_epoll_ctl's), a non-epoll `tf` joins the list
  // and reverse_path_check runs once the item is linked: too many paths is -EINVAL.
  int insert(const epoll_event& ev, File* tf, int fd, TfileCheckList* full_check);
  void modify(EpItem* epi, const epoll_event& ev);        // ep_modify
  void remove(EpItem* epi);                               // ep_remove
  // ep_send_events: collects up to `maxevents` into `events`, or -EFAULT if `events` is NULL
  // and something was ready.
  int send_events(epoll_event* events, int maxevents);
  // ep_events_available: something is queued (not necessarily still ready).
  bool events_available() const { return !rdllist_.empty(); }
  // Callers blocked in epoll_wait sleep here (ep->wq).
  WaitQueue& waiters() { return wq_; }

  // ep_loop_check: would adding `to` under this instance make a loop or nest too deep? Lists
  // the non-epoll files below `to` on `tfiles` on the way (ep_loop_check_proc's list_file).
  bool loop_check(EventPoll* to, uint64_t gen, TfileCheckList* tfiles);

  std::vector<const EpItem*> items() const;  // in tree order
  std::string check() const;

 private:
  static int poll_callback(WaitEntry* w, uint32_t key);  // ep_poll_callback
  void queue_ready(EpItem* epi);  // append if not queued, then wake waiters and parents
  int loop_check_down(const EventPoll* inserting_into, uint64_t gen, int depth,
                      TfileCheckList* tfiles);  // ep_loop_check_proc
  int loop_check_up(uint64_t gen);               // ep_get_upwards_depth_proc

  RbTree<EpItem, &EpItem::rbn, EpItemLess> rbr_;
  IntrusiveList<EpItem, &EpItem::rdllink> rdllist_;
  WaitQueue wq_;         // epoll_wait callers
  WaitQueue poll_wait_;  // items of parent epolls watching this one
  uint64_t* user_watches_;
  uint64_t max_user_watches_;
  uint64_t gen_ = 0;     // loop_check_gen mark
  int loop_check_depth_ = 0;
};

// reverse_path_check: for each file on the list, counts the wakeup paths leading up from it
// through the epolls watching it; false (EINVAL) if a depth has more than kPathLimits allows or
// a path is deeper than EP_MAX_NESTS.
bool reverse_path_check(TfileCheckList& tfile_check_list);

// eventpoll_release: the file's last reference is gone; remove every item watching it.
void eventpoll_release(File* f);

}  // namespace edgecase::sim
