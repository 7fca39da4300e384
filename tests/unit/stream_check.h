// Test helpers for peers' streams: a run keeps no bytes, so a test that wants them attaches a
// ProtocolCheck that keeps them (Recorder), or the echo checker and asks whether each peer got
// back what it sent (echoed_all, echoed_prefix).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "edgecase/protocol.h"
#include "harness/peer.h"

namespace edgecase::test {

// Keeps every byte each peer received (tests only).
class Recorder final : public ProtocolCheck {
 public:
  std::optional<StreamError> received(const Conversation& c, std::string_view bytes) override {
    got_[c.peer].append(bytes);
    return std::nullopt;
  }
  std::optional<StreamError> end(const Conversation&) override { return std::nullopt; }
  std::string of(const Peer& p) const {
    const auto it = got_.find(p.index());
    return it == got_.end() ? std::string() : it->second;
  }

 private:
  std::map<uint32_t, std::string> got_;
};

// A run's echo check, to give to SimRunOptions::check or LiveRunOptions::check.
inline std::unique_ptr<ProtocolCheck> echo_check() { return EchoChecker().start(); }

// With an echo check attached: what p received is what it sent, up to what it received.
inline bool echoed_prefix(const Peer& p) { return !p.stream_error(); }
// ... and it received every byte it sent.
inline bool echoed_all(const Peer& p) {
  return !p.stream_error() && p.received_bytes() == p.sent().size();
}
// Everything p sent, as bytes.
inline std::string sent_text(const Peer& p) { return p.sent().text(0, p.sent().size()); }

}  // namespace edgecase::test
