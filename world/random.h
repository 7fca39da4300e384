// Seeded randomness for the deterministic world. Everything here is specified bit for bit (no
// <random> distributions: libstdc++ and libc++ turn the same engine output into different
// values), so one seed replays the same run with either standard library.
#pragma once

#include <array>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

namespace edgecase::sim {

// splitmix64 (Steele, Lea, Flood 2014; Vigna's reference code). Chosen for its one-word state
// and its published reference outputs, against which the tests pin it; its statistical quality
// is ample for picking delays and faults.
class SplitMix64 {
 public:
  // The Weyl-sequence increment: floor(2^64 / golden ratio), odd, so the state visits all 2^64
  // values before repeating.
  static constexpr uint64_t kGamma = 0x9e3779b97f4a7c15ULL;
  // Stafford's "Mix13" finaliser multipliers and shifts, as in the reference code.
  static constexpr uint64_t kMul1 = 0xbf58476d1ce4e5b9ULL;
  static constexpr uint64_t kMul2 = 0x94d049bb133111ebULL;
  static constexpr int kShift1 = 30;
  static constexpr int kShift2 = 27;
  static constexpr int kShift3 = 31;

  explicit constexpr SplitMix64(uint64_t seed) : state_(seed) {}

  constexpr uint64_t next() {
    state_ += kGamma;
    uint64_t z = state_;
    z = (z ^ (z >> kShift1)) * kMul1;
    z = (z ^ (z >> kShift2)) * kMul2;
    return z ^ (z >> kShift3);
  }

 private:
  uint64_t state_;
};

// One generator per concern, so that (say) an extra network draw does not shift which faults a
// run injects: a seed that reproduces a bug keeps doing so when unrelated code draws more.
// Append new streams at the end only: a stream's values depend on its index (see Random).
enum class Stream : uint8_t { network, faults, peers, scheduler };
inline constexpr std::size_t kStreamCount = static_cast<std::size_t>(Stream::scheduler) + 1;

// Uniform draws from one stream.
class Rng {
 public:
  explicit constexpr Rng(uint64_t seed) : bits_(seed) {}

  constexpr uint64_t next() { return bits_.next(); }

  // Uniform in [0, n). Rejection sampling: the draws below `threshold` (2^64 mod n of them)
  // would make the low residues one more likely than the rest, so they are drawn again; at
  // most half the range is ever rejected, so the expected number of draws is below 2.
  constexpr uint64_t below(uint64_t n) {
    assert(n != 0 && "below(0): the range is empty");
    const uint64_t threshold = (0 - n) % n;  // == 2^64 mod n
    for (;;) {
      const uint64_t x = next();
      if (x >= threshold) return x % n;
    }
  }

  // Uniform in [lo, hi], both inclusive, so the full 64-bit range is expressible.
  constexpr uint64_t between(uint64_t lo, uint64_t hi) {
    assert(lo <= hi);
    if (hi - lo == std::numeric_limits<uint64_t>::max()) return next();
    return lo + below(hi - lo + 1);
  }

  // True with probability numerator/denominator. Always makes one below() draw, even for a
  // certain or impossible outcome, so tuning a probability to 0 or 1 does not shift the
  // stream's later values.
  constexpr bool chance(uint32_t numerator, uint32_t denominator) {
    assert(denominator != 0);
    assert(numerator <= denominator);
    return below(denominator) < numerator;
  }

 private:
  SplitMix64 bits_;
};

// All streams of one run, derived from one seed.
class Random {
 public:
  explicit constexpr Random(uint64_t seed) : streams_(make_streams(seed)) {}

  // Stream i is seeded with the i-th output (from 0) of SplitMix64(seed). That output is a
  // function of (seed, i) alone, computed directly here rather than by drawing i values, so
  // adding a stream never changes the existing ones. SplitMix64's finaliser decorrelates
  // consecutive Weyl states, which is what keeps the streams' sequences apart.
  static constexpr uint64_t stream_seed(uint64_t seed, std::size_t index) {
    SplitMix64 at_index(seed + static_cast<uint64_t>(index) * SplitMix64::kGamma);
    return at_index.next();
  }

  constexpr Rng& stream(Stream s) { return streams_[static_cast<std::size_t>(s)]; }

  constexpr uint64_t next(Stream s) { return stream(s).next(); }
  constexpr uint64_t below(Stream s, uint64_t n) { return stream(s).below(n); }
  constexpr uint64_t between(Stream s, uint64_t lo, uint64_t hi) {
    return stream(s).between(lo, hi);
  }
  constexpr bool chance(Stream s, uint32_t numerator, uint32_t denominator) {
    return stream(s).chance(numerator, denominator);
  }

 private:
  using Streams = std::array<Rng, kStreamCount>;

  template <std::size_t... I>
  static constexpr Streams make_streams(uint64_t seed, std::index_sequence<I...>) {
    return Streams{Rng(stream_seed(seed, I))...};
  }
  static constexpr Streams make_streams(uint64_t seed) {
    return make_streams(seed, std::make_index_sequence<kStreamCount>{});
  }

  Streams streams_;
};

}  // namespace edgecase::sim
