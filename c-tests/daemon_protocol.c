/*
 * A C client of the bundled daemon speaking the raw libdaemon protocol over a UNIX
 * socket: the handshake and LVM's request layouts, with exact reply bytes checked.
 * Usage: daemon_protocol SOCKET
 */
#include "harness.h"

static void expect(int fd, const char *name, const char *req, const char *want)
{
	char *got;
	if (write_all(fd, req, strlen(req))) {
		printf("FAIL %s: write\n", name);
		t_fail++;
		return;
	}
	got = read_msg(fd);
	if (!got || strcmp(got, want)) {
		printf("FAIL %s:\n--- expected\n%s--- got\n%s\n", name, want, got ? got : "(EOF)");
		t_fail++;
	} else {
		printf("ok %s\n", name);
		t_pass++;
	}
}

int main(int argc, char **argv)
{
	int fd;
	if (argc < 2) {
		fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
		return 2;
	}
	if ((fd = sock_connect(argv[1])) < 0) {
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
	return t_done();
}
