/*
 * Trains a small CNN with Self-Feature Regularization on synthetic images,
 * through the C++ wrapper include/sfr/sfr.hpp.
 *
 *   train [--steps N] [--batch B] [--seed S] [--threads T]
 *
 * The data: 1 x 12 x 12 images of 4 classes; class c lights quadrant c of
 * the image (value 1) under uniform noise in [-0.5, 0.5]. The net: three
 * conv3x3-BN-ReLU stages (8 x 12 x 12, 16 x 6 x 6, 32 x 3 x 3) with 2x2 max
 * pooling between them, global average pooling and a linear layer. Stage 3
 * teaches stages 1 and 2 (two SFR pairs). It prints the loss as it trains and
 * the accuracy on a held-out batch at the end; a sfr::error stops it with
 * libsfr's status and message.
 */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <sfr/sfr.hpp>

namespace {

constexpr int side = 12;
constexpr int pixels = side * side;
constexpr int classes = 4;

struct options {
    int steps = 200;
    int batch = 32;
    unsigned seed = 1;
    int threads = 0;
};

options parse(int argc, char **argv)
{
    options o;
    for (int i = 1; i < argc; i++) {
        std::string arg = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "usage: train [--steps N] [--batch B] [--seed S] [--threads T]\n");
            std::exit(2);
        }
        long v = std::strtol(argv[++i], nullptr, 10);
        if (arg == "--steps" && v >= 1)
            o.steps = static_cast<int>(v);
        else if (arg == "--batch" && v >= 2)
            o.batch = static_cast<int>(v);
        else if (arg == "--seed" && v >= 0)
            o.seed = static_cast<unsigned>(v);
        else if (arg == "--threads" && v >= 0)
            o.threads = static_cast<int>(v);
        else {
            std::fprintf(stderr, "train: bad option %s %s\n", arg.c_str(), argv[i]);
            std::exit(2);
        }
    }
    return o;
}

/* Fills images (batch, 1, 12, 12) and labels (batch) with fresh samples. */
void make_batch(std::mt19937 &rng, std::vector<float> &images, std::vector<std::int32_t> &labels)
{
    std::uniform_real_distribution<float> noise(-0.5f, 0.5f);
    std::uniform_int_distribution<int> label(0, classes - 1);
    for (std::size_t i = 0; i < labels.size(); i++) {
        int c = label(rng);
        labels[i] = c;
        float *image = images.data() + i * pixels;
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                bool lit = (y < side / 2) == (c < 2) && (x < side / 2) == (c % 2 == 0);
                image[y * side + x] = (lit ? 1.0f : 0.0f) + noise(rng);
            }
    }
}

/* conv3x3 - BN - ReLU. */
int stage(sfr::net &net, int in, int channels)
{
    return net.relu(net.batchnorm(net.conv2d(in, channels, 3, 1, 1, false)));
}

double accuracy(const sfr::net::logits &out, const std::vector<std::int32_t> &labels)
{
    int correct = 0;
    for (std::int64_t i = 0; i < out.batch; i++) {
        const float *row = out.values.data() + i * out.classes;
        int best = 0;
        for (int k = 1; k < out.classes; k++)
            if (row[k] > row[best])
                best = k;
        correct += best == labels[static_cast<std::size_t>(i)];
    }
    return static_cast<double>(correct) / static_cast<double>(out.batch);
}

int run(const options &o)
{
    sfr::check_version();
    sfr::check(sfr_set_num_threads(o.threads));

    sfr::net net;
    int x = net.input(1, side, side);
    int s1 = stage(net, x, 8);
    int s2 = stage(net, net.maxpool(s1, 2, 2), 16);
    int s3 = stage(net, net.maxpool(s2, 2, 2), 32);
    net.linear(net.global_avgpool(s3), classes);
    net.compile(o.batch);
    net.init_params(o.seed);

    sfr::reg reg;
    reg.add_pair(net.tap(s1), net.tap(s3), 1.0);
    reg.add_pair(net.tap(s2), net.tap(s3), 1.0);
    sfr::sgd opt(0.05, 0.9, 5e-4);

    std::mt19937 rng(o.seed);
    std::vector<float> images(static_cast<std::size_t>(o.batch) * pixels); // (B, 1, 12, 12)
    std::vector<std::int32_t> labels(static_cast<std::size_t>(o.batch));  // (B)
    std::vector<float> dlogits(static_cast<std::size_t>(o.batch) * classes); // (B, 4)
    std::printf("libsfr %s from C++: %d steps of batch %d, %d parameters\n",
                sfr_version_string(), o.steps, o.batch,
                static_cast<int>(net.params().values.size()));

    const int report = o.steps < 10 ? 1 : o.steps / 10;
    double window = 0;
    for (int step = 1; step <= o.steps; step++) {
        make_batch(rng, images, labels);
        net.forward(images);
        sfr::net::logits out = net.output();
        reg.set_progress(static_cast<double>(step - 1) / o.steps);
        window += reg.compute(out.values, labels, out.batch, out.classes, dlogits);
        net.backward(dlogits);
        opt.step(net);
        if (step % report == 0) {
            std::printf("step %d: loss %.4f (label %.4f, sfr %.4f %.4f)\n", step, window / report,
                        reg.label_loss(), reg.pair_loss(0), reg.pair_loss(1));
            window = 0;
        }
    }
    make_batch(rng, images, labels);
    net.forward(images, false);
    std::printf("held-out accuracy %.4f\n", accuracy(net.output(), labels));
    return 0;
}

} // namespace

int main(int argc, char **argv)
{
    try {
        return run(parse(argc, argv));
    } catch (const sfr::error &e) {
        std::fprintf(stderr, "train: libsfr error %d: %s\n", static_cast<int>(e.status()),
                     e.what());
        return 1;
    }
}
