// Tests of the timelines (issue 12): harness/timeline_model.h read from small hand-written
// traces (lanes, one mark per line, byte ranges, queued bytes, interest spans, delivered
// events, the accept queue), stamp_time, explain() on seed 002's lost read event, and the JSON
// writer the HTML and Perfetto files are written with (harness/json_text.h), read back by
// nlohmann-json.
#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edgecase/case_file.h"
#include "edgecase/timeline.h"
#include "handlers/handlers.h"
#include "harness/json_text.h"
#include "harness/timeline_model.h"

namespace {

using edgecase::JsonText;
using edgecase::timeline::build_model;
using edgecase::timeline::kNoByte;
using edgecase::timeline::Lane;
using edgecase::timeline::LaneKind;
using edgecase::timeline::Mark;
using edgecase::timeline::MarkKind;
using edgecase::timeline::Model;
using edgecase::timeline::Point;
using edgecase::timeline::Span;
using edgecase::timeline::stamp_time;

// A listener on 6888, an epoll fd, a pipe; peer#1 connects from 32768, sends 100 bytes in two
// segments, the server reads them under an EPOLLONESHOT registration (data.ptr; the pipe's
// read end has another), echoes them, re-arms with MOD, closes. Then peers #2-#4 handshake;
// #3 is reset before accept4 takes it; two accept4 calls without an address take #2 (fd 5
// again: a new binding) and #4.
const std::vector<std::string> kTrace = {
    "[      0.000ms] case: handler test, seed 0x0000000000000001, 4 peers",
    "[      0.001ms] socket(AF_INET, SOCK_STREAM, 0) = 3",
    "[      0.002ms] bind(3, {sa_family=AF_INET, sin_port=htons(6888), "
    "sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0",
    "[      0.003ms] listen(3, 1024) = 0",
    "[      0.004ms] epoll_create1(0) = 4",
    "[      0.005ms] epoll_ctl(4, EPOLL_CTL_ADD, 3, {events=EPOLLIN, data.u64=3}) = 0",
    "[      0.006ms] pipe2([6, 7], O_NONBLOCK) = 0",
    "[      0.010ms] peer#1: socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 4",
    "[      0.010ms] peer#1: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32768)",
    "[      0.010ms] net: 127.0.0.1.32768 > 127.0.0.1.6888: Flags [S], seq 0, win 65536, length 0",
    "[      0.010ms] net: 127.0.0.1.6888 > 127.0.0.1.32768: Flags [S.], seq 0, ack 1, win 65536, "
    "length 0",
    "[      0.010ms] peer#1: connected",
    "[      0.011ms] peer#1: send 100 = 100 (100/100)",
    "[      0.011ms] net: 127.0.0.1.32768 > 127.0.0.1.6888: Flags [P.], seq 1:61, ack 1, win "
    "65536, length 60",
    "[      0.011ms] net: 127.0.0.1.32768 > 127.0.0.1.6888: Flags [P.], seq 61:101, ack 1, win "
    "65536, length 40",
    "[      0.012ms] epoll_wait(4, [{events=EPOLLIN, data.u64=3}], 8, -1) = 1",
    "[      0.013ms] accept4(3, {sa_family=AF_INET, sin_port=htons(32768), "
    "sin_addr=inet_addr(\"127.0.0.1\")}, [...], SOCK_NONBLOCK) = 5",
    "[      0.014ms] epoll_ctl(4, EPOLL_CTL_ADD, 5, {events=EPOLLIN|EPOLLONESHOT, "
    "data.ptr=ptr#1}) = 0",
    "[      0.014ms] epoll_ctl(4, EPOLL_CTL_ADD, 6, {events=EPOLLIN, data.ptr=ptr#2}) = 0",
    "[      0.015ms] epoll_wait(4, [{events=EPOLLIN, data.ptr=ptr#1}], 8, -1) = 1",
    "[      0.016ms] read(5, \"abc\"..., 4096) = 70",
    "[      0.017ms] read(5, \"abc\"..., 4096) = 30",
    "[      0.018ms] read(5, 0x..., 4096) = -1 EAGAIN (Resource temporarily unavailable)",
    "[      0.019ms] write(5, \"abc\"..., 100) = 100",
    "[      0.019ms] net: 127.0.0.1.6888 > 127.0.0.1.32768: Flags [P.], seq 1:101, ack 101, win "
    "65536, length 100",
    "[      0.020ms] peer#1: recv = 100 (100/100)",
    "[      0.021ms] epoll_ctl(4, EPOLL_CTL_MOD, 5, {events=EPOLLIN|EPOLLOUT, data.ptr=ptr#1}) = 0",
    "[      0.022ms] write(7, \"ab\", 2) = 2",
    "[      0.022ms] epoll_wait(4, [{events=EPOLLIN, data.ptr=ptr#2}], 8, -1) = 1",
    "[      0.023ms] read(6, \"ab\", 16) = 2",
    "[      0.024ms] close(5) = 0",
    "[      0.030ms] peer#2: socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 4",
    "[      0.030ms] peer#2: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32769)",
    "[      0.030ms] net: 127.0.0.1.32769 > 127.0.0.1.6888: Flags [S], seq 0, win 65536, length 0",
    "[      0.030ms] net: 127.0.0.1.6888 > 127.0.0.1.32769: Flags [S.], seq 0, ack 1, win 65536, "
    "length 0",
    "[      0.031ms] peer#3: socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 4",
    "[      0.031ms] peer#3: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32770)",
    "[      0.031ms] net: 127.0.0.1.6888 > 127.0.0.1.32770: Flags [S.], seq 0, ack 1, win 65536, "
    "length 0",
    "[      0.032ms] peer#4: socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0) = 4",
    "[      0.032ms] peer#4: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32771)",
    "[      0.032ms] net: 127.0.0.1.6888 > 127.0.0.1.32771: Flags [S.], seq 0, ack 1, win 65536, "
    "length 0",
    "[      0.033ms] fault: accept-abort: accept4(3) connection from 127.0.0.1:32770 reset",
    "[      0.034ms] accept4(3, NULL, NULL, SOCK_NONBLOCK) = 5",
    "[      0.035ms] accept4(3, NULL, NULL, SOCK_NONBLOCK) = 8",
    "[      0.036ms] epoll_ctl(4, EPOLL_CTL_ADD, 5, {events=EPOLLIN|EPOLLET, data.u64=5}) = 0",
    "[      0.037ms] epoll_wait(4, [{events=EPOLLIN|EPOLLRDHUP, data.u64=5}], 8, -1) = 1",
    "[      0.038ms] epoll_ctl(4, EPOLL_CTL_DEL, 3, NULL) = 0",
    "a line without a stamp",
    "",
    "[      0.040ms] handler stopped (quiescent) in epoll_wait(4) at [      0.040ms]",
};

// The index of the first line holding `text`.
size_t line_of(const std::vector<std::string>& lines, std::string_view text) {
  const auto it = std::find_if(lines.begin(), lines.end(), [&](const std::string& l) {
    return l.find(text) != std::string::npos;
  });
  REQUIRE(it != lines.end());
  return static_cast<size_t>(it - lines.begin());
}

uint32_t lane_named(const Model& m, std::string_view name) {
  for (uint32_t i = 0; i < m.lanes.size(); ++i)
    if (m.lanes[i].name == name) return i;
  FAIL("no lane named " << name);
  return 0;
}

const Mark& mark_of(const Model& m, std::string_view text) {
  return m.marks[line_of(kTrace, text)];
}

// A queue's points as (time, value) pairs; with `lines`, each point's trace line instead.
using TV = std::pair<edgecase::Nanos, uint64_t>;
std::vector<TV> points(const Model& m, uint32_t lane, bool in) {
  std::vector<TV> out;
  for (const auto& q : m.queues)
    if (q.lane == lane && q.in == in)
      for (const Point& p : q.points) out.emplace_back(p.t, p.value);
  return out;
}
std::vector<size_t> point_lines(const Model& m, uint32_t lane, bool in) {
  std::vector<size_t> out;
  for (const auto& q : m.queues)
    if (q.lane == lane && q.in == in)
      for (const Point& p : q.points) out.push_back(p.line);
  return out;
}

std::vector<Span> spans(const Model& m, uint32_t lane) {
  for (const auto& i : m.interest)
    if (i.lane == lane) return i.spans;
  return {};
}

constexpr edgecase::Nanos us(int64_t n) { return n * 1000; }

}  // namespace

// Found by argument-dependent lookup from std::vector's operator==.
namespace edgecase::timeline {
bool operator==(const Span& a, const Span& b) {
  return a.from == b.from && a.to == b.to && a.mask == b.mask;
}
}  // namespace edgecase::timeline

namespace Catch {
template <>
struct StringMaker<Span> {
  static std::string convert(const Span& s) {
    return "[" + std::to_string(s.from) + ", " + std::to_string(s.to) + ") " + s.mask;
  }
};
}  // namespace Catch

TEST_CASE("timeline: a lane per listener, epoll fd, connection and pipe, and every line one mark",
          "[timeline]") {
  const Model m = build_model(kTrace);
  REQUIRE(m.marks.size() == kTrace.size());
  REQUIRE(m.lanes[0].kind == LaneKind::world);

  const uint32_t listener = lane_named(m, "listener fd 3 :6888");
  CHECK(m.lanes[listener].kind == LaneKind::listener);
  CHECK(m.listen_port == 6888);
  const uint32_t epoll = lane_named(m, "epoll fd 4");
  CHECK(m.lanes[epoll].kind == LaneKind::epoll);
  const uint32_t pipe = lane_named(m, "pipe2 fds 6,7");
  CHECK(m.lanes[pipe].kind == LaneKind::pipe);
  CHECK(m.lanes[pipe].fds == std::vector<int>{6, 7});

  // The connection is named by its peer, the port its connect line gave and the accepted fd.
  const uint32_t c1 = lane_named(m, "peer#1 :32768 <-> fd 5");
  CHECK(m.lanes[c1].kind == LaneKind::connection);
  CHECK(m.lanes[c1].port == 32768);
  CHECK(m.peer_lane(1) == &m.lanes[c1]);
  CHECK(m.lanes[c1].closed == us(24));

  // Marks land on the lane of what they moved.
  CHECK(mark_of(m, "listen(3").lane == listener);
  CHECK(mark_of(m, "epoll_create1").lane == epoll);
  CHECK(mark_of(m, "epoll_wait(4, [{events=EPOLLIN, data.u64=3}]").lane == epoll);
  CHECK(mark_of(m, "epoll_wait(4, [{events=EPOLLIN, data.u64=3}]").kind == MarkKind::wait);
  CHECK(mark_of(m, "accept4(3, {").lane == listener);
  CHECK(mark_of(m, "peer#1: connected").lane == c1);
  CHECK(mark_of(m, "read(5, 0x...").kind == MarkKind::eagain);
  CHECK(mark_of(m, "read(5, 0x...").lane == c1);
  CHECK(mark_of(m, "write(7").lane == pipe);
  CHECK(mark_of(m, "read(6").lane == pipe);
  CHECK(mark_of(m, "fault: accept-abort").kind == MarkKind::fault);
  CHECK(mark_of(m, "fault: accept-abort").lane == listener);
  CHECK(mark_of(m, "a line without a stamp").lane == 0);
  CHECK(mark_of(m, "handler stopped").kind == MarkKind::info);
  // Time never goes back: a line without a stamp keeps the time before it.
  for (size_t i = 1; i < m.marks.size(); ++i) CHECK(m.marks[i].t >= m.marks[i - 1].t);
  CHECK(mark_of(m, "a line without a stamp").t == us(38));
  CHECK(m.end == us(40));
}

TEST_CASE("timeline: fd reuse after close binds the fd to the new connection's lane",
          "[timeline]") {
  const Model m = build_model(kTrace);
  const uint32_t c1 = lane_named(m, "peer#1 :32768 <-> fd 5");
  const uint32_t c2 = lane_named(m, "peer#2 :32769 <-> fd 5");
  CHECK(c1 != c2);
  CHECK(m.fd_lane(5) == &m.lanes[c2]);
  CHECK(mark_of(m, "epoll_ctl(4, EPOLL_CTL_ADD, 5, {events=EPOLLIN|EPOLLET").lane == c2);
}

TEST_CASE("timeline: fd_lane is the fd's latest binding, whichever lane came first",
          "[timeline]") {
  // peer#2's lane is made after peer#1's, but the fd is bound to it first: fd 5 goes to
  // peer#2 (accepted by its address: a delayed SYN lets a later peer in first), is closed,
  // then goes to peer#1.
  const std::vector<std::string> trace = {
      "[      0.001ms] socket(AF_INET, SOCK_STREAM, 0) = 3",
      "[      0.002ms] listen(3, 1024) = 0",
      "[      0.003ms] peer#1: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32768)",
      "[      0.004ms] peer#2: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32769)",
      "[      0.004ms] peer#3: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32770)",
      "[      0.005ms] accept4(3, {sa_family=AF_INET, sin_port=htons(32769), "
      "sin_addr=inet_addr(\"127.0.0.1\")}, [...], 0) = 5",
      "[      0.006ms] close(5) = 0",
      "[      0.007ms] accept4(3, {sa_family=AF_INET, sin_port=htons(32768), "
      "sin_addr=inet_addr(\"127.0.0.1\")}, [...], 0) = 5",
      "[      0.008ms] pipe2([6, 7], 0) = 0",
      "[      0.009ms] close(6) = 0",
      "[      0.010ms] close(7) = 0",
      "[      0.011ms] accept4(3, {sa_family=AF_INET, sin_port=htons(32770), "
      "sin_addr=inet_addr(\"127.0.0.1\")}, [...], 0) = 6",
  };
  const Model m = build_model(trace);
  REQUIRE(m.marks.size() == trace.size());
  REQUIRE(m.peer_lane(1) != nullptr);
  CHECK(m.fd_lane(5) == m.peer_lane(1));
  CHECK(m.fd_lane(5)->name == "peer#1 :32768 <-> fd 5");
  // fd 6 was the pipe's (a lane made after peer#3's), closed, then peer#3's.
  CHECK(m.fd_lane(6) == m.peer_lane(3));
  CHECK(m.fd_lane(7)->kind == LaneKind::pipe);
}

TEST_CASE("timeline: byte ranges of sends, segments, reads, writes and receives", "[timeline]") {
  const Model m = build_model(kTrace);
  const auto range = [&](std::string_view text) {
    const Mark& k = mark_of(m, text);
    return std::pair(k.from, k.to);
  };
  using R = std::pair<int64_t, int64_t>;
  CHECK(mark_of(m, "peer#1: send 100").kind == MarkKind::send);
  CHECK(range("peer#1: send 100") == R{0, 100});
  CHECK(mark_of(m, "seq 1:61").kind == MarkKind::seg_in);
  CHECK(range("seq 1:61") == R{0, 60});
  CHECK(range("seq 61:101") == R{60, 100});
  CHECK(mark_of(m, "read(5, \"abc\"..., 4096) = 70").kind == MarkKind::read);
  CHECK(range("read(5, \"abc\"..., 4096) = 70") == R{0, 70});
  CHECK(range("read(5, \"abc\"..., 4096) = 30") == R{70, 100});
  CHECK(mark_of(m, "write(5").kind == MarkKind::write);
  CHECK(range("write(5") == R{0, 100});
  CHECK(mark_of(m, "seq 1:101").kind == MarkKind::seg_out);
  CHECK(range("seq 1:101") == R{0, 100});
  CHECK(mark_of(m, "peer#1: recv = 100").kind == MarkKind::recv);
  CHECK(range("peer#1: recv = 100") == R{0, 100});
  // Segments without data, and everything else, move no bytes.
  CHECK(mark_of(m, "Flags [S.], seq 0, ack 1, win 65536, length 0").kind == MarkKind::net);
  CHECK(range("Flags [S.], seq 0, ack 1, win 65536, length 0") == R{kNoByte, kNoByte});
  CHECK(range("epoll_wait(4, [{events=EPOLLIN, data.ptr") == R{kNoByte, kNoByte});
  CHECK(range("read(5, 0x...") == R{kNoByte, kNoByte});
  const Lane& c1 = m.lanes[lane_named(m, "peer#1 :32768 <-> fd 5")];
  CHECK(c1.segments_in == 2);
  CHECK(c1.messages == std::vector<std::pair<uint64_t, uint64_t>>{{0, 100}});
}

TEST_CASE("timeline: a call's arguments are counted past quoted data holding commas",
          "[timeline]") {
  // The sizes asked for tell the story's "its last read asked for" and "the last write was
  // short": data quoted in the line may hold ", ", ") = " and braces.
  const std::vector<std::string> trace = {
      "[      0.001ms] peer#1: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32768)",
      "[      0.002ms] accept4(3, {sa_family=AF_INET, sin_port=htons(32768), "
      "sin_addr=inet_addr(\"127.0.0.1\")}, [...], 0) = 5",
      "[      0.003ms] read(5, \"hello, {world}, [1, 2]\\\", x) = 7\"..., 4096) = 30",
      "[      0.004ms] write(5, \"hello, world\", 100) = 12",
  };
  const Model m = build_model(trace);
  REQUIRE(m.fd_lane(5) != nullptr);
  const Lane& c = *m.fd_lane(5);
  CHECK(c.read == 30);
  CHECK(c.last_read_asked == 4096);
  CHECK(c.written == 12);
  CHECK(c.last_write_done == 12);
  CHECK(c.last_write_asked == 100);
}

TEST_CASE("timeline: a peer's failed send or recv is labelled with its errno", "[timeline]") {
  const std::vector<std::string> trace = {
      "[      0.001ms] peer#1: send 10 = -1 EAGAIN (0/10)",
      "[      0.002ms] peer#1: send 10 = -1 EPIPE (0/10)",
      "[      0.003ms] peer#1: recv = -1 ECONNRESET (0/10)",
      "[      0.004ms] peer#1: recv = -1 EAGAIN (0/10)",
      "[      0.005ms] peer#1: recv = 0 (0/10)",
      "[      0.006ms] peer#1: recv (a line cut short)",
      "[      0.007ms] peer#1: send (a line cut short)",
  };
  const Model m = build_model(trace);
  REQUIRE(m.marks.size() == trace.size());
  std::vector<std::string> labels;
  for (const Mark& k : m.marks) {
    CHECK(k.kind == MarkKind::peer);
    labels.push_back(k.label);
  }
  CHECK(labels == std::vector<std::string>{"send EAGAIN", "send EPIPE", "recv ECONNRESET",
                                           "recv EAGAIN", "recv EOF", "recv ?", "send ?"});
  CHECK(m.peer_lane(1)->sent == 0);
  CHECK(m.peer_lane(1)->received == 0);
}

TEST_CASE("timeline: queued bytes in and out, queued connections", "[timeline]") {
  const Model m = build_model(kTrace);
  const uint32_t c1 = lane_named(m, "peer#1 :32768 <-> fd 5");
  CHECK(points(m, c1, true) == std::vector<TV>{{us(11), 100}, {us(16), 30}, {us(17), 0}});
  CHECK(points(m, c1, false) == std::vector<TV>{{us(11), 0}, {us(19), 100}, {us(20), 0}});
  const uint32_t pipe = lane_named(m, "pipe2 fds 6,7");
  CHECK(points(m, pipe, true) == std::vector<TV>{{us(22), 2}, {us(23), 0}});
  // The accept queue: SYN-ACKs in, accept4 out, and the aborted connection out with its fault.
  const uint32_t listener = lane_named(m, "listener fd 3 :6888");
  CHECK(points(m, listener, true) == std::vector<TV>{{us(10), 1}, {us(13), 0}, {us(30), 1},
                                                        {us(31), 2}, {us(32), 3}, {us(33), 2},
                                                        {us(34), 1}, {us(35), 0}});
  CHECK(m.lanes[listener].aborted == 1);
  CHECK(m.lanes[listener].accepted == 3);
}

TEST_CASE("timeline: queue changes at one instant stay apart, each at its trace line",
          "[timeline]") {
  const std::vector<std::string> trace = {
      "[      0.001ms] peer#1: connect(4, 127.0.0.1:6888) = -1 EINPROGRESS (from port 32768)",
      "[      0.002ms] accept4(3, {sa_family=AF_INET, sin_port=htons(32768), "
      "sin_addr=inet_addr(\"127.0.0.1\")}, [...], 0) = 5",
      "[      0.003ms] peer#1: send 5 = 5 (5/5)",
      "[      0.004ms] read(5, \"hello\", 16) = 5",
      "[      0.005ms] write(5, \"hello\", 5) = 5",
      "[      0.005ms] peer#1: recv = 5 (5/5)",
  };
  const Model m = build_model(trace);
  const uint32_t c = m.index(*m.peer_lane(1));
  CHECK(points(m, c, true) == std::vector<TV>{{us(3), 5}, {us(4), 0}});
  CHECK(point_lines(m, c, true) == std::vector<size_t>{2, 3});
  // Written and received within 0.005 ms: the trace-order axis still draws the 5 bytes.
  CHECK(points(m, c, false) == std::vector<TV>{{us(3), 0}, {us(5), 5}, {us(5), 0}});
  CHECK(point_lines(m, c, false) == std::vector<size_t>{2, 4, 5});
}

TEST_CASE("timeline: interest spans from ADD, MOD, DEL, close and EPOLLONESHOT", "[timeline]") {
  const Model m = build_model(kTrace);
  const uint32_t c1 = lane_named(m, "peer#1 :32768 <-> fd 5");
  CHECK(spans(m, c1) == std::vector<Span>{{us(14), us(15), "EPOLLIN|EPOLLONESHOT"},
                                          {us(15), us(21), "disarmed (EPOLLONESHOT)"},
                                          {us(21), us(24), "EPOLLIN|EPOLLOUT"}});
  const uint32_t listener = lane_named(m, "listener fd 3 :6888");
  CHECK(spans(m, listener) == std::vector<Span>{{us(5), us(38), "EPOLLIN"}});
  CHECK(m.final_interest(listener).empty());
  // Still registered at the end: the span reaches the end.
  const uint32_t c2 = lane_named(m, "peer#2 :32769 <-> fd 5");
  CHECK(spans(m, c2) == std::vector<Span>{{us(36), us(40), "EPOLLIN|EPOLLET"}});
  CHECK(m.final_interest(c2) == "EPOLLIN|EPOLLET");
  CHECK(mark_of(m, "EPOLL_CTL_MOD").kind == MarkKind::ctl);
  CHECK(mark_of(m, "EPOLL_CTL_MOD").label == "MOD EPOLLIN|EPOLLOUT");
  CHECK(mark_of(m, "EPOLL_CTL_DEL").label == "DEL");
}

TEST_CASE("timeline: delivered events are mapped to lanes through epoll_data", "[timeline]") {
  const Model m = build_model(kTrace);
  const uint32_t listener = lane_named(m, "listener fd 3 :6888");
  const uint32_t c1 = lane_named(m, "peer#1 :32768 <-> fd 5");
  const uint32_t c2 = lane_named(m, "peer#2 :32769 <-> fd 5");
  const uint32_t pipe = lane_named(m, "pipe2 fds 6,7");
  REQUIRE(m.events.size() == 4);
  // data.u64=3: the listener.
  CHECK(m.events[0].line == line_of(kTrace, "epoll_wait(4, [{events=EPOLLIN, data.u64=3}]"));
  CHECK(m.events[0].lane == listener);
  CHECK(m.events[0].mask == "EPOLLIN");
  // data.ptr=ptr#1: peer#1's connection.
  CHECK(m.events[1].line == line_of(kTrace, "data.ptr=ptr#1}], 8"));
  CHECK(m.events[1].lane == c1);
  CHECK(m.events[1].t == us(15));
  // data.ptr=ptr#2: the pipe's read end, registered after ptr#1.
  CHECK(m.events[2].lane == pipe);
  CHECK(m.events[2].line == line_of(kTrace, "data.ptr=ptr#2}], 8"));
  // data.u64=5 after fd 5 was reused: the new connection, not the closed one.
  CHECK(m.events[3].lane == c2);
  CHECK(m.events[3].mask == "EPOLLIN|EPOLLRDHUP");
  CHECK(m.lanes[c1].events == 1);
  CHECK(m.lanes[c1].last_event_mask == "EPOLLIN");
}

TEST_CASE("timeline: accept4 without an address takes the oldest handshaken connection, "
          "not one reset before it",
          "[timeline]") {
  const Model m = build_model(kTrace);
  REQUIRE(m.peer_lane(2) != nullptr);
  REQUIRE(m.peer_lane(3) != nullptr);
  REQUIRE(m.peer_lane(4) != nullptr);
  CHECK(m.peer_lane(2)->fds == std::vector<int>{5});
  CHECK(m.peer_lane(3)->fds.empty());  // reset before it was accepted
  CHECK(m.peer_lane(4)->fds == std::vector<int>{8});
  CHECK(m.peer_lane(4)->name == "peer#4 :32771 <-> fd 8");
  CHECK(m.fd_lane(8) == m.peer_lane(4));
}

TEST_CASE("timeline: stamp_time reads the trace's stamps", "[timeline]") {
  using edgecase::timeline::stamp_text;
  CHECK(stamp_time("[      0.018ms] x") == 18'000);
  CHECK(stamp_time("[      0.000ms] case: ...") == 0);
  CHECK(stamp_time("[  60000.000ms] end") == 60'000'000'000);
  CHECK(stamp_time("[     12.345ms] x") == 12'345'000);
  CHECK(stamp_time("[1.5ms] x") == 1'500'000);
  CHECK(stamp_time("[2.123456789ms] x") == 2'123'456);  // below a nanosecond: dropped
  CHECK(stamp_time("[3ms] x") == 3'000'000);
  CHECK(stamp_time("no stamp") == 0);
  CHECK(stamp_time("") == 0);
  CHECK(stamp_time("[garbage] x") == 0);
  CHECK(stamp_text("[      0.018ms] read(5) = 1") == "read(5) = 1");
  CHECK(stamp_text("no stamp") == "no stamp");
}

namespace {

// The case `edgecase demo` finds seed 002's lost read event with (its generated seed 3).
constexpr std::string_view kSeed002LostReadEvent = R"(edgecase-case 1
kit 0.1.0
handler seed002
protocol echo
listen 127.0.0.1 6888
seed 0x0000000000000003
fault split off 0
fault coalesce off 0
fault delay off 0
fault small-buffers off 0
fault short-write off 0
fault eintr off 0
fault accept-abort off 0
fault fd-limit off 0
fault half-close off 0
fault peer-reset off 0
fault slow-reader off 0
peer start 0
  connect
  send 10241
  expect 10241
  close
end
end-case
)";

bool any_holds(const std::vector<std::string>& lines, std::string_view text) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(text) != std::string::npos; });
}

}  // namespace

TEST_CASE("timeline: explain() tells seed 002's lost read event in plain words", "[timeline]") {
  const auto parsed = edgecase::parse_case(kSeed002LostReadEvent);
  if (const auto* e = std::get_if<edgecase::CaseError>(&parsed)) FAIL(e->message);
  const edgecase::Timeline t =
      edgecase::record_timeline(std::get<edgecase::Case>(parsed), edgecase::handlers::with_builtins());
  REQUIRE(t.report.found(edgecase::oracle::kLostReadEvent));
  REQUIRE(!t.trace.empty());
  const std::vector<std::string> story = edgecase::explain(t);
  INFO(fmt::format("{}", fmt::join(story, "\n")));
  CHECK(any_holds(story, "peer#1 sent 10,241 bytes (bytes 0-10240) in one segment"));
  CHECK(any_holds(story, "The server holds 1 unread byte (byte 10240) on fd 5"));
  CHECK(any_holds(story, "registered EPOLLIN|EPOLLET; no event is pending"));
  CHECK(any_holds(story, "edge-triggered"));
  CHECK(any_holds(story, "epoll reported EPOLLIN for fd 5 once, at 0.015 ms"));
  CHECK(t.report.story == story);
  // A clean run says so, with what was moved.
  edgecase::Timeline clean = t;
  clean.report.violations.clear();
  const std::vector<std::string> quiet = edgecase::explain(clean);
  REQUIRE(quiet.size() == 1);
  CHECK(quiet[0] == "1 connection: the peers sent 10,241 bytes; the server read 10,240 bytes "
                    "and wrote 10,240 bytes.");
}

TEST_CASE("timeline: the HTML data and the Perfetto JSON of a run parse, every line once",
          "[timeline]") {
  const auto parsed = edgecase::parse_case(kSeed002LostReadEvent);
  REQUIRE(std::holds_alternative<edgecase::Case>(parsed));
  const edgecase::Timeline t =
      edgecase::record_timeline(std::get<edgecase::Case>(parsed), edgecase::handlers::with_builtins());
  const std::string page = edgecase::timeline_html(t);
  const std::string open = "<script type=\"application/json\" id=\"edgecase-data\">";
  const size_t from = page.find(open);
  REQUIRE(from != std::string::npos);
  const size_t to = page.find("</script>", from);
  REQUIRE(to != std::string::npos);
  std::string data = page.substr(from + open.size(), to - from - open.size());
  const auto j = nlohmann::json::parse(data);  // "<\/" is JSON's own escape of "/"
  CHECK(j["lines"].get<std::vector<std::string>>() == t.trace);
  CHECK(j["marks"].size() == t.trace.size());
  REQUIRE(j["violations"].size() == 1);
  CHECK(j["violations"][0]["at"] == 18'000);
  CHECK(j["violations"][0]["line"] == t.trace.size() - 1);

  const auto p = nlohmann::json::parse(edgecase::timeline_perfetto(t));
  size_t instants = 0, global = 0, delivered = 0;
  for (const auto& e : p["traceEvents"]) {
    const std::string ph = e.value("ph", ""), scope = e.value("s", "");
    if (ph == "i" && e.value("cat", "") == "event") {  // an event epoll delivered, on its fd
      CHECK(e["name"] == "EPOLLIN");
      ++delivered;
      continue;
    }
    if (ph == "i" && scope == "t") {
      CHECK(e["args"]["line"] == t.trace[instants]);
      ++instants;
    }
    if (ph == "i" && scope == "g") {
      ++global;
      CHECK(e["ts"].get<double>() == Approx(18.0));
    }
  }
  CHECK(instants == t.trace.size());
  CHECK(global == 1);
  CHECK(delivered == 2);  // the listener's EPOLLIN, then fd 5's
}

TEST_CASE("timeline: JsonText writes commas, escapes and valid UTF-8", "[timeline]") {
  JsonText j;
  j.begin_object();
  j.key("a").number(1);
  j.key("b").begin_array().number(-2).thousandths(1500).thousandths(-7).end_array();
  j.key("q\"k").string("say \"hi\" \\ \n\t\x01\x1f end");
  j.key("u").string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");  // valid: copied
  j.key("bad").string("a\xff" "b\x80" "c\xc0\xaf" "d\xe2\x82");    // invalid: U+FFFD each
  j.key("empty").begin_array().end_array();
  j.end_object();
  const std::string text = j.take();
  CHECK(text ==
        "{\"a\":1,\"b\":[-2,1.500,-0.007],\"q\\\"k\":\"say \\\"hi\\\" \\\\ \\u000a\\u0009"
        "\\u0001\\u001f end\",\"u\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\","
        "\"bad\":\"a\\ufffdb\\ufffdc\\ufffd\\ufffdd\\ufffd\\ufffd\",\"empty\":[]}");
  const auto parsed = nlohmann::json::parse(text);
  CHECK(parsed["q\"k"] == "say \"hi\" \\ \n\t\x01\x1f end");
  CHECK(parsed["u"] == "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK(parsed["b"][1].get<double>() == Approx(1.5));
}

TEST_CASE("timeline: JsonText never writes bytes a JSON parser rejects as UTF-8", "[timeline]") {
  // Lead bytes beyond U+10FFFF (0xf5-0xff) followed by continuation bytes, UTF-16 surrogates
  // (0xed 0xa0-0xbf), overlong forms (0xe0 0x80-0x9f, 0xf0 0x80-0x8f) and 0xf4 beyond U+10FFFF:
  // none is UTF-8 (RFC 3629), each must become U+FFFD.
  const std::vector<std::string> invalid = {
      "\xf8\x88\x80\x80", "\xff\x80\x80", "\xed\xa0\x80", "\xe0\x80\x80",
      "\xf0\x80\x80\x80", "\xf4\x90\x80\x80", "\xfe\xbf\xbf"};
  for (const std::string& s : invalid) {
    JsonText j;
    j.string(s);
    const std::string text = j.take();
    INFO("text: " << text);
    CHECK(text.find("\\ufffd") != std::string::npos);
    nlohmann::json parsed;
    CHECK_NOTHROW(parsed = nlohmann::json::parse(text));
  }
  // The largest code point and the last before the surrogates are valid: copied.
  for (const std::string s : {"\xf4\x8f\xbf\xbf", "\xed\x9f\xbf", "\xef\xbf\xbf"}) {
    JsonText j;
    j.string(s);
    CHECK(j.take() == "\"" + s + "\"");
  }
}
