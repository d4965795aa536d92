/* cgroup_resources: not written yet. */
