// ProtocolCheck::server_read: the server's reads of each peer's stream, in the order they
// happen, before the replies they cause reach the checker; on both backends.
// Cost: four small runs (one live), a few ms.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgecase/runner.h"
#include "handlers/handlers.h"

namespace edgecase {
namespace {

// Records every call, and checks as it goes that an echoed byte never arrives before the
// server read it (a reply cannot precede its request) and that read offsets never go back.
struct Log {
  struct Event {
    uint32_t peer = 0;
    bool read = false;  // server_read, else received
    uint64_t end = 0;   // server_read: end; received: offset + size
  };
  std::vector<Event> events;
  std::vector<std::string> errors;
};

class RecordingChecker final : public ProtocolChecker {
 public:
  explicit RecordingChecker(Log& log) : log_(log) {}
  std::string_view name() const override { return "echo"; }
  std::unique_ptr<ProtocolCheck> start() const override { return std::make_unique<Check>(log_); }

 private:
  class Check final : public ProtocolCheck {
   public:
    explicit Check(Log& log) : log_(log) {}
    std::optional<StreamError> received(const Conversation& c, std::string_view bytes) override {
      const uint64_t end = c.received + bytes.size();
      if (end > read_[c.peer])
        log_.errors.push_back(fmt::format("peer#{}: {} bytes received, {} read by the server",
                                          c.peer, end, read_[c.peer]));
      log_.events.push_back({c.peer, false, end});
      return std::nullopt;
    }
    std::optional<StreamError> end(const Conversation&) override { return std::nullopt; }
    void server_read(const Conversation& c, uint64_t end) override {
      if (end <= read_[c.peer] || end > c.sent->size())
        log_.errors.push_back(fmt::format("peer#{}: read up to {} after {} (sent {})", c.peer,
                                          end, read_[c.peer], c.sent->size()));
      read_[c.peer] = end;
      log_.events.push_back({c.peer, true, end});
    }

   private:
    Log& log_;
    std::map<uint32_t, uint64_t> read_;
  };
  Log& log_;
};

PeerScript peer(Nanos start, uint64_t bytes) {
  PeerScript s;
  s.start = start;
  s.steps = {Step{Step::Op::connect, 0, 0, ""}, Step{Step::Op::send, bytes, 0, ""},
             Step{Step::Op::expect, bytes, 0, ""}, Step{Step::Op::close, 0, 0, ""}};
  return s;
}

TEST_CASE("server_read: every byte is read before its echo arrives, in the server's order",
          "[runner][protocol][server-read]") {
  const Backend backend = GENERATE(Backend::sim, Backend::live);
  const bool faults = GENERATE(false, true);
  if (backend == Backend::live && faults) return;  // live: one run is enough
  Case c;
  c.scenario.peers = {peer(0, 50'000), peer(2 * kNanosPerMilli, 3'000)};
  c.seed = 11;
  if (faults) c.faults = FaultPlan::all(300);
  c.faults[FaultKind::peer_reset] = Fault{};  // every byte must be read
  c.faults[FaultKind::accept_abort] = Fault{};
  c.faults[FaultKind::fd_limit] = Fault{};
  Log log;
  const RecordingChecker checker(log);
  RunOptions o;
  o.handlers = &edgecase::handlers::builtins();
  o.backend = backend;
  o.checker = &checker;
  const Report r = run_case(c, o);
  INFO(r.format());
  REQUIRE(r.clean());
  CHECK(log.errors == std::vector<std::string>{});
  // The server read both streams to their ends.
  std::map<uint32_t, uint64_t> last;
  for (const Log::Event& e : log.events)
    if (e.read) last[e.peer] = e.end;
  CHECK(last[1] == 50'000);
  CHECK(last[2] == 3'000);
  // Peer 2 starts 2 ms later, after peer 1's 50 KB went through: its first read comes after
  // peer 1's last one (the order is the server's, across peers).
  const auto first2 = std::find_if(log.events.begin(), log.events.end(),
                                   [](const Log::Event& e) { return e.read && e.peer == 2; });
  const auto last1 = std::find_if(log.events.rbegin(), log.events.rend(),
                                  [](const Log::Event& e) { return e.read && e.peer == 1; });
  REQUIRE(first2 != log.events.end());
  REQUIRE(last1 != log.events.rend());
  CHECK(first2 - log.events.begin() > log.events.rend() - last1 - 1);
}

}  // namespace
}  // namespace edgecase
