#include "tools/timeline_files.h"

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/timeline_model.h"
#include "tools/exit_codes.h"

namespace edgecase::tools {

namespace {

// The recording child's exit status when its pipe broke (the parent went away).
constexpr int kChildWriteFailed = 3;

// A path the file can be written to, tried before the run; a file the probe created is
// removed again (a run that is then refused leaves nothing behind).
void check_file(const std::string& path, std::string_view option) {
  if (path.empty()) return;
  std::error_code ec;
  const bool existed = std::filesystem::exists(path, ec);
  std::ofstream probe(path, std::ios::app);
  if (!probe)
    throw InputError{fmt::format("{} {}: cannot write there ({})", option, path,
                                 std::strerror(errno))};
  probe.close();
  if (!existed) std::filesystem::remove(path, ec);
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

// Whether two paths name one file (either may not exist yet).
bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ec1, ec2;
  const auto ca = std::filesystem::weakly_canonical(a, ec1);
  const auto cb = std::filesystem::weakly_canonical(b, ec2);
  return !ec1 && !ec2 ? ca == cb : a == b;
}

// A file name option that refuses "" (CLI11 takes `--timeline ""` as given and empty).
CLI::Validator non_empty(std::string what) {
  return CLI::Validator(
      [what](std::string& s) { return s.empty() ? "give a file name (" + what + ")" : std::string(); },
      what);
}

}  // namespace

void TimelineFiles::add_to(CLI::App* command) {
  command->add_option("--timeline", html,
                      "Write the run's timeline to this HTML file (sim): one self-contained page, "
                      "a lane per connection, opens from disk in any browser")
      ->check(non_empty("FILE.html"));
  command->add_option("--perfetto", perfetto,
                      "Write the run in the Chrome trace event format to this JSON file (sim), "
                      "for ui.perfetto.dev and chrome://tracing")
      ->check(non_empty("FILE.json"));
}

void TimelineFiles::check_writable(const std::vector<std::string>& inputs) const {
  if (!html.empty() && same_file(html, perfetto))
    throw InputError{fmt::format("--timeline and --perfetto both name {}: give each its own file",
                                 html)};
  for (const std::string& input : inputs)
    for (const auto& [path, option] : {std::pair(html, "--timeline"), std::pair(perfetto, "--perfetto")})
      if (!path.empty() && same_file(path, input))
        throw InputError{fmt::format("{} {}: that is an input of this command; writing there "
                                     "would destroy it",
                                     option, path)};
  check_file(html, "--timeline");
  check_file(perfetto, "--perfetto");
}

TimelineFiles TimelineFiles::beside(const std::string& case_path, bool perfetto) {
  const std::string stem = without_case_suffix(case_path);
  return {stem + ".html", perfetto ? stem + ".json" : std::string()};
}

namespace {

// The lines of the case's trace, from a child process that runs it (sim, in the child) and
// writes each line to a pipe as the world traces it: a handler that crashes takes the child
// down, not the tool, and every line before the crash is out already. How the child ended,
// in `ended` ("" when it exited normally).
std::vector<std::string> trace_from_child(const Case& c, const HandlerRegistry& handlers,
                                          std::string& ended) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw InputError{fmt::format("cannot record the timeline: pipe: {}", std::strerror(errno))};
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0)
    throw InputError{fmt::format("cannot record the timeline: fork: {}", std::strerror(errno))};
  if (pid == 0) {
    // What the handler prints, and a sanitizer's report of its crash, are the judged run's to
    // show (its report has them): the recording stays quiet.
    const int null = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
    }
    ::close(fds[0]);
    RunOptions o;
    o.handlers = &handlers;
    o.trace_sink = [fd = fds[1]](const std::string& line) {
      std::string l = line + '\n';
      for (size_t done = 0; done < l.size();) {
        const ssize_t n = ::write(fd, l.data() + done, l.size() - done);
        if (n <= 0) ::_exit(kChildWriteFailed);
        done += static_cast<size_t>(n);
      }
    };
    run_case(c, o);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) ended = fmt::format("killed by signal {}", WTERMSIG(status));
  else if (WEXITSTATUS(status) != 0) ended = fmt::format("exit status {}", WEXITSTATUS(status));
  std::vector<std::string> lines;
  for (size_t at = 0; at < text.size();) {
    const size_t nl = text.find('\n', at);
    if (nl == std::string::npos) break;  // a line cut short by the crash is not a line
    lines.push_back(text.substr(at, nl - at));
    at = nl + 1;
  }
  return lines;
}

}  // namespace

std::string timeline_title(std::string_view handler, const std::string& case_path) {
  return fmt::format("{}: {}", handler, std::filesystem::path(case_path).filename().string());
}

std::optional<Timeline> timeline_of(const Case& c, const HandlerRegistry& handlers,
                                    const Report& judged, std::string title, std::string* why) {
  std::string ended;
  Timeline t;
  t.trace = trace_from_child(c, handlers, ended);
  if (!ended.empty() && !judged.found(oracle::kHandlerCrashed)) {
    // The judged run did not crash and this one did: not the same run (a handler whose
    // behaviour depends on more than the case).
    if (why != nullptr)
      *why = fmt::format("the run recording it ended differently ({}) from the judged run",
                         ended);
    return std::nullopt;
  }
  t.title = std::move(title);
  t.protocol = c.scenario.protocol;
  t.report = judged;
  // A crash seen from outside the child has no virtual time (0): it happened after the last
  // line the recording got out, which is where the verdict and the page put it.
  for (Violation& v : t.report.violations)
    if (v.oracle == oracle::kHandlerCrashed && v.evidence.at == 0 && !t.trace.empty())
      v.evidence.at = timeline::stamp_time(t.trace.back());
  t.report.story = explain(t);
  return t;
}

void write_timeline_files(const Timeline& t, const TimelineFiles& files) {
  if (!files.html.empty()) write_text(files.html, timeline_html(t), "timeline");
  if (!files.perfetto.empty()) write_text(files.perfetto, timeline_perfetto(t), "Perfetto trace");
}

}  // namespace edgecase::tools
