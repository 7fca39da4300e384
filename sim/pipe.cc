// Placeholder: fs/pipe.c is being written.
#include <cerrno>
#include "edgecase/sim_kernel.h"
namespace edgecase {
int SimKernel::pipe2(int*, int) { errno = ENOSYS; return -1; }
}  // namespace edgecase
