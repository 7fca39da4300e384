// The edgecase command. Exit codes: 0 clean, 1 a bug (or a disagreement) was found, 2 usage or
// input error.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fmt/format.h>
#include <string>

#include "edgecase/case_file.h"
#include "tools/showcase.h"
#include "tools/world_cmds.h"

namespace {
constexpr int kExitClean = 0;
constexpr int kExitFound = 1;
constexpr int kExitUsage = 2;
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgecase: a deterministic test-and-simulation kit for epoll code"};
  app.set_version_flag("--version", "edgecase " + std::string(edgecase::build_kit_version()));
  app.require_subcommand(1);

  edgecase::tools::ShowcaseOptions showcase;
  auto* demo = app.add_subcommand(
      "demo", "Run the main demonstration (for now: the showcase of one ET sequence on both backends)");
  auto* show = app.add_subcommand(
      "showcase", "Run one edge-triggered sequence on the simulated and the live kernel, side by side");
  for (auto* cmd : {demo, show})
    cmd->add_option("--column", showcase.column, "Width of each backend's column")
        ->check(CLI::Range(20, 400));

  edgecase::tools::WorldCommands world;
  world.add_to(app);

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
  if (int code = world.dispatch(); code >= 0) return code;
  int differ = edgecase::tools::run_showcase(showcase, stdout);
  return differ ? kExitFound : kExitClean;
}
