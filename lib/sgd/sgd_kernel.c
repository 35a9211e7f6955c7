/*
 * The SGD update kernel. Each branch is a flat loop over independent
 * elements, so the compiler vectorizes it and OpenMP splits it for large
 * parameter counts; the branches are chosen once per call, not per element.
 */
#include "sgd.h"

void sfri_sgd_update(float *restrict param, const float *restrict grad, float *restrict buf,
                     int64_t count, float lr, float momentum, float weight_decay, int nesterov,
                     int first)
{
    if (momentum == 0.0f) {
#pragma omp parallel for simd schedule(static) if (count >= SFRI_SGD_PARALLEL_MIN)
        for (int64_t i = 0; i < count; i++) {
            float g = grad[i] + weight_decay * param[i];
            param[i] -= lr * g;
        }
        return;
    }
    /* PyTorch starts the buffer as a copy of the first gradient, not as
     * momentum * 0 + g, which also keeps an uninitialised buffer unread. */
    if (first) {
#pragma omp parallel for simd schedule(static) if (count >= SFRI_SGD_PARALLEL_MIN)
        for (int64_t i = 0; i < count; i++) {
            float g = grad[i] + weight_decay * param[i];
            buf[i] = g;
            param[i] -= lr * (nesterov ? g + momentum * g : g);
        }
        return;
    }
#pragma omp parallel for simd schedule(static) if (count >= SFRI_SGD_PARALLEL_MIN)
    for (int64_t i = 0; i < count; i++) {
        float g = grad[i] + weight_decay * param[i];
        float b = momentum * buf[i] + g;
        buf[i] = b;
        param[i] -= lr * (nesterov ? g + momentum * b : b);
    }
}
