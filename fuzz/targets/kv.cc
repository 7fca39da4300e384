// A user's fuzz target for their own handler and protocol, here examples/kv's server and
// kv_protocol() (the requests the fuzzer draws and the model that checks the replies): what a
// user writes is the function below and one edgecase_add_fuzzer line (fuzz/CMakeLists.txt).
// EDGECASE_KV_BUG picks one of the example's servers (kv::Bug; default: the correct one).
#include <cstdint>

#include "edgecase/fuzz.h"
#include "examples/kv/kv.h"

#ifndef EDGECASE_KV_BUG
#define EDGECASE_KV_BUG none
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const edgecase::FuzzOptions options{.handler_name = "kv", .protocol = kv::kv_protocol()};
  static const edgecase::Handler server = kv::server(edgecase::Scenario{}, kv::Bug::EDGECASE_KV_BUG);
  return edgecase::fuzz_server(data, size, server, options);
}
