/*
 * Mixed precision: which precision a net computes in (sfr_net_set_precision)
 * and the bf16 copies its bf16 convolutions read. In bf16 mode a dense
 * convolution reads bf16 copies of its source, weights and output gradient
 * and accumulates in f32 (oneDNN's bf16 kernels); its output, the weight
 * gradient, batch norm, the other layers, the parameters and everything the
 * host sees stay f32.
 */
#include "../common/common.h"
#include "compile_impl.h"

/* Whether oneDNN's best ISA on this CPU has bf16 arithmetic. */
static int bf16_native(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_bf16) == dnnl_cpu_isa_avx512_core_bf16;
}

int sfri_cpu_has_amx(void)
{
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    return (isa & dnnl_cpu_isa_avx512_core_amx) == dnnl_cpu_isa_avx512_core_amx;
}

static sfr_status check_precision(int precision, const char *fn)
{
    if (precision != SFR_PRECISION_FP32 && precision != SFR_PRECISION_BF16)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "precision %d is not an sfr_precision",
                         precision);
    return SFR_OK;
}

SFR_API sfr_status sfr_precision_supported(int precision, int *supported)
{
    static const char *const fn = "sfr_precision_supported";
    sfr_status st = check_precision(precision, fn);
    if (st != SFR_OK)
        return st;
    if (supported == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "supported is NULL");
    *supported = precision == SFR_PRECISION_FP32 || bf16_native();
    return SFR_OK;
}

SFR_API sfr_status sfr_net_set_precision(sfr_net *net, int precision)
{
    static const char *const fn = "sfr_net_set_precision";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st == SFR_OK)
        st = check_precision(precision, fn);
    if (st != SFR_OK)
        return st;
    /* Emulated bf16 would be several times slower than f32: refuse it. */
    if (precision == SFR_PRECISION_BF16 && !bf16_native())
        return sfri_fail(SFR_ERR_UNSUPPORTED, fn, "this CPU lacks AVX512_BF16 (bf16 arithmetic): "
                         "oneDNN would emulate bf16, slower than f32");
    net->precision = precision;
    return SFR_OK;
}

SFR_API sfr_status sfr_net_get_precision(const sfr_net *net, int *precision)
{
    static const char *const fn = "sfr_net_get_precision";
    sfr_status st = sfri_check_handle(net, SFRI_MAGIC_NET, fn, "net");
    if (st != SFR_OK)
        return st;
    if (precision == NULL)
        return sfri_fail(SFR_ERR_INVALID_ARG, fn, "precision is NULL");
    *precision = net->precision;
    return SFR_OK;
}

sfr_status sfri_bf16_copy(sfr_net *net, struct sfri_step *step, int layer,
                          const dnnl_memory_desc_t *md, void *buf, dnnl_memory_desc_t *bf16_md,
                          void **bf16_buf, const char *fn)
{
    *bf16_md = *md;
    bf16_md->data_type = dnnl_bf16; /* strides count elements: the layout is unchanged */
    void *copy = sfri_net_buffer(net, dnnl_memory_desc_get_size(bf16_md), fn);
    if (copy == NULL)
        return SFR_ERR_NOMEM;
    *bf16_buf = copy;
    return sfri_make_reorder(net, step, layer, md, buf, bf16_md, copy, 0, NULL, fn);
}

sfr_status sfri_bf16_source(sfr_net *net, struct sfri_step *step, int layer,
                            struct sfri_layer *src, dnnl_memory_desc_t *bf16_md, void **bf16_buf,
                            const char *fn)
{
    if (src->bf16_out != NULL) {
        *bf16_md = src->md;
        bf16_md->data_type = dnnl_bf16;
        *bf16_buf = src->bf16_out;
        return SFR_OK;
    }
    sfr_status st = sfri_bf16_copy(net, step, layer, &src->md, src->out, bf16_md, bf16_buf, fn);
    if (st == SFR_OK)
        src->bf16_out = *bf16_buf;
    return st;
}
