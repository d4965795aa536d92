/* cgroup_v1: not written yet. */
