// Handlers the tools know by name (a case file's `handler` line). A handler is any callable
// taking Kernel& that runs its own loop; it listens where the scenario says.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/kernel.h"
#include "edgecase/runner.h"
#include "edgecase/scenario.h"

namespace edgecase::handlers {

using edgecase::Handler;

// The built-in handlers by name, to hand to the runner (RunOptions::handlers): "echo" (the
// reference server, at the scenario's address) and the seed servers, fixed and not.
const HandlerRegistry& builtins();
// `o` with the built-in handlers known by name (for run_case(c, ...), IsolatedRunner, hunts).
inline RunOptions with_builtins(RunOptions o = {}) {
  o.handlers = &builtins();
  return o;
}

// The handler called `name`, set up for `scenario` (its listening address); an empty function
// when no handler has that name.
Handler find(std::string_view name, const Scenario& scenario);
// Every name find() knows, sorted.
std::vector<std::string> names();
// The port a handler hard-codes (the seed servers do, as published), which it listens on
// whatever the scenario says: give it to Scenario::port so the peers connect there. nullopt
// for handlers that listen where the scenario says.
std::optional<uint16_t> own_port(std::string_view name);

// The kit's reference server: echo over TCP, edge-triggered, nonblocking, correct under every
// fault the world injects (drains to EAGAIN, accepts until EAGAIN, retries after EINTR, skips
// ECONNABORTED, pauses accepting on EMFILE until an fd is freed, finishes short writes with
// EPOLLOUT, answers a half-closed peer before closing).
void echo_server(Kernel& k, uint32_t addr, uint16_t port);

// The seed servers of ../shared/seeds, ported with their bugs kept line for line (each file
// lists the deviations the port forced), and fixed versions. Each listens on its own port.
inline constexpr uint16_t kSeed000Port = 8000;
inline constexpr uint16_t kSeed001Port = 6667;
inline constexpr uint16_t kSeed002Port = 6888;
inline constexpr uint16_t kSeed003Port = 8003;  // the skeleton names none; chosen by the port
// 000: LT "hello" server (one reply "Hello, client fd: N\n\0" per recv); blocking client
// sockets, EPOLLOUT-only after each recv, DEL without close, accept thread folded into the loop.
void seed000(Kernel& k);
// 000 fixed: one reply "Hello, client fd: N\n" per request line; nonblocking, buffered, closes.
void seed000_fixed(Kernel& k);
// 001: ET echo; string(buf) on an unterminated buffer, strcpy into 1024 bytes, write loop
// restarting at offset 0, close on EOF dropping the last read, fd guard off by one.
void seed001(Kernel& k);
// 001 fixed: binary-safe buffers, reads to EAGAIN, keeps its write position, answers half-closes.
void seed001_fixed(Kernel& k);
// 002: ET echo; one accept and one read per event, short writes ignored, F_GETFD for F_GETFL.
void seed002(Kernel& k);
// 002 fixed: accepts and reads to EAGAIN, finishes writes on EPOLLOUT, answers half-closes.
void seed002_fixed(Kernel& k);
// 003: the loop skeleton completed minimally; epoll_data union misuse, sockfd never set, one
// accept and one read per ET event, if / else if on EPOLLIN then EPOLLOUT, no close.
void seed003(Kernel& k);
// 003 fixed: data.fd throughout, sockfd from the event, to EAGAIN both ways, closes.
void seed003_fixed(Kernel& k);

}  // namespace edgecase::handlers
