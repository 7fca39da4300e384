// Handlers the tools know by name (a case file's `handler` line). A handler is any callable
// taking Kernel& that runs its own loop; it listens where the scenario says.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/kernel.h"
#include "edgecase/scenario.h"

namespace edgecase::handlers {

using Handler = std::function<void(Kernel&)>;

// The handler called `name`, set up for `scenario` (its listening address); an empty function
// when no handler has that name.
Handler find(std::string_view name, const Scenario& scenario);
// Every name find() knows, sorted.
std::vector<std::string> names();

// The kit's reference server: echo over TCP, edge-triggered, nonblocking, correct under every
// fault the world injects (drains to EAGAIN, accepts until EAGAIN, retries after EINTR, skips
// ECONNABORTED, pauses accepting on EMFILE until an fd is freed, finishes short writes with
// EPOLLOUT, answers a half-closed peer before closing).
void echo_server(Kernel& k, uint32_t addr, uint16_t port);

}  // namespace edgecase::handlers
