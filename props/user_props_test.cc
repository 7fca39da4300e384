// The user's path, end to end (label props): a handler that lives in this file, not in the
// kit's registry, checked with check_server as the README shows; the failure's case file
// written, and replayed from this binary with EDGECASE_REPLAY; a bad file a clear failure.
#include <catch2/catch.hpp>

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <variant>

#include "edgecase/case_file.h"
#include "edgecase/property.h"

namespace {

// A small edge-triggered echo server, as a user would write one against edgecase::Kernel.
// With `drain` false it has the bug of seed 002 and 003: one read per EPOLLIN edge, so bytes
// beyond one buffer wait for an edge that never comes.
class TinyEcho {
 public:
  static constexpr uint16_t kPort = 9090;
  static constexpr size_t kBuffer = 4096;
  static constexpr int kMaxEvents = 16;

  TinyEcho(edgecase::Kernel& k, bool drain) : k_(k), drain_(drain) {}

  [[noreturn]] void run() {
    listen();
    epoll_event evs[kMaxEvents];
    for (;;) {
      const int n = k_.epoll_wait(ep_, evs, kMaxEvents, -1);
      if (n < 0 && errno != EINTR) throw std::runtime_error("epoll_wait");
      for (int i = 0; i < n; ++i) {
        const int fd = evs[i].data.fd;
        if (fd == lfd_) accept_all();
        else serve(fd);
      }
    }
  }

 private:
  struct Conn {
    std::string out;  // read, not yet written back
    bool eof = false;
  };

  void listen() {
    ep_ = k_.epoll_create1(0);
    lfd_ = k_.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(kPort);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (k_.bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || k_.listen(lfd_, 64) != 0)
      throw std::runtime_error("listen");
    watch(lfd_, EPOLLIN | EPOLLET);
  }

  void watch(int fd, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.fd = fd;
    k_.epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
  }

  void accept_all() {
    for (;;) {
      const int fd = k_.accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK);
      if (fd < 0 && errno == EINTR) continue;
      if (fd < 0) return;
      conns_[fd] = Conn{};
      watch(fd, EPOLLIN | EPOLLOUT | EPOLLET);
    }
  }

  void serve(int fd) {
    Conn& c = conns_[fd];
    char buf[kBuffer];
    for (bool more = true; more && !c.eof;) {
      const ssize_t r = k_.read(fd, buf, sizeof buf);
      if (r > 0) c.out.append(buf, static_cast<size_t>(r));
      if (r == 0) c.eof = true;
      if (r < 0 && errno != EINTR) {
        if (errno != EAGAIN) return drop(fd);
        break;
      }
      more = drain_;  // the bug: without drain, one read per edge
    }
    while (!c.out.empty()) {
      const ssize_t w = k_.write(fd, c.out.data(), c.out.size());
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && errno == EAGAIN) return;  // EPOLLOUT's edge comes back
      if (w < 0) return drop(fd);
      c.out.erase(0, static_cast<size_t>(w));
    }
    if (c.eof) drop(fd);
  }

  void drop(int fd) {
    conns_.erase(fd);
    k_.close(fd);
  }

  edgecase::Kernel& k_;
  bool drain_;
  int ep_ = -1;
  int lfd_ = -1;
  std::map<int, Conn> conns_;
};

void tiny_echo_buggy(edgecase::Kernel& k) { TinyEcho(k, false).run(); }
void tiny_echo_fixed(edgecase::Kernel& k) { TinyEcho(k, true).run(); }

// Sets an environment variable for one scope (the replay entry point reads EDGECASE_REPLAY).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() { ::unsetenv(name_); }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
};

// A directory of its own for the case files, removed afterwards.
class ScratchDir {
 public:
  ScratchDir()
      : path_(std::filesystem::temp_directory_path() /
              ("edgecase-user-props-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

constexpr uint64_t kSeed = 20261122;
constexpr int kCases = 60;

edgecase::PropertyOptions options(const ScratchDir& dir) {
  edgecase::PropertyOptions o;
  o.gen.handler = "tiny_echo";
  o.gen.port = TinyEcho::kPort;
  o.gen.faults = false;  // the tiny server ignores EMFILE and ECONNABORTED: not this test's
  o.seed = kSeed;
  o.cases = kCases;
  o.case_dir = dir.path().string();
  return o;
}

}  // namespace

TEST_CASE("props: a user's handler: check_server finds its bug, EDGECASE_REPLAY replays it",
          "[user]") {
  REQUIRE(std::getenv("EDGECASE_REPLAY") == nullptr);
  const ScratchDir dir;
  const edgecase::PropertyOptions o = options(dir);

  // The fixed server passes; the planted bug fails, shrunk: bytes or an end of file left
  // unread after an edge (lost-read-event, or a stall when what is left is the FIN).
  REQUIRE(edgecase::check_server(tiny_echo_fixed, edgecase::echo_protocol(), o));
  edgecase::PropertyOptions live = o;
  live.confirm_live = true;  // the minimal case once more, on live loopback sockets
  const edgecase::PropertyResult r =
      edgecase::check_server(tiny_echo_buggy, edgecase::echo_protocol(), live);
  REQUIRE_FALSE(r.passed);
  INFO(r.report.format());
  REQUIRE_FALSE(r.report.violations.empty());
  const std::string oracle = r.report.violations.front().oracle;
  REQUIRE((oracle == "lost-read-event" || oracle == "stall"));
  CHECK(r.reproduce.rfind("RC_PARAMS=\"", 0) == 0);
  CHECK(r.reproduce.find("reproduce=") != std::string::npos);
  CHECK_FALSE(r.report.last_calls.empty());  // re-run traced
  REQUIRE(r.live.has_value());
  CHECK(r.live->backend == edgecase::Backend::live);
  WARN("live sockets: " << (r.live->clean() ? std::string("clean") : r.live->violations.front().format()));

  // The case file: written where asked, the minimal case with its violations recorded.
  REQUIRE(r.case_file == (dir.path() / ("tiny_echo-" + oracle + ".case")).string());
  const auto read = edgecase::read_case_file(r.case_file);
  REQUIRE(std::holds_alternative<edgecase::Case>(read));
  CHECK(std::get<edgecase::Case>(read) == r.minimal);

  {
    // Replayed from this binary: the handler is not in the kit's registry, so `edgecase
    // replay` cannot run it; EDGECASE_REPLAY can.
    const ScopedEnv env("EDGECASE_REPLAY", r.case_file);
    const edgecase::PropertyResult again =
        edgecase::check_server(tiny_echo_buggy, edgecase::echo_protocol(), o);
    CHECK(again.replayed);
    CHECK(again.cases == 1);
    CHECK_FALSE(again.passed);
    CHECK(again.report.found(oracle));
    CHECK(again.minimal == r.minimal);
    // Once fixed, the same case passes: the file is a regression test.
    const edgecase::PropertyResult fixed =
        edgecase::check_server(tiny_echo_fixed, edgecase::echo_protocol(), o);
    CHECK(fixed.replayed);
    CHECK(fixed.passed);
    // A call for another handler generates its cases as usual.
    edgecase::PropertyOptions other = o;
    other.gen.handler = "another";
    other.cases = 3;
    const edgecase::PropertyResult gen =
        edgecase::check_server(tiny_echo_fixed, edgecase::echo_protocol(), other);
    CHECK_FALSE(gen.replayed);
    CHECK(gen.passed);
    CHECK(gen.cases == 3);
  }
}

TEST_CASE("props: EDGECASE_REPLAY of a bad file fails clearly", "[user]") {
  const ScratchDir dir;
  const edgecase::PropertyOptions o = options(dir);
  const std::filesystem::path bad = dir.path() / "bad.case";
  std::ofstream(bad) << "edgecase-case 1\nhandler tiny_echo\nthis is not a case\n";
  for (const std::string& path : {bad.string(), (dir.path() / "missing.case").string(),
                                  dir.path().string()}) {
    const ScopedEnv env("EDGECASE_REPLAY", path);
    const edgecase::PropertyResult r =
        edgecase::check_server(tiny_echo_fixed, edgecase::echo_protocol(), o);
    INFO(path << ": " << r.error);
    CHECK_FALSE(r.passed);
    CHECK(r.replayed);
    CHECK(r.error.find("EDGECASE_REPLAY=" + path + ": not a case file: ") == 0);
    CHECK(r.cases == 0);
  }
}

TEST_CASE("props: check_server told a port the handler does not listen on fails without a pass",
          "[user]") {
  // Every case's peers are refused: the handler was never tested, which must not read as a
  // pass (a generated NAME_test with the wrong PORT passed 200 cases before).
  const ScratchDir dir;
  edgecase::PropertyOptions o = options(dir);
  o.gen.port = TinyEcho::kPort + 1;
  const edgecase::PropertyResult r =
      edgecase::check_server(tiny_echo_fixed, edgecase::echo_protocol(), o);
  INFO(r.error);
  CHECK_FALSE(r.passed);
  CHECK(r.error.find("never listened on port " + std::to_string(TinyEcho::kPort + 1)) !=
        std::string::npos);
  REQUIRE(r.undecided.size() == 1);
  CHECK(r.undecided.begin()->second == 20);
}
