// Protocol checkers (include/edgecase/protocol.h).
#include "edgecase/protocol.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <cstring>
#include <fmt/format.h>
#include <map>

#include "edgecase/strace.h"
#include "harness/peer.h"

namespace edgecase {

namespace {

// How much of a wrong response line a report quotes.
constexpr size_t kQuotedResponseBytes = 48;
// Bytes of the sent stream regenerated at a time to compare a received chunk with: on the
// stack, the size of a peer's recv.
constexpr size_t kCompareChunk = 16 * 1024;

std::string byte_text(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isprint(u) != 0 && c != '\'') return fmt::format("'{}' (0x{:02x})", c, u);
  return fmt::format("0x{:02x}", u);
}

}  // namespace

// --- SentStream -------------------------------------------------------------------------------

void SentStream::add_run(Run r) {
  Run* last = runs_.empty() ? nullptr : &runs_.back();
  if (last != nullptr && last->literal == r.literal && (r.literal || last->peer == r.peer)) {
    last->size += r.size;  // literal runs are contiguous in literal_: one run
  } else {
    runs_.push_back(r);
  }
  size_ += r.size;
}

void SentStream::append_pattern(uint32_t peer, std::string_view bytes) {
  if (bytes.empty()) return;
  add_run(Run{size_, bytes.size(), peer, false, 0});
}

void SentStream::append_pattern(uint32_t peer, uint64_t n) {
  char buf[kCompareChunk];
  while (n > 0) {
    const auto len = static_cast<size_t>(std::min<uint64_t>(n, sizeof buf));
    pattern_fill(peer, size_, buf, len);
    append_pattern(peer, std::string_view(buf, len));
    n -= len;
  }
}

void SentStream::append_literal(std::string_view bytes) {
  if (bytes.empty()) return;
  add_run(Run{size_, bytes.size(), 0, true, literal_.size()});
  literal_.append(bytes);
}

std::string_view SentStream::recent(uint64_t offset, size_t n) const {
  assert(offset + n <= size_);
  if (n == 0) return {};
  const Run& run = runs_[run_at(offset)];
  const uint64_t within = offset - run.start;
  if (!run.literal || within + n > run.size) return {};
  return {literal_.data() + run.literal_at + within, n};
}

size_t SentStream::run_at(uint64_t offset) const {
  assert(offset < size_);
  const auto it = std::upper_bound(runs_.begin(), runs_.end(), offset,
                                   [](uint64_t o, const Run& r) { return o < r.start; });
  return static_cast<size_t>(it - runs_.begin()) - 1;
}

void SentStream::copy(uint64_t offset, char* out, size_t n) const {
  assert(offset + n <= size_);
  if (n == 0) return;
  if (const std::string_view r = recent(offset, n); !r.empty()) {
    std::memcpy(out, r.data(), n);
    return;
  }
  for (size_t r = run_at(offset); n > 0; ++r) {
    const Run& run = runs_[r];
    const uint64_t within = offset - run.start;
    const auto len = static_cast<size_t>(std::min<uint64_t>(n, run.size - within));
    if (run.literal) {
      std::memcpy(out, literal_.data() + run.literal_at + within, len);
    } else {
      pattern_fill(run.peer, offset, out, len);
    }
    out += len;
    offset += len;
    n -= len;
  }
}

char SentStream::at(uint64_t offset) const {
  char c = 0;
  copy(offset, &c, 1);
  return c;
}

std::string SentStream::text(uint64_t offset, uint64_t n) const {
  std::string s(static_cast<size_t>(n), '\0');
  copy(offset, s.data(), s.size());
  return s;
}

std::optional<uint64_t> SentStream::find_newline(uint64_t from) const {
  if (from >= size_) return std::nullopt;
  for (size_t r = run_at(from); r < runs_.size(); ++r) {
    const Run& run = runs_[r];
    if (!run.literal) continue;  // the pattern never holds '\n' (pattern_byte)
    const uint64_t within = from > run.start ? from - run.start : 0;
    const std::string_view bytes(literal_.data() + run.literal_at, static_cast<size_t>(run.size));
    const size_t nl = bytes.find('\n', static_cast<size_t>(within));
    if (nl != std::string_view::npos) return run.start + nl;
  }
  return std::nullopt;
}

std::optional<uint64_t> SentStream::find_earlier(std::string_view needle, uint64_t before) const {
  assert(before <= size_);
  if (needle.empty() || needle.size() > before) return std::nullopt;
  // Occurrences starting in [first, last] are looked for in text [first, last + needle.size()).
  const auto search = [&](uint64_t first, uint64_t last) -> std::optional<uint64_t> {
    const std::string window = text(first, last - first + needle.size());
    const size_t at = window.find(needle);
    if (at == std::string::npos) return std::nullopt;
    return first + at;
  };
  const uint64_t last_start = before - needle.size();
  const uint64_t head_last = std::min(last_start, kRepeatSearchBytes - 1);
  if (auto o = search(0, head_last)) return o;
  if (last_start <= head_last) return std::nullopt;
  return search(std::max(head_last + 1, last_start + 1 - std::min(last_start + 1, kRepeatSearchBytes)),
                last_start);
}

// --- echo -------------------------------------------------------------------------------------

namespace {

class EchoCheck final : public ProtocolCheck {
 public:
  std::optional<StreamError> received(const Conversation& c, std::string_view bytes) override {
    const SentStream& sent = *c.sent;
    char expected[kCompareChunk];
    for (size_t i = 0; i < bytes.size();) {
      const uint64_t at = c.received + i;
      if (at >= sent.size())
        return StreamError{at, fmt::format("byte {}: got {} after all {} bytes sent were echoed "
                                           "(extra or repeated bytes)",
                                           at, byte_text(bytes[i]), sent.size())};
      const auto len = static_cast<size_t>(
          std::min<uint64_t>({bytes.size() - i, kCompareChunk, sent.size() - at}));
      // Literal bytes are compared in place; the pattern is regenerated into `expected`.
      std::string_view want = sent.recent(at, len);
      if (want.empty()) {
        sent.copy(at, expected, len);
        want = {expected, len};
      }
      if (std::memcmp(want.data(), bytes.data() + i, len) != 0) {
        std::memcpy(expected, want.data(), len);
        const auto j = static_cast<size_t>(
            std::mismatch(expected, expected + len, bytes.data() + i).first - expected);
        return wrong(sent, at + j, bytes.substr(i + j), expected[j]);
      }
      i += len;
    }
    return std::nullopt;
  }

  std::optional<StreamError> end(const Conversation&) override { return std::nullopt; }

 private:
  // The byte at `at` is wrong; `rest` is what arrived from there on (in this chunk). A repeat of
  // earlier bytes is the usual cause (a write restarted at offset 0): say so.
  static StreamError wrong(const SentStream& sent, uint64_t at, std::string_view rest, char want) {
    std::string cause;
    rest = rest.substr(0, std::min(rest.size(), EchoChecker::kRepeatMaxBytes));
    if (rest.size() >= EchoChecker::kRepeatMinBytes)
      if (const auto earlier = sent.find_earlier(rest, at))
        cause = fmt::format(" (repeats sent bytes from offset {})", *earlier);
    return StreamError{at, fmt::format("byte {}: got {}, expected {}{}", at, byte_text(rest[0]),
                                       byte_text(want), cause)};
  }
};

}  // namespace

std::unique_ptr<ProtocolCheck> EchoChecker::start() const { return std::make_unique<EchoCheck>(); }

// --- lines ------------------------------------------------------------------------------------

// Per peer: the response line being received (its first kMaxLineBytes) and where its request
// line starts in the sent stream.
class LineChecker::Check final : public ProtocolCheck {
 public:
  explicit Check(const LineChecker& c) : checker_(c) {}

  std::optional<StreamError> received(const Conversation& c, std::string_view bytes) override {
    Lines& s = lines_[c.peer];
    for (size_t pos = 0; pos < bytes.size();) {
      const size_t nl = bytes.find('\n', pos);
      const size_t stop = nl == std::string_view::npos ? bytes.size() : nl;
      take(s, bytes.substr(pos, stop - pos));
      if (nl == std::string_view::npos) break;
      if (auto e = complete(s, *c.sent)) return e;
      s.start = c.received + nl + 1;
      pos = nl + 1;
    }
    // A growing partial line is asked about when it first appears and each time it doubles:
    // linear in its length, however small the chunks.
    if (s.length > 0 && s.length >= s.next_prefix_check) {
      s.next_prefix_check = 2 * s.length;
      return partial(s, *c.sent);
    }
    return std::nullopt;
  }

  std::optional<StreamError> end(const Conversation& c) override {
    const auto it = lines_.find(c.peer);
    if (it == lines_.end() || it->second.length == 0) return std::nullopt;
    return partial(it->second, *c.sent);
  }

 private:
  struct Lines {
    uint64_t k = 1;          // the response line being received (1-based)
    uint64_t start = 0;      // its offset in the received stream
    uint64_t length = 0;     // its bytes so far
    std::string kept;        // its first kMaxLineBytes
    uint64_t next_prefix_check = 0;
    uint64_t request = 0;    // the offset of the k-th request line in the sent stream
  };

  static void take(Lines& s, std::string_view part) {
    if (s.kept.size() < kMaxLineBytes)
      s.kept.append(part.substr(0, std::min(part.size(), kMaxLineBytes - s.kept.size())));
    s.length += part.size();
  }

  // The k-th request line, or what was sent of it (its first kMaxLineBytes); and whether it
  // is complete, with where the next one starts.
  static std::string request_text(const Lines& s, const SentStream& sent, uint64_t* next) {
    const std::optional<uint64_t> nl = sent.find_newline(s.request);
    const uint64_t stop = nl ? *nl : std::max(sent.size(), s.request);
    if (next != nullptr) *next = nl ? *nl + 1 : 0;
    return sent.text(s.request, std::min<uint64_t>(stop - s.request, kMaxLineBytes));
  }

  std::optional<StreamError> complete(Lines& s, const SentStream& sent) {
    uint64_t next = 0;
    const std::string request = request_text(s, sent, &next);
    if (next == 0)
      return StreamError{s.start, fmt::format("response line {} ({} bytes) answers no request "
                                              "line (only {} were sent)",
                                              s.k, s.length, s.k - 1)};
    if (!checker_.accept_(request, s.kept))
      return StreamError{s.start, fmt::format("response line {} does not answer its request: "
                                              "{}",
                                              s.k, quote_bytes(s.kept.data(), s.kept.size(),
                                                               kQuotedResponseBytes))};
    s = Lines{s.k + 1, s.start, 0, {}, 0, next};
    return std::nullopt;
  }

  std::optional<StreamError> partial(const Lines& s, const SentStream& sent) const {
    if (!checker_.accept_prefix_) return std::nullopt;
    if (checker_.accept_prefix_(request_text(s, sent, nullptr), s.kept)) return std::nullopt;
    return StreamError{s.start, fmt::format("response line {} (incomplete) cannot become an "
                                            "answer to its request: {}",
                                            s.k, quote_bytes(s.kept.data(), s.kept.size(),
                                                             kQuotedResponseBytes))};
  }

  const LineChecker& checker_;
  std::map<uint32_t, Lines> lines_;  // by peer
};

LineChecker::LineChecker(std::string name, Accept accept, Accept accept_prefix)
    : name_(std::move(name)), accept_(std::move(accept)), accept_prefix_(std::move(accept_prefix)) {}

std::unique_ptr<ProtocolCheck> LineChecker::start() const { return std::make_unique<Check>(*this); }

// --- the registry -----------------------------------------------------------------------------

namespace {

bool printable_line(std::string_view, std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isprint(static_cast<unsigned char>(ch)) != 0 || ch == '\r' || ch == '\t';
  });
}

// Seed 000's reply: "Hello, client fd: N" (N: 1 to kMaxDigits digits).
constexpr std::string_view kHelloPrefix = "Hello, client fd: ";
constexpr size_t kMaxDigits = 10;
bool digits(std::string_view n) {
  return n.size() <= kMaxDigits &&
         std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}
bool hello_reply(std::string_view, std::string_view response) {
  if (response.substr(0, kHelloPrefix.size()) != kHelloPrefix) return false;
  const std::string_view n = response.substr(kHelloPrefix.size());
  return !n.empty() && digits(n);
}
bool hello_prefix(std::string_view, std::string_view partial) {
  if (partial.size() <= kHelloPrefix.size()) return kHelloPrefix.substr(0, partial.size()) == partial;
  return hello_reply({}, partial);
}

}  // namespace

CheckerRegistry CheckerRegistry::builtins() {
  CheckerRegistry r;
  r.add(std::make_shared<EchoChecker>());
  r.add(std::make_shared<LineChecker>("line", printable_line, printable_line));
  r.add(std::make_shared<LineChecker>("hello", hello_reply, hello_prefix));
  return r;
}

void CheckerRegistry::add(std::shared_ptr<const ProtocolChecker> checker) {
  assert(checker != nullptr);
  for (auto& c : checkers_)
    if (c->name() == checker->name()) {
      c = std::move(checker);
      return;
    }
  checkers_.push_back(std::move(checker));
}

const ProtocolChecker* CheckerRegistry::find(std::string_view name) const {
  for (const auto& c : checkers_)
    if (c->name() == name) return c.get();
  return nullptr;
}

std::vector<std::string> CheckerRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& c : checkers_) out.emplace_back(c->name());
  std::sort(out.begin(), out.end());
  return out;
}

const CheckerRegistry& builtin_checkers() {
  static const CheckerRegistry all = CheckerRegistry::builtins();  // immutable once built
  return all;
}

const ProtocolChecker* find_checker(std::string_view protocol) {
  return builtin_checkers().find(protocol);
}

std::vector<std::string> checker_names() { return builtin_checkers().names(); }

}  // namespace edgecase
