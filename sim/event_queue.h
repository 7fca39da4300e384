// The world's agenda: events due at virtual times. The pop order is a pure function of the push
// and cancel calls (time, then push order), never of addresses or hashing, so a seed replays.
#pragma once

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <set>
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
    live_.insert(id);
    check();
    return id;
  }

  bool empty() const { return live_.empty(); }
  std::size_t size() const { return live_.size(); }

  Nanos next_time() const {
    assert(!empty());
    return heap_.front().at;
  }

  std::pair<Nanos, T> pop() {
    assert(!empty());
    std::pop_heap(heap_.begin(), heap_.end(), Later{});
    Entry e = std::move(heap_.back());
    heap_.pop_back();
    live_.erase(e.id);
    drop_cancelled_head();
    check();
    return {e.at, std::move(e.payload)};
  }

  // False for an id that was never pushed, already popped or already cancelled. Cancelling is
  // lazy: the entry stays in the heap, dead, until it reaches the top. The head is always live,
  // which is what lets next_time() stay const.
  bool cancel(uint64_t id) {
    if (live_.erase(id) == 0) return false;
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

  void drop_cancelled_head() {
    while (!heap_.empty() && !live_.contains(heap_.front().id)) {
      std::pop_heap(heap_.begin(), heap_.end(), Later{});
      heap_.pop_back();
    }
  }

  // Cheap invariants only (this runs on every operation): the live set is a subset of the heap
  // and the head is live.
  void check() const {
    assert(live_.size() <= heap_.size());
    assert(heap_.empty() == live_.empty());
    assert(heap_.empty() || live_.contains(heap_.front().id));
  }

  std::vector<Entry> heap_;
  // Ids pushed and neither popped nor cancelled; ordered, so nothing depends on hashing.
  std::set<uint64_t> live_;
  uint64_t next_id_ = kFirstId;
};

}  // namespace edgecase::sim
