/* Reference adaptive average pooling and normalization (SFR.md 2, 3). */
#include "ref.h"

static int64_t lo(int64_t i, int64_t len, int64_t cells)
{
    return (i * len) / cells;
}

static int64_t hi(int64_t i, int64_t len, int64_t cells)
{
    return ((i + 1) * len + cells - 1) / cells;
}

void sfri_ref_pool(const double *in, int64_t c, int64_t h, int64_t w, int64_t gh, int64_t gw,
                   double *out)
{
    for (int64_t i = 0; i < gh; i++)
        for (int64_t j = 0; j < gw; j++)
            for (int64_t ch = 0; ch < c; ch++) {
                double s = 0;
                int64_t cnt = 0;
                for (int64_t y = lo(i, h, gh); y < hi(i, h, gh); y++)
                    for (int64_t x = lo(j, w, gw); x < hi(j, w, gw); x++, cnt++)
                        s += in[(ch * h + y) * w + x];
                out[(i * gw + j) * c + ch] = s / (double)cnt;
            }
}

void sfri_ref_pool_backward(const double *dout, int64_t c, int64_t h, int64_t w, int64_t gh,
                            int64_t gw, double *din)
{
    for (int64_t i = 0; i < gh; i++)
        for (int64_t j = 0; j < gw; j++)
            for (int64_t ch = 0; ch < c; ch++) {
                double size = (double)((hi(i, h, gh) - lo(i, h, gh)) * (hi(j, w, gw) - lo(j, w, gw)));
                for (int64_t y = lo(i, h, gh); y < hi(i, h, gh); y++)
                    for (int64_t x = lo(j, w, gw); x < hi(j, w, gw); x++)
                        din[(ch * h + y) * w + x] += dout[(i * gw + j) * c + ch] / size;
            }
}
