#include "world/trace.h"

#include <algorithm>
#include <fmt/format.h>
#include <iterator>

namespace edgecase::sim {

namespace {
// "[{:>7}.{:03}ms]": the milliseconds right-aligned in at least this many characters.
constexpr int kMillisWidth = 7;
constexpr int kDecimal = 10;
}  // namespace

// fmt::format("[{:>7}.{:03}ms]", ms, us) written by hand: it stamps every line of a traced run
// (a 64 MiB echo run has about 20,000), and the format call was a tenth of the tracing's cost.
std::string Trace::stamp(Nanos at) {
  std::string s;
  append_stamp(at, s);
  return s;
}

void Trace::append_stamp(Nanos at, std::string& s) {
  if (at < 0) {
    fmt::format_to(std::back_inserter(s), "[{:>7}.{:03}ms]", at / kNanosPerMilli,
                   (at % kNanosPerMilli) / kNanosPerMicro);
    return;
  }
  char digits[24];
  int n = 0;
  for (Nanos ms = at / kNanosPerMilli; n == 0 || ms > 0; ms /= kDecimal)
    digits[n++] = static_cast<char>('0' + ms % kDecimal);
  const auto us = static_cast<int>((at % kNanosPerMilli) / kNanosPerMicro);
  s += '[';
  s.append(static_cast<size_t>(std::max(0, kMillisWidth - n)), ' ');
  while (n > 0) s += digits[--n];
  s += '.';
  s += static_cast<char>('0' + us / (kDecimal * kDecimal));
  s += static_cast<char>('0' + us / kDecimal % kDecimal);
  s += static_cast<char>('0' + us % kDecimal);
  s += "ms]";
}

}  // namespace edgecase::sim
