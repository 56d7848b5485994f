/*
 * Benchmark aid, preloaded into LVM's `lvm` (stock and compat alike) by
 * benches/loops.sh's bench_dm_once on machines without device-mapper.
 *
 * libdevmapper's dm_is_dm_major() learns device-mapper's major from /proc/devices and
 * keeps it. When the kernel has no device-mapper there is nothing to keep, so every call
 * reads /proc/devices again: LVM's filters ask twice per device, which makes a boot storm
 * of N commands read it 2*N*N times under a kernel mutex. No system that runs LVM is in
 * that state, so the benchmarks answer as a device-mapper kernel would make libdevmapper
 * answer: read /proc/devices once, remember the major (none here), compare.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int dm_is_dm_major(uint32_t major)
{
	static int read_once;
	static unsigned dm_major; /* 0: no "device-mapper" block major */

	if (!read_once) {
		char line[256], name[128];
		unsigned m;
		int block = 0;
		FILE *f = fopen("/proc/devices", "r");

		read_once = 1;
		while (f && fgets(line, sizeof(line), f)) {
			if (!strncmp(line, "Block devices:", 14))
				block = 1;
			else if (block && sscanf(line, "%u %127s", &m, name) == 2 &&
				 !strcmp(name, "device-mapper"))
				dm_major = m;
		}
		if (f)
			fclose(f);
	}
	return dm_major && major == dm_major;
}
