// A scripted peer: one client connection that runs a PeerScript (include/edgecase/scenario.h)
// against any edgecase::Kernel, using nonblocking calls only.
//
// The peer never blocks and never spins. run() makes what progress nonblocking calls allow
// (at most kMaxCallsPerRun kernel calls), then says what it waits for: its socket becoming
// readable or writable, a moment in time, or nothing (the script is over). Whoever drives
// the peer (the simulated world, or a live loop over epoll) calls run() again when that
// happens; a run() that finds nothing to do returns the same wait again, so spurious calls
// are harmless.
//
// The same engine drives peers on the simulated peers' host (a second SimKernel sharing the
// server's network) and on live loopback sockets through RealKernel. Time is whatever the
// driver passes as `now` (virtual nanoseconds in the simulation); the peer never reads a clock.
//
// What a peer records: what it sent as a SentStream (pattern runs and literal data, not the
// bytes), counts of what it received, the received bytes an expect_line step has not consumed
// yet (at most one recv's worth), the step it is on, and a failure text when the script could
// not go on. Each chunk received is fed to a ProtocolCheck as it arrives (set_check), so a
// peer's memory does not grow with the bytes it moves.
// See docs/PEERS.md for the step language.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <netinet/in.h>
#include <string>
#include <string_view>

#include "edgecase/kernel.h"
#include "edgecase/protocol.h"
#include "edgecase/scenario.h"
#include "world/pattern.h"

namespace edgecase {

// What a peer waits for after running.
struct PeerWait {
  enum class Kind : uint8_t {
    io,    // `events` (EPOLLIN and/or EPOLLOUT) on fd()
    time,  // run again at `until` (may be the present: the peer yielded after its call budget)
    done,  // the script is over (finished or failed); run() will do nothing more
  };
  Kind kind = Kind::done;
  uint32_t events = 0;
  Nanos until = 0;
  friend bool operator==(const PeerWait&, const PeerWait&) = default;
};

class Peer {
 public:
  // Kernel calls one run() may make. Bounds the work done between two events of the world,
  // so that a peer sending megabytes into a wide-open window still lets time and the other
  // actors move; when it is reached, run() returns a time wait at `now`.
  static constexpr int kMaxCallsPerRun = 64;
  // Bytes offered to one send() or asked of one recv(): the buffer lives on the stack.
  static constexpr size_t kIoChunk = 16 * 1024;

  // `index` is 1-based (peer#1 runs scenario.peers[0]); it names the peer in traces and
  // failures and selects its byte pattern. `server` is where connect steps go.
  Peer(uint32_t index, PeerScript script, sockaddr_in server);

  // Runs steps as far as nonblocking calls allow. `now` never goes backwards between calls.
  // The script's `start` is the driver's business (the world first runs a peer `start` after
  // the server first waits); run() begins with the first step whenever it is first called.
  PeerWait run(Kernel& k, Nanos now);

  uint32_t index() const { return index_; }
  const PeerScript& script() const { return script_; }
  // -1 before a step created the socket, and after close or reset.
  int fd() const { return fd_; }
  // Sockets created so far. A script may close and connect again within one run(), and the
  // new socket may get the same fd number: a driver that watches fd() compares this instead.
  uint32_t sockets() const { return sockets_; }
  // The local port of the latest connect (0 before one): the server sees it as the peer's.
  uint16_t local_port() const { return local_port_; }
  // sent().size() when the latest connect began: the sent-stream offset of that connection's
  // first byte (a reconnecting script's offsets continue across its connections).
  uint64_t connect_offset() const { return connect_offset_; }
  // A shutdown_write step succeeded on the latest connection (the peer half-closed it).
  bool shut_write() const { return shut_write_; }
  // What it sent so far (any byte of it can be read back).
  const SentStream& sent() const { return sent_; }
  uint64_t received_bytes() const { return received_; }
  // The conversation so far, for a ProtocolCheck.
  Conversation conversation() const;
  // Feeds every chunk received from now on to `check` (not owned; nullptr: none) until it
  // reports an error, which stream_error() then holds.
  void set_check(ProtocolCheck* check) { check_ = check; }
  const std::optional<StreamError>& stream_error() const { return stream_error_; }
  bool done() const { return done_; }
  // A recv returned 0: the server closed or shut down its side.
  bool eof() const { return eof_; }
  // "" unless the script could not go on, e.g. "connect: ECONNREFUSED" or
  // "expect: connection reset (ECONNRESET) after 40 of 100 bytes".
  const std::string& failure() const { return failure_; }
  // The step it is on; steps().size() when the script finished.
  size_t step_index() const { return step_; }
  // One line for reports, e.g. "peer#1: step 3 of 5 (expect 100): 40 of 100 bytes, waits EPOLLIN".
  std::string status() const;
  // One line per action, e.g. "peer#1: send 100 = 100 (100/100)". No timestamps: the sink adds
  // them if it wants them.
  void set_trace(std::function<void(std::string_view)> sink) { trace_ = std::move(sink); }

 private:
  // What a step's handler decided.
  enum class Next : uint8_t {
    advance,  // the step is complete: go on with the next one
    wait,     // wait_ holds what to wait for
    stop,     // the script is over (failure_ may say why)
  };

  Next step_op(Kernel& k, const Step& s);
  Next do_connect(Kernel& k);
  Next finish_connect(Kernel& k);
  Next do_send(Kernel& k, const Step& s);
  Next do_expect(Kernel& k, const Step& s);
  Next do_expect_line(Kernel& k);
  Next do_read_eof(Kernel& k);
  Next do_shutdown_write(Kernel& k);
  Next do_close(Kernel& k, bool reset);
  Next do_sleep(const Step& s);
  Next do_rcvbuf(Kernel& k, const Step& s);

  // Creates the socket if there is none yet; false (failure_ set, naming `step`) if socket()
  // failed.
  bool ensure_socket(Kernel& k, const char* step);
  // One recv of at most `want` bytes (fewer under slow_read), into chunk_ (counted in
  // received_ and fed to the check). On
  // `wait`, wait_ holds EPOLLIN or the end of a slow_read pause; on `error`, last_errno_ says
  // which.
  enum class ReadResult : uint8_t { data, eof, wait, error };
  ReadResult read_some(Kernel& k, size_t want);
  // Steps took `n` more of the received bytes.
  void consume(uint64_t n);
  // Whether a call may still be made in this run.
  bool budget() const { return calls_ < kMaxCallsPerRun; }
  Next wait_io(uint32_t events);
  Next wait_time(Nanos until);
  Next fail(std::string text);
  void trace(std::string_view line) const;
  [[gnu::noinline]] void trace_send(size_t len, ssize_t r, int e, uint64_t total) const;
  [[gnu::noinline]] void trace_recv(ssize_t r, int e) const;
  std::string name() const;
  std::string step_name(const Step& s) const;
  // The current step's progress: "40/100" (send, expect), "12/line", "300/EOF"; "" otherwise.
  std::string progress_text() const;

  uint32_t index_;
  PeerScript script_;
  sockaddr_in server_;
  std::function<void(std::string_view)> trace_;

  int fd_ = -1;
  uint32_t sockets_ = 0;
  uint16_t local_port_ = 0;
  uint64_t connect_offset_ = 0;
  bool shut_write_ = false;
  size_t step_ = 0;
  bool done_ = false;
  std::string failure_;
  SentStream sent_;
  uint64_t received_ = 0;  // bytes received
  uint64_t consumed_ = 0;  // of them, bytes that steps have taken
  // Received bytes [consumed_, consumed_ + unconsumed_.size()) that an expect_line read past
  // its newline: what a later expect_line must search. At most kIoChunk.
  std::string unconsumed_;
  ProtocolCheck* check_ = nullptr;
  std::optional<StreamError> stream_error_;

  // Per-step progress, reset when a step completes.
  bool begun_ = false;     // the step made its first call (connect issued, sleep started)
  uint64_t progress_ = 0;  // send: bytes of this step sent
  Nanos sleep_until_ = 0;
  int last_errno_ = 0;     // the errno of the last failed recv
  bool eof_ = false;       // a recv returned 0

  // slow_read: at most slow_bytes_ per recv, then a pause of slow_pause_ (0 bytes: off).
  uint64_t slow_bytes_ = 0;
  Nanos slow_pause_ = 0;
  Nanos next_read_at_ = 0;

  Nanos now_ = 0;  // the time run() was given
  int calls_ = 0;  // kernel calls in the current run()
  PeerWait wait_;  // what the current step waits for, when it returned Next::wait
  std::string_view chunk_;  // the bytes of the latest read_some (valid until the next)
  std::unique_ptr<char[]> buf_;  // read_some's buffer (kIoChunk; the heap keeps Peer movable)
  std::unique_ptr<char[]> send_buf_;  // do_send's pattern bytes (kIoChunk), made on first use
};

}  // namespace edgecase
