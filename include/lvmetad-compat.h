/*
 * lvmetad-rs: declarations for glue that runs inside an LVM build (compat/).
 *
 * LVM's tools keep calling the lvmetad.h functions with their own struct cmd_context.
 * Glue compiled in the user's LVM tree fills a struct lvmetad_host_ops with LVM's
 * internals and registers it before the first lvmetad call; the library then hands
 * every cmd pointer it did not create itself back to these callbacks.
 *
 * Ownership: the table is copied by lvmetad_host_register(); the baton and the strings
 * returned by cmd_name() stay owned by the host. Any callback may be NULL, in which case
 * the library's native behaviour is used for that operation.
 * Layout and semantics must match src/ffi/host.rs (checked by tests/compat_layout.rs,
 * which compiles this header and compares every offset and size with the Rust side).
 */
#ifndef LVMETAD_RS_LVMETAD_COMPAT_H
#define LVMETAD_RS_LVMETAD_COMPAT_H

#include <stddef.h>
#include <stdint.h>
#include "lvmetad.h"

struct dm_list;

#ifdef __cplusplus
extern "C" {
#endif

/* Version 3 puts the table's size first, so the library never reads past the end of a
 * table: a table shorter than its version needs is refused with a logged error.
 * Version 2 (the VG-layer operations appended to version 1's table) and version 1
 * (abi_version first, no size: the library has to trust the declared version) are
 * still accepted; with a version-1 table, VG-layer calls with LVM's own objects fail
 * with an error. Fill a table with LVMETAD_HOST_OPS_HEADER, then the callbacks. */
#define LVMETAD_HOST_ABI_VERSION 3
#define LVMETAD_HOST_OPS_HEADER \
	.size = sizeof(struct lvmetad_host_ops), .abi_version = LVMETAD_HOST_ABI_VERSION

/* Message levels passed to log(). */
#define LVMETAD_LOG_ERROR 0             /* log_error */
#define LVMETAD_LOG_WARN 1              /* log_warn */
#define LVMETAD_LOG_PRINT 2             /* log_print */
#define LVMETAD_LOG_PRINT_UNLESS_SILENT 3
#define LVMETAD_LOG_VERBOSE 4
#define LVMETAD_LOG_VERY_VERBOSE 5
#define LVMETAD_LOG_DEBUG 6

#define LVMETAD_HOST_MAX_AREAS 8

/* A metadata area as LVM's mda_export_text writes it. */
struct lvmetad_host_mda {
	int ignore;
	uint64_t start, size, free_sectors;
};

/* A data or bootloader area (struct disk_locn). */
struct lvmetad_host_area {
	uint64_t offset, size;
};

/* A PV as lvmcache holds it / as lvmetad describes it. */
struct lvmetad_host_pv {
	uint8_t pvid[32];
	uint8_t vgid[32];               /* only for lvmcache_add_pv */
	const char *vgname;             /* only for lvmcache_add_pv */
	void *dev;                      /* only for lvmcache_add_pv */
	uint64_t label_sector;          /* only for lvmcache_add_pv */
	uint64_t dev_size;
	uint32_t ext_version, ext_flags;
	int n_mdas, n_das, n_bas;
	struct lvmetad_host_mda mdas[LVMETAD_HOST_MAX_AREAS];
	struct lvmetad_host_area das[LVMETAD_HOST_MAX_AREAS];
	struct lvmetad_host_area bas[LVMETAD_HOST_MAX_AREAS];
};

/* What the library reads of a struct volume_group. */
struct lvmetad_host_vg {
	const char *name;
	uint8_t id[32];
	uint32_t seqno;
	int update_pending;
	int precommit;                  /* vg->fid->fmt->features & FMT_PRECOMMIT */
	const char *system_id;          /* NULL or "" if none */
	const char *lock_type;          /* NULL if none */
	void *cmd;                      /* vg->cmd */
};

/* One PV of a VG. */
struct lvmetad_host_vg_pv {
	uint8_t id[32];
	void *dev;                      /* NULL when missing */
	void *fmt;
	uint64_t label_sector;
};

struct lvmetad_host_ops {
	size_t size;                    /* sizeof(struct lvmetad_host_ops) */
	uint32_t abi_version;           /* LVMETAD_HOST_ABI_VERSION */
	void *baton;                    /* first argument of every callback */
	/* find_config_tree_int(cmd, path), def when unset */
	int64_t (*config_int)(void *baton, void *cmd, const char *path, int64_t def);
	/* get_cmd_name() */
	const char *(*cmd_name)(void *baton);
	/* print one message at an LVMETAD_LOG_* level */
	void (*log)(void *baton, int level, const char *msg);
	/* refresh_filters(cmd): 1 ok, 0 failed */
	int (*refresh_filters)(void *baton, void *cmd);
	/* lvm_even_rand(&cmd->rand_seed, max) */
	uint32_t (*random)(void *baton, void *cmd, uint32_t max);
	/* test_mode() */
	int (*test_mode)(void *baton);

	/* ---- version 2: the VG layer ---------------------------------------------------
	 * cmd, vg, dev and fmt are LVM's struct cmd_context *, struct volume_group *,
	 * struct device * and struct format_type *, passed through untouched. Strings
	 * returned as const char * are owned by LVM (valid until the object is released);
	 * strings returned as char * are malloc()ed and freed by the library with free().
	 * Callbacks marked (re-enters) may call lvmetad_* functions; the library holds no
	 * lock while calling them. */

	/* dev->dev and dev_name(dev); 1 ok, 0 if dev is not a device */
	int (*dev_info)(void *baton, void *dev, uint64_t *devno, const char **name);
	/* dev_cache_get_by_devt(devno, cmd->filter), NULL if none or filtered */
	void *(*dev_by_devt)(void *baton, void *cmd, uint64_t devno);
	/* udev_dev_is_mpath_component(dev) */
	int (*dev_is_mpath_component)(void *baton, void *cmd, void *dev);
	/* What the label scan left for dev: *pvid = dev->pvid (NUL-terminated, may be
	 * empty); *has_info = lvmcache_info_from_pvid(dev->pvid, dev, 0) != NULL;
	 * *has_label = its lvmcache_get_label() != NULL; *fmt = lvmcache_fmt(info);
	 * *label_sector = label->sector. 1 ok. */
	int (*dev_label)(void *baton, void *cmd, void *dev, char pvid[33], int *has_info,
			 int *has_label, void **fmt, uint64_t *label_sector);
	/* The highest-seqno VG in the mdas of dev's lvmcache info (lvmetad.c's
	 * _lvmetad_pvscan_single over lvmcache_foreach_mda), or NULL. Released with
	 * vg_release. */
	void *(*dev_read_vg)(void *baton, void *cmd, void *dev);
	/* label_scan_pvscan_all(cmd, &list): call each(ctx, dev) for every device, in
	 * order, then free the list. 1 ok. */
	int (*label_scan_all)(void *baton, void *cmd, void (*each)(void *ctx, void *dev), void *ctx);
	/* label_scan_invalidate(dev) */
	void (*label_scan_invalidate)(void *baton, void *dev);
	/* lvmcache_pvscan_duplicate_check(cmd) (re-enters: set_disabled, make_unused),
	 * then return lvmcache_found_duplicate_pvs() */
	int (*duplicate_check)(void *baton, void *cmd);
	/* silent_mode(), init_silent(), sigint_caught() */
	int (*silent_mode)(void *baton);
	void (*set_silent)(void *baton, int silent);
	int (*sigint_caught)(void *baton);

	/* get_format_by_name(cmd, name), NULL if unknown */
	void *(*fmt_by_name)(void *baton, void *cmd, const char *name);
	/* fmt->name */
	const char *(*fmt_name)(void *baton, void *fmt);

	/* lvmcache's knowledge of a PV, for the pvmeta of pv_found:
	 * info = lvmcache_info_from_pvid(pvid, dev, 0); 0 if no info, else 1 with *pv
	 * filled (device size, ext version/flags; mdas as mda_export_text gives them,
	 * das, bas; at most LVMETAD_HOST_MAX_AREAS of each). */
	int (*pv_cache_info)(void *baton, void *cmd, const uint8_t pvid[32], void *dev,
			     struct lvmetad_host_pv *pv);
	/* Create or refresh the lvmcache info of a PV from lvmetad's data: lvmcache_add
	 * (fmt->labeller, pv->pvid, pv->dev, pv->vgname, pv->vgid, 0); label sector and
	 * dev; device size; replace das, mdas (fmt's mda_import_text) and bas; ext
	 * flags and version. 1 ok, 0 failed. */
	int (*lvmcache_add_pv)(void *baton, void *cmd, void *fmt, const struct lvmetad_host_pv *pv);
	/* lvmcache_seed_infos_from_lvmetad(cmd) (re-enters: pv_list_to_lvmcache) */
	void (*seed_infos)(void *baton, void *cmd);

	/* vg's name, id, seqno, lvmetad_update_pending, FMT_PRECOMMIT of vg->fid->fmt,
	 * system_id, lock_type, vg->cmd. 1 ok. */
	int (*vg_info)(void *baton, void *vg, struct lvmetad_host_vg *info);
	/* vg->lvmetad_update_pending = pending */
	void (*vg_set_update_pending)(void *baton, void *vg, int pending);
	/* The metadata text of (committed && vg->vg_committed ? vg->vg_committed : vg) as
	 * export_vg_to_config_tree() would hold it; malloc()ed; NULL on failure. */
	char *(*vg_export)(void *baton, void *vg, int committed);
	/* After a successful vg_update: copy each mda's ignored flag of
	 * (vg->vg_committed ?: vg)'s format instance to the lvmcache info's mda at the
	 * same position. */
	void (*vg_fix_mda_ignored)(void *baton, void *vg);
	/* each(ctx, pv) for every PV of (committed && vg->vg_committed ?: vg)->pvs, in
	 * order; pv->dev may be NULL; pv->fmt = vgu->fid ? vgu->fid->fmt : pv->fmt.
	 * Stops when each returns 0. 1 ok. */
	int (*vg_pvs)(void *baton, void *vg, int committed,
		      int (*each)(void *ctx, const struct lvmetad_host_vg_pv *pv), void *ctx);
	/* A VG from lvmetad's reply: fid = fmt->ops->create_instance(fmt, MDAS|AUX_MDAS,
	 * name, vgid (32 raw bytes or NULL)); the text is one section named after the VG
	 * (the reply's metadata); import_vg_from_lvmetad_config_tree(). NULL on failure
	 * (fid destroyed). */
	void *(*vg_import)(void *baton, void *cmd, void *fmt, const char *name,
			   const uint8_t *vgid, const char *text);
	/* 0: not a lockd VG; 1: lockd VG; 2: lockd VG to be reread (cmd->include_shared_vgs
	 * or cmd->lockd_vg_rescan) */
	int (*vg_lockd)(void *baton, void *cmd, void *vg);
	/* Reread the VG from its devices (lvmetad.c's _lvmetad_pvscan_vg; re-enters:
	 * pv_gone_by_dev, vg_update_finish, pv_list_to_lvmcache). Returns the new VG (vg is
	 * released, its fid kept if the new one uses it) or NULL (vg released). */
	void *(*vg_rescan)(void *baton, void *cmd, void *vg, const uint8_t *vgid);
	/* Attach lvmcache state to the looked-up VG: for each PV of vg->pvs and
	 * vg->pvs_outdated set label_sector, dev (MISSING_PV if none), mdas, fid; then
	 * lvmcache_update_vg(vg, 0) and vg_mark_partial_lvs(vg, 1). 1 ok. */
	int (*vg_finish_lookup)(void *baton, void *cmd, void *vg);
	/* release_vg(vg) */
	void (*vg_release)(void *baton, void *vg);

	/* cmd->system_id (NULL or empty if none) */
	const char *(*cmd_system_id)(void *baton, void *cmd);
	/* is_system_id_allowed(cmd, system_id) */
	int (*system_id_allowed)(void *baton, void *cmd, const char *system_id);
	/* lvmlockd_use() */
	int (*lvmlockd_use)(void *baton);
	/* str_list_add(cmd->mem, list, dm_pool_strdup(cmd->mem, name)); 1 ok */
	int (*str_list_add)(void *baton, void *cmd, struct dm_list *list, const char *name);
	/* append a struct vgnameid_list {vg_name, vgid} allocated from cmd->mem; 1 ok */
	int (*vgnameid_add)(void *baton, void *cmd, struct dm_list *list, const char *name,
			    const uint8_t vgid[32]);
};

/* Register the host table (copied). Returns 1, or 0 (with a logged error) if ops is
 * NULL, of an unknown ABI version, or shorter than its version needs. */
int lvmetad_host_register(const struct lvmetad_host_ops *ops);

/* Forget the registered host table. */
void lvmetad_host_unregister(void);

#ifdef __cplusplus
}
#endif

#endif /* LVMETAD_RS_LVMETAD_COMPAT_H */
