// Seed 001's prelude: what its post leaves out. The post shows main() alone; it uses these
// headers' names unqualified (cout, endl, vector, string) and a macro ERR_EXIT it never
// defines. Force-included before 001_server.cc (-include, posix/CMakeLists.txt), so that the
// published text compiles unchanged. ERR_EXIT is the usual definition of the Chinese network
// programming tutorials the post follows: perror, then exit(EXIT_FAILURE) (the layer ends the
// run there: handler-exited).
#pragma once

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

using namespace std;

#define ERR_EXIT(m)     \
  do {                  \
    perror(m);          \
    exit(EXIT_FAILURE); \
  } while (0)
