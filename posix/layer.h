// What the wrappers share (posix/wrap_*.cc): the session, stdio fds, the loud failure and
// SIGPIPE. Internal to libedgecase_posix.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <sys/types.h>

#include "edgecase/posix.h"

// Every wrapper has C linkage and default visibility: the handler's objects, linked with
// --wrap=NAME, call __wrap_NAME by that name.
#define EDGECASE_WRAP extern "C" __attribute__((visibility("default")))

namespace edgecase::posix::detail {

// The stdio fds: within a run fds 0, 1 and 2 are the process's stdin, stdout and stderr, never
// the model's (posix/README.md): writes to 1 and 2 go to the run's log, reads of 0 find an
// empty stdin.
inline constexpr int kStdin = 0;
inline constexpr int kStdout = 1;
inline constexpr int kStderr = 2;
inline bool is_stdio(int fd) { return fd >= kStdin && fd <= kStderr; }

// Ends the run: the layer routes `call` but the model cannot honour it. The line names the call
// and its arguments (never pointer values: reports are deterministic) and says why; the verdict
// blames the kit's limit (Stop::Reason::unsupported -> Report::kit_limit).
[[noreturn]] void unsupported(const char* call, int fd, std::string_view args, std::string_view why);

// After a write-like call: when it failed with EPIPE without MSG_NOSIGNAL, SIGPIPE is raised
// where Linux sends it (send_sig(SIGPIPE) in sk_stream_error, net/core/stream.c, for TCP;
// unix_stream_sendmsg for AF_UNIX; pipe_write, fs/pipe.c): at SIG_DFL and unblocked the run
// ends (killed-by-sigpipe); a handler function is called; ignored or blocked, nothing.
ssize_t after_write(Session& s, const char* call, int fd, ssize_t result, int flags);

// Sends `bytes` to the run's log as the handler's `fd` (1 or 2).
void to_log(Session& s, int fd, std::string_view bytes);

}  // namespace edgecase::posix::detail
