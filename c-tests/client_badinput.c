/*
 * Bad input through the C ABI: NULL and foreign pointers, a wrong socket, a bad
 * lvm.conf, a daemon that dies (also while a request is in flight), truncated and
 * garbage replies. Fake peers run in forked children on private sockets.
 * Usage: client_badinput SOCKET TMPDIR   (SOCKET: the bundled daemon)
 */
#include <lvmetad.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "harness.h"

static const char *dir;

enum peer { PEER_CLOSE_ON_REQUEST, PEER_TRUNCATED, PEER_GARBAGE, PEER_WRONG_PROTOCOL };

static const char hello_ok[] = "response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 1\n\n##\n";

/* A peer that answers hello, then misbehaves on the next request. */
static pid_t start_peer(const char *path, enum peer kind)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;
	unlink(path);
	strcpy(sa.sun_path, path);
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 4))
		return -1;
	pid = fork();
	if (pid == 0) {
		int c = accept(l, NULL, NULL);
		read_msg(c);
		if (kind == PEER_WRONG_PROTOCOL) {
			const char *r = "response = \"OK\"\nprotocol = \"lvmpolld\"\nversion = 1\n\n##\n";
			write_all(c, r, strlen(r));
			_exit(0);
		}
		write_all(c, hello_ok, strlen(hello_ok));
		read_msg(c);
		if (kind == PEER_TRUNCATED)
			write_all(c, "response = \"OK\"\nglobal_inv", 26);
		else if (kind == PEER_GARBAGE)
			write_all(c, "{{ ]] not config\n##\n", 20);
		_exit(0); /* PEER_CLOSE_ON_REQUEST: dies with the request in flight */
	}
	close(l);
	return pid;
}

static void reap(pid_t p)
{
	int st;
	if (p > 0)
		waitpid(p, &st, 0);
}

int main(int argc, char **argv)
{
	struct cmd_context *cmd;
	const char *reason = "untouched";
	const char *out;
	char path[4096], conf[2048];
	int dummy = 0;
	pid_t p;
	FILE *f;

	if (argc != 3) {
		fprintf(stderr, "usage: %s SOCKET TMPDIR\n", argv[0]);
		return 2;
	}
	dir = argv[2];
	cmd = lvmetad_cmd_create(dir, NULL, "pvs");
	CHECK(cmd != NULL);

	/* NULL and foreign pointers */
	lvmetad_set_token(NULL);
	lvmetad_set_socket(NULL);
	cap_start();
	lvmetad_set_disabled(cmd, NULL);
	lvmetad_cmd_destroy(NULL);
	lvmetad_cmd_destroy((struct cmd_context *)&dummy);
	CHECK(lvmetad_cmd_init_connections(NULL) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, "Internal error: lvmetad_set_disabled: assertion '!reason.is_null()' failed");
	CHECK_CONTAINS(out, "Internal error: lvmetad_cmd_destroy: assertion");
	CHECK_CONTAINS(out, "Internal error: lvmetad_cmd_init_connections: assertion");
	CHECK(lvmetad_is_disabled(cmd, NULL) == 1); /* never connected: send error */
	CHECK(lvmetad_is_disabled(NULL, &reason) == 1);
	CHECK_STR(reason, "send error");
	CHECK(lvmetad_token_matches(NULL) == 0);
	CHECK(lvmetad_used() == 0);

	/* a bad lvm.conf */
	snprintf(conf, sizeof(conf), "%s/bad", dir);
	mkdir(conf, 0700);
	snprintf(path, sizeof(path), "%s/lvm.conf", conf);
	f = fopen(path, "w");
	fputs("global {\n\tuse_lvmetad = 1\n", f);
	fclose(f);
	cap_start();
	CHECK(lvmetad_cmd_create(conf, NULL, "pvs") == NULL);
	out = cap_end();
	CHECK_CONTAINS(out, "lvm.conf: Parse error at byte");
	cap_start();
	CHECK(lvmetad_cmd_create(dir, "global {", "pvs") == NULL);
	out = cap_end();
	CHECK_CONTAINS(out, "--config: Parse error");

	/* a path that is not a listening socket */
	snprintf(path, sizeof(path), "%s/not-a-socket", dir);
	fclose(fopen(path, "w"));
	lvmetad_set_socket(path);
	cap_start();
	CHECK(lvmetad_connect(cmd) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, ": connect failed: Connection refused");
	CHECK(lvmetad_used() == 0);

	/* wrong protocol */
	snprintf(path, sizeof(path), "%s/peer.sock", dir);
	p = start_peer(path, PEER_WRONG_PROTOCOL);
	lvmetad_set_socket(path);
	cap_start();
	CHECK(lvmetad_connect(cmd) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, "Daemon lvmetad: requested protocol lvmetad != lvmpolld");
	reap(p);

	/* the daemon dies while our request is in flight */
	p = start_peer(path, PEER_CLOSE_ON_REQUEST);
	CHECK(lvmetad_connect(cmd) == 1);
	cap_start();
	CHECK(lvmetad_token_matches(cmd) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, "WARNING: Not using lvmetad after send error (104).");
	CHECK(lvmetad_used() == 0);
	reap(p);

	/* a truncated reply, then EOF */
	p = start_peer(path, PEER_TRUNCATED);
	CHECK(lvmetad_connect(cmd) == 1);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	CHECK_STR(reason, "send error");
	reap(p);

	/* garbage instead of a reply */
	p = start_peer(path, PEER_GARBAGE);
	CHECK(lvmetad_connect(cmd) == 1);
	cap_start();
	CHECK(lvmetad_token_matches(cmd) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, "WARNING: Not using lvmetad after send error (71).");
	reap(p);

	/* the real daemon still works after all that */
	lvmetad_set_socket(argv[1]);
	CHECK(lvmetad_connect(cmd) == 1);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 0);
	lvmetad_disconnect();
	lvmetad_cmd_destroy(cmd);
	return t_done();
}
