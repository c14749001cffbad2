/* The settings table: validation, config files, per-pass hashes and diffs. */
#include "dp_test.h"
#include "dpipe/dp_config.h"

DP_TEST(config_defaults_and_validation) {
    dp_config *c = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_config_create(&c, &err), &err);
    DP_ASSERT_NEAR(dp_config_double(c, "variance-threshold"), 0.002, 0);
    DP_ASSERT_NEAR(dp_config_double(c, "spearman_threshold"), 0.95, 0);
    DP_ASSERT_EQ_INT(dp_config_int(c, "min-effective-n"), 100);
    DP_ASSERT_STREQ(dp_config_text(c, "range-mode"), "trimmed");
    DP_ASSERT_TRUE(dp_config_bool(c, "checkpoint"));
    /* Setting a default explicitly changes no hash. */
    dp_config *d0 = NULL;
    DP_ASSERT_OK(dp_config_create(&d0, &err), &err);
    DP_ASSERT_OK(dp_config_set(c, "spearman_threshold", "0.950", &err), &err);
    DP_ASSERT_EQ_U64(dp_config_hash(c, DP_PASS2), dp_config_hash(d0, DP_PASS2));
    dp_config_free(d0);
    DP_ASSERT_OK(dp_config_set(c, "spearman_threshold", "0.9", &err), &err);
    DP_ASSERT_NEAR(dp_config_double(c, "spearman-threshold"), 0.9, 0);
    DP_ASSERT_STATUS(dp_config_set(c, "spearman-threshold", "1.5", &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "spearman-threshold");
    DP_ASSERT_STATUS(dp_config_set(c, "min-effective-n", "2.5", &err), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_config_set(c, "range-mode", "median", &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "minmax|trimmed|iqr");
    DP_ASSERT_STATUS(dp_config_set(c, "no-such-option", "1", &err), DP_INVALID_ARG);
    DP_ASSERT_OK(dp_config_set(c, "checkpoint", "no", &err), &err);
    DP_ASSERT_TRUE(!dp_config_bool(c, "checkpoint"));
    DP_ASSERT_OK(dp_config_set(c, "nonlinear-rows", "1e6", &err), &err);
    DP_ASSERT_EQ_INT(dp_config_int(c, "nonlinear-rows"), 1000000);
    /* Dead option of the original that dpipe cannot honour is refused, not ignored. */
    DP_ASSERT_STATUS(dp_config_set(c, "file-independent-sampling", "false", &err), DP_INVALID_ARG);
    /* Lists split on commas and append when repeated. */
    DP_ASSERT_OK(dp_config_set(c, "exclude", "fr_*, Chi?n", &err), &err);
    DP_ASSERT_OK(dp_config_set(c, "exclude", "Ipc", &err), &err);
    const char *const *items;
    DP_ASSERT_EQ_INT(dp_config_list(c, "exclude", &items), 3);
    DP_ASSERT_STREQ(items[1], "Chi?n");
    DP_ASSERT_STREQ(items[2], "Ipc");
    dp_config_free(c);
}

DP_TEST(config_file_hash_and_diff) {
    char path[4096];
    snprintf(path, sizeof path, "%s/run.conf", dp_test_tmp_dir());
    FILE *f = fopen(path, "w");
    fprintf(f, "# comment\n\nspearman_threshold = 0.9\nvif-threshold = \"5\"\n");
    fclose(f);
    dp_config *a = NULL, *b = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_config_create(&a, &err), &err);
    DP_ASSERT_OK(dp_config_create(&b, &err), &err);
    DP_ASSERT_OK(dp_config_load(b, path, &err), &err);
    DP_ASSERT_NEAR(dp_config_double(b, "vif-threshold"), 5, 0);
    /* Pass 1 settings are unchanged, pass 2 and 3 are not. */
    DP_ASSERT_EQ_U64(dp_config_hash(a, DP_PASS1), dp_config_hash(b, DP_PASS1));
    DP_ASSERT_TRUE(dp_config_hash(a, DP_PASS2) != dp_config_hash(b, DP_PASS2));
    DP_ASSERT_TRUE(dp_config_hash(a, DP_PASS3) != dp_config_hash(b, DP_PASS3));
    /* Speed-only settings change no pass. */
    DP_ASSERT_OK(dp_config_set(a, "threads", "3", &err), &err);
    DP_ASSERT_OK(dp_config_set(a, "batch-rows", "1000", &err), &err);
    DP_ASSERT_EQ_U64(dp_config_hash(a, 0xffffffffu), dp_config_hash(a, 0xffffffffu));
    dp_config *d = NULL;
    DP_ASSERT_OK(dp_config_create(&d, &err), &err);
    DP_ASSERT_EQ_U64(dp_config_hash(a, 0xffffffffu), dp_config_hash(d, 0xffffffffu));
    char diff[512];
    DP_ASSERT_EQ_INT(dp_config_diff(d, b, DP_PASS2, diff, sizeof diff), 1);
    DP_ASSERT_STREQ(diff, "spearman-threshold changed 0.95 -> 0.9");
    /* A bad line names the file and line. */
    f = fopen(path, "w");
    fprintf(f, "vif-threshold = 5\nbogus line\n");
    fclose(f);
    DP_ASSERT_STATUS(dp_config_load(b, path, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, ":2:");
    dp_config_free(a);
    dp_config_free(b);
    dp_config_free(d);
}
