// Placeholder: AF_UNIX stream sockets are being written.
#include <cerrno>
#include "sim/socket.h"
namespace edgecase::sim {
int unix_stream_pair(int, int, unsigned, Socket**, Socket**) { return -EOPNOTSUPP; }
}  // namespace edgecase::sim
