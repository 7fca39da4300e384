#include <catch2/catch.hpp>
#include "edgecase/sim_kernel.h"
TEST_CASE("smoke") { edgecase::SimKernel k; REQUIRE(k.epoll_create1(0) == 0); }
