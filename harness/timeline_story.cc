// explain() (include/edgecase/timeline.h): what a run did, in plain words, from its timeline.
// Each violation gets the story of the connection (or listener) its evidence names: what the
// peer sent and how it arrived, what the server read and wrote back, and why nothing more
// happened, in the terms of the oracle that fired (docs/TIMELINE.md "The story").
#include <algorithm>
#include <fmt/format.h>
#include <string>
#include <vector>

#include "edgecase/timeline.h"
#include "harness/timeline_model.h"

namespace edgecase {

namespace {

using timeline::Lane;
using timeline::Model;

// "10,241": digits grouped by thousands, whatever the locale.
std::string grouped(uint64_t n) {
  std::string digits = std::to_string(n);
  for (size_t i = digits.size(); i > 3; i -= 3) digits.insert(i - 3, ",");
  return digits;
}

std::string bytes_text(uint64_t n) { return grouped(n) + (n == 1 ? " byte" : " bytes"); }

// "byte 10240" or "bytes 0-10239" for [from, to).
std::string range_text(uint64_t from, uint64_t to) {
  if (to == from + 1) return fmt::format("byte {}", from);
  return fmt::format("bytes {}-{}", from, to - 1);
}

// "0.016 ms": virtual time as the trace's stamps read.
std::string ms(Nanos t) {
  return fmt::format("{}.{:03} ms", t / kNanosPerMilli, t % kNanosPerMilli / kNanosPerMicro);
}

std::string times(uint32_t n) { return n == 1 ? "once" : fmt::format("{} times", n); }

// Whether the protocol is request and reply (hello, line, a user's), not echo: the story
// then counts requests and replies instead of bytes echoed.
bool requests_of(std::string_view protocol) { return !protocol.empty() && protocol != "echo"; }

// "2 requests" / "1 message": a peer's completed send steps, in the protocol's word.
std::string count_word(size_t n, std::string_view protocol) {
  const std::string_view word = requests_of(protocol) ? "request" : "message";
  return fmt::format("{} {}{}", n, word, n == 1 ? "" : "s");
}

// "peer#1 sent 2 requests (bytes 0-9 and 10-19) in one segment at 0.007 ms."
std::string sent_text(const Lane& c, std::string_view protocol) {
  const std::string who = fmt::format("peer#{}", c.peer);
  if (c.sent == 0) return who + " sent nothing.";
  std::string what;
  const auto& m = c.messages;
  if ((m.size() >= 2 && m.size() <= 3) || (m.size() == 1 && requests_of(protocol))) {
    what = count_word(m.size(), protocol) + " (";
    for (size_t i = 0; i < m.size(); ++i)
      what += (i == 0 ? "" : i + 1 == m.size() ? " and " : ", ") +
              range_text(m[i].first, m[i].second);
    what += ")";
  } else if (m.size() > 3) {
    what = fmt::format("{}, {} ({})", count_word(m.size(), protocol), bytes_text(c.sent),
                       range_text(0, c.sent));
  } else {
    what = fmt::format("{} ({})", bytes_text(c.sent), range_text(0, c.sent));
  }
  std::string how;
  if (c.segments_in == 1) how = fmt::format(" in one segment at {}", ms(c.first_segment_in));
  else if (c.segments_in > 1 && c.first_segment_in == c.last_segment_in)
    how = fmt::format(" in {} segments at {}", c.segments_in, ms(c.first_segment_in));
  else if (c.segments_in > 1)
    how = fmt::format(" in {} segments from {} to {}", c.segments_in, ms(c.first_segment_in),
                      ms(c.last_segment_in));
  return fmt::format("{} sent {}{}.", who, what, how);
}

// What the server read of a request/reply conversation: "read both (bytes 0-19) in 1 read, at
// 0.010 ms, and replied once (21 bytes)".
std::string requests_read_text(const Lane& c) {
  const size_t n = c.messages.size();
  size_t whole = 0;  // requests read to their last byte
  for (const auto& [from, to] : c.messages) whole += to <= c.read;
  std::string s = fmt::format("The server (fd {}) ", c.fds.back());
  if (c.read == 0) s += "never read from it";
  else {
    const std::string which = whole == n && n == 2 ? "both"
                              : whole == n && n > 2 ? fmt::format("all {}", n)
                              : whole == n          ? "it"
                                                    : fmt::format("{} of the {}", whole, n);
    s += fmt::format("read {} ({}) in {} read{}, the last at {}", which, range_text(0, c.read),
                     c.reads, c.reads == 1 ? "" : "s", ms(c.last_read));
  }
  if (c.writes == 0) s += ", and never replied";
  else if (c.writes == 1) s += fmt::format(", and replied once ({})", bytes_text(c.written));
  else s += fmt::format(", and replied in {} writes ({})", c.writes, bytes_text(c.written));
  return s + fmt::format("; peer#{} received {}.", c.peer, bytes_text(c.received));
}

// "the server (fd 5) read bytes 0-10239 in 1 read, the last at 0.016 ms, and wrote back 10,240
// bytes in 1 write; peer#1 received 10,240 bytes."
std::string server_text(const Lane& c, std::string_view protocol) {
  if (c.fds.empty()) return "The server never accepted the connection.";
  if (requests_of(protocol) && !c.messages.empty()) return requests_read_text(c);
  std::string s = fmt::format("The server (fd {}) ", c.fds.back());
  if (c.read == 0) s += "never read from it";
  else
    s += fmt::format("read {} in {} read{}, the last at {}", range_text(0, c.read), c.reads,
                     c.reads == 1 ? "" : "s", ms(c.last_read));
  if (c.written == 0) s += ", and wrote nothing back";
  else
    s += fmt::format(", and wrote back {} in {} write{}", bytes_text(c.written), c.writes,
                     c.writes == 1 ? "" : "s");
  return s + fmt::format("; peer#{} received {}.", c.peer, bytes_text(c.received));
}

// What epoll reported for the connection's fd: "epoll reported EPOLLIN for fd 5 once, at
// 0.015 ms, after every byte had arrived."
std::string events_text(const Lane& c, int fd) {
  if (c.last_event < 0) return fmt::format("epoll never reported fd {}.", fd);
  std::string s = c.events == 1 ? fmt::format("epoll reported {} for fd {} once, at {}",
                                              c.last_event_mask, fd, ms(c.last_event))
                                : fmt::format("epoll reported fd {} {}, the last time {} at {}",
                                              fd, times(c.events), c.last_event_mask,
                                              ms(c.last_event));
  if (c.last_segment_in >= 0 && c.last_segment_in <= c.last_event)
    s += ", after every byte had arrived";
  return s + ".";
}

// What the handler did after the last event: "it read 10,240 bytes (bytes 0-10239) with one
// read of 10,240 at 0.016 ms and did not read again until EAGAIN."
std::string after_event_text(const Lane& c) {
  if (c.last_event < 0) return {};
  if (c.last_eagain >= c.last_event) return {};
  if (c.last_read < c.last_event) return "After it, the handler did not read from the fd.";
  std::string s = c.reads_since_event == 1
                      ? std::string("After it, the handler read once")
                      : fmt::format("After it, the handler read {} times", c.reads_since_event);
  const std::string_view which = c.reads_since_event == 1 ? "" : " the last read";
  if (c.last_read_asked > 0 && c.last_read_got == c.last_read_asked)
    s += fmt::format(",{} filling its whole {}-byte buffer (more could be waiting)", which,
                     grouped(c.last_read_asked));
  else if (c.last_read_asked > 0)
    s += fmt::format(",{} getting {} of the {} it asked for", which, grouped(c.last_read_got),
                     bytes_text(c.last_read_asked));
  return s + ", and did not read again until EAGAIN.";
}

// Why the unread bytes stay unread: "The server holds 1 unread byte (byte 10240) on fd 5,
// registered EPOLLIN|EPOLLET; no event is pending: ..."
std::string unread_text(const Model& m, const Lane& c, const Violation& v,
                        std::string_view ending) {
  const uint64_t unread = c.sent > c.read ? c.sent - c.read : v.evidence.bytes.value_or(0);
  const std::string mask = m.final_interest(m.index(c));
  const int fd = c.fds.empty() ? v.evidence.fd : c.fds.back();
  std::string s = fmt::format("The server holds {} unread byte{} ({}) on fd {}", grouped(unread),
                              unread == 1 ? "" : "s", range_text(c.read, c.read + unread), fd);
  s += mask.empty() ? ", registered for nothing" : fmt::format(", registered {}", mask);
  s += "; no event is pending";
  if (mask.find("disarmed") != std::string::npos)
    s += fmt::format(": the event at {} disarmed its EPOLLONESHOT registration and no "
                     "EPOLL_CTL_MOD re-armed it",
                     ms(c.last_event));
  else if (mask.find("EPOLLET") != std::string::npos)
    s += ": edge-triggered epoll reports new arrivals only, and none came";
  const size_t wait = ending.find("in epoll_wait");
  if (wait != std::string_view::npos)
    s += fmt::format("; the handler sleeps {}", ending.substr(wait, ending.find(')', wait) + 1 - wait));
  return s + ".";
}

// stuck-output, reply-lost-after-half-close: the reply the peer still waits for.
std::string unsent_text(const Model& m, const Lane& c, const Violation& v) {
  std::string s = fmt::format("peer#{} still expects {}", c.peer,
                              bytes_text(v.evidence.bytes.value_or(0)));
  if (c.last_write >= 0 && c.last_write_done < c.last_write_asked)
    s += fmt::format("; the server's last write, at {}, was short ({} of {}) and it wrote no "
                     "more",
                     ms(c.last_write), grouped(c.last_write_done), bytes_text(c.last_write_asked));
  if (c.closed >= 0) return s + fmt::format("; the server closed fd {} at {}.", c.fds.back(), ms(c.closed));
  const std::string mask = m.final_interest(m.index(c));
  s += mask.empty() ? "; fd registered for nothing" : fmt::format("; fd registered {}", mask);
  if (!mask.empty() && mask.find("EPOLLOUT") == std::string::npos)
    s += ", without EPOLLOUT: no event will say the socket has room";
  return s + ".";
}

// stream-corrupt: "2 of the server's writes were short, the first at 0.023 ms (1 of 2 bytes):
// the bytes a short write did not send must go out before the bytes after them."
std::string short_write_text(const Lane& c) {
  if (c.short_writes == 0) return {};
  return fmt::format("{} of the server's writes {} short, the first at {} ({} of {}): the bytes "
                     "a short write did not send must go out before the bytes after them.",
                     c.short_writes, c.short_writes == 1 ? "was" : "were",
                     ms(c.first_short_write), grouped(c.first_short_done),
                     bytes_text(c.first_short_asked));
}

// stall, after the peer's FIN: whether the server ever saw the end of file.
std::string half_close_text(const Lane& c) {
  if (c.peer_shutdown < 0) return {};
  std::string s = fmt::format("peer#{} shut down its write side at {} (its FIN) and waits for the "
                              "rest of the reply and the end of file",
                              c.peer, ms(c.peer_shutdown));
  if (c.read_eof < 0) return s + "; the server never read to the end of file (a read returning 0), so it never closed its side.";
  if (c.closed < 0)
    return s + fmt::format("; the server read the end of file at {} but never closed fd {}.",
                           ms(c.read_eof), c.fds.empty() ? -1 : c.fds.back());
  return s + ".";
}

// lost-accept: the listener's queue and the accepts.
std::vector<std::string> accept_story(const Model& m, const Violation& v) {
  const Lane* l = m.fd_lane(v.evidence.fd);
  if (l == nullptr) return {};
  std::vector<std::string> out;
  uint32_t connections = 0;
  for (const Lane& c : m.lanes) connections += c.kind == timeline::LaneKind::connection;
  std::string aborted;
  if (l->aborted > 0)
    aborted = fmt::format("; {} {} reset before accept4 took {} (ECONNABORTED)", l->aborted,
                          l->aborted == 1 ? "was" : "were", l->aborted == 1 ? "it" : "them");
  out.push_back(fmt::format("{} peer{} connected to the listener (fd {}); the handler accepted "
                            "{} of them{}.",
                            connections, connections == 1 ? "" : "s", v.evidence.fd,
                            l->accepted, aborted));
  std::string s = fmt::format("{} connection{} still wait{} in its accept queue",
                              l->queued_connections, l->queued_connections == 1 ? "" : "s",
                              l->queued_connections == 1 ? "s" : "");
  const std::string mask = m.final_interest(m.index(*l));
  if (!mask.empty()) s += fmt::format(", registered {}", mask);
  if (l->last_event >= 0)
    s += fmt::format("; epoll reported it readable {}, the last at {}", times(l->events),
                     ms(l->last_event));
  if (l->last_eagain < l->last_event) s += ", and the handler did not accept until EAGAIN after it";
  out.push_back(s + ".");
  if (l->emfile > 0)
    out.push_back(fmt::format("accept4 failed with EMFILE {} (the process was at its fd limit): "
                              "the connection stays queued, and an edge-triggered listener is "
                              "not reported again until a new one arrives.",
                              times(l->emfile)));
  return out;
}

}  // namespace

std::vector<std::string> timeline::violation_story(const Model& m, const Violation& v,
                                                   std::string_view ending,
                                                   std::string_view protocol) {
  if (v.oracle == oracle::kLostAccept) return accept_story(m, v);
  const Lane* c = v.evidence.peer != 0 ? m.peer_lane(v.evidence.peer) : m.fd_lane(v.evidence.fd);
  if (c == nullptr || c->kind != timeline::LaneKind::connection) return {};
  const bool unread = v.oracle == oracle::kLostReadEvent || v.oracle == oracle::kDisarmedForever;
  const bool unsent = v.oracle == oracle::kStuckOutput ||
                      v.oracle == oracle::kReplyLostAfterHalfClose;
  // The other oracles' verdicts name a call or a byte: the connection's bytes would not help.
  if (!unread && !unsent && v.oracle != oracle::kStall && v.oracle != oracle::kStreamCorrupt)
    return {};
  std::vector<std::string> out = {sent_text(*c, protocol)};
  if (unread && !c->fds.empty()) {
    out.push_back(events_text(*c, c->fds.back()));
    out.push_back(server_text(*c, protocol));
    if (std::string after = after_event_text(*c); !after.empty()) out.push_back(after);
    out.push_back(unread_text(m, *c, v, ending));
    return out;
  }
  out.push_back(server_text(*c, protocol));
  if (unsent) out.push_back(unsent_text(m, *c, v));
  if (std::string s = short_write_text(*c); !s.empty() && v.oracle == oracle::kStreamCorrupt)
    out.push_back(std::move(s));
  if (v.oracle == oracle::kStall)
    if (std::string s = half_close_text(*c); !s.empty()) out.push_back(std::move(s));
  return out;
}

std::vector<std::string> explain(const Timeline& t) {
  const Model m = timeline::build_model(t.trace);
  std::vector<std::string> out;
  for (const Violation& v : t.report.violations)
    for (std::string& s : timeline::violation_story(m, v, t.report.ending, t.protocol))
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
  if (out.empty() && t.report.violations.empty()) {
    uint64_t sent = 0, read = 0, written = 0, connections = 0;
    for (const Lane& c : m.lanes) {
      if (c.kind != timeline::LaneKind::connection) continue;
      ++connections;
      sent += c.sent;
      read += c.read;
      written += c.written;
    }
    out.push_back(fmt::format("{} connection{}: the peers sent {}; the server read {} and wrote "
                              "{}.",
                              connections, connections == 1 ? "" : "s", bytes_text(sent),
                              bytes_text(read), bytes_text(written)));
  }
  return out;
}

}  // namespace edgecase
