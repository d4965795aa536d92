/*
 * run_config: the flags of `run` and `create`, and the POST
 * /containers/create body they become.
 *
 * Both commands take the same ~90 flags; keeping the table, the validation
 * ("Conflicting options: ...") and the JSON in one place keeps them in
 * step. The body is what the docker CLI sends (Config fields at the top,
 * HostConfig, NetworkingConfig), so an engine sees the same request from
 * either client. Network, volume and port flags are parsed and passed
 * through as docker does; the engine decides what it supports.
 */
#ifndef BERTH_CLI_RUN_CONFIG_H
#define BERTH_CLI_RUN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "berr.h"
#include "buf.h"
#include "options.h"

struct run_flags {
    /* run only */
    bool detach, rm, sig_proxy;
    const char *detach_keys;
    /* container config */
    struct strlist attach, env, env_file, label, label_file, expose, publish, volume, mount, tmpfs,
        network_alias, dns, dns_option, dns_search, add_host, cap_add, cap_drop, security_opt,
        ulimit, device, sysctl, log_opt, group_add, link, volumes_from, storage_opt;
    bool interactive, tty, privileged, read_only, init, no_healthcheck, publish_all,
        oom_kill_disable, quiet;
    const char *name, *workdir, *user, *entrypoint, *restart, *memory, *memory_swap,
        *memory_reservation, *cpus, *cpuset_cpus, *cpuset_mems, *hostname, *domainname, *health_cmd,
        *health_interval, *health_timeout, *health_start_period, *health_start_interval,
        *stop_signal, *network, *ip, *ip6, *mac_address, *ipc, *pid, *uts, *userns, *cgroupns,
        *cgroup_parent, *log_driver, *runtime, *shm_size, *platform, *pull, *cidfile,
        *volume_driver, *isolation;
    long long cpu_shares, pids_limit, health_retries, stop_timeout, cpu_period, cpu_quota,
        blkio_weight, oom_score_adj, memory_swappiness;
    bool entrypoint_set, pids_limit_set, stop_timeout_set, init_set, health_retries_set,
        memory_swappiness_set;
};

/* Sets the defaults (--sig-proxy=true, ...). */
void run_flags_init(struct run_flags *flags);
void run_flags_free(struct run_flags *flags);
/* The flag table; with_run_flags adds -d, --rm, --sig-proxy, --detach-keys. */
const struct opt *run_flags_table(struct run_flags *flags, bool with_run_flags);

struct run_streams {
    bool in, out, err;
};

/*
 * Validates the flags and writes the create body for IMAGE [CMD...] (args).
 * console_rows/cols: the terminal size for HostConfig.ConsoleSize (0: none).
 */
int run_config_build(struct run_flags *flags, char **args, size_t nargs, unsigned console_rows,
                     unsigned console_cols, struct strbuf *body, struct run_streams *streams,
                     struct berr *err);

/* "no", "always", "unless-stopped", "on-failure[:N]". */
int restart_policy_parse(const char *text, char *name, size_t name_size, long *retries,
                         struct berr *err);

#endif
