// What the edgecase command's exit codes mean, the same for every subcommand that judges:
// 0 clean, 1 found (a violation, or a disagreement), 2 usage or input error (or a case that
// cannot run as written), 3 undecided (a limit of the kit's ended the run). `replay` compares
// instead: 0 reproduced as recorded, 1 not.
#pragma once

#include <string>

namespace edgecase::tools {

inline constexpr int kExitClean = 0;
inline constexpr int kExitFound = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUndecided = 3;
inline constexpr int kReproduced = 0;
inline constexpr int kNotReproduced = 1;

// Bad input found before anything runs: the subcommand prints it and exits kExitUsage.
struct InputError {
  std::string message;
};

}  // namespace edgecase::tools
