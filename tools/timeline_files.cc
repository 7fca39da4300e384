#include "tools/timeline_files.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>

#include "tools/exit_codes.h"

namespace edgecase::tools {

namespace {

void check_file(const std::string& path, std::string_view option) {
  if (path.empty()) return;
  std::ofstream probe(path, std::ios::app);
  if (!probe)
    throw InputError{fmt::format("{} {}: cannot write there ({})", option, path,
                                 std::strerror(errno))};
}

void write_text(const std::string& path, const std::string& text, std::string_view what) {
  std::ofstream out(path, std::ios::trunc | std::ios::binary);
  out << text;
  out.close();
  if (!out)
    throw InputError{fmt::format("{}: cannot write the {} ({})", path, what, std::strerror(errno))};
}

std::string without_case_suffix(const std::string& path) {
  constexpr std::string_view kSuffix = ".case";
  if (path.size() > kSuffix.size() && path.compare(path.size() - kSuffix.size(), kSuffix.size(),
                                                   kSuffix) == 0)
    return path.substr(0, path.size() - kSuffix.size());
  return path;
}

}  // namespace

void TimelineFiles::add_to(CLI::App* command) {
  command->add_option("--timeline", html,
                      "Write the run's timeline to this HTML file (sim): one self-contained page, "
                      "a lane per connection, opens from disk in any browser");
  command->add_option("--perfetto", perfetto,
                      "Write the run in the Chrome trace event format to this JSON file (sim), "
                      "for ui.perfetto.dev and chrome://tracing");
}

void TimelineFiles::check_writable() const {
  check_file(html, "--timeline");
  check_file(perfetto, "--perfetto");
}

TimelineFiles TimelineFiles::beside(const std::string& case_path, bool perfetto) {
  const std::string stem = without_case_suffix(case_path);
  return {stem + ".html", perfetto ? stem + ".json" : std::string()};
}

std::optional<Timeline> timeline_of(const Case& c, const HandlerRegistry& handlers,
                                    const Report& judged, std::string title, std::string* why) {
  if (judged.found(oracle::kHandlerCrashed)) {
    if (why != nullptr)
      *why = "the handler crashed: its timeline cannot be recorded in this process (replay the "
             "case in a sanitizer build to see where)";
    return std::nullopt;
  }
  RunOptions o;
  o.handlers = &handlers;
  Timeline t = record_timeline(c, o);
  t.title = std::move(title);
  return t;
}

void write_timeline_files(const Timeline& t, const TimelineFiles& files) {
  if (!files.html.empty()) write_text(files.html, timeline_html(t), "timeline");
  if (!files.perfetto.empty()) write_text(files.perfetto, timeline_perfetto(t), "Perfetto trace");
}

}  // namespace edgecase::tools
