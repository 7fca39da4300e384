#!/usr/bin/env python3
"""Writes a large synthetic timeline data file (schema version 1, docs/TIMELINE.md, "The page's data") to check the
page's aggregation and speed: --marks trace lines spread over --conns connection lanes, with queues,
interest changes, epoll events, faults, errors and one violation. Deterministic (--seed).

    tests/timeline/gen_big.py OUT.json [--marks 50000] [--conns 40] [--seed 1] [--clean]
"""
import argparse
import json
import random


def ms(t):
    return f"[{t / 1e6:11.3f}ms]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out")
    ap.add_argument("--marks", type=int, default=50000)
    ap.add_argument("--conns", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--clean", action="store_true", help="no violation")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    lines, marks, events = [], [], []
    lanes = [{"name": "world", "kind": "world", "detail": "the case"},
             {"name": "handler", "kind": "handler", "detail": "calls on no fd"},
             {"name": "listener fd 3 :8080", "kind": "listener", "detail": "0.0.0.0:8080"},
             {"name": "epoll fd 4", "kind": "epoll", "detail": "epoll_create1(0) = 4"}]
    first_conn = len(lanes)
    for c in range(a.conns):
        lanes.append({"name": f"peer#{c + 1} :{32768 + c} <-> fd {5 + c}", "kind": "connection",
                      "detail": f"peer#{c + 1} 127.0.0.1:{32768 + c} <-> server fd {5 + c}"})
    t = 0
    sent = [0] * a.conns      # bytes the peer sent
    read = [0] * a.conns      # bytes the server read
    wrote = [0] * a.conns
    recvd = [0] * a.conns
    qin = [[[0, 0]] for _ in range(a.conns)]
    qout = [[[0, 0]] for _ in range(a.conns)]
    interest = [[] for _ in range(a.conns)]
    cur_mask = [None] * a.conns

    def add(line, lane, kind, label, f=-1, to=-1):
        lines.append(f"{ms(t)} {line}")
        marks.append([t, lane, kind, label, f, to])

    add("case: handler big, seed 0x1, %d peers" % a.conns, 0, "info", "case")
    add("faults: split=on eintr=on peer-reset=on", 0, "info", "faults")
    for c in range(a.conns):
        lane, fd = first_conn + c, 5 + c
        add(f"epoll_ctl(4, EPOLL_CTL_ADD, {fd}, {{events=EPOLLIN|EPOLLET}}) = 0", lane, "ctl", "ADD EPOLLIN|EPOLLET")
        cur_mask[c] = (t, "EPOLLIN|EPOLLET")
        t += 50
    while len(lines) < a.marks - 2:
        t += rnd.choice([0, 0, 0, 10, 100, 1000])
        c = min(int(rnd.expovariate(1 / (a.conns / 4))), a.conns - 1)   # a few busy connections
        lane, fd = first_conn + c, 5 + c
        r = rnd.random()
        if r < 0.2:
            n = rnd.choice([10, 100, 1024, 4096, 20000])
            add(f"peer#{c + 1}: send {n} = {n}", lane, "send", f"send {n}", sent[c], sent[c] + n)
            add(f"net: 127.0.0.1.{32768 + c} > 127.0.0.1.8080: Flags [P.], seq {sent[c] + 1}:{sent[c] + n + 1}, length {n}",
                lane, "seg-in", f"P. {n}", sent[c], sent[c] + n)
            sent[c] += n
            qin[c].append([t, sent[c] - read[c]])
        elif r < 0.3:
            k = rnd.randint(1, 3)
            cs = sorted(rnd.sample(range(a.conns), k))
            evs = ", ".join(f"{{events=EPOLLIN, data.u64={5 + x}}}" for x in cs)
            add(f"epoll_wait(4, [{evs}], 64, -1) = {k}", 3, "wait", f"{k} events")
            for x in cs:
                events.append([len(lines) - 1, t, first_conn + x, "EPOLLIN"])
        elif r < 0.5:
            avail = sent[c] - read[c]
            if avail == 0:
                add(f"read({fd}, 0x..., 4096) = -1 EAGAIN (Resource temporarily unavailable)", lane, "eagain", "read EAGAIN")
            else:
                n = min(avail, 4096)
                add(f'read({fd}, "...", 4096) = {n}', lane, "read", f"read {n}", read[c], read[c] + n)
                read[c] += n
                qin[c].append([t, sent[c] - read[c]])
        elif r < 0.62:
            n = rnd.choice([10, 100, 4096])
            add(f'write({fd}, "...", {n}) = {n}', lane, "write", f"write {n}", wrote[c], wrote[c] + n)
            wrote[c] += n
            qout[c].append([t, wrote[c] - recvd[c]])
        elif r < 0.72:
            n = wrote[c] - recvd[c]
            if n:
                add(f"net: 127.0.0.1.8080 > 127.0.0.1.{32768 + c}: Flags [P.], length {n}", lane, "seg-out", f"P. {n}", recvd[c], wrote[c])
                add(f"peer#{c + 1}: recv = {n}", lane, "recv", f"recv {n}", recvd[c], wrote[c])
                recvd[c] = wrote[c]
                qout[c].append([t, 0])
            else:
                add(f"net: 127.0.0.1.{32768 + c} > 127.0.0.1.8080: Flags [.], ack 1, length 0", lane, "net", ".")
        elif r < 0.75:
            mask = rnd.choice(["EPOLLIN|EPOLLET", "EPOLLIN|EPOLLOUT|EPOLLET", "EPOLLIN"])
            add(f"epoll_ctl(4, EPOLL_CTL_MOD, {fd}, {{events={mask}}}) = 0", lane, "ctl", "MOD " + mask)
            interest[c].append([cur_mask[c][0], t, cur_mask[c][1]])
            cur_mask[c] = (t, mask)
        elif r < 0.76:
            add(f"fault: eintr on epoll_wait(4)", lane if rnd.random() < 0.5 else 0, "fault", "EINTR injected")
        elif r < 0.765:
            add(f"write({fd}, \"...\", 10) = -1 EPIPE (Broken pipe)", lane, "error", "EPIPE")
        elif r < 0.8:
            add(f"peer#{c + 1}: sleep 1000", lane, "peer", "sleep")
        else:
            add(f"fcntl({fd}, F_GETFL) = 0x802", lane, "call", "fcntl F_GETFL")
    t += 1000
    vc = 0
    if not a.clean:
        lane = first_conn + vc
        n = 7
        add(f"peer#1: send {n} = {n}", lane, "send", f"send {n}", sent[vc], sent[vc] + n)
        sent[vc] += n
        qin[vc].append([t, sent[vc] - read[vc]])
    add("handler stopped (quiescent) in epoll_wait(4)", 0, "info", "stopped")
    end = t
    for c in range(a.conns):
        interest[c].append([cur_mask[c][0], end, cur_mask[c][1]])
    queues = []
    for c in range(a.conns):
        queues.append({"lane": first_conn + c, "dir": "in", "points": qin[c]})
        queues.append({"lane": first_conn + c, "dir": "out", "points": qout[c]})
    d = {"version": 1, "title": f"big synthetic run: {len(lines)} lines, {a.conns} connections",
         "verdict": ["clean: no oracle fired"] if a.clean else
         [f"stall: fd 5 peer#1 {sent[vc] - read[vc]} unread bytes at {ms(end)}: the handler sleeps in epoll_wait"],
         "story": ["A synthetic run to check the timeline's aggregation and speed.",
                   f"{a.conns} peers send and receive; the server reads, writes and changes its interest."],
         "ending": f"stopped (quiescent) in epoll_wait(4) at {ms(end)}",
         "end": end, "lines": lines, "lanes": lanes, "marks": marks, "queues": queues,
         "interest": [{"lane": first_conn + c, "spans": interest[c]} for c in range(a.conns)],
         "events": events,
         "violations": [] if a.clean else [{"oracle": "stall", "at": end, "lane": first_conn + vc, "line": len(lines) - 1,
                                            "text": f"stall: fd 5 peer#1 {sent[vc] - read[vc]} unread bytes",
                                            "story": ["peer#1 waits for a reply that never comes."]}]}
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(d, f, separators=(",", ":"))


if __name__ == "__main__":
    main()
