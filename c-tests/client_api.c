/*
 * Every exported function of the connection/token/disabled layer, through the installed
 * library and header (pkg-config), against the bundled daemon; the seed's Case 1.
 * Usage: client_api SOCKET TMPDIR
 */
#include <lvmetad.h>
#include "harness.h"

static const char *sock, *dir;

static void write_conf(const char *body)
{
	char path[4096];
	FILE *f;
	snprintf(path, sizeof(path), "%s/lvm.conf", dir);
	f = fopen(path, "w");
	fputs(body, f);
	fclose(f);
}

/* What an LVM command does after connecting (lvmcmdline.c, Case 1). Returns 1 when the
 * command may use the cache, 0 when it falls back to scanning; warnings as LVM prints. */
static int case1(struct cmd_context *cmd, int *rescanned)
{
	const char *reason = NULL;
	*rescanned = 0;
	if (!lvmetad_used())
		return 0;
	if (!lvmetad_token_matches(cmd)) {
		if (!lvmetad_used())
			return 0;
		/* stand-in for lvmetad_pvscan_all_devs (scan layer): repopulate the token */
		raw_request(sock, "request=\"token_update\"\ntoken=\"update in progress\"\npid=77\n");
		raw_request(sock, "request=\"token_update\"\ntoken=\"filter:3108758531\"\npid=77\n");
		*rescanned = 1;
	}
	if (lvmetad_is_disabled(cmd, &reason)) {
		fprintf(stderr, "  WARNING: Not using lvmetad because %s.\n", reason);
		lvmetad_make_unused(cmd);
		return 0;
	}
	return 1;
}

int main(int argc, char **argv)
{
	struct cmd_context *cmd;
	const char *reason = NULL;
	const char *out;
	char *r;
	int rescanned;
	char path[4096];

	if (argc != 3) {
		fprintf(stderr, "usage: %s SOCKET TMPDIR\n", argv[0]);
		return 2;
	}
	sock = argv[1];
	dir = argv[2];
	setenv("LVM_LVMETAD_SOCKET", sock, 1);
	write_conf("devices {\n\tglobal_filter = [ \"a|^/dev/loop4[0-3]$|\", \"r|.*|\" ]\n}\n"
		   "global {\n\tuse_lvmetad = 1\n\tlvmetad_update_wait_time = 2\n}\n");

	cmd = lvmetad_cmd_create(dir, NULL, "pvs");
	CHECK(cmd != NULL);
	CHECK(lvmetad_used() == 0);
	CHECK(lvmetad_cmd_init_connections(cmd) == 1);
	CHECK(lvmetad_used() == 1);
	CHECK(lvmetad_socket_present() == 1);

	/* Case 1 on a fresh daemon: token mismatch -> rescan -> enabled -> use the cache */
	CHECK(case1(cmd, &rescanned) == 1);
	CHECK(rescanned == 1);
	CHECK(lvmetad_token_matches(cmd) == 1);
	CHECK(case1(cmd, &rescanned) == 1);
	CHECK(rescanned == 0);

	/* the disabled state, each reason, as LVM reports it */
	CHECK(lvmetad_is_disabled(cmd, &reason) == 0);
	lvmetad_set_disabled(cmd, LVMETAD_DISABLE_REASON_DUPLICATES);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	CHECK_STR(reason, "duplicate PVs were found");
	r = raw_request(sock, "request = \"get_global_info\"\ntoken = \"skip\"\n");
	CHECK_CONTAINS(r, "global_disable = 1\ndisable_reason = \"DUPLICATES,\"\n");
	lvmetad_clear_disabled(cmd);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 0);
	lvmetad_set_disabled(cmd, LVMETAD_DISABLE_REASON_DIRECT);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	CHECK_STR(reason, "the disable flag was set directly");
	lvmetad_clear_disabled(cmd);
	lvmetad_set_disabled(cmd, LVMETAD_DISABLE_REASON_REPAIR);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	CHECK_STR(reason, "a repair command was run");
	lvmetad_clear_disabled(cmd);
	lvmetad_set_disabled(cmd, LVMETAD_DISABLE_REASON_VGRESTORE);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	CHECK_STR(reason, "vgcfgrestore is restoring VG metadata");
	/* set from elsewhere with no reason at all */
	raw_request(sock, "request = \"set_global_info\"\ntoken = \"skip\"\nglobal_disable = 0\n");
	raw_request(sock, "request = \"set_global_info\"\ntoken = \"skip\"\nglobal_disable = 1\n");
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	CHECK_STR(reason, "<unknown>");

	/* Case 1 with the cache disabled: the command falls back to scanning */
	cap_start();
	CHECK(case1(cmd, &rescanned) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, "WARNING: Not using lvmetad because <unknown>.");
	CHECK(lvmetad_used() == 0);
	/* set_disabled after the command stopped using lvmetad: a temporary connection */
	raw_request(sock, "request = \"set_global_info\"\ntoken = \"skip\"\nglobal_disable = 0\n");
	lvmetad_set_disabled(cmd, LVMETAD_DISABLE_REASON_DIRECT);
	r = raw_request(sock, "request = \"get_global_info\"\ntoken = \"skip\"\n");
	CHECK_CONTAINS(r, "disable_reason = \"DIRECT,\"\n");
	/* clear_disabled does nothing when not used */
	lvmetad_clear_disabled(cmd);
	r = raw_request(sock, "request = \"get_global_info\"\ntoken = \"skip\"\n");
	CHECK_CONTAINS(r, "global_disable = 1\n");
	raw_request(sock, "request = \"set_global_info\"\ntoken = \"skip\"\nglobal_disable = 0\n");

	/* lvmetad_set_token with a libdevmapper value list, and release */
	CHECK(lvmetad_connect(cmd) == 1);
	{
		struct dm_config_value v2 = { .type = DM_CFG_STRING, .v.str = "r|.*|" };
		struct dm_config_value v1 = { .type = DM_CFG_STRING, .v.str = "a|^/dev/loop4[0-3]$|", .next = &v2 };
		struct dm_config_value other = { .type = DM_CFG_STRING, .v.str = "a|.*/|" };
		struct dm_config_value num = { .type = DM_CFG_INT, .v.i = 5, .next = &v1 };
		lvmetad_set_token(&v1);
		CHECK(lvmetad_token_matches(cmd) == 1);
		lvmetad_set_token(&other);
		CHECK(lvmetad_token_matches(cmd) == 0);
		CHECK(lvmetad_used() == 1);
		/* a list starting with a non-string value hashes nothing: filter:0 */
		lvmetad_set_token(&num);
		CHECK(lvmetad_token_matches(cmd) == 0);
		lvmetad_release_token();
		CHECK(lvmetad_token_matches(cmd) == 0);
		lvmetad_set_token(&v1);
		CHECK(lvmetad_token_matches(cmd) == 1);
	}

	/* another command holds the update: token_matches waits 2 s, then gives up */
	raw_request(sock, "request=\"token_update\"\ntoken=\"update in progress\"\nupdate_timeout=100\npid=88\ncmd=\"pvscan\"\n");
	cap_start();
	CHECK(lvmetad_token_matches(cmd) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, "WARNING: lvmetad is being updated, retrying (setup) for 2 more seconds.");
	CHECK_CONTAINS(out, "WARNING: Not using lvmetad after 2 sec lvmetad_update_wait_time.");
	CHECK(lvmetad_used() == 0);

	/* pidfile presence follows LVM_LVMETAD_PIDFILE */
	snprintf(path, sizeof(path), "%s/pidfile", dir);
	setenv("LVM_LVMETAD_PIDFILE", path, 1);
	CHECK(lvmetad_pidfile_present() == 0);
	fclose(fopen(path, "w"));
	CHECK(lvmetad_pidfile_present() == 1);

	/* socket path */
	snprintf(path, sizeof(path), "%s/no-such-socket", dir);
	lvmetad_set_socket(path);
	CHECK(lvmetad_socket_present() == 0);
	CHECK(lvmetad_connect(cmd) == 0);
	lvmetad_set_socket(sock);
	CHECK(lvmetad_socket_present() == 1);
	CHECK(lvmetad_connect(cmd) == 1);
	lvmetad_disconnect();
	CHECK(lvmetad_used() == 0);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	CHECK_STR(reason, "send error");
	lvmetad_make_unused(NULL);
	lvmetad_make_unused(cmd);

	/* use_lvmetad = 0: not connected, LVM's warnings when a pidfile exists */
	lvmetad_cmd_destroy(cmd);
	cmd = lvmetad_cmd_create(dir, "global { use_lvmetad = 0 }", "pvs");
	CHECK(cmd != NULL);
	cap_start();
	CHECK(lvmetad_cmd_init_connections(cmd) == 1);
	out = cap_end();
	CHECK(lvmetad_used() == 0);
	CHECK_STR(out, "  WARNING: Not using lvmetad because config setting use_lvmetad=0.\n"
		       "  WARNING: To avoid corruption, rescan devices to make changes visible (pvscan --cache).\n");
	lvmetad_cmd_destroy(cmd);
	lvmetad_release_token();
	return t_done();
}
