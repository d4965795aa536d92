#include "commands.h"

int cmd_stop(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_kill(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_restart(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_rm(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_pause(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_unpause(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_wait(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_rename(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_port(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_top(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_update(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_export(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_container_prune(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_inspect(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_container_inspect(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_ps(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_stats(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_cp(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_exec(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_logs(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_images(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_rmi(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_image_inspect(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_history(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_image_prune(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_tag(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_load(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_save(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_pull(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_info(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_version(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_events(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_system_df(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}

int cmd_system_prune(struct cli *cli, int argc, char **argv, struct berr *err)
{
    (void)cli, (void)argc, (void)argv;
    berr_set(err, BERR_UNSUPPORTED, "not yet");
    return 1;
}
