// pattern_byte (include/edgecase/scenario.h) and its bulk form pattern_fill (harness/peer.h).
// The fault plan's functions live in harness/fault_plan.cc.
#include "edgecase/scenario.h"

#include "harness/peer.h"

namespace edgecase {

namespace {

// splitmix64 (Steele, Lea, Flood 2014): the golden-ratio increment and the finalizer, in which
// every input bit reaches every output bit, so neighbouring blocks give unrelated bytes and no
// short period appears.
constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ULL;
constexpr uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One hash gives the bytes of 8 offsets (one per byte of the hash): the bulk fill costs one
// mix per 8 bytes.
constexpr unsigned kBytesPerBlock = 8;
constexpr unsigned kBlockShift = 3;
// Printable ASCII without the space: '!' (0x21) to '~' (0x7e). Never '\n', so line protocols
// can frame pattern bytes, and no space, so a trace shows where a chunk starts and ends.
constexpr char kFirstPrintable = '!';
constexpr unsigned kPrintableCount = '~' - '!' + 1;

// A byte of the hash (0..255) scaled onto the printable range.
constexpr char printable(uint64_t b) {
  return static_cast<char>(kFirstPrintable +
                           static_cast<char>(((b & 0xff) * kPrintableCount) >> 8));
}

}  // namespace

void pattern_fill(uint32_t peer, uint64_t offset, char* out, size_t n) {
  const uint64_t key = mix(peer * kGolden);
  size_t i = 0;
  while (i < n) {
    const uint64_t at = offset + i;
    const uint64_t h = mix(key + (at >> kBlockShift) * kGolden);
    if ((at & (kBytesPerBlock - 1)) == 0 && n - i >= kBytesPerBlock) {
      // A whole block: a loop the compiler unrolls, with constant shifts.
      for (unsigned j = 0; j < kBytesPerBlock; ++j) out[i + j] = printable(h >> (8 * j));
      i += kBytesPerBlock;
      continue;
    }
    for (unsigned j = at & (kBytesPerBlock - 1); j < kBytesPerBlock && i < n; ++j, ++i)
      out[i] = printable(h >> (8 * j));
  }
}

char pattern_byte(uint32_t peer, uint64_t offset) {
  char c;
  pattern_fill(peer, offset, &c, 1);
  return c;
}

}  // namespace edgecase
