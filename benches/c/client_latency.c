/*
 * get_global_info round-trip latency through our C ABI (lvmetad_is_disabled) and, when
 * built with -DWITH_LIBDAEMON against a user's LVM2 2.02.188 tree, through LVM's own C
 * libdaemon client doing the same work (daemon_send_simple + reading the same fields),
 * against the same daemon in the same run, in alternating rounds.
 * Usage: client_latency SOCKET [ITERATIONS] [ROUNDS]
 * Build: benches/run-client-latency.sh (LVM2_SRCDIR for the C side).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef WITH_LIBDAEMON
#include "libdevmapper.h"
#include "daemon-client.h"
#endif
#include <lvmetad.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double ours(struct cmd_context *cmd, int n)
{
	const char *reason;
	int i, d = 0;
	double t0 = now_ns();
	for (i = 0; i < n; i++)
		d += lvmetad_is_disabled(cmd, &reason);
	if (d)
		fprintf(stderr, "unexpected: disabled\n");
	return (now_ns() - t0) / n;
}

#ifdef WITH_LIBDAEMON
static double theirs(daemon_handle h, int n)
{
	int i, d = 0;
	double t0 = now_ns();
	for (i = 0; i < n; i++) {
		daemon_reply r = daemon_send_simple(h, "get_global_info",
						    "token = %s", "skip",
						    "pid = %" PRId64, (int64_t)getpid(),
						    "cmd = %s", "bench", NULL);
		if (r.error || strcmp(daemon_reply_str(r, "response", ""), "OK"))
			d++;
		else if (daemon_reply_int(r, "global_disable", 0))
			d += !!strstr(daemon_reply_str(r, "disable_reason", ""), "DIRECT");
		daemon_reply_destroy(r);
	}
	if (d)
		fprintf(stderr, "unexpected: error or disabled\n");
	return (now_ns() - t0) / n;
}
#endif

int main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 20000;
	int rounds = argc > 3 ? atoi(argv[3]) : 7;
	double a[64], b[64];
	int r;
	struct cmd_context *cmd;

	if (argc < 2 || rounds > 64) {
		fprintf(stderr, "usage: %s SOCKET [ITERATIONS] [ROUNDS<=64]\n", argv[0]);
		return 2;
	}
	cmd = lvmetad_cmd_create("/nonexistent", NULL, "bench");
	lvmetad_set_socket(argv[1]);
	if (!lvmetad_connect(cmd)) {
		fprintf(stderr, "cannot connect to %s\n", argv[1]);
		return 1;
	}
#ifdef WITH_LIBDAEMON
	daemon_info info = { .path = "lvmetad", .socket = argv[1], .protocol = "lvmetad",
			     .protocol_version = 1 };
	daemon_handle h = daemon_open(info);
	if (h.socket_fd < 0 || h.error) {
		fprintf(stderr, "libdaemon: cannot connect\n");
		return 1;
	}
	theirs(h, n / 10);
#endif
	ours(cmd, n / 10);
	for (r = 0; r < rounds; r++) {
		a[r] = ours(cmd, n);
#ifdef WITH_LIBDAEMON
		b[r] = theirs(h, n);
#else
		b[r] = 0;
#endif
	}
	qsort(a, rounds, sizeof(double), cmp);
	qsort(b, rounds, sizeof(double), cmp);
	printf("get_global_info round trip, median of %d rounds x %d calls:\n", rounds, n);
	printf("  lvmetad-rs C ABI (lvmetad_is_disabled): %8.2f us\n", a[rounds / 2] / 1000);
#ifdef WITH_LIBDAEMON
	printf("  LVM2 2.02.188 libdaemon client        : %8.2f us\n", b[rounds / 2] / 1000);
	printf("  ratio ours/LVM                         : %8.3f\n", a[rounds / 2] / b[rounds / 2]);
	daemon_close(h);
#else
	printf("  (LVM's libdaemon client not built: set LVM2_SRCDIR)\n");
#endif
	lvmetad_disconnect();
	lvmetad_cmd_destroy(cmd);
	return 0;
}
