// The world's agenda: events due at virtual times. The pop order is a pure function of the push
// and cancel calls (time, then push order), never of addresses or hashing, so a seed replays.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "sim/wait.h"

namespace edgecase::sim {

template <class T>
class EventQueue {
 public:
  // Ids start above 0 so a caller may keep 0 as "no event scheduled".
  static constexpr uint64_t kFirstId = 1;

  // Returns the event's id, for cancel(). Ids double as the tie-break: they only grow, so
  // events due at the same time pop in the order they were pushed.
  uint64_t push(Nanos at, T payload) {
    const uint64_t id = next_id_++;
    heap_.push_back(Entry{at, id, std::move(payload)});
    std::push_heap(heap_.begin(), heap_.end(), Later{});
    ++live_;
    check();
    return id;
  }

  bool empty() const { return live_ == 0; }
  std::size_t size() const { return live_; }

  Nanos next_time() const {
    assert(!empty());
    return heap_.front().at;
  }

  std::pair<Nanos, T> pop() {
    assert(!empty());
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    Entry e = std::move(heap_.back());
    heap_.pop_back();
    --live_;
    drop_cancelled_head();
    check();
    return {e.at, std::move(e.payload)};
  }

  // False for an id that was never pushed, already popped or already cancelled. Cancelling is
  // lazy: the entry stays in the heap, dead, until it reaches the top. The head is always live,
  // which is what lets next_time() stay const. Cancelling is rare (an actor replacing its
  // timer) and the heap small, so it pays a scan to keep push and pop free of bookkeeping.
  bool cancel(uint64_t id) {
    if (is_cancelled(id)) return false;
    const bool queued = std::any_of(heap_.begin(), heap_.end(),
                                    [id](const Entry& e) { return e.id == id; });
    if (!queued) return false;
    cancelled_.insert(std::upper_bound(cancelled_.begin(), cancelled_.end(), id), id);
    --live_;
    drop_cancelled_head();
    check();
    return true;
  }

 private:
  struct Entry {
    Nanos at;
    uint64_t id;
    T payload;
  };
  // std heaps keep the greatest element on top; "greatest" here is the earliest (time, id).
  struct Later {
    bool operator()(const Entry& a, const Entry& b) const {
      return a.at != b.at ? a.at > b.at : a.id > b.id;
    }
  };

  bool is_cancelled(uint64_t id) const {
    return std::binary_search(cancelled_.begin(), cancelled_.end(), id);
  }

  void drop_cancelled_head() {
    while (!heap_.empty() && is_cancelled(heap_.front().id)) {
      cancelled_.erase(std::lower_bound(cancelled_.begin(), cancelled_.end(), heap_.front().id));
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      heap_.pop_back();
    }
  }

  // Cheap invariants only (this runs on every operation): every heap entry is live or
  // cancelled, and the head is live.
  void check() const {
    assert(live_ + cancelled_.size() == heap_.size());
    assert(heap_.empty() == (live_ == 0));
    assert(heap_.empty() || !is_cancelled(heap_.front().id));
  }

  std::vector<Entry> heap_;
  std::size_t live_ = 0;  // entries neither popped nor cancelled
  // Ids of cancelled entries still in the heap, sorted.
  std::vector<uint64_t> cancelled_;
  uint64_t next_id_ = kFirstId;
};

}  // namespace edgecase::sim
