// Protocol checkers: what the peers' bytes must look like for the server to be correct.
//
// Checking is incremental, so a run's memory does not grow with the bytes it moves: a run
// starts one ProtocolCheck from its ProtocolChecker, and every peer feeds it each chunk it
// receives, as it arrives, with a compact description of what it sent (a SentStream, which can
// give back any byte sent without keeping the stream). One check sees every peer of the run in
// the order their bytes arrive, and (server_read) how far the server has read each peer's
// stream, in the order it read them: a checker may keep a model of the server across peers,
// fed the requests in the order the server read them (docs/PROTOCOLS.md, examples/kv/).
//
// The kit has three checkers: "echo" (every byte back, in order, exactly once), "line" (one
// printable response line per request line) and "hello" (000's "Hello, client fd: N"). A
// CheckerRegistry maps protocol names to checkers: CheckerRegistry::builtins() holds these
// three; add your own to a copy and pass it in RunOptions::checkers, or pass one checker in
// RunOptions::checker to override the case's protocol.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edgecase {

// The bytes one peer sent, in order, without keeping the stream: runs of the peer's pattern
// (given back by pattern_fill from their offsets) and literal `send` data (kept: at most what
// the case file holds, since a script runs each step once). No copy of the pattern is kept:
// regenerating it (pattern_fill, 32 bytes per step where the CPU allows) costs less than
// copying every byte sent into a window and reading it back.
class SentStream {
 public:
  // The first and the last kRepeatSearchBytes before an offset are where find_earlier looks.
  static constexpr uint64_t kRepeatSearchBytes = uint64_t{1} << 20;

  // `bytes` are the next bytes of peer `peer`'s pattern: pattern_byte(peer, o) at each stream
  // offset o from size() on, as the sender generated them.
  void append_pattern(uint32_t peer, std::string_view bytes);
  // The same, generating them.
  void append_pattern(uint32_t peer, uint64_t n);
  // Bytes given by a script.
  void append_literal(std::string_view bytes);

  uint64_t size() const { return size_; }
  // Bytes [offset, offset + n) into `out`; requires offset + n <= size().
  void copy(uint64_t offset, char* out, size_t n) const;
  // Bytes [offset, offset + n) in place, when one literal run holds them; otherwise (pattern
  // bytes, which are regenerated) empty.
  std::string_view recent(uint64_t offset, size_t n) const;
  char at(uint64_t offset) const;
  // Bytes [offset, offset + n) as a string (for quotes and tests; n is the caller's bound).
  std::string text(uint64_t offset, uint64_t n) const;
  // The first '\n' at or after `from`, if any (pattern runs hold none: a skip per run).
  std::optional<uint64_t> find_newline(uint64_t from) const;
  // The first offset o with o + needle.size() <= before and bytes [o, ...) == needle, looked
  // for in the first and the last kRepeatSearchBytes before `before` only.
  std::optional<uint64_t> find_earlier(std::string_view needle, uint64_t before) const;

 private:
  struct Run {
    uint64_t start = 0;  // stream offset of its first byte
    uint64_t size = 0;
    uint32_t peer = 0;         // the pattern's peer, for a pattern run
    bool literal = false;
    size_t literal_at = 0;     // where its bytes start in literal_, for a literal run
  };
  // The run holding stream offset `offset` (< size()).
  size_t run_at(uint64_t offset) const;
  void add_run(Run r);

  std::vector<Run> runs_;
  std::string literal_;
  uint64_t size_ = 0;
};

// One peer's side of the run, as far as it got.
struct Conversation {
  uint32_t peer = 0;                 // peer#N
  const SentStream* sent = nullptr;  // every byte the peer sent so far (never null when fed)
  uint64_t received = 0;  // bytes received before the chunk being fed; at end(), all of them
  bool finished = false;  // (end() only) the script ran to its end
  bool eof = false;       // the server closed or shut down its side
  std::string_view failure;  // why the script stopped early ("" if it did not)
};

// The first place a conversation went wrong.
struct StreamError {
  uint64_t offset = 0;  // into the received stream (for a missing byte: the bytes received)
  std::string detail;   // e.g. "byte 1024: got 'a' (0x61), expected 'q' (0x71)"
  friend bool operator==(const StreamError&, const StreamError&) = default;
};

// One run's checking state. Wrong, repeated or reordered bytes are errors; a conversation cut
// short is not (a stall or a lost reply is another oracle's to name).
class ProtocolCheck {
 public:
  virtual ~ProtocolCheck() = default;
  // `bytes` arrived for c.peer at received-stream offset c.received. Returns the first error
  // in them; after an error, that peer's later bytes are not fed.
  virtual std::optional<StreamError> received(const Conversation& c, std::string_view bytes) = 0;
  // The server has now read peer c.peer's stream up to byte `end` of c.sent (the peer's sent
  // stream, whose offsets continue across its connections). Called in the order the server's
  // reads happen, across every peer, and before any byte the server sends after that read
  // reaches received(): a model of a server with shared state (a key-value store) applies
  // each peer's requests as their last byte is read, in this order. Simulation: exact, from
  // the server socket's receive queue, whatever call or fd the handler read with. Live: from
  // the handler's read, recv and readv calls that returned data on an fd accepted from the
  // peer (the same order; see docs/PROTOCOLS.md for what live can miss). Only a peer's latest
  // connection is reported. Default: nothing (checkers that judge each peer alone).
  virtual void server_read(const Conversation& c, uint64_t end) {
    (void)c;
    (void)end;
  }
  // The run is over: an error only the end can show (called once per peer without an error).
  virtual std::optional<StreamError> end(const Conversation& c) = 0;
};

// A protocol: immutable, shared by every run that uses it.
class ProtocolChecker {
 public:
  virtual ~ProtocolChecker() = default;
  virtual std::string_view name() const = 0;
  // A fresh check for one run (it may refer to this checker, which must outlive it).
  virtual std::unique_ptr<ProtocolCheck> start() const = 0;
};

// Every byte back, in order, exactly once: the received stream is a prefix of the sent one.
// A wrong byte that starts a copy of earlier sent bytes (a write restarted at an old offset)
// says so, when at least kRepeatMinBytes of the chunk match (SentStream::find_earlier).
class EchoChecker final : public ProtocolChecker {
 public:
  static constexpr size_t kRepeatMinBytes = 4;
  static constexpr size_t kRepeatMaxBytes = 16;
  std::string_view name() const override { return "echo"; }
  std::unique_ptr<ProtocolCheck> start() const override;
};

// Line-based request/response: the k-th complete line received answers the k-th line sent,
// and `accept(request, response)` says whether it does (both without the '\n'). Bytes after
// the last complete response line must be the start of a valid response: `accept_prefix
// (request, partial)` says whether `partial` can still become one (request: the k-th request
// line, or what was sent of it); it is asked as the bytes arrive and at the end of the run.
// Without accept_prefix any prefix is accepted. Lines are judged on their first
// kMaxLineBytes (a longer line costs no more memory: its rest is counted, not kept).
class LineChecker final : public ProtocolChecker {
 public:
  static constexpr size_t kMaxLineBytes = 64 * 1024;
  using Accept = std::function<bool(std::string_view request, std::string_view response)>;
  LineChecker(std::string name, Accept accept, Accept accept_prefix = {});
  std::string_view name() const override { return name_; }
  std::unique_ptr<ProtocolCheck> start() const override;

 private:
  class Check;
  std::string name_;
  Accept accept_;
  Accept accept_prefix_;
};

// Checkers by protocol name: a value, passed to runs explicitly (no process-wide registry).
class CheckerRegistry {
 public:
  // "echo", "line" (any single line of printable bytes answers a request), "hello".
  static CheckerRegistry builtins();
  // Adds `checker`, replacing one of the same name.
  void add(std::shared_ptr<const ProtocolChecker> checker);
  // nullptr if unknown.
  const ProtocolChecker* find(std::string_view name) const;
  std::vector<std::string> names() const;  // sorted

 private:
  std::vector<std::shared_ptr<const ProtocolChecker>> checkers_;
};

// The built-in registry (immutable, shared): find_checker(p) is builtin_checkers().find(p).
const CheckerRegistry& builtin_checkers();
const ProtocolChecker* find_checker(std::string_view protocol);
std::vector<std::string> checker_names();

}  // namespace edgecase
