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
 * Layout and semantics must match src/ffi/host.rs (checked by c-tests/client_host.c).
 */
#ifndef LVMETAD_RS_LVMETAD_COMPAT_H
#define LVMETAD_RS_LVMETAD_COMPAT_H

#include <stdint.h>
#include "lvmetad.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LVMETAD_HOST_ABI_VERSION 1

/* Message levels passed to log(). */
#define LVMETAD_LOG_ERROR 0             /* log_error */
#define LVMETAD_LOG_WARN 1              /* log_warn */
#define LVMETAD_LOG_PRINT 2             /* log_print */
#define LVMETAD_LOG_PRINT_UNLESS_SILENT 3
#define LVMETAD_LOG_VERBOSE 4
#define LVMETAD_LOG_VERY_VERBOSE 5
#define LVMETAD_LOG_DEBUG 6

struct lvmetad_host_ops {
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
};

/* Register the host table. Returns 1, or 0 if ops is NULL or of another ABI version. */
int lvmetad_host_register(const struct lvmetad_host_ops *ops);

/* Forget the registered host table. */
void lvmetad_host_unregister(void);

#ifdef __cplusplus
}
#endif

#endif /* LVMETAD_RS_LVMETAD_COMPAT_H */
