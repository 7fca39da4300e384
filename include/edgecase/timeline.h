// A picture of a run: every connection, listener, epoll instance and pipe as a lane over
// virtual time, with the bytes each side sent and read, the bytes queued each way, the events
// epoll delivered and the interest registered, the handler's calls, the faults, and the
// violation where its oracle placed it (docs/TIMELINE.md).
//
//   edgecase::Timeline t = edgecase::record_timeline(my_server, the_case);
//   write_file("run.html", edgecase::timeline_html(t));        // opens from disk, no network
//   write_file("run.json", edgecase::timeline_perfetto(t));    // Perfetto UI, chrome://tracing
//   for (const std::string& s : edgecase::explain(t)) fmt::print("  {}\n", s);
//
// Timelines are drawn from the simulation's trace (a live run keeps only the trace's tail):
// the same case gives the same files on any build.
#pragma once

#include <string>
#include <vector>

#include "edgecase/runner.h"

namespace edgecase {

struct Timeline {
  std::string title;               // "seed002: seed002-lost-read-event.case"
  std::string protocol;            // the case's: the story's words (echo: messages echoed)
  Report report;                   // the verdict, as run_case gives it
  std::vector<std::string> trace;  // every line of the run's trace, in order
};

// Runs the case in the simulation, in this process (RunOptions::backend and isolate are
// ignored: a handler that crashes ends the caller; run it isolated first, as the edgecase
// command does), judged as run_case judges it, keeping its whole trace.
Timeline record_timeline(const Handler& handler, const Case& c, RunOptions options = {});
// The handler the case names, from options.handlers; std::invalid_argument if unknown.
Timeline record_timeline(const Case& c, RunOptions options);

// What happened, in plain words, one sentence per line: for each violation, what its peer sent
// and in how many segments, what the server read and wrote back, and why no event came, e.g.
// "the server holds 1 unread byte (byte 10240) on fd 5, registered EPOLLIN|EPOLLET; no event is
// pending". A clean run: one line saying so, with what was moved.
std::vector<std::string> explain(const Timeline& t);

// One self-contained HTML page (inline SVG and script: no network access, opens from disk):
// lanes, zoom, aggregation of marks closer than a few pixels, each mark's trace line on hover.
// Every trace line is in it exactly once, in the JSON of its element #edgecase-data.
std::string timeline_html(const Timeline& t);

// The run in the Chrome trace event format (JSON object form), for Perfetto's UI and
// chrome://tracing: a thread per lane, one instant event per trace line (args.line holds the
// line), counters for the queued bytes, and the violations as global instant events.
std::string timeline_perfetto(const Timeline& t);

}  // namespace edgecase
