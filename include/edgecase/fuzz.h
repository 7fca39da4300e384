// Fuzzing a handler with libFuzzer: any byte string is decoded into a case (a scenario and a
// fault plan) that the runner accepts, the case runs on the simulated world, and an oracle's
// violation aborts the fuzzer with the report and a case file that replays it. The requests
// come from the same edgecase::Protocol (edgecase/gen.h) a property uses:
//
//   #include "edgecase/fuzz.h"
//   void my_server(edgecase::Kernel& k);      // listens on 127.0.0.1:7000
//   edgecase::Protocol my_protocol();         // name, rc::Gen<Request>, checker
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     static const edgecase::FuzzOptions options{.handler_name = "my-server",
//                                                .protocol = my_protocol()};
//     return edgecase::fuzz_server(data, size, my_server, options);
//   }
//
// and in CMake (with -DEDGECASE_FUZZ=ON, clang only): edgecase_add_fuzzer(my_fuzzer my_fuzz.cc)
// (fuzz/README.md; fuzz/targets/kv.cc is this for examples/kv). Clang only: the decoder reads
// the bytes with libFuzzer's FuzzedDataProvider.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/gen.h"
#include "edgecase/protocol.h"
#include "edgecase/runner.h"

class FuzzedDataProvider;  // <fuzzer/FuzzedDataProvider.h>

namespace edgecase {

// Draws one request of a protocol from the fuzzer's bytes, at most `max_bytes` long (at least
// one byte; a longer one ends the connection's requests).
using RequestDecoder = std::function<Request(FuzzedDataProvider& in, uint64_t max_bytes)>;

// A protocol's own requests: a rapidcheck size and a 32-bit seed read from the fuzzer's bytes (so
// libFuzzer's mutations choose the request), then `protocol.request` drawn at that Random and
// size, cut to `max_bytes` as generated cases are (gen.h: pattern bytes go first). What
// FuzzOptions uses unless `requests` is set.
RequestDecoder protocol_request_decoder(const Protocol& protocol);

struct FuzzOptions {
  // The sizes a decoded case stays within: small enough that a run costs a few hundred
  // microseconds under ASan+UBSan (docs/PERFORMANCE.md (g)), large enough to cross a 1 KiB or
  // a 10 KiB read buffer and to have two peers connect at once.
  static constexpr uint32_t kDefaultMaxPeers = 3;
  static constexpr uint32_t kDefaultMaxConnections = 2;  // per peer
  static constexpr uint32_t kDefaultMaxRequests = 4;     // per connection
  static constexpr uint64_t kDefaultMaxRequestBytes = 12 * 1024;
  // A spinning or blocked handler is cut here (a correct one needs a few hundred calls for the
  // cases above): the fuzzer's time goes to new cases, not to one busy loop.
  static constexpr uint64_t kDefaultStepBudget = 5'000;

  std::string handler_name = "fuzzed";  // the case file's `handler` line
  // The case's protocol: its name (the case file's `protocol`), its requests (unless
  // `requests` is set) and its checker.
  Protocol protocol = echo_protocol();
  uint16_t port = Scenario::kDefaultPort;  // where the handler listens
  uint32_t max_peers = kDefaultMaxPeers;
  uint32_t max_connections = kDefaultMaxConnections;
  uint32_t max_requests = kDefaultMaxRequests;
  uint64_t max_request_bytes = kDefaultMaxRequestBytes;
  bool faults = true;  // decode a fault plan; else none
  uint64_t step_budget = kDefaultStepBudget;
  // How each request is drawn; empty: protocol_request_decoder(protocol).
  RequestDecoder requests;
  // Oracles whose violations do not stop the fuzzer, to look past a shallow bug for the next
  // one (e.g. {"ctl-error"}); $EDGECASE_FUZZ_IGNORE adds a comma-separated list. A crash or a
  // sanitizer's report always stops it.
  std::vector<std::string> ignore;
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
