/*
 * A C client of the bundled daemon speaking the raw libdaemon protocol over a UNIX
 * socket: the handshake and LVM's request layouts, with exact reply bytes checked.
 * Usage: daemon_protocol SOCKET
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int failures;

static int connect_to(const char *path)
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

static int write_all(int fd, const char *buf, size_t len)
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

/* Read one message including its terminator; returns malloc'd NUL-terminated text. */
static char *read_msg(int fd)
{
	size_t cap = 256, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return NULL;
	for (;;) {
		ssize_t n;
		if (cap - len < 64) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return NULL;
		}
		len += (size_t)n;
		buf[len] = 0;
		if (len >= 4 && !memcmp(buf + len - 4, "\n##\n", 4))
			return buf;
	}
}

static void expect(int fd, const char *name, const char *req, const char *want)
{
	char *got;
	if (write_all(fd, req, strlen(req))) {
		printf("FAIL %s: write\n", name);
		failures++;
		return;
	}
	got = read_msg(fd);
	if (!got || strcmp(got, want)) {
		printf("FAIL %s:\n--- expected\n%s--- got\n%s\n", name, want, got ? got : "(EOF)");
		failures++;
	} else
		printf("ok %s\n", name);
	free(got);
}

int main(int argc, char **argv)
{
	int fd;
	if (argc < 2) {
		fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
		return 2;
	}
	if ((fd = connect_to(argv[1])) < 0) {
		printf("FAIL connect %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	expect(fd, "hello", "request = \"hello\"\n\n##\n",
	       "response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 1\n\n##\n");
	expect(fd, "token mismatch on a fresh daemon",
	       "request=\"pv_list\"\ntoken =\"filter:3108758531\"\nupdate_timeout =10\npid =4242\ncmd =\"pvs\"\n\n##\n",
	       "response = \"token_mismatch\"\nexpected = \"\"\nreceived = \"filter:3108758531\"\nupdate_pid = 0\nreason = \"another command has populated the cache\"\n\n##\n");
	expect(fd, "token_update start",
	       "request=\"token_update\"\ntoken =\"update in progress\"\nupdate_timeout =10\npid =4242\ncmd =\"pvscan\"\n\n##\n",
	       "response = \"OK\"\nprev_token = \"\"\nupdate_pid = 4242\n\n##\n");
	expect(fd, "pv_found orphan",
	       "request=\"pv_found\"\npvmeta  {\n\tdevice =1832\n\tid =\"AAAAAA-1111-2222-3333-4444-5555-000001\"\n}\ntoken =\"update in progress\"\nupdate_timeout =10\npid =4242\ncmd =\"pvscan\"\n\n##\n",
	       "response = \"OK\"\nstatus = \"orphan\"\nchanged = 1\nvgid = \"#orphan\"\nvgname = \"#orphan\"\nseqno_before = -1\nseqno_after = -1\n\n##\n");
	expect(fd, "pv_found duplicate",
	       "request=\"pv_found\"\npvmeta  {\n\tdevice =1835\n\tid =\"AAAAAA-1111-2222-3333-4444-5555-000001\"\n}\ntoken =\"update in progress\"\nupdate_timeout =10\npid =4242\ncmd =\"pvscan\"\n\n##\n",
	       "response = \"failed\"\nreason = \"Ignore duplicate PV\"\n\n##\n");
	expect(fd, "token_update finish",
	       "request=\"token_update\"\ntoken =\"filter:3108758531\"\nupdate_timeout =10\npid =4242\ncmd =\"pvscan\"\n\n##\n",
	       "response = \"OK\"\nprev_token = \"update in progress\"\nupdate_pid = 0\n\n##\n");
	expect(fd, "pv_list",
	       "request=\"pv_list\"\ntoken =\"filter:3108758531\"\nupdate_timeout =10\npid =4243\ncmd =\"pvs\"\n\n##\n",
	       "response=\"OK\"\nphysical_volumes {\n\tAAAAAA-1111-2222-3333-4444-5555-000001 {\n\t\tdevice=1832\n\t\tid=\"AAAAAA-1111-2222-3333-4444-5555-000001\"\n\t}\n}\n\n\n\n##\n");
	close(fd);
	printf("%d passed, %d failed\n", 7 - failures, failures);
	return failures ? 1 : 0;
}
