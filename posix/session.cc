// The current session and the handler adapter (include/edgecase/posix.h).
#include <dlfcn.h>

#include <stdexcept>
#include <string>
#include <utility>

#include "edgecase/posix.h"
#include "world/world.h"

namespace edgecase::posix {

namespace {
// The one process-wide mutable pointer of the kit (docs/DESIGN.md, "The interposition layer"):
// the wrappers are free functions called from code that knows nothing of the kit, so they can
// only find the run through a global. Set and reset by Scope alone.
Session* g_current = nullptr;
}  // namespace

Session::Session(Kernel& kernel, SessionOptions options)
    : kernel_(kernel), options_(std::move(options)) {
  sigpipe_.sa_handler = SIG_DFL;  // a new process's disposition
}

void Session::log(int fd, std::string_view bytes) const {
  if (options_.log) options_.log(fd, bytes);
}

Session* current() { return g_current; }

Scope::Scope(Kernel& kernel, SessionOptions options)
    : session_(kernel, std::move(options)), previous_(g_current) {
  g_current = &session_;
}

Scope::~Scope() { g_current = previous_; }

Handler make_handler(std::string name, Entry entry, HandlerOptions options) {
  return [name = std::move(name), entry, options = std::move(options)](Kernel& k) {
    std::vector<std::string> strings{name};
    strings.insert(strings.end(), options.args.begin(), options.args.end());
    std::vector<char*> argv;
    for (std::string& s : strings) argv.push_back(s.data());
    argv.push_back(nullptr);
    const Scope scope(k, options.session);
    const int status = entry(static_cast<int>(strings.size()), argv.data());
    // Returning from main is exit(status): judged as the handler returning, with the status in
    // the report's ending (the seeds return -1 on every failed set-up call).
    throw Stop{Stop::Reason::exited, "return", -1, 0,
               "the handler's entry returned " + std::to_string(status)};
  };
}

HandlerOptions options_for(Backend backend, HandlerOptions options) {
  if (backend == Backend::live && options.session.open == OpenPolicy::model_devnull)
    options.session.open = OpenPolicy::live_devnull;
  return options;
}

Entry load_handler(const std::string& path, const std::string& name) {
  void* so = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (so == nullptr) throw std::runtime_error("dlopen " + path + ": " + ::dlerror());
  const std::string symbol = "edgecase_entry_" + name;
  void* entry = ::dlsym(so, symbol.c_str());
  if (entry == nullptr)
    throw std::runtime_error("dlsym " + symbol + " in " + path + ": " + ::dlerror());
  return reinterpret_cast<Entry>(entry);
}

}  // namespace edgecase::posix
