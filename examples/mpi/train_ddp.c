/*
 * Data-parallel training on MPI: every rank holds a full replica of the
 * network and trains on its own shard of Fashion-MNIST; once per step the
 * ranks average their parameter gradients with one MPI_Allreduce on the flat
 * gradient buffer (sfr_net_params), so every replica takes the same SGD step
 * and the parameters stay bitwise identical. Rank 0 reports.
 *
 *   mpirun -np 2 train_ddp [--steps N] [--batch B] ...   (--help lists all)
 *
 * The net is small (three conv3x3-BN-ReLU stages of 8, 16 and 32 channels
 * with 2x2 max pooling between them, global average pooling, linear 10),
 * with stage 3 teaching stages 1 and 2 through SFR. What is and is not
 * synchronized, and how to run across machines: docs/distributed.md.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>
#include <sfr/sfr.h>

#include "../fmnist_data.h"

#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

typedef struct options {
    const char *data_dir;
    int steps, batch, report, threads;
    double lr;
    uint64_t seed;
    int64_t limit;
    const char *save_params;
} options;

/* Stops every rank with libsfr's message when a call fails on one. */
#define SFR_TRY(call)                                                                    \
    do {                                                                                 \
        sfr_status st_ = (call);                                                         \
        if (st_ != SFR_OK) {                                                             \
            fprintf(stderr, "train_ddp: %s failed: %s (%s)\n", #call,                   \
                    sfr_status_string(st_), sfr_last_error());                           \
            MPI_Abort(MPI_COMM_WORLD, EXIT_FAILURE);                                     \
        }                                                                                \
    } while (0)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mpirun -np R train_ddp [options]\n"
            "  --data DIR          Fashion-MNIST IDX .gz files (default " DEFAULT_DATA_DIR ")\n"
            "  --steps N           training steps (default 500)\n"
            "  --batch N           batch size per rank (default 64)\n"
            "  --lr X              SGD learning rate, momentum 0.9 (default 0.05)\n"
            "  --seed N            initialization and shuffling seed (default 1)\n"
            "  --threads N         OpenMP threads per rank (default: OMP_NUM_THREADS)\n"
            "  --limit N           use the first N training images only\n"
            "  --report N          rank 0 prints the mean loss every N steps (default 50)\n"
            "  --save-params PFX   each rank writes its final parameters to PFX.rankR\n");
}

static long parse_int(const char *arg, const char *what, long lo, long hi)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < lo || v > hi) {
        fprintf(stderr, "train_ddp: --%s wants an integer in [%ld, %ld], got '%s'\n", what, lo,
                hi, arg);
        exit(2);
    }
    return v;
}

static double parse_real(const char *arg, const char *what, double lo, double hi)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno != 0 || end == arg || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "train_ddp: --%s wants a number in [%g, %g], got '%s'\n", what, lo, hi,
                arg);
        exit(2);
    }
    return v;
}

static options parse_options(int argc, char **argv)
{
    options o = {DEFAULT_DATA_DIR, 500, 64, 50, 0, 0.05, 1, 0, NULL};
    static const struct option longopts[] = {
        {"data", required_argument, 0, 'd'},   {"steps", required_argument, 0, 'n'},
        {"batch", required_argument, 0, 'b'},  {"lr", required_argument, 0, 'l'},
        {"seed", required_argument, 0, 's'},   {"threads", required_argument, 0, 't'},
        {"limit", required_argument, 0, 'L'},  {"report", required_argument, 0, 'r'},
        {"save-params", required_argument, 0, 'p'}, {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.data_dir = optarg; break;
        case 'n': o.steps = (int)parse_int(optarg, "steps", 1, INT_MAX); break;
        case 'b': o.batch = (int)parse_int(optarg, "batch", 2, 65536); break;
        case 'l': o.lr = parse_real(optarg, "lr", 1e-9, 100); break;
        case 's': o.seed = (uint64_t)parse_int(optarg, "seed", 0, LONG_MAX); break;
        case 't': o.threads = (int)parse_int(optarg, "threads", 1, 1024); break;
        case 'L': o.limit = parse_int(optarg, "limit", 1, LONG_MAX); break;
        case 'r': o.report = (int)parse_int(optarg, "report", 1, INT_MAX); break;
        case 'p': o.save_params = optarg; break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "train_ddp: unexpected argument '%s'\n", argv[optind]);
        exit(2);
    }
    return o;
}

/* conv3x3 - BN - ReLU. */
static int stage(sfr_net *net, int in, int channels)
{
    int id;
    SFR_TRY(sfr_net_conv2d(net, in, channels, 3, 1, 1, 0, &id));
    SFR_TRY(sfr_net_batchnorm(net, id, &id));
    SFR_TRY(sfr_net_relu(net, id, &id));
    return id;
}

/* The small net of the header comment; stages[] receives the three stage outputs. */
static void build_net(sfr_net *net, int stages[3])
{
    int id;
    SFR_TRY(sfr_net_input(net, 1, FMNIST_SIDE, FMNIST_SIDE, &id));
    static const int widths[3] = {8, 16, 32};
    for (int s = 0; s < 3; s++) {
        if (s > 0)
            SFR_TRY(sfr_net_maxpool(net, id, 2, 2, 0, &id));
        id = stages[s] = stage(net, id, widths[s]);
    }
    SFR_TRY(sfr_net_global_avgpool(net, id, &id));
    SFR_TRY(sfr_net_linear(net, id, FMNIST_CLASSES, &id));
}

/* FNV-1a over the parameters' bytes: equal replicas give equal hashes. */
static uint64_t params_hash(const float *values, int64_t count)
{
    const unsigned char *bytes = (const unsigned char *)values;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < (size_t)count * sizeof *values; i++)
        h = (h ^ bytes[i]) * 0x100000001b3ull;
    return h;
}

static void save_params(const char *prefix, int rank, const float *values, int64_t count)
{
    char path[4096];
    snprintf(path, sizeof path, "%s.rank%d", prefix, rank);
    FILE *f = fopen(path, "wb");
    if (f == NULL || fwrite(values, sizeof *values, (size_t)count, f) != (size_t)count ||
        fclose(f) != 0) {
        fprintf(stderr, "train_ddp: rank %d cannot write %s: %s\n", rank, path, strerror(errno));
        MPI_Abort(MPI_COMM_WORLD, EXIT_FAILURE);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, ranks;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    options o = parse_options(argc, argv);
    if (sfr_version_number() / 10000 != SFR_VERSION_MAJOR) {
        fprintf(stderr, "train_ddp: libsfr %s does not match its headers\n", sfr_version_string());
        MPI_Abort(MPI_COMM_WORLD, EXIT_FAILURE);
    }
    if (o.threads > 0)
        SFR_TRY(sfr_set_num_threads(o.threads));

    char err[4400];
    fmnist_set train;
    if (fmnist_load(o.data_dir, "train", &train, err, sizeof err) != 0) {
        fprintf(stderr, "train_ddp: rank %d: %s\n", rank, err);
        MPI_Abort(MPI_COMM_WORLD, EXIT_FAILURE);
    }
    if (o.limit > 0 && o.limit < train.count)
        train.count = o.limit;
    /* Rank r's shard: images r, r + ranks, r + 2 ranks, ... */
    int64_t shard_count = (train.count - rank + ranks - 1) / ranks;
    if (shard_count < o.batch) {
        fprintf(stderr, "train_ddp: rank %d has %lld images, fewer than one batch of %d\n", rank,
                (long long)shard_count, o.batch);
        MPI_Abort(MPI_COMM_WORLD, EXIT_FAILURE);
    }
    float mean, std;
    fmnist_channel_stats(&train, &mean, &std); /* the whole set's: the same on every rank */

    sfr_net *net;
    int stages[3];
    SFR_TRY(sfr_net_create(&net));
    build_net(net, stages);
    SFR_TRY(sfr_net_compile(net, o.batch));
    SFR_TRY(sfr_net_init_params(net, o.seed));
    float *values, *grads;
    int64_t count;
    SFR_TRY(sfr_net_params(net, &values, &grads, &count));
    if (count > INT_MAX) {
        fprintf(stderr, "train_ddp: %lld parameters exceed one MPI message\n", (long long)count);
        MPI_Abort(MPI_COMM_WORLD, EXIT_FAILURE);
    }
    /* Same seed, same parameters; the broadcast makes it so whatever the
     * replicas started from (a checkpoint loaded on rank 0 only, say). */
    MPI_Bcast(values, (int)count, MPI_FLOAT, 0, MPI_COMM_WORLD);

    sfr_reg *reg;
    SFR_TRY(sfr_reg_create(&reg));
    sfr_tap *teacher;
    SFR_TRY(sfr_net_tap(net, stages[2], &teacher));
    for (int s = 0; s < 2; s++) {
        sfr_tap *student;
        SFR_TRY(sfr_net_tap(net, stages[s], &student));
        SFR_TRY(sfr_reg_add_pair(reg, student, teacher, 1.0, NULL));
    }
    sfr_sgd *opt;
    SFR_TRY(sfr_sgd_create(&opt, o.lr, 0.9, 5e-4, 0));

    float *input = malloc((size_t)o.batch * FMNIST_PIXELS * sizeof *input); // (B, 1, 28, 28)
    float *dlogits = malloc((size_t)o.batch * FMNIST_CLASSES * sizeof *dlogits); // (B, 10)
    int32_t *labels = malloc((size_t)o.batch * sizeof *labels);                  // (B)
    int64_t *order = malloc((size_t)shard_count * sizeof *order);
    if (!input || !dlogits || !labels || !order) {
        fprintf(stderr, "train_ddp: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, EXIT_FAILURE);
    }
    if (rank == 0)
        printf("libsfr %s on %d rank(s): %lld training images, batch %d per rank, %d steps, "
               "%lld parameters\n",
               sfr_version_string(), ranks, (long long)train.count, o.batch, o.steps,
               (long long)count);

    /* Each rank shuffles its own shard, from (seed, rank). */
    uint64_t rng = o.seed * 0x9E3779B97F4A7C15ull + (uint64_t)rank;
    int64_t next = shard_count; /* position in order; a full pass reshuffles */
    double window[2] = {0, 0};  /* summed loss and correct answers since the last report */
    for (int step = 1; step <= o.steps; step++) {
        if (next + o.batch > shard_count) {
            for (int64_t i = 0; i < shard_count; i++)
                order[i] = rank + i * ranks;
            fmnist_shuffle(order, shard_count, &rng);
            next = 0;
        }
        for (int i = 0; i < o.batch; i++) {
            int64_t idx = order[next++];
            fmnist_fill(&train, idx, mean, std, 0, NULL, input + i * FMNIST_PIXELS);
            labels[i] = train.labels[idx];
        }
        SFR_TRY(sfr_net_forward(net, input, 1));
        const float *logits;
        int64_t dims[2];
        SFR_TRY(sfr_net_output(net, &logits, dims));
        SFR_TRY(sfr_reg_set_progress(reg, (double)(step - 1) / o.steps));
        double loss;
        SFR_TRY(sfr_reg_compute(reg, logits, labels, o.batch, FMNIST_CLASSES, dlogits, &loss));
        SFR_TRY(sfr_net_backward(net, dlogits));

        /* The one synchronization per step: gradients summed, then averaged. */
        MPI_Allreduce(MPI_IN_PLACE, grads, (int)count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        for (int64_t i = 0; i < count; i++)
            grads[i] /= (float)ranks;
        SFR_TRY(sfr_sgd_step(opt, net));

        window[0] += loss;
        for (int i = 0; i < o.batch; i++) {
            const float *row = logits + (int64_t)i * FMNIST_CLASSES;
            int best = 0;
            for (int k = 1; k < FMNIST_CLASSES; k++)
                if (row[k] > row[best])
                    best = k;
            window[1] += best == labels[i];
        }
        if (step % o.report == 0 || step == o.steps) {
            int steps_in_window = step % o.report == 0 ? o.report : step % o.report;
            MPI_Allreduce(MPI_IN_PLACE, window, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
            if (rank == 0)
                printf("step %d: loss %.4f, train accuracy %.4f (all ranks)\n", step,
                       window[0] / (steps_in_window * ranks),
                       window[1] / ((double)steps_in_window * ranks * o.batch));
            window[0] = window[1] = 0;
        }
    }

    /* The replicas must agree; batch norm running statistics do not (see docs). */
    unsigned long long hash = params_hash(values, count), lo, hi;
    MPI_Allreduce(&hash, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&hash, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    if (o.save_params)
        save_params(o.save_params, rank, values, count);
    if (rank == 0)
        printf("parameters %s on %d rank(s): hash %016llx\n",
               lo == hi ? "identical" : "DIFFER", ranks, hash);

    free(input);
    free(dlogits);
    free(labels);
    free(order);
    sfr_sgd_destroy(opt);
    sfr_reg_destroy(reg);
    sfr_net_destroy(net);
    fmnist_free(&train);
    MPI_Finalize();
    return lo == hi ? EXIT_SUCCESS : EXIT_FAILURE;
}
