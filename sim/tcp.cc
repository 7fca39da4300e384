// Placeholder: TCP on loopback is being written.
#include <cerrno>
#include "sim/socket.h"
namespace edgecase::sim {
Socket* tcp_create(Net&, int, int, unsigned, int* err) { *err = EAFNOSUPPORT; return nullptr; }
}  // namespace edgecase::sim
