// struct epitem (fs/eventpoll.c): one registration of (file, fd) in one epoll instance. It is at
// once a node of the interest tree, a link of the ready list, a link of the target file's f_ep
// list (so the file's last close can remove it) and an entry of the file's wait queue.
#pragma once

#include <sys/epoll.h>

#include "sim/list.h"
#include "sim/rbtree.h"
#include "sim/wait.h"

namespace edgecase::sim {

class File;
class EventPoll;

// EP_PRIVATE_BITS: flags that are not poll bits. A disarmed ONESHOT item keeps only these.
inline constexpr uint32_t kEpPrivateBits = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;

struct EpItem : WaitEntry {
  EpItem(EventPoll* owner, File* f, int target_fd, const epoll_event& ev, WaitEntry::Func cb)
      : WaitEntry(cb), ep(owner), file(f), fd(target_fd), event(ev) {}

  RbNode rbn;                  // in ep->rbr, keyed by (file id, fd)
  ListLink<EpItem> rdllink;    // in ep->rdllist while queued
  ListLink<EpItem> fllink;     // in file->f_ep
  EventPoll* ep;
  File* file;                  // not a counted reference: the file's release removes the item
  int fd;
  epoll_event event;           // stored mask (with ERR|HUP added) and user data

  bool disarmed() const { return (event.events & ~kEpPrivateBits) == 0; }
};

}  // namespace edgecase::sim
