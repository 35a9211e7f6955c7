/*
 * Trains the fmnist-resnet of docs (NETWORKS.md) on Fashion-MNIST with
 * Self-Feature Regularization, through libsfr's public API only. This is the
 * program `make demo` runs, and the one to copy into your own trainer.
 *
 *   train_fmnist [--epochs E] [--mode sfr|ce|ls] ...   (--help lists all)
 *
 * Mode sfr's defaults are what docs/results.md chose on a validation split:
 * a self-distillation head on stage 3 (CE and T^2 KL from the logits, warmed
 * up over the first 30% of training) and dynamic label smoothing; feature
 * pairs (--pairs, --adapters) are options.
 *
 * One training step:
 *   sfr_net_forward   -> the taps hold features and head logits, grads zeroed
 *   sfr_reg_compute   -> label loss + pair and head losses, dlogits, tap grads
 *   sfr_net_backward  -> parameter gradients
 *   sfr_sgd_step      -> parameters updated (or sfr_adamw_step)
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sfr/sfr.h>

#include "fmnist_data.h"
#include "progress.h"

#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"
#define PAIRS 3

enum mode { MODE_SFR, MODE_CE, MODE_LS };
enum schedule { SCHEDULE_COSINE, SCHEDULE_STEP };
enum optimizer { OPTIMIZER_SGD, OPTIMIZER_ADAMW };
enum net_kind { NET_RESNET, NET_MOBILENET };

typedef struct options {
    const char *data_dir;
    int epochs;
    int batch;
    double lr, momentum, weight_decay; /* lr, weight_decay: NAN until given (per optimizer) */
    enum optimizer optimizer;
    enum net_kind net;
    double warmup_epochs; /* linear learning-rate warm-up, in epochs */
    uint64_t seed;
    int threads;
    enum mode mode;
    double beta;
    double beta_decay;       /* pair and head weights times beta_decay^(3 - stage) */
    int pairs[3], heads[3];  /* 1 where stage s+1 gets an SFR pair, a head */
    int adapters;            /* pairs read shallow stages through a 1x1 conv + BN */
    double head_ce, head_kl, head_temperature, head_mutual;
    double classwise, classwise_temperature;
    double last_batch, last_batch_temperature;   /* > 0: batches overlap by half (DLB) */
    int head_width;
    double warmup, cooldown, eps, eps_scaling, ls_eps;
    int eps_relative, debias;
    int match;     /* SFR_MATCH_* */
    int ls_source; /* SFR_LS_* */
    enum schedule schedule;
    int augment;
    const char *checkpoint;
    int resume;
    const char *csv;
    int64_t limit;
    int64_t val;   /* > 0: the last val training images are the evaluation set */
    int keep_last; /* train on the last partial batch too (sfr_net_forward_batch) */
    int stop_after; /* stop after this epoch, as a killed run would (0: never) */
    const char *init_onnx;   /* build the net from this ONNX model instead */
    const char *stage_names; /* its four stage outputs' layer names, comma-separated */
    const char *export_onnx; /* write the trained net here */
    int precision;           /* SFR_PRECISION_* */
} options;

/* Stops the program with libsfr's message when a call fails. */
#define SFR_TRY(call)                                                                   \
    do {                                                                                \
        sfr_status st_ = (call);                                                        \
        if (st_ != SFR_OK) {                                                            \
            fprintf(stderr, "train_fmnist: %s failed: %s (%s)\n", #call,               \
                    sfr_status_string(st_), sfr_last_error());                          \
            exit(EXIT_FAILURE);                                                         \
        }                                                                               \
    } while (0)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: train_fmnist [options]\n"
            "  --data DIR          Fashion-MNIST IDX .gz files (default " DEFAULT_DATA_DIR ")\n"
            "  --epochs N          epochs to train (default 1; 0: only evaluate)\n"
            "  --batch N           batch size (default 128)\n"
            "  --net N             resnet | mobilenet (default resnet; docs/fmnist-mobilenet.md)\n"
            "  --optimizer O       sgd | adamw (default sgd)\n"
            "  --lr X              peak learning rate (default 0.1 for sgd, 2e-3 for adamw)\n"
            "  --momentum X        SGD momentum (default 0.9)\n"
            "  --wd X              weight decay (default 5e-4 for sgd, 0.05 for adamw)\n"
            "  --schedule S        cosine | step (default cosine; step: x0.1 at 50%% and 75%%)\n"
            "  --warmup-epochs X   learning rate rises linearly over the first X epochs\n"
            "                      from a tenth of its peak (default 0)\n"
            "  --seed N            shuffling, augmentation and initialization seed (default 1)\n"
            "  --threads N         OpenMP threads (default: OMP_NUM_THREADS or all cores)\n"
            "  --mode M            sfr | ce | ls (default sfr)\n"
            "  --beta X            weight of each SFR pair (default 0.1)\n"
            "  --pairs LIST        stages (1-3) that stage 4 teaches, e.g. 1,2,3 or none (default none)\n"
            "  --adapters          pairs read stages through a 1x1 conv + BN (learned adapters)\n"
            "  --heads LIST        stages (1-3) with a self-distillation head (default 3)\n"
            "  --head-ce X         weight of each head's cross-entropy (default 1)\n"
            "  --head-kl X         weight of each head's KL from the logits (default 1)\n"
            "  --head-t X          temperature of the heads' KL (default 3)\n"
            "  --head-mutual X     weight of the deepest logits' KL from each head (default 0)\n"
            "  --classwise X       weight of the class-wise term: each image's prediction\n"
            "                      learns from the next same-class image's (default 0)\n"
            "  --classwise-t X     temperature of the class-wise term (default 4)\n"
            "  --last-batch X      weight of the last-batch term (DLB): each batch repeats the\n"
            "                      second half of the one before, whose predictions teach\n"
            "                      those images (default 0; an epoch then takes twice the\n"
            "                      steps)\n"
            "  --last-batch-t X    temperature of the last-batch term (default 3)\n"
            "  --head-width N      channels of each head's 1x1 conv (default 64)\n"
            "  --beta-decay X      pair and head weights times X^(3 - stage) (default 1)\n"
            "  --warmup X          pair and head weights rise over progress [0, X] (default 0.3)\n"
            "  --cooldown X        pair and head weights fall to 0 over progress [1 - X, 1]\n"
            "                      (default 0: none)\n"
            "  --eps X             Sinkhorn epsilon, relative to the mean cost (default 0.2)\n"
            "  --eps-absolute      epsilon as it is, not relative (0.1.0: --eps-absolute --eps 0.05)\n"
            "  --eps-scaling X     epsilon-scaling factor, 0 for none (default 0)\n"
            "  --debias            debiased Sinkhorn divergence (needs --adapters)\n"
            "  --ls-eps X          final label smoothing of mode sfr (default 0.1)\n"
            "  --match M           emd | l2 (default emd)\n"
            "  --ls-source S       uniform | self | past (default uniform)\n"
            "  --augment           random 2-pixel-padded crops and horizontal flips\n"
            "  --checkpoint PATH   save the training state (net, optimizer, regularizer,\n"
            "                      epoch) after every epoch\n"
            "  --resume            continue from --checkpoint, as if never stopped\n"
            "  --stop-after N      stop after epoch N (the schedule stays that of --epochs)\n"
            "  --init-onnx FILE    build the net, with its weights, from an ONNX model (1x28x28\n"
            "                      in, 10 out) instead of fmnist-resnet; no heads or adapters\n"
            "  --stage-names LIST  the layer names of its four stage outputs, for --pairs\n"
            "  --export-onnx FILE  write the trained net as an ONNX model\n"
            "  --precision P       fp32 | bf16: convolutions in bf16 mixed precision, where\n"
            "                      the CPU has AVX512_BF16 (default fp32)\n"
            "  --csv PATH          one row per epoch: losses by part, accuracies, images/s\n"
            "  --limit N           train on the first N training images only\n"
            "  --val N             hold out the last N training images and evaluate on them,\n"
            "                      never on the test set (for choosing hyper-parameters)\n"
            "  --keep-last         train on the last partial batch of each epoch too\n"
            "                      (default: it is dropped)\n");
}

static int parse_choice(const char *arg, const char *const *names, int count, const char *what)
{
    for (int i = 0; i < count; i++)
        if (strcmp(arg, names[i]) == 0)
            return i;
    fprintf(stderr, "train_fmnist: unknown %s '%s'\n", what, arg);
    exit(2);
}

static double parse_number(const char *arg, const char *what, double lo, double hi)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(arg, &end);
    if (errno != 0 || end == arg || *end != '\0' || !(v >= lo && v <= hi)) {
        fprintf(stderr, "train_fmnist: --%s wants a number in [%g, %g], got '%s'\n", what, lo,
                hi, arg);
        exit(2);
    }
    return v;
}

/* "1,2,3" or "none" -> flags[s] = 1 for each listed stage s+1 of 1..3. */
static void parse_stages(const char *arg, const char *what, int flags[3])
{
    flags[0] = flags[1] = flags[2] = 0;
    if (strcmp(arg, "none") == 0)
        return;
    for (const char *c = arg; *c != '\0'; c++) {
        if (*c >= '1' && *c <= '3' && (c[1] == ',' || c[1] == '\0'))
            flags[*c - '1'] = 1;
        else if (*c != ',' || c == arg) {
            fprintf(stderr, "train_fmnist: --%s wants stages 1-3 like 1,2,3 or none, got '%s'\n",
                    what, arg);
            exit(2);
        }
    }
}

static options parse_options(int argc, char **argv)
{
    options o = {.data_dir = DEFAULT_DATA_DIR, .epochs = 1, .batch = 128, .lr = NAN,
                 .momentum = 0.9, .weight_decay = NAN, .optimizer = OPTIMIZER_SGD, .seed = 1, .mode = MODE_SFR,
                 .beta = 0.1, .beta_decay = 1.0, .pairs = {0, 0, 0}, .heads = {0, 0, 1},
                 .warmup = 0.3, .head_ce = 1.0,
                 .head_kl = 1.0, .head_temperature = 3.0, .head_width = 64, .eps = 0.2,
                 .classwise_temperature = 4.0, .last_batch_temperature = 3.0,
                 .eps_scaling = 0, .ls_eps = 0.1, .eps_relative = 1, .match = SFR_MATCH_EMD,
                 .ls_source = SFR_LS_UNIFORM, .schedule = SCHEDULE_COSINE};
    enum { OPT_PAIRS = 256, OPT_ADAPTERS, OPT_HEADS, OPT_HEAD_CE, OPT_HEAD_KL, OPT_HEAD_T,
           OPT_HEAD_WIDTH, OPT_BETA_DECAY, OPT_WARMUP, OPT_COOLDOWN, OPT_HEAD_MUTUAL,
           OPT_CLASSWISE, OPT_CLASSWISE_T, OPT_LAST_BATCH, OPT_LAST_BATCH_T, OPT_EPS,
           OPT_EPS_ABS, OPT_EPS_SCALING,
           OPT_DEBIAS, OPT_LS_EPS, OPT_VAL, OPT_OPTIMIZER, OPT_WARMUP_EPOCHS, OPT_NET,
           OPT_KEEP_LAST, OPT_STOP_AFTER, OPT_INIT_ONNX, OPT_STAGE_NAMES, OPT_EXPORT_ONNX,
           OPT_PRECISION };
    static const struct option longopts[] = {
        {"data", required_argument, 0, 'd'},     {"epochs", required_argument, 0, 'e'},
        {"batch", required_argument, 0, 'b'},    {"lr", required_argument, 0, 'l'},
        {"momentum", required_argument, 0, 'm'}, {"wd", required_argument, 0, 'w'},
        {"schedule", required_argument, 0, 'S'}, {"seed", required_argument, 0, 's'},
        {"threads", required_argument, 0, 't'},  {"mode", required_argument, 0, 'M'},
        {"beta", required_argument, 0, 'B'},     {"match", required_argument, 0, 'x'},
        {"ls-source", required_argument, 0, 'u'}, {"augment", no_argument, 0, 'a'},
        {"checkpoint", required_argument, 0, 'c'}, {"resume", no_argument, 0, 'r'},
        {"csv", required_argument, 0, 'C'},      {"limit", required_argument, 0, 'L'},
        {"pairs", required_argument, 0, OPT_PAIRS}, {"adapters", no_argument, 0, OPT_ADAPTERS},
        {"heads", required_argument, 0, OPT_HEADS}, {"head-ce", required_argument, 0, OPT_HEAD_CE},
        {"head-kl", required_argument, 0, OPT_HEAD_KL}, {"head-t", required_argument, 0, OPT_HEAD_T},
        {"head-width", required_argument, 0, OPT_HEAD_WIDTH},
        {"beta-decay", required_argument, 0, OPT_BETA_DECAY},
        {"warmup", required_argument, 0, OPT_WARMUP}, {"eps", required_argument, 0, OPT_EPS},
        {"cooldown", required_argument, 0, OPT_COOLDOWN},
        {"head-mutual", required_argument, 0, OPT_HEAD_MUTUAL},
        {"classwise", required_argument, 0, OPT_CLASSWISE},
        {"classwise-t", required_argument, 0, OPT_CLASSWISE_T},
        {"last-batch", required_argument, 0, OPT_LAST_BATCH},
        {"last-batch-t", required_argument, 0, OPT_LAST_BATCH_T},
        {"eps-absolute", no_argument, 0, OPT_EPS_ABS},
        {"eps-scaling", required_argument, 0, OPT_EPS_SCALING},
        {"debias", no_argument, 0, OPT_DEBIAS}, {"ls-eps", required_argument, 0, OPT_LS_EPS},
        {"val", required_argument, 0, OPT_VAL},
        {"optimizer", required_argument, 0, OPT_OPTIMIZER}, {"net", required_argument, 0, OPT_NET},
        {"warmup-epochs", required_argument, 0, OPT_WARMUP_EPOCHS},
        {"keep-last", no_argument, 0, OPT_KEEP_LAST},
        {"stop-after", required_argument, 0, OPT_STOP_AFTER},
        {"init-onnx", required_argument, 0, OPT_INIT_ONNX},
        {"stage-names", required_argument, 0, OPT_STAGE_NAMES},
        {"export-onnx", required_argument, 0, OPT_EXPORT_ONNX},
        {"precision", required_argument, 0, OPT_PRECISION},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    static const char *const modes[] = {"sfr", "ce", "ls"};
    static const char *const matches[] = {"emd", "l2"};
    static const char *const sources[] = {"uniform", "self", "past"};
    static const char *const schedules[] = {"cosine", "step"};
    static const char *const optimizers[] = {"sgd", "adamw"};
    static const char *const nets[] = {"resnet", "mobilenet"};
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.data_dir = optarg; break;
        case 'e': o.epochs = (int)parse_number(optarg, "epochs", 0, 10000); break;
        case 'b': o.batch = (int)parse_number(optarg, "batch", 2, 65536); break;
        case 'l': o.lr = parse_number(optarg, "lr", 1e-9, 100); break;
        case 'm': o.momentum = parse_number(optarg, "momentum", 0, 0.9999); break;
        case 'w': o.weight_decay = parse_number(optarg, "wd", 0, 1); break;
        case 'S': o.schedule = (enum schedule)parse_choice(optarg, schedules, 2, "schedule"); break;
        case 's': o.seed = (uint64_t)parse_number(optarg, "seed", 0, 1e15); break;
        case 't': o.threads = (int)parse_number(optarg, "threads", 1, 1024); break;
        case 'M': o.mode = (enum mode)parse_choice(optarg, modes, 3, "mode"); break;
        case 'B': o.beta = parse_number(optarg, "beta", 0, 1e6); break;
        case 'x': o.match = parse_choice(optarg, matches, 2, "match") == 0 ? SFR_MATCH_EMD : SFR_MATCH_L2; break;
        case 'u': o.ls_source = (int[]){SFR_LS_UNIFORM, SFR_LS_SELF, SFR_LS_PAST}[parse_choice(optarg, sources, 3, "ls-source")]; break;
        case 'a': o.augment = 1; break;
        case 'c': o.checkpoint = optarg; break;
        case 'r': o.resume = 1; break;
        case 'C': o.csv = optarg; break;
        case 'L': o.limit = (int64_t)parse_number(optarg, "limit", 1, 1e9); break;
        case OPT_PAIRS: parse_stages(optarg, "pairs", o.pairs); break;
        case OPT_ADAPTERS: o.adapters = 1; break;
        case OPT_HEADS: parse_stages(optarg, "heads", o.heads); break;
        case OPT_HEAD_CE: o.head_ce = parse_number(optarg, "head-ce", 0, 1e6); break;
        case OPT_HEAD_KL: o.head_kl = parse_number(optarg, "head-kl", 0, 1e6); break;
        case OPT_HEAD_T: o.head_temperature = parse_number(optarg, "head-t", 0.05, 100); break;
        case OPT_HEAD_WIDTH: o.head_width = (int)parse_number(optarg, "head-width", 1, 4096); break;
        case OPT_BETA_DECAY: o.beta_decay = parse_number(optarg, "beta-decay", 0, 1); break;
        case OPT_WARMUP: o.warmup = parse_number(optarg, "warmup", 0, 1); break;
        case OPT_COOLDOWN: o.cooldown = parse_number(optarg, "cooldown", 0, 1); break;
        case OPT_HEAD_MUTUAL: o.head_mutual = parse_number(optarg, "head-mutual", 0, 1e6); break;
        case OPT_CLASSWISE: o.classwise = parse_number(optarg, "classwise", 0, 1e6); break;
        case OPT_CLASSWISE_T:
            o.classwise_temperature = parse_number(optarg, "classwise-t", 0.05, 100);
            break;
        case OPT_LAST_BATCH: o.last_batch = parse_number(optarg, "last-batch", 0, 1e6); break;
        case OPT_LAST_BATCH_T:
            o.last_batch_temperature = parse_number(optarg, "last-batch-t", 0.05, 100);
            break;
        case OPT_EPS: o.eps = parse_number(optarg, "eps", 1e-6, 1e3); break;
        case OPT_EPS_ABS: o.eps_relative = 0; break;
        case OPT_EPS_SCALING: o.eps_scaling = parse_number(optarg, "eps-scaling", 0, 0.99); break;
        case OPT_DEBIAS: o.debias = 1; break;
        case OPT_LS_EPS: o.ls_eps = parse_number(optarg, "ls-eps", 0, 1); break;
        case OPT_KEEP_LAST: o.keep_last = 1; break;
        case OPT_STOP_AFTER: o.stop_after = (int)parse_number(optarg, "stop-after", 1, 10000); break;
        case OPT_INIT_ONNX: o.init_onnx = optarg; break;
        case OPT_STAGE_NAMES: o.stage_names = optarg; break;
        case OPT_EXPORT_ONNX: o.export_onnx = optarg; break;
        case OPT_PRECISION: {
            static const char *const names[] = {"fp32", "bf16"};
            o.precision = parse_choice(optarg, names, 2, "precision");
            break;
        }
        case OPT_VAL: o.val = (int64_t)parse_number(optarg, "val", 1, 1e9); break;
        case OPT_OPTIMIZER: o.optimizer = (enum optimizer)parse_choice(optarg, optimizers, 2, "optimizer"); break;
        case OPT_NET: o.net = (enum net_kind)parse_choice(optarg, nets, 2, "net"); break;
        case OPT_WARMUP_EPOCHS: o.warmup_epochs = parse_number(optarg, "warmup-epochs", 0, 10000); break;
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); exit(2);
        }
    }
    if (optind < argc) {
        fprintf(stderr, "train_fmnist: unexpected argument '%s'\n", argv[optind]);
        exit(2);
    }
    if (isnan(o.lr))
        o.lr = o.optimizer == OPTIMIZER_ADAMW ? 2e-3 : 0.1;
    if (isnan(o.weight_decay))
        o.weight_decay = o.optimizer == OPTIMIZER_ADAMW ? 0.05 : 5e-4;
    if (o.warmup_epochs > o.epochs) {
        fprintf(stderr, "train_fmnist: --warmup-epochs %g is longer than the %d epoch(s)\n",
                o.warmup_epochs, o.epochs);
        exit(2);
    }
    if (o.resume && o.checkpoint == NULL) {
        fprintf(stderr, "train_fmnist: --resume needs --checkpoint PATH\n");
        exit(2);
    }
    if (o.init_onnx != NULL && o.mode == MODE_SFR &&
        (o.adapters || o.heads[0] || o.heads[1] || o.heads[2] ||
         ((o.pairs[0] || o.pairs[1] || o.pairs[2]) && o.stage_names == NULL))) {
        fprintf(stderr, "train_fmnist: an --init-onnx net takes no side branches (--heads none, "
                        "no --adapters); its pairs need --stage-names\n");
        exit(2);
    }
    if (o.last_batch > 0 && (o.mode != MODE_SFR || o.keep_last || o.batch < 2)) {
        fprintf(stderr, "train_fmnist: --last-batch needs --mode sfr, a batch of 2 or more and "
                        "no --keep-last\n");
        exit(2);
    }
    if (o.debias && !o.adapters) {
        fprintf(stderr, "train_fmnist: --debias compares features of equal width: it needs "
                        "--adapters\n");
        exit(2);
    }
    return o;
}

/* conv3x3 - BN (- ReLU): the unit the ResNet is made of. */
static int conv_bn(sfr_net *net, int in, int out_c, int kernel, int stride, int relu)
{
    int id;
    SFR_TRY(sfr_net_conv2d(net, in, out_c, kernel, stride, kernel / 2, 0, &id));
    SFR_TRY(sfr_net_batchnorm(net, id, &id));
    if (relu)
        SFR_TRY(sfr_net_relu(net, id, &id));
    return id;
}

/* BasicBlock(in_c, out_c, stride) of NETWORKS.md; returns the block's output id. */
static int basic_block(sfr_net *net, int in, int in_c, int out_c, int stride)
{
    int main_path = conv_bn(net, in, out_c, 3, stride, 1);
    main_path = conv_bn(net, main_path, out_c, 3, 1, 0);
    int shortcut = in;
    if (in_c != out_c || stride != 1)
        shortcut = conv_bn(net, in, out_c, 1, stride, 0);
    int id;
    SFR_TRY(sfr_net_add(net, main_path, shortcut, &id));
    SFR_TRY(sfr_net_relu(net, id, &id));
    return id;
}

/* Where the SFR terms read the net: layer ids, -1 where a stage has none. */
typedef struct sfr_layers {
    int stages[4];     /* the four stage outputs; stage 4 is the teacher */
    int students[3];   /* what each pair's student tap reads: a stage, or its adapter */
    int heads[3];      /* each head's logits */
    int pair_index[3], head_index[3];   /* the regularizer's numbers for them, or -1 */
} sfr_layers;

/* Average pooling by f (f = 1: none), the cheap way to a head's or adapter's size. */
static int pool_by(sfr_net *net, int in, int f)
{
    int id = in;
    if (f > 1)
        SFR_TRY(sfr_net_avgpool(net, in, f, f, 0, &id));
    return id;
}

/*
 * The side branches of stage s (0-based; C x H x H): an adapter for its pair,
 * avgpool to about the teacher's grid (teacher_side) - conv1x1 to the
 * teacher's channels - BN, whose output is the pair's student; and a head,
 * avgpool to about 7 x 7 - conv1x1 to head_width - BN - ReLU - global avgpool
 * - linear to the 10 classes. Both are fed only by taps: backward reaches the
 * stage through them.
 */
static void add_side_branches(sfr_net *net, const options *o, sfr_layers *l, int teacher_c,
                              int teacher_side)
{
    static const int sides[3] = {28, 14, 7};
    for (int s = 0; s < 3; s++) {
        l->students[s] = l->heads[s] = -1;
        if (o->mode != MODE_SFR)
            continue;
        if (o->pairs[s]) {
            l->students[s] = l->stages[s];
            if (o->adapters) {
                int id = pool_by(net, l->stages[s], sides[s] / teacher_side);
                l->students[s] = conv_bn(net, id, teacher_c, 1, 1, 0);
            }
        }
        if (o->heads[s]) {
            int id = pool_by(net, l->stages[s], sides[s] / 7);
            id = conv_bn(net, id, o->head_width, 1, 1, 1);
            SFR_TRY(sfr_net_global_avgpool(net, id, &id));
            SFR_TRY(sfr_net_linear(net, id, FMNIST_CLASSES, &l->heads[s]));
        }
    }
}

/*
 * fmnist-resnet: stem 16x28x28, stages 16x28x28, 32x14x14, 64x7x7, 128x4x4,
 * global average pool, linear 128 -> 10, plus the side branches the options
 * ask for (built before the classifier: the last layer added is the output).
 */
static void build_fmnist_resnet(sfr_net *net, const options *o, sfr_layers *l)
{
    int id;
    SFR_TRY(sfr_net_input(net, 1, FMNIST_SIDE, FMNIST_SIDE, &id));
    id = conv_bn(net, id, 16, 3, 1, 1);
    static const int widths[4] = {16, 32, 64, 128};
    int in_c = 16;
    for (int s = 0; s < 4; s++) {
        id = basic_block(net, id, in_c, widths[s], s == 0 ? 1 : 2);
        l->stages[s] = id;
        in_c = widths[s];
    }
    add_side_branches(net, o, l, 128, 4);
    SFR_TRY(sfr_net_global_avgpool(net, l->stages[3], &id));
    SFR_TRY(sfr_net_linear(net, id, FMNIST_CLASSES, &id));
}

/* conv (p) - BN - hard-swish, ReLU or nothing (act 2, 1, 0). */
static int mb_conv_bn(sfr_net *net, int in, int out_c, const sfr_conv_params *p, int act)
{
    int id;
    SFR_TRY(sfr_net_conv(net, in, out_c, p, &id));
    SFR_TRY(sfr_net_batchnorm(net, id, &id));
    if (act == 2)
        SFR_TRY(sfr_net_activation(net, id, SFR_ACT_HARDSWISH, &id));
    else if (act == 1)
        SFR_TRY(sfr_net_relu(net, id, &id));
    return id;
}

/*
 * An inverted residual block (in -> expand -> out, depthwise kernel k, stride
 * s, squeeze-and-excitation se, hard-swish or ReLU): docs/fmnist-mobilenet.md.
 */
static int inverted_residual(sfr_net *net, int in, const int b[7])
{
    const int in_c = b[0], expand = b[1], out_c = b[2], k = b[3], stride = b[4], act = b[6] ? 2 : 1;
    sfr_conv_params pointwise = SFR_CONV_PARAMS_INIT, depthwise = SFR_CONV_PARAMS_INIT;
    depthwise.kernel_h = depthwise.kernel_w = k;
    depthwise.stride_h = depthwise.stride_w = stride;
    depthwise.pad_top = depthwise.pad_left = depthwise.pad_bottom = depthwise.pad_right = k / 2;
    depthwise.groups = expand;
    int x = expand != in_c ? mb_conv_bn(net, in, expand, &pointwise, act) : in;
    x = mb_conv_bn(net, x, expand, &depthwise, act);
    if (b[5]) { /* squeeze-and-excitation: x * hardsigmoid(fc(relu(fc(pool(x))))) */
        int s;
        SFR_TRY(sfr_net_global_avgpool(net, x, &s));
        SFR_TRY(sfr_net_linear(net, s, expand / 4, &s));
        SFR_TRY(sfr_net_relu(net, s, &s));
        SFR_TRY(sfr_net_linear(net, s, expand, &s));
        SFR_TRY(sfr_net_activation(net, s, SFR_ACT_HARDSIGMOID, &s));
        SFR_TRY(sfr_net_mul(net, x, s, &x));
    }
    x = mb_conv_bn(net, x, out_c, &pointwise, 0);
    if (stride == 1 && in_c == out_c)
        SFR_TRY(sfr_net_add(net, x, in, &x));
    return x;
}

/*
 * fmnist-mobilenet (docs/fmnist-mobilenet.md): stem 16x28x28, six inverted
 * residual blocks, a 1x1 conv to 256, global average pool, dropout 0.2,
 * linear 256 -> 10. Its stages: blocks 1, 3, 5 (16x28x28, 24x14x14,
 * 40x7x7) and the 256x7x7 head, the teacher.
 */
static void build_fmnist_mobilenet(sfr_net *net, const options *o, sfr_layers *l)
{
    static const int blocks[6][7] = {
        {16, 16, 16, 3, 1, 0, 0}, {16, 64, 24, 3, 2, 0, 0},  {24, 72, 24, 3, 1, 0, 0},
        {24, 96, 40, 3, 2, 1, 1}, {40, 120, 40, 3, 1, 1, 1}, {40, 160, 64, 3, 1, 1, 1},
    };
    sfr_conv_params stem = SFR_CONV_PARAMS_INIT, pointwise = SFR_CONV_PARAMS_INIT;
    stem.kernel_h = stem.kernel_w = 3;
    stem.pad_top = stem.pad_left = stem.pad_bottom = stem.pad_right = 1;
    int id;
    SFR_TRY(sfr_net_input(net, 1, FMNIST_SIDE, FMNIST_SIDE, &id));
    id = mb_conv_bn(net, id, 16, &stem, 2);
    for (int i = 0; i < 6; i++) {
        id = inverted_residual(net, id, blocks[i]);
        if (i % 2 == 0)
            l->stages[i / 2] = id;
    }
    l->stages[3] = mb_conv_bn(net, id, 256, &pointwise, 2);
    add_side_branches(net, o, l, 256, 7);
    SFR_TRY(sfr_net_global_avgpool(net, l->stages[3], &id));
    SFR_TRY(sfr_net_dropout(net, id, 0.2, &id));
    SFR_TRY(sfr_net_linear(net, id, FMNIST_CLASSES, &id));
}

/* The weight of stage s's pair or head: shallower stages get beta_decay^(3 - stage) less. */
static double stage_weight(const options *o, int s)
{
    return pow(o->beta_decay, 2 - s);
}

/* The regularizer for a mode: plain cross-entropy is the label term with no
 * smoothing and no pairs. */
/* The net of --init-onnx, with the stages of --stage-names (layer names). */
static sfr_net *import_net(const options *o, sfr_layers *l)
{
    sfr_net *net;
    SFR_TRY(sfr_net_import_onnx(&net, o->init_onnx));
    for (int s = 0; s < 4; s++)
        l->stages[s] = -1;
    for (int s = 0; s < PAIRS; s++) {
        l->heads[s] = -1;
        l->students[s] = -1;
    }
    if (o->stage_names == NULL)
        return net;
    char names[1024];
    snprintf(names, sizeof names, "%s", o->stage_names);
    char *save = NULL, *name = strtok_r(names, ",", &save);
    for (int s = 0; s < 4; s++, name = strtok_r(NULL, ",", &save)) {
        if (name == NULL) {
            fprintf(stderr, "train_fmnist: --stage-names needs four layer names\n");
            exit(2);
        }
        SFR_TRY(sfr_net_find_layer(net, name, &l->stages[s]));
    }
    for (int s = 0; s < PAIRS; s++)
        if (o->pairs[s])
            l->students[s] = l->stages[s];
    return net;
}

static sfr_reg *make_regularizer(const options *o, sfr_net *net, sfr_layers *l,
                                 int64_t bank_size)
{
    for (int s = 0; s < PAIRS; s++)
        l->pair_index[s] = l->head_index[s] = -1;
    sfr_reg *reg;
    SFR_TRY(sfr_reg_create(&reg));
    switch (o->mode) {
    case MODE_CE:
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_LS_SCHEDULE, SFR_LS_CONSTANT));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_LS_EPS_END, 0.0));
        break;
    case MODE_LS:
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_LS_SCHEDULE, SFR_LS_CONSTANT));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_LS_EPS_END, 0.1));
        break;
    case MODE_SFR: {
        /* Stage 4 teaches the chosen stages; label smoothing grows with progress. */
        sfr_tap *teacher;
        SFR_TRY(sfr_net_tap(net, l->stages[3], &teacher));
        for (int s = 0; s < PAIRS; s++) {
            sfr_tap *tap;
            if (l->students[s] >= 0) {
                SFR_TRY(sfr_net_tap(net, l->students[s], &tap));
                SFR_TRY(sfr_reg_add_pair(reg, tap, teacher, o->beta * stage_weight(o, s),
                                         &l->pair_index[s]));
            }
            if (l->heads[s] >= 0) {
                double w = stage_weight(o, s);
                SFR_TRY(sfr_net_tap(net, l->heads[s], &tap));
                SFR_TRY(sfr_reg_add_head(reg, tap, w * o->head_ce, w * o->head_kl,
                                         &l->head_index[s]));
            }
        }
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_MATCH, o->match));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_SINKHORN_EPS, o->eps));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_EPS_RELATIVE, o->eps_relative));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_EPS_SCALING, o->eps_scaling));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_DEBIAS, o->debias));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_WARMUP, o->warmup));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_COOLDOWN, o->cooldown));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_HEAD_TEMPERATURE, o->head_temperature));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_HEAD_MUTUAL, o->head_mutual));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE, o->classwise));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_CLASSWISE_TEMPERATURE, o->classwise_temperature));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH, o->last_batch));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_LAST_BATCH_TEMPERATURE,
                                  o->last_batch_temperature));
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_LS_EPS_END, o->ls_eps));
        break;
    }
    }
    if (o->mode != MODE_CE) {
        SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_LS_SOURCE, o->ls_source));
        if (o->ls_source == SFR_LS_PAST)
            SFR_TRY(sfr_reg_set_param(reg, SFR_PARAM_LS_BANK_SIZE, (double)bank_size));
    }
    return reg;
}

/* The learning rate over the run's steps: libsfr's schedule helper, a
 * linear warm-up from a tenth of the peak, then cosine to 0, or x0.1 at 50%
 * and at 75% of the steps. */
static sfr_lr_schedule *make_schedule(const options *o, int64_t steps_per_epoch)
{
    /* --epochs 0 trains nothing: any schedule will do. */
    int64_t total = steps_per_epoch * (o->epochs > 0 ? o->epochs : 1);
    sfr_lr_schedule *sched;
    SFR_TRY(sfr_lr_schedule_create(&sched, o->schedule == SCHEDULE_STEP ? SFR_LR_STEP
                                                                        : SFR_LR_COSINE,
                                   o->lr, total));
    SFR_TRY(sfr_lr_schedule_set_warmup(
        sched, (int64_t)ceil(o->warmup_epochs * (double)steps_per_epoch), 0.1));
    const int64_t milestones[2] = {(total + 1) / 2, (3 * total + 3) / 4};
    if (o->schedule == SCHEDULE_STEP)
        SFR_TRY(sfr_lr_schedule_set_milestones(sched, milestones, 2, 0.1));
    return sched;
}

/* SGD or AdamW, behind the two calls a step makes. */
typedef struct optimizer_handle {
    sfr_sgd *sgd;
    sfr_adamw *adamw;
} optimizer_handle;

static optimizer_handle make_optimizer(const options *o)
{
    optimizer_handle h = {NULL, NULL};
    if (o->optimizer == OPTIMIZER_ADAMW)
        SFR_TRY(sfr_adamw_create(&h.adamw, o->lr, 0.9, 0.999, 1e-8, o->weight_decay));
    else
        SFR_TRY(sfr_sgd_create(&h.sgd, o->lr, o->momentum, o->weight_decay, 0));
    return h;
}

static void optimizer_set_lr(optimizer_handle *h, double lr)
{
    if (h->adamw)
        SFR_TRY(sfr_adamw_set_lr(h->adamw, lr));
    else
        SFR_TRY(sfr_sgd_set_lr(h->sgd, lr));
}

static void optimizer_step(optimizer_handle *h, sfr_net *net)
{
    if (h->adamw)
        SFR_TRY(sfr_adamw_step(h->adamw, net));
    else
        SFR_TRY(sfr_sgd_step(h->sgd, net));
}

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* Test accuracy with running statistics; the last partial batch runs as it
 * is (sfr_net_forward_batch), with no padding. */
static double evaluate(sfr_net *net, const fmnist_set *test, int batch, float mean, float std,
                       float *input)
{
    int64_t correct = 0;
    for (int64_t start = 0; start < test->count; start += batch) {
        int64_t n = test->count - start < batch ? test->count - start : batch;
        for (int64_t i = 0; i < n; i++)
            fmnist_fill(test, start + i, mean, std, 0, NULL, input + i * FMNIST_PIXELS);
        SFR_TRY(sfr_net_forward_batch(net, input, n, 0));
        const float *logits;
        int64_t dims[2];
        SFR_TRY(sfr_net_output(net, &logits, dims));
        for (int64_t i = 0; i < n; i++)
            correct += argmax(logits + i * FMNIST_CLASSES, FMNIST_CLASSES) == test->labels[start + i];
    }
    return (double)correct / (double)test->count;
}

/*
 * The training state in one checkpoint: the net, the optimizer, the
 * regularizer and, as metadata, the epochs done and the options a resumed
 * run must share (the data order depends on the seed).
 */
static sfr_checkpoint *make_checkpoint(const options *o, sfr_net *net, optimizer_handle *opt,
                                       sfr_reg *reg)
{
    sfr_checkpoint *ck;
    char seed[32];
    SFR_TRY(sfr_checkpoint_create(&ck));
    SFR_TRY(sfr_checkpoint_add_net(ck, net));
    SFR_TRY(opt->adamw ? sfr_checkpoint_add_adamw(ck, opt->adamw) :
                         sfr_checkpoint_add_sgd(ck, opt->sgd));
    SFR_TRY(sfr_checkpoint_add_reg(ck, reg));
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o->seed);
    SFR_TRY(sfr_checkpoint_set_meta(ck, "seed", seed));
    return ck;
}

/* Loads the state; the epochs it holds. */
static int resume(sfr_checkpoint *ck, const options *o)
{
    SFR_TRY(sfr_checkpoint_load(ck, o->checkpoint));
    const char *epoch = NULL, *seed = NULL;
    SFR_TRY(sfr_checkpoint_get_meta(ck, "epoch", &epoch));
    SFR_TRY(sfr_checkpoint_get_meta(ck, "seed", &seed));
    if (epoch == NULL || seed == NULL || strtoull(seed, NULL, 10) != o->seed) {
        fprintf(stderr, "train_fmnist: %s holds no epoch, or another --seed (%s): it cannot "
                        "continue this run\n", o->checkpoint, seed ? seed : "none");
        exit(EXIT_FAILURE);
    }
    return atoi(epoch);
}

static void save_checkpoint(sfr_checkpoint *ck, const char *path, int epoch)
{
    char text[16];
    snprintf(text, sizeof text, "%d", epoch);
    SFR_TRY(sfr_checkpoint_set_meta(ck, "epoch", text));
    SFR_TRY(sfr_checkpoint_save(ck, path));
}

typedef struct epoch_stats {
    double label_loss, pair_loss[PAIRS], total_loss, head_loss, classwise_loss, last_batch_loss;
    double train_accuracy, test_accuracy, images_per_second, seconds, lr;
    int64_t solves, capped;   /* Sinkhorn solves of the epoch, and those stopped at max_iter */
} epoch_stats;

/* Adds one step's losses by part and Sinkhorn counts to the epoch's sums. */
static void add_step_stats(sfr_reg *reg, const sfr_layers *l, epoch_stats *st)
{
    double part, ce, kl;
    SFR_TRY(sfr_reg_label_loss(reg, &part));
    st->label_loss += part;
    SFR_TRY(sfr_reg_classwise_loss(reg, &part));
    st->classwise_loss += part;
    SFR_TRY(sfr_reg_last_batch_loss(reg, &part));
    st->last_batch_loss += part;
    for (int s = 0; s < PAIRS; s++) {
        if (l->pair_index[s] >= 0) {
            int64_t solves, capped;
            SFR_TRY(sfr_reg_pair_loss(reg, l->pair_index[s], &part));
            SFR_TRY(sfr_reg_pair_solves(reg, l->pair_index[s], &solves, &capped));
            st->pair_loss[s] += part;
            st->solves += solves;
            st->capped += capped;
        }
        if (l->head_index[s] >= 0) {
            SFR_TRY(sfr_reg_head_loss(reg, l->head_index[s], &ce, &kl));
            st->head_loss += ce + kl;
        }
    }
}

/*
 * Opens the metrics CSV; the columns up to lr are 0.1.0's, the evaluation
 * set names column 8. A resumed run appends to it, but only under the
 * header it would write itself: a CSV begun by a build with other columns
 * (or by a validation run for a test run) is refused, not extended with
 * rows that do not match its header.
 */
static FILE *open_csv(const char *path, int append, int validation)
{
    char header[320];
    snprintf(header, sizeof header,
             "epoch,label_loss,pair1_loss,pair2_loss,pair3_loss,total_loss,"
             "train_accuracy,%s,images_per_second,seconds,lr,head_loss,"
             "sinkhorn_solves,sinkhorn_capped,classwise_loss,last_batch_loss\n",
             validation ? "val_accuracy" : "test_accuracy");
    FILE *old = append ? fopen(path, "r") : NULL;
    if (old != NULL) {
        char first[sizeof header];
        int found = fgets(first, sizeof first, old) != NULL;
        fclose(old);
        if (found && strcmp(first, header) != 0) {
            fprintf(stderr, "train_fmnist: %s has other columns than this run writes "
                            "(another build, or --val differs): give a new --csv path\n", path);
            exit(EXIT_FAILURE);
        }
    }
    FILE *f = fopen(path, append ? "a" : "w");
    if (f == NULL) {
        fprintf(stderr, "train_fmnist: cannot open %s: %s\n", path, strerror(errno));
        exit(EXIT_FAILURE);
    }
    if (!append || ftell(f) == 0)
        fputs(header, f);
    return f;
}

int main(int argc, char **argv)
{
    options o = parse_options(argc, argv);
    if (sfr_version_number() / 10000 != SFR_VERSION_MAJOR) {
        fprintf(stderr, "train_fmnist: libsfr %s does not match its headers\n", sfr_version_string());
        return EXIT_FAILURE;
    }
    if (o.threads > 0)
        SFR_TRY(sfr_set_num_threads(o.threads));

    char err[4400];
    fmnist_set train = {0}, test = {0};
    fmnist_set eval_set;   /* test, or the held-out part of train with --val */
    if (fmnist_load(o.data_dir, "train", &train, err, sizeof err) != 0 ||
        fmnist_load(o.data_dir, "t10k", &test, err, sizeof err) != 0) {
        fprintf(stderr, "train_fmnist: %s\n", err);
        fmnist_free(&train);
        return EXIT_FAILURE;
    }
    if (o.val > 0) {
        /* The held-out images are the last val of the file: a fixed split. The
         * test set is not looked at. */
        if (o.val >= train.count) {
            fprintf(stderr, "train_fmnist: --val %lld leaves no training image\n",
                    (long long)o.val);
            return EXIT_FAILURE;
        }
        train.count -= o.val;
        eval_set = (fmnist_set){o.val, train.images + train.count * FMNIST_PIXELS,
                                train.labels + train.count};
    }
    if (o.limit > 0 && o.limit < train.count)
        train.count = o.limit;
    if (train.count < o.batch) {
        fprintf(stderr, "train_fmnist: %lld training images are fewer than one batch of %d\n",
                (long long)train.count, o.batch);
        fmnist_free(&train);
        fmnist_free(&test);
        return EXIT_FAILURE;
    }
    if (o.val == 0)
        eval_set = test;
    float mean, std;
    fmnist_channel_stats(&train, &mean, &std);

    sfr_net *net;
    sfr_layers layers;
    if (o.init_onnx != NULL) {
        net = import_net(&o, &layers);
    } else {
        SFR_TRY(sfr_net_create(&net));
        if (o.net == NET_MOBILENET)
            build_fmnist_mobilenet(net, &o, &layers);
        else
            build_fmnist_resnet(net, &o, &layers);
        /* Named, so that an exported model's stages can be found again (--stage-names). */
        static const char *const stage_names[4] = {"stage1", "stage2", "stage3", "stage4"};
        for (int s = 0; s < 4; s++)
            SFR_TRY(sfr_net_set_layer_name(net, layers.stages[s], stage_names[s]));
    }
    /* The regularizer asks for its taps before compile, so compile keeps them. */
    sfr_reg *reg = make_regularizer(&o, net, &layers, train.count);
    SFR_TRY(sfr_net_set_precision(net, o.precision));
    SFR_TRY(sfr_net_compile(net, o.batch));
    if (o.init_onnx == NULL) /* an imported net comes with its weights */
        SFR_TRY(sfr_net_init_params(net, o.seed));
    optimizer_handle opt = make_optimizer(&o);
    sfr_checkpoint *ck = make_checkpoint(&o, net, &opt, reg);

    int first_epoch = 0;
    if (o.resume) {
        first_epoch = resume(ck, &o);
        printf("resumed from %s after epoch %d\n", o.checkpoint, first_epoch);
    }

    /* Batch b starts at image b * stride of the epoch's order; the last
     * partial batch is dropped unless --keep-last. With the last-batch term
     * batches overlap by half (DLB), so each image is in two consecutive
     * batches and an epoch takes about twice the steps. */
    const int64_t stride = o.last_batch > 0 ? o.batch / 2 : o.batch;
    const int64_t batches =
        o.keep_last ? (train.count + o.batch - 1) / o.batch
                    : (train.count >= o.batch ? (train.count - o.batch) / stride + 1 : 0);
    const int64_t images = o.keep_last ? train.count : batches * o.batch;
    sfr_lr_schedule *sched = make_schedule(&o, batches);
    float *input = malloc((size_t)o.batch * FMNIST_PIXELS * sizeof *input); /* (B, 1, 28, 28) */
    float *dlogits = malloc((size_t)o.batch * FMNIST_CLASSES * sizeof *dlogits); /* (B, 10) */
    int32_t *labels = malloc((size_t)o.batch * sizeof *labels);
    int64_t *ids = malloc((size_t)o.batch * sizeof *ids);
    int64_t *order = malloc((size_t)train.count * sizeof *order);
    if (!input || !dlogits || !labels || !ids || !order) {
        fprintf(stderr, "train_fmnist: out of memory\n");
        return EXIT_FAILURE;
    }
    FILE *csv = o.csv ? open_csv(o.csv, o.resume, o.val > 0) : NULL;
    const char *eval_name = o.val > 0 ? "validation" : "test";
    static const char *const mode_names[] = {"sfr", "ce", "ls"};
    printf("libsfr %s: %s%s, mode %s, %lld training images, batch %d, %d epoch(s)\n",
           sfr_version_string(), o.init_onnx ? o.init_onnx :
           o.net == NET_MOBILENET ? "fmnist-mobilenet" : "fmnist-resnet",
           o.precision == SFR_PRECISION_BF16 ? " (bf16)" : "", mode_names[o.mode],
           (long long)train.count, o.batch, o.epochs);

    epoch_stats last = {0};
    int epochs_done = 0;
    double run_start = progress_now();
    for (int epoch = first_epoch; epoch < o.epochs; epoch++) {
        /* The order depends only on (seed, epoch), so a resumed run sees the same data. */
        uint64_t rng = o.seed * 0x9E3779B97F4A7C15ull + (uint64_t)epoch;
        for (int64_t i = 0; i < train.count; i++)
            order[i] = i;
        fmnist_shuffle(order, train.count, &rng);

        epoch_stats st = {0};
        int64_t correct = 0;
        progress bar;
        progress_begin(&bar, stdout, epoch + 1, o.epochs, batches);
        for (int64_t b = 0; b < batches; b++) {
            double t = ((double)epoch + (double)b / (double)batches) / (double)o.epochs;
            SFR_TRY(sfr_lr_schedule_lr(sched, epoch * batches + b, &st.lr));
            optimizer_set_lr(&opt, st.lr);
            const int64_t left = train.count - b * stride;
            const int64_t n = left < o.batch ? left : o.batch;
            for (int64_t i = 0; i < n; i++) {
                int64_t idx = order[b * stride + i];
                fmnist_fill(&train, idx, mean, std, o.augment, &rng, input + i * FMNIST_PIXELS);
                labels[i] = train.labels[idx];
                ids[i] = idx;
            }
            SFR_TRY(sfr_net_forward_batch(net, input, n, 1));
            const float *logits;
            int64_t dims[2];
            SFR_TRY(sfr_net_output(net, &logits, dims));
            SFR_TRY(sfr_reg_set_progress(reg, t));
            if (o.mode != MODE_CE && (o.ls_source == SFR_LS_PAST || o.last_batch > 0))
                SFR_TRY(sfr_reg_set_sample_ids(reg, ids, n));
            double loss;
            SFR_TRY(sfr_reg_compute(reg, logits, labels, n, FMNIST_CLASSES, dlogits, &loss));
            SFR_TRY(sfr_net_backward(net, dlogits));
            optimizer_step(&opt, net);

            add_step_stats(reg, &layers, &st);
            st.total_loss += loss;
            for (int64_t i = 0; i < n; i++)
                correct += argmax(logits + i * FMNIST_CLASSES, FMNIST_CLASSES) == labels[i];

            char status[160];
            double done = (double)(b + 1);
            snprintf(status, sizeof status, "loss %.4f (label %.4f, sfr %.4f, heads %.4f)",
                     st.total_loss / done, st.label_loss / done,
                     (st.pair_loss[0] + st.pair_loss[1] + st.pair_loss[2]) / done,
                     st.head_loss / done);
            progress_update(&bar, b + 1, b * o.batch + n, status);
        }
        progress_end(&bar);
        st.seconds = progress_now() - bar.start;
        st.images_per_second = (double)images / st.seconds;
        st.label_loss /= (double)batches;
        st.total_loss /= (double)batches;
        for (int p = 0; p < PAIRS; p++)
            st.pair_loss[p] /= (double)batches;
        st.head_loss /= (double)batches;
        st.classwise_loss /= (double)batches;
        st.last_batch_loss /= (double)batches;
        st.train_accuracy = (double)correct / (double)images;
        st.test_accuracy = evaluate(net, &eval_set, o.batch, mean, std, input);
        printf("epoch %d/%d: loss %.4f (label %.4f, sfr %.4f %.4f %.4f, heads %.4f), "
               "train %.2f%%, %s %.2f%%, %.0f img/s, %.1f s\n",
               epoch + 1, o.epochs, st.total_loss, st.label_loss, st.pair_loss[0],
               st.pair_loss[1], st.pair_loss[2], st.head_loss, 100 * st.train_accuracy,
               eval_name, 100 * st.test_accuracy, st.images_per_second, st.seconds);
        if (o.classwise > 0)
            printf("  class-wise term: %.4f\n", st.classwise_loss);
        if (o.last_batch > 0)
            printf("  last-batch term: %.4f\n", st.last_batch_loss);
        if (st.solves > 0)
            printf("  sinkhorn: %lld of %lld solves stopped at max_iter (%.2f%%)\n",
                   (long long)st.capped, (long long)st.solves,
                   100.0 * (double)st.capped / (double)st.solves);
        if (csv) {
            fprintf(csv,
                    "%d,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.6f,%.1f,%.3f,%.6g,%.6f,%lld,%lld,%.6f,"
                    "%.6f\n",
                    epoch + 1, st.label_loss, st.pair_loss[0], st.pair_loss[1],
                    st.pair_loss[2], st.total_loss, st.train_accuracy, st.test_accuracy,
                    st.images_per_second, st.seconds, st.lr, st.head_loss,
                    (long long)st.solves, (long long)st.capped, st.classwise_loss,
                    st.last_batch_loss);
            fflush(csv);
        }
        if (o.checkpoint)
            save_checkpoint(ck, o.checkpoint, epoch + 1);
        last = st;
        epochs_done++;
        if (epoch + 1 == o.stop_after) {
            printf("stopped after epoch %d of %d\n", epoch + 1, o.epochs);
            break;
        }
    }
    if (o.epochs == 0)
        printf("evaluation only: %s accuracy %.2f%%\n", eval_name,
               100 * evaluate(net, &eval_set, o.batch, mean, std, input));
    else if (first_epoch >= o.epochs)
        printf("nothing to do: the checkpoint already holds %d epoch(s)\n", first_epoch);
    else
        printf("done: %d epoch(s) in %.1f s, final %s accuracy %.2f%%\n", epochs_done,
               progress_now() - run_start, eval_name, 100 * last.test_accuracy);
    if (o.export_onnx != NULL) {
        SFR_TRY(sfr_net_export_onnx(net, o.export_onnx));
        printf("exported the net to %s\n", o.export_onnx);
    }

    if (csv)
        fclose(csv);
    free(input);
    free(dlogits);
    free(labels);
    free(ids);
    free(order);
    sfr_checkpoint_destroy(ck);
    sfr_sgd_destroy(opt.sgd);
    sfr_adamw_destroy(opt.adamw);
    sfr_lr_schedule_destroy(sched);
    sfr_reg_destroy(reg);
    sfr_net_destroy(net);
    fmnist_free(&train);
    fmnist_free(&test);
    return EXIT_SUCCESS;
}
