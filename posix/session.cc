// The current session and the handler adapter (include/edgecase/posix.h).
#include <dlfcn.h>

#include <array>
#include <iostream>
#include <stdexcept>
#include <streambuf>
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

namespace {

// The stdio fds as the wrappers name them (posix/layer.h).
constexpr int kStdout = 1;
constexpr int kStderr = 2;

// A stream buffer that hands every byte to the session's log as the handler's `fd`, as
// __wrap_write does for write(1) and write(2). Unbuffered: the output interleaves with printf's
// and write(1)'s in the order the handler made it, and nothing is left behind when a Stop ends
// the run mid-line.
class LogBuf final : public std::streambuf {
 public:
  LogBuf(const Session& session, int fd) : session_(session), fd_(fd) {}

 protected:
  int_type overflow(int_type c) override {
    if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
    const char ch = traits_type::to_char_type(c);
    session_.log(fd_, std::string_view(&ch, 1));
    return c;
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    session_.log(fd_, std::string_view(s, static_cast<size_t>(n)));
    return n;
  }

 private:
  const Session& session_;
  int fd_;
};

// An empty stdin: the base class's underflow finds no byte, end of file at once.
class EmptyBuf final : public std::streambuf {};

// What a stream had before the scope routed it, given back after.
struct SavedStream {
  std::ios* stream;
  std::streambuf* buffer;
  std::ios::iostate state;
  std::ios::fmtflags flags;
  std::streamsize precision;
  std::streamsize width;
  char fill;
};

SavedStream route(std::ios& stream, std::streambuf* buffer) {
  SavedStream saved{&stream,       stream.rdbuf(), stream.rdstate(), stream.flags(),
                    stream.precision(), stream.width(), stream.fill()};
  stream.rdbuf(buffer);  // also clears the state, as a new process's stream starts
  return saved;
}

}  // namespace

// The standard streams for a scope's lifetime: libstdc++'s own buffers write with the real
// fwrite() from the shared library, past the layer, onto the process's fd 1 and 2 (and std::cin
// reads the real fd 0); swapping the buffers is the one way to reach them without wrapping
// libstdc++ (posix/README.md, "Stdio").
struct Scope::Streams {
  explicit Streams(const Session& session)
      : out(session, kStdout),
        err(session, kStderr),
        saved{route(std::cout, &out), route(std::cerr, &err), route(std::clog, &err),
              route(std::cin, &in)} {}
  ~Streams() {
    for (const SavedStream& s : saved) {
      s.stream->rdbuf(s.buffer);
      s.stream->clear(s.state);
      s.stream->flags(s.flags);
      s.stream->precision(s.precision);
      s.stream->width(s.width);
      s.stream->fill(s.fill);
    }
  }
  Streams(const Streams&) = delete;
  Streams& operator=(const Streams&) = delete;

  LogBuf out;
  LogBuf err;
  EmptyBuf in;
  std::array<SavedStream, 4> saved;
};

Scope::Scope(Kernel& kernel, SessionOptions options)
    : session_(kernel, std::move(options)),
      previous_(g_current),
      streams_(std::make_unique<Streams>(session_)) {
  g_current = &session_;
}

Scope::~Scope() {
  streams_.reset();
  g_current = previous_;
}

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
  (void)backend;
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
