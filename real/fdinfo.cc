#include "real/fdinfo.h"

#include <charconv>
#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <system_error>

namespace edgecase::real {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

// Splits off the next whitespace-separated token of `rest`; empty when none is left.
std::string_view next_token(std::string_view& rest) {
  size_t i = 0;
  while (i < rest.size() && is_space(rest[i])) ++i;
  size_t j = i;
  while (j < rest.size() && !is_space(rest[j])) ++j;
  std::string_view token = rest.substr(i, j - i);
  rest.remove_prefix(j);
  return token;
}

[[noreturn]] void malformed(std::string_view line, const char* why) {
  throw std::runtime_error("malformed epoll fdinfo line (" + std::string(why) + "): \"" +
                           std::string(line) + "\"");
}

// The whole of `token` as an unsigned number in `base`; false if anything is left over, it is
// empty, or it overflows T. from_chars accepts no sign and no 0x prefix for unsigned types.
template <typename T>
bool parse_unsigned(std::string_view token, int base, T& out) {
  if (token.empty()) return false;
  const char* end = token.data() + token.size();
  auto [ptr, ec] = std::from_chars(token.data(), end, out, base);
  return ec == std::errc() && ptr == end;
}

Interest parse_tfd_line(std::string_view line) {
  std::string_view rest = line;
  if (next_token(rest) != "tfd:") malformed(line, "expected tfd:");
  Interest item;
  unsigned int fd = 0;
  if (!parse_unsigned(next_token(rest), 10, fd) || fd > static_cast<unsigned int>(INT_MAX)) {
    malformed(line, "bad tfd");
  }
  item.fd = static_cast<int>(fd);
  if (next_token(rest) != "events:") malformed(line, "expected events:");
  if (!parse_unsigned(next_token(rest), 16, item.events)) malformed(line, "bad events");
  if (next_token(rest) != "data:") malformed(line, "expected data:");
  if (!parse_unsigned(next_token(rest), 16, item.data)) malformed(line, "bad data");
  return item;
}

}  // namespace

std::vector<Interest> parse_epoll_fdinfo(std::string_view text) {
  std::vector<Interest> out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::string_view rest = line;
    if (next_token(rest).starts_with("tfd:")) out.push_back(parse_tfd_line(line));
  }
  return out;
}

}  // namespace edgecase::real
