/**
 * @file sfr/sfr.h
 * @brief The umbrella header: include this one.
 *
 * libsfr trains convolutional networks with Self-Feature Regularization
 * (docs/sfr.md). This header pulls in the topic headers, each of which also
 * compiles on its own, as C99 and as C++:
 * sfr/version.h, sfr/status.h, sfr/alloc.h, sfr/tap.h, sfr/reg.h, sfr/net.h,
 * sfr/sgd.h.
 *
 * Threading contract: a handle (::sfr_net, ::sfr_tap, ::sfr_reg, ::sfr_sgd)
 * is used by one thread at a time; different handles are independent and
 * may be used from different threads at once. The only state shared between
 * handles is each thread's last error message, OpenMP's thread count and
 * the allocator (::sfr_set_allocator; docs/threading.md).
 *
 * @since 0.1.0
 */
#ifndef SFR_SFR_H
#define SFR_SFR_H

#include "export.h"
#include "version.h"
#include "status.h"
#include "alloc.h"
#include "tap.h"
#include "reg.h"
#include "net.h"
#include "sgd.h"
#include "adamw.h"
#include "schedule.h"
#include "checkpoint.h"
#include "onnx.h"

#endif /* SFR_SFR_H */
