// The edgecase subcommands that work on case files: run, replay, case, hashes.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "tools/so_handler.h"
#include "tools/timeline_files.h"

namespace edgecase::tools {

// Adds a seed option: decimal digits, or 0x and hex digits, that fit 64 bits; anything else
// (a sign, junk, a longer number) is a usage error rather than a wrapped or capped seed.
void seed_option(CLI::App* app, const char* name, uint64_t& seed, const char* help);

struct WorldCommands {
  // run / replay
  std::string case_path;
  std::string trace_path;   // run: write the trace there; replay: compare against it
  std::string backend = "sim";  // run: sim or live
  bool isolate = true;          // run, replay: the handler runs in a child process
  SharedObject so;              // run, replay: the case's handler from a shared object
  TimelineFiles timeline;       // run, replay: --timeline, --perfetto
  // case
  std::string out_path;
  std::string faults = "all";
  uint32_t peers = 4;
  uint32_t messages = 16;
  uint64_t max_message = 2048;
  // case --generated PROTOCOL: the hunt's case for the seed (case_from_seed) instead of the
  // echo shape, for --handler listening on --port.
  std::string generated;
  std::string handler = "echo";
  uint16_t port = 7000;
  uint64_t seed = 1;
  // hashes
  uint64_t seeds = 100;

  CLI::App* run = nullptr;
  CLI::App* replay = nullptr;
  CLI::App* make_case = nullptr;
  CLI::App* hashes = nullptr;

  void add_to(CLI::App& app);
  // The exit code of the subcommand that was parsed, or -1 if none of these was.
  int dispatch();
};

}  // namespace edgecase::tools
