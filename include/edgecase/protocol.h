// Protocol checkers: what the peers' bytes must look like for the server to be correct.
//
// A checker judges one peer's conversation (what it sent, what it received) after the run.
// The kit has two: "echo" (every byte back, in order, exactly once) and "line" (one response
// line per request line, each accepted by a predicate). Add another by implementing
// ProtocolChecker and passing it in RunOptions::checker, or by registering it by name.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgecase {

// One peer's side of the run.
struct Conversation {
  uint32_t peer = 0;         // peer#N
  std::string_view sent;     // every byte the peer sent, in order
  std::string_view received; // every byte it received, in order
  bool finished = false;     // the script ran to its end
  bool eof = false;          // the server closed or shut down its side
  std::string_view failure;  // why the script stopped early ("" if it did not)
};

// The first place a conversation went wrong.
struct StreamError {
  uint64_t offset = 0;  // into `received` (for a missing byte: received.size())
  std::string detail;   // e.g. "byte 1024: got 'a' (0x61), expected 'q' (0x71)"
  friend bool operator==(const StreamError&, const StreamError&) = default;
};

class ProtocolChecker {
 public:
  virtual ~ProtocolChecker() = default;
  virtual std::string_view name() const = 0;
  // Checks the bytes received so far: wrong, repeated or reordered bytes. A conversation cut
  // short is not an error here (a stall or a lost reply is another oracle's to name).
  virtual std::optional<StreamError> check(const Conversation& c) const = 0;
};

// Every byte back, in order, exactly once: `received` is a prefix of `sent`.
class EchoChecker final : public ProtocolChecker {
 public:
  std::string_view name() const override { return "echo"; }
  std::optional<StreamError> check(const Conversation& c) const override;
};

// Line-based request/response: the k-th complete line received answers the k-th line sent,
// and `accept(request, response)` says whether it does (both without the '\n'). Bytes after
// the last complete response line must be the start of a valid response (`accept_prefix`).
class LineChecker final : public ProtocolChecker {
 public:
  using Accept = std::function<bool(std::string_view request, std::string_view response)>;
  LineChecker(std::string name, Accept accept);
  std::string_view name() const override { return name_; }
  std::optional<StreamError> check(const Conversation& c) const override;

 private:
  std::string name_;
  Accept accept_;
};

// The checker a scenario's `protocol` names: "echo", "line" (any single line of printable
// bytes answers a request), "hello" (000's reply: "Hello, client fd: N"); nullptr if unknown.
const ProtocolChecker* find_checker(std::string_view protocol);
std::vector<std::string> checker_names();

}  // namespace edgecase
