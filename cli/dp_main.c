/* dpipe command-line entry: dispatch to subcommands. No logic of its own. */
#include "dpipe/dp_features.h"
#include "dpipe/dp_status.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *f) {
    fprintf(f, "usage: dpipe <command> [options]\n"
               "commands:\n"
               "  --version   print the version\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("dpipe %s\n", DP_VERSION_STRING);
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "dpipe: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
