// A worked example of a user's own protocol: a key-value line protocol, as a user of the kit
// writes it for a server with shared state (docs/PROTOCOLS.md).
//
//   SET <key> <value>\n   ->  OK\n
//   GET <key>\n           ->  <value>\n, or NOTFOUND\n
//   anything else\n       ->  ERROR\n
//
// Keys and values are printable bytes without spaces; a value may be large (100 KB). What the
// user supplies is an edgecase::Protocol (edgecase/gen.h): a rapidcheck generator of requests
// (so a failing case shrinks to simpler requests: fewer, smaller values, the first key) and a
// model checker (a reference store fed every peer's requests in the order the server read
// them, ProtocolCheck::server_read, judging each reply line as it arrives). And the servers it
// checks: a correct edge-triggered one, and two with the bugs a hand-written case found in
// issue 10 (two requests in one segment answered once; large values cut short).
//
// Not part of the kit's library: an example to copy (CMake target edgecase_kv_example).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edgecase/gen.h"
#include "edgecase/kernel.h"
#include "edgecase/protocol.h"
#include "edgecase/runner.h"

namespace kv {

// The protocol's name (a case file's `protocol kv`).
inline constexpr std::string_view kProtocolName = "kv";
// Keys requests draw from: few, so that GETs find earlier SETs.
inline constexpr std::string_view kKeys[] = {"a", "b", "c", "key4"};
// Values are 1 byte to this many (pattern bytes: printable, no space, no newline).
inline constexpr uint64_t kMaxValueBytes = 100'000;
// A request's header ("SET key ", "GET key") is at most this long; longer is an ERROR.
inline constexpr uint64_t kMaxHeaderBytes = 64;

// A request line as the protocol reads it. `head` is the line's first
// min(line_size, kMaxHeaderBytes + 1) bytes and `line_size` its length without the '\n': a
// 100 KB value is never copied to parse it. SET: "SET ", a key (no space), a space, a value of
// at least one byte (the rest of the line), the key's space within the header. GET: "GET "
// and a key (no space), the whole line within the header. Anything else is an error. The
// model and the servers share it: it is the protocol's grammar, not the state being checked.
struct Parsed {
  enum class Op : uint8_t { set, get, error };
  Op op = Op::error;
  std::string_view key;   // within head
  uint64_t value_at = 0;  // SET: where the value starts in the line
};
Parsed parse_request(std::string_view head, uint64_t line_size);

// Requests: SET of a key and a value of 1 byte to kMaxValueBytes (weighted toward small ones
// and the thresholds 1 KiB, 16 KiB and 64 KiB), or GET of a key. Each is read back as one reply
// line. Shrinks toward SET, the first key, a 1-byte value.
rc::Gen<edgecase::Request> gen_request();

// The model: a store fed each peer's complete request lines in the order the server read
// their last byte (across every peer), each reply line compared byte by byte as it arrives
// (a stored value refers to the bytes its setter sent; nothing is copied).
class ModelChecker final : public edgecase::ProtocolChecker {
 public:
  std::string_view name() const override { return kProtocolName; }
  std::unique_ptr<edgecase::ProtocolCheck> start() const override;
};

// What a user's property passes to edgecase::check_server: name, requests, model.
edgecase::Protocol kv_protocol();

// Servers. Each listens on (addr, port) and serves until stopped: epoll, edge-triggered,
// nonblocking, reads to EAGAIN, buffers its output and finishes it on EPOLLOUT, answers a
// half-closed peer before closing, and applies every complete request it has read (a reset
// after a SET does not undo it: the model stores a value once its line is read).
enum class Bug : uint8_t {
  none,
  // Handles only the first complete request after each readable event: two requests in one
  // segment get one reply (the second waits for an edge that never comes).
  first_request_only,
  // Stores at most kTruncatedValueBytes of a value (a fixed-size slot): a GET of a larger one
  // is cut short.
  truncates_values,
};
inline constexpr uint64_t kTruncatedValueBytes = 64 * 1024;
void serve(edgecase::Kernel& k, uint32_t addr, uint16_t port, Bug bug = Bug::none);
// serve() on the scenario's address and port, as a handler for run_case.
edgecase::Handler server(const edgecase::Scenario& s, Bug bug = Bug::none);

}  // namespace kv
