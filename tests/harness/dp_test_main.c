/* Test runner: `dp_tests NAME` runs one test in this process; `dp_tests` runs them all, each in
 * a forked child with a timeout, and prints TAP; `dp_tests --list` lists names. */
#include "dp_test.h"

#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef DP_TEST_SOURCE_DIR
#error "DP_TEST_SOURCE_DIR must be defined by the build"
#endif

typedef struct {
    const char *name;
    dp_test_fn fn;
    const char *file;
} dp__test_entry;

static dp__test_entry *dp__tests;
static size_t dp__n_tests, dp__cap_tests;
static char dp__tmp_dir[4096];
static const char *dp__current = "";

void dp__test_register(const char *name, dp_test_fn fn, const char *file) {
    if (dp__n_tests == dp__cap_tests) {
        dp__cap_tests = dp__cap_tests ? dp__cap_tests * 2 : 64;
        dp__tests = realloc(dp__tests, dp__cap_tests * sizeof *dp__tests);
        if (dp__tests == NULL)
            abort();
    }
    dp__tests[dp__n_tests++] = (dp__test_entry){name, fn, file};
}

_Noreturn void dp__test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL %s (%s:%d): ", dp__current, file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stdout);
    fflush(stderr);
    exit(1);
}

_Noreturn void dp__test_skip(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "SKIP %s (%s:%d): ", dp__current, file, line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
    exit(77);
}

const char *dp_test_source_dir(void) {
    return DP_TEST_SOURCE_DIR;
}

const char *dp_test_path(const char *rel) {
    static char bufs[8][4096];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", DP_TEST_SOURCE_DIR, rel);
    return b;
}

static void dp__rm_rf(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d != NULL) {
            struct dirent *e;
            while ((e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                    continue;
                char sub[8192];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                dp__rm_rf(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

const char *dp_test_tmp_dir(void) {
    if (dp__tmp_dir[0] == '\0') {
        const char *base = getenv("TMPDIR");
        snprintf(dp__tmp_dir, sizeof dp__tmp_dir, "%s/dp_test_%s_XXXXXX", base ? base : "/tmp",
                 dp__current);
        if (mkdtemp(dp__tmp_dir) == NULL) {
            fprintf(stderr, "cannot create temporary directory %s\n", dp__tmp_dir);
            exit(1);
        }
    }
    return dp__tmp_dir;
}

static int dp__run_one(const dp__test_entry *t) {
    dp__current = t->name;
    t->fn();
    if (dp__tmp_dir[0] != '\0' && getenv("DP_TEST_KEEP_TMP") == NULL)
        dp__rm_rf(dp__tmp_dir);
    return 0;
}

static int dp__cmp(const void *a, const void *b) {
    return strcmp(((const dp__test_entry *) a)->name, ((const dp__test_entry *) b)->name);
}

int main(int argc, char **argv) {
    qsort(dp__tests, dp__n_tests, sizeof *dp__tests, dp__cmp);
    if (argc >= 2 && strcmp(argv[1], "--list") == 0) {
        for (size_t i = 0; i < dp__n_tests; i++)
            printf("%s\n", dp__tests[i].name);
        return 0;
    }
    if (argc >= 2) {
        for (size_t i = 0; i < dp__n_tests; i++)
            if (strcmp(dp__tests[i].name, argv[1]) == 0)
                return dp__run_one(&dp__tests[i]);
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    /* All tests, forked, TAP output. */
    int failed = 0;
    printf("1..%zu\n", dp__n_tests);
    for (size_t i = 0; i < dp__n_tests; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            alarm(600);
            exit(dp__run_one(&dp__tests[i]));
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
            printf("ok %zu - %s\n", i + 1, dp__tests[i].name);
        } else if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
            printf("ok %zu - %s # SKIP\n", i + 1, dp__tests[i].name);
        } else {
            printf("not ok %zu - %s\n", i + 1, dp__tests[i].name);
            failed++;
        }
    }
    return failed ? 1 : 0;
}
