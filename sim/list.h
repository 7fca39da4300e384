// Typed intrusive doubly linked list, the kit's list_head: no allocation, O(1) unlink.
#pragma once

#include <cassert>
#include <cstddef>

namespace edgecase::sim {

template <class T>
struct ListLink {
  T* prev = nullptr;
  T* next = nullptr;
  bool linked = false;
};

template <class T, ListLink<T> T::*Link>
class IntrusiveList {
 public:
  IntrusiveList() = default;
  IntrusiveList(const IntrusiveList&) = delete;
  IntrusiveList& operator=(const IntrusiveList&) = delete;

  bool empty() const { return head_ == nullptr; }
  std::size_t size() const { return size_; }
  T* front() const { return head_; }
  T* back() const { return tail_; }
  static T* next(const T* e) { return (e->*Link).next; }
  static bool linked(const T* e) { return (e->*Link).linked; }

  void push_back(T* e) {
    ListLink<T>& l = e->*Link;
    assert(!l.linked);
    l = {tail_, nullptr, true};
    if (tail_) (tail_->*Link).next = e; else head_ = e;
    tail_ = e;
    ++size_;
  }
  void push_front(T* e) {
    ListLink<T>& l = e->*Link;
    assert(!l.linked);
    l = {nullptr, head_, true};
    if (head_) (head_->*Link).prev = e; else tail_ = e;
    head_ = e;
    ++size_;
  }
  void remove(T* e) {
    ListLink<T>& l = e->*Link;
    assert(l.linked);
    if (l.prev) (l.prev->*Link).next = l.next; else head_ = l.next;
    if (l.next) (l.next->*Link).prev = l.prev; else tail_ = l.prev;
    l = {};
    --size_;
  }
  T* pop_front() {
    T* e = head_;
    if (e) remove(e);
    return e;
  }
  // Moves all of `other` in front of this list's elements, keeping their order (list_splice).
  void splice_front(IntrusiveList& other) {
    if (other.empty()) return;
    if (empty()) {
      head_ = other.head_;
      tail_ = other.tail_;
    } else {
      (other.tail_->*Link).next = head_;
      (head_->*Link).prev = other.tail_;
      head_ = other.head_;
    }
    size_ += other.size_;
    other.head_ = other.tail_ = nullptr;
    other.size_ = 0;
  }

 private:
  T* head_ = nullptr;
  T* tail_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace edgecase::sim
