#!/usr/bin/env python3
"""check_timeline.py HTML PERFETTO TRACE RUN_OUTPUT VIOLATIONS: checks the files `edgecase run
CASE --timeline HTML --perfetto PERFETTO --trace TRACE` wrote (issue 12, docs/TIMELINE.md; the
page's data: docs/TIMELINE.md, "The page's data") against the trace and the run's printed report.

The HTML: well formed (every non-void start tag closed, in order; nothing after </html>), one
#edgecase-data script element whose JSON parses; its lines are the trace file's lines exactly,
one mark per line; each violation at the oracle's time (the `# violation: ... at [ T ms]` lines
the run prints), on the last line at or before it; nothing loaded from the network. The
Perfetto JSON: parses, each trace line exactly once as an event's args.line (in order), a
thread_name per lane, one global instant event per violation at the oracle's time.
VIOLATIONS is how many violations the run must have (so a run that found nothing, or a report
this script could not read, cannot pass by checking nothing).

Python's standard library only (html.parser, json). Exit 0: all hold; 1: the failures printed.
"""
import html.parser
import json
import re
import sys

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
        "source", "track", "wbr"}
# Attributes whose value a browser loads.
LOADING_ATTRIBUTES = {"src", "href", "xlink:href", "srcset", "action", "formaction", "poster",
                      "data", "background", "manifest", "ping"}
# Namespace names are identifiers, never loaded (createElementNS, xmlns=).
NAMESPACES = re.compile(r"https?://www\.w3\.org/(2000/svg|1999/xhtml|1999/xlink|XML/1998/namespace)")
NETWORK = re.compile(r"https?://|^//", re.I)
STAMP = re.compile(r"^\[\s*(\d+)\.(\d+)ms\]")
ORACLE_TIME = re.compile(r" at \[\s*(\d+)\.(\d+)ms\]")
MARK_KINDS = {"send", "recv", "peer", "seg-in", "seg-out", "net", "wait", "ctl", "read", "write",
              "eagain", "error", "call", "fault", "info"}
LANE_KINDS = {"world", "handler", "listener", "connection", "epoll", "pipe", "other"}

failures = []


def fail(message):
    failures.append(message)


def nanos(whole, fraction):
    """'0', '018' (ms, as the trace's stamps print them) -> nanoseconds."""
    return int(whole) * 1_000_000 + int(fraction.ljust(6, "0")[:6])


def stamp(line):
    m = STAMP.match(line)
    return nanos(m.group(1), m.group(2)) if m else None


class Page(html.parser.HTMLParser):
    """Checks the structure as it parses; keeps the data element's text."""

    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.stack = []
        self.closed_html = False
        self.data_elements = 0
        self.in_data = False
        self.data = []
        self.other_text = []  # everything outside the data element, for the network check

    def after_html(self, what):
        if self.closed_html:
            fail(f"HTML: {what} after </html>")

    def handle_starttag(self, tag, attrs):
        self.after_html(f"<{tag}>")
        self.check_attributes(tag, attrs)
        attributes = dict(attrs)
        if attributes.get("id") == "edgecase-data":
            self.data_elements += 1
            if tag != "script" or attributes.get("type") != "application/json":
                fail(f"HTML: #edgecase-data is <{tag} type={attributes.get('type')}>, "
                     "not <script type=application/json>")
            self.in_data = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.after_html(f"<{tag}/>")
        self.check_attributes(tag, attrs)
        if dict(attrs).get("id") == "edgecase-data":
            self.data_elements += 1
            fail("HTML: #edgecase-data is an empty element")

    def handle_endtag(self, tag):
        self.after_html(f"</{tag}>")
        if tag in VOID:
            return
        if not self.stack:
            fail(f"HTML: </{tag}> closes nothing")
            return
        if self.stack[-1] != tag:
            fail(f"HTML: </{tag}> closes <{self.stack[-1]}> (open: {self.stack})")
            return
        self.stack.pop()
        self.in_data = False
        if tag == "html":
            self.closed_html = True

    def handle_data(self, data):
        if data.strip():
            self.after_html(f"text {data.strip()[:40]!r}")
        if self.in_data:
            self.data.append(data)
        else:
            self.other_text.append(data)

    def handle_comment(self, data):
        self.after_html("a comment")
        self.other_text.append(data)

    def handle_decl(self, decl):
        self.after_html(f"<!{decl}>")

    def handle_pi(self, data):
        fail(f"HTML: a processing instruction <?{data}>")

    def unknown_decl(self, data):
        fail(f"HTML: an unknown declaration {data!r}")

    def check_attributes(self, tag, attrs):
        for name, value in attrs:
            value = (value or "").strip()
            if name in LOADING_ATTRIBUTES and NETWORK.search(value):
                fail(f"HTML: <{tag} {name}={value!r}> loads from the network")
            if name == "style":
                self.other_text.append(value)


def check_no_network(page):
    text = NAMESPACES.sub("", "\n".join(page.other_text))
    for pattern in (r"https?://\S{0,60}", r"url\(\s*['\"]?//\S{0,60}", r"@import\b\S{0,60}"):
        for m in re.finditer(pattern, text, re.I):
            fail(f"HTML: a reference to load outside the data: {m.group(0)!r}")


def check_html(path, trace, times):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    page = Page()
    page.feed(text)
    page.close()
    if page.stack:
        fail(f"HTML: elements never closed: {page.stack}")
    if not page.closed_html:
        fail("HTML: no </html>")
    if page.data_elements != 1:
        fail(f"HTML: {page.data_elements} #edgecase-data elements, want exactly 1")
        return None
    check_no_network(page)
    raw = "".join(page.data)
    if "</" in raw:
        fail("HTML: the data holds '</' (it must be written '<\\/')")
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as e:
        fail(f"HTML: the #edgecase-data JSON does not parse: {e}")
        return None
    check_data(data, trace, times)
    return data


def check_data(data, trace, times):
    if data.get("version") != 1:
        fail(f"data: version {data.get('version')!r}, want 1")
    lines = data.get("lines")
    if lines != trace:
        first = next((i for i, (a, b) in enumerate(zip(lines or [], trace)) if a != b),
                     min(len(lines or []), len(trace)))
        fail(f"data: lines differ from the trace file's ({len(lines or [])} vs {len(trace)} "
             f"lines), first at line {first}")
    lanes, marks = data.get("lanes", []), data.get("marks", [])
    if not lanes or lanes[0].get("kind") != "world":
        fail("data: lane 0 is not the world")
    for lane in lanes:
        if lane.get("kind") not in LANE_KINDS or not lane.get("name"):
            fail(f"data: a lane of unknown kind or without a name: {lane}")
    if len(marks) != len(trace):
        fail(f"data: {len(marks)} marks for {len(trace)} lines")
    # Each mark at its line's time (a line without a stamp: the time before it).
    now = 0
    for i, (mark, line) in enumerate(zip(marks, trace)):
        now = max(now, stamp(line) or 0)
        if len(mark) != 6 or mark[0] != now or mark[2] not in MARK_KINDS:
            fail(f"data: mark {i} {mark} does not read line {i} at {now} ns: {line!r}")
        elif not 0 <= mark[1] < len(lanes):
            fail(f"data: mark {i} is on lane {mark[1]}, of {len(lanes)}")
    for series in data.get("queues", []) + data.get("interest", []):
        if not 0 <= series.get("lane", -1) < len(lanes):
            fail(f"data: a queue or interest on no lane: {series}")
    for q in data.get("queues", []):
        if [p[0] for p in q["points"]] != sorted(p[0] for p in q["points"]):
            fail(f"data: queue points out of order on lane {q['lane']}")
    violations = data.get("violations", [])
    if sorted(v.get("at") for v in violations) != sorted(times):
        fail(f"data: violations at {[v.get('at') for v in violations]}, the oracles at {times}")
    stamps = []
    for line in trace:
        stamps.append(max(stamps[-1] if stamps else 0, stamp(line) or 0))
    for v in violations:
        last = max((i for i, t in enumerate(stamps) if t <= v.get("at", -1)), default=None)
        if v.get("line") != last:
            fail(f"data: violation {v.get('oracle')} at {v.get('at')} on line {v.get('line')}, "
                 f"the last line at or before it is {last}")
        if not 0 <= v.get("lane", -1) < len(lanes):
            fail(f"data: violation {v.get('oracle')} on lane {v.get('lane')}")
    if not data.get("story"):
        fail("data: no story")


def check_perfetto(path, trace, times, lanes):
    with open(path, encoding="utf-8") as f:
        try:
            data = json.load(f)
        except json.JSONDecodeError as e:
            fail(f"Perfetto: the JSON does not parse: {e}")
            return
    events = data.get("traceEvents") if isinstance(data, dict) else None
    if not isinstance(events, list) or not events:
        fail("Perfetto: no traceEvents")
        return
    lines = [e["args"]["line"] for e in events if "line" in e.get("args", {})]
    if lines != trace:
        fail(f"Perfetto: {len(lines)} events hold a trace line, for {len(trace)} lines "
             "(each line exactly once, in order)")
    threads = {e.get("tid"): e["args"]["name"] for e in events
               if e.get("ph") == "M" and e.get("name") == "thread_name"}
    names = [threads[t] for t in sorted(threads)]
    if lanes is not None and names != [lane["name"] for lane in lanes]:
        fail(f"Perfetto: thread names {names}, the lanes {[lane['name'] for lane in lanes]}")
    for e in events:
        if e.get("ph") not in ("M", "C") and e.get("s") != "g" and e.get("tid") not in threads:
            fail(f"Perfetto: an event on no named thread: {e}")
            break
    global_ts = sorted(e["ts"] for e in events if e.get("ph") == "i" and e.get("s") == "g")
    want = sorted(t / 1000 for t in times)
    if len(global_ts) != len(want) or any(abs(a - b) > 1e-9 for a, b in zip(global_ts, want)):
        fail(f"Perfetto: global instant events at {global_ts} us, the oracles at {want} us")


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    html_path, perfetto_path, trace_path, output_path, expected = sys.argv[1:]
    with open(trace_path, encoding="utf-8") as f:
        trace = f.read().split("\n")
    if trace and trace[-1] == "":
        trace.pop()
    if not trace:
        fail("the trace file is empty")
    with open(output_path, encoding="utf-8") as f:
        times = [nanos(*m.groups()) for line in f if line.startswith("# violation: ")
                 for m in [ORACLE_TIME.search(line)] if m]
    if len(times) != int(expected):
        fail(f"the run printed {len(times)} '# violation:' lines with a time, want {expected}")
    data = check_html(html_path, trace, times)
    check_perfetto(perfetto_path, trace, times, data.get("lanes") if data else None)
    for f in failures:
        print(f"FAIL: {f}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"ok: {len(trace)} lines, {len(times)} violations")


main()
