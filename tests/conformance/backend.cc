#include "tests/conformance/backend.h"

namespace edgecase::conformance {

std::string mask_name(uint32_t m) {
  static constexpr struct {
    uint32_t bit;
    const char* name;
  } kNames[] = {{EPOLLIN, "IN"},         {EPOLLPRI, "PRI"},       {EPOLLOUT, "OUT"},
                {EPOLLERR, "ERR"},       {EPOLLHUP, "HUP"},       {EPOLLRDNORM, "RDNORM"},
                {EPOLLRDBAND, "RDBAND"}, {EPOLLWRNORM, "WRNORM"}, {EPOLLWRBAND, "WRBAND"},
                {EPOLLMSG, "MSG"},       {EPOLLRDHUP, "RDHUP"},   {EPOLLEXCLUSIVE, "EXCLUSIVE"},
                {EPOLLWAKEUP, "WAKEUP"}, {EPOLLONESHOT, "ONESHOT"}, {EPOLLET, "ET"}};
  std::string out;
  for (const auto& n : kNames)
    if (m & n.bit) {
      if (!out.empty()) out += '|';
      out += n.name;
      m &= ~n.bit;
    }
  if (m) out += (out.empty() ? "" : "|") + std::to_string(m);
  return out.empty() ? "0" : out;
}

}  // namespace edgecase::conformance
