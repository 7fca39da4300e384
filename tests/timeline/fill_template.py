#!/usr/bin/env python3
"""Fill the timeline template with a data JSON file, as the C++ side does (issue 12).

    tests/timeline/fill_template.py harness/timeline_template.html DATA.json OUT.html [--check]

The replacement is the contract of docs/TIMELINE.md, "The page's data": the one placeholder
@EDGECASE_TIMELINE_DATA@ becomes the JSON object with every "<" written as "\\u003c", as
harness/timeline.cc writes it (so the data cannot end its script element). --check also verifies
the template (one placeholder, no ")edgecase\"" raw-string delimiter, ASCII only) and that the
filled page's tags balance, as the C++ test's parser will. --only-close-tags escapes only "</"
(as "<\\/"), the first contract: with it, data holding "<!--<script" (a read of HTML, say) puts
the HTML parser in the script's "double escaped" state, and the page's own </script> no longer
ends the data, so the page draws nothing and logs no error.
"""
import argparse
import html.parser
import json
import sys

PLACEHOLDER = "@EDGECASE_TIMELINE_DATA@"
RAW_DELIMITER = ')edgecase"'
VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


class Balance(html.parser.HTMLParser):
    """Counts open elements; an end tag that closes anything but the innermost element is an error."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"line {self.getpos()[0]}: </{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
            return
        self.stack.pop()


def fill(template: str, data_text: str, escape_lt: bool = True) -> str:
    data = json.loads(data_text)  # the data must be JSON; re-serialised compactly
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # "<" occurs in JSON text only inside strings, where "\u003c" means the same character.
    text = text.replace("</", "<\\/") if not escape_lt else text.replace("<", "\\u003c")
    return template.replace(PLACEHOLDER, text)


def check(template: str, filled: str) -> list:
    errors = []
    n = template.count(PLACEHOLDER)
    if n != 1:
        errors.append(f"the placeholder appears {n} times, expected once")
    if RAW_DELIMITER in template:
        errors.append(f"the template holds the raw-string delimiter {RAW_DELIMITER}")
    if any(ord(c) > 127 for c in template):
        errors.append("the template is not ASCII")
    p = Balance()
    p.feed(filled)
    p.close()
    errors += p.errors
    errors += [f"<{t}> opened at line {pos[0]} is never closed" for t, pos in p.stack]
    return errors


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("template")
    ap.add_argument("data")
    ap.add_argument("out")
    ap.add_argument("--check", action="store_true", help="verify the template and the filled page's tags")
    ap.add_argument("--only-close-tags", dest="escape_lt", action="store_false",
                    help='write only "</" as "<\\/" (the old contract; every "<" as \\u003c by default, as the C++ does)')
    a = ap.parse_args()
    with open(a.template, encoding="utf-8") as f:
        template = f.read()
    with open(a.data, encoding="utf-8") as f:
        data_text = f.read()
    if template.count(PLACEHOLDER) != 1:
        print(f"error: {a.template}: the placeholder {PLACEHOLDER} must appear exactly once", file=sys.stderr)
        return 2
    filled = fill(template, data_text, a.escape_lt)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(filled)
    if a.check:
        errors = check(template, filled)
        for e in errors:
            print(f"error: {e}", file=sys.stderr)
        if errors:
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
