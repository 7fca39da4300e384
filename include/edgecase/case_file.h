// Case files: a run's scenario, seed and fault plan as versioned text (docs/CASE_FILES.md).
//
// The format is strict and has one spelling for every value: parse_case(write_case(c)) == c,
// and write_case(parse_case(t)) == t for every accepted t without comments or blank lines.
// The reader is a fuzz target: on any input it returns a Case or a CaseError naming the line,
// in time and memory bounded by the limits below; it never throws and never crashes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgecase/scenario.h"

namespace edgecase {

// The kit version this build writes into case files (EDGECASE_VERSION, from CMake).
std::string_view build_kit_version();

struct Case {
  // The first line of every case file is "edgecase-case 1". A reader accepts this version only;
  // a change that old readers would misread gets a new number.
  static constexpr int kFormatVersion = 1;

  // Which kit wrote the file: recorded, never checked by the reader (tools may warn).
  std::string kit_version{build_kit_version()};
  Scenario scenario;
  uint64_t seed = 0;
  FaultPlan faults;
  friend bool operator==(const Case&, const Case&) = default;
};

// What a case file may hold. A case outside these limits cannot be written (check_case says
// why) and a file beyond them is rejected, so the reader's work is bounded by them.
struct CaseLimits {
  // Peers and steps: far beyond any useful scenario (the showcase's have 4 peers and 16
  // steps), small enough that the largest case still reads in well under a second.
  static constexpr size_t kMaxPeers = 64;
  static constexpr size_t kMaxSteps = 256;  // per peer
  // The bytes of one send-data step: a request or a few lines; longer traffic is a pattern.
  static constexpr size_t kMaxDataBytes = 1024;
  // Byte counts (send, expect, rcvbuf, slow-read): far beyond any socket buffer, and a
  // script's sum stays far below 2^63 (kMaxSteps * 2^30).
  static constexpr uint64_t kMaxBytes = uint64_t{1} << 30;
  // Times (peer start, sleep, slow-read): an hour of virtual time, far beyond a run's time
  // limit (a minute by default); a script's sum stays far below 2^63 ns.
  static constexpr Nanos kMaxTime = Nanos{3600} * 1'000 * kNanosPerMilli;
  // Handler, protocol and kit version names.
  static constexpr size_t kMaxNameLength = 64;
  // A shared object's handler arguments (`handler-arg STRING` lines): as many and as long as
  // `edgecase check --arg` can record (tools/so_handler.h: 1,024 bytes for --so and every
  // --arg together), with room to spare.
  static constexpr size_t kMaxHandlerArgs = 64;
  static constexpr size_t kMaxHandlerArgBytes = 1024;
  // A line: the longest send-data step (every byte escaped as \xHH, four characters) with its
  // indentation, keyword and quotes, with room to spare.
  static constexpr size_t kMaxLineLength = 4 * kMaxDataBytes + 64;
  // Lines, counting comments and blank lines: twice the largest case, so a fully commented
  // case still fits.
  static constexpr size_t kHeaderLines =
      6 + kMaxHandlerArgs + kFaultCount + 1;  // with the handler-arg lines and end-case
  static constexpr size_t kMaxLines = 2 * (kHeaderLines + kMaxPeers * (kMaxSteps + 2));
  // read_case_file reads no more than this (the most lines of the longest length).
  static constexpr size_t kMaxFileBytes = kMaxLines * (kMaxLineLength + 1);
};

// Why a case file was rejected. `line` is 1-based (the line after the last one for a file that
// ends too early; 0 when the file could not be read at all). `message` is complete and starts
// with the line, e.g. "line 7: expected `fault coalesce on|off PER_MILLE`, got `fault coalesce
// maybe 3`".
struct CaseError {
  int line = 0;
  std::string message;
  friend bool operator==(const CaseError&, const CaseError&) = default;
};

// Why `c` cannot be written (a value beyond CaseLimits, a name with a character a name cannot
// hold, a step with a field its op does not use); nullopt when it can.
std::optional<std::string> check_case(const Case& c);

// The canonical text of `c`. Requires check_case(c) to be nullopt (asserted): the text of any
// other case would not read back as `c`.
std::string write_case(const Case& c);

// Where the parts of a case were in the text it was read from (1-based lines), for messages
// about a case that reads well but cannot run (validate_case).
struct CaseLines {
  std::vector<int> peers;               // peers[i]: the `peer start` line of peer#i+1
  std::vector<std::vector<int>> steps;  // steps[i][j]: the line of peer#i+1's step j+1
};

// Parses a case file's text; fills `lines` (when given) for a case it accepts.
std::variant<Case, CaseError> parse_case(std::string_view text, CaseLines* lines = nullptr);

// Reads and parses the file at `path`; a file that cannot be read, or is longer than
// CaseLimits::kMaxFileBytes, is an error at line 0.
std::variant<Case, CaseError> read_case_file(const std::string& path, CaseLines* lines = nullptr);

// What one run can hold. A well-formed case beyond these cannot run as written: its run would
// end at a limit of the kit's instead of at the handler's verdict.
struct RunLimits {
  // The simulated world's time limit (sim::WorldOptions::kDefaultTimeLimit, asserted equal in
  // sim_run.cc): a peer's start, its sleeps and its slow reads must fit in it.
  static constexpr Nanos kTimeLimit = 60'000 * kNanosPerMilli;
  // Bytes the peers send, all together (and bytes they expect, likewise). A server reading and
  // writing 16 KiB per call (the reference echo server) moves 256 MiB in about 33,000 calls, a
  // sixth of the step budget (200,000 calls), which leaves room for its waits and for short
  // writes; and the simulation moves it in seconds, far inside the wall-time limit
  // (RunOptions::kDefaultWallTimeLimit).
  static constexpr uint64_t kMaxRunBytes = uint64_t{256} << 20;
};

// Why a well-formed case cannot run as written, one error per peer at most (plus one for the
// bytes), each naming the line of `lines` (or of write_case(c) when null): a step that needs a
// connection where the script has none (before any `connect`, after its own `close`/`reset`, a
// `send` after `shutdown-write`, a read after `read-eof`), a `connect` on a connected socket, a
// peer that never connects, a start, sleeps and slow reads past RunLimits::kTimeLimit, more
// bytes than RunLimits::kMaxRunBytes. Empty: it can run. run_case returns a report with these
// as its case_errors instead of running; `edgecase run` rejects the file with exit 2.
// Requires check_case(c) to be nullopt.
std::vector<CaseError> validate_case(const Case& c, const CaseLines* lines = nullptr);

}  // namespace edgecase
