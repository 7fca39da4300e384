// A Report as bytes, for the pipe between an isolated run's child process and the parent.
// Binary-safe; a truncated or damaged stream parses to nullopt, never to half a report.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "edgecase/report.h"

namespace edgecase {

std::string report_to_wire(const Report& r);
std::optional<Report> report_from_wire(std::string_view wire);

}  // namespace edgecase
