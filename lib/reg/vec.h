/*
 * Fixed-width vectors (GCC and Clang vector extensions) for the kernels whose
 * loops are too short or too strided for the compiler's loop vectorizer:
 * each type is one register, or a few, on any target, and the SFRI_CLONES
 * variants use the widest registers the CPU has. memcpy to and from a vector
 * is an unaligned load or store.
 */
#ifndef SFR_LIB_REG_VEC_H
#define SFR_LIB_REG_VEC_H

typedef float sfri_v4f __attribute__((vector_size(16)));
typedef float sfri_v8f __attribute__((vector_size(32)));
typedef float sfri_v16f __attribute__((vector_size(64)));
typedef double sfri_v8d __attribute__((vector_size(64)));

#endif /* SFR_LIB_REG_VEC_H */
