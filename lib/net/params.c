/*
 * The parameter buffers seen from outside: the flat views, the
 * initialisation rule, and what checkpoints need (net_state.h); the named
 * tensors in them are listed by tensors.c.
 */
#include <math.h>
#include <string.h>

#include "net_impl.h"
#include "net_state.h"

SFR_API sfr_status sfr_net_params(sfr_net *net, float **values, float **grads, int64_t *count)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, "sfr_net_params", "net");
    if (st != SFR_OK)
        return st;
    if (values != NULL)
        *values = net->params;
    if (grads != NULL)
        *grads = net->grads;
    if (count != NULL)
        *count = net->n_params;
    return SFR_OK;
}

/* splitmix64: a small, well-mixed generator whose sequence is fixed by the seed. */
static uint64_t next_u64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform in (0, 1): 53 random bits, never 0 so that log() is finite. */
static double next_unit(uint64_t *s)
{
    return ((double)(next_u64(s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static void fill_uniform(float *p, int64_t n, double bound, uint64_t *s)
{
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)((2.0 * next_unit(s) - 1.0) * bound);
}

/* Box-Muller, both values of each pair used. */
static void fill_normal(float *p, int64_t n, double std, uint64_t *s)
{
    for (int64_t i = 0; i < n; i += 2) {
        double r = sqrt(-2.0 * log(next_unit(s)));
        double t = 2.0 * M_PI * next_unit(s);
        p[i] = (float)(std * r * cos(t));
        if (i + 1 < n)
            p[i + 1] = (float)(std * r * sin(t));
    }
}

SFR_API sfr_status sfr_net_init_params(sfr_net *net, uint64_t seed)
{
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, "sfr_net_init_params", "net");
    if (st != SFR_OK)
        return st;
    uint64_t s = seed;
    net->dropout_seed = seed;
    net->dropout_forwards = 0;
    for (int i = 0; i < net->n_layers; i++) {
        const struct sfri_layer *l = net->layers[i];
        /* Also keeps NULL + 0 (no parameters in the net yet) from being computed. */
        if (l->weight_size == 0)
            continue;
        float *w = net->params + l->param_off;
        float *b = w + l->weight_size;
        if (l->kind == SFRI_LAYER_CONV) {
            int64_t k2 = (int64_t)l->kh * l->kw;
            int64_t fan_in = l->weight_size / l->c;
            fill_normal(w, l->weight_size, sqrt(2.0 / (double)(l->c * k2)), &s);
            fill_uniform(b, l->bias_size, 1.0 / sqrt((double)fan_in), &s);
        } else if (l->kind == SFRI_LAYER_LINEAR) {
            double bound = 1.0 / sqrt((double)(l->weight_size / l->c));
            fill_uniform(w, l->weight_size, bound, &s);
            fill_uniform(b, l->bias_size, bound, &s);
        } else if (l->kind == SFRI_LAYER_BN) {
            float *mean = net->state + l->state_off;
            for (int ch = 0; ch < l->c; ch++) {
                w[ch] = 1.0f;
                b[ch] = 0.0f;
                mean[ch] = 0.0f;
                mean[l->c + ch] = 1.0f;
            }
        }
    }
    return SFR_OK;
}

void sfri_net_param_buffer(const struct sfr_net *net, float **values, int64_t *count)
{
    *values = net->params;
    *count = net->n_params;
}

void sfri_net_state_buffer(const struct sfr_net *net, float **state, int64_t *count)
{
    *state = net->state;
    *count = net->n_state;
}

int64_t sfri_net_bad_variance(const struct sfr_net *net, const float *state)
{
    for (int i = 0; i < net->n_layers; i++) {
        const struct sfri_layer *l = net->layers[i];
        if (l->kind != SFRI_LAYER_BN)
            continue;
        const float *var = state + l->state_off + l->c;
        for (int ch = 0; ch < l->c; ch++)
            if (!(var[ch] >= 0.0f))
                return l->state_off + l->c + ch;
    }
    return -1;
}

/* FNV-1a over the 32-bit words that define each layer. */
static uint64_t mix(uint64_t h, int32_t v)
{
    uint32_t u = (uint32_t)v;
    for (int i = 0; i < 4; i++) {
        h ^= (u >> (8 * i)) & 0xFFu;
        h *= 0x100000001B3ull;
    }
    return h;
}

uint64_t sfri_net_arch_signature(const struct sfr_net *net)
{
    uint64_t h = 0xCBF29CE484222325ull;
    h = mix(h, net->n_layers);
    for (int i = 0; i < net->n_layers; i++) {
        const struct sfri_layer *l = net->layers[i];
        const int32_t words[] = {l->kind, l->in[0], l->in[1], l->c,      l->h,
                                 l->w,    l->kernel, l->stride, l->pad, l->bias};
        for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
            h = mix(h, words[k]);
        /* What 0.1.0's layers did not have enters only where it is used, so
         * that their signatures, hence their checkpoints, stay as they were. */
        const int32_t general[] = {l->kh,    l->kw,    l->sh,    l->sw,    l->pad_t, l->pad_l,
                                   l->pad_b, l->pad_r, l->dil_h, l->dil_w, l->groups};
        for (size_t k = 0; l->general && k < sizeof general / sizeof general[0]; k++)
            h = mix(h, general[k]);
        if (l->kind == SFRI_LAYER_ACT)
            h = mix(h, l->act);
    }
    return h;
}
