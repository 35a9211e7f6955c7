/*
 * libsfr: Self-Feature Regularization for convolutional networks, in C.
 *
 * The umbrella header: include this one. It pulls in the topic headers,
 * each of which also compiles on its own, as C99 and as C++.
 *
 * Threading contract: a handle (sfr_net, sfr_tap, sfr_reg, ...) is used by
 * one thread at a time; different handles are independent and may be used
 * from different threads at once. The only state shared between handles is
 * each thread's last error message, OpenMP's thread count and the allocator
 * (sfr_set_allocator).
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

#endif /* SFR_SFR_H */
