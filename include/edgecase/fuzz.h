// Fuzzing a handler with libFuzzer: any byte string is decoded into a case (a scenario and a
// fault plan) that the runner accepts, the case runs on the simulated world, and an oracle's
// violation aborts the fuzzer with the report and a case file that replays it.
//
//   #include "edgecase/fuzz.h"
//   void my_server(edgecase::Kernel& k);      // listens on 127.0.0.1:7000
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     static const edgecase::FuzzOptions options{.handler_name = "my-server"};
//     return edgecase::fuzz_server(data, size, my_server, options);
//   }
//
// and in CMake (with -DEDGECASE_FUZZ=ON, clang only): edgecase_add_fuzzer(my_fuzzer my_fuzz.cc)
// (fuzz/README.md). Clang only: the decoder reads the bytes with libFuzzer's FuzzedDataProvider.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/protocol.h"
#include "edgecase/runner.h"

class FuzzedDataProvider;  // <fuzzer/FuzzedDataProvider.h>

namespace edgecase {

// One request a peer sends and what it reads back for it, as the decoder draws it: the bytes
// sent are `data`, then `pattern` bytes of the peer's pattern (printable, no '\n'), then
// `tail`. Its fields are those of edgecase/gen.h's Request, so a protocol's rapidcheck request
// generator converts field by field (see RequestDecoder).
struct FuzzRequest {
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
};

struct FuzzOptions;

// Draws one request of a protocol from the fuzzer's bytes, at most `max_bytes` long (at least
// one byte). The built-in protocols have one each (builtin_request_decoder); a user protocol
// supplies its own, e.g. from a rapidcheck generator of edgecase/gen.h:
//   [gen = protocol.request](FuzzedDataProvider& in, uint64_t) {
//     const Request r = gen(rc::Random(in.ConsumeIntegral<uint64_t>()), kFullSize).value();
//     return FuzzRequest{r.data, r.pattern, r.tail, ..., r.reply_count};
//   }
using RequestDecoder = std::function<FuzzRequest(FuzzedDataProvider& in, uint64_t max_bytes)>;

// "echo": pattern bytes around the thresholds seed servers trip on (1 KiB, 10 KiB), read back
// in full. "line" and "hello": one printable line (ending in '\n'), answered by one line.
// An empty function for another name.
RequestDecoder builtin_request_decoder(const std::string& protocol);

struct FuzzOptions {
  // The sizes a decoded case stays within: small enough that one run costs well under 0.1 ms
  // of the simulation (>= 10,000 runs per second under ASan+UBSan), large enough to cross a
  // 1 KiB or a 10 KiB read buffer and to have two peers connect at once.
  static constexpr uint32_t kDefaultMaxPeers = 3;
  static constexpr uint32_t kDefaultMaxConnections = 2;  // per peer
  static constexpr uint32_t kDefaultMaxRequests = 4;     // per connection
  static constexpr uint64_t kDefaultMaxRequestBytes = 12 * 1024;
  // A spinning or blocked handler is cut here (a correct one needs a few hundred calls for the
  // cases above): the fuzzer's time goes to new cases, not to one busy loop.
  static constexpr uint64_t kDefaultStepBudget = 5'000;

  std::string handler_name = "fuzzed";  // the case file's `handler` line
  std::string protocol = "echo";        // the case's protocol: its checker and, by default, requests
  uint16_t port = Scenario::kDefaultPort;  // where the handler listens
  uint32_t max_peers = kDefaultMaxPeers;
  uint32_t max_connections = kDefaultMaxConnections;
  uint32_t max_requests = kDefaultMaxRequests;
  uint64_t max_request_bytes = kDefaultMaxRequestBytes;
  bool faults = true;  // decode a fault plan; else none
  uint64_t step_budget = kDefaultStepBudget;
  // Requests of the protocol; empty: builtin_request_decoder(protocol).
  RequestDecoder requests;
  // Oracles whose violations do not stop the fuzzer, to look past a shallow bug for the next
  // one (e.g. {"ctl-error"}); $EDGECASE_FUZZ_IGNORE adds a comma-separated list. A crash or a
  // sanitizer's report always stops it.
  std::vector<std::string> ignore;
  // The checker for a protocol the kit does not know (RunOptions::checker); null: the
  // built-in checker named `protocol`.
  std::shared_ptr<const ProtocolChecker> checker;
};

// The case `data` decodes to: always one that check_case and validate_case accept. A pure
// function of (data, options).
Case fuzz_case(const uint8_t* data, size_t size, const FuzzOptions& options);

// Runs fuzz_case(data, size, options) against `handler` on the simulated world (in this
// process: a crash or an ASan report ends the fuzzer itself, with libFuzzer's crash file). On
// a violation it prints Report::format() to stderr, writes the case file (with its violations,
// Report::recorded_case_text) to $EDGECASE_FUZZ_OUT or the current directory as
// fuzz-<handler>-<oracle>-<hash>.case, and aborts. Returns 0 otherwise (libFuzzer's contract).
int fuzz_server(const uint8_t* data, size_t size, const Handler& handler,
                const FuzzOptions& options);

}  // namespace edgecase
