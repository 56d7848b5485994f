/*
 * The C ABI's handle and table safety: a context destroyed by two threads at once is
 * freed exactly once (the other call is refused with a logged error), and host tables
 * of versions 1, 2 and 3 are accepted while a version-3 table shorter than version 3
 * needs, or of an unknown version, is refused with a logged error. Run under ASan and
 * valgrind by run.sh, which is what catches a double free or an overread.
 * Usage: client_abi SOCKET TMPDIR
 */
#include <lvmetad-compat.h>
#include <pthread.h>
#include "harness.h"

static pthread_barrier_t barrier;

static void *destroyer(void *cmd)
{
	pthread_barrier_wait(&barrier);
	lvmetad_cmd_destroy(cmd);
	return NULL;
}

static int logged;
static char last[512];

static void h_log(void *baton, int level, const char *msg)
{
	(void)baton;
	(void)level;
	logged++;
	snprintf(last, sizeof(last), "%s", msg);
}

static const char *h_cmd_name(void *baton)
{
	(void)baton;
	return "abitest";
}

/* count the lines of s that contain needle */
static int count(const char *s, const char *needle)
{
	int n = 0;
	while ((s = strstr(s, needle))) {
		n++;
		s += strlen(needle);
	}
	return n;
}

int main(int argc, char **argv)
{
	struct lvmetad_host_ops ops = {
		LVMETAD_HOST_OPS_HEADER,
		.cmd_name = h_cmd_name,
		.log = h_log,
	};
	struct lvmetad_host_ops t;
	const struct lvmetad_host_ops *older;
	const char *out;
	int i, rounds = 200;

	if (argc != 3)
		return 2;
	{
		char path[4096];
		FILE *f;
		snprintf(path, sizeof(path), "%s/lvm.conf", argv[2]);
		f = fopen(path, "w");
		CHECK(f != NULL);
		fputs("global { use_lvmetad = 1 }\n", f);
		fclose(f);
	}

	/* two threads destroy one context: one frees it, the other is refused */
	cap_start();
	for (i = 0; i < rounds; i++) {
		pthread_t a, b;
		struct cmd_context *cmd = lvmetad_cmd_create(argv[2], NULL, "pvs");
		CHECK(cmd != NULL);
		pthread_barrier_init(&barrier, NULL, 2);
		pthread_create(&a, NULL, destroyer, cmd);
		pthread_create(&b, NULL, destroyer, cmd);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		pthread_barrier_destroy(&barrier);
	}
	out = cap_end();
	CHECK(count(out, "lvmetad_cmd_destroy: assertion") == rounds);

	/* version 3, as the header declares it */
	CHECK(lvmetad_host_register(&ops) == 1);
	lvmetad_set_socket(NULL);
	CHECK(lvmetad_connect(NULL) == 0);
	CHECK(logged > 0); /* the library logs through the registered table */

	/* version 2: the same table without the leading size */
	t = ops;
	t.abi_version = 2;
	older = (const struct lvmetad_host_ops *)((char *)&t +
						  offsetof(struct lvmetad_host_ops, abi_version));
	logged = 0;
	CHECK(lvmetad_host_register(older) == 1);
	CHECK(lvmetad_connect(NULL) == 0);
	CHECK(logged > 0);

	/* version 1: its prefix */
	t.abi_version = 1;
	logged = 0;
	CHECK(lvmetad_host_register(older) == 1);
	CHECK(lvmetad_connect(NULL) == 0);
	CHECK(logged > 0);

	/* version 3 but shorter than version 3 needs: refused, the last table kept */
	t = ops;
	t.size = offsetof(struct lvmetad_host_ops, dev_info);
	logged = 0;
	CHECK(lvmetad_host_register(&t) == 0);
	CHECK(logged == 1);
	{
		char want[256];
		snprintf(want, sizeof(want),
			 "Internal error: lvmetad_host_register: host table of %zu bytes is "
			 "shorter than version 3 needs (%zu bytes)",
			 offsetof(struct lvmetad_host_ops, dev_info), sizeof(struct lvmetad_host_ops));
		CHECK_STR(last, want);
	}

	/* an unknown version */
	t = ops;
	t.abi_version = 99;
	logged = 0;
	CHECK(lvmetad_host_register(&t) == 0);
	CHECK(logged == 1);
	CHECK_STR(last, "Internal error: lvmetad_host_register: host table ABI version 99 is "
			"not supported (1 to 3)");

	lvmetad_host_unregister();
	return t_done();
}
