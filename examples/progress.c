/* Terminal progress bar or periodic plain lines, see progress.h. */
#include "progress.h"

#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_begin(progress *p, FILE *out, int epoch, int epochs, int64_t total_batches)
{
    p->out = out;
    p->live = isatty(fileno(out));
    p->start = progress_now();
    p->last_print = p->start;
    p->total = total_batches;
    p->epoch = epoch;
    p->epochs = epochs;
}

void progress_update(progress *p, int64_t done, int64_t images, const char *status)
{
    double now = progress_now();
    int last = done == p->total;
    if (!last && now - p->last_print < (p->live ? 0.1 : 5.0))
        return;
    p->last_print = now;
    double elapsed = now - p->start;
    double rate = elapsed > 0 ? (double)images / elapsed : 0.0;
    double left = done > 0 ? elapsed * (double)(p->total - done) / (double)done : 0.0;
    if (p->live) {
        char bar[BAR_WIDTH + 1];
        int filled = (int)(BAR_WIDTH * done / (p->total > 0 ? p->total : 1));
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[i] = i < filled ? '#' : '.';
        bar[BAR_WIDTH] = '\0';
        fprintf(p->out, "\r\033[Kepoch %d/%d [%s] %lld/%lld  %s  %.0f img/s  %.0fs left", p->epoch,
                p->epochs, bar, (long long)done, (long long)p->total, status, rate, left);
    } else {
        fprintf(p->out, "epoch %d/%d batch %lld/%lld  %s  %.0f img/s  %.0fs left\n", p->epoch,
                p->epochs, (long long)done, (long long)p->total, status, rate, left);
    }
    fflush(p->out);
}

void progress_end(progress *p)
{
    if (p->live)
        fputc('\n', p->out);
    fflush(p->out);
}
