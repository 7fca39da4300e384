// The interposition layer (posix/): an unmodified handler's libc calls, routed to a Kernel.
//
// A handler's own objects and static archives are linked with the GNU linker's --wrap=NAME for
// every call of posix/wrap.list (cmake/EdgecaseHandler.cmake does it), so that their call to
// read() reaches __wrap_read, defined in libedgecase_posix. __wrap_read asks for the current
// session: none, and it makes the real call; one, and it calls the session's Kernel (the
// simulation inside a World, or the live backend). The kit's own code is never wrapped, so its
// read() stays the real one (RealKernel's included). posix/README.md lists every wrapped call
// and its policy.
//
// The current session is the one process-wide pointer the kit keeps (docs/DESIGN.md, "The
// interposition layer"). Only a Scope sets it: its constructor makes its session current, its
// destructor restores the one it replaced, so scopes nest and an exception (edgecase::Stop
// ending a run) resets it on the way out. Single-threaded, as the handlers are.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <signal.h>

#include "edgecase/kernel.h"
#include "edgecase/runner.h"

namespace edgecase::posix {

// What open(), open64(), __open64_2(), openat() and fopen() do while a session is current. No
// policy reaches the real filesystem for anything but /dev/null: a real fd would collide with
// the model's numbers.
enum class OpenPolicy : uint8_t {
  // Every path fails with ENOENT, as in an empty filesystem.
  refuse,
  // The Kernel's open (kernel_calls.def): "/dev/null", and "/" read-only; any other path
  // ENOENT. On the simulation a file of the model, live a real fd the run owns. The default.
  kernel,
};

struct SessionOptions {
  OpenPolicy open = OpenPolicy::kernel;
  // Where the handler's stdout and stderr go (printf, puts, perror, write(1), write(2), ...):
  // the fd (1 or 2) and the bytes. Empty: discarded.
  std::function<void(int, std::string_view)> log;
};

// One run's view of the process: the kernel the calls go to, and the state a process has that
// the Kernel interface does not (SIGPIPE's disposition and mask). A new session starts as a new
// process does: SIGPIPE at SIG_DFL, unblocked.
class Session {
 public:
  Session(Kernel& kernel, SessionOptions options);
  Kernel& kernel() { return kernel_; }
  const SessionOptions& options() const { return options_; }
  void log(int fd, std::string_view bytes) const;

  // SIGPIPE as the handler set it (signal, sigaction, sigprocmask): never applied to the
  // process, whose own disposition is the kit's (runner.h, ignore_sigpipe).
  struct sigaction& sigpipe_action() { return sigpipe_; }
  bool& sigpipe_blocked() { return sigpipe_blocked_; }

 private:
  Kernel& kernel_;
  SessionOptions options_;
  struct sigaction sigpipe_ {};
  bool sigpipe_blocked_ = false;
};

// The current session, or nullptr: every wrapper then makes the real call.
Session* current();

// Makes a session current for its lifetime and restores the previous one after. It also
// routes the C++ standard streams for its lifetime: std::cout to the session's log as fd 1,
// std::cerr and std::clog as fd 2, std::cin to an empty stdin. libstdc++ writes them from its
// shared library, which --wrap cannot reach (posix/README.md, "Stdio"); their buffers, state and
// format flags are the kit's again after the scope.
class Scope {
 public:
  Scope(Kernel& kernel, SessionOptions options = {});
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;
  Session& session() { return session_; }

 private:
  struct Streams;  // the standard streams' routing (session.cc)
  Session session_;
  Session* previous_;
  std::unique_ptr<Streams> streams_;  // last: restored before the session goes
};

// A handler's entry point: its renamed main(), or any function of that type.
using Entry = int (*)(int argc, char** argv);

struct HandlerOptions {
  std::vector<std::string> args;  // argv[1...]; argv[0] is the handler's name
  SessionOptions session = {};
};

// A Handler for the runner: makes a session current on the Kernel the runner gives, then calls
// `entry`. The entry returning N is exit(N): the run ends as if the handler returned
// (handler-exited if a peer still waits), the report's ending says "the handler's entry
// returned N"; exit() and abort() end the run as Linux would end the process.
Handler make_handler(std::string name, Entry entry, HandlerOptions options = {});

// Options for a backend. Both backends take the same options now (open goes through the
// Kernel on each); kept so that callers need not know.
HandlerOptions options_for(Backend backend, HandlerOptions options = {});

// A handler built as a shared object by edgecase_add_handler (cmake/EdgecaseHandler.cmake):
// dlopen()s `path` and finds its entry `edgecase_entry_NAME`. std::runtime_error with dlerror()
// when either fails. The object stays loaded for the process's lifetime (its code may still be
// on a Handler's stack in a report's lambda; dlclose is never called).
Entry load_handler(const std::string& path, const std::string& name);

}  // namespace edgecase::posix
