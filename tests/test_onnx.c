/*
 * ONNX export and import (sfr/onnx.h). Import: a model PyTorch 1.13 exported
 * (tests/fixtures/torch_small.onnx) gives PyTorch's logits and trains.
 * Export: the reference nets go out and come back with the same logits and
 * tensors, and Debian's onnx.checker accepts the files; with SFR_ORT_DIR set
 * (tests/fixtures/ort_run.js says how) ONNX Runtime runs them too and must
 * give libsfr's logits. With SFR_ONNX_FULL_DIR set, the full-size PyTorch
 * exports of tests/fixtures/onnx_torch.py --full are checked as well.
 * Damaged and unsupported models are refused with the right status.
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <valgrind/valgrind.h>

#include "onnx.pb-c.h"
#include "fixtures/onnx_torch.h"
#include "reference_nets.h"
#include "sfr/sfr.h"
#include "temp_dir.h"

static float *sine_input(int64_t count)
{
    float *x = malloc((size_t)count * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < count; i++)
        x[i] = sinf(0.05f * (float)i);
    return x;
}

/* max |a - b| <= rel * max |b|, over n floats. */
static void expect_close(const float *a, const float *b, int64_t n, double rel, const char *what)
{
    double err = 0, scale = 0;
    for (int64_t i = 0; i < n; i++) {
        err = fmax(err, fabs((double)a[i] - b[i]));
        scale = fmax(scale, fabs((double)b[i]));
    }
    if (!(err <= rel * scale))
        ck_abort_msg("%s: max error %g against max %g (relative %g > %g)", what, err, scale,
                     err / scale, rel);
}

/* The eval logits of a compiled net for the sine input (copied). */
static float *eval_logits(sfr_net *net, int64_t in_count, int64_t *count)
{
    float *x = sine_input(in_count);
    const float *logits;
    int64_t dims[2];
    ck_assert_int_eq(sfr_net_forward(net, x, 0), SFR_OK);
    ck_assert_int_eq(sfr_net_output(net, &logits, dims), SFR_OK);
    *count = dims[0] * dims[1];
    float *copy = malloc((size_t)*count * sizeof *copy);
    memcpy(copy, logits, (size_t)*count * sizeof *copy);
    free(x);
    return copy;
}

static int run_check(const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "bash '%s/tests/onnx_checks.sh' '%s' %s", SFR_SOURCE_DIR,
             SFR_SOURCE_DIR, args);
    return system(cmd);
}

/* ONNX Runtime's logits for model on the sine input, compared with want. */
static void check_with_ort(const char *dir, const char *model, const int64_t shape[4],
                           const float *want, int64_t count)
{
    if (getenv("SFR_ORT_DIR") == NULL)
        return; /* optional: the CI machine has no npm registry */
    char in_path[256], out_path[256], args[1024];
    snprintf(in_path, sizeof in_path, "%s/input.bin", dir);
    snprintf(out_path, sizeof out_path, "%s/ort.bin", dir);
    int64_t n = shape[0] * shape[1] * shape[2] * shape[3];
    float *x = sine_input(n);
    FILE *f = fopen(in_path, "wb");
    ck_assert_int_eq((int64_t)fwrite(x, sizeof *x, (size_t)n, f), n);
    fclose(f);
    snprintf(args, sizeof args, "ort '%s' '%s' %lld %lld %lld %lld '%s'", model, in_path,
             (long long)shape[0], (long long)shape[1], (long long)shape[2], (long long)shape[3],
             out_path);
    ck_assert_int_eq(run_check(args), 0);
    float *got = malloc((size_t)count * sizeof *got);
    f = fopen(out_path, "rb");
    ck_assert_int_eq((int64_t)fread(got, sizeof *got, (size_t)count, f), count);
    fclose(f);
    expect_close(got, want, count, 1e-4, "ONNX Runtime against libsfr");
    free(got);
    free(x);
}

START_TEST(a_pytorch_export_gives_pytorchs_logits_and_trains)
{
    /* valgrind's translator gives up ("VEX temporary storage exhausted") on
     * the AVX2 kernel oneDNN generates for this net's stem (1 -> 8 channels,
     * 12 x 12): under valgrind this test is left to ASan (make check-asan). */
    if (RUNNING_ON_VALGRIND)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/torch_small.onnx", SFR_SOURCE_DIR);
    sfr_net *net = NULL;
    ck_assert_int_eq(sfr_net_import_onnx(&net, path), SFR_OK);
    /* Names: PyTorch's state_dict keys. */
    const char *name;
    int layer = -1, tensors = 0;
    ck_assert_int_eq(sfr_net_param_info(net, 0, &name, NULL, NULL), SFR_OK);
    ck_assert_str_eq(name, "stem.0.weight");
    ck_assert_int_eq(sfr_net_buffer_info(net, 0, &name, NULL, NULL), SFR_OK);
    ck_assert_str_eq(name, "stem.1.running_mean");
    ck_assert_int_eq(sfr_net_find_layer(net, "mobile.se.fc2", &layer), SFR_OK);
    ck_assert_int_eq(sfr_net_param_tensors(net, &tensors), SFR_OK);
    ck_assert_int_eq(tensors, 26);
    int in_dims[3], layers = 0;
    ck_assert_int_eq(sfr_net_layer_dims(net, 0, in_dims), SFR_OK);
    ck_assert(in_dims[0] == 1 && in_dims[1] == 12 && in_dims[2] == 12);
    ck_assert_int_eq(sfr_net_layer_count(net, &layers), SFR_OK);
    ck_assert_int_eq(sfr_net_layer_dims(net, layers - 1, in_dims), SFR_OK);
    ck_assert(in_dims[0] == 5 && in_dims[1] == 1 && in_dims[2] == 1);
    ck_assert_int_eq(sfr_net_layer_dims(net, layers, in_dims), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_layer_dims(net, 0, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_layer_count(NULL, &layers), SFR_ERR_INVALID_ARG);

    ck_assert_int_eq(sfr_net_compile(net, 3), SFR_OK);
    int64_t count;
    float *logits = eval_logits(net, 3 * 144, &count);
    ck_assert_int_eq(count, 15);
    expect_close(logits, torch_small_logits, count, 1e-5, "libsfr against PyTorch");

    /* It trains: plain SGD on one batch lowers its cross-entropy. */
    sfr_sgd *opt;
    ck_assert_int_eq(sfr_sgd_create(&opt, 0.05, 0.9, 0, 0), SFR_OK);
    float *x = sine_input(3 * 144), dlogits[15];
    const int32_t labels[3] = {1, 4, 2};
    double first = 0, loss = 0;
    for (int step = 0; step < 20; step++) {
        const float *z;
        int64_t dims[2];
        ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
        ck_assert_int_eq(sfr_net_output(net, &z, dims), SFR_OK);
        loss = 0;
        for (int i = 0; i < 3; i++) {
            double m = z[i * 5], sum = 0;
            for (int k = 1; k < 5; k++)
                m = fmax(m, z[i * 5 + k]);
            for (int k = 0; k < 5; k++)
                sum += exp(z[i * 5 + k] - m);
            loss += (log(sum) + m - z[i * 5 + labels[i]]) / 3;
            for (int k = 0; k < 5; k++)
                dlogits[i * 5 + k] =
                    (float)((exp(z[i * 5 + k] - m) / sum - (k == labels[i])) / 3);
        }
        if (step == 0)
            first = loss;
        ck_assert_int_eq(sfr_net_backward(net, dlogits), SFR_OK);
        ck_assert_int_eq(sfr_sgd_step(opt, net), SFR_OK);
    }
    ck_assert_msg(loss < 0.5 * first, "loss %g after 20 steps, %g before", loss, first);
    sfr_sgd_destroy(opt);
    free(x);
    free(logits);
    sfr_net_destroy(net);
}
END_TEST

START_TEST(full_size_pytorch_exports_when_given)
{
    const char *dir = getenv("SFR_ONNX_FULL_DIR");
    if (dir == NULL)
        return; /* 47 MB of models, written by tests/fixtures/onnx_torch.py --full */
    static const struct {
        const char *name;
        int64_t in_count, logits;
    } nets[] = {{"fmnist_resnet", 3 * 784, 30}, {"fmnist_mobilenet", 3 * 784, 30},
                {"cifar_resnet18", 3 * 3 * 32 * 32, 300}};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.onnx", dir, nets[i].name);
        sfr_net *net;
        ck_assert_int_eq(sfr_net_import_onnx(&net, path), SFR_OK);
        ck_assert_int_eq(sfr_net_compile(net, 3), SFR_OK);
        int64_t count;
        float *logits = eval_logits(net, nets[i].in_count, &count), want[300];
        ck_assert_int_eq(count, nets[i].logits);
        snprintf(path, sizeof path, "%s/%s.logits", dir, nets[i].name);
        FILE *f = fopen(path, "rb");
        ck_assert_int_eq((int64_t)fread(want, sizeof *want, (size_t)count, f), count);
        fclose(f);
        expect_close(logits, want, count, 1e-4, nets[i].name);
        free(logits);
        sfr_net_destroy(net);
    }
}
END_TEST

typedef sfr_status (*builder)(sfr_net *net);

static sfr_status build_branched(sfr_net *net)
{
    struct sfr_ref_branches br = {{1, 0, 0}, {0, 0, 1}, 32};
    int stages[SFR_REF_STAGES], students[3], heads[3];
    return sfr_ref_fmnist_resnet_branched(net, &br, stages, students, heads);
}

static sfr_status build_mobilenet(sfr_net *net)
{
    return sfr_ref_fmnist_mobilenet(net, 0.2, NULL);
}

static sfr_status build_cifar(sfr_net *net)
{
    return sfr_ref_cifar_resnet18(net, NULL);
}

/* Every activation and join libsfr has, on a small map. */
static sfr_status build_activations(sfr_net *net)
{
    int x, a, b, id;
    sfr_status st = sfr_net_input(net, 2, 6, 6, &x);
    static const int kinds[] = {SFR_ACT_SIGMOID, SFR_ACT_SILU, SFR_ACT_HARDSWISH,
                                SFR_ACT_HARDSIGMOID, SFR_ACT_GELU, SFR_ACT_GELU_TANH};
    if (st == SFR_OK)
        st = sfr_net_conv2d(net, x, 4, 3, 1, 1, 1, &a);
    for (int i = 0; i < 6 && st == SFR_OK; i++) {
        st = sfr_net_activation(net, a, kinds[i], &b);
        if (st == SFR_OK)
            st = sfr_net_concat(net, a, b, &id);
        if (st == SFR_OK)
            st = sfr_net_conv2d(net, id, 4, 1, 1, 0, 0, &a);
    }
    if (st == SFR_OK)
        st = sfr_net_avgpool(net, a, 3, 1, 1, &a);
    if (st == SFR_OK)
        st = sfr_net_global_avgpool(net, a, &b);
    if (st == SFR_OK)
        st = sfr_net_mul(net, a, b, &a);
    if (st == SFR_OK)
        st = sfr_net_maxpool(net, a, 2, 2, 0, &a);
    return st == SFR_OK ? sfr_net_linear(net, a, 3, &id) : st;
}

/* The values of the tensor called name in net (params), or NULL. */
static const float *tensor(sfr_net *net, const char *name, int64_t *size)
{
    float *values;
    int count = 0;
    sfr_net_params(net, &values, NULL, NULL);
    sfr_net_param_tensors(net, &count);
    for (int i = 0; i < count; i++) {
        const char *n;
        int64_t off;
        sfr_net_param_info(net, i, &n, &off, size);
        if (strcmp(n, name) == 0)
            return values + off;
    }
    return NULL;
}

/* Exports the net (compiled for batch, BN statistics moved by two training
 * forwards), checks the file with onnx.checker and ONNX Runtime, and
 * imports it again when reimport is set; with same_arch, the imported net is
 * the built one layer for layer, so that its checkpoints load. */
static void round_trip(builder build, const int64_t shape[4], int reimport, int same_arch)
{
    sfr_net *net;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(build(net), SFR_OK);
    ck_assert_int_eq(sfr_net_compile(net, shape[0]), SFR_OK);
    ck_assert_int_eq(sfr_net_init_params(net, 5), SFR_OK);
    const int64_t in_count = shape[0] * shape[1] * shape[2] * shape[3];
    float *x = sine_input(in_count);
    for (int64_t i = 0; i < in_count; i++)
        x[i] = 2 * x[i] + 0.5f;
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    ck_assert_int_eq(sfr_net_forward(net, x, 1), SFR_OK);
    int64_t count;
    float *want = eval_logits(net, in_count, &count);

    char dir[64], path[128], args[512];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/net.onnx", dir);
    ck_assert_int_eq(sfr_net_export_onnx(net, path), SFR_OK);
    size_t size = 0;
    ck_assert_int_eq(sfr_net_export_onnx_memory(net, NULL, 0, &size), SFR_OK);
    unsigned char *bytes = malloc(size), *file = malloc(size + 1);
    ck_assert_int_eq(sfr_net_export_onnx_memory(net, bytes, size, &size), SFR_OK);
    FILE *f = fopen(path, "rb");
    ck_assert_uint_eq(fread(file, 1, size + 1, f), size);
    fclose(f);
    ck_assert_int_eq(memcmp(bytes, file, size), 0);
    snprintf(args, sizeof args, "checker '%s' > /dev/null", path);
    ck_assert_int_eq(run_check(args), 0);
    check_with_ort(dir, path, shape, want, count);

    if (reimport) {
        sfr_net *back = NULL;
        ck_assert_int_eq(sfr_net_import_onnx_memory(&back, bytes, size), SFR_OK);
        ck_assert_int_eq(sfr_net_compile(back, shape[0]), SFR_OK);
        int64_t back_count;
        float *got = eval_logits(back, in_count, &back_count);
        ck_assert_int_eq(back_count, count);
        expect_close(got, want, count, 1e-5, "the imported export");
        /* Every tensor of the imported net is the exported one, bit for bit. */
        int tensors = 0;
        ck_assert_int_eq(sfr_net_param_tensors(back, &tensors), SFR_OK);
        for (int i = 0; i < tensors; i++) {
            const char *name;
            int64_t n1 = 0, n2 = 0;
            ck_assert_int_eq(sfr_net_param_info(back, i, &name, NULL, NULL), SFR_OK);
            const float *a = tensor(back, name, &n1), *b = tensor(net, name, &n2);
            ck_assert_msg(b != NULL, "the import made a tensor '%s' the net lacks", name);
            ck_assert_int_eq(n1, n2);
            ck_assert_int_eq(memcmp(a, b, (size_t)n1 * sizeof *a), 0);
        }
        if (same_arch) {
            size_t ckpt_size = 0;
            ck_assert_int_eq(sfr_net_save_memory(net, NULL, 0, &ckpt_size), SFR_OK);
            unsigned char *ckpt = malloc(ckpt_size);
            ck_assert_int_eq(sfr_net_save_memory(net, ckpt, ckpt_size, &ckpt_size), SFR_OK);
            ck_assert_int_eq(sfr_net_load_memory(back, ckpt, ckpt_size), SFR_OK);
            free(ckpt);
        }
        free(got);
        sfr_net_destroy(back);
    }
    remove_tree(dir);
    free(bytes);
    free(file);
    free(want);
    free(x);
    sfr_net_destroy(net);
}

START_TEST(fmnist_resnet_goes_out_and_back)
{
    const int64_t shape[4] = {3, 1, 28, 28};
    round_trip(build_branched, shape, 1, 0); /* the adapter and head branches are left out */
}
END_TEST

START_TEST(fmnist_mobilenet_goes_out_and_back)
{
    const int64_t shape[4] = {3, 1, 28, 28};
    round_trip(build_mobilenet, shape, 1, 0);
}
END_TEST

START_TEST(cifar_resnet18_goes_out_and_back)
{
    const int64_t shape[4] = {2, 3, 32, 32};
    round_trip(build_cifar, shape, 1, 1);
}
END_TEST

START_TEST(every_activation_exports)
{
    const int64_t shape[4] = {2, 2, 6, 6};
    round_trip(build_activations, shape, 0, 0);
    /* GELU's export is made of Div, Erf, Add and Mul, which libsfr does not import. */
    sfr_net *net;
    ck_assert_int_eq(sfr_net_create(&net), SFR_OK);
    ck_assert_int_eq(build_activations(net), SFR_OK);
    size_t size = 0;
    ck_assert_int_eq(sfr_net_export_onnx_memory(net, NULL, 0, &size), SFR_OK);
    unsigned char *bytes = malloc(size);
    ck_assert_int_eq(sfr_net_export_onnx_memory(net, bytes, size, &size), SFR_OK);
    sfr_net *back = NULL;
    ck_assert_int_eq(sfr_net_import_onnx_memory(&back, bytes, size), SFR_ERR_UNSUPPORTED);
    ck_assert_ptr_null(back);
    if (strstr(sfr_last_error(), "node 'layer14/div' (Div): operator 'Div' is not") == NULL)
        ck_abort_msg("unexpected message: %s", sfr_last_error());
    free(bytes);
    sfr_net_destroy(net);
}
END_TEST

/* The fixture as protobuf-c messages, to damage; free with free_model. */
static Onnx__ModelProto *fixture_model(void)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/torch_small.onnx", SFR_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    static unsigned char data[1 << 16];
    size_t n = fread(data, 1, sizeof data, f);
    fclose(f);
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, n, data);
    ck_assert_ptr_nonnull(m);
    return m;
}

/* Imports m, expecting code and a message holding what; *out stays NULL. */
static void expect_refused(const Onnx__ModelProto *m, sfr_status code, const char *what)
{
    size_t size = protobuf_c_message_get_packed_size(&m->base);
    unsigned char *bytes = malloc(size);
    protobuf_c_message_pack(&m->base, bytes);
    sfr_net *net = NULL;
    ck_assert_int_eq(sfr_net_import_onnx_memory(&net, bytes, size), code);
    ck_assert_ptr_null(net);
    if (strstr(sfr_last_error(), what) == NULL)
        ck_abort_msg("message '%s' lacks '%s'", sfr_last_error(), what);
    free(bytes);
}

static Onnx__NodeProto *find_node(Onnx__ModelProto *m, const char *op, int nth)
{
    for (size_t i = 0; i < m->graph->n_node; i++)
        if (strcmp(m->graph->node[i]->op_type, op) == 0 && nth-- == 0)
            return m->graph->node[i];
    return NULL;
}

static Onnx__AttributeProto *find_attr(Onnx__NodeProto *n, const char *name)
{
    for (size_t i = 0; i < n->n_attribute; i++)
        if (strcmp(n->attribute[i]->name, name) == 0)
            return n->attribute[i];
    return NULL;
}

START_TEST(unsupported_and_damaged_models_are_refused)
{
    Onnx__ModelProto *m = fixture_model();
    Onnx__NodeProto *relu = find_node(m, "Relu", 0);
    char *op = relu->op_type;
    relu->op_type = "Softmax";
    expect_refused(m, SFR_ERR_UNSUPPORTED,
                   "node '/stem/stem.2/Relu' (Softmax): operator 'Softmax' is not one libsfr has");
    relu->op_type = op;

    Onnx__AttributeProto *eps = find_attr(find_node(m, "BatchNormalization", 1), "epsilon");
    eps->f = 1e-3f;
    expect_refused(m, SFR_ERR_UNSUPPORTED, "epsilon 0.001: libsfr's batch norm uses 1e-05");
    eps->f = 1e-5f;

    Onnx__AttributeProto *kernel = find_attr(find_node(m, "Conv", 0), "kernel_shape");
    kernel->ints[0] = 5;
    expect_refused(m, SFR_ERR_FORMAT, "the weight's shape does not match the kernel");
    kernel->ints[0] = 3;

    Onnx__AttributeProto *ceil = find_attr(find_node(m, "AveragePool", 0), "ceil_mode");
    ceil->i = 1;
    expect_refused(m, SFR_ERR_UNSUPPORTED, "floor rounding");
    ceil->i = 0;

    /* A running variance below zero. */
    Onnx__TensorProto *var = NULL;
    for (size_t i = 0; i < m->graph->n_initializer; i++)
        if (strcmp(m->graph->initializer[i]->name, "stem.1.running_var") == 0)
            var = m->graph->initializer[i];
    ck_assert_ptr_nonnull(var);
    unsigned char saved[4];
    memcpy(saved, var->raw_data.data, 4);
    memcpy(var->raw_data.data, "\x00\x00\x80\xbf", 4); /* -1 */
    expect_refused(m, SFR_ERR_FORMAT, "running variance holds -1");
    memcpy(var->raw_data.data, saved, 4);

    /* A weight that is not there. */
    char *w = find_node(m, "Conv", 1)->input[1];
    find_node(m, "Conv", 1)->input[1] = "nowhere";
    expect_refused(m, SFR_ERR_FORMAT, "input 1 ('nowhere') is not defined");
    find_node(m, "Conv", 1)->input[1] = w;

    int64_t opset = m->opset_import[0]->version;
    m->opset_import[0]->version = 19;
    expect_refused(m, SFR_ERR_UNSUPPORTED, "opset 19");
    m->opset_import[0]->version = opset;

    /* Damaged bytes: a parse failure or a refusal, never a net. */
    size_t size = protobuf_c_message_get_packed_size(&m->base);
    unsigned char *bytes = malloc(size);
    protobuf_c_message_pack(&m->base, bytes);
    for (size_t cut = 0; cut < size; cut += 1 + cut / 8) {
        sfr_net *net = NULL;
        sfr_status st = sfr_net_import_onnx_memory(&net, bytes, cut);
        ck_assert_msg(st == SFR_ERR_FORMAT || st == SFR_ERR_UNSUPPORTED,
                      "a model cut at %zu bytes: %d (%s)", cut, st, sfr_last_error());
        ck_assert_ptr_null(net);
    }
    sfr_net *net = NULL;
    ck_assert_int_eq(sfr_net_import_onnx_memory(&net, bytes, size), SFR_OK);
    sfr_net_destroy(net);
    net = NULL;
    ck_assert_int_eq(sfr_net_import_onnx_memory(&net, "not a model", 11), SFR_ERR_FORMAT);
    ck_assert_ptr_null(net);
    free(bytes);
    onnx__model_proto__free_unpacked(m, NULL);
}
END_TEST

START_TEST(bad_arguments_are_refused)
{
    sfr_net *net = NULL, *empty;
    char dir[64], path[128];
    make_temp_dir(dir);
    snprintf(path, sizeof path, "%s/missing.onnx", dir);
    ck_assert_int_eq(sfr_net_import_onnx(NULL, path), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_import_onnx(&net, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_import_onnx(&net, ""), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_import_onnx(&net, path), SFR_ERR_IO);
    ck_assert_int_eq(sfr_net_import_onnx(&net, dir), SFR_ERR_IO);
    ck_assert_int_eq(sfr_net_import_onnx_memory(&net, NULL, 4), SFR_ERR_INVALID_ARG);
    ck_assert_ptr_null(net);

    ck_assert_int_eq(sfr_net_create(&empty), SFR_OK);
    size_t size = 5;
    ck_assert_int_eq(sfr_net_export_onnx_memory(empty, NULL, 0, &size), SFR_ERR_STATE);
    int id;
    ck_assert_int_eq(sfr_net_input(empty, 1, 4, 4, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_export_onnx(empty, path), SFR_ERR_STATE);
    ck_assert_int_eq(sfr_net_linear(empty, id, 2, &id), SFR_OK);
    ck_assert_int_eq(sfr_net_export_onnx(NULL, path), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_export_onnx(empty, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_int_eq(sfr_net_export_onnx_memory(empty, NULL, 0, NULL), SFR_ERR_INVALID_ARG);
    ck_assert_uint_eq(size, 5);
    ck_assert_int_eq(sfr_net_export_onnx_memory(empty, NULL, 0, &size), SFR_OK);
    unsigned char small[8] = {0};
    size_t got = 0;
    ck_assert_int_eq(sfr_net_export_onnx_memory(empty, small, sizeof small, &got), SFR_ERR_SHAPE);
    ck_assert_uint_eq(small[0], 0);
    ck_assert_uint_eq(got, 0);
    float *values;
    ck_assert_int_eq(sfr_net_params(empty, &values, NULL, NULL), SFR_OK);
    values[1] = NAN;
    ck_assert_int_eq(sfr_net_export_onnx(empty, path), SFR_ERR_NONFINITE);
    ck_assert_int_eq(count_entries(dir), 0);
    snprintf(path, sizeof path, "%s/missing/net.onnx", dir);
    values[1] = 0;
    ck_assert_int_eq(sfr_net_export_onnx(empty, path), SFR_ERR_IO);
    sfr_net_destroy(empty);
    remove_tree(dir);
}
END_TEST

Suite *onnx_suite(void)
{
    Suite *s = suite_create("onnx");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, a_pytorch_export_gives_pytorchs_logits_and_trains);
    tcase_add_test(tc, full_size_pytorch_exports_when_given);
    tcase_add_test(tc, fmnist_resnet_goes_out_and_back);
    tcase_add_test(tc, fmnist_mobilenet_goes_out_and_back);
    tcase_add_test(tc, cifar_resnet18_goes_out_and_back);
    tcase_add_test(tc, every_activation_exports);
    tcase_add_test(tc, unsupported_and_damaged_models_are_refused);
    tcase_add_test(tc, bad_arguments_are_refused);
    suite_add_tcase(s, tc);
    return s;
}
