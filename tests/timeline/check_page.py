#!/usr/bin/env python3
"""Opens a filled timeline page in headless Chromium and checks what it drew (issue 12):

    tests/timeline/check_page.py PAGE.html [--chromium PATH]

The page must finish drawing (body data-load-ms, no data-fatal); every lane's name must be drawn
in the name column (clipped names count); the header must show every verdict line; each violation must have its red line
(data-at = its time) inside the plot, its note, and its trace line selected in the trace panel.
Exit 0 when all hold, 1 naming what failed, 2 when Chromium or the page is missing.
"""
import argparse
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

PLOT_LEFT = 236  # the name column's width in harness/timeline_template.html (LEFT)


class Dom(html.parser.HTMLParser):
    """Collects the few things checked: body attributes, texts per region, violation lines, selected rows."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.body, self.stack, self.text = {}, [], {"plot": [], "verdict": [], "notes": [], "data": []}
        self.vio_lines, self.selected, self.plot_width, self.lane_names = [], [], 0, []

    def region(self):
        for tag, attrs in reversed(self.stack):
            if attrs.get("id") in self.text:
                return attrs["id"]
        return None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body":
            self.body = a
        if tag == "svg" and a.get("id") == "plot":
            self.plot_width = float(a.get("width", 0))
        if tag == "line" and "vio" in a.get("class", "").split():
            self.vio_lines.append((float(a["data-at"]), float(a["x1"])))
        if tag == "div" and "sel" in a.get("class", "").split() and "data-i" in a:
            self.selected.append(int(a["data-i"]))
        if tag == "script" and a.get("id") == "edgecase-data":
            a["id"] = "data"
        if tag not in ("meta", "br", "img", "input", "link", "hr", "wbr"):
            self.stack.append((tag, a))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if any(t == tag for t, _ in self.stack):
            while self.stack and self.stack.pop()[0] != tag:
                pass

    def handle_data(self, data):
        if self.stack and self.stack[-1][0] == "text" and "ln" in self.stack[-1][1].get("class", "").split():
            self.lane_names.append(data)
        r = self.region()
        if r:
            self.text[r].append(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("page")
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser"))
    a = ap.parse_args()
    if not os.path.isfile(a.page):
        print(f"error: {a.page}: no such file", file=sys.stderr)
        return 2
    if not a.chromium:
        print("error: no Chromium (apt-get install -y --no-install-recommends chromium, or --chromium PATH)", file=sys.stderr)
        return 2
    with open(a.page, encoding="utf-8") as f:
        page = f.read()
    m = re.search(r'<script type="application/json" id="edgecase-data">(.*?)</script>', page, re.S)
    data = json.loads(m.group(1))
    with tempfile.TemporaryDirectory() as profile:
        out = subprocess.run([a.chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                              "--disable-background-networking", "--disable-component-update", "--disable-sync",
                              f"--user-data-dir={profile}", "--window-size=1600,900", "--virtual-time-budget=3000",
                              "--dump-dom", "file://" + os.path.abspath(a.page) + "#all"],
                             capture_output=True, text=True, timeout=120)
    dom = Dom()
    dom.feed(out.stdout)
    failures = []
    if "data-fatal" in dom.body:
        failures.append("the page could not draw: " + dom.body["data-fatal"])
    elif "data-load-ms" not in dom.body:
        failures.append("the page did not finish drawing (its script did not run to the end)")
    for lane in data.get("lanes", []):
        if not any(n.rstrip("~") and lane["name"].startswith(n.rstrip("~")) for n in dom.lane_names):
            failures.append(f"lane {lane['name']!r} is not drawn")
    verdict_text = "".join(dom.text["verdict"])
    for line in data.get("verdict", []):
        if line not in verdict_text:
            failures.append(f"verdict line not shown: {line!r}")
    notes_text = "".join(dom.text["notes"])
    for v in data.get("violations", []):
        xs = [x for at, x in dom.vio_lines if at == v["at"]]
        if not xs:
            failures.append(f"no red line for {v['oracle']} at {v['at']} ns")
        elif not PLOT_LEFT <= xs[0] <= dom.plot_width:
            failures.append(f"the red line for {v['oracle']} is outside the plot (x {xs[0]})")
        if v["oracle"] not in notes_text:
            failures.append(f"no note for {v['oracle']}")
    if data.get("violations") and data["violations"][0]["line"] not in dom.selected:
        failures.append(f"trace line {data['violations'][0]['line']} (the first violation's) is not selected in the panel")
    for f in failures:
        print("error: " + f, file=sys.stderr)
    if not failures:
        print(f"ok: {a.page}: {len(data.get('lanes', []))} lanes, {len(data.get('violations', []))} violations, "
              f"drawn in {dom.body.get('data-load-ms')} ms")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
