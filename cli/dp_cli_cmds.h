/* dp_cli_cmds.h: subcommands whose option parsing lives outside dp_main.c. Each takes the
 * arguments after the command name and returns the exit code (0 done, 1 data or runtime error,
 * 2 usage error). */
#ifndef DP_CLI_CMDS_H
#define DP_CLI_CMDS_H

int dp_cli_cmd_sample(int argc, char **argv);
int dp_cli_cmd_gen(int argc, char **argv);
int dp_cli_cmd_report(int argc, char **argv);

#endif
