/*
 * lvmetad-rs: host glue for LVM2 2.02.188.
 *
 * Copyright (C) 2026 the lvmetad-rs authors.
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * This library is free software; you can redistribute it and/or modify it under the
 * terms of the GNU Lesser General Public License as published by the Free Software
 * Foundation; either version 2.1 of the License, or (at your option) any later version.
 * It is distributed WITHOUT ANY WARRANTY; see the GNU Lesser General Public License
 * for more details.
 *
 * compat/Makefile compiles this file inside a copy of the user's LVM2 2.02.188 tree in
 * place of lib/cache/lvmetad.c. It defines none of the lvmetad_* functions (they come
 * from liblvmetad.so.0); it only fills struct lvmetad_host_ops (lvmetad-compat.h) with
 * LVM's internals and registers it before main() runs. The library hands every
 * struct cmd_context, volume_group, device and format_type pointer of LVM's back to
 * these callbacks and never looks inside them.
 */

#include "lib.h"
#include "toolcontext.h"
#include "metadata.h"
#include "device.h"
#include "dev-type.h"
#include "label.h"
#include "lvmcache.h"
#include "lvmetad.h"
#include "format-text.h"
#include "lvm-signal.h"
#include "lvmlockd.h"
#include "str_list.h"
#include "config-util.h"

#include "lvmetad-compat.h"

/* A NUL-terminated copy of a 32-byte id. */
static void _id_copy(char out[ID_LEN + 1], const void *id)
{
	memcpy(out, id, ID_LEN);
	out[ID_LEN] = '\0';
}

/* ---- version 1: settings, identity, messages ------------------------------------- */

static int64_t _config_int(void *baton, void *cmd, const char *path, int64_t def)
{
	struct cmd_context *c = cmd;

	if (!c || !path)
		return def;
	/* The only setting the library reads; resolved through LVM's setting table so
	 * profiles and built-in defaults apply exactly as for LVM's own code. */
	if (!strcmp(path, "global/lvmetad_update_wait_time"))
		return find_config_tree_int(c, global_lvmetad_update_wait_time_CFG, NULL);
	if (!c->cft)
		return def;
	return dm_config_tree_find_int64(c->cft, path, def);
}

static const char *_cmd_name(void *baton)
{
	return get_cmd_name();
}

/*
 * One message at the level of the log_* macro lvmetad.c used for it. Internal errors
 * keep their prefix in the format string, so abort_on_internal_errors still applies.
 */
static void _log(void *baton, int level, const char *msg)
{
	static const char _internal[] = INTERNAL_ERROR;
	size_t ilen = sizeof(_internal) - 1;

	if (!msg)
		return;

	switch (level) {
	case LVMETAD_LOG_ERROR:
		if (!strncmp(msg, _internal, ilen))
			log_error(INTERNAL_ERROR "%s", msg + ilen);
		else
			log_error("%s", msg);
		break;
	case LVMETAD_LOG_WARN:
		log_warn("%s", msg);
		break;
	case LVMETAD_LOG_PRINT:
		log_print("%s", msg);
		break;
	case LVMETAD_LOG_PRINT_UNLESS_SILENT:
		log_print_unless_silent("%s", msg);
		break;
	case LVMETAD_LOG_VERBOSE:
		log_verbose("%s", msg);
		break;
	case LVMETAD_LOG_VERY_VERBOSE:
		log_very_verbose("%s", msg);
		break;
	default:
		log_debug_lvmetad("%s", msg);
		break;
	}
}

static int _refresh_filters(void *baton, void *cmd)
{
	return cmd ? refresh_filters((struct cmd_context *) cmd) : 0;
}

static uint32_t _random(void *baton, void *cmd, uint32_t max)
{
	struct cmd_context *c = cmd;
	static unsigned _seed;

	return lvm_even_rand(c ? &c->rand_seed : &_seed, max);
}

static int _test_mode(void *baton)
{
	return test_mode();
}

/* ---- devices and the label scan --------------------------------------------------- */

static int _dev_info(void *baton, void *dev, uint64_t *devno, const char **name)
{
	struct device *d = dev;

	if (!d)
		return 0;
	if (devno)
		*devno = (uint64_t) d->dev;
	if (name)
		*name = dev_name(d);
	return 1;
}

static void *_dev_by_devt(void *baton, void *cmd, uint64_t devno)
{
	struct cmd_context *c = cmd;

	return dev_cache_get_by_devt((dev_t) devno, c ? c->filter : NULL);
}

static int _dev_is_mpath_component(void *baton, void *cmd, void *dev)
{
	return dev ? udev_dev_is_mpath_component((struct device *) dev) : 0;
}

static int _dev_label(void *baton, void *cmd, void *dev, char pvid[33], int *has_info,
		      int *has_label, void **fmt, uint64_t *label_sector)
{
	struct device *d = dev;
	struct lvmcache_info *info;
	struct label *label;

	*has_info = *has_label = 0;
	*fmt = NULL;
	*label_sector = 0;
	memset(pvid, 0, ID_LEN + 1);
	if (!d)
		return 0;

	memcpy(pvid, d->pvid, strnlen(d->pvid, ID_LEN));

	if (!(info = lvmcache_info_from_pvid(d->pvid, d, 0)))
		return 1;
	*has_info = 1;
	*fmt = (void *) lvmcache_fmt(info);

	if ((label = lvmcache_get_label(info))) {
		*has_label = 1;
		*label_sector = label->sector;
	}
	return 1;
}

/* Keeps the VG with the highest seqno read from a device's metadata areas. */
struct newest_vg {
	struct format_instance *fid;
	struct volume_group *vg;
	int release_replaced;
};

static int _keep_newest(struct metadata_area *mda, void *data)
{
	struct newest_vg *n = data;
	struct volume_group *vg;

	if (mda_is_ignored(mda))
		return 1;
	if (!(vg = mda->ops->vg_read(n->fid, "", mda, NULL, NULL)))
		return 1;

	if (!n->vg)
		n->vg = vg;
	else if (vg->seqno > n->vg->seqno) {
		/* The pvscan path never released the VG it replaced: releasing it there
		 * could drop the format instance the newer VG still uses. */
		if (n->release_replaced)
			release_vg(n->vg);
		n->vg = vg;
	} else
		release_vg(vg);

	return 1;
}

static void *_dev_read_vg(void *baton, void *cmd, void *dev)
{
	struct device *d = dev;
	struct lvmcache_info *info;
	const struct format_type *fmt;
	struct format_instance_ctx fic = { .type = 0 };
	struct newest_vg n = { 0 };

	if (!d || !(info = lvmcache_info_from_pvid(d->pvid, d, 0)))
		return NULL;
	if (!(fmt = lvmcache_fmt(info)))
		return NULL;
	if (!(n.fid = fmt->ops->create_instance(fmt, &fic)))
		return_NULL;

	lvmcache_foreach_mda(info, _keep_newest, &n);

	if (!n.vg)
		fmt->ops->destroy_instance(n.fid);

	return n.vg;
}

static int _label_scan_all(void *baton, void *cmd, void (*each)(void *ctx, void *dev),
			   void *ctx)
{
	struct dm_list devs;
	struct device_list *devl, *next;

	dm_list_init(&devs);
	/* Its result is not looked at: the devices found are used either way. */
	(void) label_scan_pvscan_all((struct cmd_context *) cmd, &devs);

	dm_list_iterate_items_safe(devl, next, &devs) {
		dm_list_del(&devl->list);
		if (each)
			each(ctx, devl->dev);
		dm_free(devl);
	}
	return 1;
}

static void _label_scan_invalidate(void *baton, void *dev)
{
	if (dev)
		label_scan_invalidate((struct device *) dev);
}

static int _duplicate_check(void *baton, void *cmd)
{
	lvmcache_pvscan_duplicate_check((struct cmd_context *) cmd);
	return lvmcache_found_duplicate_pvs();
}

static int _silent_mode(void *baton)
{
	return silent_mode();
}

static void _set_silent(void *baton, int silent)
{
	init_silent(silent);
}

static int _sigint_caught(void *baton)
{
	return sigint_caught();
}

/* ---- formats and lvmcache --------------------------------------------------------- */

static void *_fmt_by_name(void *baton, void *cmd, const char *name)
{
	return (cmd && name) ? get_format_by_name((struct cmd_context *) cmd, name) : NULL;
}

static const char *_fmt_name(void *baton, void *fmt)
{
	return fmt ? ((const struct format_type *) fmt)->name : NULL;
}

struct area_export {
	struct lvmetad_host_pv *pv;
	struct dm_config_tree *cft;
	int failed;
};

/*
 * An integer child of a node made by libdaemon's config_make_nodes(): it keeps the
 * text before '=' as the key, trailing blank included ("start "), so the keys are
 * compared up to the first blank instead of with dm_config_find_int64().
 */
static int64_t _child_int(const struct dm_config_node *cn, const char *key)
{
	const struct dm_config_node *c;
	size_t len = strlen(key);

	for (c = cn->child; c; c = c->sib)
		if (c->key && !strncmp(c->key, key, len) &&
		    (!c->key[len] || c->key[len] == ' ') &&
		    c->v && c->v->type == DM_CFG_INT)
			return c->v->v.i;
	return 0;
}

/* One mda as the format's mda_export_text describes it, read back into numbers. */
static int _export_mda(struct metadata_area *mda, void *data)
{
	struct area_export *x = data;
	struct dm_config_node *cn;
	struct lvmetad_host_mda *m;

	if (!mda->ops->mda_export_text)
		return 1;
	if (!(cn = make_config_node(x->cft, "mda", NULL, NULL)) ||
	    !mda->ops->mda_export_text(mda, x->cft, cn)) {
		x->failed = 1;
		return 0;
	}
	/* An area whose header cannot be read is described with no values; the
	 * table has no way to say that, so it is left out. */
	if (!cn->child || x->pv->n_mdas >= LVMETAD_HOST_MAX_AREAS)
		return 1;

	m = &x->pv->mdas[x->pv->n_mdas++];
	m->ignore = (int) _child_int(cn, "ignore");
	m->start = (uint64_t) _child_int(cn, "start");
	m->size = (uint64_t) _child_int(cn, "size");
	m->free_sectors = (uint64_t) _child_int(cn, "free_sectors");
	return 1;
}

static int _export_da(struct disk_locn *dl, void *data)
{
	struct lvmetad_host_pv *pv = data;

	if (dl && pv->n_das < LVMETAD_HOST_MAX_AREAS) {
		pv->das[pv->n_das].offset = dl->offset;
		pv->das[pv->n_das].size = dl->size;
		pv->n_das++;
	}
	return 1;
}

static int _export_ba(struct disk_locn *dl, void *data)
{
	struct lvmetad_host_pv *pv = data;

	if (dl && pv->n_bas < LVMETAD_HOST_MAX_AREAS) {
		pv->bas[pv->n_bas].offset = dl->offset;
		pv->bas[pv->n_bas].size = dl->size;
		pv->n_bas++;
	}
	return 1;
}

static int _pv_cache_info(void *baton, void *cmd, const uint8_t pvid[32], void *dev,
			  struct lvmetad_host_pv *pv)
{
	struct lvmcache_info *info;
	struct area_export x = { .pv = pv };
	char id[ID_LEN + 1];

	_id_copy(id, pvid);
	if (!(info = lvmcache_info_from_pvid(id, (struct device *) dev, 0)))
		return 0;

	memcpy(pv->pvid, pvid, ID_LEN);
	pv->dev_size = lvmcache_device_size(info);
	pv->ext_version = lvmcache_ext_version(info);
	pv->ext_flags = lvmcache_ext_flags(info);
	pv->n_mdas = pv->n_das = pv->n_bas = 0;

	if (!(x.cft = dm_config_create()))
		return_0;
	lvmcache_foreach_mda(info, _export_mda, &x);
	dm_config_destroy(x.cft);

	/* As in lvmetad.c, a failed mda export ends the description there. */
	if (!x.failed) {
		lvmcache_foreach_da(info, _export_da, pv);
		lvmcache_foreach_ba(info, _export_ba, pv);
	}
	return 1;
}

/* Give one mda description to the format's mda_import_text handlers. */
static void _import_mda(struct lvmcache_info *info, const struct format_type *fmt,
			const struct lvmetad_host_mda *m)
{
	struct dm_config_tree *cft;
	struct metadata_area_ops *ops;
	char text[256];

	if (dm_snprintf(text, sizeof(text),
			"mda {\nignore = %d\nstart = " FMTu64 "\nsize = " FMTu64
			"\nfree_sectors = " FMTu64 "\n}\n",
			m->ignore, m->start, m->size, m->free_sectors) < 0)
		return;
	if (!(cft = dm_config_from_string(text)))
		return;

	dm_list_iterate_items(ops, &fmt->mda_ops)
		if (ops->mda_import_text && ops->mda_import_text(info, cft->root))
			break;

	dm_config_destroy(cft);
}

static int _lvmcache_add_pv(void *baton, void *cmd, void *fmtp, const struct lvmetad_host_pv *pv)
{
	struct format_type *fmt = fmtp;
	struct device *dev;
	struct lvmcache_info *info;
	struct label *label;
	char pvid[ID_LEN + 1], vgid[ID_LEN + 1];
	const char *vgname;
	int i;

	if (!fmt || !pv || !(dev = pv->dev))
		return 0;

	_id_copy(pvid, pv->pvid);
	_id_copy(vgid, pv->vgid);
	/* No VG: the PV is an orphan of its format. */
	if (!vgid[0])
		(void) dm_strncpy(vgid, fmt->orphan_vg_name, ID_LEN);
	vgname = (pv->vgname && *pv->vgname) ? pv->vgname : fmt->orphan_vg_name;

	if (!(info = lvmcache_add(fmt->labeller, pvid, dev, vgname, vgid, 0)))
		return_0;

	label = lvmcache_get_label(info);
	label->sector = pv->label_sector;
	label->dev = dev;
	lvmcache_set_device_size(info, pv->dev_size);

	lvmcache_del_das(info);
	lvmcache_del_mdas(info);
	lvmcache_del_bas(info);

	for (i = 0; i < pv->n_mdas && i < LVMETAD_HOST_MAX_AREAS; i++)
		_import_mda(info, fmt, &pv->mdas[i]);
	for (i = 0; i < pv->n_das && i < LVMETAD_HOST_MAX_AREAS; i++)
		lvmcache_add_da(info, pv->das[i].offset, pv->das[i].size);
	for (i = 0; i < pv->n_bas && i < LVMETAD_HOST_MAX_AREAS; i++)
		lvmcache_add_ba(info, pv->bas[i].offset, pv->bas[i].size);

	lvmcache_set_ext_flags(info, pv->ext_flags);
	lvmcache_set_ext_version(info, pv->ext_version);
	return 1;
}

static void _seed_infos(void *baton, void *cmd)
{
	lvmcache_seed_infos_from_lvmetad((struct cmd_context *) cmd);
}

/* ---- volume groups ---------------------------------------------------------------- */

static struct volume_group *_committed_or_live(struct volume_group *vg, int committed)
{
	return (committed && vg->vg_committed) ? vg->vg_committed : vg;
}

static int _vg_info(void *baton, void *vgp, struct lvmetad_host_vg *out)
{
	struct volume_group *vg = vgp;

	if (!vg || !out)
		return 0;

	out->name = vg->name;
	memcpy(out->id, &vg->id, ID_LEN);
	out->seqno = vg->seqno;
	out->update_pending = vg->lvmetad_update_pending ? 1 : 0;
	out->precommit = (vg->fid && vg->fid->fmt &&
			  (vg->fid->fmt->features & FMT_PRECOMMIT)) ? 1 : 0;
	out->system_id = vg->system_id;
	out->lock_type = vg->lock_type;
	out->cmd = vg->cmd;
	return 1;
}

static void _vg_set_update_pending(void *baton, void *vgp, int pending)
{
	if (vgp)
		((struct volume_group *) vgp)->lvmetad_update_pending = pending ? 1 : 0;
}

static char *_vg_export(void *baton, void *vgp, int committed)
{
	struct volume_group *vg = vgp, *vgu;
	char *buf = NULL, *text;

	if (!vg)
		return NULL;
	vgu = _committed_or_live(vg, committed);

	/* The text export_vg_to_config_tree() parses; its own failure message. */
	if (!export_vg_to_buffer(vgu, &buf)) {
		log_error("Could not format metadata for VG %s.", vgu->name);
		return NULL;
	}
	text = strdup(buf);
	dm_free(buf);
	if (!text)
		log_error("Failed to allocate metadata text for VG %s.", vgu->name);
	return text;
}

struct mda_flag {
	int pos, want;
	unsigned ignore;
};

static int _set_ignored_at(struct metadata_area *mda, void *data)
{
	struct mda_flag *f = data;

	if (f->pos++ == f->want)
		mda_set_ignored(mda, f->ignore);
	return 1;
}

/*
 * After lvmetad accepted the VG: the format instance indexes each mda as
 * "<pvid>_<position>"; lvmcache's info for that PV gets the same ignored flag on its
 * mda at that position.
 */
static void _vg_fix_mda_ignored(void *baton, void *vgp)
{
	struct volume_group *vg = vgp, *vgu;
	struct dm_hash_table *index;
	struct dm_hash_node *n;
	struct lvmcache_info *info;
	struct mda_flag f;
	char pvid[ID_LEN + 1];
	const char *key, *sep;

	if (!vg)
		return;
	vgu = _committed_or_live(vg, 1);
	if (!vgu->fid || !(index = vgu->fid->metadata_areas_index))
		return;

	for (n = dm_hash_get_first(index); n; n = dm_hash_get_next(index, n)) {
		key = dm_hash_get_key(index, n);
		if (!(sep = strchr(key, '_')) || (sep - key) > ID_LEN)
			continue;
		memset(pvid, 0, sizeof(pvid));
		memcpy(pvid, key, sep - key);
		if (!(info = lvmcache_info_from_pvid(pvid, NULL, 0)))
			continue;
		f.pos = 0;
		f.want = atoi(sep + 1);
		f.ignore = mda_is_ignored((struct metadata_area *) dm_hash_get_data(index, n));
		lvmcache_foreach_mda(info, _set_ignored_at, &f);
	}
}

static int _vg_pvs(void *baton, void *vgp, int committed,
		   int (*each)(void *ctx, const struct lvmetad_host_vg_pv *pv), void *ctx)
{
	struct volume_group *vg = vgp, *vgu;
	struct pv_list *pvl;
	struct lvmetad_host_vg_pv p;

	if (!vg || !each)
		return 0;
	vgu = _committed_or_live(vg, committed);

	dm_list_iterate_items(pvl, &vgu->pvs) {
		memcpy(p.id, &pvl->pv->id, ID_LEN);
		p.dev = pvl->pv->dev;
		/* A PV's own fmt pointer can be stale during vgconvert. */
		p.fmt = (void *) (vgu->fid ? vgu->fid->fmt : pvl->pv->fmt);
		p.label_sector = pvl->pv->label_sector;
		if (!each(ctx, &p))
			break;
	}
	return 1;
}

static void *_vg_import(void *baton, void *cmd, void *fmtp, const char *name,
			const uint8_t *vgid, const char *text)
{
	struct format_type *fmt = fmtp;
	struct format_instance *fid;
	struct format_instance_ctx fic;
	struct dm_config_tree *cft;
	struct volume_group *vg;
	char id[ID_LEN + 1];

	if (!fmt || !text)
		return NULL;

	if (vgid)
		_id_copy(id, vgid);
	fic.type = FMT_INSTANCE_MDAS | FMT_INSTANCE_AUX_MDAS;
	fic.context.vg_ref.vg_name = name;
	fic.context.vg_ref.vg_id = vgid ? id : NULL;

	if (!(fid = fmt->ops->create_instance(fmt, &fic)))
		return_NULL;

	if (!(cft = dm_config_from_string(text))) {
		log_error("Failed to parse the metadata of VG %s from lvmetad.", name ? : "");
		fmt->ops->destroy_instance(fid);
		return NULL;
	}

	vg = import_vg_from_lvmetad_config_tree(cft, fid);
	dm_config_destroy(cft);

	if (!vg) {
		stack;
		fmt->ops->destroy_instance(fid);
		return NULL;
	}
	return vg;
}

static int _vg_lockd(void *baton, void *cmd, void *vgp)
{
	struct cmd_context *c = cmd;
	struct volume_group *vg = vgp;

	if (!vg || !is_lockd_type(vg->lock_type))
		return 0;
	if (c && (c->include_shared_vgs || c->lockd_vg_rescan))
		return 2;
	return 1;
}

/* A list of devices allocated from the command's pool. */
static int _devs_add(struct cmd_context *cmd, struct dm_list *list, struct device *dev)
{
	struct device_list *devl;

	if (!(devl = dm_pool_zalloc(cmd->mem, sizeof(*devl))))
		return_0;
	devl->dev = dev;
	dm_list_add(list, &devl->list);
	return 1;
}

static int _has_info(struct device *dev)
{
	return dev && lvmcache_info_from_pvid(dev->pvid, dev, 0);
}

/* Does 'pv' sit on a device that some PV of 'vg' already used? */
static int _dev_known(struct volume_group *vg, struct physical_volume *pv)
{
	struct pv_list *pvl;

	dm_list_iterate_items(pvl, &vg->pvs)
		if (pvl->pv->dev == pv->dev)
			return 1;
	return 0;
}

static void _forget_devs(struct dm_list *devs, const char *vgname, const char *why)
{
	struct device_list *devl;

	dm_list_iterate_items(devl, devs) {
		if (!devl->dev)
			continue;
		log_debug_lvmetad("Rescan VG %s: dropping %s from lvmetad (%s).",
				  vgname, dev_name(devl->dev), why);
		if (!lvmetad_pv_gone_by_dev(devl->dev))
			log_error("Failed to remove %s from lvmetad.", dev_name(devl->dev));
	}
}

/*
 * Read the VG again from its devices because lvmetad's copy is not trusted, and give
 * lvmetad what was found (the PVs that left, then the new metadata when its seqno
 * moved). Returns the VG read from disk or NULL.
 */
static struct volume_group *_reread_vg(struct cmd_context *cmd, struct volume_group *vg,
				       const char *vgid, const struct format_type *fmt)
{
	struct dm_list scan, drop;
	struct device_list *devl, *next;
	struct pv_list *pvl;
	struct format_instance *fid = NULL;
	struct format_instance_ctx fic;
	struct lvmcache_vginfo *vginfo;
	struct newest_vg n;
	struct volume_group *best = NULL;
	struct dm_config_tree *best_meta = NULL, *meta;
	struct dm_config_node *sib1, *sib2;
	struct device *best_dev = NULL;
	uint32_t best_seqno = 0;
	int second_pass = 0, new_pvs;

	dm_list_init(&scan);
	dm_list_init(&drop);

	log_debug_lvmetad("Rescan VG %s to update lvmetad (seqno %u).", vg->name, vg->seqno);

	/* Every PV lvmetad knows, in this command's lvmcache. */
	lvmcache_seed_infos_from_lvmetad(cmd);

	/* First the devices of the PVs lvmetad's copy names (a PV without a device has
	 * nothing to read). */
	dm_list_iterate_items(pvl, &vg->pvs)
		if (pvl->pv->dev && !_devs_add(cmd, &scan, pvl->pv->dev))
			return_NULL;

	label_scan_devs(cmd, cmd->full_filter, &scan);

	/* A device whose label went away is no longer a PV. */
	dm_list_iterate_items_safe(devl, next, &scan)
		if (!_has_info(devl->dev)) {
			log_debug_lvmetad("Rescan VG %s: %s has no PV label now.",
					  vg->name, dev_name(devl->dev));
			dm_list_move(&drop, &devl->list);
		}

	fic.type = FMT_INSTANCE_MDAS | FMT_INSTANCE_AUX_MDAS;
	fic.context.vg_ref.vg_name = vg->name;
	fic.context.vg_ref.vg_id = vgid;

read_devs:
	if (!(fid = fmt->ops->create_instance(fmt, &fic))) {
		log_error("Reading VG %s failed to create format instance.", vg->name);
		return NULL;
	}
	/* Keep the instance while losing VGs read through it are released. */
	fid->ref_count++;

	dm_list_iterate_items_safe(devl, next, &scan) {
		struct lvmcache_info *info;

		if (!devl->dev)
			continue;

		if (!(info = lvmcache_info_from_pvid(devl->dev->pvid, devl->dev, 0))) {
			dm_list_move(&drop, &devl->list);
			continue;
		}

		n.fid = fid;
		n.vg = NULL;
		n.release_replaced = 1;
		lvmcache_foreach_mda(info, _keep_newest, &n);

		if (!n.vg) {
			/* No metadata: the PV left the VG. */
			dm_list_move(&drop, &devl->list);
			continue;
		}

		if (strcmp(n.vg->name, vg->name)) {
			/* Now a PV of another VG: not ours to drop. */
			release_vg(n.vg);
			continue;
		}

		if (!(meta = export_vg_to_config_tree(n.vg))) {
			log_error("VG export to config tree failed");
			release_vg(n.vg);
			continue;
		}

		if (best && best_seqno != n.vg->seqno) {
			log_warn("WARNING: inconsistent metadata for VG %s on devices %s seqno %u and %s seqno %u.",
				 vg->name, dev_name(best_dev), best_seqno,
				 dev_name(devl->dev), n.vg->seqno);
			log_warn("WARNING: temporarily disable lvmetad to repair metadata.");
			if (n.vg->seqno > best_seqno) {
				release_vg(best);
				dm_config_destroy(best_meta);
				best = n.vg;
				best_meta = meta;
				best_seqno = n.vg->seqno;
				best_dev = devl->dev;
			} else {
				release_vg(n.vg);
				dm_config_destroy(meta);
			}
			continue;
		}

		if (!best) {
			best = n.vg;
			best_meta = meta;
			best_seqno = n.vg->seqno;
			best_dev = devl->dev;
			continue;
		}

		/* Same seqno: the VG sections must agree (the header fields next to them,
		 * creation_time among them, are left out of the comparison). */
		sib1 = best_meta->root->sib;
		sib2 = meta->root->sib;
		best_meta->root->sib = NULL;
		meta->root->sib = NULL;
		if (compare_config(best_meta->root, meta->root)) {
			log_warn("WARNING: inconsistent metadata for VG %s on devices %s seqno %u and %s seqno %u.",
				 vg->name, dev_name(best_dev), best_seqno,
				 dev_name(devl->dev), n.vg->seqno);
			log_warn("WARNING: temporarily disable lvmetad to repair metadata.");
			log_error("VG %s metadata comparison failed for device %s vs %s",
				  vg->name, dev_name(devl->dev), best_dev ? dev_name(best_dev) : "none");
		}
		best_meta->root->sib = sib1;
		meta->root->sib = sib2;
		release_vg(n.vg);
		dm_config_destroy(meta);
	}

	fid->ref_count--;

	/* PVs in the metadata read that lvmetad's copy did not have? (first pass only) */
	new_pvs = 0;
	if (best && !second_pass)
		dm_list_iterate_items(pvl, &best->pvs)
			if (!_dev_known(vg, pvl->pv)) {
				new_pvs++;
				log_debug_lvmetad("Rescan VG %s: PV %d of the new metadata is new.",
						  vg->name, new_pvs);
			}

	if (!best && second_pass) {
		log_error("VG %s not found after rescanning devices.", vg->name);
		goto out;
	}

	if (!best || new_pvs) {
		/* Scan everything, then read the devices lvmcache now puts in the VG. */
		label_scan(cmd);

		if (!(vginfo = lvmcache_vginfo_from_vgname(vg->name, NULL))) {
			log_error("VG %s vg info not found after rescanning devices.", vg->name);
			goto out;
		}
		dm_list_init(&scan);
		if (!lvmcache_get_vg_devs(cmd, vginfo, &scan)) {
			log_error("VG %s info devs not found after rescanning devices.", vg->name);
			goto out;
		}
		log_debug_lvmetad("Rescan VG %s: %d devices after the label scan.",
				  vg->name, dm_list_size(&scan));

		if (best)
			release_vg(best);
		if (best_meta)
			dm_config_destroy(best_meta);
		best = NULL;
		best_meta = NULL;
		best_dev = NULL;
		best_seqno = 0;
		second_pass = 1;
		goto read_devs;
	}

	_forget_devs(&drop, vg->name, "not a PV of the VG any more");

	if (best && best_seqno != vg->seqno) {
		/* lvmetad's copy is replaced: its PVs go, then the new metadata comes. */
		_forget_devs(&scan, vg->name, "to be replaced");
		log_debug_lvmetad("Rescan VG %s: lvmetad goes from seqno %u to %u.",
				  vg->name, vg->seqno, best_seqno);
		best->lvmetad_update_pending = 1;
		if (!lvmetad_vg_update_finish(best))
			log_error("Failed to update lvmetad with new VG meta");
	}

out:
	if (!best && fid)
		fmt->ops->destroy_instance(fid);
	if (best_meta)
		dm_config_destroy(best_meta);
	return best;
}

static void *_vg_rescan(void *baton, void *cmd, void *vgp, const uint8_t *vgid)
{
	struct volume_group *vg = vgp, *fresh;
	struct format_instance *fid;
	const struct format_type *fmt;
	char id[ID_LEN + 1];

	if (!cmd || !vg || !(fid = vg->fid))
		return NULL;
	fmt = fid->fmt;
	if (vgid)
		_id_copy(id, vgid);

	if (!(fresh = _reread_vg((struct cmd_context *) cmd, vg, vgid ? id : NULL, fmt))) {
		release_vg(vg);
		return NULL;
	}

	/* The looked-up VG goes, and with it the format instance made for it. */
	fid->ref_count++;
	release_vg(vg);
	fid->ref_count--;
	fmt->ops->destroy_instance(fid);
	return fresh;
}

/* lvmcache's label sector, device and mdas for one PV of a looked-up VG. */
static int _attach_pv(struct physical_volume *pv, struct format_instance *fid)
{
	struct lvmcache_info *info;
	char id[ID_LEN + 1];

	_id_copy(id, &pv->id);
	if (!(info = lvmcache_info_from_pvid(id, pv->dev, 0))) {
		pv->status |= MISSING_PV;
		return 1;
	}

	pv->label_sector = lvmcache_get_label(info)->sector;
	if (!(pv->dev = lvmcache_device(info)))
		pv->status |= MISSING_PV;
	if (!lvmcache_fid_add_mdas_pv(info, fid))
		return_0;
	pv->fid = fid;
	return 1;
}

static int _vg_finish_lookup(void *baton, void *cmd, void *vgp)
{
	struct volume_group *vg = vgp;
	struct pv_list *pvl;

	if (!vg)
		return 0;

	dm_list_iterate_items(pvl, &vg->pvs)
		if (!_attach_pv(pvl->pv, vg->fid))
			return_0;
	dm_list_iterate_items(pvl, &vg->pvs_outdated)
		if (!_attach_pv(pvl->pv, vg->fid))
			return_0;

	lvmcache_update_vg(vg, 0);
	vg_mark_partial_lvs(vg, 1);
	return 1;
}

static void _vg_release(void *baton, void *vg)
{
	release_vg((struct volume_group *) vg);
}

/* ---- policy and the caller's lists ------------------------------------------------ */

static const char *_cmd_system_id(void *baton, void *cmd)
{
	return cmd ? ((struct cmd_context *) cmd)->system_id : NULL;
}

static int _system_id_allowed(void *baton, void *cmd, const char *system_id)
{
	return is_system_id_allowed((struct cmd_context *) cmd, system_id);
}

static int _lvmlockd_use(void *baton)
{
	return lvmlockd_use();
}

static int _str_list_add(void *baton, void *cmd, struct dm_list *list, const char *name)
{
	struct cmd_context *c = cmd;
	const char *copy;

	if (!c || !list || !name || !(copy = dm_pool_strdup(c->mem, name)))
		return 0;
	return str_list_add(c->mem, list, copy);
}

static int _vgnameid_add(void *baton, void *cmd, struct dm_list *list, const char *name,
			 const uint8_t vgid[32])
{
	struct cmd_context *c = cmd;
	struct vgnameid_list *vgnl;
	char *id;

	if (!c || !list || !name || !vgid)
		return 0;
	if (!(vgnl = dm_pool_alloc(c->mem, sizeof(*vgnl))) ||
	    !(id = dm_pool_alloc(c->mem, ID_LEN + 1)) ||
	    !(vgnl->vg_name = dm_pool_strdup(c->mem, name)))
		return 0;
	_id_copy(id, vgid);
	vgnl->vgid = id;
	dm_list_add(list, &vgnl->list);
	return 1;
}

/* ---- registration ----------------------------------------------------------------- */

static const struct lvmetad_host_ops _lvm_host = {
	LVMETAD_HOST_OPS_HEADER,
	.baton = NULL,
	.config_int = _config_int,
	.cmd_name = _cmd_name,
	.log = _log,
	.refresh_filters = _refresh_filters,
	.random = _random,
	.test_mode = _test_mode,

	.dev_info = _dev_info,
	.dev_by_devt = _dev_by_devt,
	.dev_is_mpath_component = _dev_is_mpath_component,
	.dev_label = _dev_label,
	.dev_read_vg = _dev_read_vg,
	.label_scan_all = _label_scan_all,
	.label_scan_invalidate = _label_scan_invalidate,
	.duplicate_check = _duplicate_check,
	.silent_mode = _silent_mode,
	.set_silent = _set_silent,
	.sigint_caught = _sigint_caught,

	.fmt_by_name = _fmt_by_name,
	.fmt_name = _fmt_name,
	.pv_cache_info = _pv_cache_info,
	.lvmcache_add_pv = _lvmcache_add_pv,
	.seed_infos = _seed_infos,

	.vg_info = _vg_info,
	.vg_set_update_pending = _vg_set_update_pending,
	.vg_export = _vg_export,
	.vg_fix_mda_ignored = _vg_fix_mda_ignored,
	.vg_pvs = _vg_pvs,
	.vg_import = _vg_import,
	.vg_lockd = _vg_lockd,
	.vg_rescan = _vg_rescan,
	.vg_finish_lookup = _vg_finish_lookup,
	.vg_release = _vg_release,

	.cmd_system_id = _cmd_system_id,
	.system_id_allowed = _system_id_allowed,
	.lvmlockd_use = _lvmlockd_use,
	.str_list_add = _str_list_add,
	.vgnameid_add = _vgnameid_add,
};

/*
 * Nothing in LVM calls into this object, so the linker would leave it out of the lvm
 * binary (it is a member of liblvm-internal.a); compat/Makefile links with
 * -Wl,--undefined=lvmetad_rs_lvm2_glue, which pulls it in with its constructor.
 */
const int lvmetad_rs_lvm2_glue = LVMETAD_HOST_ABI_VERSION;

/* Before main(), so before LVM's first lvmetad call. */
__attribute__((constructor))
static void _lvmetad_host_init(void)
{
	if (!lvmetad_host_register(&_lvm_host))
		fprintf(stderr, "lvmetad-rs: liblvmetad.so.0 refused the LVM host table "
			"(ABI version %d); lvmetad calls will not reach LVM.\n",
			LVMETAD_HOST_ABI_VERSION);
}
