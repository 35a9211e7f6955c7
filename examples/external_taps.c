/*
 * SFR for a host that runs its own network (another framework, or its own
 * code): the host owns the feature maps and their gradient buffers, wraps
 * them as taps, and asks libsfr for the SFR losses and gradients. Here the
 * "network" is random data; in a real host the buffers are its activations
 * and the gradients it back-propagates.
 *
 *   external_taps [steps]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <sfr/sfr.h>

enum { N = 8, CS = 16, HS = 8, WS = 8, CT = 64, HT = 2, WT = 2, K = 10 };

/* Prints the failure and stops; a host would log it and skip the step. */
static void check(sfr_status st, const char *what)
{
    if (st != SFR_OK) {
        fprintf(stderr, "external_taps: %s: %s (%s)\n", what, sfr_status_string(st),
                sfr_last_error());
        exit(EXIT_FAILURE);
    }
}

static float uniform(unsigned *seed)
{
    *seed = *seed * 1664525u + 1013904223u;
    return (float)(*seed >> 8) / 16777216.0f;
}

/* The host's forward pass: features and logits for one step. */
static void host_forward(float *student, float *teacher, float *logits, int32_t *labels,
                         unsigned *seed)
{
    for (int i = 0; i < N * CS * HS * WS; i++)
        student[i] = uniform(seed);
    for (int i = 0; i < N * CT * HT * WT; i++)
        teacher[i] = uniform(seed);
    for (int i = 0; i < N * K; i++)
        logits[i] = 4.0f * uniform(seed) - 2.0f;
    for (int n = 0; n < N; n++)
        labels[n] = n % K;
}

int main(int argc, char **argv)
{
    int steps = argc > 1 ? atoi(argv[1]) : 2;
    /* Two sets of host buffers, as a host that allocates new tensors each step has. */
    static float student[2][N * CS * HS * WS], student_grad[2][N * CS * HS * WS];
    static float teacher[2][N * CT * HT * WT], logits[N * K], dlogits[N * K];
    int32_t labels[N];
    unsigned seed = 1;

    /* Wrap the host's buffers: the student gets a gradient buffer, the teacher
     * none (by default deep features teach and receive no SFR gradient). */
    const int64_t student_dims[4] = {N, CS, HS, WS}, teacher_dims[4] = {N, CT, HT, WT};
    sfr_tap *s_tap, *t_tap;
    check(sfr_tap_wrap(student_dims, student[0], student_grad[0], &s_tap), "wrap student");
    check(sfr_tap_wrap(teacher_dims, teacher[0], NULL, &t_tap), "wrap teacher");

    sfr_reg *reg;
    int pair;
    check(sfr_reg_create(&reg), "create regularizer");
    check(sfr_reg_set_param(reg, SFR_PARAM_LS_SCHEDULE, SFR_LS_COSINE), "set schedule");
    check(sfr_reg_add_pair(reg, s_tap, t_tap, 0.5, &pair), "add pair");

    for (int step = 0; step < steps; step++) {
        int b = step % 2;
        host_forward(student[b], teacher[b], logits, labels, &seed);
        /* The host's own backward has already put its gradient here; SFR adds to it. */
        for (int i = 0; i < N * CS * HS * WS; i++)
            student_grad[b][i] = 0.0f;
        check(sfr_tap_rebind(s_tap, student[b], student_grad[b]), "rebind student");
        check(sfr_tap_rebind(t_tap, teacher[b], NULL), "rebind teacher");

        check(sfr_reg_set_progress(reg, (double)step / steps), "set progress");
        double loss, pair_loss, label_loss, marginal_error;
        int iterations;
        check(sfr_reg_compute(reg, logits, labels, N, K, dlogits, &loss), "compute");
        check(sfr_reg_pair_loss(reg, pair, &pair_loss), "pair loss");
        check(sfr_reg_label_loss(reg, &label_loss), "label loss");
        check(sfr_reg_pair_stats(reg, pair, &iterations, &marginal_error), "pair stats");

        double grad_norm = 0;
        for (int i = 0; i < N * CS * HS * WS; i++)
            grad_norm += (double)student_grad[b][i] * student_grad[b][i];
        printf("step %d: loss %.6f (label %.6f, pair 0 %.6f), sinkhorn %d iterations "
               "(marginal error %.2e), |d student| %.6e\n",
               step, loss, label_loss, pair_loss, iterations, marginal_error, sqrt(grad_norm));
    }

    /* A bad call fails cleanly and says why. */
    sfr_status st = sfr_reg_set_param(reg, SFR_PARAM_SINKHORN_EPS, -1.0);
    printf("setting a negative sinkhorn_eps: %s: %s\n", sfr_status_string(st), sfr_last_error());

    sfr_reg_destroy(reg);
    sfr_tap_destroy(s_tap);
    sfr_tap_destroy(t_tap);
    return EXIT_SUCCESS;
}
