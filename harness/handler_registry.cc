// Handlers known by name (include/edgecase/runner.h): a sorted table the caller fills.
#include <algorithm>
#include <fmt/format.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edgecase/runner.h"

namespace edgecase {

void HandlerRegistry::add(std::string name, Factory make, std::optional<uint16_t> own_port) {
  auto at = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Entry& e, const std::string& n) { return e.name < n; });
  if (at != entries_.end() && at->name == name) {
    at->make = std::move(make);
    at->own_port = own_port;
    return;
  }
  entries_.insert(at, Entry{std::move(name), std::move(make), own_port});
}

const HandlerRegistry::Entry* HandlerRegistry::entry(std::string_view name) const {
  auto at = std::lower_bound(entries_.begin(), entries_.end(), name,
                             [](const Entry& e, std::string_view n) { return e.name < n; });
  return at != entries_.end() && at->name == name ? &*at : nullptr;
}

Handler HandlerRegistry::find(std::string_view name, const Scenario& scenario) const {
  const Entry* e = entry(name);
  return e ? e->make(scenario) : Handler{};
}

Handler HandlerRegistry::get(std::string_view name, const Scenario& scenario) const {
  Handler h = find(name, scenario);
  if (!h)
    throw std::invalid_argument(
        fmt::format("unknown handler \"{}\" (known: {})", name, fmt::join(names(), ", ")));
  return h;
}

std::optional<uint16_t> HandlerRegistry::own_port(std::string_view name) const {
  const Entry* e = entry(name);
  return e ? e->own_port : std::nullopt;
}

std::vector<std::string> HandlerRegistry::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.name);
  return out;
}

}  // namespace edgecase
