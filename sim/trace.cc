#include "sim/trace.h"

#include <algorithm>
#include <fmt/format.h>

namespace edgecase::sim {

namespace {
// "[{:>7}.{:03}ms]": the milliseconds right-aligned in at least this many characters.
constexpr int kMillisWidth = 7;
constexpr int kDecimal = 10;
}  // namespace

// fmt::format("[{:>7}.{:03}ms]", ms, us) written by hand: it stamps every line of a traced run
// (a 64 MiB echo run has about 20,000), and the format call was a tenth of the tracing's cost.
std::string Trace::stamp(Nanos at) {
  if (at < 0)
    return fmt::format("[{:>7}.{:03}ms]", at / kNanosPerMilli, (at % kNanosPerMilli) / kNanosPerMicro);
  char digits[24];
  int n = 0;
  for (Nanos ms = at / kNanosPerMilli; n == 0 || ms > 0; ms /= kDecimal)
    digits[n++] = static_cast<char>('0' + ms % kDecimal);
  const auto us = static_cast<int>((at % kNanosPerMilli) / kNanosPerMicro);
  std::string s;
  s.reserve(static_cast<size_t>(std::max(n, kMillisWidth)) + 8);
  s += '[';
  s.append(static_cast<size_t>(std::max(0, kMillisWidth - n)), ' ');
  while (n > 0) s += digits[--n];
  s += '.';
  s += static_cast<char>('0' + us / (kDecimal * kDecimal));
  s += static_cast<char>('0' + us / kDecimal % kDecimal);
  s += static_cast<char>('0' + us % kDecimal);
  s += "ms]";
  return s;
}

}  // namespace edgecase::sim
