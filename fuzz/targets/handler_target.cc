// A fuzz target for one handler of the kit's registry (handlers/): the seed servers and the
// reference echo server. EDGECASE_FUZZ_HANDLER names it (fuzz/CMakeLists.txt builds one
// target per name). Each listens on its own port and speaks its own protocol, as the demo's
// hunt has it: seed 000 greets every request line ("hello"), the others echo. Requests come
// from the protocol's generator (edgecase/gen.h), as a user's target draws them.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "edgecase/fuzz.h"
#include "handlers/handlers.h"

#ifndef EDGECASE_FUZZ_HANDLER
#error "EDGECASE_FUZZ_HANDLER names the handler to fuzz"
#endif

namespace {

edgecase::FuzzOptions options_for(const std::string& name) {
  edgecase::FuzzOptions o;
  o.handler_name = name;
  o.protocol = name.rfind("seed000", 0) == 0 ? edgecase::hello_protocol() : edgecase::echo_protocol();
  o.port = edgecase::handlers::own_port(name).value_or(edgecase::Scenario::kDefaultPort);
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const edgecase::FuzzOptions options = options_for(EDGECASE_FUZZ_HANDLER);
  static const edgecase::Handler handler = [] {
    edgecase::Scenario s;
    s.port = options.port;
    edgecase::Handler h = edgecase::handlers::find(options.handler_name, s);
    if (!h) std::abort();  // a name the registry does not know: the build is wrong
    return h;
  }();
  return edgecase::fuzz_server(data, size, handler, options);
}
