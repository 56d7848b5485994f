/* Small test harness shared by the C tests: checks, stderr capture, raw protocol. */
#ifndef LVMETAD_RS_CTEST_HARNESS_H
#define LVMETAD_RS_CTEST_HARNESS_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int t_pass, t_fail;

#define CHECK(cond) do { \
	if (cond) t_pass++; \
	else { t_fail++; printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (g_ && !strcmp(g_, w_)) t_pass++; \
	else { t_fail++; printf("FAIL %s:%d: got \"%s\", want \"%s\"\n", __FILE__, __LINE__, g_ ? g_ : "(null)", w_); } \
} while (0)

#define CHECK_CONTAINS(hay, needle) do { \
	const char *h_ = (hay), *n_ = (needle); \
	if (h_ && strstr(h_, n_)) t_pass++; \
	else { t_fail++; printf("FAIL %s:%d: \"%s\" not in:\n%s\n", __FILE__, __LINE__, n_, h_ ? h_ : "(null)"); } \
} while (0)

static __attribute__((unused)) int t_done(void)
{
	printf("%d passed, %d failed\n", t_pass, t_fail);
	return t_fail ? 1 : 0;
}

/* stderr capture: everything written to fd 2 between cap_start and cap_end */
static int cap_saved = -1;
static char cap_path[] = "/tmp/lvmetad-ctest-cap.XXXXXX";
static char cap_buf[65536];

static __attribute__((unused)) void cap_start(void)
{
	int fd;
	fflush(stderr);
	strcpy(cap_path, "/tmp/lvmetad-ctest-cap.XXXXXX");
	fd = mkstemp(cap_path);
	cap_saved = dup(2);
	dup2(fd, 2);
	close(fd);
}

static __attribute__((unused)) const char *cap_end(void)
{
	int fd;
	ssize_t n;
	fflush(stderr);
	dup2(cap_saved, 2);
	close(cap_saved);
	fd = open(cap_path, O_RDONLY);
	n = fd >= 0 ? read(fd, cap_buf, sizeof(cap_buf) - 1) : 0;
	cap_buf[n > 0 ? n : 0] = 0;
	if (fd >= 0)
		close(fd);
	unlink(cap_path);
	return cap_buf;
}

static __attribute__((unused)) int sock_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static __attribute__((unused)) int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one framed message into a static buffer (terminator included); NULL on EOF. */
static char msg_buf[1 << 20];
static __attribute__((unused)) char *read_msg(int fd)
{
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, msg_buf + len, sizeof(msg_buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		len += (size_t)n;
		msg_buf[len] = 0;
		if (len >= 4 && !memcmp(msg_buf + len - 4, "\n##\n", 4))
			return msg_buf;
	}
}

/* One request on a fresh connection; returns the reply (static buffer). */
static __attribute__((unused)) char *raw_request(const char *sock, const char *body)
{
	static char req[4096];
	char *r;
	int fd = sock_connect(sock);
	if (fd < 0)
		return NULL;
	snprintf(req, sizeof(req), "%s\n##\n", body);
	if (write_all(fd, req, strlen(req))) {
		close(fd);
		return NULL;
	}
	r = read_msg(fd);
	close(fd);
	return r;
}

#endif
