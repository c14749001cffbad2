/* Synthetic descriptor tables: the plan (roles, names, relations), block-wise generation from
 * addressed random streams, and truth.json. */
#include "pipeline/dp_gen.h"
#include "io/dp_sink.h"
#include "parquet/pq_codec.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_checksum.h"
#include "util/dp_rng.h"

#include <math.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Rows of one random block: streams restart at block boundaries, so any row range can be
 * produced without generating the rows before it. */
#define DP__BLOCK  DP_GEN_FILL_MAX
#define DP__ID_MAX 24 /* bytes of one mol_id */

static const char *const dp__names[] = {
    "MaxAbsEStateIndex",
    "MaxEStateIndex",
    "MinAbsEStateIndex",
    "MinEStateIndex",
    "qed",
    "SPS",
    "MolWt",
    "HeavyAtomMolWt",
    "ExactMolWt",
    "NumValenceElectrons",
    "NumRadicalElectrons",
    "MaxPartialCharge",
    "MinPartialCharge",
    "MaxAbsPartialCharge",
    "MinAbsPartialCharge",
    "FpDensityMorgan1",
    "FpDensityMorgan2",
    "FpDensityMorgan3",
    "BCUT2D_MWHI",
    "BCUT2D_MWLOW",
    "BCUT2D_CHGHI",
    "BCUT2D_CHGLO",
    "BCUT2D_LOGPHI",
    "BCUT2D_LOGPLOW",
    "BCUT2D_MRHI",
    "BCUT2D_MRLOW",
    "AvgIpc",
    "BalabanJ",
    "BertzCT",
    "Chi0",
    "Chi0n",
    "Chi0v",
    "Chi1",
    "Chi1n",
    "Chi1v",
    "Chi2n",
    "Chi2v",
    "Chi3n",
    "Chi3v",
    "Chi4n",
    "Chi4v",
    "HallKierAlpha",
    "Ipc",
    "Kappa1",
    "Kappa2",
    "Kappa3",
    "LabuteASA",
    "PEOE_VSA1",
    "PEOE_VSA2",
    "PEOE_VSA3",
    "PEOE_VSA4",
    "PEOE_VSA5",
    "PEOE_VSA6",
    "PEOE_VSA7",
    "PEOE_VSA8",
    "PEOE_VSA9",
    "PEOE_VSA10",
    "PEOE_VSA11",
    "PEOE_VSA12",
    "PEOE_VSA13",
    "PEOE_VSA14",
    "SMR_VSA1",
    "SMR_VSA2",
    "SMR_VSA3",
    "SMR_VSA4",
    "SMR_VSA5",
    "SMR_VSA6",
    "SMR_VSA7",
    "SMR_VSA8",
    "SMR_VSA9",
    "SMR_VSA10",
    "SlogP_VSA1",
    "SlogP_VSA2",
    "SlogP_VSA3",
    "SlogP_VSA4",
    "SlogP_VSA5",
    "SlogP_VSA6",
    "SlogP_VSA7",
    "SlogP_VSA8",
    "SlogP_VSA9",
    "SlogP_VSA10",
    "SlogP_VSA11",
    "SlogP_VSA12",
    "TPSA",
    "EState_VSA1",
    "EState_VSA2",
    "EState_VSA3",
    "EState_VSA4",
    "EState_VSA5",
    "EState_VSA6",
    "EState_VSA7",
    "EState_VSA8",
    "EState_VSA9",
    "EState_VSA10",
    "EState_VSA11",
    "VSA_EState1",
    "VSA_EState2",
    "VSA_EState3",
    "VSA_EState4",
    "VSA_EState5",
    "VSA_EState6",
    "VSA_EState7",
    "VSA_EState8",
    "VSA_EState9",
    "VSA_EState10",
    "FractionCSP3",
    "HeavyAtomCount",
    "NHOHCount",
    "NOCount",
    "NumAliphaticCarbocycles",
    "NumAliphaticHeterocycles",
    "NumAliphaticRings",
    "NumAmideBonds",
    "NumAromaticCarbocycles",
    "NumAromaticHeterocycles",
    "NumAromaticRings",
    "NumAtomStereoCenters",
    "NumBridgeheadAtoms",
    "NumHAcceptors",
    "NumHDonors",
    "NumHeteroatoms",
    "NumHeterocycles",
    "NumRotatableBonds",
    "NumSaturatedCarbocycles",
    "NumSaturatedHeterocycles",
    "NumSaturatedRings",
    "NumSpiroAtoms",
    "NumUnspecifiedAtomStereoCenters",
    "Phi",
    "RingCount",
    "MolLogP",
    "MolMR",
    "fr_Al_COO",
    "fr_Al_OH",
    "fr_Al_OH_noTert",
    "fr_ArN",
    "fr_Ar_COO",
    "fr_Ar_N",
    "fr_Ar_NH",
    "fr_Ar_OH",
    "fr_COO",
    "fr_COO2",
    "fr_C_O",
    "fr_C_O_noCOO",
    "fr_C_S",
    "fr_HOCCN",
    "fr_Imine",
    "fr_NH0",
    "fr_NH1",
    "fr_NH2",
    "fr_N_O",
    "fr_Ndealkylation1",
    "fr_Ndealkylation2",
    "fr_Nhpyrrole",
    "fr_SH",
    "fr_aldehyde",
    "fr_alkyl_carbamate",
    "fr_alkyl_halide",
    "fr_allylic_oxid",
    "fr_amide",
    "fr_amidine",
    "fr_aniline",
    "fr_aryl_methyl",
    "fr_azide",
    "fr_azo",
    "fr_barbitur",
    "fr_benzene",
    "fr_benzodiazepine",
    "fr_bicyclic",
    "fr_diazo",
    "fr_dihydropyridine",
    "fr_epoxide",
    "fr_ester",
    "fr_ether",
    "fr_furan",
    "fr_guanido",
    "fr_halogen",
    "fr_hdrzine",
    "fr_hdrzone",
    "fr_imidazole",
    "fr_imide",
    "fr_isocyan",
    "fr_isothiocyan",
    "fr_ketone",
    "fr_ketone_Topliss",
    "fr_lactam",
    "fr_lactone",
    "fr_methoxy",
    "fr_morpholine",
    "fr_nitrile",
    "fr_nitro",
    "fr_nitro_arom",
    "fr_nitro_arom_nonortho",
    "fr_nitroso",
    "fr_oxazole",
    "fr_oxime",
    "fr_para_hydroxylation",
    "fr_phenol",
    "fr_phenol_noOrthoHbond",
    "fr_phos_acid",
    "fr_phos_ester",
    "fr_piperdine",
    "fr_piperzine",
    "fr_priamide",
    "fr_prisulfonamd",
    "fr_pyridine",
    "fr_quatN",
    "fr_sulfide",
    "fr_sulfonamd",
    "fr_sulfone",
    "fr_term_acetylene",
    "fr_tetrazole",
    "fr_thiazole",
    "fr_thiocyan",
    "fr_thiophene",
    "fr_unbrch_alkane",
    "fr_urea",
};

#define DP__N_NAMES ((int32_t) DP_ARRAY_LEN(dp__names))

typedef enum dp__kind {
    K_NORMAL,    /* off + sc * z(a) */
    K_UNIFORM,   /* off + sc * u(a) */
    K_CHI2,      /* off + sc * (z1^2 + z2^2 + z3^2), three streams from a */
    K_MONO_LIN,  /* 1.5 x + 3 */
    K_MONO_EXP,  /* exp(x) */
    K_MONO_CUBE, /* x^3 */
    K_MONO_SLOG, /* sign(x) log1p|x| */
    K_CORR,      /* z(a) + p0 z(b) */
    K_LIN_C,     /* z(a) + p0 z(b) + p1 z(c) */
    K_SQUARE,    /* z(a)^2 */
    K_SIN3,      /* sin(3 z(a)) */
    K_COS2PI,    /* cos(2 pi u(a)) */
    K_SIN2PI,    /* sin(2 pi u(a)) */
    K_CAUCHY,    /* tan(pi (u(a) - 1/2)) */
    K_LOGNORMAL, /* exp(p0 z(a)) */
    K_POISSON,   /* Poisson(p0) by inversion of u(a); INT64 */
    K_NEARCONST, /* u(a) < p0 ? 1 : 0 */
    K_CONST,     /* p0 */
    K_MISS_NULL, /* z(a), NULL where u(b) < p0 */
    K_MISS_NAN,  /* z(a), NaN where u(b) < p0 */
    K_MISS_INF   /* z(a), +Inf where u(b) < p0/2, -Inf where p0/2 <= u(b) < p0 */
} dp__kind;

typedef struct dp__role {
    dp__kind kind;
    uint64_t a, b, c; /* stream keys */
    double p0, p1, off, sc;
    int32_t relation; /* -1: none (noise is its own relation list) */
    int32_t slot;     /* member index within the relation */
    const char *desc; /* short formula for truth.json */
} dp__role;

typedef struct dp__relation {
    const char *type;
    char *params; /* JSON members after "type" (without braces), dp_malloc'ed */
    int32_t n_members;
    int32_t *members; /* output positions (descriptor index, 0-based) */
} dp__relation;

struct dp_gen {
    dp_gen_config cfg;
    int32_t p;
    dp__role *roles; /* in output order */
    char **names;
    dp_pq_write_column *specs; /* 1 + p */
    dp__relation *rels;
    int32_t n_rels, cap_rels;
    /* buffers of one fill */
    dp_pq_column_data *views;
    void **values;              /* p arrays of DP__BLOCK doubles or int64 */
    uint8_t **valid;            /* p entries, non-NULL for K_MISS_NULL */
    int64_t *id_ofs;            /* DP__BLOCK + 1 */
    char *id_bytes;             /* DP__BLOCK * DP__ID_MAX */
    double *s1, *s2, *s3, *blk; /* scratch of one block */
};

/* Shortest %g text that reads back as x. */
static void dp__shortest(double x, char *buf, size_t cap) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, x);
        if (strtod(buf, NULL) == x)
            return;
    }
}

/* ---- random streams ------------------------------------------------------------------------ */

static void dp__fill_uniform(uint64_t key, int64_t block, double *out) {
    dp_rng r;
    dp_rng_seed(&r, dp_hash64_combine(key, (uint64_t) block));
    for (int i = 0; i < DP__BLOCK; i++)
        out[i] = dp_rng_uniform(&r);
}

/* Marsaglia's polar method, both values of each accepted pair used. */
static void dp__fill_normal(uint64_t key, int64_t block, double *out) {
    dp_rng r;
    dp_rng_seed(&r, dp_hash64_combine(key, (uint64_t) block));
    int i = 0;
    while (i < DP__BLOCK) {
        double u, v, s;
        do {
            u = 2.0 * dp_rng_uniform(&r) - 1.0;
            v = 2.0 * dp_rng_uniform(&r) - 1.0;
            s = u * u + v * v;
        } while (s >= 1.0 || s == 0.0);
        double f = sqrt(-2.0 * log(s) / s);
        out[i++] = u * f;
        if (i < DP__BLOCK)
            out[i++] = v * f;
    }
}

/* ---- plan ---------------------------------------------------------------------------------- */

enum {
    M_MONO,
    M_LIN,
    M_DUP,
    M_SQ,
    M_SIN,
    M_CIRC,
    M_MISS,
    M_COUNT,
    M_HEAVY,
    M_NEARC,
    M_CONST,
    M_CORR,
    M__N
};
static const int32_t dp__module_size[M__N] = {4, 3, 2, 2, 2, 2, 3, 2, 2, 1, 1, 3};

static uint64_t dp__key(uint64_t seed, int32_t rep, int module, int slot) {
    return dp_hash64_combine(dp_hash64_combine(seed ^ 0x6470697065676e21ull, (uint64_t) rep),
                             (uint64_t) (module * 64 + slot));
}

static dp_status dp__add_relation(dp_gen *g, const char *type, int32_t n_members, int32_t *id,
                                  dp_error *err, const char *fmt, ...) DP_PRINTF(6, 7);

static dp_status dp__add_relation(dp_gen *g, const char *type, int32_t n_members, int32_t *id,
                                  dp_error *err, const char *fmt, ...) {
    if (g->n_rels == g->cap_rels) {
        int32_t cap = g->cap_rels ? g->cap_rels * 2 : 32;
        dp__relation *r = dp_reallocarray(g->rels, (size_t) cap, sizeof *r);
        if (r == NULL)
            return dp_error_set(err, DP_NOMEM, "gen: out of memory");
        g->rels = r;
        g->cap_rels = cap;
    }
    dp__relation *r = &g->rels[g->n_rels];
    memset(r, 0, sizeof *r);
    r->type = type;
    r->n_members = n_members;
    r->members = dp_calloc((size_t) (n_members > 0 ? n_members : 1), sizeof *r->members);
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    r->params = dp_strdup(tmp);
    g->n_rels++;
    if (r->members == NULL || r->params == NULL)
        return dp_error_set(err, DP_NOMEM, "gen: out of memory");
    *id = g->n_rels - 1;
    return DP_OK;
}

static dp__role dp__mk(dp__kind kind, uint64_t a, int32_t rel, int32_t slot, const char *desc) {
    dp__role r = {kind, a, 0, 0, 0, 0, 0, 1, rel, slot, desc};
    return r;
}

/* Append the roles of one module (repeat rep) at roles[*n]. */
static dp_status dp__add_module(dp_gen *g, int module, int32_t rep, dp__role *roles, int32_t *n,
                                dp_error *err) {
    uint64_t s = g->cfg.seed;
    uint64_t k[6];
    for (int i = 0; i < 6; i++)
        k[i] = dp__key(s, rep, module, i);
    int32_t rel = -1, rel2 = -1, rel3 = -1;
    dp__role *o = roles + *n;
    double miss = g->cfg.missing;
    char miss_text[32];
    dp__shortest(miss, miss_text, sizeof miss_text);
    switch (module) {
    case M_MONO:
        DP_TRY(dp__add_relation(g, "monotone", 4, &rel, err,
                                "\"latent\":\"x ~ N(0,1)\",\"transforms\":[\"1.5*x+3\",\"exp(x)\","
                                "\"x^3\",\"sign(x)*log1p(|x|)\"],\"spearman\":1"));
        o[0] = dp__mk(K_MONO_LIN, k[0], rel, 0, "1.5*x+3");
        o[1] = dp__mk(K_MONO_EXP, k[0], rel, 1, "exp(x)");
        o[2] = dp__mk(K_MONO_CUBE, k[0], rel, 2, "x^3");
        o[3] = dp__mk(K_MONO_SLOG, k[0], rel, 3, "sign(x)*log1p(|x|)");
        break;
    case M_CORR:
        DP_TRY(dp__add_relation(g, "correlated", 3, &rel, err,
                                "\"model\":\"x + 0.3*e_i, x and e_i ~ N(0,1)\",\"noise_sd\":0.3,"
                                "\"pearson\":%.6f",
                                1.0 / 1.09));
        for (int i = 0; i < 3; i++) {
            o[i] = dp__mk(K_CORR, k[0], rel, i, "x + 0.3*e");
            o[i].b = k[1 + i];
            o[i].p0 = 0.3;
        }
        break;
    case M_DUP:
        DP_TRY(dp__add_relation(g, "duplicate", 2, &rel, err,
                                "\"model\":\"250 + 40*x, x ~ N(0,1); both columns identical\""));
        for (int i = 0; i < 2; i++) {
            o[i] = dp__mk(K_NORMAL, k[0], rel, i, "250 + 40*x");
            o[i].off = 250;
            o[i].sc = 40;
        }
        break;
    case M_LIN:
        DP_TRY(dp__add_relation(g, "linear_combination", 3, &rel, err,
                                "\"target_index\":2,\"model\":\"c = a + 2*b + 0.01*e\","
                                "\"coefficients\":[1,2],\"noise_sd\":0.01"));
        o[0] = dp__mk(K_NORMAL, k[0], rel, 0, "a ~ N(0,1)");
        o[1] = dp__mk(K_NORMAL, k[1], rel, 1, "b ~ N(0,1)");
        o[2] = dp__mk(K_LIN_C, k[0], rel, 2, "a + 2*b + 0.01*e");
        o[2].b = k[1];
        o[2].c = k[2];
        o[2].p0 = 2;
        o[2].p1 = 0.01;
        break;
    case M_SQ:
        DP_TRY(dp__add_relation(g, "nonlinear", 2, &rel, err,
                                "\"function\":\"square\",\"model\":\"y = x^2, x ~ N(0,1)\","
                                "\"pearson\":0"));
        o[0] = dp__mk(K_NORMAL, k[0], rel, 0, "x ~ N(0,1)");
        o[1] = dp__mk(K_SQUARE, k[0], rel, 1, "x^2");
        break;
    case M_SIN:
        /* corr(x, sin 3x) = 3 exp(-9/2) / sd(sin 3x) for x ~ N(0,1): about 0.05. */
        DP_TRY(dp__add_relation(g, "nonlinear", 2, &rel, err,
                                "\"function\":\"sin3x\",\"model\":\"y = sin(3*x), x ~ N(0,1)\","
                                "\"pearson\":%.4f",
                                3 * exp(-4.5) / sqrt(0.5 * (1 - exp(-18)))));
        o[0] = dp__mk(K_NORMAL, k[0], rel, 0, "x ~ N(0,1)");
        o[1] = dp__mk(K_SIN3, k[0], rel, 1, "sin(3*x)");
        break;
    case M_CIRC:
        DP_TRY(dp__add_relation(g, "nonlinear", 2, &rel, err,
                                "\"function\":\"circle\",\"model\":\"(cos(2*pi*t), sin(2*pi*t)), "
                                "t ~ U(0,1)\",\"pearson\":0"));
        o[0] = dp__mk(K_COS2PI, k[0], rel, 0, "cos(2*pi*t)");
        o[1] = dp__mk(K_SIN2PI, k[0], rel, 1, "sin(2*pi*t)");
        break;
    case M_HEAVY:
        DP_TRY(dp__add_relation(g, "heavy_tail", 1, &rel, err,
                                "\"distribution\":\"cauchy\",\"model\":\"tan(pi*(u-0.5))\""));
        DP_TRY(dp__add_relation(g, "heavy_tail", 1, &rel2, err,
                                "\"distribution\":\"lognormal\",\"sigma\":1.5,"
                                "\"model\":\"exp(1.5*z)\""));
        o[0] = dp__mk(K_CAUCHY, k[0], rel, 0, "cauchy");
        o[1] = dp__mk(K_LOGNORMAL, k[1], rel2, 0, "exp(1.5*z)");
        o[1].p0 = 1.5;
        break;
    case M_COUNT:
        DP_TRY(
            dp__add_relation(g, "counts", 1, &rel, err,
                             "\"distribution\":\"poisson\",\"lambda\":0.7,\"physical\":\"INT64\""));
        DP_TRY(
            dp__add_relation(g, "counts", 1, &rel2, err,
                             "\"distribution\":\"poisson\",\"lambda\":3,\"physical\":\"INT64\""));
        o[0] = dp__mk(K_POISSON, k[0], rel, 0, "poisson(0.7)");
        o[0].p0 = 0.7;
        o[1] = dp__mk(K_POISSON, k[1], rel2, 0, "poisson(3)");
        o[1].p0 = 3;
        break;
    case M_NEARC:
        DP_TRY(dp__add_relation(g, "near_constant", 1, &rel, err,
                                "\"model\":\"1 with probability 0.01, else 0\","
                                "\"nonzero_fraction\":0.01"));
        o[0] = dp__mk(K_NEARCONST, k[0], rel, 0, "bernoulli(0.01)");
        o[0].p0 = 0.01;
        break;
    case M_CONST:
        DP_TRY(dp__add_relation(g, "constant", 1, &rel, err, "\"value\":1"));
        o[0] = dp__mk(K_CONST, 0, rel, 0, "1");
        o[0].p0 = 1;
        break;
    case M_MISS:
        DP_TRY(dp__add_relation(g, "missing", 1, &rel, err,
                                "\"kind\":\"null\",\"fraction\":%s,\"model\":\"N(0,1)\"",
                                miss_text));
        DP_TRY(dp__add_relation(g, "missing", 1, &rel2, err,
                                "\"kind\":\"nan\",\"fraction\":%s,\"model\":\"N(0,1)\"",
                                miss_text));
        DP_TRY(dp__add_relation(g, "missing", 1, &rel3, err,
                                "\"kind\":\"inf\",\"fraction\":%s,\"model\":\"N(0,1); +inf and "
                                "-inf in half of the missing rows each\"",
                                miss_text));
        o[0] = dp__mk(K_MISS_NULL, k[0], rel, 0, "N(0,1) with NULL");
        o[1] = dp__mk(K_MISS_NAN, k[2], rel2, 0, "N(0,1) with NaN");
        o[2] = dp__mk(K_MISS_INF, k[4], rel3, 0, "N(0,1) with +-Inf");
        o[0].b = k[1];
        o[1].b = k[3];
        o[2].b = k[5];
        o[0].p0 = o[1].p0 = o[2].p0 = miss;
        break;
    default:
        break;
    }
    *n += dp__module_size[module];
    return DP_OK;
}

void dp_gen_free(dp_gen *g) {
    if (g == NULL)
        return;
    if (g->names != NULL)
        for (int32_t j = 0; j < g->p; j++)
            dp_free(g->names[j]);
    if (g->values != NULL)
        for (int32_t j = 0; j < g->p; j++)
            dp_free(g->values[j]);
    if (g->valid != NULL)
        for (int32_t j = 0; j < g->p; j++)
            dp_free(g->valid[j]);
    for (int32_t r = 0; r < g->n_rels; r++) {
        dp_free(g->rels[r].params);
        dp_free(g->rels[r].members);
    }
    dp_free(g->rels);
    dp_free(g->names);
    dp_free(g->values);
    dp_free(g->valid);
    dp_free(g->roles);
    dp_free(g->specs);
    dp_free(g->views);
    dp_free(g->id_ofs);
    dp_free(g->id_bytes);
    dp_free(g->s1);
    dp_free(g->s2);
    dp_free(g->s3);
    dp_free(g->blk);
    dp_free(g);
}

dp_status dp_gen_create(const dp_gen_config *cfg, dp_gen **out, dp_error *err) {
    dp_status st = DP_OK;
    *out = NULL;
    if (cfg->cols < 1 || cfg->cols > 1000000)
        return dp_error_set(err, DP_INVALID_ARG, "gen: %d columns (allowed 1..1000000)", cfg->cols);
    if (!(cfg->missing >= 0 && cfg->missing < 1))
        return dp_error_set(err, DP_INVALID_ARG, "gen: missing fraction %g outside [0, 1)",
                            cfg->missing);
    dp_gen *g = dp_calloc(1, sizeof *g);
    if (g == NULL)
        return dp_error_set(err, DP_NOMEM, "gen: out of memory");
    g->cfg = *cfg;
    int32_t p = g->p = cfg->cols;
    size_t up = (size_t) p;
    g->roles = dp_calloc(up, sizeof *g->roles);
    g->names = dp_calloc(up, sizeof *g->names);
    g->specs = dp_calloc(up + 1, sizeof *g->specs);
    g->views = dp_calloc(up + 1, sizeof *g->views);
    g->values = dp_calloc(up, sizeof *g->values);
    g->valid = dp_calloc(up, sizeof *g->valid);
    g->id_ofs = dp_calloc(DP__BLOCK + 1, sizeof *g->id_ofs);
    g->id_bytes = dp_malloc((size_t) DP__BLOCK * DP__ID_MAX);
    g->s1 = dp_malloc(DP__BLOCK * sizeof(double));
    g->s2 = dp_malloc(DP__BLOCK * sizeof(double));
    g->s3 = dp_malloc(DP__BLOCK * sizeof(double));
    g->blk = dp_malloc(DP__BLOCK * sizeof(double));
    if (g->roles == NULL || g->names == NULL || g->specs == NULL || g->views == NULL ||
        g->values == NULL || g->valid == NULL || g->id_ofs == NULL || g->id_bytes == NULL ||
        g->s1 == NULL || g->s2 == NULL || g->s3 == NULL || g->blk == NULL)
        DP_FAIL(err, DP_NOMEM, "gen: out of memory for %d columns", p);

    /* Structured modules, about one set per 100 columns; then noise. */
    int32_t reps = (p + 50) / 100;
    if (reps < 1)
        reps = 1;
    int32_t n = 0;
    for (int32_t rep = 0; rep < reps; rep++)
        for (int m = 0; m < M__N; m++)
            if (n + dp__module_size[m] <= p)
                DP_CHECK(dp__add_module(g, m, rep, g->roles, &n, err));
    int32_t noise_rel = -1;
    if (n < p)
        DP_CHECK(dp__add_relation(g, "noise", p - n, &noise_rel, err,
                                  "\"model\":\"independent: normal, uniform or chi-square(3), with "
                                  "varied location and scale\""));
    for (int32_t j = 0; n < p; j++, n++) {
        uint64_t key =
            dp_hash64_combine(dp_hash64_combine(cfg->seed ^ 0x6e6f697365ull, 7), (uint64_t) j);
        dp_rng r;
        dp_rng_seed(&r, key ^ 0x5eed);
        static const dp__kind kinds[3] = {K_NORMAL, K_UNIFORM, K_CHI2};
        dp__kind kd = kinds[dp_rng_below(&r, 3)];
        dp__role *o = &g->roles[n];
        *o = dp__mk(kd, key, noise_rel, j,
                    kd == K_NORMAL    ? "normal"
                    : kd == K_UNIFORM ? "uniform"
                                      : "chi-square(3)");
        o->off = round(dp_rng_uniform(&r) * 200 - 100);
        o->sc = pow(10.0, dp_rng_uniform(&r) * 4 - 2);
    }

    /* Shuffle the roles (seeded) so that positions and names carry no information. */
    dp_rng r;
    dp_rng_seed_key(&r, cfg->seed, "dpipe gen layout", (uint64_t) p);
    for (int32_t i = p - 1; i > 0; i--) {
        int32_t j = (int32_t) dp_rng_below(&r, (uint64_t) i + 1);
        dp__role t = g->roles[i];
        g->roles[i] = g->roles[j];
        g->roles[j] = t;
    }
    for (int32_t i = 0; i < p; i++)
        g->rels[g->roles[i].relation].members[g->roles[i].slot] = i;

    g->specs[0] = (dp_pq_write_column){"mol_id", DP_PQ_BYTE_ARRAY, true, false, false};
    for (int32_t i = 0; i < p; i++) {
        char name[96];
        if (i < DP__N_NAMES)
            snprintf(name, sizeof name, "%s", dp__names[i]);
        else
            snprintf(name, sizeof name, "%s_%d", dp__names[i % DP__N_NAMES], i / DP__N_NAMES + 1);
        g->names[i] = dp_strdup(name);
        bool is_int = g->roles[i].kind == K_POISSON;
        bool opt = g->roles[i].kind == K_MISS_NULL;
        g->values[i] = dp_malloc(DP__BLOCK * 8);
        if (opt)
            g->valid[i] = dp_malloc(DP__BLOCK);
        if (g->names[i] == NULL || g->values[i] == NULL || (opt && g->valid[i] == NULL))
            DP_FAIL(err, DP_NOMEM, "gen: out of memory for %d columns", p);
        g->specs[i + 1] = (dp_pq_write_column){g->names[i], is_int ? DP_PQ_INT64 : DP_PQ_DOUBLE,
                                               false, opt, false};
    }
    *out = g;
    return DP_OK;
cleanup:
    dp_gen_free(g);
    return st;
}

int32_t dp_gen_n_columns(const dp_gen *g) {
    return g->p + 1;
}

const dp_pq_write_column *dp_gen_columns(const dp_gen *g) {
    return g->specs;
}

/* ---- generation ---------------------------------------------------------------------------- */

static double dp__poisson(double u, double lambda) {
    double p = exp(-lambda), f = p;
    int k = 0;
    while (u > f && k < 1000) {
        k++;
        p *= lambda / k;
        f += p;
    }
    return k;
}

/* The full block `block` of role ro into g->blk (and the NULL mask into mask when the role has
 * one). */
static void dp__gen_block(dp_gen *g, const dp__role *ro, int64_t block, uint8_t *mask) {
    double *v = g->blk, *s1 = g->s1, *s2 = g->s2, *s3 = g->s3;
    const int n = DP__BLOCK;
    switch (ro->kind) {
    case K_NORMAL:
        dp__fill_normal(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = ro->off + ro->sc * s1[i];
        break;
    case K_UNIFORM:
        dp__fill_uniform(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = ro->off + ro->sc * s1[i];
        break;
    case K_CHI2:
        dp__fill_normal(ro->a, block, s1);
        dp__fill_normal(ro->a ^ 1, block, s2);
        dp__fill_normal(ro->a ^ 2, block, s3);
        for (int i = 0; i < n; i++)
            v[i] = ro->off + ro->sc * (s1[i] * s1[i] + s2[i] * s2[i] + s3[i] * s3[i]);
        break;
    case K_MONO_LIN:
        dp__fill_normal(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = 1.5 * s1[i] + 3;
        break;
    case K_MONO_EXP:
        dp__fill_normal(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = exp(s1[i]);
        break;
    case K_MONO_CUBE:
        dp__fill_normal(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = s1[i] * s1[i] * s1[i];
        break;
    case K_MONO_SLOG:
        dp__fill_normal(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = copysign(log1p(fabs(s1[i])), s1[i]);
        break;
    case K_CORR:
        dp__fill_normal(ro->a, block, s1);
        dp__fill_normal(ro->b, block, s2);
        for (int i = 0; i < n; i++)
            v[i] = s1[i] + ro->p0 * s2[i];
        break;
    case K_LIN_C:
        dp__fill_normal(ro->a, block, s1);
        dp__fill_normal(ro->b, block, s2);
        dp__fill_normal(ro->c, block, s3);
        for (int i = 0; i < n; i++)
            v[i] = s1[i] + ro->p0 * s2[i] + ro->p1 * s3[i];
        break;
    case K_SQUARE:
        dp__fill_normal(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = s1[i] * s1[i];
        break;
    case K_SIN3:
        dp__fill_normal(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = sin(3 * s1[i]);
        break;
    case K_COS2PI:
        dp__fill_uniform(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = cos(2 * M_PI * s1[i]);
        break;
    case K_SIN2PI:
        dp__fill_uniform(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = sin(2 * M_PI * s1[i]);
        break;
    case K_CAUCHY:
        dp__fill_uniform(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = tan(M_PI * (s1[i] - 0.5));
        break;
    case K_LOGNORMAL:
        dp__fill_normal(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = exp(ro->p0 * s1[i]);
        break;
    case K_POISSON:
        dp__fill_uniform(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = dp__poisson(s1[i], ro->p0);
        break;
    case K_NEARCONST:
        dp__fill_uniform(ro->a, block, s1);
        for (int i = 0; i < n; i++)
            v[i] = s1[i] < ro->p0 ? 1.0 : 0.0;
        break;
    case K_CONST:
        for (int i = 0; i < n; i++)
            v[i] = ro->p0;
        break;
    case K_MISS_NULL:
    case K_MISS_NAN:
    case K_MISS_INF:
        dp__fill_normal(ro->a, block, s1);
        dp__fill_uniform(ro->b, block, s2);
        for (int i = 0; i < n; i++) {
            double x = s1[i];
            bool miss = s2[i] < ro->p0;
            if (ro->kind == K_MISS_NAN && miss)
                x = NAN;
            else if (ro->kind == K_MISS_INF && miss)
                x = s2[i] < ro->p0 / 2 ? INFINITY : -INFINITY;
            v[i] = x;
            if (mask != NULL)
                mask[i] = (uint8_t) !(ro->kind == K_MISS_NULL && miss);
        }
        break;
    }
}

dp_status dp_gen_fill(dp_gen *g, int64_t row0, int64_t n, const dp_pq_column_data **views,
                      dp_error *err) {
    if (n < 1 || n > DP__BLOCK || row0 < 0)
        return dp_error_set(err, DP_INVALID_ARG, "gen: fill of %lld rows at %lld (1..%d rows)",
                            (long long) n, (long long) row0, DP__BLOCK);
    /* mol_id */
    g->id_ofs[0] = 0;
    for (int64_t i = 0; i < n; i++) {
        int len =
            snprintf(g->id_bytes + g->id_ofs[i], DP__ID_MAX, "MOL%09lld", (long long) (row0 + i));
        g->id_ofs[i + 1] = g->id_ofs[i] + len;
    }
    g->views[0] = (dp_pq_column_data){NULL, g->id_ofs, (const uint8_t *) g->id_bytes, NULL};
    uint8_t mask[DP__BLOCK];
    for (int32_t j = 0; j < g->p; j++) {
        const dp__role *ro = &g->roles[j];
        bool is_int = ro->kind == K_POISSON;
        int64_t done = 0;
        while (done < n) {
            int64_t r = row0 + done;
            int64_t block = r / DP__BLOCK;
            int64_t off = r % DP__BLOCK;
            int64_t take = DP_MIN(n - done, DP__BLOCK - off);
            dp__gen_block(g, ro, block, g->valid[j] != NULL ? mask : NULL);
            if (is_int) {
                int64_t *dst = (int64_t *) g->values[j] + done;
                for (int64_t i = 0; i < take; i++)
                    dst[i] = (int64_t) g->blk[off + i];
            } else {
                memcpy((double *) g->values[j] + done, g->blk + off, (size_t) take * 8);
            }
            if (g->valid[j] != NULL)
                memcpy(g->valid[j] + done, mask + off, (size_t) take);
            done += take;
        }
        g->views[j + 1] = (dp_pq_column_data){g->values[j], NULL, NULL, g->valid[j]};
    }
    *views = g->views;
    return DP_OK;
}

/* ---- truth.json ---------------------------------------------------------------------------- */

static dp_status dp__json_str(dp_buf *b, const char *s) {
    DP_TRY(dp_buf_append_u8(b, '"'));
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\')
            DP_TRY(dp_buf_printf(b, "\\%c", *p));
        else if (*p < 0x20)
            DP_TRY(dp_buf_printf(b, "\\u%04x", *p));
        else
            DP_TRY(dp_buf_append_u8(b, *p));
    }
    return dp_buf_append_u8(b, '"');
}

static const char *dp__role_name(const dp_gen *g, const dp__role *ro) {
    return g->rels[ro->relation].type;
}

static dp_status dp__truth_text(const dp_gen *g, int64_t rows, const dp_gen_file_info *files,
                                int32_t n_files, dp_buf *b) {
    char miss[32];
    dp__shortest(g->cfg.missing, miss, sizeof miss);
    DP_TRY(dp_buf_printf(b,
                         "{\n  \"format\": \"dpipe-gen-truth/1\",\n  \"generator\": \"dpipe gen\","
                         "\n  \"seed\": %llu,\n  \"rows\": %lld,\n  \"cols\": %d,\n"
                         "  \"missing\": %s,\n  \"id_column\": \"mol_id\",\n  \"files\": [",
                         (unsigned long long) g->cfg.seed, (long long) rows, g->p, miss));
    for (int32_t f = 0; f < n_files; f++) {
        DP_TRY(dp_buf_printf(b, "%s\n    {\"name\": ", f ? "," : ""));
        DP_TRY(dp__json_str(b, files[f].name));
        DP_TRY(dp_buf_printf(b, ", \"rows\": %lld}", (long long) files[f].rows));
    }
    DP_TRY(dp_buf_printf(b, "\n  ],\n  \"columns\": ["));
    for (int32_t j = 0; j < g->p; j++) {
        const dp__role *ro = &g->roles[j];
        DP_TRY(dp_buf_printf(b, "%s\n    {\"index\": %d, \"name\": ", j ? "," : "", j + 1));
        DP_TRY(dp__json_str(b, g->names[j]));
        DP_TRY(dp_buf_printf(b, ", \"type\": \"%s\", \"nullable\": %s, \"role\": \"%s\", ",
                             ro->kind == K_POISSON ? "INT64" : "DOUBLE",
                             ro->kind == K_MISS_NULL ? "true" : "false", dp__role_name(g, ro)));
        DP_TRY(dp_buf_printf(b, "\"relation\": %d, \"formula\": ", ro->relation));
        DP_TRY(dp__json_str(b, ro->desc));
        if (ro->kind == K_NORMAL || ro->kind == K_UNIFORM || ro->kind == K_CHI2) {
            char lo[32], sc[32];
            dp__shortest(ro->off, lo, sizeof lo);
            dp__shortest(ro->sc, sc, sizeof sc);
            DP_TRY(dp_buf_printf(b, ", \"location\": %s, \"scale\": %s", lo, sc));
        }
        DP_TRY(dp_buf_printf(b, "}"));
    }
    DP_TRY(dp_buf_printf(b, "\n  ],\n  \"relations\": ["));
    for (int32_t r = 0; r < g->n_rels; r++) {
        const dp__relation *rel = &g->rels[r];
        DP_TRY(dp_buf_printf(b, "%s\n    {\"id\": %d, \"type\": \"%s\", \"members\": [",
                             r ? "," : "", r, rel->type));
        for (int32_t m = 0; m < rel->n_members; m++) {
            DP_TRY(dp_buf_printf(b, "%s", m ? ", " : ""));
            DP_TRY(dp__json_str(b, g->names[rel->members[m]]));
        }
        DP_TRY(dp_buf_printf(b, "], %s}", rel->params));
    }
    return dp_buf_printf(b, "\n  ]\n}\n");
}

dp_status dp_gen_write_truth(const dp_gen *g, int64_t rows, const dp_gen_file_info *files,
                             int32_t n_files, const char *path, dp_error *err) {
    dp_status st = DP_OK;
    dp_sink *s = NULL;
    dp_buf b;
    dp_buf_init(&b);
    if (dp__truth_text(g, rows, files, n_files, &b) != DP_OK)
        DP_FAIL(err, DP_NOMEM, "%s: out of memory", path);
    DP_CHECK(dp_sink_open(path, &s, err));
    DP_CHECK(dp_sink_write(s, b.data, b.size, err));
    DP_CHECK(dp_sink_commit(s, err));
cleanup:
    dp_sink_free(s);
    dp_buf_reset(&b);
    return st;
}

dp_status dp__output_codec(const char *name, int *codec, dp_error *err) {
    if (name == NULL) {
        *codec = dp_pq_codec_can_compress(DP_PQ_CODEC_ZSTD)     ? DP_PQ_CODEC_ZSTD
                 : dp_pq_codec_can_compress(DP_PQ_CODEC_SNAPPY) ? DP_PQ_CODEC_SNAPPY
                                                                : DP_PQ_CODEC_UNCOMPRESSED;
        return DP_OK;
    }
    int c = dp_pq_codec_from_name(name);
    if (c < 0)
        return dp_error_set(err, DP_INVALID_ARG,
                            "unknown codec '%s' (choose zstd, snappy, none, gzip or lz4_raw)",
                            name);
    if (!dp_pq_codec_can_compress(c))
        return dp_error_set(err, DP_UNSUPPORTED,
                            "this build cannot write %s (choose another codec)", name);
    *codec = c;
    return DP_OK;
}
