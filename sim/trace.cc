#include "sim/trace.h"

#include <fmt/format.h>

namespace edgecase::sim {

std::string Trace::stamp(Nanos at) {
  return fmt::format("[{:>7}.{:03}ms]", at / kNanosPerMilli, (at % kNanosPerMilli) / kNanosPerMicro);
}

}  // namespace edgecase::sim
