/*
 * Progress reporting for the example trainers: on a terminal a live bar
 * redrawn in place, otherwise one plain line every few seconds (logs, CI).
 */
#ifndef EXAMPLES_PROGRESS_H
#define EXAMPLES_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct progress {
    FILE *out;
    int live;            /* redraw in place (a terminal) */
    double start;        /* seconds, monotonic */
    double last_print;   /* seconds, monotonic */
    int64_t total;       /* batches in the epoch */
    int epoch, epochs;
} progress;

/* Seconds on a monotonic clock. */
double progress_now(void);

void progress_begin(progress *p, FILE *out, int epoch, int epochs, int64_t total_batches);

/*
 * Reports that done batches are finished; status is a short text of the
 * running losses. Prints at most 10 times a second on a terminal and every
 * 5 seconds otherwise.
 */
void progress_update(progress *p, int64_t done, int64_t images, const char *status);

/* Ends the live line so that the next output starts on a fresh line. */
void progress_end(progress *p);

#endif /* EXAMPLES_PROGRESS_H */
