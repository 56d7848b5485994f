/*
 * Source compatibility: the 31 prototypes as LVM2 2.02.188's lib/cache/lvmetad.h
 * declares them (written from the interface, client.md section 1), then our installed
 * header. Compiling this file without a conflict is the test; with -DWITH_LIBDM the
 * system libdevmapper.h is included first, as LVM's own sources do.
 */
#ifdef WITH_LIBDM
#include <libdevmapper.h>
#endif
#include <stdint.h>
#include <sys/types.h>

struct volume_group;
struct cmd_context;
struct dm_config_tree;
enum activation_change;
struct device;
struct format_type;
struct dm_list;
struct dm_config_value;
/* as LVM's lib/uuid/uuid.h provides it (our header then does not define it) */
#define _LVM_UUID_H
struct id { int8_t uuid[32]; };

typedef int (*activation_handler) (struct cmd_context *cmd,
				   const char *vgname, const char *vgid,
				   int partial, int changed,
				   enum activation_change activate);

int lvmetad_connect(struct cmd_context *cmd);
void lvmetad_disconnect(void);
void lvmetad_make_unused(struct cmd_context *cmd);
int lvmetad_used(void);
void lvmetad_set_socket(const char *);
int lvmetad_socket_present(void);
int lvmetad_pidfile_present(void);
void lvmetad_set_token(const struct dm_config_value *filter);
void lvmetad_release_token(void);
int lvmetad_vg_update_pending(struct volume_group *vg);
int lvmetad_vg_update_finish(struct volume_group *vg);
int lvmetad_vg_remove_pending(struct volume_group *vg);
int lvmetad_vg_remove_finish(struct volume_group *vg);
int lvmetad_pv_found(struct cmd_context *cmd, const struct id *pvid, struct device *dev,
		     const struct format_type *fmt, uint64_t label_sector,
		     struct volume_group *vg, struct dm_list *found_vgnames,
		     struct dm_list *changed_vgnames);
int lvmetad_pv_gone(dev_t devno, const char *pv_name);
int lvmetad_pv_gone_by_dev(struct device *dev);
int lvmetad_pv_list_to_lvmcache(struct cmd_context *cmd);
int lvmetad_pv_lookup(struct cmd_context *cmd, struct id pvid, int *found);
int lvmetad_pv_lookup_by_dev(struct cmd_context *cmd, struct device *dev, int *found);
int lvmetad_vg_list_to_lvmcache(struct cmd_context *cmd);
int lvmetad_get_vgnameids(struct cmd_context *cmd, struct dm_list *vgnameids);
struct volume_group *lvmetad_vg_lookup(struct cmd_context *cmd, const char *vgname, const char *vgid);
int lvmetad_pvscan_single(struct cmd_context *cmd, struct device *dev,
			  struct dm_list *found_vgnames, struct dm_list *changed_vgnames);
int lvmetad_pvscan_all_devs(struct cmd_context *cmd, int do_wait, struct dm_list *found_vgnames);
int lvmetad_vg_clear_outdated_pvs(struct volume_group *vg);
void lvmetad_validate_global_cache(struct cmd_context *cmd, int force);
int lvmetad_token_matches(struct cmd_context *cmd);
int lvmetad_vg_is_foreign(struct cmd_context *cmd, const char *vgname, const char *vgid);
int lvmetad_is_disabled(struct cmd_context *cmd, const char **reason);
void lvmetad_set_disabled(struct cmd_context *cmd, const char *reason);
void lvmetad_clear_disabled(struct cmd_context *cmd);

#include <lvmetad.h>
#include <lvmetad-compat.h>

int main(void)
{
	/* take the address of every function our header declares, so each must exist */
	void *fns[] = {
		(void *)lvmetad_connect, (void *)lvmetad_disconnect, (void *)lvmetad_make_unused,
		(void *)lvmetad_used, (void *)lvmetad_set_socket, (void *)lvmetad_socket_present,
		(void *)lvmetad_pidfile_present, (void *)lvmetad_set_token,
		(void *)lvmetad_release_token, (void *)lvmetad_token_matches,
		(void *)lvmetad_is_disabled, (void *)lvmetad_set_disabled,
		(void *)lvmetad_clear_disabled, (void *)lvmetad_host_register,
	};
	return fns[0] ? 0 : 1;
}
