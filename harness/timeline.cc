// Timelines (include/edgecase/timeline.h): a run recorded with its whole trace, drawn as a
// self-contained HTML page or written in the Chrome trace event format.
#include "edgecase/timeline.h"

#include <fmt/format.h>
#include <string_view>

#include "harness/json_text.h"
#include "harness/timeline_model.h"

namespace edgecase {

namespace {

// The page (harness/timeline_template.html), compiled in by CMake (cmake/embed_text.cmake).
constexpr std::string_view kTemplateParts[] = {
#include "timeline_template.inc"
};
constexpr std::string_view kDataPlaceholder = "@EDGECASE_TIMELINE_DATA@";

std::string title_of(const Case& c) { return fmt::format("{}: a case", c.scenario.handler); }

// The verdict lines the page and the trace file head with.
std::vector<std::string> verdict_lines(const Report& r) {
  std::vector<std::string> out;
  for (const Violation& v : r.violations) out.push_back(v.format());
  for (const std::string& e : r.case_errors) out.push_back("case error: " + e);
  if (!r.kit_limit.empty()) out.push_back("undecided (the kit's limit): " + r.kit_limit);
  if (out.empty()) out.emplace_back("clean: no oracle fired");
  return out;
}

// The lane a violation belongs on: its peer's connection, or its fd's lane, or the world's.
uint32_t violation_lane(const timeline::Model& m, const Evidence& e) {
  if (e.peer != 0)
    if (const timeline::Lane* l = m.peer_lane(e.peer)) return m.index(*l);
  if (e.fd >= 0)
    if (const timeline::Lane* l = m.fd_lane(e.fd)) return m.index(*l);
  return 0;
}

// The last line at or before `at` (the line the oracle's moment follows).
size_t line_at(const timeline::Model& m, Nanos at) {
  size_t found = 0;
  for (size_t i = 0; i < m.marks.size() && m.marks[i].t <= at; ++i) found = i;
  return found;
}

void lanes_json(JsonText& j, const timeline::Model& m) {
  j.key("lanes").begin_array();
  for (const timeline::Lane& l : m.lanes) {
    j.begin_object();
    j.key("name").string(l.name);
    j.key("kind").string(timeline::lane_kind_name(l.kind));
    j.key("detail").string(l.detail);
    j.end_object();
  }
  j.end_array();
}

void marks_json(JsonText& j, const timeline::Model& m) {
  j.key("marks").begin_array();
  for (const timeline::Mark& k : m.marks) {
    j.begin_array().number(k.t).number(k.lane).string(timeline::mark_kind_name(k.kind));
    j.string(k.label).number(k.from).number(k.to).end_array();
  }
  j.end_array();
}

void series_json(JsonText& j, const timeline::Model& m) {
  j.key("queues").begin_array();
  for (const timeline::Queue& q : m.queues) {
    j.begin_object().key("lane").number(q.lane).key("dir").string(q.in ? "in" : "out");
    j.key("unit").string(q.unit).key("points").begin_array();
    for (const timeline::Point& p : q.points)
      j.begin_array().number(p.t).number(p.value).number(p.line).end_array();
    j.end_array().end_object();
  }
  j.end_array();
  j.key("interest").begin_array();
  for (const timeline::Interest& i : m.interest) {
    j.begin_object().key("lane").number(i.lane).key("spans").begin_array();
    for (const timeline::Span& s : i.spans)
      j.begin_array().number(s.from).number(s.to).string(s.mask).end_array();
    j.end_array().end_object();
  }
  j.end_array();
  j.key("events").begin_array();
  for (const timeline::Delivered& d : m.events)
    j.begin_array().number(d.line).number(d.t).number(d.lane).string(d.mask).end_array();
  j.end_array();
}

void violations_json(JsonText& j, const Timeline& t, const timeline::Model& m) {
  j.key("violations").begin_array();
  for (const Violation& v : t.report.violations) {
    j.begin_object();
    j.key("oracle").string(v.oracle);
    const Nanos at = timeline::violation_time(m, v);
    j.key("at").number(at);
    j.key("lane").number(violation_lane(m, v.evidence));
    j.key("line").number(line_at(m, at));
    j.key("text").string(v.format());
    j.key("story").begin_array();
    for (const std::string& s : timeline::violation_story(m, v, t.report.ending, t.protocol)) j.string(s);
    j.end_array();
    j.end_object();
  }
  j.end_array();
}

std::string data_json(const Timeline& t, const timeline::Model& m) {
  const std::vector<std::string> story = t.report.story.empty() ? explain(t) : t.report.story;
  JsonText j;
  j.begin_object();
  j.key("version").number(1);
  j.key("title").string(t.title);
  j.key("verdict").begin_array();
  for (const std::string& s : verdict_lines(t.report)) j.string(s);
  j.end_array();
  j.key("story").begin_array();
  for (const std::string& s : story) j.string(s);
  j.end_array();
  j.key("ending").string(t.report.ending);
  j.key("end").number(std::max(m.end, t.report.end));
  j.key("lines").begin_array();
  for (const std::string& s : t.trace) j.string(s);
  j.end_array();
  lanes_json(j, m);
  marks_json(j, m);
  series_json(j, m);
  violations_json(j, t, m);
  j.end_object();
  return j.take();
}

}  // namespace

Timeline record_timeline(const Handler& handler, const Case& c, RunOptions options) {
  Timeline t;
  t.title = title_of(c);
  t.protocol = c.scenario.protocol;
  options.backend = Backend::sim;
  options.isolate = false;
  options.whole_trace = &t.trace;
  t.report = run_case(handler, c, options);
  t.report.story = explain(t);
  return t;
}

Timeline record_timeline(const Case& c, RunOptions options) {
  const HandlerRegistry* known = options.handlers;
  if (known == nullptr)
    throw std::invalid_argument(fmt::format("unknown handler \"{}\" (no handler registry given)",
                                            c.scenario.handler));
  return record_timeline(known->get(c.scenario.handler, c.scenario), c, options);
}

std::string timeline_html(const Timeline& t) {
  const timeline::Model m = timeline::build_model(t.trace);
  std::string data = data_json(t, m);
  // Inside <script>, "</script" would end the element and "<!--" would change how the
  // browser looks for that end: no '<' at all goes in (JSON has it in strings only, where
  // "\u003c" means the same).
  std::string safe;
  safe.reserve(data.size());
  for (const char ch : data) {
    if (ch == '<') safe += "\\u003c";
    else safe += ch;
  }
  std::string page;
  for (std::string_view part : kTemplateParts) page += part;
  const size_t at = page.find(kDataPlaceholder);
  if (at != std::string::npos) page.replace(at, kDataPlaceholder.size(), safe);
  return page;
}

}  // namespace edgecase
