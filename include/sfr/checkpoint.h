/**
 * @file sfr/checkpoint.h
 * @brief Full training state: a net, its optimizer, its regularizer and the
 *        host's key/value metadata, saved and loaded together.
 *
 * sfr_net_save() keeps a net's parameters only; resuming from it restarts
 * the momentum buffers, the AdamW moments, the `past` label bank and the
 * host's counters. A checkpoint handle gathers the objects of one training
 * run so that a resumed run continues exactly where the saved one stopped:
 *
 *     sfr_checkpoint *ck;
 *     sfr_checkpoint_create(&ck);
 *     sfr_checkpoint_add_net(ck, net);
 *     sfr_checkpoint_add_sgd(ck, opt);
 *     sfr_checkpoint_add_reg(ck, reg);
 *     sfr_checkpoint_set_meta(ck, "epoch", "3");
 *     sfr_checkpoint_save(ck, "run.state");      // or sfr_checkpoint_save_memory()
 *     ...
 *     sfr_checkpoint_load(ck, "run.state");      // every object, or none
 *
 * The handle does not own the objects it is given: they must outlive it (or
 * stay live while it saves or loads). What a checkpoint holds of each:
 * - the net: what sfr_net_save() writes (parameters, batch norm running
 *   statistics, architecture signature) and the dropout seed and count of
 *   training forwards, so that the masks continue their sequence;
 * - an SGD or AdamW optimizer: its hyper-parameters (the learning rate a
 *   schedule set included), its step count and its buffers;
 * - a regularizer: every parameter of sfr_reg_set_param(), the progress of
 *   sfr_reg_set_progress() and the `past` bank. Its pairs and heads are the
 *   host's declarations, like the net's layers: a loaded checkpoint must
 *   have as many of each, and their weights stay as the host set them.
 *
 * The file format is described in docs/checkpoint-format.md. A load reads
 * and checks the whole checkpoint before it changes anything: on any error
 * every object, and the metadata, is as it was. A checkpoint written by
 * sfr_net_save() (any version since 0.1.0) loads into a handle holding only
 * a net.
 *
 * A handle is used by one thread at a time, and not while another thread
 * uses one of its objects.
 *
 * @since 0.2.0
 */
#ifndef SFR_CHECKPOINT_H
#define SFR_CHECKPOINT_H

#include <stddef.h>

#include "adamw.h"
#include "export.h"
#include "net.h"
#include "reg.h"
#include "sgd.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Opaque handle of a training-state checkpoint.
 * @since 0.2.0
 */
typedef struct sfr_checkpoint sfr_checkpoint;

/**
 * @brief Creates an empty checkpoint handle: no objects, no metadata.
 *
 * @param[out] out Receives the handle, to release with sfr_checkpoint_destroy().
 * @retval SFR_OK              *out holds the handle.
 * @retval SFR_ERR_INVALID_ARG out is NULL.
 * @retval SFR_ERR_NOMEM       It could not be allocated.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_create(sfr_checkpoint **out);

/**
 * @brief Releases a handle and its metadata (not the objects added to it).
 *
 * @param[in] ck The handle; NULL is a no-op.
 * @since 0.2.0
 */
SFR_API void sfr_checkpoint_destroy(sfr_checkpoint *ck);

/**
 * @brief Adds the net whose state the checkpoint saves and loads.
 *
 * @param[in,out] ck  The handle.
 * @param[in]     net A live net; a handle holds one net at most.
 * @retval SFR_OK              The net is part of the checkpoint.
 * @retval SFR_ERR_INVALID_ARG ck or net is NULL, or ck already holds a net.
 * @retval SFR_ERR_MISUSE      ck or net is not a live handle of its kind.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_add_net(sfr_checkpoint *ck, sfr_net *net);

/**
 * @brief Adds an SGD optimizer (a handle holds one optimizer at most, SGD or AdamW).
 *
 * @param[in,out] ck  The handle.
 * @param[in]     opt A live optimizer.
 * @retval SFR_OK              The optimizer is part of the checkpoint.
 * @retval SFR_ERR_INVALID_ARG ck or opt is NULL, or ck already holds an optimizer.
 * @retval SFR_ERR_MISUSE      ck or opt is not a live handle of its kind.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_add_sgd(sfr_checkpoint *ck, sfr_sgd *opt);

/**
 * @brief Adds an AdamW optimizer (a handle holds one optimizer at most, SGD or AdamW).
 *
 * @param[in,out] ck  The handle.
 * @param[in]     opt A live optimizer.
 * @retval SFR_OK              The optimizer is part of the checkpoint.
 * @retval SFR_ERR_INVALID_ARG ck or opt is NULL, or ck already holds an optimizer.
 * @retval SFR_ERR_MISUSE      ck or opt is not a live handle of its kind.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_add_adamw(sfr_checkpoint *ck, sfr_adamw *opt);

/**
 * @brief Adds the regularizer whose state the checkpoint saves and loads.
 *
 * @param[in,out] ck  The handle.
 * @param[in]     reg A live regularizer; a handle holds one at most.
 * @retval SFR_OK              The regularizer is part of the checkpoint.
 * @retval SFR_ERR_INVALID_ARG ck or reg is NULL, or ck already holds one.
 * @retval SFR_ERR_MISUSE      ck or reg is not a live handle of its kind.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_add_reg(sfr_checkpoint *ck, sfr_reg *reg);

/**
 * @brief Sets, replaces or removes one metadata entry.
 *
 * Keys are 1 to 255 bytes, values 0 to 65535 bytes, both C strings (saved
 * without their terminator); a handle holds up to 1024 entries. Entries
 * keep the order in which their keys were first set.
 *
 * @param[in,out] ck    The handle.
 * @param[in]     key   The key.
 * @param[in]     value The value, or NULL to remove the key (removing a
 *                      key that is not there is not an error).
 * @retval SFR_OK              The entry is set (or removed).
 * @retval SFR_ERR_INVALID_ARG ck or key is NULL, or a length or the entry
 *                             count is out of range.
 * @retval SFR_ERR_MISUSE      ck is not a live handle.
 * @retval SFR_ERR_NOMEM       The entry could not be stored; nothing changed.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_set_meta(sfr_checkpoint *ck, const char *key, const char *value);

/**
 * @brief Looks a metadata entry up.
 *
 * @param[in]  ck    The handle.
 * @param[in]  key   The key.
 * @param[out] value Receives the value, owned by the handle and valid until
 *                   the next set, load or destroy; NULL when there is no such key.
 * @retval SFR_OK              *value is set.
 * @retval SFR_ERR_INVALID_ARG ck, key or value is NULL.
 * @retval SFR_ERR_MISUSE      ck is not a live handle.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_get_meta(const sfr_checkpoint *ck, const char *key,
                                           const char **value);

/**
 * @brief The number of metadata entries.
 *
 * @param[in]  ck    The handle.
 * @param[out] count Receives the count.
 * @retval SFR_OK              *count is set.
 * @retval SFR_ERR_INVALID_ARG ck or count is NULL.
 * @retval SFR_ERR_MISUSE      ck is not a live handle.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_meta_count(const sfr_checkpoint *ck, int *count);

/**
 * @brief One metadata entry by position (in the order keys were first set).
 *
 * @param[in]  ck    The handle.
 * @param[in]  index 0 to sfr_checkpoint_meta_count() - 1.
 * @param[out] key   Receives the key (owned by the handle, as a value is).
 * @param[out] value Receives the value.
 * @retval SFR_OK              *key and *value are set.
 * @retval SFR_ERR_INVALID_ARG ck, key or value is NULL, or index is out of range.
 * @retval SFR_ERR_MISUSE      ck is not a live handle.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_meta_at(const sfr_checkpoint *ck, int index, const char **key,
                                          const char **value);

/**
 * @brief Saves the state of every object added, and the metadata, to a file.
 *
 * The file is replaced atomically, as by sfr_net_save(). A net, optimizer
 * buffer or `past` bank holding a NaN or an infinity is refused: every
 * checkpoint written loads.
 *
 * @param[in] ck   The handle.
 * @param[in] path The file.
 * @retval SFR_OK              The file holds the checkpoint.
 * @retval SFR_ERR_INVALID_ARG ck or path is NULL, or path is empty.
 * @retval SFR_ERR_MISUSE      ck, or an object added to it, is not live.
 * @retval SFR_ERR_NONFINITE   A value is not finite; nothing was written.
 * @retval SFR_ERR_NOMEM       No memory to encode it; nothing was written.
 * @retval SFR_ERR_IO          The file could not be written (see sfr_net_save()).
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_save(const sfr_checkpoint *ck, const char *path);

/**
 * @brief Saves the checkpoint into a host buffer (the bytes of a file).
 *
 * @param[in]  ck       The handle.
 * @param[out] buf      The buffer, or NULL to ask for the size only.
 * @param[in]  capacity Its size in bytes.
 * @param[out] size     Receives the checkpoint's size in bytes.
 * @retval SFR_OK              *size is set (and buf holds the checkpoint).
 * @retval SFR_ERR_INVALID_ARG ck or size is NULL.
 * @retval SFR_ERR_MISUSE      ck, or an object added to it, is not live.
 * @retval SFR_ERR_SHAPE       capacity is smaller than the checkpoint; nothing written.
 * @retval SFR_ERR_NONFINITE   A value is not finite; nothing written.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_save_memory(const sfr_checkpoint *ck, void *buf,
                                              size_t capacity, size_t *size);

/**
 * @brief Loads every object added, and the metadata, from a file.
 *
 * The checkpoint must hold a section for every object added (sections for
 * objects not added are skipped: a handle with only a net loads the net of
 * a full checkpoint). The metadata is replaced by the file's. Nothing
 * changes unless everything loads.
 *
 * @param[in,out] ck   The handle.
 * @param[in]     path The file (a regular file; a FIFO is not waited on).
 * @retval SFR_OK              Every object holds the saved state.
 * @retval SFR_ERR_INVALID_ARG ck or path is NULL, or path is empty.
 * @retval SFR_ERR_MISUSE      ck, or an object added to it, is not live.
 * @retval SFR_ERR_IO          The file could not be opened or read.
 * @retval SFR_ERR_FORMAT      The file is damaged, of another version, of
 *                             another net, lacks an object's state, or holds
 *                             a value out of its range; the message says which.
 * @retval SFR_ERR_NOMEM       No memory to read it.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_load(sfr_checkpoint *ck, const char *path);

/**
 * @brief Loads a checkpoint from a host buffer, as sfr_checkpoint_load() does a file.
 *
 * @param[in,out] ck   The handle.
 * @param[in]     buf  The bytes sfr_checkpoint_save_memory() (or a file) holds.
 * @param[in]     size Their count.
 * @retval SFR_OK              Every object holds the saved state.
 * @retval SFR_ERR_INVALID_ARG ck or buf is NULL.
 * @retval SFR_ERR_MISUSE      ck, or an object added to it, is not live.
 * @retval SFR_ERR_FORMAT      As for sfr_checkpoint_load().
 * @retval SFR_ERR_NOMEM       No memory for the new state.
 * @since 0.2.0
 */
SFR_API sfr_status sfr_checkpoint_load_memory(sfr_checkpoint *ck, const void *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* SFR_CHECKPOINT_H */
