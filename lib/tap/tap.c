/* Taps: wrapped host buffers and the common accessors of all taps. */
#include <stdint.h>
#include <string.h>

#include "../common/common.h"
#include "tap.h"

/* Live-tap check shared by the accessors; also rejects a net tap not yet
 * given buffers by compile. */
static sfr_status check_ready(const sfr_tap *tap, const char *func)
{
    sfr_status st = sfri_check_handle(tap, SFRI_MAGIC_TAP, func, "tap");
    if (st != SFR_OK)
        return st;
    if (tap->data == NULL)
        return sfri_fail(SFR_ERR_STATE, func, "tap of layer %d has no buffers: compile the net first",
                         tap->layer);
    return SFR_OK;
}

SFR_API sfr_status sfr_tap_wrap(const int64_t dims[4], const float *data, float *grad,
                                sfr_tap **out)
{
    static const char *const fn = "sfr_tap_wrap";
    if (dims == NULL || data == NULL || out == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "%s is NULL",
                         dims == NULL ? "dims" : data == NULL ? "data" : "out");
    int64_t total = 1;
    for (int i = 0; i < 4; i++) {
        if (dims[i] < 1)
            return sfri_fail(SFR_ERR_SHAPE, fn, "dims[%d] = %lld: every dimension must be >= 1", i,
                             (long long)dims[i]);
        if (total > INT64_MAX / (int64_t)sizeof(float) / dims[i])
            return sfri_fail(SFR_ERR_SHAPE, fn, "the tensor's size overflows");
        total *= dims[i];
    }
    sfr_tap *tap = sfri_calloc(1, sizeof *tap);
    if (tap == NULL)
        return sfri_fail(SFR_ERR_NOMEM, fn, "out of memory");
    tap->magic = SFRI_MAGIC_TAP;
    memcpy(tap->dims, dims, sizeof tap->dims);
    tap->data = data;
    tap->grad = grad;
    tap->owner = NULL;
    tap->layer = -1;
    *out = tap;
    return SFR_OK;
}

SFR_API sfr_status sfr_tap_rebind(sfr_tap *tap, const float *data, float *grad)
{
    static const char *const fn = "sfr_tap_rebind";
    sfr_status st = sfri_check_handle(tap, SFRI_MAGIC_TAP, fn, "tap");
    if (st != SFR_OK)
        return st;
    if (tap->owner != NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "the tap of layer %d belongs to a net",
                         tap->layer);
    if (data == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "data is NULL");
    tap->data = data;
    tap->grad = grad;
    return SFR_OK;
}

SFR_API sfr_status sfr_tap_dims(const sfr_tap *tap, int64_t dims[4])
{
    sfr_status st = check_ready(tap, "sfr_tap_dims");
    if (st != SFR_OK)
        return st;
    if (dims == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, "sfr_tap_dims", "dims is NULL");
    memcpy(dims, tap->dims, sizeof tap->dims);
    return SFR_OK;
}

int sfri_tap_has_output(const sfr_tap *tap)
{
    return tap->data != NULL && (tap->ops == NULL || tap->ops->has_output(tap));
}

SFR_API sfr_status sfr_tap_data(const sfr_tap *tap, const float **data)
{
    static const char *const fn = "sfr_tap_data";
    sfr_status st = check_ready(tap, fn);
    if (st != SFR_OK)
        return st;
    if (data == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "data is NULL");
    /* Buffers without an output would pass for a layer's output of zeros. */
    if (!sfri_tap_has_output(tap))
        return sfri_fail(SFR_ERR_STATE, fn, "the tap of layer %d holds no output: "
                         "no forward since its net was compiled", tap->layer);
    if (tap->ops != NULL && (st = tap->ops->prepare_read((sfr_tap *)tap, fn)) != SFR_OK)
        return st;
    *data = tap->data;
    return SFR_OK;
}

SFR_API sfr_status sfr_tap_grad(sfr_tap *tap, float **grad)
{
    sfr_status st = check_ready(tap, "sfr_tap_grad");
    if (st != SFR_OK)
        return st;
    if (grad == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, "sfr_tap_grad", "grad is NULL");
    /* The host may write the gradient: from now on forward zeroes it and
     * backward adds it (until now nothing wrote it, so it is still zero). */
    tap->host_grad = 1;
    *grad = tap->grad;
    return SFR_OK;
}

SFR_API void sfr_tap_destroy(sfr_tap *tap)
{
    if (tap == NULL || tap->magic != SFRI_MAGIC_TAP || tap->owner != NULL)
        return;
    tap->magic = SFRI_MAGIC_DEAD;
    sfri_free(tap);
}

sfr_tap *sfri_tap_new_owned(struct sfr_net *net, int layer)
{
    sfr_tap *tap = sfri_calloc(1, sizeof *tap);
    if (tap == NULL)
        return NULL;
    tap->magic = SFRI_MAGIC_TAP;
    tap->owner = net;
    tap->layer = layer;
    return tap;
}

void sfri_tap_free_owned(sfr_tap *tap)
{
    if (tap == NULL)
        return;
    tap->magic = SFRI_MAGIC_DEAD;
    sfri_free(tap);
}
