// Seed 000's prelude: the headers its server's code uses and its post's cepollserver.h does not
// include (close from <unistd.h>; memset and strlen from <string.h>). Force-included before
// seeds/000/*.cpp (-include, posix/CMakeLists.txt), so that the published text compiles
// unchanged.
#pragma once

#include <string.h>
#include <unistd.h>
