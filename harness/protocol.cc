// Protocol checkers (include/edgecase/protocol.h).
#include "edgecase/protocol.h"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

#include "edgecase/strace.h"

namespace edgecase {

namespace {

// How much of a wrong response line a report quotes.
constexpr size_t kQuotedResponseBytes = 48;

std::string byte_text(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (std::isprint(u) != 0 && c != '\'') return fmt::format("'{}' (0x{:02x})", c, u);
  return fmt::format("0x{:02x}", u);
}

// The first index where a and b differ, or the shorter length.
size_t mismatch_at(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  return static_cast<size_t>(std::mismatch(a.begin(), a.begin() + static_cast<ptrdiff_t>(n),
                                           b.begin()).first - a.begin());
}

}  // namespace

std::optional<StreamError> EchoChecker::check(const Conversation& c) const {
  const size_t at = mismatch_at(c.received, c.sent);
  if (at == c.received.size()) return std::nullopt;  // a prefix of what was sent
  if (at == c.sent.size())
    return StreamError{at, fmt::format("byte {}: got {} after all {} bytes sent were echoed "
                                       "(extra or repeated bytes)",
                                       at, byte_text(c.received[at]), c.sent.size())};
  // A repeat of earlier bytes is the usual cause (a write restarted at offset 0): say so.
  std::string cause;
  const std::string_view rest = c.received.substr(at, std::min<size_t>(16, c.received.size() - at));
  if (const size_t earlier = c.sent.substr(0, at).find(rest);
      rest.size() >= 4 && earlier != std::string_view::npos)
    cause = fmt::format(" (repeats sent bytes from offset {})", earlier);
  return StreamError{at, fmt::format("byte {}: got {}, expected {}{}", at,
                                     byte_text(c.received[at]), byte_text(c.sent[at]), cause)};
}

LineChecker::LineChecker(std::string name, Accept accept)
    : name_(std::move(name)), accept_(std::move(accept)) {}

std::optional<StreamError> LineChecker::check(const Conversation& c) const {
  size_t req_pos = 0;
  size_t resp_pos = 0;
  for (uint64_t k = 1;; ++k) {
    const size_t resp_end = c.received.find('\n', resp_pos);
    if (resp_end == std::string_view::npos) break;
    const size_t req_end = c.sent.find('\n', req_pos);
    const std::string_view response = c.received.substr(resp_pos, resp_end - resp_pos);
    if (req_end == std::string_view::npos)
      return StreamError{resp_pos, fmt::format("response line {} ({} bytes) answers no request "
                                               "line (only {} were sent)",
                                               k, response.size(), k - 1)};
    const std::string_view request = c.sent.substr(req_pos, req_end - req_pos);
    if (!accept_(request, response))
      return StreamError{resp_pos, fmt::format("response line {} does not answer its request: "
                                               "{}",
                                               k, quote_bytes(response.data(), response.size(),
                                                              kQuotedResponseBytes))};
    req_pos = req_end + 1;
    resp_pos = resp_end + 1;
  }
  return std::nullopt;
}

namespace {

bool printable_line(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char ch) {
    return std::isprint(static_cast<unsigned char>(ch)) != 0 || ch == '\r' || ch == '\t';
  });
}

// Seed 000's reply: "Hello, client fd: N".
bool hello_reply(std::string_view, std::string_view response) {
  constexpr std::string_view kPrefix = "Hello, client fd: ";
  if (response.substr(0, kPrefix.size()) != kPrefix) return false;
  const std::string_view n = response.substr(kPrefix.size());
  return !n.empty() && n.size() <= 10 &&
         std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
}

struct Checkers {
  EchoChecker echo;
  LineChecker line{"line", [](std::string_view, std::string_view r) { return printable_line(r); }};
  LineChecker hello{"hello", hello_reply};
};

const Checkers& checkers() {
  static const Checkers all;  // immutable after construction: shared by every run
  return all;
}

}  // namespace

const ProtocolChecker* find_checker(std::string_view protocol) {
  const Checkers& c = checkers();
  for (const ProtocolChecker* p : {static_cast<const ProtocolChecker*>(&c.echo),
                                   static_cast<const ProtocolChecker*>(&c.line),
                                   static_cast<const ProtocolChecker*>(&c.hello)})
    if (p->name() == protocol) return p;
  return nullptr;
}

std::vector<std::string> checker_names() { return {"echo", "hello", "line"}; }

}  // namespace edgecase
