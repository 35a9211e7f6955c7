/*
 * The weight layout copies of a step, all at once. A net has three per
 * convolution or inner product (flat -> forward layout, flat -> backward-data
 * layout, weight gradient -> flat), each a tiny reorder; run one by one,
 * each would cost an OpenMP fork-join of its own, which dominates its time
 * and, on a machine whose cores are shared, waits for a descheduled thread.
 * Here the layers are spread over the threads instead: oneDNN does not nest
 * its parallelism, so each reorder runs on the thread that calls it, on that
 * thread's own stream.
 */
#include <omp.h>

#include "net_impl.h"

sfr_status sfri_net_make_streams(sfr_net *net, const char *func)
{
    int n = omp_get_max_threads();
    if (net->streams != NULL && net->n_streams >= n)
        return SFR_OK;
    sfri_net_free_streams(net);
    net->streams = sfri_calloc((size_t)n, sizeof *net->streams);
    if (net->streams == NULL)
        return sfri_fail(SFR_ERR_NOMEM, func, "out of memory");
    for (int i = 0; i < n; i++) {
        dnnl_status_t st = dnnl_stream_create(&net->streams[i], net->engine, dnnl_stream_default_flags);
        if (st != dnnl_success) {
            net->n_streams = i;
            sfri_net_free_streams(net);
            return sfri_dnnl_fail(st, func, "stream creation");
        }
    }
    net->n_streams = n;
    return SFR_OK;
}

void sfri_net_free_streams(sfr_net *net)
{
    for (int i = 0; i < net->n_streams; i++)
        dnnl_stream_destroy(net->streams[i]);
    sfri_free(net->streams);
    net->streams = NULL;
    net->n_streams = 0;
}

sfr_status sfri_net_weight_reorders(sfr_net *net, int to_flat, int with_bwd, const char *func)
{
    sfr_status failed = SFR_OK;
    int n = net->n_layers, threads = omp_get_max_threads();
    if (threads > net->n_streams)
        threads = net->n_streams;
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (int i = 0; i < n; i++) {
        struct sfri_layer *l = net->layers[i];
        dnnl_stream_t stream = net->streams[omp_get_thread_num()];
        sfr_status st = to_flat ? sfri_net_run_on(net, stream, &l->dw_out, func)
                                : sfri_net_run_on(net, stream, &l->w_in, func);
        if (st == SFR_OK && !to_flat && with_bwd)
            st = sfri_net_run_on(net, stream, &l->w_in_bwd, func);
        if (st == SFR_OK)
            st = dnnl_stream_wait(stream) == dnnl_success ? SFR_OK : SFR_ERR_BACKEND;
        if (st != SFR_OK) {
#pragma omp atomic write
            failed = st;
        }
    }
    /* The worker's message stayed on its thread: say it on the caller's. */
    return failed == SFR_OK ? SFR_OK
                            : sfri_fail(failed, func, "oneDNN failed to copy weights between layouts");
}
