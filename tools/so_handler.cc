#include "tools/so_handler.h"

#include <algorithm>
#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string_view>

#include "edgecase/case_file.h"
#include "edgecase/posix.h"
#include "handlers/handlers.h"
#include "tools/exit_codes.h"

namespace edgecase::tools {

namespace {

// The prefix of every entry edgecase_add_handler defines (cmake/EdgecaseHandler.cmake).
constexpr std::string_view kEntryPrefix = "edgecase_entry_";
// How much of a shared object is searched for entry names when the one asked for is missing
// (only to say which entries it has): far more than a handler's object, less than memory.
constexpr size_t kMaxScanBytes = size_t{256} << 20;

bool identifier_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The entry names `path` holds (its dynamic symbol table's strings), sorted: a hint for a
// missing --entry, so a plain scan of the file's bytes is enough.
std::vector<std::string> entries_in(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string bytes;
  bytes.resize(kMaxScanBytes);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<size_t>(in.gcount()));
  std::vector<std::string> out;
  for (size_t at = bytes.find(kEntryPrefix); at != std::string::npos;
       at = bytes.find(kEntryPrefix, at + 1)) {
    size_t end = at + kEntryPrefix.size();
    while (end < bytes.size() && identifier_char(bytes[end])) ++end;
    if (end == at + kEntryPrefix.size()) continue;
    std::string name = bytes.substr(at + kEntryPrefix.size(), end - at - kEntryPrefix.size());
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(std::move(name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What `edgecase check` writes on each case file's `# found by` line must fit it, as one line.
void check_recordable(const SharedObject& so) {
  for (const std::string& a : so.args)
    if (std::any_of(a.begin(), a.end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 || c == '\x7f';
        }))
      throw InputError{"--arg: a control character cannot be recorded in a case file's replay "
                       "command"};
  if (so.flags().size() > SharedObject::kMaxCommandBytes)
    throw InputError{fmt::format("--so and --arg: more than {} bytes together cannot be recorded "
                                 "in a case file's replay command",
                                 SharedObject::kMaxCommandBytes)};
}

void check_inputs(const SharedObject& so) {
  // The file first: a wrong path is the likelier mistake than a name.
  std::error_code ec;
  if (!std::filesystem::exists(so.path, ec))
    throw InputError{fmt::format("--so {}: no such file", so.path)};
  if (!std::filesystem::is_regular_file(so.path, ec))
    throw InputError{fmt::format("--so {}: not a regular file", so.path)};
  const std::string name = so.name();
  if (name.empty() || name.size() > CaseLimits::kMaxNameLength ||
      !std::all_of(name.begin(), name.end(), identifier_char)) {
    if (!so.entry.empty())
      throw InputError{fmt::format("--entry `{}`: an entry name is 1 to {} characters from A-Z "
                                   "a-z 0-9 _ (edgecase_add_handler's NAME)",
                                   name, CaseLimits::kMaxNameLength)};
    // The name comes from the file's: say what the file holds instead.
    const std::vector<std::string> entries = entries_in(so.path);
    throw InputError{fmt::format(
        "--so {}: the file's name `{}` is not a handler's name; {}", so.path, name,
        entries.empty() ? std::string("the file holds no handler entry (edgecase_entry_NAME): "
                                      "was it built by edgecase_add_handler?")
                        : fmt::format("it holds {}: give --entry {}", fmt::join(entries, ", "),
                                      entries[0]))};
  }
  if (so.args.size() > CaseLimits::kMaxHandlerArgs)
    throw InputError{fmt::format("--arg: at most {} arguments (what a case file records)",
                                 CaseLimits::kMaxHandlerArgs)};
}

posix::Entry load(const SharedObject& so) {
  // A path without a slash would make dlopen() search the library path instead of the file.
  const std::string path = std::filesystem::absolute(so.path).string();
  try {
    return posix::load_handler(path, so.name());
  } catch (const std::runtime_error& e) {
    const std::string why = e.what();
    if (why.rfind("dlopen", 0) == 0)
      throw InputError{fmt::format("--so {}: not a shared object the kit can load ({})", so.path,
                                   why)};
    const std::vector<std::string> entries = entries_in(path);
    throw InputError{fmt::format(
        "--so {}: no entry {}{} ({}); {}", so.path, kEntryPrefix, so.name(), why,
        entries.empty()
            ? std::string("it was not built by edgecase_add_handler")
            : fmt::format("it has {}: give --entry {}", fmt::join(entries, ", "), entries[0]))};
  }
}

}  // namespace

void SharedObject::add_to(CLI::App* app, bool from_case) {
  CLI::Option* so = app->add_option(
      "--so", path,
      from_case
          ? "The shared object of the case file's handler, for a server of your own built by "
            "edgecase_add_handler(NAME ...) (NAME.so; the file's `# found by` line names it)"
          : "Check a server of your own instead of a built-in handler: the shared object "
            "edgecase_add_handler(NAME ...) builds from its unmodified sources (NAME.so), run "
            "through the interposition layer (give --port too)");
  so->type_name("FILE");
  app->add_option("--entry", entry,
                  "With --so: the handler's NAME, whose entry is edgecase_entry_NAME, when it "
                  "is not the file's name without .so")
      ->type_name("NAME")
      ->needs(so);
  app->add_option("--arg", args,
                  from_case
                      ? "With --so: an argument for the handler (argv[1], argv[2], ...; repeat "
                        "for more). Default: the case file's handler-arg lines; any --arg "
                        "replaces them all"
                      : "With --so: an argument for the handler, as its main would get it on "
                        "the command line (argv[1], argv[2], ...; repeat for more); recorded "
                        "in each case file")
      ->type_name("ARG")
      ->needs(so)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

std::string SharedObject::name() const {
  if (!entry.empty()) return entry;
  std::string base = std::filesystem::path(path).filename().string();
  constexpr std::string_view kSuffix = ".so";
  if (base.size() > kSuffix.size() && base.ends_with(kSuffix))
    base.resize(base.size() - kSuffix.size());
  return base;
}

std::string SharedObject::flags() const {
  if (!given()) return {};
  // Absolute: the replay command on a case file's `# found by` line works from any directory.
  std::error_code ec;
  const std::filesystem::path full = std::filesystem::absolute(path, ec);
  std::string out = " --so " + shell_quote(ec ? path : full.lexically_normal().string());
  if (!entry.empty()) out += " --entry " + shell_quote(entry);
  for (const std::string& a : args) out += " --arg " + shell_quote(a);
  return out;
}

std::shared_ptr<const HandlerRegistry> handlers_with(const SharedObject& so, Backend backend,
                                                     Recorded recorded) {
  auto registry = std::make_shared<HandlerRegistry>(handlers::builtins());
  if (!so.given()) return registry;
  if (recorded == Recorded::on_found_by_line) check_recordable(so);
  check_inputs(so);
  const posix::Entry entry = load(so);
  const std::string name = so.name();
  const posix::HandlerOptions options = posix::options_for(backend, {.args = so.args});
  // The entry listens where its own code says: the scenario's port is the caller's --port.
  registry->add(name, [name, entry, options](const Scenario&) {
    return posix::make_handler(name, entry, options);
  });
  return registry;
}

std::string shell_quote(const std::string& text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return identifier_char(c) || std::string_view("/.,:=+-@%").find(c) != std::string_view::npos;
  });
  if (plain) return text;
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace edgecase::tools
