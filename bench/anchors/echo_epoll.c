/* echo_epoll: the minimal epoll echo server in C, the limit of the echo
 * benchmarks (bench/compare_net.py): what one thread can do with nothing
 * between it and the kernel.
 *
 *   echo_epoll [--port N]     (0, the default: an ephemeral port)
 *
 * Listens on 127.0.0.1, prints `port N` on stdout once listening, echoes every
 * connection until SIGTERM or SIGINT, then exits 0.
 *
 * One thread, level-triggered epoll. Each readable connection gets one read()
 * into a shared 64 KiB buffer and one write() of what was read; if the write is
 * partial, the rest goes to a per-connection pending buffer and the connection
 * stops reading until it is written (EPOLLOUT), so a slow reader cannot make
 * the server buffer without bound. TCP_NODELAY on every connection. A
 * connection costs a 32-byte struct while idle.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <arpa/inet.h>

struct conn {
    int fd;
    size_t pending_len, pending_off; /* unwritten echo, in pending */
    char *pending;
};

/* Distinct addresses for the two descriptors that are not connections. */
static char listener_tag, signal_tag;

static void die(const char *what) {
    fprintf(stderr, "echo_epoll: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void set_events(int ep, struct conn *c, unsigned events) {
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
}

static void drop(struct conn *c) {
    close(c->fd); /* also takes it out of the epoll set */
    free(c->pending);
    free(c);
}

static void accept_all(int ep, int lfd) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
            /* EMFILE and the like: report, keep serving the others; the
               listener stays readable, so this is retried on the next wakeup. */
            perror("echo_epoll: accept4");
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct conn *c = calloc(1, sizeof *c);
        if (!c) die("calloc");
        c->fd = fd;
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) die("epoll_ctl");
    }
}

/* Writes what is pending; 1 when all of it is written, 0 if not yet, -1 on error. */
static int flush_pending(struct conn *c) {
    while (c->pending_off < c->pending_len) {
        ssize_t w = write(c->fd, c->pending + c->pending_off, c->pending_len - c->pending_off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno == EAGAIN ? 0 : -1;
        }
        c->pending_off += (size_t)w;
    }
    free(c->pending);
    c->pending = NULL;
    c->pending_len = c->pending_off = 0;
    return 1;
}

static void on_readable(int ep, struct conn *c) {
    static char buf[65536];
    ssize_t n = read(c->fd, buf, sizeof buf);
    if (n < 0) {
        if (errno == EAGAIN || errno == EINTR) return;
        drop(c);
        return;
    }
    if (n == 0) {
        drop(c);
        return;
    }
    ssize_t w = write(c->fd, buf, (size_t)n);
    if (w < 0) {
        if (errno != EAGAIN) {
            drop(c);
            return;
        }
        w = 0;
    }
    if (w < n) {
        c->pending = malloc((size_t)(n - w));
        if (!c->pending) die("malloc");
        memcpy(c->pending, buf + w, (size_t)(n - w));
        c->pending_len = (size_t)(n - w);
        c->pending_off = 0;
        set_events(ep, c, EPOLLOUT);
    }
}

static void on_writable(int ep, struct conn *c) {
    int r = flush_pending(c);
    if (r < 0)
        drop(c);
    else if (r > 0)
        set_events(ep, c, EPOLLIN);
}

int main(int argc, char **argv) {
    int port = 0;
    for (int i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: echo_epoll [--port N]\n");
            return 2;
        }
    }

    /* Many idle connections need many descriptors. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN); /* a peer gone mid-write is an EPIPE, not a death */

    /* SIGTERM and SIGINT arrive through a signalfd in the epoll set: no race
       between checking a flag and sleeping in epoll_wait. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0) die("sigprocmask");
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) die("signalfd");

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
    if (listen(lfd, 4096) < 0) die("listen"); /* the kernel caps it at net.core.somaxconn */
    socklen_t len = sizeof addr;
    if (getsockname(lfd, (struct sockaddr *)&addr, &len) < 0) die("getsockname");

    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &listener_tag};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) die("epoll_ctl");
    ev.data.ptr = &signal_tag;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev) < 0) die("epoll_ctl");

    printf("port %d\n", ntohs(addr.sin_port));
    fflush(stdout);

    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int i = 0; i < n; ++i) {
            void *p = evs[i].data.ptr;
            if (p == &signal_tag) return 0; /* the kernel closes the connections */
            if (p == &listener_tag) {
                accept_all(ep, lfd);
                continue;
            }
            struct conn *c = p;
            /* Errors and hang-ups show up as a failed or empty read (or write). */
            if (c->pending)
                on_writable(ep, c);
            else
                on_readable(ep, c);
        }
    }
}
