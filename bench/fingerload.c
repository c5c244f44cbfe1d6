/*
 * fingerload: a small finger load generator (one thread, epoll).
 *
 * Keeps CONCURRENCY connections busy for SECONDS: each connects, sends
 * QUERY + CRLF, reads the reply until the server closes, and starts again.
 * Prints one JSON object: requests, errors, qps, latency percentiles (ms) and
 * its own CPU time, so a benchmark can show it is not the bottleneck.
 *
 *   fingerload [-s SOURCES] [-e EXPECT] HOST PORT CONCURRENCY SECONDS QUERY
 *
 * -s N binds connection i to source address 127.0.0.(1 + i % N), as N
 * clients would (per-client connection limits).  -e PREFIX counts replies
 * not starting with PREFIX as errors.  SIGINT/SIGTERM stop it early (it still
 * prints its results).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct slot {
    int fd;
    size_t sent;
    size_t received;
    char head[64];
    double started;
    int index;
};

static volatile sig_atomic_t stopping = 0;
static struct sockaddr_in target;
static char request[1100];
static size_t requestLength;
static const char *expect = NULL;
static int sources = 0;
static uint32_t *latencies;
static size_t count = 0, capacity = 0;
static long errors = 0;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void onSignal(int sig) { (void)sig; stopping = 1; }

static void record(double seconds) {
    if (count == capacity) {
        capacity = capacity ? capacity * 2 : 65536;
        latencies = realloc(latencies, capacity * sizeof *latencies);
        if (!latencies) { perror("realloc"); exit(2); }
    }
    latencies[count++] = (uint32_t)(seconds * 1e6);
}

static int start(int epfd, struct slot *s) {
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (s->fd < 0) { perror("socket"); return -1; }
    if (sources > 0) {
        struct sockaddr_in local = {0};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(0x7f000001 + (s->index % sources));
        if (bind(s->fd, (struct sockaddr *)&local, sizeof local) < 0) { perror("bind"); return -1; }
    }
    s->sent = s->received = 0;
    s->head[0] = 0;
    s->started = now();
    if (connect(s->fd, (struct sockaddr *)&target, sizeof target) < 0 && errno != EINPROGRESS) {
        errors++;
        close(s->fd);
        s->fd = -1;
        return 0;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = s};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) { perror("epoll_ctl"); return -1; }
    return 0;
}

static void finish(int epfd, struct slot *s, int ok) {
    epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
    close(s->fd);
    s->fd = -1;
    if (ok && s->received > 0 &&
        (!expect || strncmp(s->head, expect, strlen(expect)) == 0)) {
        record(now() - s->started);
    } else {
        errors++;
    }
}

static int compare(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static double percentile(double p) {
    if (!count) return 0;
    size_t i = (size_t)(p * (count - 1) + 0.5);
    return latencies[i] / 1000.0;
}

int main(int argc, char **argv) {
    int opt;
    while ((opt = getopt(argc, argv, "s:e:")) != -1) {
        if (opt == 's') sources = atoi(optarg);
        else if (opt == 'e') expect = optarg;
        else return 2;
    }
    if (argc - optind != 5) {
        fprintf(stderr, "usage: %s [-s SOURCES] [-e EXPECT] HOST PORT CONCURRENCY SECONDS QUERY\n", argv[0]);
        return 2;
    }
    target.sin_family = AF_INET;
    target.sin_port = htons(atoi(argv[optind + 1]));
    if (inet_pton(AF_INET, argv[optind], &target.sin_addr) != 1) { fprintf(stderr, "bad host\n"); return 2; }
    int concurrency = atoi(argv[optind + 2]);
    double seconds = atof(argv[optind + 3]);
    requestLength = snprintf(request, sizeof request, "%s\r\n", argv[optind + 4]);
    signal(SIGINT, onSignal);
    signal(SIGTERM, onSignal);
    signal(SIGPIPE, SIG_IGN);

    int epfd = epoll_create1(0);
    struct slot *slots = calloc(concurrency, sizeof *slots);
    double began = now(), deadline = began + seconds;
    for (int i = 0; i < concurrency; i++) {
        slots[i].index = i;
        if (start(epfd, &slots[i]) < 0) return 2;
    }
    struct epoll_event events[256];
    char buffer[65536];
    while (!stopping && now() < deadline) {
        int n = epoll_wait(epfd, events, 256, 100);
        for (int k = 0; k < n; k++) {
            struct slot *s = events[k].data.ptr;
            if (s->fd < 0) continue;
            if (s->sent < requestLength && (events[k].events & EPOLLOUT)) {
                ssize_t w = send(s->fd, request + s->sent, requestLength - s->sent, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN) { finish(epfd, s, 0); goto next; }
                if (w > 0) s->sent += w;
                if (s->sent == requestLength) {
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = s};
                    epoll_ctl(epfd, EPOLL_CTL_MOD, s->fd, &ev);
                }
            }
            if (events[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                for (;;) {
                    ssize_t r = recv(s->fd, buffer, sizeof buffer, 0);
                    if (r > 0) {
                        if (s->received < sizeof s->head - 1) {
                            size_t room = sizeof s->head - 1 - s->received;
                            size_t take = (size_t)r < room ? (size_t)r : room;
                            memcpy(s->head + s->received, buffer, take);
                            s->head[s->received + take] = 0;
                        }
                        s->received += r;
                        continue;
                    }
                    if (r == 0) { finish(epfd, s, 1); break; }
                    if (errno == EAGAIN) break;
                    finish(epfd, s, 0);
                    break;
                }
            }
        next:
            if (s->fd < 0 && start(epfd, s) < 0) return 2;
        }
    }
    double elapsed = now() - began;
    qsort(latencies, count, sizeof *latencies, compare);
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
                 usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
    printf("{\"requests\": %zu, \"errors\": %ld, \"seconds\": %.3f, \"qps\": %.1f, "
           "\"p50_ms\": %.3f, \"p99_ms\": %.3f, \"max_ms\": %.3f, \"cpu_seconds\": %.3f}\n",
           count, errors, elapsed, count / elapsed, percentile(0.50), percentile(0.99),
           count ? latencies[count - 1] / 1000.0 : 0.0, cpu);
    return 0;
}
