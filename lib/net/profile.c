/*
 * SFR_PROFILE: time per layer and pass, printed to stderr. The variable is
 * read at compile; when it is unset (or 0) net->profile stays NULL and the
 * steps pay one pointer test each. When set, every step waits for its
 * primitive to finish so that its time is its own. SFR_PROFILE=1 prints at
 * destroy and when a compile replaces the measured one; SFR_PROFILE=K
 * (K > 1) also prints every K backwards.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "net_impl.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

double sfri_prof_start(const sfr_net *net)
{
    return net->profile != NULL ? now_ms() : 0.0;
}

void sfri_prof_stop(sfr_net *net, int layer, int pass, double t0)
{
    if (net->profile != NULL)
        net->profile->ms[layer * SFRI_N_PASSES + pass] += now_ms() - t0;
}

void sfri_prof_free(sfr_net *net)
{
    if (net->profile == NULL)
        return;
    sfri_free(net->profile->ms);
    sfri_free(net->profile);
    net->profile = NULL;
}

void sfri_prof_setup(sfr_net *net)
{
    const char *s = getenv("SFR_PROFILE");
    long every = s == NULL ? 0 : strtol(s, NULL, 10);
    sfri_prof_report(net); /* what the previous compile measured */
    sfri_prof_free(net);
    if (every <= 0)
        return;
    struct sfri_profile *p = sfri_calloc(1, sizeof *p);
    if (p == NULL)
        return;
    p->ms = sfri_calloc(sfri_mul_size((size_t)net->n_layers, SFRI_N_PASSES), sizeof *p->ms);
    if (p->ms == NULL) {
        sfri_free(p);
        return;
    }
    p->every = every > 1 ? (int)(every > 1000000 ? 1000000 : every) : 0;
    p->n_layers = net->n_layers;
    net->profile = p;
}

void sfri_prof_count(sfr_net *net, int backward)
{
    struct sfri_profile *p = net->profile;
    if (p == NULL)
        return;
    if (!backward) {
        p->forwards++;
        return;
    }
    p->backwards++;
    if (p->every > 0 && p->backwards % p->every == 0)
        sfri_prof_report(net);
}

void sfri_prof_report(const sfr_net *net)
{
    const struct sfri_profile *p = net->profile;
    if (p == NULL || p->forwards == 0)
        return;
    double per = 1.0 / (double)p->forwards, total[SFRI_N_PASSES] = {0};
    fprintf(stderr,
            "libsfr profile: batch %lld, %lld forwards, %lld backwards; ms per forward\n"
            "%5s %-8s %-14s %-8s %9s %9s %9s %9s %9s\n",
            (long long)net->batch, (long long)p->forwards, (long long)p->backwards, "layer", "kind",
            "output", "fusion", "fwd", "bwd_data", "bwd_w", "layout", "total");
    for (int i = 0; i < p->n_layers; i++) {
        const struct sfri_layer *l = net->layers[i];
        const double *ms = p->ms + (size_t)i * SFRI_N_PASSES;
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%dx%d", l->c, l->h, l->w);
        const char *fusion = l->fuse_relu  ? "+relu"
                             : l->in_place ? "in-place"
                             : l->winograd ? "winograd"
                                           : "";
        double sum = 0;
        for (int k = 0; k < SFRI_N_PASSES; k++) {
            sum += ms[k];
            total[k] += ms[k];
        }
        fprintf(stderr, "%5d %-8s %-14s %-8s %9.3f %9.3f %9.3f %9.3f %9.3f\n", i, sfri_layer_kind_name(l->kind),
                shape, fusion, ms[0] * per, ms[1] * per, ms[2] * per, ms[3] * per, sum * per);
    }
    double sum = total[0] + total[1] + total[2] + total[3];
    fprintf(stderr, "%5s %-8s %-14s %-8s %9.3f %9.3f %9.3f %9.3f %9.3f\n", "", "total", "", "",
            total[0] * per, total[1] * per, total[2] * per, total[3] * per, sum * per);
}
