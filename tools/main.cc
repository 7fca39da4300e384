// The edgecase command. Exit codes: 0 clean, 1 a bug (or a disagreement) was found, 2 usage or
// input error (and, for run, a case that cannot run as written; 3: undecided, a kit limit ended
// the run). replay: 0 reproduced as recorded, 1 not, 2 bad input (tools/world_cmds.cc).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <system_error>
#include <fmt/format.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/runner.h"
#include "tools/check_cmd.h"
#include "tools/demo.h"
#include "tools/exit_codes.h"
#include "tools/showcase.h"
#include "tools/world_cmds.h"

using edgecase::tools::kExitClean;
using edgecase::tools::kExitFound;
using edgecase::tools::kExitUsage;

// `code`, unless standard output could not be written (a full disk, a closed descriptor):
// a report that never reached its reader is not a pass.
int output_written(int code) {
  if (std::fflush(stdout) == 0 && std::ferror(stdout) == 0) return code;
  // Not fmt::print: stderr may be the same closed pipe, and fmt throws where stdio reports.
  std::fprintf(stderr, "edgecase: cannot write to standard output (%s)\n", std::strerror(errno));
  return kExitUsage;
}

int run_parsed(edgecase::tools::WorldCommands& world, const edgecase::tools::CheckOptions& check,
               const CLI::App* demo, const edgecase::tools::DemoOptions& demo_options,
               const edgecase::tools::ShowcaseOptions& showcase);

int main(int argc, char** argv) {
  // The tool drives live sockets (run --backend live, demo): a peer's reset must never kill it.
  edgecase::ignore_sigpipe();
  CLI::App app{"edgecase: a deterministic test-and-simulation kit for epoll code"};
  app.set_version_flag("--version", "edgecase " + std::string(edgecase::build_kit_version()));
  app.require_subcommand(1);

  edgecase::tools::DemoOptions demo_options;
  auto* demo = app.add_subcommand(
      "demo", "Check every seed server and every fixed version on the simulation and on live "
              "sockets, and print the table of bugs found (exit 0 when every reachable seed bug "
              "was found and every fixed version is clean)");
  demo->add_option("--seeds", demo_options.seeds, "Generated cases per buggy server")
      ->check(CLI::Range(1, 100'000));
  demo->add_option("--fixed-sim", demo_options.fixed_sim,
                   "Generated cases each fixed version must pass in the simulation")
      ->check(CLI::Range(1, 1'000'000));
  demo->add_option("--fixed-live", demo_options.fixed_live,
                   "Generated cases each fixed version must pass on live sockets")
      ->check(CLI::Range(0, 10'000));
  demo->add_flag("!--no-live", demo_options.live, "Skip live sockets");
  demo->add_option("--out", demo_options.out_dir, "Directory for the case files found");
  demo->add_flag("-v,--verbose", demo_options.verbose, "Print every finding's full report");

  edgecase::tools::ShowcaseOptions showcase;
  auto* show = app.add_subcommand(
      "showcase", "Run one edge-triggered sequence on the simulated and the live kernel, side by side");
  show->add_option("--column", showcase.column, "Width of each backend's column")
      ->check(CLI::Range(20, 400));

  edgecase::tools::WorldCommands world;
  world.add_to(app);
  edgecase::tools::CheckOptions check;
  check.add_to(app);

  // CLI11 would say only "A subcommand is required" for a misspelt command.
  if (argc > 1 && argv[1][0] != '-') {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      names.push_back(sub->get_name());
    if (std::find(names.begin(), names.end(), argv[1]) == names.end()) {
      fmt::print(stderr, "edgecase: unknown command `{}` (commands: {}; see edgecase --help)\n",
                 argv[1], fmt::join(names, ", "));
      return kExitUsage;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  // fmt::print throws std::system_error when its stream cannot be written (a reader that
  // closed the pipe: `edgecase run ... | head`): the output never reached its reader, exit 2.
  try {
    return run_parsed(world, check, demo, demo_options, showcase);
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "edgecase: cannot write its output (%s)\n", e.what());
    return kExitUsage;
  }
}

int run_parsed(edgecase::tools::WorldCommands& world, const edgecase::tools::CheckOptions& check,
               const CLI::App* demo, const edgecase::tools::DemoOptions& demo_options,
               const edgecase::tools::ShowcaseOptions& showcase) {
  if (int code = world.dispatch(); code >= 0) return output_written(code);
  if (check.command->parsed()) return output_written(edgecase::tools::run_check(check, stdout));
  if (demo->parsed()) {
    // The output directory is checked before the demo's minutes of hunting, not after.
    std::error_code ec;
    std::filesystem::create_directories(demo_options.out_dir, ec);
    if (ec || ::access(demo_options.out_dir.c_str(), W_OK) != 0) {
      fmt::print(stderr, "edgecase demo: --out {}: cannot write there ({})\n",
                 demo_options.out_dir, ec ? ec.message() : std::strerror(errno));
      return kExitUsage;
    }
    try {
      return edgecase::tools::run_demo(demo_options, stdout);
    } catch (const std::exception& e) {
      fmt::print(stderr, "edgecase demo: {}\n", e.what());
      return kExitUsage;
    }
  }
  int differ = edgecase::tools::run_showcase(showcase, stdout);
  return output_written(differ ? kExitFound : kExitClean);
}
