// The peers' byte pattern in bulk: pattern_byte (include/edgecase/scenario.h) for a whole
// range, as senders and checkers of long streams need it (world/scenario.cc).
#pragma once

#include <cstddef>
#include <cstdint>

namespace edgecase {

// pattern_byte(peer, offset + i) for i in [0, n), into `out`: the same bytes, about eight times
// cheaper (one hash per eight bytes). For senders and checkers of long streams.
void pattern_fill(uint32_t peer, uint64_t offset, char* out, size_t n);
// pattern_fill's ways of computing the same bytes: portable C++, or four blocks at a time in
// AVX2 or AVX-512 (DQ, VL); pattern_fill takes the best the CPU has. For tests: false (and
// nothing written) when the CPU lacks `path`.
enum class PatternPath : uint8_t { portable, avx2, avx512 };
bool pattern_fill_via(PatternPath path, uint32_t peer, uint64_t offset, char* out, size_t n);

}  // namespace edgecase
