/*
 * The net's section of a training-state checkpoint (tag "NET ";
 * docs/checkpoint-format.md):
 *
 *   version 1: u64 dropout seed, u64 training forwards since it,
 *              then the net's version-1 checkpoint (what sfr_net_save writes)
 *   version 0: the version-1 checkpoint alone, as a file sfr_net_save wrote
 *              (checkpoint.c presents such a file as this section); the
 *              dropout counters are left as they are
 *
 * The counters make a resumed run draw the dropout masks an uninterrupted
 * run would have drawn.
 */
#include "../checkpoint/section.h"
#include "../common/common.h"
#include "checkpoint.h"
#include "net_impl.h"

struct pending {
    const unsigned char *ckpt;  /* the section's checkpoint bytes: the caller's buffer */
    float *new_state;
    int counters;               /* whether the next two are set */
    uint64_t dropout_seed, dropout_forwards;
};

int64_t sfri_net_section_params(const void *net)
{
    return ((const sfr_net *)net)->n_params;
}

static sfr_status check(const void *obj, const char *fn)
{
    return sfri_net_check_values(obj, fn);
}

static void write_section(const void *obj, struct sfri_writer *w)
{
    const sfr_net *net = obj;
    sfri_put_u64(w, net->dropout_seed);
    sfri_put_u64(w, net->dropout_forwards);
    if (w->p != NULL)
        sfri_net_checkpoint_encode(net, w->p + w->size);
    w->size += sfri_net_checkpoint_size(net);
}

static sfr_status prepare(const void *obj, const struct sfri_section *s, int64_t net_params,
                          void **out, const char *fn)
{
    (void)net_params;
    struct pending p = {0};
    struct sfri_reader r = {s->payload, s->size};
    if (s->version == 1) {
        if (!sfri_get_u64(&r, &p.dropout_seed) || !sfri_get_u64(&r, &p.dropout_forwards))
            return sfri_fail(SFR_ERR_FORMAT, fn, "the net section is truncated");
        p.counters = 1;
    }
    p.ckpt = r.p;
    sfr_status st = sfri_net_checkpoint_prepare(obj, r.p, r.left, &p.new_state, fn);
    if (st != SFR_OK)
        return st;
    struct pending *q = sfri_malloc(sizeof *q);
    if (q == NULL) {
        sfri_free(p.new_state);
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    }
    *q = p;
    *out = q;
    return SFR_OK;
}

static void discard(void *pending)
{
    struct pending *p = pending;
    sfri_free(p->new_state);
    sfri_free(p);
}

static void apply(void *obj, void *pending)
{
    sfr_net *net = obj;
    struct pending *p = pending;
    sfri_net_checkpoint_commit(net, p->ckpt, p->new_state);
    if (p->counters) {
        net->dropout_seed = p->dropout_seed;
        net->dropout_forwards = p->dropout_forwards;
    }
    sfri_free(p);
}

const struct sfri_section_ops sfri_net_section = {
    .tag = {'N', 'E', 'T', ' '},
    .version = 1,
    .what = "net",
    .magic = SFRI_MAGIC_NET,
    .check = check,
    .write = write_section,
    .prepare = prepare,
    .apply = apply,
    .discard = discard,
};
