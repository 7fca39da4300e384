// The key-value protocol's grammar, request generator and model checker (kv.h).
#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <fmt/format.h>
#include <iterator>
#include <map>
#include <optional>
#include <vector>

#include "examples/kv/kv.h"

namespace kv {

using edgecase::Conversation;
using edgecase::Request;
using edgecase::SentStream;
using edgecase::StreamError;

Parsed parse_request(std::string_view head, uint64_t line_size) {
  constexpr std::string_view kSet = "SET ", kGet = "GET ";
  Parsed p;
  if (head.substr(0, kSet.size()) == kSet) {
    const size_t space = head.find(' ', kSet.size());
    if (space == std::string_view::npos || space == kSet.size() || space + 1 >= line_size)
      return p;  // no key, no value, or a key longer than the header
    p.op = Parsed::Op::set;
    p.key = head.substr(kSet.size(), space - kSet.size());
    p.value_at = space + 1;
    return p;
  }
  if (head.substr(0, kGet.size()) == kGet && line_size <= kMaxHeaderBytes &&
      line_size > kGet.size() && head.find(' ', kGet.size()) == std::string_view::npos) {
    p.op = Parsed::Op::get;
    p.key = head.substr(kGet.size(), line_size - kGet.size());
  }
  return p;
}

// --- the generator ----------------------------------------------------------------------------

rc::Gen<Request> gen_request() {
  namespace gen = rc::gen;
  const rc::Gen<std::string> key =
      gen::elementOf(std::vector<std::string>(std::begin(kKeys), std::end(kKeys)));
  // Sizes around the thresholds where servers change how they read: a 1 KiB or 16 KiB read
  // buffer, a 64 KiB lo segment or fixed slot.
  const std::vector<uint64_t> thresholds = {1023, 1024, 1025, 16383, 16384, 16385,
                                            65535, 65536, 65537, kMaxValueBytes};
  const rc::Gen<uint64_t> value_size = gen::weightedOneOf<uint64_t>({
      {4, gen::inRange<uint64_t>(1, 65)},
      {2, gen::inRange<uint64_t>(65, 16 * 1024)},
      {2, gen::elementOf(thresholds)},
      {2, gen::inRange<uint64_t>(16 * 1024, kMaxValueBytes + 1)},
  });
  const rc::Gen<Request> set = gen::apply(
      [](const std::string& k, uint64_t n) {
        Request r;
        r.data = "SET " + k + " ";
        r.pattern = n;
        r.tail = "\n";
        r.reply = Request::Reply::lines;
        r.reply_count = 1;
        return r;
      },
      key, value_size);
  const rc::Gen<Request> get = gen::map(key, [](const std::string& k) {
    Request r;
    r.data = "GET " + k + "\n";
    r.reply = Request::Reply::lines;
    r.reply_count = 1;
    return r;
  });
  return gen::weightedOneOf<Request>({{1, set}, {1, get}});
}

// --- the model --------------------------------------------------------------------------------

namespace {

// Bytes of a stored value regenerated at a time to compare a reply with.
constexpr size_t kCompareChunk = 16 * 1024;

std::string byte_text(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isprint(u) != 0 && c != '\'') return fmt::format("'{}'", c);
  return fmt::format("0x{:02x}", u);
}

// A stored value: bytes its setter sent (the peer's stream outlives the run's check).
struct Value {
  const SentStream* from = nullptr;
  uint64_t offset = 0;
  uint64_t size = 0;
};

// A reply the server owes a peer: fixed text, or a stored value and '\n'.
struct Owed {
  std::string text;     // "OK\n", "NOTFOUND\n", "ERROR\n"; empty: the value
  Value value;
  std::string request;  // how details name it: "GET a", "SET b (70000-byte value)"
  uint64_t size() const { return text.empty() ? value.size + 1 : text.size(); }
};

struct PeerModel {
  uint64_t parsed = 0;      // sent-stream offset of the next request not yet applied
  std::deque<Owed> owed;    // replies due, in order
  uint64_t at = 0;          // bytes of owed.front() received
  uint64_t replies = 0;     // complete replies received
};

class ModelCheck final : public edgecase::ProtocolCheck {
 public:
  // The server read the peer's stream up to `end`: apply each request whose '\n' it has now
  // read, in this order, across peers.
  void server_read(const Conversation& c, uint64_t end) override {
    PeerModel& p = peers_[c.peer];
    while (p.parsed < end) {
      const std::optional<uint64_t> nl = c.sent->find_newline(p.parsed);
      if (!nl || *nl >= end) return;
      p.owed.push_back(apply(*c.sent, p.parsed, *nl - p.parsed));
      p.parsed = *nl + 1;
    }
  }

  std::optional<StreamError> received(const Conversation& c, std::string_view bytes) override {
    PeerModel& p = peers_[c.peer];
    uint64_t offset = c.received;
    while (!bytes.empty()) {
      if (p.owed.empty())
        return StreamError{offset, fmt::format("reply byte {} with no request the server has read "
                                               "left to answer ({} replies so far)",
                                               byte_text(bytes[0]), p.replies)};
      const Owed& o = p.owed.front();
      const size_t n = static_cast<size_t>(std::min<uint64_t>(bytes.size(), o.size() - p.at));
      if (auto bad = compare(o, p.at, bytes.substr(0, n))) {
        const uint64_t k = p.at + bad->first;
        return StreamError{offset + bad->first,
                           fmt::format("reply {} (to `{}`): byte {} of {}: got {}, expected {}",
                                       p.replies + 1, o.request, k, o.size(),
                                       byte_text(bytes[bad->first]), byte_text(bad->second))};
      }
      bytes.remove_prefix(n);
      offset += n;
      p.at += n;
      if (p.at == o.size()) {
        p.owed.pop_front();
        p.at = 0;
        ++p.replies;
      }
    }
    return std::nullopt;
  }

  // A reply missing at the end is a stall, another oracle's to name.
  std::optional<StreamError> end(const Conversation&) override { return std::nullopt; }

 private:
  Owed apply(const SentStream& s, uint64_t from, uint64_t size) {
    const std::string head = s.text(from, std::min(size, kMaxHeaderBytes + 1));
    const Parsed req = parse_request(head, size);
    Owed o;
    switch (req.op) {
      case Parsed::Op::set: {
        const Value v{&s, from + req.value_at, size - req.value_at};
        store_.insert_or_assign(std::string(req.key), v);
        o.text = "OK\n";
        o.request = fmt::format("SET {} ({}-byte value)", req.key, v.size);
        return o;
      }
      case Parsed::Op::get: {
        o.request = fmt::format("GET {}", req.key);
        const auto it = store_.find(req.key);
        if (it == store_.end()) o.text = "NOTFOUND\n";
        else o.value = it->second;
        return o;
      }
      case Parsed::Op::error: break;
    }
    o.text = "ERROR\n";
    o.request = head.substr(0, std::min<size_t>(head.size(), 16));
    return o;
  }

  // The first byte of `got` (owed bytes [at, at + got.size())) that differs: (index, expected).
  static std::optional<std::pair<size_t, char>> compare(const Owed& o, uint64_t at,
                                                        std::string_view got) {
    if (!o.text.empty()) {
      for (size_t i = 0; i < got.size(); ++i)
        if (got[i] != o.text[at + i]) return std::pair{i, o.text[at + i]};
      return std::nullopt;
    }
    char want[kCompareChunk];
    for (size_t done = 0; done < got.size();) {
      const uint64_t pos = at + done;
      if (pos == o.value.size) {  // the line's end
        if (got[done] != '\n') return std::pair{done, '\n'};
        ++done;
        continue;
      }
      const size_t n = static_cast<size_t>(
          std::min<uint64_t>({got.size() - done, o.value.size - pos, sizeof want}));
      o.value.from->copy(o.value.offset + pos, want, n);
      if (std::memcmp(want, got.data() + done, n) != 0)
        for (size_t i = 0; i < n; ++i)
          if (want[i] != got[done + i]) return std::pair{done + i, want[i]};
      done += n;
    }
    return std::nullopt;
  }

  std::map<std::string, Value, std::less<>> store_;
  std::map<uint32_t, PeerModel> peers_;
};

}  // namespace

std::unique_ptr<edgecase::ProtocolCheck> ModelChecker::start() const {
  return std::make_unique<ModelCheck>();
}

edgecase::Protocol kv_protocol() {
  return edgecase::Protocol{std::string(kProtocolName), gen_request(),
                            std::make_shared<const ModelChecker>(), std::nullopt};
}

}  // namespace kv
