// The one Catch2 main of every test binary. Writing to a closed pipe or socket on the live
// backend would raise SIGPIPE and kill the run; the simulation never raises it, so the tests
// ignore it and compare the EPIPE both backends return.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <csignal>

int main(int argc, char* argv[]) {
  std::signal(SIGPIPE, SIG_IGN);
  return Catch::Session().run(argc, argv);
}
