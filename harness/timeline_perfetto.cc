// timeline_perfetto() (include/edgecase/timeline.h): a run in the Chrome trace event format
// (the JSON object form, "traceEvents"), which Perfetto's UI and chrome://tracing open. One
// process (the run), one thread per lane, named as the HTML page names them; each trace line an
// instant event on its lane's thread ("args.line" holds the line, exactly once); the interest
// registered as complete events; the queued bytes as counters; the violations as global
// instant events at the oracle's time. Timestamps are virtual time, in microseconds.
#include <fmt/format.h>

#include "edgecase/timeline.h"
#include "harness/json_text.h"
#include "harness/timeline_model.h"

namespace edgecase {

namespace {

constexpr int kPid = 1;
// Thread ids: lane i is thread i + 1 (0 reads as "no thread" in some viewers).
int64_t tid(uint32_t lane) { return int64_t{lane} + 1; }

void metadata(JsonText& j, const Timeline& t, const timeline::Model& m) {
  j.begin_object().key("name").string("process_name").key("ph").string("M");
  j.key("pid").number(kPid).key("args").begin_object().key("name").string(t.title);
  j.end_object().end_object();
  for (uint32_t i = 0; i < m.lanes.size(); ++i) {
    j.begin_object().key("name").string("thread_name").key("ph").string("M");
    j.key("pid").number(kPid).key("tid").number(tid(i));
    j.key("args").begin_object().key("name").string(m.lanes[i].name).end_object().end_object();
    j.begin_object().key("name").string("thread_sort_index").key("ph").string("M");
    j.key("pid").number(kPid).key("tid").number(tid(i));
    j.key("args").begin_object().key("sort_index").number(i).end_object().end_object();
  }
}

void lines(JsonText& j, const Timeline& t, const timeline::Model& m) {
  for (size_t i = 0; i < m.marks.size(); ++i) {
    const timeline::Mark& k = m.marks[i];
    j.begin_object().key("name").string(k.label.empty() ? std::string(mark_kind_name(k.kind))
                                                        : k.label);
    j.key("cat").string(timeline::mark_kind_name(k.kind)).key("ph").string("i");
    j.key("s").string("t").key("ts").thousandths(k.t);
    j.key("pid").number(kPid).key("tid").number(tid(k.lane));
    j.key("args").begin_object().key("line").string(t.trace[i]);
    if (k.from >= 0) j.key("bytes").string(fmt::format("{}-{}", k.from, k.to - 1));
    j.end_object().end_object();
  }
}

// The events each epoll_wait delivered, on the thread of the fd they were for (the wait's own
// line is on the epoll fd's thread): args.trace_line is that line's index.
void delivered(JsonText& j, const timeline::Model& m) {
  for (const timeline::Delivered& d : m.events) {
    j.begin_object().key("name").string(d.mask).key("cat").string("event");
    j.key("ph").string("i").key("s").string("t").key("ts").thousandths(d.t);
    j.key("pid").number(kPid).key("tid").number(tid(d.lane));
    j.key("args").begin_object().key("trace_line").number(d.line).end_object().end_object();
  }
}

void interest(JsonText& j, const timeline::Model& m) {
  for (const timeline::Interest& in : m.interest)
    for (const timeline::Span& s : in.spans) {
      j.begin_object().key("name").string(s.mask).key("cat").string("interest");
      j.key("ph").string("X").key("ts").thousandths(s.from);
      j.key("dur").thousandths(s.to - s.from).key("pid").number(kPid);
      j.key("tid").number(tid(in.lane)).end_object();
    }
}

void counters(JsonText& j, const timeline::Model& m) {
  for (const timeline::Queue& q : m.queues) {
    const std::string name =
        fmt::format("{} {}", m.lanes[q.lane].name,
                    q.unit == "B" ? (q.in ? "unread by the server" : "unread by the peer")
                                  : "connections not accepted");
    for (const timeline::Point& p : q.points) {
      j.begin_object().key("name").string(name).key("ph").string("C");
      j.key("ts").thousandths(p.t).key("pid").number(kPid);
      j.key("args").begin_object().key(q.unit == "B" ? "bytes" : "connections").number(p.value);
      j.end_object().end_object();
    }
  }
}

void violations(JsonText& j, const Timeline& t, const timeline::Model& m,
                const std::vector<std::string>& story) {
  for (const Violation& v : t.report.violations) {
    j.begin_object().key("name").string("VIOLATION " + v.oracle).key("cat").string("violation");
    j.key("ph").string("i").key("s").string("g").key("ts").thousandths(timeline::violation_time(m, v));
    j.key("pid").number(kPid).key("tid").number(tid(0));
    j.key("args").begin_object().key("violation").string(v.format());
    j.key("story").begin_array();
    for (const std::string& s : story) j.string(s);
    j.end_array().end_object().end_object();
  }
}

}  // namespace

std::string timeline_perfetto(const Timeline& t) {
  const timeline::Model m = timeline::build_model(t.trace);
  JsonText j;
  j.begin_object().key("displayTimeUnit").string("ns");
  j.key("otherData").begin_object().key("title").string(t.title);
  j.key("ending").string(t.report.ending).end_object();
  j.key("traceEvents").begin_array();
  metadata(j, t, m);
  lines(j, t, m);
  delivered(j, m);
  interest(j, m);
  counters(j, m);
  violations(j, t, m, t.report.story.empty() ? explain(t) : t.report.story);
  j.end_array().end_object();
  return j.take();
}

}  // namespace edgecase
