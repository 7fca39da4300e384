// What a run is made of: the peers' scripts (a scenario) and the faults the world may inject
// (a fault plan). Both are plain data; a case file (edgecase/case_file.h) is a scenario, a seed
// and a fault plan written as text, and the same case always gives the same run.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <vector>

namespace edgecase {

// Virtual time, in nanoseconds since the simulated boot.
using Nanos = int64_t;
inline constexpr Nanos kNanosPerMicro = 1'000;
inline constexpr Nanos kNanosPerMilli = 1'000'000;

// One step of a peer's script. Peers never block: each step makes what progress nonblocking
// calls allow, then waits for its socket or for time to pass.
struct Step {
  enum class Op : uint8_t {
    connect,         // to the scenario's address; waits until connected (or refused)
    send,            // `n` bytes of the peer's pattern, or `data` when it is not empty
    expect,          // reads until `n` more bytes arrived (EOF or a reset ends the script)
    expect_line,     // reads until a '\n' arrived
    read_eof,        // reads until end of file
    shutdown_write,  // shutdown(SHUT_WR)
    close,           // close()
    reset,           // SO_LINGER {1, 0}, then close(): the connection is reset
    sleep,           // waits `t` nanoseconds
    rcvbuf,          // setsockopt(SO_RCVBUF, n); before connect, it bounds the window
    slow_read,       // from now on, reads at most `n` bytes every `t` nanoseconds
  };
  Op op = Op::connect;
  uint64_t n = 0;
  Nanos t = 0;
  std::string data;
  // The bytes a send sends or an expect waits for: `data`'s when it is set, else `n`.
  uint64_t bytes() const { return data.empty() ? n : data.size(); }
  friend bool operator==(const Step&, const Step&) = default;
};

struct PeerScript {
  Nanos start = 0;  // when the peer runs its first step, after the server first waits
  std::vector<Step> steps;
  friend bool operator==(const PeerScript&, const PeerScript&) = default;
};

// The byte a peer sends at stream offset `offset` when its script gives no data: printable
// (never '\n'), and not periodic, so a duplicated, lost or reordered chunk shows at the first
// differing offset. A pure function of (peer, offset).
char pattern_byte(uint32_t peer, uint64_t offset);

struct Scenario {
  static constexpr uint16_t kDefaultPort = 7000;
  std::string handler = "echo";   // a handler the tools know by name
  // argv[1...] of a handler loaded from a shared object (`edgecase check --so ... --arg X`),
  // recorded in the case file (`handler-arg` lines) so that run and replay need not be given
  // them again; empty for the built-in handlers, which take none.
  std::vector<std::string> handler_args;
  std::string protocol = "echo";  // what the peers' bytes are checked against
  uint32_t addr = INADDR_LOOPBACK;  // where the server listens, host byte order
  uint16_t port = kDefaultPort;
  std::vector<PeerScript> peers;  // peer#1 is peers[0]
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

// --- the fault plan ---------------------------------------------------------------------------
// Swarm testing: each run switches every fault on or off, then fires the ones that are on
// with their probability at each opportunity. Every fault stays within what Linux allows.
enum class FaultKind : uint8_t {
  split,         // a data segment is cut into several smaller ones
  coalesce,      // a segment joins the undelivered one before it: one delivery, one wakeup
  delay,         // a segment waits before delivery (order per direction is kept)
  small_buffers, // peers' receive buffers and the server's send buffers are small
  short_write,   // a write on a TCP socket copies part of the buffer (memory pressure)
  eintr,         // a signal interrupts a blocking epoll_wait: -1 EINTR
  accept_abort,  // the connection accept4 would return was reset: -1 ECONNABORTED
  fd_limit,      // RLIMIT_NOFILE is lowered when the handler first waits: accept4 EMFILE
  half_close,    // a peer shuts down its write side after its last send
  peer_reset,    // a peer resets its connection at a step of its script
  slow_reader,   // a peer reads a few bytes at a time, slowly
};
inline constexpr size_t kFaultCount = static_cast<size_t>(FaultKind::slow_reader) + 1;
// "split", "coalesce", ...: the names case files and reports use.
std::string_view fault_name(FaultKind k);

struct Fault {
  static constexpr uint32_t kPerMille = 1000;
  bool on = false;
  uint32_t per_mille = 0;  // probability of firing at each opportunity, when on
  friend bool operator==(const Fault&, const Fault&) = default;
};

struct FaultPlan {
  std::array<Fault, kFaultCount> faults{};

  Fault& operator[](FaultKind k) { return faults[static_cast<size_t>(k)]; }
  const Fault& operator[](FaultKind k) const { return faults[static_cast<size_t>(k)]; }
  bool on(FaultKind k) const { return (*this)[k].on; }

  static FaultPlan none() { return {}; }
  // Every fault on, each with `per_mille`.
  static FaultPlan all(uint32_t per_mille);
  // The swarm draw: each fault on with probability 1/2, with a probability from a small
  // fixed menu. A pure function of the seed (its own stream, not the run's).
  static FaultPlan swarm(uint64_t seed);
  // One line, e.g. "faults: split=250 coalesce=off delay=500 ...", printed at the start of
  // every run.
  std::string describe() const;
  friend bool operator==(const FaultPlan&, const FaultPlan&) = default;
};

}  // namespace edgecase
