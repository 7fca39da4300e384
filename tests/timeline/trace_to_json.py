#!/usr/bin/env python3
"""Reads an edgecase trace and writes timeline data (schema version 1, docs/TIMELINE.md, "The page's data"), to try
the page on real runs before the C++ side exists and to cross-check it. A sketch, not the reference:
it knows the line shapes of the sim's traces (syscalls, peer#N, net, fault, signal) and guesses what
the trace does not say (an accept4 without an address takes the next peer that connected).

    tests/timeline/trace_to_json.py RUN.trace OUT.json [--case RUN.case] [--title TEXT]

--case takes the verdict from the case file's "# violation: ORACLE: fd N ... at [ T ms]" comment.
"""
import argparse
import json
import re

LINE = re.compile(r"^\[\s*([0-9.]+)ms\] (.*)$")
CALL = re.compile(r"^([a-z_0-9]+)\((.*)\) = (-?\d+)(?: (E[A-Z]+))?")
NET = re.compile(r"^net: [0-9.]+\.(\d+) > [0-9.]+\.(\d+): Flags \[([^\]]*)\](?:, seq (\d+)(?::(\d+))?)?.*length (\d+)")
PEER = re.compile(r"^peer#(\d+): (.*)$")
EVENT = re.compile(r"\{events=([A-Z|]+), data\.u64=(\d+)\}")
VIOLATION = re.compile(r"^# violation: ([a-z-]+): fd (\d+) .*at \[\s*([0-9.]+)ms\]")
NO_FD_CALLS = {"setrlimit", "socket", "epoll_create", "epoll_create1", "pipe", "pipe2", "eventfd", "timerfd_create", "signalfd"}


def peer_label(what):
    """ "connect(4, 127.0.0.1:6888) = -1 EINPROGRESS" -> "connect EINPROGRESS"; "recv = -1 EAGAIN (0/5)" -> "recv EAGAIN"."""
    m = re.match(r"(\w+)\(.*\) = (-?\d+)(?: (E[A-Z]+))?", what) or re.match(r"(\w+) = (-?\d+)(?: (E[A-Z]+))?", what)
    if m:
        return m.group(1) + (" " + m.group(3) if m.group(3) else " = " + m.group(2))
    return what[:40]


def ns(ms):
    return int(round(float(ms) * 1e6))


class Run:
    def __init__(self, lines):
        self.lines = lines
        self.parsed = []
        for l in lines:
            m = LINE.match(l)
            self.parsed.append((ns(m.group(1)), m.group(2)) if m else (0, l))
        self.scan()

    def scan(self):
        """First pass: which fds are listeners and epolls, which peers connect from which port, in order."""
        self.listeners, self.epolls, self.port_peer, self.connect_order = set(), set(), {}, []
        pending = []
        for _, text in self.parsed:
            c = CALL.match(text)
            if c and c.group(1) == "listen":
                self.listeners.add(int(c.group(2).split(",")[0]))
            if c and c.group(1).startswith("epoll_create") and int(c.group(3)) >= 0:
                self.epolls.add(int(c.group(3)))
            p = PEER.match(text)
            if p and p.group(2).startswith("connect("):
                pending.append(int(p.group(1)))
            if p and p.group(2) == "connected":
                self.connect_order.append(int(p.group(1)))
            n = NET.match(text)
            if n and n.group(3) == "S" and pending:
                self.port_peer[int(n.group(1))] = pending.pop(0)
        self.peer_port = {v: k for k, v in self.port_peer.items()}

    def build(self):
        lanes = [{"name": "world", "kind": "world", "detail": "the case, its faults and the end of the run"}]
        index = {}

        def lane(key, name, kind, detail=""):
            if key not in index:
                index[key] = len(lanes)
                lanes.append({"name": name, "kind": kind, "detail": detail})
            return index[key]

        for fd in sorted(self.listeners):
            lane(("fd", fd), f"listener fd {fd}", "listener")
        for fd in sorted(self.epolls):
            lane(("fd", fd), f"epoll fd {fd}", "epoll")
        # a connection lane per peer, in the order the peers connected; its server fd is set at accept
        conn_lane = {}
        for peer in self.connect_order:
            port = self.peer_port.get(peer)
            conn_lane[peer] = lane(("peer", peer), f"peer#{peer}" + (f" :{port}" if port else ""), "connection")
        fd_lane = {("fd", fd): index[("fd", fd)] for fd in self.listeners | self.epolls}
        accept_queue = list(self.connect_order)
        sent, read, wrote, recvd = {}, {}, {}, {}
        queues, spans, events, marks = {}, {}, [], []

        def q(ln, d, t, v):
            queues.setdefault((ln, d), [[0, 0]]).append([t, v])

        def other(fd):
            if ("fd", fd) in fd_lane:
                return fd_lane[("fd", fd)]
            return lane("handler", "handler", "handler", "calls on no fd, or on an fd of nothing known")

        for i, (t, text) in enumerate(self.parsed):
            mark = [t, 0, "info", text[:40], -1, -1]
            p, n, c = PEER.match(text), NET.match(text), CALL.match(text)
            if text.startswith(("fault:", "signal:")):
                pm = re.search(r"peer#(\d+)", text)
                fm = re.search(r"\((\d+)\)", text)
                ln = conn_lane.get(int(pm.group(1)), 0) if pm else other(int(fm.group(1))) if fm else 0
                mark = [t, ln, "fault", text.split(":", 1)[1].strip()[:40], -1, -1]
            elif p:
                peer, what = int(p.group(1)), p.group(2)
                ln = conn_lane.get(peer, 0)
                s = re.match(r"send (\d+) = (\d+)", what)
                r = re.match(r"recv = (\d+)", what)
                if s:
                    k = int(s.group(2)); a = sent.get(ln, 0); sent[ln] = a + k
                    mark = [t, ln, "send", f"send {k}", a, a + k]
                    q(ln, "in", t, sent[ln] - read.get(ln, 0))
                elif r and int(r.group(1)) > 0:
                    k = int(r.group(1)); a = recvd.get(ln, 0); recvd[ln] = a + k
                    mark = [t, ln, "recv", f"recv {k}", a, a + k]
                    q(ln, "out", t, wrote.get(ln, 0) - recvd[ln])
                else:
                    mark = [t, ln, "peer", peer_label(what), -1, -1]
            elif n:
                src, dst, flags, seq_a, seq_b, length = n.groups()
                toward_server = int(src) in self.port_peer
                peer = self.port_peer.get(int(src)) or self.port_peer.get(int(dst))
                ln = conn_lane.get(peer, 0)
                if int(length) > 0 and seq_a and seq_b:
                    a, b = int(seq_a) - 1, int(seq_b) - 1
                    mark = [t, ln, "seg-in" if toward_server else "seg-out", f"{flags} {length}", a, b]
                else:
                    mark = [t, ln, "net", flags, -1, -1]
            elif c:
                name, args, ret, err = c.group(1), c.group(2), int(c.group(3)), c.group(4)
                first = args.split(",")[0].strip()
                fd = int(first) if first.isdigit() and name not in NO_FD_CALLS else None
                if name.startswith("epoll_create"):
                    ln = fd_lane.get(("fd", ret), 0)
                elif name == "socket" and ("fd", ret) in fd_lane:
                    ln = fd_lane[("fd", ret)]
                elif fd is None:
                    ln = other(-1)
                elif name in ("epoll_wait", "epoll_pwait"):
                    ln = other(fd)
                else:
                    ln = other(fd)
                parts = [x.strip() for x in args.split(",")]
                what = name + (" " + parts[1] if len(parts) > 1 and re.fullmatch(r"[A-Z_]+", parts[1]) else "")
                kind, label = "call", (what + (f" = {ret}" if ret else "")) if ret >= 0 else f"{name} {err}"
                if name in ("epoll_wait", "epoll_pwait"):
                    kind = "wait"
                    label = "EINTR" if err == "EINTR" else "timeout" if ret == 0 else f"{ret} event" + ("s" if ret != 1 else "")
                    for mask, efd in EVENT.findall(args):
                        events.append([i, t, other(int(efd)), mask])
                elif name == "epoll_ctl":
                    op = args.split(",")[1].strip().replace("EPOLL_CTL_", "")
                    target = int(args.split(",")[2])
                    em = re.search(r"events=([A-Z|]+)", args)
                    mask = em.group(1) if em else ""
                    ln = other(target)
                    kind, label = "ctl", f"{op} {mask}".strip()
                    sp = spans.setdefault(ln, [])
                    if sp and sp[-1][1] is None:
                        sp[-1][1] = t
                    if op in ("ADD", "MOD"):
                        sp.append([t, None, mask])
                elif name == "accept4" and ret >= 0:
                    peer = accept_queue.pop(0) if accept_queue else None
                    if peer is not None:
                        fd_lane[("fd", ret)] = conn_lane[peer]
                        lanes[conn_lane[peer]]["name"] += f" <-> fd {ret}"
                        lanes[conn_lane[peer]]["detail"] = f"peer#{peer} <-> server fd {ret} (accepted at {t / 1e6:.3f} ms)"
                elif name in ("read", "recv", "recvfrom") and ret > 0:
                    a = read.get(ln, 0); read[ln] = a + ret
                    kind, label, mark[4:6] = "read", f"read {ret}", [a, a + ret]
                    q(ln, "in", t, sent.get(ln, 0) - read[ln])
                elif name in ("read", "recv", "recvfrom") and ret == 0:
                    kind, label = "read", "read 0 (EOF)"
                elif name in ("write", "send", "sendto") and ret > 0:
                    a = wrote.get(ln, 0); wrote[ln] = a + ret
                    kind, label, mark[4:6] = "write", f"write {ret}", [a, a + ret]
                    q(ln, "out", t, wrote[ln] - recvd.get(ln, 0))
                if ret < 0 and kind not in ("wait",):
                    kind, label = ("eagain", f"{name} EAGAIN") if err == "EAGAIN" else ("error", f"{name} {err}")
                mark = [t, ln, kind, label[:40], mark[4], mark[5]]
                if name == "close" and fd is not None and ("fd", fd) in fd_lane and fd not in self.listeners | self.epolls:
                    sp = spans.get(ln)
                    if sp and sp[-1][1] is None:
                        sp[-1][1] = t
                    del fd_lane[("fd", fd)]
            elif i == len(self.parsed) - 1 or text.startswith(("case:", "faults:")):
                mark = [t, 0, "info", text.split(" in ")[0][:40], -1, -1]
            marks.append(mark)
        end = self.parsed[-1][0] if self.parsed else 0
        interest = [{"lane": ln, "spans": [[a, end if b is None else b, m] for a, b, m in sp]} for ln, sp in sorted(spans.items())]
        qs = [{"lane": ln, "dir": d, "points": pts} for (ln, d), pts in sorted(queues.items())]
        story = []
        for peer in self.connect_order:
            ln = conn_lane[peer]
            story.append(f"peer#{peer} sent {sent.get(ln, 0):,} bytes; the server read {read.get(ln, 0):,}, "
                         f"wrote {wrote.get(ln, 0):,}; the peer received {recvd.get(ln, 0):,}.")
        return {"version": 1, "lanes": lanes, "marks": marks, "queues": qs, "interest": interest,
                "events": events, "end": end, "lines": self.lines, "story": story,
                "ending": self.parsed[-1][1] if self.parsed else "", "_fd_lane": fd_lane}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("trace")
    ap.add_argument("out")
    ap.add_argument("--case")
    ap.add_argument("--title")
    a = ap.parse_args()
    with open(a.trace, encoding="utf-8") as f:
        lines = f.read().rstrip("\n").split("\n")
    run = Run(lines)
    d = run.build()
    fd_lane = d.pop("_fd_lane")
    d["title"] = a.title or a.trace.rsplit("/", 1)[-1]
    d["verdict"], d["violations"] = ["clean: no oracle fired"], []
    if a.case:
        with open(a.case, encoding="utf-8") as f:
            for l in f:
                m = VIOLATION.match(l)
                if not m:
                    continue
                at = ns(m.group(3))
                text = l[len("# violation: "):].strip()
                last = max([i for i, mk in enumerate(d["marks"]) if mk[0] <= at] or [0])
                conn = [i for i, ln in enumerate(d["lanes"]) if ln["name"].endswith(f"<-> fd {m.group(2)}")]
                d["violations"].append({"oracle": m.group(1), "at": at, "lane": conn[-1] if conn else 0,
                                        "line": last, "text": text, "story": []})
        if d["violations"]:
            d["verdict"] = [v["text"] for v in d["violations"]]
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(d, f, indent=None, separators=(",", ":"))


if __name__ == "__main__":
    main()
