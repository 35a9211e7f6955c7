/*
 * libFuzzer target: bytes -> a random layer sequence through the builder
 * (any layer kind, the general convolution's descriptor included, any input ids, small, out-of-range and huge sizes, from
 * INT_MIN to INT_MAX), checking after every call that the parameter count
 * is the sum of the tensors' sizes, then
 * compile, init, a training forward on random data (NaN and infinities
 * included), output, backward with random gradients, an eval forward and a
 * recompile. Every call must return a documented status; the harness's
 * allocator caps every block (fuzz_input.h).
 */
#include <limits.h>
#include <math.h>

#include "fuzz_input.h"

enum { MAX_LAYERS = 14, MAX_ELEMS = 1 << 16 };

/* Sizes a host may pass by mistake: both ends of int, and values around
 * the builder's limits (2^31 - 1 elements, 46341^2 > 2^31). */
static const int huge[] = {INT_MIN, -1,    INT_MAX, INT_MAX - 1, INT_MAX / 2,
                           65535,   32767, 46341,   1 << 16,     (1 << 15) + 1};

/* A value in [lo, hi] from one byte, or one of huge[] for the top bytes. */
static int fuzz_size(struct fuzz_input *in, int lo, int hi)
{
    uint8_t b = fuzz_u8(in);
    const unsigned n_huge = sizeof huge / sizeof huge[0];
    if (b >= 256 - n_huge)
        return huge[b - (256 - n_huge)];
    return lo + (int)(b % (unsigned)(hi - lo + 1));
}

/* The parameter count must be the sum of the tensors' sizes, each >= 1. */
static void check_param_count(sfr_net *net)
{
    int count = 0;
    int64_t total = 0, sum = 0;
    if (sfr_net_param_tensors(net, &count) != SFR_OK ||
        sfr_net_params(net, NULL, NULL, &total) != SFR_OK)
        abort();
    for (int i = 0; i < count; i++) {
        int64_t size = 0;
        if (sfr_net_param_info(net, i, NULL, NULL, &size) != SFR_OK || size < 1)
            abort();
        sum += size;
    }
    if (total != sum)
        abort();
}

/* One builder call chosen by the input; ids may be unknown on purpose. */
static void add_layer(struct fuzz_input *in, sfr_net *net, int n_layers)
{
    int id = -1;
    int a = fuzz_range(in, -1, n_layers), b = fuzz_range(in, -1, n_layers);
    int k = fuzz_size(in, -1, 5), s = fuzz_size(in, -1, 3), p = fuzz_size(in, -1, 3);
    switch (fuzz_u8(in) % 15) {
    case 0:
        fuzz_expect(sfr_net_input(net, fuzz_size(in, 0, 3), fuzz_size(in, 0, 12),
                                  fuzz_size(in, 0, 12), &id));
        break;
    case 1:
        fuzz_expect(sfr_net_conv2d(net, a, fuzz_size(in, 0, 8), k, s, p, fuzz_u8(in) & 1, &id));
        break;
    case 2: fuzz_expect(sfr_net_batchnorm(net, a, &id)); break;
    case 3: fuzz_expect(sfr_net_relu(net, a, &id)); break;
    case 4: fuzz_expect(sfr_net_maxpool(net, a, k, s, p, &id)); break;
    case 5: fuzz_expect(sfr_net_avgpool(net, a, k, s, p, &id)); break;
    case 6: fuzz_expect(sfr_net_global_avgpool(net, a, &id)); break;
    case 7: fuzz_expect(sfr_net_linear(net, a, fuzz_size(in, 0, 12), &id)); break;
    case 8: fuzz_expect(sfr_net_add(net, a, b, &id)); break;
    case 9: fuzz_expect(sfr_net_activation(net, a, fuzz_size(in, -1, 7), &id)); break;
    case 10: fuzz_expect(sfr_net_mul(net, a, b, &id)); break;
    case 11: fuzz_expect(sfr_net_concat(net, a, b, &id)); break;
    case 12: {
        /* p from -1/8 to 9/8 in eighths, or NaN. */
        uint8_t q = fuzz_u8(in);
        fuzz_expect(sfr_net_dropout(net, a, q == 255 ? NAN : (double)(q % 11) / 8.0 - 0.125, &id));
        break;
    }
    case 13: {
        sfr_conv_params c = SFR_CONV_PARAMS_INIT;
        c.size = fuzz_u8(in) == 0 ? 8 : sizeof c; /* now and then too small */
        c.kernel_h = k;
        c.kernel_w = fuzz_size(in, -1, 5);
        c.stride_h = s;
        c.stride_w = fuzz_size(in, -1, 3);
        c.pad_top = p;
        c.pad_left = fuzz_size(in, -1, 3);
        c.pad_bottom = fuzz_size(in, -1, 3);
        c.pad_right = fuzz_size(in, -1, 3);
        c.dilation_h = fuzz_size(in, -1, 3);
        c.dilation_w = fuzz_size(in, -1, 3);
        c.groups = fuzz_size(in, -1, 4);
        c.bias = fuzz_size(in, -1, 2);
        fuzz_expect(sfr_net_conv(net, a, fuzz_size(in, 0, 8), &c, &id));
        break;
    }
    default: {
        sfr_tap *tap = NULL;
        fuzz_expect(sfr_net_tap(net, a, &tap));
        break;
    }
    }
}

/* Input and gradient buffers of the compiled net, from the fuzzer's bytes. */
static void run(struct fuzz_input *in, sfr_net *net, int64_t batch, int c, int h, int w)
{
    static float input[MAX_ELEMS], dlogits[MAX_ELEMS];
    size_t numel = (size_t)(batch * c * h * w);
    if (numel > MAX_ELEMS)
        return;
    fuzz_floats(in, input, numel);
    fuzz_expect(sfr_net_init_params(net, fuzz_u64(in)));
    sfr_status st = sfr_net_forward(net, input, 1);
    fuzz_expect(st);
    const float *logits = NULL;
    int64_t dims[2] = {0, 0};
    if (st != SFR_OK || sfr_net_output(net, &logits, dims) != SFR_OK)
        return;
    if ((size_t)(dims[0] * dims[1]) <= MAX_ELEMS) {
        fuzz_floats(in, dlogits, (size_t)(dims[0] * dims[1]));
        fuzz_expect(sfr_net_backward(net, dlogits));
    }
    fuzz_expect(sfr_net_forward(net, input, 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_setup();
    struct fuzz_input in = {data, size};
    sfr_net *net = NULL;
    fuzz_expect(sfr_net_create(&net));
    if (net == NULL)
        return 0;
    /* Most inputs start with a valid input layer, so that layers stack up. */
    int c = fuzz_range(&in, 1, 3), h = fuzz_range(&in, 1, 12), w = fuzz_range(&in, 1, 12);
    int id = -1, n_layers = 0;
    if (sfr_net_input(net, c, h, w, &id) == SFR_OK)
        n_layers = 1;
    int ops = fuzz_range(&in, 0, MAX_LAYERS);
    for (int i = 0; i < ops; i++) {
        add_layer(&in, net, n_layers);
        check_param_count(net);
        n_layers++; /* an upper bound: unknown ids are part of the game */
    }
    int64_t batch = fuzz_range(&in, 0, 3);
    sfr_status st = sfr_net_compile(net, batch);
    fuzz_expect(st);
    if (st == SFR_OK) {
        run(&in, net, batch, c, h, w);
        /* Another batch size keeps parameters; run again. */
        st = sfr_net_compile(net, batch + 1);
        fuzz_expect(st);
        if (st == SFR_OK)
            run(&in, net, batch + 1, c, h, w);
    }
    sfr_net_destroy(net);
    return 0;
}
