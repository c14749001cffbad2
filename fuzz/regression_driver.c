/* Replays fuzz inputs without libFuzzer: every file named on the command line, or found in a
 * directory named there (recursively), is fed once to LLVMFuzzerTestOneInput. CI runs this over
 * fuzz/corpus/<target>/ (seeds plus every crash ever found), under the sanitizers. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long dp__replayed;

static int dp__replay_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t) n : 1);
    if (buf == NULL || (n > 0 && fread(buf, 1, (size_t) n, f) != (size_t) n)) {
        fprintf(stderr, "cannot read %s\n", path);
        free(buf);
        fclose(f);
        return 1;
    }
    fclose(f);
    LLVMFuzzerTestOneInput(buf, (size_t) n);
    free(buf);
    dp__replayed++;
    return 0;
}

static int dp__replay(const char *path) {
    struct stat sb;
    if (stat(path, &sb) != 0) {
        fprintf(stderr, "cannot stat %s\n", path);
        return 1;
    }
    if (!S_ISDIR(sb.st_mode))
        return dp__replay_file(path);
    struct dirent **list;
    int n = scandir(path, &list, NULL, alphasort);
    if (n < 0)
        return 1;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.') {
            char sub[8192];
            snprintf(sub, sizeof sub, "%s/%s", path, list[i]->d_name);
            rc |= dp__replay(sub);
        }
        free(list[i]);
    }
    free(list);
    return rc;
}

int main(int argc, char **argv) {
    int rc = 0;
    for (int i = 1; i < argc; i++)
        rc |= dp__replay(argv[i]);
    printf("replayed %ld inputs\n", dp__replayed);
    if (dp__replayed == 0) {
        fprintf(stderr, "no inputs found: an empty corpus checks nothing\n");
        return 1;
    }
    return rc;
}
