// The timeline files the edgecase command writes (--timeline, --perfetto; docs/TIMELINE.md):
// one place for run, replay, check and demo.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/timeline.h"

namespace edgecase::tools {

struct TimelineFiles {
  std::string html;      // --timeline FILE.html
  std::string perfetto;  // --perfetto FILE.json

  bool any() const { return !html.empty() || !perfetto.empty(); }
  // --timeline FILE and --perfetto FILE on a command that runs one case.
  void add_to(CLI::App* command);
  // Both paths writable, and neither the other nor one of `inputs`
  // (the case file, a trace file: writing the page over them would destroy them), checked
  // before anything runs (InputError otherwise).
  void check_writable(const std::vector<std::string>& inputs = {}) const;
  // FILE.case's neighbours: FILE.html and, with `perfetto`, FILE.json.
  static TimelineFiles beside(const std::string& case_path, bool perfetto);
};

// "seed002: seed002-lost-read-event.case": a timeline's title, from its handler and the case
// file's path (or any name).
std::string timeline_title(std::string_view handler, const std::string& case_path);

// The case's timeline (sim), recorded in a child process so that a handler that crashes
// ends the child, not the tool: the trace up to the crash, with the verdict of `judged` (the
// case's run as run_case judged it). nullopt, with the reason in `why`, when the recording
// run crashed and the judged one did not.
std::optional<Timeline> timeline_of(const Case& c, const HandlerRegistry& handlers,
                                    const Report& judged, std::string title, std::string* why);

// Writes the files; InputError when one cannot be written.
void write_timeline_files(const Timeline& t, const TimelineFiles& files);

}  // namespace edgecase::tools
