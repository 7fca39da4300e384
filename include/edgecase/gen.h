// Generated cases: the kit's one scenario generator, as rapidcheck generators.
//
// Every generated case in the kit comes from here: the property suites and a user's property
// (edgecase/property.h) run gen_case under rapidcheck, and the hunt (`edgecase hunt`, the demo)
// draws case_from_seed(seed), the same generator at a fixed rapidcheck Random, so a seed still
// names one case. Shrinking is rapidcheck's: a failing case shrinks toward fewer peers, fewer
// and smaller requests, simpler peers and fewer faults, and every shrink is a well-formed
// conversation (each request still has its reply read), because the generator draws a
// structure (peers, their kinds, their requests) and writes the scripts from it.
//
// A protocol is what the peers say: a generator of requests (so shrinking simplifies requests
// the way the protocol allows) and a checker of the replies (edgecase/protocol.h), which may be
// a model of the server fed the same requests. echo, line and hello are instances.
#pragma once

#include <rapidcheck.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/protocol.h"

namespace edgecase {

// One request a peer sends and what it reads back for it. The bytes sent are `data`, then
// `pattern` bytes of the peer's pattern (pattern_byte: printable, no '\n'; for large bodies,
// which the case file and the checker never copy), then `tail`. At least one byte.
struct Request {
  enum class Reply : uint8_t {
    bytes,  // the peer reads `reply_count` bytes (echo: the request's size)
    lines,  // the peer reads `reply_count` lines
    none,   // no reply is read
  };
  std::string data;
  uint64_t pattern = 0;
  std::string tail;
  Reply reply = Reply::bytes;
  uint64_t reply_count = 0;

  uint64_t size() const { return data.size() + pattern + tail.size(); }
  friend bool operator==(const Request&, const Request&) = default;
};

// A protocol: its name (the case file's `protocol`, and the checker's name), its requests and
// its checker. Copyable; the checker is shared.
struct Protocol {
  std::string name;
  rc::Gen<Request> request;
  std::shared_ptr<const ProtocolChecker> checker;
  // Requests for a peer that sends many before reading any reply (a stop-reader), drawn half
  // the time instead of `request`: large ones that fill the buffers (hello: lines of 128..768
  // KiB, each earning a 21-byte reply). Unset: `request` only.
  std::optional<rc::Gen<Request>> flood;
};

// A request cut to fit a peer's byte budget (GenOptions::max_peer_bytes, 16 KiB with the
// slow-reader fault) loses pattern bytes, never data or tail bytes; a `bytes` reply then reads
// min(reply_count, its new size). A request that cannot be cut to fit is dropped with the
// requests after it.

// The kit's protocols. echo: pattern bytes from 1 byte to a few hundred KB, weighted toward
// the thresholds that matter (1 KiB, 10 KiB, socket buffer sizes), each read back in full.
// line: printable lines, each answered by one line. hello: seed 000's greeting, per line.
Protocol echo_protocol();
Protocol line_protocol();
Protocol hello_protocol();
// One of the above by name; nullopt if unknown.
std::optional<Protocol> builtin_protocol(std::string_view name);

// What a generated case is for, and how large it may get.
struct GenOptions {
  std::string handler = "echo";  // the case's handler name (case files, the registry)
  std::vector<std::string> handler_args;  // recorded in every case (Scenario::handler_args)
  uint16_t port = Scenario::kDefaultPort;
  bool faults = true;           // draw a fault plan (swarm: each fault on or off); else none
  // With faults: the kinds the plan may turn on (bit i: FaultKind i); the others stay off.
  uint32_t fault_kinds = kEveryFaultKind;
  // With faults: every allowed kind on in every case (its probability drawn), instead of each
  // on or off (the swarm draw, the default). Shrinking may still turn one off.
  bool every_fault = false;
  static constexpr uint32_t kEveryFaultKind = (1u << kFaultCount) - 1;
  uint32_t max_peers = 6;       // at rapidcheck's full size (kFullSize)
  uint32_t max_requests = 8;    // per conversation, at full size
  uint64_t max_peer_bytes = 1024 * 1024;  // what one peer sends at most
};

// rapidcheck's nominal size: the hunt's cases are drawn at it; rc::check grows to it.
inline constexpr int kFullSize = 100;

// Fault plans, swarm-style: each fault on or off, with a probability from a small menu;
// shrinks toward every fault off.
rc::Gen<FaultPlan> gen_fault_plan(uint32_t kinds = GenOptions::kEveryFaultKind, bool every = false);
// Scenarios for `protocol` (peers, kinds, starts, requests); shrinks toward fewer peers, fewer
// and smaller requests, plain peers starting at once.
rc::Gen<Scenario> gen_scenario(const Protocol& protocol, const GenOptions& options = {});
// Cases: a scenario, a fault plan (GenOptions::faults) and the world's seed.
rc::Gen<Case> gen_case(const Protocol& protocol, const GenOptions& options = {});

// The case seed `seed` names (at kFullSize), with its shrinks: what the hunt and `edgecase case
// --seed` run. A pure function of (protocol's generator, options, seed) on any build.
rc::Shrinkable<Case> case_from_seed(const Protocol& protocol, const GenOptions& options,
                                    uint64_t seed);

}  // namespace edgecase
