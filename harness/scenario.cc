// pattern_byte (include/edgecase/scenario.h) and its bulk form pattern_fill (harness/peer.h).
// The fault plan's functions live in harness/fault_plan.cc.
#include "edgecase/scenario.h"

#include <bit>
#include <cstring>

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

// All eight bytes of a hash at once, equal to printable() of each (SWAR): each byte times
// kPrintableCount fits in a 16-bit lane (255 * 94 < 2^16), so the even and the odd bytes are
// scaled in two multiplications without carrying into their neighbours, and adding '!' to
// values below 94 never carries either. Stored little-endian: byte j is printable(h >> 8j).
constexpr uint64_t kEvenBytes = 0x00ff00ff00ff00ffULL;
constexpr uint64_t kEachByteFirstPrintable = 0x2121212121212121ULL;  // '!' in every byte
static_assert(static_cast<uint64_t>(kFirstPrintable) * 0x0101010101010101ULL ==
              kEachByteFirstPrintable);
static_assert(std::endian::native == std::endian::little, "pattern_fill stores blocks little-endian");
inline uint64_t printable8(uint64_t h) {
  const uint64_t even = (((h & kEvenBytes) * kPrintableCount) >> 8) & kEvenBytes;
  const uint64_t odd = ((((h >> 8) & kEvenBytes) * kPrintableCount) >> 8) & kEvenBytes;
  return (even | (odd << 8)) + kEachByteFirstPrintable;
}

}  // namespace

void pattern_fill(uint32_t peer, uint64_t offset, char* out, size_t n) {
  const uint64_t key = mix(peer * kGolden);
  size_t i = 0;
  // The bytes before the first block boundary, one at a time.
  if (const unsigned first = offset & (kBytesPerBlock - 1); first != 0 && n > 0) {
    const uint64_t h = mix(key + (offset >> kBlockShift) * kGolden);
    for (unsigned j = first; j < kBytesPerBlock && i < n; ++j, ++i) out[i] = printable(h >> (8 * j));
  }
  // Whole blocks: the hash input advances by kGolden per block (no multiplication), and no
  // branch but the loop's, so consecutive blocks' mixes overlap in the pipeline.
  uint64_t z = key + ((offset + i) >> kBlockShift) * kGolden;
  for (; n - i >= kBytesPerBlock; i += kBytesPerBlock, z += kGolden) {
    const uint64_t block = printable8(mix(z));
    std::memcpy(out + i, &block, kBytesPerBlock);  // little-endian: byte j first
  }
  // The bytes after the last whole block.
  if (i < n) {
    const uint64_t h = mix(z);
    for (unsigned j = 0; i < n; ++j, ++i) out[i] = printable(h >> (8 * j));
  }
}

char pattern_byte(uint32_t peer, uint64_t offset) {
  char c;
  pattern_fill(peer, offset, &c, 1);
  return c;
}

}  // namespace edgecase
