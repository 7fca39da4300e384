#include "sim/epoll.h"

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <fcntl.h>

#include "edgecase/sim_kernel.h"
#include "sim/fdtable.h"

namespace edgecase::sim {

bool EpItemLess::operator()(const EpItem& a, const EpItem& b) const {
  return a.file->id != b.file->id ? a.file->id < b.file->id : a.fd < b.fd;
}

EventPoll::EventPoll(uint64_t* user_watches, uint64_t max_user_watches)
    : File(Kind::epoll, O_RDWR), user_watches_(user_watches), max_user_watches_(max_user_watches) {}

// ep_item_poll: the object's current state, filtered by the stored mask.
static uint32_t item_poll(const EpItem* epi, int depth) {
  return epi->file->poll(depth) & epi->event.events;
}

uint32_t EventPoll::poll(int depth) {
  // __ep_eventpoll_poll: queued items that are not ready any more are dropped on the way.
  while (EpItem* epi = rdllist_.front()) {
    if (item_poll(epi, depth + 1)) return EPOLLIN | EPOLLRDNORM;
    rdllist_.remove(epi);
  }
  return 0;
}

void EventPoll::queue_ready(EpItem* epi) {
  if (!rdllist_.linked(epi)) rdllist_.push_back(epi);
  wq_.wake(0);
  poll_wait_.wake(EPOLLIN);  // ep_poll_safewake: parents see this instance as readable
}

int EventPoll::poll_callback(WaitEntry* w, uint32_t key) {
  auto* epi = static_cast<EpItem*>(w);
  EventPoll* ep = epi->ep;
  // A disarmed ONESHOT item, or a wakeup for bits nobody asked for, is ignored.
  if (epi->disarmed()) return !(epi->event.events & EPOLLEXCLUSIVE);
  if (key && !(key & epi->event.events)) return !(epi->event.events & EPOLLEXCLUSIVE);
  // An exclusive item "wakes someone" only if an epoll_wait caller sleeps on it and the key
  // matches its IN/OUT interest; otherwise the wake-one pass goes on to the next entry.
  int ewake = !(epi->event.events & EPOLLEXCLUSIVE);
  if (!ewake && !ep->wq_.empty()) {
    switch (key & (EPOLLIN | EPOLLOUT)) {
      case EPOLLIN: ewake = (epi->event.events & EPOLLIN) != 0; break;
      case EPOLLOUT: ewake = (epi->event.events & EPOLLOUT) != 0; break;
      case 0: ewake = 1; break;
      default: break;
    }
  }
  ep->queue_ready(epi);
  return ewake;
}

EpItem* EventPoll::find(const File* tf, int fd) const {
  struct Key {
    uint64_t id;
    int fd;
  } key{tf->id, fd};
  return rbr_.find(key, [](const Key& k, const EpItem& e) {
    if (k.id != e.file->id) return k.id < e.file->id ? -1 : 1;
    return k.fd < e.fd ? -1 : (k.fd > e.fd ? 1 : 0);
  });
}

int EventPoll::insert(const epoll_event& ev, File* tf, int fd, TfileCheckList* full_check) {
  if (*user_watches_ >= max_user_watches_) return -ENOSPC;
  auto* epi = new EpItem(this, tf, fd, ev, &EventPoll::poll_callback);
  epi->exclusive = (ev.events & EPOLLEXCLUSIVE) != 0;
  ++*user_watches_;
  tf->f_ep.push_back(epi);  // attach_epitem
  if (full_check && !tf->as_epoll()) full_check->push_back(tf);  // list_file
  bool inserted = rbr_.insert(epi);
  assert(inserted);
  (void)inserted;
  // The new link is in place, so its paths count; on failure it goes again (ep_remove_safe)
  // before it ever reached the target's wait queue or the ready list: nothing to observe.
  if (full_check && !reverse_path_check(*full_check)) {
    rbr_.erase(epi);
    tf->f_ep.remove(epi);
    --*user_watches_;
    delete epi;
    return -EINVAL;
  }
  // ep_ptable_queue_proc: hook the item onto the object's wait queue, then poll once.
  tf->wait_queue()->add(epi);
  if (item_poll(epi, 1)) queue_ready(epi);
  return 0;
}

void EventPoll::modify(EpItem* epi, const epoll_event& ev) {
  epi->event = ev;  // also updates the data of an item already on the ready list
  // Unlike the callback, ep_modify queues and wakes only if the item is not queued yet: a MOD
  // of a queued item wakes neither epoll_wait callers nor parent epolls.
  if (item_poll(epi, 1) && !rdllist_.linked(epi)) queue_ready(epi);
}

void EventPoll::remove(EpItem* epi) {
  epi->file->wait_queue()->remove(epi);
  epi->file->f_ep.remove(epi);
  rbr_.erase(epi);
  if (rdllist_.linked(epi)) rdllist_.remove(epi);
  --*user_watches_;
  delete epi;
}

int EventPoll::send_events(epoll_event* events, int maxevents) {
  // ep_start_scan: take the whole ready list. Wakeups cannot run during the scan here (poll
  // has no side effects), so the kernel's overflow list is always empty.
  IntrusiveList<EpItem, &EpItem::rdllink> txlist;
  txlist.splice_front(rdllist_);
  int res = 0;
  while (EpItem* epi = txlist.front()) {
    if (res >= maxevents) break;
    txlist.remove(epi);
    uint32_t revents = item_poll(epi, 1);
    if (!revents) continue;  // queued but not ready any more: dropped silently
    if (events == nullptr) {  // epoll_put_uevent failed
      txlist.push_front(epi);
      if (!res) res = -EFAULT;
      break;
    }
    events[res].events = revents;
    events[res].data = epi->event.data;
    ++res;
    if (epi->event.events & EPOLLONESHOT) {
      epi->event.events &= kEpPrivateBits;  // disarmed until MOD
    } else if (!(epi->event.events & EPOLLET)) {
      rdllist_.push_back(epi);  // level-triggered: back at the tail, round robin
    }
  }
  // ep_done_scan: items not reached go back to the head, in order.
  rdllist_.splice_front(txlist);
  if (!rdllist_.empty()) wq_.wake(0);
  return res;
}

int EventPoll::loop_check_down(const EventPoll* inserting_into, uint64_t gen, int depth,
                                TfileCheckList* tfiles) {
  if (gen_ == gen) return loop_check_depth_;
  gen_ = gen;
  int result = 0;
  for (EpItem* epi = rbr_.first(); epi; epi = rbr_.next(epi)) {
    EventPoll* child = epi->file->as_epoll();
    if (!child) {
      // A file below the epoll being added gains paths: reverse_path_check counts them.
      tfiles->push_back(epi->file);  // list_file
      continue;
    }
    if (child == inserting_into || depth > kEpMaxNests)
      result = kEpMaxNests + 1;
    else
      result = std::max(result, child->loop_check_down(inserting_into, gen, depth + 1, tfiles) + 1);
    if (result > kEpMaxNests) break;
  }
  loop_check_depth_ = result;
  return result;
}

int EventPoll::loop_check_up(uint64_t gen) {
  if (gen_ == gen) return loop_check_depth_;
  int result = 0;
  for (EpItem* epi = f_ep.front(); epi; epi = decltype(f_ep)::next(epi))
    result = std::max(result, epi->ep->loop_check_up(gen) + 1);
  gen_ = gen;
  loop_check_depth_ = result;
  return result;
}

bool EventPoll::loop_check(EventPoll* to, uint64_t gen, TfileCheckList* tfiles) {
  int depth = to->loop_check_down(this, gen, 0, tfiles);
  if (depth > kEpMaxNests) return false;
  int upwards = loop_check_up(gen);
  return depth + 1 + upwards <= kEpMaxNests;
}

void EventPoll::release() {
  while (EpItem* epi = rbr_.first()) remove(epi);
}

std::vector<const EpItem*> EventPoll::items() const {
  std::vector<const EpItem*> out;
  out.reserve(rbr_.size());
  for (EpItem* epi = rbr_.first(); epi; epi = rbr_.next(epi)) out.push_back(epi);
  return out;
}

std::string EventPoll::check() const {
  if (std::string tree = rbr_.check(); !tree.empty()) return "epoll tree: " + tree;
  size_t queued = 0;
  for (EpItem* epi = rdllist_.front(); epi; epi = decltype(rdllist_)::next(epi)) {
    if (epi->ep != this) return "epoll: foreign item on the ready list";
    if (find(epi->file, epi->fd) != epi) return "epoll: ready item not in the tree";
    ++queued;
  }
  if (queued != rdllist_.size()) return "epoll: ready list count wrong";
  for (EpItem* epi = rbr_.first(); epi; epi = rbr_.next(epi)) {
    if ((epi->event.events & (EPOLLERR | EPOLLHUP)) != (EPOLLERR | EPOLLHUP) && !epi->disarmed())
      return "epoll: armed item without ERR|HUP in its mask";
    if (epi->file->f_count <= 0) return "epoll: item on a dead file";
  }
  return "";
}

namespace {

// path_count[]: the paths found so far from one file, per depth.
class PathCount {
 public:
  // path_count_inc: false once a depth has more paths than its limit. Depth 0 is free.
  bool inc(int nests) {
    assert(nests >= 0 && nests < kPathArrSize);
    if (nests == 0) return true;
    auto i = static_cast<size_t>(nests);
    return ++count_[i] <= kPathLimits[i];
  }

 private:
  std::array<int, kPathArrSize> count_{};
};

using Refs = IntrusiveList<EpItem, &EpItem::fllink>;  // a file's f_ep, an epoll's refs

// reverse_path_check_proc: walks up from the items in `refs` (a file's f_ep, or an epoll's
// refs); a path ends at an epoll nobody watches and counts at the depth it ended. Every path
// is counted, so an epoll reached twice (dup'd fds, diamonds) counts twice.
bool reverse_path_check_proc(const Refs& refs, int depth, PathCount& paths) {
  if (depth > kEpMaxNests) return false;  // too deep nesting
  for (const EpItem* epi = refs.front(); epi; epi = Refs::next(epi)) {
    const auto& up = epi->ep->f_ep;
    if (!(up.empty() ? paths.inc(depth) : reverse_path_check_proc(up, depth + 1, paths)))
      return false;
  }
  return true;
}

}  // namespace

bool reverse_path_check(TfileCheckList& tfile_check_list) {
  // list_file lists a file once; order does not matter, since any file over a limit fails.
  auto by_id = [](const File* a, const File* b) { return a->id < b->id; };
  std::sort(tfile_check_list.begin(), tfile_check_list.end(), by_id);
  tfile_check_list.erase(std::unique(tfile_check_list.begin(), tfile_check_list.end()),
                         tfile_check_list.end());
  for (const File* f : tfile_check_list) {
    assert(f->kind() != File::Kind::epoll);
    PathCount paths;  // path_count_init
    if (!reverse_path_check_proc(f->f_ep, 0, paths)) return false;
  }
  return true;
}

void eventpoll_release(File* f) {
  while (EpItem* epi = f->f_ep.front()) epi->ep->remove(epi);
}

}  // namespace edgecase::sim

// --- system calls (SYSCALL_DEFINE in fs/eventpoll.c) ------------------------------------------
namespace edgecase {

using sim::EventPoll;
using sim::File;

int SimKernel::epoll_create1(int flags) {
  if (flags & ~EPOLL_CLOEXEC) return errno = EINVAL, -1;
  auto* ep = new EventPoll(&user_watches_, options_.max_user_watches);
  int fd = install(born(ep), (flags & EPOLL_CLOEXEC) != 0);
  if (fd < 0) return errno = -fd, -1;
  return fd;
}

int SimKernel::epoll_create(int size) {
  if (size <= 0) return errno = EINVAL, -1;
  return epoll_create1(0);
}

int SimKernel::epoll_ctl(int epfd, int op, int fd, struct epoll_event* event) {
  // The checks run in do_epoll_ctl's order; each one decides the errno when several apply.
  const bool has_event = op != EPOLL_CTL_DEL;
  epoll_event epds{};
  if (has_event) {
    if (event == nullptr) return errno = EFAULT, -1;
    epds = *event;
  }
  sim::FileRef f(fdt_->get(epfd));
  if (!f) return errno = EBADF, -1;
  sim::FileRef tf(fdt_->get(fd));
  if (!tf) return errno = EBADF, -1;
  if (tf->wait_queue() == nullptr) return errno = EPERM, -1;
  if (has_event && (epds.events & EPOLLWAKEUP) && !options_.cap_block_suspend)
    epds.events &= ~static_cast<uint32_t>(EPOLLWAKEUP);
  EventPoll* ep = f->as_epoll();
  if (f.get() == tf.get() || ep == nullptr) return errno = EINVAL, -1;
  if (has_event && (epds.events & EPOLLEXCLUSIVE)) {
    if (op == EPOLL_CTL_MOD) return errno = EINVAL, -1;
    if (op == EPOLL_CTL_ADD &&
        (tf->as_epoll() != nullptr || (epds.events & ~sim::kExclusiveOkBits)))
      return errno = EINVAL, -1;
  }
  // do_epoll_ctl: an ADD takes the full check (loops, depth, wakeup paths) when the target is
  // an epoll or when this epoll is itself watched by one (its file's f_ep is not empty). The
  // kernel's third condition, ep->gen == loop_check_gen, holds only while another thread's
  // check is running: never here.
  sim::TfileCheckList tfile_check_list;
  const bool full_check =
      op == EPOLL_CTL_ADD && (!f->f_ep.empty() || tf->as_epoll() != nullptr);
  if (full_check && tf->as_epoll() != nullptr &&
      !ep->loop_check(tf->as_epoll(), ++loop_check_gen_, &tfile_check_list))
    return errno = ELOOP, -1;

  sim::EpItem* epi = ep->find(tf.get(), fd);
  int error = -EINVAL;
  switch (op) {
    case EPOLL_CTL_ADD:
      if (epi) { error = -EEXIST; break; }
      epds.events |= EPOLLERR | EPOLLHUP;
      error = ep->insert(epds, tf.get(), fd, full_check ? &tfile_check_list : nullptr);
      break;
    case EPOLL_CTL_DEL:
      if (!epi) { error = -ENOENT; break; }
      ep->remove(epi);
      error = 0;
      break;
    case EPOLL_CTL_MOD:
      if (!epi) { error = -ENOENT; break; }
      if (epi->event.events & EPOLLEXCLUSIVE) break;  // EINVAL
      epds.events |= EPOLLERR | EPOLLHUP;
      ep->modify(epi, epds);
      error = 0;
      break;
    default:
      break;
  }
  if (error < 0) return errno = -error, -1;
  return 0;
}

int SimKernel::epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) {
  return do_epoll_wait(epfd, events, maxevents, timeout);
}

// Signals are not simulated, so the mask has nothing to change for the wait.
int SimKernel::epoll_pwait(int epfd, struct epoll_event* events, int maxevents, int timeout,
                           const sigset_t*) {
  return do_epoll_wait(epfd, events, maxevents, timeout);
}

int SimKernel::do_epoll_wait(int epfd, struct epoll_event* events, int maxevents, int timeout) {
  // Linux 6.18 looks the fd up first (EBADF), then checks maxevents, then the area (a NULL
  // area passes access_ok and fails only when an event is copied out), then the file type.
  sim::FileRef f(fdt_->get(epfd));
  if (!f) return errno = EBADF, -1;
  if (maxevents <= 0 || maxevents > sim::kEpMaxEvents) return errno = EINVAL, -1;
  EventPoll* ep = f->as_epoll();
  if (ep == nullptr) return errno = EINVAL, -1;

  constexpr int64_t kNanosPerMilli = 1'000'000;
  std::optional<int64_t> deadline;
  if (timeout >= 0) deadline = now_ns() + int64_t{timeout} * kNanosPerMilli;
  bool timed_out = timeout == 0;
  // ep_poll: collect; if nothing was ready, sleep on ep->wq until a callback or the deadline.
  for (;;) {
    if (ep->events_available()) {
      int res = ep->send_events(events, maxevents);
      if (res < 0) return errno = -res, -1;
      if (res > 0) return res;
    }
    if (timed_out) return 0;
    switch (block(ep->waiters(), deadline, "epoll_wait", epfd)) {
      case sim::WaitResult::woken: break;
      case sim::WaitResult::timed_out: timed_out = true; break;
      case sim::WaitResult::interrupted: return errno = EINTR, -1;
    }
  }
}

}  // namespace edgecase
