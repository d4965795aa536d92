/*
 * commands: every command's entry point, for main's dispatch table. Each
 * takes the arguments after its name and returns the exit status (cli.h).
 */
#ifndef BERTH_CLI_COMMANDS_H
#define BERTH_CLI_COMMANDS_H

#include "cli.h"

/* cmd_run.c */
int cmd_run(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_create(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_start(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_attach(struct cli *cli, int argc, char **argv, struct berr *err);
/* cmd_container.c */
int cmd_stop(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_kill(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_restart(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_rm(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_pause(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_unpause(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_wait(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_rename(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_port(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_top(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_update(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_export(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_container_prune(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_inspect(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_container_inspect(struct cli *cli, int argc, char **argv, struct berr *err);
/* cmd_ps.c */
int cmd_ps(struct cli *cli, int argc, char **argv, struct berr *err);
/* cmd_stats.c */
int cmd_stats(struct cli *cli, int argc, char **argv, struct berr *err);
/* cmd_cp.c */
int cmd_cp(struct cli *cli, int argc, char **argv, struct berr *err);
/* cmd_exec.c */
int cmd_exec(struct cli *cli, int argc, char **argv, struct berr *err);
/* cmd_logs.c */
int cmd_logs(struct cli *cli, int argc, char **argv, struct berr *err);
/* cmd_image.c */
int cmd_images(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_rmi(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_image_inspect(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_history(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_image_prune(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_tag(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_load(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_save(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_pull(struct cli *cli, int argc, char **argv, struct berr *err);
/* cmd_system.c */
int cmd_info(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_version(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_events(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_system_df(struct cli *cli, int argc, char **argv, struct berr *err);
int cmd_system_prune(struct cli *cli, int argc, char **argv, struct berr *err);

#endif
