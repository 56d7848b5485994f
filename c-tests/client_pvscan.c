/*
 * The seed's Cases 2 and 3 through the C ABI: lvmetad_pvscan_all_devs sets the disabled
 * state when it finds a duplicate PV and clears it once the duplicate is gone;
 * lvmetad_pvscan_single on the duplicate device makes lvmetad disable itself.
 * Devices are real PV images named in devices/scan (IMAGES: a directory holding
 * c01_orphan_default.img, c09_dup_a.img, c04_vg1_pv1.img, c04_vg1_pv2.img).
 * Usage: client_pvscan SOCKET TMPDIR   (env IMAGES)
 */
#include <lvmetad.h>
#include "harness.h"

static const char *dir, *img;

static struct cmd_context *make_cmd(int with_dup)
{
	char path[4096];
	FILE *f;
	struct cmd_context *cmd;
	snprintf(path, sizeof(path), "%s/lvm.conf", dir);
	f = fopen(path, "w");
	fprintf(f, "devices {\n\tscan = [ \"%s/c04_vg1_pv1.img\", \"%s/c04_vg1_pv2.img\", \"%s/c01_orphan_default.img\"",
		img, img, img);
	if (with_dup)
		fprintf(f, ", \"%s/c09_dup_a.img\"", img);
	fprintf(f, " ]\n\tglobal_filter = [ \"a|\\\\.img$|\", \"r|.*|\" ]\n}\n");
	fclose(f);
	cmd = lvmetad_cmd_create(dir, NULL, "pvscan");
	if (cmd)
		lvmetad_cmd_init_connections(cmd);
	return cmd;
}

int main(int argc, char **argv)
{
	struct cmd_context *cmd;
	struct device *dev;
	const char *reason = NULL, *out;
	char path[4096];
	char *r;

	if (argc != 3 || !getenv("IMAGES")) {
		fprintf(stderr, "usage: IMAGES=DIR %s SOCKET TMPDIR\n", argv[0]);
		return 2;
	}
	setenv("LVM_LVMETAD_SOCKET", argv[1], 1);
	dir = argv[2];
	img = getenv("IMAGES");

	/* Case 2, no duplicate: full scan, three PVs, VG vg1 complete, enabled */
	cmd = make_cmd(0);
	CHECK(cmd != NULL);
	CHECK(lvmetad_used() == 1);
	CHECK(lvmetad_token_matches(cmd) == 0);
	CHECK(lvmetad_pvscan_all_devs(cmd, 1, NULL) == 1);
	CHECK(lvmetad_token_matches(cmd) == 1);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 0);
	r = raw_request(argv[1], "request = \"vg_list\"\ntoken = \"skip\"\n");
	CHECK_CONTAINS(r, "name=\"vg1\"");
	r = raw_request(argv[1], "request = \"pv_list\"\ntoken = \"skip\"\n");
	CHECK_CONTAINS(r, "id=\"tn32zB-xhLR-ExD4-B1SP-LGyC-pV4K-UD6eeR\"");
	lvmetad_cmd_destroy(cmd);

	/* Case 2 with the duplicate: the scan fails, lvmetad disabled with DUPLICATES */
	cmd = make_cmd(1);
	cap_start();
	CHECK(lvmetad_pvscan_all_devs(cmd, 1, NULL) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, "WARNING: found device with duplicate ");
	CHECK_CONTAINS(out, "c09_dup_a.img\n  WARNING: Disabling lvmetad cache which does not support duplicate PVs.\n"
			    "  WARNING: Scan found duplicate PVs.\n");
	CHECK(lvmetad_used() == 0);
	CHECK(lvmetad_connect(cmd) == 1);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	CHECK_STR(reason, "duplicate PVs were found");
	lvmetad_cmd_destroy(cmd);

	/* the duplicate goes away: a full scan clears the disabled state */
	cmd = make_cmd(0);
	CHECK(lvmetad_pvscan_all_devs(cmd, 1, NULL) == 1);
	CHECK(lvmetad_is_disabled(cmd, &reason) == 0);
	lvmetad_cmd_destroy(cmd);

	/* Case 3: pvscan of the duplicate device alone; lvmetad detects it and disables */
	cmd = make_cmd(1);
	CHECK(lvmetad_token_matches(cmd) == 1);
	snprintf(path, sizeof(path), "%s/c09_dup_a.img", img);
	dev = lvmetad_dev_get(cmd, path);
	CHECK(dev != NULL);
	cap_start();
	CHECK(lvmetad_pvscan_single(cmd, dev, NULL, NULL) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, "Request to update PV tn32zB-xhLR-ExD4-B1SP-LGyC-pV4K-UD6eeR in lvmetad gave response failed. Reason: Ignore duplicate PV");
	CHECK(lvmetad_is_disabled(cmd, &reason) == 1);
	CHECK_STR(reason, "duplicate PVs were found");

	/* pv_gone for it, by device and by number */
	CHECK(lvmetad_pv_gone_by_dev(dev) == 1);
	CHECK(lvmetad_pv_gone(12345, "nothing") == 1);
	snprintf(path, sizeof(path), "%s/nope.img", img);
	CHECK(lvmetad_dev_get(cmd, path) == NULL);
	cap_start();
	CHECK(lvmetad_pvscan_single(cmd, NULL, NULL, NULL) == 0);
	CHECK(lvmetad_pvscan_all_devs(NULL, 1, NULL) == 0);
	out = cap_end();
	CHECK_CONTAINS(out, "Internal error: lvmetad_pvscan_single: assertion");
	lvmetad_cmd_destroy(cmd);
	lvmetad_release_token();
	lvmetad_disconnect();
	return t_done();
}
