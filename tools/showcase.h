// The built-in showcase: one fixed sequence of calls run on the simulated and the live kernel,
// printed side by side as strace lines.
#pragma once

#include <cstdio>

namespace edgecase::tools {

struct ShowcaseOptions {
  static constexpr int kDefaultColumn = 64;  // characters per backend column
  int column = kDefaultColumn;
};

// Prints the two traces; returns the number of lines on which the backends disagree.
int run_showcase(const ShowcaseOptions& options, std::FILE* out);

}  // namespace edgecase::tools
