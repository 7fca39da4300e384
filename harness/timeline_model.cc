// Reads a trace into a timeline (harness/timeline_model.h). Each line is one of: the case's
// header, a fault, a segment (`net:`), a peer's action (`peer#N:`), a handler's call in strace
// form, or the run's end; each becomes one mark on one lane.
#include "harness/timeline_model.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <charconv>
#include <deque>
#include <fmt/format.h>
#include <map>
#include <optional>

namespace edgecase::timeline {

std::string_view lane_kind_name(LaneKind k) {
  switch (k) {
    case LaneKind::world: return "world";
    case LaneKind::handler: return "handler";
    case LaneKind::listener: return "listener";
    case LaneKind::connection: return "connection";
    case LaneKind::epoll: return "epoll";
    case LaneKind::pipe: return "pipe";
    case LaneKind::other: return "other";
  }
  return "other";
}

std::string_view mark_kind_name(MarkKind k) {
  constexpr std::string_view kNames[] = {"send",  "recv",  "peer",   "seg-in", "seg-out",
                                         "net",   "wait",  "ctl",    "read",   "write",
                                         "eagain", "error", "call",  "fault",  "info"};
  return kNames[static_cast<size_t>(k)];
}

const Lane* Model::peer_lane(uint32_t peer) const {
  for (size_t i = lanes.size(); i-- > 0;)
    if (lanes[i].kind == LaneKind::connection && lanes[i].peer == peer) return &lanes[i];
  return nullptr;
}

const Lane* Model::fd_lane(int fd) const {
  const auto it = last_lane_of_fd.find(fd);
  return it == last_lane_of_fd.end() ? nullptr : &lanes[it->second];
}

std::string Model::final_interest(uint32_t l) const {
  for (const Interest& i : interest)
    if (i.lane == l && !i.spans.empty() && i.spans.back().to >= end) return i.spans.back().mask;
  return {};
}

namespace {

std::optional<int64_t> to_int(std::string_view s) {
  int64_t v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (ec != std::errc{} || p == s.data()) return std::nullopt;
  return v;
}

// The integer right after `key` in `s` (e.g. key "sin_port=htons("), if any.
std::optional<int64_t> int_after(std::string_view s, std::string_view key) {
  const size_t at = s.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  return to_int(s.substr(at + key.size()));
}

bool starts(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

// A handler's call: "name(args) = result".
struct Call {
  std::string_view name, args;
  std::optional<int64_t> result;  // the return value, when it is a number
  std::string_view error;         // "EAGAIN" when the result is "-1 EAGAIN"
  // The n-th argument (0-based) as a number, when it is one. Arguments are split at the
  // commas outside quoted data (strace's "...", with \" and \\ escapes), braces and brackets:
  // a buffer's bytes may hold ", " ("read(5, \"a, b\"..., 4096)").
  std::optional<int64_t> arg(size_t n) const {
    size_t index = 0, from = 0;
    int depth = 0;
    bool quoted = false;
    for (size_t i = 0; i < args.size() && index < n; ++i) {
      const char ch = args[i];
      if (quoted) {
        if (ch == '\\') ++i;
        else if (ch == '"') quoted = false;
      } else if (ch == '"') {
        quoted = true;
      } else if (ch == '{' || ch == '[') {
        ++depth;
      } else if (ch == '}' || ch == ']') {
        --depth;
      } else if (ch == ',' && depth == 0) {
        ++index;
        from = i + 1;
      }
    }
    if (index < n) return std::nullopt;
    std::string_view a = args.substr(from);
    while (!a.empty() && a.front() == ' ') a.remove_prefix(1);
    return to_int(a);
  }
};

std::optional<Call> parse_call(std::string_view text) {
  const size_t open = text.find('(');
  if (open == 0 || open == std::string_view::npos) return std::nullopt;
  for (char c : text.substr(0, open))
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return std::nullopt;
  const size_t eq = text.rfind(") = ");
  if (eq == std::string_view::npos || eq < open) return std::nullopt;
  Call c{text.substr(0, open), text.substr(open + 1, eq - open - 1), std::nullopt, {}};
  std::string_view r = text.substr(eq + 4);
  c.result = to_int(r);
  if (starts(r, "-1 ")) c.error = r.substr(3, r.find(' ', 3) - 3);
  return c;
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names)
    if (n == name) return true;
  return false;
}

class Builder {
 public:
  Model model;

  Builder() { new_lane(LaneKind::world, "world", "the case, faults of no fd, the run's end"); }

  void line(std::string_view full) {
    const Nanos t = stamp_time(full);
    const std::string_view text = stamp_text(full);
    t_ = std::max(t_, t);
    mark_ = Mark{t_, 0, MarkKind::info, {}, kNoByte, kNoByte};
    if (starts(text, "net: ")) segment(text.substr(5));
    else if (starts(text, "peer#")) peer_line(text);
    else if (starts(text, "fault: ") || starts(text, "signal: ")) fault(text);
    else if (auto c = parse_call(text)) call(*c);
    else info(text);
    model.marks.push_back(std::move(mark_));
  }

  Model finish() {
    model.end = t_;
    for (Interest& i : model.interest)
      if (!i.spans.empty() && i.spans.back().to < 0) i.spans.back().to = t_;
    order_lanes();
    return std::move(model);
  }

 private:
  // Lanes in the order a reader looks for them, whatever order the trace met them in (a peer
  // fault announced at set-up comes before the server's first call): the world, the handler's
  // calls on no fd, listeners, epoll instances, connections, pipes, other fds; within a kind,
  // as they appeared. Every index into the lanes is renumbered.
  void order_lanes() {
    std::vector<uint32_t> order(model.lanes.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [this](uint32_t a, uint32_t b) {
      return model.lanes[a].kind < model.lanes[b].kind;
    });
    std::vector<uint32_t> renumber(order.size());
    std::vector<Lane> lanes;
    lanes.reserve(order.size());
    for (uint32_t i = 0; i < order.size(); ++i) {
      renumber[order[i]] = i;
      lanes.push_back(std::move(model.lanes[order[i]]));
    }
    model.lanes = std::move(lanes);
    for (Mark& m : model.marks) m.lane = renumber[m.lane];
    for (Queue& q : model.queues) q.lane = renumber[q.lane];
    for (Interest& i : model.interest) i.lane = renumber[i.lane];
    for (Delivered& d : model.events) d.lane = renumber[d.lane];
    for (auto& [fd, lane] : model.last_lane_of_fd) lane = renumber[lane];
    assert(model.lanes.front().kind == LaneKind::world);
  }

  uint32_t new_lane(LaneKind k, std::string name, std::string detail = {}) {
    model.lanes.push_back(Lane{});
    Lane& l = model.lanes.back();
    l.kind = k;
    l.name = std::move(name);
    l.detail = std::move(detail);
    return static_cast<uint32_t>(model.lanes.size() - 1);
  }
  Lane& lane(uint32_t i) { return model.lanes[i]; }

  void put(uint32_t lane_index, MarkKind k, std::string label, int64_t from = kNoByte,
           int64_t to = kNoByte) {
    mark_.lane = lane_index;
    mark_.kind = k;
    mark_.label = std::move(label);
    mark_.from = from;
    mark_.to = to;
  }

  void info(std::string_view text) {
    put(0, MarkKind::info, std::string(text.substr(0, text.find_first_of(":("))));
  }

  // ---- the handler's fds ---------------------------------------------------------------
  void bind_fd(int fd, uint32_t l) {
    fds_[fd] = l;
    model.last_lane_of_fd[fd] = l;
    lane(l).fds.push_back(fd);
    if (lane(l).kind == LaneKind::connection) rename_connection(l);
  }
  std::optional<uint32_t> lane_of_fd(int64_t fd) const {
    auto it = fds_.find(static_cast<int>(fd));
    if (it == fds_.end()) return std::nullopt;
    return it->second;
  }
  uint32_t fd_lane_or_new(int64_t fd, LaneKind k, std::string_view what) {
    if (auto l = lane_of_fd(fd)) return *l;
    const uint32_t l = new_lane(k, fmt::format("{} fd {}", what, fd));
    bind_fd(static_cast<int>(fd), l);
    return l;
  }
  void rename_connection(uint32_t l) {
    Lane& c = lane(l);
    c.name = c.peer ? fmt::format("peer#{}", c.peer) : std::string("connection");
    if (c.port) c.name += fmt::format(" :{}", c.port);
    if (!c.fds.empty()) c.name += fmt::format(" <-> fd {}", c.fds.back());
  }

  // ---- queued bytes ----------------------------------------------------------------------
  void queue_point(uint32_t l, bool in, uint64_t value, std::string_view unit = "B") {
    auto key = std::pair(l, in);
    auto it = queues_.find(key);
    if (it == queues_.end()) {
      model.queues.push_back(Queue{l, in, std::string(unit), {}});
      it = queues_.emplace(key, model.queues.size() - 1).first;
    }
    std::vector<Point>& p = model.queues[it->second].points;
    if (!p.empty() && p.back().value == value) return;
    // Several changes at one virtual time stay apart: the trace-order axis draws each at its
    // line (the time axis draws them as one step).
    p.push_back(Point{t_, value, model.marks.size()});
  }
  void stream_points(uint32_t l) {
    const Lane& c = lane(l);
    queue_point(l, true, c.sent >= c.read ? c.sent - c.read : 0);
    if (c.kind == LaneKind::connection)
      queue_point(l, false, c.written >= c.received ? c.written - c.received : 0);
  }

  // ---- segments ----------------------------------------------------------------------------
  // "127.0.0.1.32768 > 127.0.0.1.6888: Flags [P.], seq 1:10242, ack 1, win 65536, length 10241"
  static uint16_t port_of(std::string_view endpoint) {
    const size_t dot = endpoint.rfind('.');
    auto v = to_int(endpoint.substr(dot + 1));
    return v ? static_cast<uint16_t>(*v) : 0;
  }
  void segment(std::string_view s) {
    const size_t gt = s.find(" > ");
    const size_t colon = s.find(": ", gt);
    if (gt == std::string_view::npos || colon == std::string_view::npos) return info(s);
    const uint16_t src = port_of(s.substr(0, gt));
    const uint16_t dst = port_of(s.substr(gt + 3, colon - gt - 3));
    bool in = true;
    auto it = ports_.find(src);
    if (it == ports_.end()) {
      it = ports_.find(dst);
      in = false;
    }
    const std::string_view flags = s.substr(s.find('[') + 1, s.find(']') - s.find('[') - 1);
    const uint32_t l = it == ports_.end() ? 0 : it->second;
    const int64_t length = int_after(s, "length ").value_or(0);
    if (length > 0) {
      const int64_t from = int_after(s, "seq ").value_or(1) - 1;
      put(l, in ? MarkKind::seg_in : MarkKind::seg_out, fmt::format("{} B", length), from,
          from + length);
      if (in && l != 0) {
        Lane& c = lane(l);
        ++c.segments_in;
        if (c.first_segment_in < 0) c.first_segment_in = t_;
        c.last_segment_in = t_;
      }
      return;
    }
    put(l, MarkKind::net, segment_name(flags));
    // The server's SYN-ACK: the connection waits in the listener's accept queue.
    if (!in && flags == "S." && l != 0) {
      accept_queue_.push_back(l);
      listener_queue_changed(+1);
    }
  }
  static std::string segment_name(std::string_view flags) {
    if (flags == "S") return "SYN";
    if (flags == "S.") return "SYN-ACK";
    if (flags == ".") return "ACK";
    if (flags.find('F') != std::string_view::npos) return "FIN";
    if (flags.find('R') != std::string_view::npos) return "RST";
    return std::string(flags);
  }
  void listener_queue_changed(int delta) {
    if (!listener_) return;
    Lane& l = lane(*listener_);
    l.queued_connections = static_cast<uint32_t>(static_cast<int>(l.queued_connections) + delta);
    queue_point(*listener_, true, l.queued_connections, "connections");
  }

  // ---- peers -------------------------------------------------------------------------------
  void peer_line(std::string_view text) {
    const size_t colon = text.find(": ");
    const auto n = to_int(text.substr(5));
    if (!n || colon == std::string_view::npos) return info(text);
    const auto peer = static_cast<uint32_t>(*n);
    const std::string_view what = text.substr(colon + 2);
    uint32_t l = peer_lane(peer, starts(what, "socket("));
    Lane& c = lane(l);
    if (starts(what, "connect(")) {
      if (auto port = int_after(what, "(from port ")) {
        c.port = static_cast<uint16_t>(*port);
        ports_[c.port] = l;
        rename_connection(l);
      }
      return put(l, MarkKind::peer, "connect");
    }
    if (starts(what, "send ")) return peer_send(l, what);
    if (starts(what, "recv ")) return peer_recv(l, what);
    if (starts(what, "shutdown(") && c.peer_shutdown < 0) c.peer_shutdown = t_;
    put(l, MarkKind::peer, std::string(what.substr(0, what.find_first_of(" ("))));
  }
  // The peer's current connection lane; a new one when it opens a socket after connecting.
  uint32_t peer_lane(uint32_t peer, bool opens_socket) {
    auto it = peers_.find(peer);
    if (it != peers_.end() && !(opens_socket && lane(it->second).port != 0)) return it->second;
    const uint32_t l = new_lane(LaneKind::connection, fmt::format("peer#{}", peer));
    lane(l).peer = peer;
    peers_[peer] = l;
    return l;
  }
  // The result of a peer's "send N = R (...)" or "recv = R (...)"; none in a line cut short.
  static std::optional<int64_t> peer_result(std::string_view what) {
    const size_t eq = what.find(" = ");
    if (eq == std::string_view::npos) return std::nullopt;
    return to_int(what.substr(eq + 3));
  }
  // "recv ECONNRESET" for "recv = -1 ECONNRESET (0/10)"; "recv ?" when the line says no errno.
  static std::string failed_label(std::string_view verb, std::string_view what) {
    const size_t at = what.find(" = -1 ");
    if (at == std::string_view::npos) return fmt::format("{} ?", verb);
    const std::string_view e = what.substr(at + 6);
    return fmt::format("{} {}", verb, e.substr(0, e.find(' ')));
  }
  // "send 10241 = 10241 (10241/10241)": the step's progress says where its message ends.
  void peer_send(uint32_t l, std::string_view what) {
    const auto r = peer_result(what);
    Lane& c = lane(l);
    if (!r || *r < 0) return put(l, MarkKind::peer, failed_label("send", what));
    const uint64_t from = c.sent;
    c.sent += static_cast<uint64_t>(*r);
    ++c.sends;
    const size_t open = std::min(what.rfind('('), what.size());
    const auto done = open < what.size() ? to_int(what.substr(open + 1)) : std::nullopt;
    const auto total = int_after(what.substr(open), "/");
    if (done && total && *done == *total) {
      const uint64_t start = c.messages.empty() ? 0 : c.messages.back().second;
      c.messages.emplace_back(start, c.sent);
    }
    put(l, MarkKind::send, fmt::format("send {}", *r), static_cast<int64_t>(from),
        static_cast<int64_t>(c.sent));
    stream_points(l);
  }
  void peer_recv(uint32_t l, std::string_view what) {
    const auto r = peer_result(what);
    Lane& c = lane(l);
    if (r == 0) return put(l, MarkKind::peer, "recv EOF");
    if (!r || *r < 0) return put(l, MarkKind::peer, failed_label("recv", what));
    const uint64_t from = c.received;
    c.received += static_cast<uint64_t>(*r);
    put(l, MarkKind::recv, fmt::format("recv {}", *r), static_cast<int64_t>(from),
        static_cast<int64_t>(c.received));
    stream_points(l);
  }

  // ---- faults ------------------------------------------------------------------------------
  void fault(std::string_view text) {
    uint32_t l = 0;
    if (auto p = int_after(text, "peer#")) l = peer_lane(static_cast<uint32_t>(*p), false);
    else if (auto fd = int_after(text.substr(text.find('(') == std::string_view::npos
                                                  ? text.size()
                                                  : text.find('(')),
                                 "("))
      l = lane_of_fd(*fd).value_or(0);
    const size_t a = text.find(": ");
    std::string_view name = text.substr(a + 2);
    name = name.substr(0, name.find(':'));
    if (starts(text, "signal: ")) name = "EINTR";
    if (name == "accept-abort") drop_aborted(text);
    put(l, MarkKind::fault, std::string(name));
  }
  // "accept4(3) connection from 127.0.0.1:32768 reset": it leaves the accept queue.
  void drop_aborted(std::string_view text) {
    const size_t from = text.find("connection from ");
    if (from == std::string_view::npos) return;
    const std::string_view addr = text.substr(from + 16);
    const auto port = to_int(addr.substr(addr.find(':') + 1));
    if (!port) return;
    auto it = ports_.find(static_cast<uint16_t>(*port));
    if (it == ports_.end()) return;
    for (auto q = accept_queue_.begin(); q != accept_queue_.end(); ++q)
      if (*q == it->second) {
        accept_queue_.erase(q);
        listener_queue_changed(-1);
        if (listener_) ++lane(*listener_).aborted;
        return;
      }
  }

  // ---- the handler's calls ---------------------------------------------------------------
  void call(const Call& c) {
    const std::string_view n = c.name;
    if (one_of(n, {"epoll_create", "epoll_create1"}) && c.result && *c.result >= 0) {
      const uint32_t l = new_lane(LaneKind::epoll, fmt::format("epoll fd {}", *c.result));
      bind_fd(static_cast<int>(*c.result), l);
      return put(l, MarkKind::call, std::string(n));
    }
    if (one_of(n, {"epoll_wait", "epoll_pwait"})) return epoll_wait(c);
    if (n == "epoll_ctl") return epoll_ctl(c);
    if (one_of(n, {"accept", "accept4"})) return accept(c);
    if (one_of(n, {"pipe", "pipe2", "socketpair"})) return pair(c);
    if (one_of(n, {"dup", "dup2", "dup3"}) || (n == "fcntl" && c.args.find("F_DUPFD") !=
                                                                   std::string_view::npos))
      return dup(c);
    const auto fd = c.arg(0);
    if (!fd || !lane_of_fd(*fd)) return new_fd_call(c);
    const uint32_t l = *lane_of_fd(*fd);
    if (one_of(n, {"read", "recvfrom", "recv", "readv", "recvmsg"})) return read(l, c);
    if (one_of(n, {"write", "sendto", "send", "writev", "sendmsg"})) return write(l, c);
    if (n == "listen") {
      lane(l).kind = LaneKind::listener;
      lane(l).name = fmt::format("listener fd {}", *fd);
      if (lane(l).port) lane(l).name += fmt::format(" :{}", lane(l).port);
      listener_ = l;
      model.listen_port = lane(l).port;
    }
    if (n == "bind") {
      if (auto port = int_after(c.args, "htons(")) lane(l).port = static_cast<uint16_t>(*port);
    }
    result_mark(l, c);
    if (n == "close" && c.result == 0) close_fd(static_cast<int>(*fd));
  }

  // A call on an fd no lane knows: a new fd (socket, eventfd, timerfd, open) gets a lane;
  // the rest go on the handler's lane.
  void new_fd_call(const Call& c) {
    const bool makes_fd = one_of(c.name, {"socket", "eventfd", "eventfd2", "timerfd_create",
                                          "openat", "open", "signalfd"});
    if (makes_fd && c.result && *c.result >= 0) {
      const std::string_view what = c.name == "socket" ? "socket" : c.name;
      const uint32_t l = new_lane(LaneKind::other, fmt::format("{} fd {}", what, *c.result));
      bind_fd(static_cast<int>(*c.result), l);
      return put(l, MarkKind::call, std::string(c.name));
    }
    if (!handler_lane_) handler_lane_ = new_lane(LaneKind::handler, "handler", "calls on no known fd");
    result_mark(*handler_lane_, c);
  }

  void result_mark(uint32_t l, const Call& c) {
    if (c.error == "EAGAIN") lane(l).last_eagain = t_;
    if (c.error == "EAGAIN") return put(l, MarkKind::eagain, fmt::format("{} EAGAIN", c.name));
    if (!c.error.empty()) return put(l, MarkKind::error, fmt::format("{} {}", c.name, c.error));
    put(l, MarkKind::call, std::string(c.name));
  }

  void close_fd(int fd) {
    auto it = fds_.find(fd);
    if (it == fds_.end()) return;
    const uint32_t l = it->second;
    fds_.erase(it);
    for (auto& [epfd, data] : data_)
      for (auto d = data.begin(); d != data.end();)
        d = d->second == l && !lane_has_fd(l) ? data.erase(d) : std::next(d);
    if (lane_has_fd(l)) return;
    end_interest(l);
    lane(l).closed = t_;
  }
  bool lane_has_fd(uint32_t l) const {
    for (const auto& [fd, lane_index] : fds_)
      if (lane_index == l) return true;
    return false;
  }

  void read(uint32_t l, const Call& c) {
    if (!c.result || *c.result < 0) return result_mark(l, c);
    Lane& s = lane(l);
    if (*c.result == 0) {
      if (s.read_eof < 0) s.read_eof = t_;
      return put(l, MarkKind::read, "read EOF");
    }
    const uint64_t from = s.read;
    s.read += static_cast<uint64_t>(*c.result);
    ++s.reads;
    ++s.reads_since_event;
    s.last_read = t_;
    s.last_read_got = static_cast<uint64_t>(*c.result);
    if (c.name == "read" || c.name == "recvfrom" || c.name == "recv")
      s.last_read_asked = static_cast<uint64_t>(c.arg(2).value_or(0));
    put(l, MarkKind::read, fmt::format("read {}", *c.result), static_cast<int64_t>(from),
        static_cast<int64_t>(s.read));
    stream_points(l);
  }
  void write(uint32_t l, const Call& c) {
    if (!c.result || *c.result < 0) return result_mark(l, c);
    Lane& s = lane(l);
    // A pipe's writes feed its own reads: its queue is written - read.
    uint64_t& counter = s.kind == LaneKind::pipe ? s.sent : s.written;
    const uint64_t from = counter;
    counter += static_cast<uint64_t>(*c.result);
    ++s.writes;
    s.last_write = t_;
    s.last_write_done = static_cast<uint64_t>(*c.result);
    s.last_write_asked = one_of(c.name, {"write", "send", "sendto"})
                             ? static_cast<uint64_t>(c.arg(2).value_or(*c.result))
                             : s.last_write_done;
    if (s.last_write_done < s.last_write_asked && s.short_writes++ == 0) {
      s.first_short_write = t_;
      s.first_short_done = s.last_write_done;
      s.first_short_asked = s.last_write_asked;
    }
    put(l, MarkKind::write, fmt::format("write {}", *c.result), static_cast<int64_t>(from),
        static_cast<int64_t>(counter));
    stream_points(l);
  }

  // "accept4(3, {sa_family=AF_INET, sin_port=htons(32768), ...}, [...], 0) = 5": the
  // connection from that port; without an address, the oldest in the accept queue (FIFO, as
  // inet_csk_accept takes them).
  void accept(const Call& c) {
    const uint32_t listener = c.arg(0) ? lane_of_fd(*c.arg(0)).value_or(0) : 0;
    if (c.error == "EMFILE" && listener != 0) ++lane(listener).emfile;
    if (!c.result || *c.result < 0) return result_mark(listener, c);
    std::optional<uint32_t> conn;
    if (auto port = int_after(c.args, "sin_port=htons(")) {
      auto it = ports_.find(static_cast<uint16_t>(*port));
      if (it != ports_.end()) conn = it->second;
    }
    if (!conn && !accept_queue_.empty()) conn = accept_queue_.front();
    if (conn) {
      for (auto q = accept_queue_.begin(); q != accept_queue_.end(); ++q)
        if (*q == *conn) {
          accept_queue_.erase(q);
          listener_queue_changed(-1);
          break;
        }
    } else {
      conn = new_lane(LaneKind::connection, "connection");
    }
    bind_fd(static_cast<int>(*c.result), *conn);
    if (listener != 0) ++lane(listener).accepted;
    put(listener, MarkKind::call, fmt::format("accept -> fd {}", *c.result));
  }

  // "pipe2([5, 6], O_NONBLOCK) = 0", "socketpair(AF_UNIX, SOCK_STREAM, 0, [5, 6]) = 0"
  void pair(const Call& c) {
    const size_t open = c.args.find('[');
    if (c.result != 0 || open == std::string_view::npos) return new_fd_call(c);
    const auto a = to_int(c.args.substr(open + 1));
    const auto b = int_after(c.args.substr(open), ", ");
    if (!a || !b) return new_fd_call(c);
    const uint32_t l = new_lane(LaneKind::pipe, fmt::format("{} fds {},{}", c.name, *a, *b));
    bind_fd(static_cast<int>(*a), l);
    bind_fd(static_cast<int>(*b), l);
    put(l, MarkKind::call, std::string(c.name));
  }

  void dup(const Call& c) {
    const auto old = c.arg(0);
    const auto l = old ? lane_of_fd(*old) : std::nullopt;
    if (!l || !c.result || *c.result < 0) return new_fd_call(c);
    bind_fd(static_cast<int>(*c.result), *l);
    put(*l, MarkKind::call, fmt::format("{} -> fd {}", c.name, *c.result));
  }

  // ---- epoll -------------------------------------------------------------------------------
  // "epoll_ctl(4, EPOLL_CTL_ADD, 5, {events=EPOLLIN|EPOLLET, data.u64=5}) = 0"
  void epoll_ctl(const Call& c) {
    const auto epfd = c.arg(0);
    const auto fd = c.arg(2);
    const size_t op_at = c.args.find("EPOLL_CTL_");
    const std::string_view op =
        op_at == std::string_view::npos ? std::string_view("?") : c.args.substr(op_at + 10, 3);
    const uint32_t epoll_lane = epfd ? lane_of_fd(*epfd).value_or(0) : 0;
    const uint32_t at = fd ? lane_of_fd(*fd).value_or(epoll_lane) : epoll_lane;
    const std::string mask = field(c.args, "events=");
    if (!c.error.empty()) return put(at, MarkKind::error, fmt::format("ctl {} {}", op, c.error));
    put(at, MarkKind::ctl, op == "DEL" ? std::string("DEL") : fmt::format("{} {}", op, mask));
    // Looked up again rather than kept in an optional: g++ 12 at -O2 warns (as an error) that
    // the optional's value "may be used uninitialized" through the inlined map lookups.
    if (!fd || !epfd || c.result != 0 || !lane_of_fd(*fd)) return;
    register_interest(static_cast<int>(*epfd), at, op, mask, c.args);
  }
  // What epoll_ctl changed: the epoll_data that will name lane `l`, and its interest span.
  void register_interest(int epfd, uint32_t l, std::string_view op, const std::string& mask,
                         std::string_view args) {
    auto& data = data_[epfd];
    for (auto d = data.begin(); d != data.end();) d = d->second == l ? data.erase(d) : std::next(d);
    end_interest(l);
    if (op == "DEL") return;
    data[data_key(args)] = l;
    begin_interest(l, mask);
  }
  // "EPOLLIN|EPOLLET" after `key`, up to the next ',' or '}'.
  static std::string field(std::string_view s, std::string_view key) {
    const size_t at = s.find(key);
    if (at == std::string_view::npos) return {};
    const std::string_view rest = s.substr(at + key.size());
    return std::string(rest.substr(0, rest.find_first_of(",}")));
  }
  // "data.u64=5": what epoll_wait will hand back for this registration.
  static std::string data_key(std::string_view s) {
    const size_t at = s.find("data");
    if (at == std::string_view::npos) return {};
    const std::string_view rest = s.substr(at);
    return std::string(rest.substr(0, rest.find('}')));
  }
  void begin_interest(uint32_t l, std::string mask) {
    auto it = interest_.find(l);
    if (it == interest_.end()) {
      model.interest.push_back(Interest{l, {}});
      it = interest_.emplace(l, model.interest.size() - 1).first;
    }
    model.interest[it->second].spans.push_back(Span{t_, -1, std::move(mask)});
  }
  void end_interest(uint32_t l) {
    auto it = interest_.find(l);
    if (it == interest_.end()) return;
    std::vector<Span>& s = model.interest[it->second].spans;
    if (!s.empty() && s.back().to < 0) s.back().to = t_;
  }
  const Span* open_span(uint32_t l) const {
    auto it = interest_.find(l);
    if (it == interest_.end()) return nullptr;
    const std::vector<Span>& s = model.interest[it->second].spans;
    return !s.empty() && s.back().to < 0 ? &s.back() : nullptr;
  }

  // "epoll_wait(4, [{events=EPOLLIN, data.u64=5}, ...], 2, -1) = 1"
  void epoll_wait(const Call& c) {
    const auto epfd = c.arg(0);
    const uint32_t l = epfd ? lane_of_fd(*epfd).value_or(0) : 0;
    if (!c.error.empty()) return put(l, MarkKind::error, fmt::format("wait {}", c.error));
    const int64_t n = c.result.value_or(0);
    put(l, MarkKind::wait, n == 0 ? std::string("timeout")
                                  : fmt::format("{} event{}", n, n == 1 ? "" : "s"));
    const auto& data = data_[epfd ? static_cast<int>(*epfd) : -1];
    size_t at = c.args.find("{events=");
    while (at != std::string_view::npos) {
      const std::string_view ev = c.args.substr(at, c.args.find('}', at) - at + 1);
      auto it = data.find(data_key(ev));
      if (it != data.end()) delivered(it->second, field(ev, "events="));
      at = c.args.find("{events=", at + 1);
    }
  }
  void delivered(uint32_t l, std::string mask) {
    Lane& s = lane(l);
    ++s.events;
    s.reads_since_event = 0;
    s.last_event = t_;
    s.last_event_mask = mask;
    model.events.push_back(Delivered{model.marks.size(), t_, l, std::move(mask)});
    // EPOLLONESHOT: the delivery disarms the registration until the next EPOLL_CTL_MOD
    // (ep_send_events clears its events but EPOLLONESHOT's own bits).
    const Span* open = open_span(l);
    if (open && open->mask.find("EPOLLONESHOT") != std::string::npos) {
      end_interest(l);
      begin_interest(l, "disarmed (EPOLLONESHOT)");
    }
  }

  Nanos t_ = 0;
  Mark mark_;
  std::map<int, uint32_t> fds_;            // handler fd -> lane
  std::map<uint32_t, uint32_t> peers_;     // peer#N -> its current connection lane
  std::map<uint16_t, uint32_t> ports_;     // a peer's port -> its connection lane
  std::map<int, std::map<std::string, uint32_t>> data_;  // epfd -> epoll_data text -> lane
  std::map<std::pair<uint32_t, bool>, size_t> queues_;   // (lane, in) -> model.queues index
  std::map<uint32_t, size_t> interest_;                  // lane -> model.interest index
  std::deque<uint32_t> accept_queue_;      // connections handshaken, not accepted yet
  std::optional<uint32_t> listener_;
  std::optional<uint32_t> handler_lane_;
};

}  // namespace

Nanos stamp_time(std::string_view line) {
  if (line.empty() || line[0] != '[') return 0;
  const size_t ms = line.find("ms]");
  if (ms == std::string_view::npos) return 0;
  std::string_view n = line.substr(1, ms - 1);
  while (!n.empty() && n.front() == ' ') n.remove_prefix(1);
  const size_t dot = n.find('.');
  const auto whole = to_int(n.substr(0, dot));
  if (!whole) return 0;
  Nanos t = *whole * kNanosPerMilli;
  // Trace::stamp prints microsecond digits; read any number of them, up to nanoseconds.
  Nanos scale = kNanosPerMilli;
  for (size_t i = dot + 1; dot != std::string_view::npos && i < n.size() && scale > 1; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(n[i]))) break;
    scale /= 10;
    t += (n[i] - '0') * scale;
  }
  return t;
}

std::string_view stamp_text(std::string_view line) {
  if (line.empty() || line[0] != '[') return line;
  const size_t close = line.find("] ");
  return close == std::string_view::npos ? line : line.substr(close + 2);
}

Model build_model(const std::vector<std::string>& lines) {
  Builder b;
  for (const std::string& l : lines) b.line(l);
  Model m = b.finish();
  assert(m.marks.size() == lines.size());
  return m;
}

}  // namespace edgecase::timeline
