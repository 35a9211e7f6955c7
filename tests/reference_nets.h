/*
 * The reference networks of NETWORKS.md and docs/fmnist-mobilenet.md,
 * built through the public builder, for tests, benchmarks and examples. Not a test suite.
 */
#ifndef SFR_TESTS_REFERENCE_NETS_H
#define SFR_TESTS_REFERENCE_NETS_H

#include "sfr/sfr.h"

/* Layer ids of the stage outputs: [0] the stem, [1..4] stage1..stage4. */
#define SFR_REF_STAGES 5

/*
 * BasicBlock(in_c -> out_c, stride) on layer in: conv3x3 - BN - ReLU -
 * conv3x3 - BN, plus the shortcut (identity, or conv1x1 - BN when the
 * shape changes), then ReLU. *out is the final ReLU's id.
 */
sfr_status sfr_ref_basic_block(sfr_net *net, int in, int in_c, int out_c, int stride, int *out);

/* fmnist-resnet: 1x28x28 input, 10 classes. stages may be NULL. */
sfr_status sfr_ref_fmnist_resnet(sfr_net *net, int stages[SFR_REF_STAGES]);

/*
 * The side branches of examples/train_fmnist.c on stages 1-3 (index 0-2):
 * an adapter (avgpool to about 4 x 4 - conv1x1 to 128 - BN) and a head
 * (avgpool to about 7 x 7 - conv1x1 to head_width - BN - ReLU - global
 * avgpool - linear to 10), where asked for.
 */
struct sfr_ref_branches {
    int adapters[3], heads[3];
    int head_width;
};

/*
 * fmnist-resnet with those branches, built before the classifier. students[s]
 * receives what stage s+1's pair reads (its adapter, or the stage), heads[s]
 * the head's logits or -1.
 */
sfr_status sfr_ref_fmnist_resnet_branched(sfr_net *net, const struct sfr_ref_branches *br,
                                          int stages[SFR_REF_STAGES], int students[3],
                                          int heads[3]);

/*
 * fmnist-mobilenet (docs/fmnist-mobilenet.md): 1x28x28 input, 10 classes,
 * MobileNetV3-style inverted residual blocks with depthwise convolutions,
 * squeeze-and-excitation and hard-swish, dropout before the classifier.
 * stages: the stem, blocks 1, 3, 5 and the last 1x1 convolution. stages may
 * be NULL.
 */
sfr_status sfr_ref_fmnist_mobilenet(sfr_net *net, double dropout, int stages[SFR_REF_STAGES]);

/* cifar-resnet18: 3x32x32 input, 100 classes. stages may be NULL. */
sfr_status sfr_ref_cifar_resnet18(sfr_net *net, int stages[SFR_REF_STAGES]);

#endif /* SFR_TESTS_REFERENCE_NETS_H */
