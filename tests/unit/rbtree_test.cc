// Tests of sim/rbtree.h: a std::set model checked after every step of random insert/erase
// sequences, worst-case (sorted) insertion heights, and proof that check() can fail.
#include "sim/rbtree.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <deque>
#include <iostream>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <rapidcheck.h>
#include <rapidcheck/catch.h>

namespace {

using edgecase::sim::RbNode;
using edgecase::sim::RbTree;

struct Item {
  explicit Item(int k) : key(k) {}
  int key;
  RbNode node;
};

struct ItemLess {
  bool operator()(const Item& a, const Item& b) const { return a.key < b.key; }
};

using Tree = RbTree<Item, &Item::node, ItemLess>;

int cmp_key(int key, const Item& item) { return key < item.key ? -1 : (key > item.key ? 1 : 0); }

std::vector<int> contents(const Tree& t) {
  std::vector<int> out;
  for (const Item* e = t.first(); e != nullptr; e = t.next(e)) out.push_back(e->key);
  return out;
}

// Nodes on the longest root-to-leaf path (0 when empty), the height bounded by 2*log2(n+1).
// Measured by walking parent links up from every element, independently of check().
std::size_t height(const Tree& t) {
  std::size_t h = 0;
  for (const Item* e = t.first(); e != nullptr; e = t.next(e)) {
    std::size_t d = 1;
    for (const RbNode* n = &e->node; n->parent != nullptr; n = n->parent) ++d;
    h = std::max(h, d);
  }
  return h;
}

double height_bound(std::size_t n) { return 2.0 * std::log2(static_cast<double>(n) + 1.0); }

enum class Kind { kInsert, kEraseKey, kEraseRank };

// kEraseKey erases `value` if present (epoll_ctl DEL of an unregistered fd must find nothing);
// kEraseRank erases the (value mod size)-th element, which lets a sequence actually drain a
// large tree instead of mostly missing.
struct Op {
  Kind kind;
  int value;
};

void showValue(const Op& op, std::ostream& os) {
  os << (op.kind == Kind::kInsert ? "ins " : op.kind == Kind::kEraseKey ? "del " : "del#")
     << op.value;
}

rc::Gen<Op> op_gen(std::size_t w_insert, std::size_t w_erase_key, std::size_t w_erase_rank,
                   int range) {
  return rc::gen::build<Op>(
      rc::gen::set(&Op::kind, rc::gen::weightedElement<Kind>({{w_insert, Kind::kInsert},
                                                              {w_erase_key, Kind::kEraseKey},
                                                              {w_erase_rank, Kind::kEraseRank}})),
      // Fixed size: the key range is already scaled once through `range`.
      rc::gen::set(&Op::value, rc::gen::resize(rc::kNominalSize, rc::gen::inRange(0, range))));
}

// Coverage flags are also counted across all cases of one run, so the test fails if the
// generator stops reaching a state instead of merely printing a smaller percentage.
struct Coverage {
  int cases = 0;
  int dup_rejected = 0;
  int emptied = 0;
  int above_100 = 0;
};

}  // namespace

TEST_CASE("rbtree: random insert/erase sequences match a std::set model", "[rbtree]") {
  Coverage cov;
  rc::prop("every step keeps contents, return values and invariants", [&cov] {
    // A fill phase then a drain phase, both lengths and the key range growing with rapidcheck's
    // size: small ranges make duplicates common, the fill grows the tree past 100, the drain
    // empties it.
    const int range = *rc::gen::inRange(1, 1000);
    const auto fill_len = *rc::gen::inRange<std::size_t>(0, 1500);
    const auto drain_len = *rc::gen::inRange<std::size_t>(0, 1500);
    auto ops = *rc::gen::container<std::vector<Op>>(fill_len, op_gen(8, 1, 1, range));
    const auto drain = *rc::gen::container<std::vector<Op>>(drain_len, op_gen(1, 1, 6, range));
    ops.insert(ops.end(), drain.begin(), drain.end());

    std::deque<Item> storage;    // stable addresses for the intrusive nodes
    std::vector<Item*> spare;    // erased items, reused so re-inserting an erased node is tested
    std::set<int> model;
    Tree tree;
    bool dup_rejected = false, emptied = false, absent_erase = false;
    std::size_t max_size = 0;
    const auto erase = [&](Item* e) {
      tree.erase(e);
      spare.push_back(e);
      if (tree.empty()) emptied = true;
    };

    for (const Op& op : ops) {
      if (op.kind == Kind::kInsert) {
        Item* item;
        if (spare.empty()) {
          item = &storage.emplace_back(op.value);
        } else {
          item = spare.back();
          spare.pop_back();
          item->key = op.value;
        }
        const bool expected = model.insert(op.value).second;
        RC_ASSERT(tree.insert(item) == expected);
        if (!expected) {
          dup_rejected = true;
          spare.push_back(item);
        }
      } else if (op.kind == Kind::kEraseKey) {
        Item* found = tree.find(op.value, cmp_key);
        const bool present = model.erase(op.value) == 1;
        RC_ASSERT((found != nullptr) == present);
        if (found != nullptr) {
          RC_ASSERT(found->key == op.value);
          erase(found);
        } else {
          absent_erase = true;
        }
      } else if (!model.empty()) {
        auto it = model.begin();
        std::advance(it, static_cast<std::ptrdiff_t>(static_cast<std::size_t>(op.value) %
                                                     model.size()));
        Item* found = tree.find(*it, cmp_key);
        RC_ASSERT(found != nullptr);
        RC_ASSERT(found->key == *it);
        model.erase(it);
        erase(found);
      }
      const std::string problem = tree.check();
      RC_ASSERT(problem == "");
      RC_ASSERT(tree.size() == model.size());
      RC_ASSERT(tree.empty() == model.empty());
      RC_ASSERT(contents(tree) == std::vector<int>(model.begin(), model.end()));
      max_size = std::max(max_size, tree.size());
    }
    // Every key in the range, present or not, must be found exactly when the model has it.
    for (int k = -1; k <= range; ++k) {
      const Item* e = tree.find(k, cmp_key);
      RC_ASSERT((e != nullptr) == (model.count(k) == 1));
    }

    RC_CLASSIFY(dup_rejected, "duplicate insert rejected");
    RC_CLASSIFY(emptied, "tree emptied");
    RC_CLASSIFY(max_size > 100, "size above 100");
    RC_TAG(absent_erase ? "erased an absent key" : "no absent erase");
    ++cov.cases;
    cov.dup_rejected += dup_rejected;
    cov.emptied += emptied;
    cov.above_100 += max_size > 100;
  });
  const auto pct = [&cov](int n) { return cov.cases == 0 ? 0 : 100 * n / cov.cases; };
  std::cout << "  per label over " << cov.cases << " cases: duplicate insert rejected "
            << pct(cov.dup_rejected) << "%, tree emptied " << pct(cov.emptied)
            << "%, size above 100 " << pct(cov.above_100) << "%\n";
  CHECK(cov.dup_rejected > 0);
  CHECK(cov.emptied > 0);
  CHECK(cov.above_100 > 0);
}

TEST_CASE("rbtree: sorted insertion of 1e5 keys stays within 2*log2(n+1)", "[rbtree]") {
  constexpr int kN = 100000;
  std::deque<Item> items;
  for (int i = 0; i < kN; ++i) items.emplace_back(i);
  Tree tree;

  SECTION("ascending") {
    for (int i = 0; i < kN; ++i) REQUIRE(tree.insert(&items[static_cast<std::size_t>(i)]));
  }
  SECTION("descending") {
    for (int i = kN - 1; i >= 0; --i) REQUIRE(tree.insert(&items[static_cast<std::size_t>(i)]));
  }
  REQUIRE(tree.size() == static_cast<std::size_t>(kN));
  REQUIRE(tree.check() == "");
  const std::size_t h = height(tree);
  INFO("height " << h << ", bound " << height_bound(kN));
  CHECK(static_cast<double>(h) <= height_bound(kN));

  // Erasing in order also runs the fixup down one spine; check the bound holds on the way down.
  for (int i = 0; i < kN; ++i) {
    tree.erase(&items[static_cast<std::size_t>(i)]);
    if (i % 9973 == 0) {
      REQUIRE(tree.check() == "");
      REQUIRE(static_cast<double>(height(tree)) <= height_bound(tree.size()));
    }
  }
  CHECK(tree.empty());
  CHECK(tree.first() == nullptr);
  CHECK(tree.check() == "");
}

TEST_CASE("rbtree: insert rejects an equal element and changes nothing", "[rbtree]") {
  Item a(1), b(2), a2(1);
  Tree tree;
  REQUIRE(tree.insert(&a));
  REQUIRE(tree.insert(&b));
  CHECK_FALSE(tree.insert(&a2));
  CHECK_FALSE(tree.insert(&a));  // the same object again
  CHECK(tree.size() == 2);
  CHECK(tree.find(1, cmp_key) == &a);
  CHECK(a2.node.parent == nullptr);
  CHECK(a2.node.left == nullptr);
  CHECK(a2.node.right == nullptr);
  CHECK(tree.check() == "");
}

TEST_CASE("rbtree: iteration survives erasing the element just visited", "[rbtree]") {
  std::deque<Item> items;
  Tree tree;
  for (int i = 0; i < 200; ++i) REQUIRE(tree.insert(&items.emplace_back((i * 37) % 200)));
  int expected = 0;
  for (Item* e = tree.first(); e != nullptr;) {
    Item* nx = tree.next(e);
    CHECK(e->key == expected++);
    tree.erase(e);
    // An erased node is unlinked, so it can be inserted again later.
    CHECK(e->node.parent == nullptr);
    CHECK(tree.check() == "");
    e = nx;
  }
  CHECK(expected == 200);
  CHECK(tree.empty());
}

TEST_CASE("rbtree: move hands over the elements", "[rbtree]") {
  Item a(1), b(2);
  Tree t1;
  REQUIRE(t1.insert(&a));
  REQUIRE(t1.insert(&b));
  Tree t2(std::move(t1));
  CHECK(t2.size() == 2);
  CHECK(t2.check() == "");
  CHECK(contents(t2) == std::vector<int>{1, 2});
  CHECK(t1.empty());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  CHECK(t1.check() == "");
}

TEST_CASE("rbtree: check() detects corruption", "[rbtree]") {
  std::deque<Item> items;
  Tree tree;
  for (int i = 0; i < 64; ++i) REQUIRE(tree.insert(&items.emplace_back(i)));
  REQUIRE(tree.check() == "");
  // Root: the element with no parent.
  Item* root = nullptr;
  for (Item& it : items) {
    if (it.node.parent == nullptr) root = &it;
  }
  REQUIRE(root != nullptr);

  SECTION("red root") {
    root->node.red = true;
    CHECK(tree.check() == "root is red");
    root->node.red = false;
  }
  SECTION("flipped color of an inner black node") {
    // Any black non-root node: making it red changes the black height of its paths (or
    // creates a red-red edge); either way check() must object.
    Item* victim = nullptr;
    for (Item& it : items) {
      if (&it != root && !it.node.red) victim = &it;
    }
    REQUIRE(victim != nullptr);
    victim->node.red = true;
    const std::string problem = tree.check();
    CHECK(problem != "");
    CHECK((problem.find("black height") != std::string::npos ||
           problem.find("red parent") != std::string::npos));
    victim->node.red = false;
  }
  SECTION("red node with a red child") {
    // Recolor a black node whose parent is red: black heights of its paths drop too, but the
    // red-red edge is found at that node before any leaf below it is reached.
    Item* victim = nullptr;
    for (Item& it : items) {
      if (!it.node.red && it.node.parent != nullptr && it.node.parent->red) victim = &it;
    }
    REQUIRE(victim != nullptr);
    victim->node.red = true;
    CHECK(tree.check().find("red parent") != std::string::npos);
    victim->node.red = false;
  }
  SECTION("broken order") {
    std::swap(items[10].key, items[20].key);
    CHECK(tree.check().find("order") != std::string::npos);
    std::swap(items[10].key, items[20].key);
  }
  SECTION("key equal to a neighbour (strictness)") {
    const int saved = items[31].key;
    items[31].key = items[32].key;
    CHECK(tree.check().find("order") != std::string::npos);
    items[31].key = saved;
  }
  SECTION("wrong parent pointer") {
    Item& leafish = items[63];
    RbNode* saved = leafish.node.parent;
    leafish.node.parent = &root->node == saved ? &items[0].node : &root->node;
    CHECK(tree.check().find("parent pointer") != std::string::npos);
    leafish.node.parent = saved;
  }
  SECTION("cycle") {
    Item& max = items[63];  // rightmost: its right link is null
    REQUIRE(max.node.right == nullptr);
    max.node.right = &root->node;
    CHECK(tree.check() != "");
    max.node.right = nullptr;
  }
  SECTION("node dropped from the tree") {
    // A red leaf, so unlinking it keeps every other invariant and only the count is off.
    Item* leaf = nullptr;
    for (Item& it : items) {
      if (it.node.red && it.node.left == nullptr && it.node.right == nullptr) leaf = &it;
    }
    REQUIRE(leaf != nullptr);
    RbNode* p = leaf->node.parent;
    RbNode*& slot = p->left == &leaf->node ? p->left : p->right;
    slot = nullptr;
    CHECK(tree.check() == "size() is 64 but 63 nodes are reachable");
    slot = &leaf->node;
  }
  // Every corruption above was undone: the checker must not be sticky.
  CHECK(tree.check() == "");
}
