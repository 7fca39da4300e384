// Tests of world/event_queue.h: order by time then push order, cancel, move-only payloads, and a
// sorted-vector model checked after every step of random push/pop/cancel sequences.
#include "world/event_queue.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

namespace {

using edgecase::sim::EventQueue;
using edgecase::sim::Nanos;

template <class T>
std::vector<std::pair<Nanos, T>> drain(EventQueue<T>& q) {
  std::vector<std::pair<Nanos, T>> out;
  while (!q.empty()) out.push_back(q.pop());
  return out;
}

}  // namespace

TEST_CASE("event_queue: pops in time order", "[event_queue]") {
  EventQueue<std::string> q;
  CHECK(q.empty());
  q.push(30, "c");
  q.push(10, "a");
  q.push(-5, "before boot");
  q.push(20, "b");
  CHECK(q.size() == 4);
  CHECK(q.next_time() == -5);
  using Out = std::vector<std::pair<Nanos, std::string>>;
  CHECK(drain(q) == Out{{-5, "before boot"}, {10, "a"}, {20, "b"}, {30, "c"}});
  CHECK(q.empty());
  CHECK(q.size() == 0);
}

TEST_CASE("event_queue: equal times pop in push order", "[event_queue]") {
  EventQueue<int> q;
  constexpr int kEvents = 50;
  for (int i = 0; i < kEvents; ++i) q.push(i % 2 == 0 ? 100 : 7, i);
  std::vector<int> order;
  while (!q.empty()) order.push_back(q.pop().second);
  std::vector<int> expected;
  for (int i = 1; i < kEvents; i += 2) expected.push_back(i);
  for (int i = 0; i < kEvents; i += 2) expected.push_back(i);
  CHECK(order == expected);
}

TEST_CASE("event_queue: ids are distinct, grow, and start at kFirstId", "[event_queue]") {
  EventQueue<int> q;
  const uint64_t a = q.push(5, 0);
  const uint64_t b = q.push(1, 0);
  const uint64_t c = q.push(5, 0);
  CHECK(a == EventQueue<int>::kFirstId);
  CHECK(a < b);
  CHECK(b < c);
}

TEST_CASE("event_queue: cancel the head, a middle event, and stale ids", "[event_queue]") {
  EventQueue<char> q;
  const uint64_t a = q.push(10, 'a');
  const uint64_t b = q.push(20, 'b');
  const uint64_t c = q.push(30, 'c');
  const uint64_t d = q.push(40, 'd');

  SECTION("head: next_time moves on at once") {
    CHECK(q.cancel(a));
    CHECK(q.size() == 3);
    CHECK(q.next_time() == 20);
    using Out = std::vector<std::pair<Nanos, char>>;
    CHECK(drain(q) == Out{{20, 'b'}, {30, 'c'}, {40, 'd'}});
  }
  SECTION("middle: skipped on pop, size exact") {
    CHECK(q.cancel(c));
    CHECK(q.size() == 3);
    CHECK(q.next_time() == 10);
    using Out = std::vector<std::pair<Nanos, char>>;
    CHECK(drain(q) == Out{{10, 'a'}, {20, 'b'}, {40, 'd'}});
  }
  SECTION("twice, after pop, never issued") {
    CHECK(q.cancel(b));
    CHECK_FALSE(q.cancel(b));
    CHECK(q.pop() == std::pair<Nanos, char>{10, 'a'});
    CHECK_FALSE(q.cancel(a));
    CHECK_FALSE(q.cancel(0));
    CHECK_FALSE(q.cancel(d + 1));
    CHECK(q.size() == 2);
  }
  SECTION("everything: empty again, then usable") {
    for (uint64_t id : {d, b, c, a}) CHECK(q.cancel(id));
    CHECK(q.empty());
    CHECK(q.size() == 0);
    q.push(5, 'e');
    CHECK(q.next_time() == 5);
    CHECK(q.pop() == std::pair<Nanos, char>{5, 'e'});
  }
}

TEST_CASE("event_queue: holds move-only payloads", "[event_queue]") {
  EventQueue<std::unique_ptr<int>> q;
  q.push(2, std::make_unique<int>(2));
  const uint64_t gone = q.push(1, std::make_unique<int>(1));
  q.push(3, std::make_unique<int>(3));
  CHECK(q.cancel(gone));
  auto [t, p] = q.pop();
  CHECK(t == 2);
  REQUIRE(p != nullptr);
  CHECK(*p == 2);
}

TEST_CASE("event_queue: matches a sorted-vector model", "[event_queue][property]") {
  // Times come from a narrow window so that ties (the FIFO rule) are common.
  constexpr Nanos kMinTime = -3;
  constexpr Nanos kMaxTime = 8;
  constexpr int kMaxSteps = 200;
  // Cancels pick ids up to this far past the last one issued, so some were never pushed.
  constexpr uint64_t kIdSlack = 3;
  enum Op { kPush, kPop, kCancel, kOpCount };

  rc::prop("every step returns what the model does", [] {
    EventQueue<int> q;
    // (time, id, payload), sorted: the model's front is the next event.
    std::vector<std::tuple<Nanos, uint64_t, int>> model;
    uint64_t last_id = 0;
    const int steps = *rc::gen::inRange(0, kMaxSteps);
    for (int step = 0; step < steps; ++step) {
      const int op = *rc::gen::inRange(0, static_cast<int>(kOpCount));
      if (op == kPush) {
        const Nanos at = *rc::gen::inRange(kMinTime, kMaxTime + 1);
        const uint64_t id = q.push(at, step);
        RC_ASSERT(id > last_id);
        last_id = id;
        model.emplace(std::upper_bound(model.begin(), model.end(),
                                       std::tuple<Nanos, uint64_t, int>{at, id, step}),
                      at, id, step);
      } else if (op == kPop && !model.empty()) {
        const std::pair<Nanos, int> expected{std::get<0>(model.front()),
                                             std::get<2>(model.front())};
        model.erase(model.begin());
        RC_ASSERT(q.pop() == expected);
      } else if (op == kCancel) {
        const uint64_t id = *rc::gen::inRange<uint64_t>(0, last_id + kIdSlack);
        auto it = std::find_if(model.begin(), model.end(),
                               [id](const auto& e) { return std::get<1>(e) == id; });
        const bool present = it != model.end();
        if (present) model.erase(it);
        RC_ASSERT(q.cancel(id) == present);
      }
      RC_ASSERT(q.size() == model.size());
      RC_ASSERT(q.empty() == model.empty());
      if (!model.empty()) RC_ASSERT(q.next_time() == std::get<0>(model.front()));
    }
  });
}
