/*
 * The C host table: glue registers LVM's callbacks; a command context the library did
 * not create is routed to them (configuration, command name, messages, filter refresh).
 * A recording peer checks the command name and update_timeout the host supplied.
 * Usage: client_host SOCKET TMPDIR
 */
#include <lvmetad.h>
#include <lvmetad-compat.h>
#include <sys/wait.h>
#include "harness.h"

struct rec {
	int config_calls, refreshes;
	char last_path[256];
	char logs[8192];
};

static int64_t h_config_int(void *baton, void *cmd, const char *path, int64_t def)
{
	struct rec *r = baton;
	(void)cmd;
	(void)def;
	r->config_calls++;
	snprintf(r->last_path, sizeof(r->last_path), "%s", path);
	return 7;
}

static const char *h_cmd_name(void *baton)
{
	(void)baton;
	return "mytool";
}

static void h_log(void *baton, int level, const char *msg)
{
	struct rec *r = baton;
	size_t n = strlen(r->logs);
	snprintf(r->logs + n, sizeof(r->logs) - n, "%d:%s\n", level, msg);
}

static int h_refresh(void *baton, void *cmd)
{
	struct rec *r = baton;
	(void)cmd;
	r->refreshes++;
	return 1;
}

int main(int argc, char **argv)
{
	struct rec rec = { 0 };
	struct lvmetad_host_ops ops = {
		LVMETAD_HOST_OPS_HEADER,
		.baton = &rec,
		.config_int = h_config_int,
		.cmd_name = h_cmd_name,
		.log = h_log,
		.refresh_filters = h_refresh,
	};
	struct lvmetad_host_ops bad = ops;
	int lvm_cmd = 0; /* stands for LVM's own struct cmd_context */
	struct cmd_context *cmd = (struct cmd_context *)&lvm_cmd;
	char path[4096];
	const char *reason;
	pid_t p;
	int pfd[2];

	if (argc != 3)
		return 2;
	bad.abi_version = 99;
	cap_start();
	CHECK(lvmetad_host_register(NULL) == 0);
	CHECK(lvmetad_host_register(&bad) == 0);
	cap_end();
	CHECK(lvmetad_host_register(&ops) == 1);

	/* a recording peer: hello, then reply OK to get_global_info and report the request */
	snprintf(path, sizeof(path), "%s/rec.sock", argv[2]);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };
		int l = socket(AF_UNIX, SOCK_STREAM, 0);
		strcpy(sa.sun_path, path);
		CHECK(bind(l, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(l, 2) == 0);
		CHECK(pipe(pfd) == 0);
		p = fork();
		if (p == 0) {
			const char *hello = "response = \"OK\"\nprotocol = \"lvmetad\"\nversion = 1\n\n##\n";
			const char *ggi = "response = \"OK\"\nglobal_invalid = 0\nglobal_disable = 0\n"
					  "disable_reason = \"none\"\ndaemon_pid = 1\ntoken = \"filter:0\"\n"
					  "update_cmd = \"\"\nupdate_pid = 0\nupdate_begin = 0\nupdate_timeout = 0\n\n##\n";
			int c = accept(l, NULL, NULL);
			char *m;
			read_msg(c);
			write_all(c, hello, strlen(hello));
			m = read_msg(c);
			write_all(pfd[1], m, strlen(m));
			write_all(c, ggi, strlen(ggi));
			read_msg(c);
			_exit(0);
		}
		close(l);
		close(pfd[1]);
	}
	lvmetad_set_socket(path);
	lvmetad_set_token(NULL);
	CHECK(lvmetad_connect(cmd) == 1);
	CHECK(rec.config_calls == 1);
	CHECK_STR(rec.last_path, "global/lvmetad_update_wait_time");
	CHECK(lvmetad_token_matches(cmd) == 1);
	{
		char req[4096];
		ssize_t n = read(pfd[0], req, sizeof(req) - 1);
		req[n > 0 ? n : 0] = 0;
		CHECK_CONTAINS(req, "cmd = \"mytool\"\n");
		CHECK_CONTAINS(req, "request = \"get_global_info\"\ntoken = \"skip\"\npid = ");
	}
	/* the peer closes: the next call fails, with messages sent to the host's log */
	lvmetad_disconnect();
	lvmetad_make_unused(cmd);
	CHECK(rec.refreshes == 1);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	lvmetad_set_socket(argv[1]);
	lvmetad_set_disabled(cmd, "DIRECT"); /* temporary connection to the real daemon */
	CHECK_CONTAINS(raw_request(argv[1], "request = \"get_global_info\"\ntoken = \"skip\"\n"),
		       "disable_reason = \"DIRECT,\"\n");
	lvmetad_set_disabled(cmd, NULL);
	CHECK_CONTAINS(rec.logs, "0:Internal error: lvmetad_set_disabled: assertion '!reason.is_null()' failed\n");
	lvmetad_host_unregister();
	waitpid(p, NULL, 0);
	return t_done();
}
