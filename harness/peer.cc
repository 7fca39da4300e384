#include "harness/peer.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cassert>
#include <cerrno>
#include <climits>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <utility>

#include "edgecase/strace.h"

namespace edgecase {

namespace {

constexpr int kSocketType = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
// How much of a step's given bytes a status line quotes.
constexpr size_t kQuoteLimit = 16;

// "connection reset (ECONNRESET)": the words a report reader looks for, then the errno.
std::string describe_errno(int e) {
  switch (e) {
    case ECONNRESET: return "connection reset (ECONNRESET)";
    case EPIPE: return "broken pipe (EPIPE)";
    case ETIMEDOUT: return "timed out (ETIMEDOUT)";
    default: return errno_name(e);
  }
}

// "127.0.0.1:7000", from the network-order fields, without the C library's formatting.
std::string addr_text(const sockaddr_in& a) {
  const uint32_t h = ntohl(a.sin_addr.s_addr);
  return fmt::format("{}.{}.{}.{}:{}", h >> 24, (h >> 16) & 0xff, (h >> 8) & 0xff, h & 0xff,
                     ntohs(a.sin_port));
}

// " = 0" or " = -1 EAGAIN": the tail of an strace-shaped line.
// Format strings compiled (FMT_COMPILE) for the lines of every send and recv: a run moving
// many bytes traces thousands of them.
std::string result_text(long r, int err) {
  return r < 0 ? fmt::format(FMT_COMPILE(" = -1 {}"), errno_name(err)) : fmt::format(FMT_COMPILE(" = {}"), r);
}

// result_text(r, err), appended to `out` (no temporary for a successful call).
void append_result(fmt::memory_buffer& out, long r, int err) {
  if (r < 0) {
    const std::string e = errno_name(err);
    fmt::format_to(fmt::appender(out), FMT_COMPILE(" = -1 {}"), e);
  } else {
    fmt::format_to(fmt::appender(out), FMT_COMPILE(" = {}"), r);
  }
}

}  // namespace

Peer::Peer(uint32_t index, PeerScript script, sockaddr_in server)
    : index_(index), script_(std::move(script)), server_(server) {
  assert(index_ >= 1);
}

PeerWait Peer::run(Kernel& k, Nanos now) {
  assert(now >= now_);
  now_ = now;
  calls_ = 0;
  if (done_) return {};
  while (step_ < script_.steps.size()) {
    if (!budget()) return {PeerWait::Kind::time, 0, now_};
    switch (step_op(k, script_.steps[step_])) {
      case Next::advance:
        ++step_;
        begun_ = false;
        progress_ = 0;
        break;
      case Next::wait:
        assert(wait_.kind != PeerWait::Kind::done);
        return wait_;
      case Next::stop:
        done_ = true;
        return {};
    }
  }
  done_ = true;
  if (trace_) trace(fmt::format("{}: done", name()));
  return {};
}

Peer::Next Peer::step_op(Kernel& k, const Step& s) {
  using Op = Step::Op;
  switch (s.op) {
    case Op::connect: return begun_ ? finish_connect(k) : do_connect(k);
    case Op::send: return do_send(k, s);
    case Op::expect: return do_expect(k, s);
    case Op::expect_line: return do_expect_line(k);
    case Op::read_eof: return do_read_eof(k);
    case Op::shutdown_write: return do_shutdown_write(k);
    case Op::close: return do_close(k, false);
    case Op::reset: return do_close(k, true);
    case Op::sleep: return do_sleep(s);
    case Op::rcvbuf: return do_rcvbuf(k, s);
    case Op::slow_read:
      slow_bytes_ = s.n;
      slow_pause_ = s.t;
      if (trace_) trace(fmt::format("{}: slow_read {} bytes every {} ns", name(), s.n, s.t));
      return Next::advance;
  }
  return fail("unknown step");
}

bool Peer::ensure_socket(Kernel& k, const char* step) {
  if (fd_ >= 0) return true;
  const int r = k.socket(AF_INET, kSocketType, 0);
  const int e = errno;
  ++calls_;
  if (trace_) trace(fmt::format("{}: socket(AF_INET, SOCK_STREAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0){}", name(),
                    result_text(r, e)));
  if (r < 0) {
    fail(fmt::format("{}: socket: {}", step, errno_name(e)));
    return false;
  }
  fd_ = r;
  ++sockets_;
  return true;
}

Peer::Next Peer::do_connect(Kernel& k) {
  if (!ensure_socket(k, "connect")) return Next::stop;
  if (!budget()) return wait_time(now_);
  const int r = k.connect(fd_, reinterpret_cast<const sockaddr*>(&server_), sizeof server_);
  const int e = errno;
  ++calls_;
  begun_ = true;
  connect_offset_ = sent_.size();
  shut_write_ = false;
  if (r != 0 && e != EINPROGRESS) {
    if (trace_) trace(fmt::format("{}: connect({}, {}){}", name(), fd_, addr_text(server_), result_text(r, e)));
    return fail("connect: " + errno_name(e));
  }
  // connect bound the local port: what the server's getpeername will show for this peer, and
  // what the trace's segments name (a timeline tells the peers' connections apart by it).
  sockaddr_in local{};
  socklen_t llen = sizeof local;
  if (k.getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &llen) == 0)
    local_port_ = ntohs(local.sin_port);
  ++calls_;
  if (trace_)
    trace(fmt::format("{}: connect({}, {}){} (from port {})", name(), fd_, addr_text(server_),
                      result_text(r, e), local_port_));
  if (r == 0) return Next::advance;
  return wait_io(EPOLLOUT);
}

// After EPOLLOUT. A peer address means connected (one call on the usual path). ENOTCONN means
// still connecting (a wakeup that was not the handshake's), refused, or connected and already
// reset; SO_ERROR tells them apart, and consumes the error as any client's check would.
Peer::Next Peer::finish_connect(Kernel& k) {
  sockaddr_in peer{};
  socklen_t plen = sizeof peer;
  const int r = k.getpeername(fd_, reinterpret_cast<sockaddr*>(&peer), &plen);
  const int e = errno;
  ++calls_;
  if (r == 0) {
    if (trace_) trace(fmt::format("{}: connected", name()));
    return Next::advance;
  }
  if (e != ENOTCONN) return fail("connect: getpeername: " + errno_name(e));
  if (!budget()) return wait_time(now_);
  int err = 0;
  socklen_t len = sizeof err;
  const int g = k.getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
  const int ge = errno;
  ++calls_;
  if (g != 0) return fail("connect: getsockopt(SO_ERROR): " + errno_name(ge));
  if (err == 0) return wait_io(EPOLLOUT);
  if (trace_) trace(fmt::format("{}: getsockopt({}, SO_ERROR) = {}", name(), fd_, errno_name(err)));
  return fail("connect: " + errno_name(err));
}

// The traced lines of send and recv, out of line: their 500-byte format buffers would
// otherwise sit in the frames of do_send and read_some, poisoned and cleared by
// AddressSanitizer on every call, traced or not.
void Peer::trace_send(size_t len, ssize_t r, int e, uint64_t total) const {
  // "peer#1: send 16384 = 16384 (16384/1048576)", in one buffer
  fmt::memory_buffer line;
  fmt::format_to(fmt::appender(line), FMT_COMPILE("peer#{}: send {}"), index_, len);
  append_result(line, r, e);
  fmt::format_to(fmt::appender(line), FMT_COMPILE(" ({}/{})"), progress_, total);
  trace({line.data(), line.size()});
}

void Peer::trace_recv(ssize_t r, int e) const {
  // "peer#1: recv = 16384 (16384/1048576)", in one buffer
  fmt::memory_buffer line;
  fmt::format_to(fmt::appender(line), FMT_COMPILE("peer#{}: recv"), index_);
  append_result(line, r, e);
  fmt::format_to(fmt::appender(line), FMT_COMPILE(" ({})"), progress_text());
  trace({line.data(), line.size()});
}

Peer::Next Peer::do_send(Kernel& k, const Step& s) {
  if (fd_ < 0) return fail("send: no socket");
  const bool given = !s.data.empty();
  const uint64_t total = s.bytes();
  // On the heap, once: a 16 KiB array in this frame cost a 2 KiB shadow memset on every call
  // under AddressSanitizer (the fuzz targets).
  if (!send_buf_ && !given) send_buf_ = std::make_unique_for_overwrite<char[]>(kIoChunk);
  char* const buf = send_buf_.get();
  while (progress_ < total) {
    if (!budget()) return wait_time(now_);
    const size_t len = static_cast<size_t>(std::min<uint64_t>(total - progress_, kIoChunk));
    const char* p = buf;
    if (given) {
      p = s.data.data() + progress_;
    } else {
      pattern_fill(index_, sent_.size(), buf, len);
    }
    const ssize_t r = k.send(fd_, p, len, MSG_NOSIGNAL);
    const int e = errno;
    ++calls_;
    if (r > 0) {
      const auto n = static_cast<size_t>(r);
      if (given) {
        sent_.append_literal({p, n});
      } else {
        sent_.append_pattern(index_, std::string_view(p, n));
      }
      progress_ += static_cast<uint64_t>(r);
    }
    if (trace_) trace_send(len, r, e, total);
    if (r >= 0) continue;
    if (e == EAGAIN) return wait_io(EPOLLOUT);
    return fail(fmt::format("send: {} after {} of {} bytes", describe_errno(e), progress_, total));
  }
  return Next::advance;
}

Peer::ReadResult Peer::read_some(Kernel& k, size_t want) {
  assert(want > 0);
  if (slow_bytes_ > 0 && now_ < next_read_at_) {
    wait_time(next_read_at_);
    return ReadResult::wait;
  }
  size_t len = std::min(want, kIoChunk);
  if (slow_bytes_ > 0) len = static_cast<size_t>(std::min<uint64_t>(len, slow_bytes_));
  if (!buf_) buf_ = std::make_unique_for_overwrite<char[]>(kIoChunk);  // recv fills it
  const ssize_t r = k.recv(fd_, buf_.get(), len, 0);
  const int e = errno;
  ++calls_;
  if (r == 0) {
    eof_ = true;
    if (trace_) trace(fmt::format("{}: EOF ({})", name(), progress_text()));
    return ReadResult::eof;
  }
  if (r > 0) {
    chunk_ = {buf_.get(), static_cast<size_t>(r)};
    if (check_ != nullptr && !stream_error_) stream_error_ = check_->received(conversation(), chunk_);
    received_ += chunk_.size();
    if (slow_bytes_ > 0) next_read_at_ = now_ + slow_pause_;
  }
  if (trace_) trace_recv(r, e);
  if (r > 0) return ReadResult::data;
  if (e == EAGAIN) {
    wait_io(EPOLLIN);
    return ReadResult::wait;
  }
  last_errno_ = e;
  return ReadResult::error;
}

Peer::Next Peer::do_expect(Kernel& k, const Step& s) {
  if (fd_ < 0) return fail("expect: no socket");
  for (;;) {
    const uint64_t have = received_ - consumed_;
    if (have >= s.n) {
      consume(s.n);
      return Next::advance;
    }
    if (!budget()) return wait_time(now_);
    // Only what the step still needs: bytes meant for later stay in the socket, as they would
    // for a client reading a fixed-size reply.
    switch (read_some(k, static_cast<size_t>(std::min<uint64_t>(s.n - have, kIoChunk)))) {
      case ReadResult::data: break;
      case ReadResult::wait: return Next::wait;
      case ReadResult::eof:
        return fail(fmt::format("expect: end of file after {} of {} bytes", have, s.n));
      case ReadResult::error:
        return fail(fmt::format("expect: {} after {} of {} bytes", describe_errno(last_errno_),
                                have, s.n));
    }
  }
}

Peer::Next Peer::do_expect_line(Kernel& k) {
  if (fd_ < 0) return fail("expect_line: no socket");
  // Bytes an earlier expect_line read past its newline come first; then each chunk is searched
  // once as it arrives, and only what follows a newline is kept.
  if (const size_t nl = unconsumed_.find('\n'); nl != std::string::npos) {
    consume(nl + 1);
    return Next::advance;
  }
  for (;;) {
    if (!budget()) return wait_time(now_);
    switch (read_some(k, kIoChunk)) {
      case ReadResult::data: break;
      case ReadResult::wait: return Next::wait;
      case ReadResult::eof:
        return fail(fmt::format("expect_line: end of file after {} bytes without a newline",
                                received_ - consumed_));
      case ReadResult::error:
        return fail(fmt::format("expect_line: {} after {} bytes without a newline",
                                describe_errno(last_errno_), received_ - consumed_));
    }
    const size_t nl = chunk_.find('\n');
    if (nl == std::string_view::npos) continue;
    unconsumed_.clear();
    consumed_ = received_ - chunk_.size() + nl + 1;
    unconsumed_.assign(chunk_.substr(nl + 1));
    return Next::advance;
  }
}

void Peer::consume(uint64_t n) {
  assert(n <= received_ - consumed_);
  consumed_ += n;
  unconsumed_.erase(0, static_cast<size_t>(std::min<uint64_t>(n, unconsumed_.size())));
}

Conversation Peer::conversation() const {
  Conversation c;
  c.peer = index_;
  c.sent = &sent_;
  c.received = received_;
  c.finished = done_ && failure_.empty();
  c.eof = eof_;
  c.failure = failure_;
  return c;
}

Peer::Next Peer::do_read_eof(Kernel& k) {
  if (fd_ < 0) return fail("read_eof: no socket");
  for (;;) {
    if (!budget()) return wait_time(now_);
    switch (read_some(k, kIoChunk)) {
      case ReadResult::data: break;
      case ReadResult::wait: return Next::wait;
      case ReadResult::eof:
        consume(received_ - consumed_);
        return Next::advance;
      case ReadResult::error:
        return fail(fmt::format("read_eof: {} after {} bytes", describe_errno(last_errno_),
                                received_ - consumed_));
    }
  }
}

Peer::Next Peer::do_shutdown_write(Kernel& k) {
  if (fd_ < 0) return fail("shutdown_write: no socket");
  const int r = k.shutdown(fd_, SHUT_WR);
  const int e = errno;
  ++calls_;
  if (trace_) trace(fmt::format("{}: shutdown({}, SHUT_WR){}", name(), fd_, result_text(r, e)));
  if (r != 0) return fail("shutdown_write: " + errno_name(e));
  shut_write_ = true;
  return Next::advance;
}

Peer::Next Peer::do_close(Kernel& k, bool reset) {
  const char* step = reset ? "reset" : "close";
  if (fd_ < 0) return fail(fmt::format("{}: no socket", step));
  if (reset && !begun_) {
    // l_linger 0: close() sends a RST and drops unsent data instead of a FIN (tcp_close).
    const linger lg{1, 0};
    const int r = k.setsockopt(fd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    const int e = errno;
    ++calls_;
    begun_ = true;
    if (trace_) trace(fmt::format("{}: setsockopt({}, SO_LINGER, {{l_onoff=1, l_linger=0}}){}", name(), fd_,
                      result_text(r, e)));
    if (r != 0) return fail("reset: setsockopt(SO_LINGER): " + errno_name(e));
    if (!budget()) return wait_time(now_);
  }
  const int fd = fd_;
  // Linux releases the descriptor even when close reports an error: it is gone either way.
  fd_ = -1;
  const int r = k.close(fd);
  const int e = errno;
  ++calls_;
  if (trace_) trace(fmt::format("{}: close({}){}", name(), fd, result_text(r, e)));
  if (r != 0) return fail(fmt::format("{}: close: {}", step, errno_name(e)));
  return Next::advance;
}

Peer::Next Peer::do_sleep(const Step& s) {
  if (!begun_) {
    begun_ = true;
    sleep_until_ = now_ + s.t;
    if (trace_) trace(fmt::format("{}: sleep {} ns", name(), s.t));
  }
  if (now_ >= sleep_until_) return Next::advance;
  return wait_time(sleep_until_);
}

Peer::Next Peer::do_rcvbuf(Kernel& k, const Step& s) {
  if (!ensure_socket(k, "rcvbuf")) return Next::stop;
  if (!budget()) return wait_time(now_);
  const int v = static_cast<int>(std::min<uint64_t>(s.n, INT_MAX));
  const int r = k.setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &v, sizeof v);
  const int e = errno;
  ++calls_;
  if (trace_) trace(fmt::format("{}: setsockopt({}, SO_RCVBUF, [{}]){}", name(), fd_, v, result_text(r, e)));
  if (r != 0) return fail("rcvbuf: " + errno_name(e));
  return Next::advance;
}

Peer::Next Peer::wait_io(uint32_t events) {
  wait_ = {PeerWait::Kind::io, events, 0};
  return Next::wait;
}

Peer::Next Peer::wait_time(Nanos until) {
  wait_ = {PeerWait::Kind::time, 0, until};
  return Next::wait;
}

Peer::Next Peer::fail(std::string text) {
  assert(failure_.empty());
  failure_ = std::move(text);
  if (trace_) trace(fmt::format("{}: failed: {}", name(), failure_));
  return Next::stop;
}

void Peer::trace(std::string_view line) const {
  if (trace_) trace_(line);
}

std::string Peer::name() const { return fmt::format(FMT_COMPILE("peer#{}"), index_); }

std::string Peer::step_name(const Step& s) const {
  using Op = Step::Op;
  switch (s.op) {
    case Op::connect: return "connect";
    case Op::send:
      return s.data.empty() ? fmt::format("send {}", s.n)
                            : "send " + quote_bytes(s.data.data(), s.data.size(), kQuoteLimit);
    case Op::expect: return fmt::format("expect {}", s.n);
    case Op::expect_line: return "expect_line";
    case Op::read_eof: return "read_eof";
    case Op::shutdown_write: return "shutdown_write";
    case Op::close: return "close";
    case Op::reset: return "reset";
    case Op::sleep: return fmt::format("sleep {}", s.t);
    case Op::rcvbuf: return fmt::format("rcvbuf {}", s.n);
    case Op::slow_read: return fmt::format("slow_read {} {}", s.n, s.t);
  }
  return "?";
}

std::string Peer::progress_text() const {
  if (step_ >= script_.steps.size()) return "";
  const Step& s = script_.steps[step_];
  const uint64_t have = received_ - consumed_;
  switch (s.op) {
    case Step::Op::send:
      return fmt::format("{}/{}", progress_, s.bytes());
    case Step::Op::expect: return fmt::format(FMT_COMPILE("{}/{}"), std::min(have, s.n), s.n);
    case Step::Op::expect_line: return fmt::format("{}/line", have);
    case Step::Op::read_eof: return fmt::format("{}/EOF", have);
    default: return "";
  }
}

std::string Peer::status() const {
  std::string out = name() + ": ";
  if (step_ < script_.steps.size()) {
    out += fmt::format("step {} of {} ({})", step_ + 1, script_.steps.size(),
                       step_name(script_.steps[step_]));
    const std::string p = progress_text();
    if (!p.empty()) out += ": " + p;
  } else {
    out += fmt::format("all {} steps run", script_.steps.size());
  }
  if (!failure_.empty()) return out + ", failed: " + failure_;
  if (done_) return out + ", done";
  if (wait_.kind == PeerWait::Kind::io) return out + ", waits " + epoll_events_name(wait_.events);
  if (wait_.kind == PeerWait::Kind::time)
    return out + fmt::format(", waits until {} ns", wait_.until);
  return out;
}

}  // namespace edgecase
