/* A static archive's code, as a library the handler links (libuv_a.a, libevent.a): its calls
   are routed like the handler's own when edgecase_add_handler links it (LIBRARIES). */
#include <unistd.h>

int probe_archive_pipe(int fds[2]) { return pipe(fds); }
