// `--so PATH [--entry NAME] [--arg X]...`: a handler from a shared object built by
// edgecase_add_handler (cmake/EdgecaseHandler.cmake), for `edgecase check`, `run` and `replay`.
// The handler joins the built-in ones under its entry name, which reports and case files use.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "edgecase/runner.h"

namespace edgecase::tools {

struct SharedObject {
  // The most bytes --so and the --arg values may take together: they are written twice on one
  // comment line of each case file (the check that found it, the command that replays it),
  // which must fit a case file's longest line (CaseLimits::kMaxLineLength, 4160).
  static constexpr size_t kMaxCommandBytes = 1024;

  std::string path;               // empty: no shared object
  std::string entry;              // empty: the file's name without its directory and ".so"
  std::vector<std::string> args;  // argv[1...]

  // Adds --so, --entry and --arg to `app` (--entry and --arg need --so); `from_case`: for run
  // and replay, whose case file names the handler and records its arguments.
  void add_to(CLI::App* app, bool from_case = false);
  bool given() const { return !path.empty(); }
  // The handler's name: --entry, or the file's name without ".so".
  std::string name() const;
  // " --so PATH [--entry NAME] [--arg X]...", shell-quoted: what a command line needs to load
  // the same handler again (empty when no shared object is given).
  std::string flags() const;
};

// Whether the shared object's flags are written on a case file's `# found by` line (check),
// which must then hold them (no control characters, SharedObject::kMaxCommandBytes at most).
enum class Recorded { on_found_by_line, no };

// The built-in handlers, with the shared object's handler added under its name when one is
// given (set up for `backend`: posix::options_for). Every failure to load it is an InputError
// naming the file: missing, not a regular file, not a shared object, no entry of that name
// (with the entries it has), a name a case file cannot hold, more --arg than a case file holds,
// (on_found_by_line) a --arg the `# found by` line cannot record.
std::shared_ptr<const HandlerRegistry> handlers_with(const SharedObject& so, Backend backend,
                                                     Recorded recorded = Recorded::no);

// `text` quoted for a POSIX shell when it needs to be.
std::string shell_quote(const std::string& text);

}  // namespace edgecase::tools
