// The world's network model: per-direction queues of segments in flight, split, coalesced and
// delayed as the network stream and the fault plan decide. See world/network.h.
#include "world/network.h"

#include <algorithm>
#include <cassert>
#include <fmt/compile.h>
#include <fmt/format.h>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

namespace edgecase::sim {

namespace {

// "127.0.0.1.7000" (tcpdump's address.port), appended to `out`. Compiled format strings: a
// traced run describes every segment (thousands per MiB moved), so no run-time parsing.
void append_endpoint(fmt::memory_buffer& out, uint32_t addr, uint16_t port) {
  fmt::format_to(fmt::appender(out), FMT_COMPILE("{}.{}.{}.{}.{}"), addr >> 24,
                 (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff, port);
}

// tcpdump's flag letters, in its order (F, S, R, P), then '.' for ACK, appended to `out`. The
// model has no PSH bit: every data segment ends a write's worth of bytes, which is when Linux
// sets it.
void append_flag_letters(fmt::memory_buffer& out, const Segment& seg) {
  if (seg.flags & Segment::kFin) out.push_back('F');
  if (seg.flags & Segment::kSyn) out.push_back('S');
  if (seg.flags & Segment::kRst) out.push_back('R');
  if (!seg.data.empty()) out.push_back('P');
  if (seg.flags & Segment::kAck) out.push_back('.');
}

void append_text(fmt::memory_buffer& out, std::string_view text) {
  out.append(text.data(), text.data() + text.size());
}

}  // namespace

std::string Network::describe(const Segment& seg) {
  // print-tcp.c: seq only when there is something to number, ack only with the ACK flag.
  // One buffer, no temporaries: a traced run describes every segment.
  fmt::memory_buffer s;
  append_text(s, "net: ");
  append_endpoint(s, seg.saddr, seg.sport);
  append_text(s, " > ");
  append_endpoint(s, seg.daddr, seg.dport);
  append_text(s, ": Flags [");
  append_flag_letters(s, seg);
  s.push_back(']');
  const auto out = fmt::appender(s);
  const bool numbered =
      !seg.data.empty() || (seg.flags & (Segment::kSyn | Segment::kFin | Segment::kRst));
  if (numbered) {
    fmt::format_to(out, FMT_COMPILE(", seq {}"), seg.seq);
    if (!seg.data.empty()) fmt::format_to(out, FMT_COMPILE(":{}"), seg.seq + seg.data.size());
  }
  if (seg.flags & Segment::kAck) fmt::format_to(out, FMT_COMPILE(", ack {}"), seg.ack);
  fmt::format_to(out, FMT_COMPILE(", win {}, length {}"), seg.wnd, seg.data.size());
  return fmt::to_string(s);
}

Network::Network(Net& net, Host& host) : net_(net), host_(host) {
  assert(net_.wire() == nullptr);
  net_.set_wire(this);
}

Network::~Network() {
  // The world is being torn down: what is still in flight is dropped with it.
  if (net_.wire() == this) net_.set_wire(nullptr);
}

uint32_t Network::flow_of(const Segment& seg) {
  const Direction d{seg.saddr, seg.sport, seg.daddr, seg.dport};
  auto [it, inserted] = flow_ids_.emplace(d, static_cast<uint32_t>(flows_.size()));
  if (inserted) flows_.emplace_back();
  return it->second;
}

void Network::send(Segment seg) {
  const uint32_t flow = flow_of(seg);
  Flow& f = flows_[flow];
  if (try_coalesce(f, seg)) return;
  if (seg.data.size() >= 2 && host_.fire(FaultKind::split)) {
    for (Segment& piece : split(std::move(seg))) enqueue(flow, std::move(piece));
    return;
  }
  enqueue(flow, std::move(seg));
}

void Network::enqueue(uint32_t flow, Segment seg) {
  Flow& f = flows_[flow];
  const Nanos at = delivery_time(f);
  f.queue.push_back(Pending{at, std::move(seg)});
  ++in_flight_;
  host_.schedule_delivery(at, flow);
}

bool Network::coalescible(const Segment& tail, const Segment& seg) {
  constexpr uint8_t kNever = Segment::kSyn | Segment::kRst;
  if ((tail.flags | seg.flags) & kNever) return false;
  if (tail.flags & Segment::kFin) return false;  // nothing follows a FIN in its sequence space
  // Both carry ACK: every segment after the handshake does.
  if (!(tail.flags & seg.flags & Segment::kAck)) return false;
  return tail.seq + tail.data.size() == seg.seq;
}

bool Network::try_coalesce(Flow& f, Segment& seg) {
  if (f.queue.empty() || !coalescible(f.queue.back().seg, seg)) return false;
  if (!host_.fire(FaultKind::coalesce)) return false;
  // GRO's result: the bytes of both, the later segment's acknowledgement and window.
  Segment& tail = f.queue.back().seg;
  tail.data.insert(tail.data.end(), seg.data.begin(), seg.data.end());
  tail.flags |= seg.flags & Segment::kFin;
  tail.ack = seg.ack;
  tail.wnd = seg.wnd;
  return true;
}

std::vector<Segment> Network::split(Segment seg) {
  const uint64_t len = seg.data.size();
  assert(len >= 2);
  Rng& rng = host_.rng();
  const uint64_t pieces = rng.between(2, std::min<uint64_t>(kMaxPieces, len));
  std::vector<Segment> out;
  out.reserve(pieces);
  uint64_t offset = 0;
  for (uint64_t i = 0; i < pieces; ++i) {
    const uint64_t left = pieces - i - 1;  // pieces still to cut after this one, >= 1 byte each
    const uint64_t size = left ? rng.between(1, len - offset - left) : len - offset;
    Segment p;
    p.saddr = seg.saddr;
    p.daddr = seg.daddr;
    p.sport = seg.sport;
    p.dport = seg.dport;
    p.flags = left ? seg.flags & ~Segment::kFin : seg.flags;
    p.seq = seg.seq + offset;
    p.ack = seg.ack;
    p.wnd = seg.wnd;
    const auto first = seg.data.begin() + static_cast<std::ptrdiff_t>(offset);
    p.data.assign(first, first + static_cast<std::ptrdiff_t>(size));
    offset += size;
    out.push_back(std::move(p));
  }
  assert(offset == len);
  return out;
}

Nanos Network::delivery_time(Flow& f) {
  Nanos delay = 0;
  if (host_.fire(FaultKind::delay))
    delay = static_cast<Nanos>(host_.rng().between(1, kMaxDelayMicros)) * kNanosPerMicro;
  // Never before what this direction already promised: per-direction order holds.
  f.last_at = std::max(f.last_at, host_.now() + delay);
  return f.last_at;
}

void Network::deliver_next(uint32_t flow) {
  assert(flow < flows_.size());
  Flow& f = flows_[flow];
  assert(!f.queue.empty());
  assert(f.queue.front().at <= host_.now());
  Segment seg = std::move(f.queue.front().seg);
  f.queue.pop_front();
  --in_flight_;
  if (host_.tracing()) host_.trace(describe(seg));
  // Outside any socket call: endpoints this segment ends are freed when it is processed.
  Net::Call call(net_);
  net_.deliver(seg);
}

}  // namespace edgecase::sim
