// A run's timeline, read from its trace (docs/TIMELINE.md): one lane per connection, listener,
// epoll instance, pipe and other fd, and one mark per trace line, placed on the lane of what it
// moved. The trace is the run's one record (hashed, identical on every build), so the timeline
// is derived from it rather than recorded beside it: it cannot show what the trace does not
// say, every trace line lands on it exactly once, and a saved trace draws the same picture.
//
// What a lane knows, from the lines alone: the bytes each peer sent and received on its
// connection (the peers' own lines, with their offsets), the segments between (tcpdump-shaped
// `net:` lines, told apart by the peer's port, which its connect line names), the server's
// reads and writes on the fd accept4 gave it, the interest epoll_ctl registered and the events
// epoll_wait delivered (found by the epoll_data each registration wrote), and faults.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "edgecase/report.h"
#include "edgecase/scenario.h"

namespace edgecase::timeline {

enum class LaneKind : uint8_t { world, handler, listener, epoll, connection, pipe, other };  // the page's order
std::string_view lane_kind_name(LaneKind k);

enum class MarkKind : uint8_t {
  send, recv, peer,            // a peer's sends, receives, and everything else it did
  seg_in, seg_out, net,        // segments with data toward the server or the peer; without
  wait, ctl, read, write,      // the handler's epoll_wait/poll, epoll_ctl, reads, writes
  eagain, error, call,         // a call failed with EAGAIN, with another errno; any other call
  fault, info                  // an injected fault; the case header and the run's end
};
std::string_view mark_kind_name(MarkKind k);

constexpr int64_t kNoByte = -1;

struct Lane {
  LaneKind kind = LaneKind::other;
  std::string name;    // "peer#1 :32768 <-> fd 5"
  std::string detail;  // what else is known: the listener's port, the pipe's fds
  uint32_t peer = 0;   // connection lanes: peer#N
  uint16_t port = 0;   // connection lanes: the peer's port; listeners: the bound port
  std::vector<int> fds;  // every handler fd the lane was known by, in order
  // Stream counters of a connection (or a pipe: written and read).
  uint64_t sent = 0, read = 0, written = 0, received = 0;
  uint32_t reads = 0, writes = 0, sends = 0, segments_in = 0;
  Nanos first_segment_in = -1, last_segment_in = -1, last_read = -1, last_event = -1;
  Nanos last_eagain = -1;
  Nanos closed = -1;  // when the handler closed its last fd for it
  Nanos peer_shutdown = -1;  // when the peer shut down its write side (its FIN)
  Nanos read_eof = -1;       // when one of the server's reads returned 0 (end of file)
  // The server's short writes (fewer bytes written than asked): how many, and the first.
  uint32_t short_writes = 0;
  Nanos first_short_write = -1;
  uint64_t first_short_done = 0, first_short_asked = 0;
  uint32_t emfile = 0;  // listeners: accept4 that failed with EMFILE
  uint64_t last_read_asked = 0;  // the size of the last read that returned data
  uint64_t last_read_got = 0;    // and what it returned
  uint32_t reads_since_event = 0;  // reads that returned data since the last event delivered  // the handler's last call on it that failed with EAGAIN
  std::vector<std::pair<uint64_t, uint64_t>> messages;  // completed peer send steps [from, to)
  uint32_t queued_connections = 0, accepted = 0, aborted = 0;  // listeners
  // The last write that returned data: when, how much it asked to write, how much it wrote.
  Nanos last_write = -1;
  uint64_t last_write_asked = 0, last_write_done = 0;
  std::string last_event_mask;
  uint32_t events = 0;
};

struct Mark {
  Nanos t = 0;
  uint32_t lane = 0;
  MarkKind kind = MarkKind::info;
  std::string label;
  int64_t from = kNoByte, to = kNoByte;  // the stream bytes [from, to) it moved
};

struct Point {
  Nanos t;
  uint64_t value;
  size_t line;  // the trace line that changed it (the page's trace-order axis)
};
// A step function over time: bytes toward the server not read yet ("in"), bytes toward the
// peer not received yet ("out"); for a listener, connections queued and not accepted ("in").
struct Queue {
  uint32_t lane = 0;
  bool in = true;
  std::string unit;  // "B" or "connections"
  std::vector<Point> points;
};

struct Span {
  Nanos from = 0, to = 0;
  std::string mask;  // "EPOLLIN|EPOLLET", or "disarmed (EPOLLONESHOT)"
};
struct Interest {
  uint32_t lane = 0;
  std::vector<Span> spans;
};

// An event epoll_wait delivered: the line of the call, and the lane of the fd it was for.
struct Delivered {
  size_t line = 0;
  Nanos t = 0;
  uint32_t lane = 0;
  std::string mask;
};

struct Model {
  std::vector<Lane> lanes;  // lanes[0]: the world (header, faults of no fd, the end)
  std::vector<Mark> marks;  // marks[i] is line i of the trace
  std::vector<Queue> queues;
  std::vector<Interest> interest;
  std::vector<Delivered> events;
  Nanos end = 0;
  uint16_t listen_port = 0;
  // Each handler fd's latest binding, kept after its close: an fd reused by a lane made
  // earlier (a connection accepted after a later one's, a pipe's fd closed and accepted)
  // belongs to that lane, whatever the lanes' order.
  std::map<int, uint32_t> last_lane_of_fd;

  // The connection lane of peer#N (its latest connection), or none.
  const Lane* peer_lane(uint32_t peer) const;
  // The interest registered for lane `l` at the end ("" when none).
  std::string final_interest(uint32_t l) const;
  // The lane fd `fd` was last known by, or none.
  const Lane* fd_lane(int fd) const;
  uint32_t index(const Lane& l) const { return static_cast<uint32_t>(&l - lanes.data()); }
};

// "[      0.018ms] text": the stamp's time in ns, and the text after it. A line without a
// stamp is time 0 and all text.
Nanos stamp_time(std::string_view line);
std::string_view stamp_text(std::string_view line);

// Where a violation goes on the time axis: the oracle's time; for a crash an isolated run
// saw from outside (the parent knows no virtual time: 0), the end of the trace it left.
inline Nanos violation_time(const Model& m, const Violation& v) {
  if (v.oracle == oracle::kHandlerCrashed && v.evidence.at == 0) return m.end;
  return v.evidence.at;
}

// The plain-words story of one violation (explain() joins them): empty for the oracles whose
// verdict line names a call or an fd and says it all. `ending` is Report::ending; `protocol`
// the case's (echo: messages echoed; any other: requests and replies).
std::vector<std::string> violation_story(const Model& m, const Violation& v,
                                         std::string_view ending, std::string_view protocol);

// Reads a whole trace (Trace::all(), or a saved trace file's lines).
Model build_model(const std::vector<std::string>& lines);

}  // namespace edgecase::timeline
