/* A correct libuv TCP echo server, against libuv's public API only (uv.h): what libuv's
 * published tcp-echo-server/main.c (beside it) gets wrong, done right.
 *
 * - SIGPIPE is ignored. libuv writes with write()/writev(), never with MSG_NOSIGNAL, so a write
 *   to a connection the peer reset raises SIGPIPE; every libuv program that writes to sockets
 *   ignores it (Node does, at startup), and the write then fails with UV_EPIPE.
 * - At end of file the server stops reading and, once every write it queued has completed,
 *   shuts its side down (uv_shutdown, which sends FIN after the queued data) and closes the
 *   handle in the shutdown callback. main.c calls uv_close at end of file, which cancels the
 *   writes still queued for a slow reader: the end of its reply is lost.
 * - A read or write error closes the handle (once; uv_close cancels the remaining writes).
 *
 * Usage: echo_correct [port]   (default 7000), listening on 0.0.0.0.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#define DEFAULT_PORT 7000
#define DEFAULT_BACKLOG 128

typedef struct {
    uv_tcp_t tcp;                /* first: a uv_handle_t* to it is a client_t* */
    uv_shutdown_t shutdown_req;
    size_t writes_pending;       /* uv_write calls whose callback has not run yet */
    int eof;                     /* the peer has half-closed: no more reads */
    int shutting_down;           /* uv_shutdown called */
} client_t;

typedef struct {
    uv_write_t req;
    uv_buf_t buf;
} write_req_t;

static uv_loop_t *loop;

static void on_close(uv_handle_t *handle) {
    free(handle);
}

static void close_client(client_t *c) {
    if (!uv_is_closing((uv_handle_t *) &c->tcp))
        uv_close((uv_handle_t *) &c->tcp, on_close);
}

static void on_shutdown(uv_shutdown_t *req, int status) {
    (void) status;  /* done or failed, the connection is over either way */
    close_client((client_t *) req->handle);
}

/* After end of file, once the last queued write has completed: FIN after all the data. */
static void maybe_shutdown(client_t *c) {
    if (!c->eof || c->writes_pending > 0 || c->shutting_down ||
        uv_is_closing((uv_handle_t *) &c->tcp))
        return;
    c->shutting_down = 1;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *) &c->tcp, on_shutdown) != 0)
        close_client(c);
}

static void on_write(uv_write_t *req, int status) {
    write_req_t *wr = (write_req_t *) req;
    client_t *c = (client_t *) req->handle;
    free(wr->buf.base);
    free(wr);
    c->writes_pending--;
    if (status < 0) {
        if (status != UV_ECANCELED)
            fprintf(stderr, "write error: %s\n", uv_strerror(status));
        close_client(c);
        return;
    }
    maybe_shutdown(c);
}

static void alloc_buffer(uv_handle_t *handle, size_t suggested_size, uv_buf_t *buf) {
    (void) handle;
    buf->base = malloc(suggested_size);
    buf->len = buf->base != NULL ? suggested_size : 0;  /* 0: libuv reports UV_ENOBUFS */
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf) {
    client_t *c = (client_t *) stream;
    if (nread > 0) {
        write_req_t *wr = malloc(sizeof *wr);
        if (wr == NULL) {
            free(buf->base);
            close_client(c);
            return;
        }
        wr->buf = uv_buf_init(buf->base, (unsigned int) nread);
        if (uv_write(&wr->req, stream, &wr->buf, 1, on_write) != 0) {
            free(wr->buf.base);
            free(wr);
            close_client(c);
            return;
        }
        c->writes_pending++;
        return;
    }
    free(buf->base);
    if (nread == UV_EOF) {
        uv_read_stop(stream);
        c->eof = 1;
        maybe_shutdown(c);
    } else if (nread < 0) {
        fprintf(stderr, "read error: %s\n", uv_err_name((int) nread));
        close_client(c);
    }
}

static void on_new_connection(uv_stream_t *server, int status) {
    if (status < 0) {
        fprintf(stderr, "new connection error: %s\n", uv_strerror(status));
        return;  /* libuv keeps listening */
    }
    client_t *c = calloc(1, sizeof *c);
    if (c == NULL)
        return;  /* the connection waits in the backlog for the next callback */
    uv_tcp_init(loop, &c->tcp);
    if (uv_accept(server, (uv_stream_t *) &c->tcp) != 0 ||
        uv_read_start((uv_stream_t *) &c->tcp, alloc_buffer, on_read) != 0)
        close_client(c);
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : DEFAULT_PORT;
    struct sockaddr_in addr;
    uv_tcp_t server;
    int r;

    signal(SIGPIPE, SIG_IGN);
    loop = uv_default_loop();
    uv_tcp_init(loop, &server);
    uv_ip4_addr("0.0.0.0", port, &addr);
    r = uv_tcp_bind(&server, (const struct sockaddr *) &addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *) &server, DEFAULT_BACKLOG, on_new_connection);
    if (r != 0) {
        fprintf(stderr, "listen error: %s\n", uv_strerror(r));
        return 1;
    }
    return uv_run(loop, UV_RUN_DEFAULT);
}
