/*
 * The VG layer through the C ABI with a native context: lvmetad_vg_lookup (by name, by
 * raw id), lvmetad_get_vgnameids into a real dm_list of vgnameid_list entries,
 * lvmetad_pv_lookup with struct id by value, lvmetad_pv_list_to_lvmcache,
 * lvmetad_vg_is_foreign, a VG update (lvmetad_vg_create, _update_pending, _finish)
 * and removal, lvmetad_vg_export, and the precondition checks on foreign pointers.
 * Devices are real PV images named in devices/scan (IMAGES).
 * Usage: client_vg SOCKET TMPDIR   (env IMAGES)
 */
#include <lvmetad.h>
#include "harness.h"

struct vgnameid_list {
	struct dm_list list;
	const char *vg_name;
	const char *vgid;
};

int main(int argc, char **argv)
{
	struct cmd_context *cmd;
	struct volume_group *vg, *vg2, *nvg;
	struct dm_list names, *e;
	struct id pvid;
	const char *out, *img;
	char path[4096], vgid[33], *text, *r, *p;
	int found = -1, n = 0, saw_vg1 = 0, saw_foreign = 0;
	FILE *f;

	if (argc != 3 || !getenv("IMAGES")) {
		fprintf(stderr, "usage: IMAGES=DIR %s SOCKET TMPDIR\n", argv[0]);
		return 2;
	}
	setenv("LVM_LVMETAD_SOCKET", argv[1], 1);
	img = getenv("IMAGES");
	snprintf(path, sizeof(path), "%s/lvm.conf", argv[2]);
	f = fopen(path, "w");
	fprintf(f, "devices { scan = [ \"%s/c04_vg1_pv1.img\", \"%s/c04_vg1_pv2.img\", "
		"\"%s/c08a_vg_foreign_systemid.img\" ] }\n", img, img, img);
	fclose(f);
	cmd = lvmetad_cmd_create(argv[2], NULL, "vgs");
	CHECK(cmd != NULL);
	CHECK(lvmetad_cmd_init_connections(cmd) == 1);
	CHECK(lvmetad_pvscan_all_devs(cmd, 1, NULL) == 1);

	/* by name */
	vg = lvmetad_vg_lookup(cmd, "vg1", NULL);
	CHECK(vg != NULL);
	CHECK(lvmetad_vg_seqno(vg) > 0);
	text = lvmetad_vg_export(vg);
	CHECK(text != NULL);
	CHECK(strncmp(text, "vg1 {\n", 6) == 0);
	CHECK_CONTAINS(text, "c04_vg1_pv1.img\"");
	/* the VG id, raw 32 bytes */
	p = strstr(text, "\tid=\"");
	CHECK(p != NULL);
	for (p += 5; *p && *p != '"' && n < 32; p++)
		if (*p != '-')
			vgid[n++] = *p;
	vgid[n] = 0;
	CHECK(n == 32);
	free(text);

	/* by raw id */
	vg2 = lvmetad_vg_lookup(cmd, NULL, vgid);
	CHECK(vg2 != NULL);
	CHECK(lvmetad_vg_seqno(vg2) == lvmetad_vg_seqno(vg));
	lvmetad_vg_release(vg2);
	CHECK(lvmetad_vg_lookup(cmd, "nosuch", NULL) == NULL);

	/* names and ids into a real dm_list */
	names.n = names.p = &names;
	CHECK(lvmetad_get_vgnameids(cmd, &names) == 1);
	n = 0;
	for (e = names.n; e != &names; e = e->n) {
		struct vgnameid_list *v = (struct vgnameid_list *)e;
		n++;
		if (!strcmp(v->vg_name, "vg1") && !memcmp(v->vgid, vgid, 32))
			saw_vg1 = 1;
		if (!strcmp(v->vg_name, "vg8foreign"))
			saw_foreign = 1;
	}
	CHECK(n == 2 && saw_vg1 && saw_foreign);

	/* system ids: vg8foreign belongs to "other" */
	CHECK(lvmetad_vg_is_foreign(cmd, "vg1", vgid) == 0);
	r = raw_request(argv[1], "request = \"vg_lookup\"\nname = \"vg8foreign\"\ntoken = \"skip\"\n");
	p = strstr(r, "\tid=\"");
	CHECK(p != NULL);
	{
		char fid[33];
		int k = 0;
		for (p += 5; *p && *p != '"' && k < 32; p++)
			if (*p != '-')
				fid[k++] = *p;
		fid[k] = 0;
		CHECK(lvmetad_vg_is_foreign(cmd, "vg8foreign", fid) == 1);
	}

	/* PVs: list into the cache, look one up by its id (struct id by value) */
	CHECK(lvmetad_pv_list_to_lvmcache(cmd) == 1);
	memcpy(pvid.uuid, "tn32zBxhLRExD4B1SPLGyCpV4KUD6eeR", 32);
	CHECK(lvmetad_pv_lookup(cmd, pvid, &found) == 1);
	memcpy(pvid.uuid, "abcdefABCDEF0123456789abcdefABCD", 32);
	found = -1;
	CHECK(lvmetad_pv_lookup(cmd, pvid, &found) == 1);
	CHECK(found == 0);

	/* an update: the same VG one seqno on */
	text = lvmetad_vg_export(vg);
	{
		char seq[32], *s = strstr(text, "\tseqno="), *buf;
		long old = lvmetad_vg_seqno(vg);
		CHECK(s != NULL);
		buf = malloc(strlen(text) + 32);
		memcpy(buf, text, s - text);
		snprintf(seq, sizeof(seq), "\tseqno=%ld", old + 1);
		strcpy(buf + (s - text), seq);
		strcat(buf, strchr(s + 1, '\n'));
		nvg = lvmetad_vg_create(cmd, buf);
		free(buf);
		CHECK(nvg != NULL);
		CHECK(lvmetad_vg_seqno(nvg) == old + 1);
		CHECK(lvmetad_vg_update_pending(nvg) == 1);
		r = raw_request(argv[1], "request = \"vg_lookup\"\nname = \"vg1\"\ntoken = \"skip\"\n");
		CHECK_CONTAINS(r, "vg_invalid");
		CHECK(lvmetad_vg_update_finish(nvg) == 1);
		r = raw_request(argv[1], "request = \"vg_lookup\"\nname = \"vg1\"\ntoken = \"skip\"\n");
		snprintf(seq, sizeof(seq), "seqno=%ld\n", old + 1);
		CHECK_CONTAINS(r, seq);
		CHECK(strstr(r, "vg_invalid") == NULL);
	}
	free(text);

	/* removal */
	CHECK(lvmetad_vg_remove_pending(nvg) == 1);
	CHECK(lvmetad_vg_remove_finish(nvg) == 1);
	r = raw_request(argv[1], "request = \"vg_list\"\ntoken = \"skip\"\n");
	CHECK(strstr(r, "vg1") == NULL);
	CHECK(lvmetad_vg_clear_outdated_pvs(vg) == 1);
	lvmetad_vg_release(nvg);
	lvmetad_vg_release(vg);

	/* foreign pointers are refused, not followed */
	cap_start();
	CHECK(lvmetad_vg_update_pending(NULL) == 0);
	CHECK(lvmetad_vg_update_finish((struct volume_group *)&names) == 0);
	CHECK(lvmetad_vg_lookup((struct cmd_context *)&names, "vg1", NULL) == NULL);
	CHECK(lvmetad_vg_seqno((struct volume_group *)&names) == -1);
	lvmetad_vg_release((struct volume_group *)&names);
	CHECK(lvmetad_vg_create(cmd, "not metadata") == NULL);
	out = cap_end();
	CHECK_CONTAINS(out, "Internal error: lvmetad_vg_update_pending: assertion '!vg.is_null()' failed");
	CHECK_CONTAINS(out, "Internal error: lvmetad_vg_update_finish: assertion 'a native object or a registered version-2 host' failed");
	CHECK_CONTAINS(out, "Internal error: lvmetad_vg_lookup: assertion");
	CHECK_CONTAINS(out, "Internal error: lvmetad_vg_release: assertion");
	CHECK_CONTAINS(out, "lvmetad_vg_create: no VG metadata in the text");

	lvmetad_cmd_destroy(cmd);
	lvmetad_release_token();
	lvmetad_disconnect();
	return t_done();
}
