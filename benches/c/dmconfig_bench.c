/*
 * Parse and write throughput of libdevmapper's config text format, the C side of
 * benches/config.rs. Built by benches/run-c-comparison.sh against the user's own
 * libdevmapper (nothing of LVM2 is part of this repository).
 *
 *   dmconfig_bench SECONDS FILE...
 *
 * For each FILE: "parse" = dm_config_create() + dm_config_parse_without_dup_node_check()
 * + dm_config_destroy() (what lvmetad does with every message it receives);
 * "write" = dm_config_write_node() of the whole tree into a reused in-memory buffer,
 * one '\n' appended per line (how libdaemon serialises a tree). Reports the median
 * time per call over batches of at least ~1 ms, for SECONDS per measurement, as
 *   RESULT c parse|write NAME BYTES NS_PER_ITER MB_PER_S
 * and writes the writer's output to FILE.c.out.
 */
#include <libdevmapper.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct outbuf {
	char *data;
	size_t len;
	size_t cap;
};

static int _append_line(const char *line, void *baton)
{
	struct outbuf *o = baton;
	size_t n = strlen(line);

	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap ? o->cap : 4096;
		char *p;

		while (o->len + n + 1 > cap)
			cap *= 2;
		if (!(p = realloc(o->data, cap)))
			return 0;
		o->data = p;
		o->cap = cap;
	}
	memcpy(o->data + o->len, line, n);
	o->data[o->len + n] = '\n';
	o->len += n + 1;
	return 1;
}

static double _now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int _cmp_double(const void *a, const void *b)
{
	double x = *(const double *) a, y = *(const double *) b;

	return (x > y) - (x < y);
}

struct job {
	const char *text;
	size_t len;
	struct dm_config_tree *tree; /* for write */
	struct outbuf *out;
};

static void _do_parse(struct job *j)
{
	struct dm_config_tree *cft = dm_config_create();

	if (!cft || !dm_config_parse_without_dup_node_check(cft, j->text, j->text + j->len)) {
		fprintf(stderr, "parse failed\n");
		exit(1);
	}
	dm_config_destroy(cft);
}

static void _do_write(struct job *j)
{
	j->out->len = 0;
	if (!dm_config_write_node(j->tree->root, _append_line, j->out)) {
		fprintf(stderr, "write failed\n");
		exit(1);
	}
}

/* Median ns per call of fn, over batches lasting at least ~1 ms each. */
static double _median_ns(double secs, void (*fn)(struct job *), struct job *j)
{
	static double samples[100000];
	size_t nsamples = 0, batch, i;
	double t, one, t0;

	fn(j); /* warm-up */
	t = _now_ns();
	fn(j);
	one = _now_ns() - t;
	if (one < 1)
		one = 1;
	batch = (size_t) (1e6 / one) + 1;

	t0 = _now_ns();
	while (nsamples < 5 || (_now_ns() - t0 < secs * 1e9 && nsamples < 100000)) {
		t = _now_ns();
		for (i = 0; i < batch; i++)
			fn(j);
		samples[nsamples++] = (_now_ns() - t) / batch;
	}
	qsort(samples, nsamples, sizeof(double), _cmp_double);
	return samples[nsamples / 2];
}

static char *_read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		perror(path);
		exit(1);
	}
	if (!(buf = malloc(n + 1)) || fread(buf, 1, n, f) != (size_t) n) {
		perror(path);
		exit(1);
	}
	buf[n] = '\0';
	fclose(f);
	*len = n;
	return buf;
}

int main(int argc, char **argv)
{
	double secs;
	int a;

	if (argc < 3) {
		fprintf(stderr, "usage: %s SECONDS FILE...\n", argv[0]);
		return 2;
	}
	secs = atof(argv[1]);
	if (secs <= 0)
		secs = 2;

	for (a = 2; a < argc; a++) {
		struct outbuf out = { 0 };
		struct job j = { 0 };
		const char *name = strrchr(argv[a], '/') ? strrchr(argv[a], '/') + 1 : argv[a];
		char outpath[4096];
		double parse_ns, write_ns;
		size_t out_len;
		FILE *f;

		j.text = _read_file(argv[a], &j.len);
		j.out = &out;
		if (!(j.tree = dm_config_create()) ||
		    !dm_config_parse_without_dup_node_check(j.tree, j.text, j.text + j.len)) {
			fprintf(stderr, "%s: parse failed\n", argv[a]);
			return 1;
		}

		parse_ns = _median_ns(secs, _do_parse, &j);

		_do_write(&j);
		out_len = out.len;
		snprintf(outpath, sizeof(outpath), "%s.c.out", argv[a]);
		if (!(f = fopen(outpath, "wb")) || fwrite(out.data, 1, out.len, f) != out.len) {
			perror(outpath);
			return 1;
		}
		fclose(f);
		write_ns = _median_ns(secs, _do_write, &j);

		printf("RESULT c parse %s %zu %.0f %.2f\n", name, j.len, parse_ns, j.len / parse_ns * 1e3);
		printf("RESULT c write %s %zu %.0f %.2f\n", name, out_len, write_ns, out_len / write_ns * 1e3);
		fflush(stdout);

		dm_config_destroy(j.tree);
		free(out.data);
		free((char *) j.text);
	}
	return 0;
}
