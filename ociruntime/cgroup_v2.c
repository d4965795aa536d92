/* cgroup_v2: not written yet. */
