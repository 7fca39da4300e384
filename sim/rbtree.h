// Intrusive red-black tree (the role of the Linux kernel's lib/rbtree.c): the interest set of a
// simulated epoll instance, keyed by (file, fd) as fs/eventpoll.c keys ep->rbr.
//
// Intrusive because an epoll item already lives in several lists at once and must be
// registered and removed without allocating (epoll_ctl's failure modes are the kernel's, not
// ours). The tree only links the RbNode embedded in each element; it never owns, copies or
// frees elements, and erasing one never moves another, so an iterator taken with next() before
// erasing a different element stays valid.
//
// Limits:
//  - height <= 2*log2(size()+1), so at most 128 for any size_t count; insert/erase/find/next
//    are O(log n) and insert/erase/fixups are loops, so stack use is constant whatever n is.
//  - an element is in at most one tree per RbNode member; insert does not detect an element
//    linked into a *different* tree (that would corrupt both) and erase requires membership.
//  - `Node` must be a member of T itself or of a non-virtual base: the node-to-element offset
//    is taken from the first inserted element and assumed the same for every element.
//  - check() is O(n) time and O(height) memory; it is a test and debugging aid, not for hot
//    paths.
#pragma once

#include <cassert>
#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace edgecase::sim {

struct RbNode {
  RbNode* parent = nullptr;
  RbNode* left = nullptr;
  RbNode* right = nullptr;
  bool red = false;
};

// The type-independent half, kept out of the template so every RbTree instantiation shares it
// (as lib/rbtree.c is shared by every rb_root in the kernel).
namespace rbtree_core {

// Missing children are leaves and leaves are black: this is what lets the tree go without a
// sentinel node (a sentinel would have to be written to by every tree, even const ones).
inline bool is_red(const RbNode* n) { return n != nullptr && n->red; }

inline void replace_child(RbNode*& root, RbNode* parent, const RbNode* old, RbNode* repl) {
  if (parent == nullptr) {
    root = repl;
  } else if (parent->left == old) {
    parent->left = repl;
  } else {
    assert(parent->right == old);
    parent->right = repl;
  }
}

inline void rotate_left(RbNode*& root, RbNode* x) {
  RbNode* y = x->right;
  assert(y != nullptr);
  x->right = y->left;
  if (y->left != nullptr) y->left->parent = x;
  y->parent = x->parent;
  replace_child(root, x->parent, x, y);
  y->left = x;
  x->parent = y;
}

inline void rotate_right(RbNode*& root, RbNode* x) {
  RbNode* y = x->left;
  assert(y != nullptr);
  x->left = y->right;
  if (y->right != nullptr) y->right->parent = x;
  y->parent = x->parent;
  replace_child(root, x->parent, x, y);
  y->right = x;
  x->parent = y;
}

// `z` has just been linked as a red leaf; the only invariant it can break is "no red node has
// a red child" (between z and its parent), and each pass either fixes it with at most two
// rotations or pushes the conflict two levels up by recoloring.
inline void insert_fixup(RbNode*& root, RbNode* z) {
  while (is_red(z->parent)) {
    RbNode* p = z->parent;
    RbNode* g = p->parent;  // exists: a red node is never the root
    assert(g != nullptr && !g->red);
    if (p == g->left) {
      RbNode* uncle = g->right;
      if (is_red(uncle)) {
        p->red = false;
        uncle->red = false;
        g->red = true;
        z = g;
        continue;
      }
      if (z == p->right) {
        rotate_left(root, p);
        z = p;
        p = z->parent;
      }
      p->red = false;
      g->red = true;
      rotate_right(root, g);
    } else {
      RbNode* uncle = g->left;
      if (is_red(uncle)) {
        p->red = false;
        uncle->red = false;
        g->red = true;
        z = g;
        continue;
      }
      if (z == p->left) {
        rotate_right(root, p);
        z = p;
        p = z->parent;
      }
      p->red = false;
      g->red = true;
      rotate_left(root, g);
    }
  }
  root->red = false;
}

// A black node was unlinked from below `xp`, so the path through `x` (possibly a null leaf,
// hence xp is passed separately) is one black short. Each pass either repairs that with at most
// three rotations or moves the deficit one level up.
inline void erase_fixup(RbNode*& root, RbNode* x, RbNode* xp) {
  while (x != root && !is_red(x)) {
    assert(xp != nullptr);
    // When x is null, `x == xp->left` still picks the right side: the sibling subtree carries
    // at least one black node, so it cannot be the null one too.
    if (x == xp->left) {
      RbNode* w = xp->right;
      assert(w != nullptr);
      if (w->red) {
        w->red = false;
        xp->red = true;
        rotate_left(root, xp);
        w = xp->right;
      }
      if (!is_red(w->left) && !is_red(w->right)) {
        w->red = true;
        x = xp;
        xp = x->parent;
      } else {
        if (!is_red(w->right)) {
          w->left->red = false;
          w->red = true;
          rotate_right(root, w);
          w = xp->right;
        }
        w->red = xp->red;
        xp->red = false;
        w->right->red = false;
        rotate_left(root, xp);
        x = root;
        xp = nullptr;
      }
    } else {
      RbNode* w = xp->left;
      assert(w != nullptr);
      if (w->red) {
        w->red = false;
        xp->red = true;
        rotate_right(root, xp);
        w = xp->left;
      }
      if (!is_red(w->left) && !is_red(w->right)) {
        w->red = true;
        x = xp;
        xp = x->parent;
      } else {
        if (!is_red(w->left)) {
          w->right->red = false;
          w->red = true;
          rotate_left(root, w);
          w = xp->left;
        }
        w->red = xp->red;
        xp->red = false;
        w->left->red = false;
        rotate_right(root, xp);
        x = root;
        xp = nullptr;
      }
    }
  }
  if (x != nullptr) x->red = false;
}

inline void erase(RbNode*& root, RbNode* z) {
  RbNode* x;   // takes the place of the node physically unlinked; may be a null leaf
  RbNode* xp;  // x's parent after the splice
  bool removed_black;
  if (z->left == nullptr || z->right == nullptr) {
    x = z->left != nullptr ? z->left : z->right;
    xp = z->parent;
    removed_black = !z->red;
    if (x != nullptr) x->parent = xp;
    replace_child(root, xp, z, x);
  } else {
    // Two children: relink z's in-order successor y into z's place (taking z's color) rather
    // than swapping payloads, because the payload is the user's element and must not move.
    RbNode* y = z->right;
    while (y->left != nullptr) y = y->left;
    removed_black = !y->red;
    x = y->right;
    if (y->parent == z) {
      xp = y;
    } else {
      xp = y->parent;
      xp->left = x;
      if (x != nullptr) x->parent = xp;
      y->right = z->right;
      y->right->parent = y;
    }
    y->left = z->left;
    y->left->parent = y;
    y->parent = z->parent;
    replace_child(root, z->parent, z, y);
    y->red = z->red;
  }
  if (removed_black) erase_fixup(root, x, xp);
  // Cleared so a stale link can't be followed and the element can be inserted again.
  *z = RbNode{};
}

inline RbNode* leftmost(RbNode* n) {
  if (n == nullptr) return nullptr;
  while (n->left != nullptr) n = n->left;
  return n;
}

inline RbNode* successor(const RbNode* n) {
  if (n->right != nullptr) return leftmost(n->right);
  RbNode* p = n->parent;
  while (p != nullptr && n == p->right) {
    n = p;
    p = p->parent;
  }
  return p;
}

}  // namespace rbtree_core

// Intrusive tree of T linked through member `Node`, ordered by `Less` (a stateless functor
// comparing two const T&; equal keys are rejected by insert).
template <class T, RbNode T::*Node, class Less>
class RbTree {
  static_assert(std::is_empty_v<Less> && std::is_default_constructible_v<Less>,
                "Less must be stateless: the tree stores no comparator");

 public:
  RbTree() = default;
  // Copying would make two roots share one set of nodes.
  RbTree(const RbTree&) = delete;
  RbTree& operator=(const RbTree&) = delete;
  // Nodes never point back at the tree, so moving is just handing over the root.
  RbTree(RbTree&& other) noexcept
      : root_(std::exchange(other.root_, nullptr)),
        size_(std::exchange(other.size_, 0)),
        node_offset_(other.node_offset_) {}
  // Elements still linked into *this are abandoned (left with stale links), not unlinked.
  RbTree& operator=(RbTree&& other) noexcept {
    if (this != &other) {
      root_ = std::exchange(other.root_, nullptr);
      size_ = std::exchange(other.size_, 0);
      node_offset_ = other.node_offset_;
    }
    return *this;
  }
  ~RbTree() = default;

  // Find an element equivalent to `key` using a heterogeneous comparator: `cmp(key, elem)`
  // returns <0, 0, >0.
  template <class Key, class Cmp>
  T* find(const Key& key, Cmp cmp) const {
    RbNode* n = root_;
    while (n != nullptr) {
      const auto c = cmp(key, static_cast<const T&>(*elem_of(n)));
      if (c < 0) {
        n = n->left;
      } else if (c > 0) {
        n = n->right;
      } else {
        return elem_of(n);
      }
    }
    return nullptr;
  }

  // false (and no change) if an equal element is present. O(log n)
  bool insert(T* elem) {
    assert(elem != nullptr);
    const std::ptrdiff_t offset = offset_in(elem);
    assert(size_ == 0 || offset == node_offset_);
    const Less less{};
    RbNode* parent = nullptr;
    RbNode** link = &root_;
    while (*link != nullptr) {
      parent = *link;
      const T& cur = *elem_of(parent);
      if (less(*elem, cur)) {
        link = &parent->left;
      } else if (less(cur, *elem)) {
        link = &parent->right;
      } else {
        return false;
      }
    }
    node_offset_ = offset;
    RbNode* n = &(elem->*Node);
    *n = RbNode{parent, nullptr, nullptr, true};
    *link = n;
    ++size_;
    rbtree_core::insert_fixup(root_, n);
    assert(!root_->red && root_->parent == nullptr);
    return true;
  }

  // elem must be in the tree. O(log n)
  void erase(T* elem) {
    assert(elem != nullptr);
    RbNode* n = &(elem->*Node);
    assert(size_ > 0 && (n->parent != nullptr || n == root_));  // cheap "is linked" test
    rbtree_core::erase(root_, n);
    --size_;
    assert((root_ == nullptr) == (size_ == 0));
  }

  // In-order iteration, nullptr at end.
  T* first() const {
    RbNode* n = rbtree_core::leftmost(root_);
    return n == nullptr ? nullptr : elem_of(n);
  }
  T* next(const T* elem) const {
    assert(elem != nullptr);
    const RbNode* n = &(elem->*Node);
    assert(n->parent != nullptr || n == root_);
    RbNode* s = rbtree_core::successor(n);
    return s == nullptr ? nullptr : elem_of(s);
  }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Checks every invariant: BST order (strict, via Less), parent pointers consistent, root
  // black, no red node with a red child, equal black height on every path, size matches node
  // count. Returns an empty string when all hold, else a description of the first violation
  // (nodes named by their path from the root, e.g. "node LRR").
  std::string check() const {
    if (root_ == nullptr) {
      if (size_ != 0) return "root is null but size() is " + std::to_string(size_);
      return {};
    }
    if (root_->red) return "root is red";

    struct Pending {
      const RbNode* node;
      const RbNode* parent;
      const RbNode* lo;  // nearest ancestor this subtree is right of: must order before it
      const RbNode* hi;  // nearest ancestor this subtree is left of: must order after it
      std::size_t blacks_above;
      std::size_t depth;
      char dir;
    };
    // Depth-first with an explicit stack: a corrupted tree can be arbitrarily deep (or cyclic),
    // and the checker must report that rather than overflow the call stack.
    std::vector<Pending> stack;
    std::string path;  // directions from the root to the node being visited
    const auto name = [&path] { return path.empty() ? std::string("root") : "node " + path; };
    const Less less{};
    std::size_t count = 0;
    std::size_t black_height = 0;
    bool black_height_known = false;

    stack.push_back({root_, nullptr, nullptr, nullptr, 0, 0, 0});
    while (!stack.empty()) {
      const Pending e = stack.back();
      stack.pop_back();
      path.resize(e.depth);
      if (e.depth > 0) path.back() = e.dir;
      const RbNode* n = e.node;

      if (++count > size_) {
        return "more nodes reachable than size() " + std::to_string(size_) +
               " (extra or cyclic links), at " + name();
      }
      if (n->parent != e.parent) return "parent pointer of " + name() + " is wrong";
      if (e.lo != nullptr && !less(*elem_of(e.lo), *elem_of(n))) {
        return "order: " + name() + " does not order after an ancestor it is right of";
      }
      if (e.hi != nullptr && !less(*elem_of(n), *elem_of(e.hi))) {
        return "order: " + name() + " does not order before an ancestor it is left of";
      }
      if (n->red && e.parent != nullptr && e.parent->red) {
        return "red node " + name() + " has a red parent";
      }
      const std::size_t blacks = e.blacks_above + (n->red ? 0 : 1);
      if (n->left == nullptr || n->right == nullptr) {
        if (!black_height_known) {
          black_height = blacks;
          black_height_known = true;
        } else if (blacks != black_height) {
          return "black height " + std::to_string(blacks) + " below " + name() + ", but " +
                 std::to_string(black_height) + " on an earlier path";
        }
      }
      // Right pushed first so the left subtree is visited (and reported) first.
      if (n->right != nullptr) {
        stack.push_back({n->right, n, n, e.hi, blacks, e.depth + 1, 'R'});
      }
      if (n->left != nullptr) {
        stack.push_back({n->left, n, e.lo, n, blacks, e.depth + 1, 'L'});
      }
    }
    if (count != size_) {
      return "size() is " + std::to_string(size_) + " but " + std::to_string(count) +
             " nodes are reachable";
    }
    return {};
  }

 private:
  static std::ptrdiff_t offset_in(const T* elem) {
    return reinterpret_cast<const char*>(&(elem->*Node)) - reinterpret_cast<const char*>(elem);
  }
  // container_of. The offset comes from a real element rather than from the member pointer's
  // representation or a fake object, which would be ABI-specific or undefined.
  T* elem_of(RbNode* n) const {
    return reinterpret_cast<T*>(reinterpret_cast<char*>(n) - node_offset_);
  }
  const T* elem_of(const RbNode* n) const {
    return reinterpret_cast<const T*>(reinterpret_cast<const char*>(n) - node_offset_);
  }

  RbNode* root_ = nullptr;
  std::size_t size_ = 0;
  std::ptrdiff_t node_offset_ = 0;  // valid whenever root_ != nullptr
};

}  // namespace edgecase::sim
