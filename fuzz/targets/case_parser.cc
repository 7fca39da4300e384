// The case-file reader on any input (include/edgecase/case_file.h): it returns a Case or a
// CaseError and never crashes; an accepted case can be written (check_case), its text reads
// back as the same case, and a text without comments or blank lines is already that text
// (one spelling for every value). An error names a line of the input, or the one after it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "edgecase/case_file.h"

namespace {

// Whether the text has a line the reader skips: an empty one or a comment.
bool has_skipped_lines(std::string_view text) {
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) nl = text.size();
    const std::string_view line = text.substr(at, nl - at);
    const size_t first = line.find_first_not_of(' ');
    if (line.empty() || (first != std::string_view::npos && line[first] == '#')) return true;
    at = nl + 1;
  }
  return false;
}

[[noreturn]] void fail(const std::string& what, std::string_view input) {
  std::fprintf(stderr, "fuzz_case_parser: %s\ninput:\n%.*s\n", what.c_str(),
               static_cast<int>(input.size()), input.data());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace edgecase;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::variant<Case, CaseError> parsed = parse_case(text);
  if (const auto* error = std::get_if<CaseError>(&parsed)) {
    const size_t lines = static_cast<size_t>(std::count(text.begin(), text.end(), '\n'));
    if (error->line < 1 || static_cast<size_t>(error->line) > lines + 1 || error->message.empty())
      fail("an error without a line of the input: " + error->message, text);
    return 0;
  }
  const Case& c = std::get<Case>(parsed);
  if (const auto why = check_case(c)) fail("an accepted case that cannot be written: " + *why, text);
  const std::string written = write_case(c);
  const std::variant<Case, CaseError> again = parse_case(written);
  if (const auto* error = std::get_if<CaseError>(&again))
    fail("its written text is rejected: " + error->message + "\nwritten:\n" + written, text);
  if (!(std::get<Case>(again) == c)) fail("its written text reads as another case:\n" + written, text);
  if (!has_skipped_lines(text) && written != text)
    fail("an accepted text that is not the one spelling of its case:\n" + written, text);
  return 0;
}
