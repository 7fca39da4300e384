// pattern_byte (include/edgecase/scenario.h) and its bulk form pattern_fill (harness/peer.h).
// The fault plan's functions live in world/fault_plan.cc.
#include "edgecase/scenario.h"

#include <bit>
#include <cassert>
#include <cstring>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

#if defined(__x86_64__)
// The whole-block loop four blocks at a time in AVX2 (32 bytes per iteration), with the same
// integer arithmetic, so the bytes are the same: a 64 MiB stream spends a fifth of its
// simulated run generating them one block at a time. x86-64 has no 64-bit lane multiply
// before AVX-512, so each one is built from three 32x32->64 multiplies; printable8's 16-bit
// lanes are vpmulhuw's: (b * kPrintableCount) >> 8 == mulhi(b << 8, kPrintableCount).
constexpr unsigned kAvx2Blocks = 4;
constexpr unsigned kAvx2Bytes = kAvx2Blocks * kBytesPerBlock;

__attribute__((target("avx2"))) inline __m256i mul64(__m256i a, uint64_t c) {
  const __m256i c_lo = _mm256_set1_epi64x(static_cast<int64_t>(c & 0xffffffffULL));
  const __m256i c_hi = _mm256_set1_epi64x(static_cast<int64_t>(c >> 32));
  const __m256i lo = _mm256_mul_epu32(a, c_lo);
  const __m256i cross =
      _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), c_lo), _mm256_mul_epu32(a, c_hi));
  return _mm256_add_epi64(lo, _mm256_slli_epi64(cross, 32));
}

__attribute__((target("avx2"))) inline __m256i mix4(__m256i z) {
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)), 0xbf58476d1ce4e5b9ULL);
  z = mul64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), 0x94d049bb133111ebULL);
  return _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
}

__attribute__((target("avx2"))) inline __m256i printable32(__m256i h) {
  const __m256i count = _mm256_set1_epi16(static_cast<short>(kPrintableCount));
  const __m256i even = _mm256_mulhi_epu16(_mm256_slli_epi16(h, 8), count);
  const __m256i odd =
      _mm256_mulhi_epu16(_mm256_and_si256(h, _mm256_set1_epi16(static_cast<short>(0xff00))), count);
  return _mm256_add_epi8(_mm256_or_si256(even, _mm256_slli_epi16(odd, 8)),
                         _mm256_set1_epi8(kFirstPrintable));
}

// Fills whole groups of kAvx2Blocks blocks from hash input `z`; returns the blocks filled.
__attribute__((target("avx2"))) size_t fill_blocks_avx2(uint64_t z, char* out, size_t blocks) {
  __m256i zv = _mm256_set_epi64x(static_cast<int64_t>(z + 3 * kGolden),
                                 static_cast<int64_t>(z + 2 * kGolden),
                                 static_cast<int64_t>(z + kGolden), static_cast<int64_t>(z));
  const __m256i step = _mm256_set1_epi64x(static_cast<int64_t>(kAvx2Blocks * kGolden));
  size_t done = 0;
  for (; blocks - done >= kAvx2Blocks; done += kAvx2Blocks, zv = _mm256_add_epi64(zv, step))
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + done * kBytesPerBlock),
                        printable32(mix4(zv)));
  return done;
}

// With AVX-512 DQ and VL the 64-bit lane multiply is one instruction (vpmullq) on the same
// four lanes; the rest is fill_blocks_avx2's.
__attribute__((target("avx2,avx512f,avx512dq,avx512vl"))) inline __m256i mix4_dq(__m256i z) {
  z = _mm256_mullo_epi64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 30)),
                         _mm256_set1_epi64x(static_cast<int64_t>(0xbf58476d1ce4e5b9ULL)));
  z = _mm256_mullo_epi64(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)),
                         _mm256_set1_epi64x(static_cast<int64_t>(0x94d049bb133111ebULL)));
  return _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
}

__attribute__((target("avx2,avx512f,avx512dq,avx512vl"))) size_t fill_blocks_avx512(uint64_t z,
                                                                                  char* out,
                                                                                  size_t blocks) {
  __m256i zv = _mm256_set_epi64x(static_cast<int64_t>(z + 3 * kGolden),
                                 static_cast<int64_t>(z + 2 * kGolden),
                                 static_cast<int64_t>(z + kGolden), static_cast<int64_t>(z));
  const __m256i step = _mm256_set1_epi64x(static_cast<int64_t>(kAvx2Blocks * kGolden));
  size_t done = 0;
  for (; blocks - done >= kAvx2Blocks; done += kAvx2Blocks, zv = _mm256_add_epi64(zv, step))
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + done * kBytesPerBlock),
                        printable32(mix4_dq(zv)));
  return done;
}

bool have_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2");  // set once, never changed
  return yes;
}
bool have_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") &&
                          __builtin_cpu_supports("avx512dq") &&
                          __builtin_cpu_supports("avx512vl");  // set once, never changed
  return yes;
}
#endif

}  // namespace

bool pattern_fill_via(PatternPath path, uint32_t peer, uint64_t offset, char* out, size_t n) {
#if defined(__x86_64__)
  if ((path == PatternPath::avx2 && !have_avx2()) || (path == PatternPath::avx512 && !have_avx512()))
    return false;
#else
  if (path != PatternPath::portable) return false;
#endif
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
#if defined(__x86_64__)
  if (n - i >= kAvx2Bytes && path != PatternPath::portable) {
    const size_t blocks = path == PatternPath::avx512
                              ? fill_blocks_avx512(z, out + i, (n - i) / kBytesPerBlock)
                              : fill_blocks_avx2(z, out + i, (n - i) / kBytesPerBlock);
    i += blocks * kBytesPerBlock;
    z += blocks * kGolden;
  }
#endif
  for (; n - i >= kBytesPerBlock; i += kBytesPerBlock, z += kGolden) {
    const uint64_t block = printable8(mix(z));
    std::memcpy(out + i, &block, kBytesPerBlock);  // little-endian: byte j first
  }
  // The bytes after the last whole block.
  if (i < n) {
    const uint64_t h = mix(z);
    for (unsigned j = 0; i < n; ++j, ++i) out[i] = printable(h >> (8 * j));
  }
  return true;
}

void pattern_fill(uint32_t peer, uint64_t offset, char* out, size_t n) {
#if defined(__x86_64__)
  const PatternPath best = have_avx512() ? PatternPath::avx512
                           : have_avx2() ? PatternPath::avx2
                                         : PatternPath::portable;
#else
  const PatternPath best = PatternPath::portable;
#endif
  const bool filled = pattern_fill_via(best, peer, offset, out, n);
  assert(filled);
  (void)filled;
}

char pattern_byte(uint32_t peer, uint64_t offset) {
  char c;
  pattern_fill(peer, offset, &c, 1);
  return c;
}

}  // namespace edgecase
