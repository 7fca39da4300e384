// pattern_byte (include/edgecase/scenario.h). The fault plan's functions live in
// harness/fault_plan.cc.
#include "edgecase/scenario.h"

namespace edgecase {

namespace {

// splitmix64's finalizer (Steele, Lea, Flood 2014): every input bit reaches every output bit,
// so neighbouring offsets give unrelated bytes and no short period appears.
constexpr uint64_t mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The golden ratio increment of splitmix64: separates the peers' streams.
constexpr uint64_t kPeerStride = 0x9e3779b97f4a7c15ULL;
// Printable ASCII without the space: '!' (0x21) to '~' (0x7e). Never '\n', so line protocols
// can frame pattern bytes, and no space, so a trace shows where a chunk starts and ends.
constexpr char kFirstPrintable = '!';
constexpr uint64_t kPrintableCount = '~' - '!' + 1;

}  // namespace

char pattern_byte(uint32_t peer, uint64_t offset) {
  const uint64_t h = mix(mix(peer * kPeerStride) ^ offset);
  return static_cast<char>(kFirstPrintable + static_cast<char>(h % kPrintableCount));
}

}  // namespace edgecase
