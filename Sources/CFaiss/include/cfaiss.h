// CFaiss: a small C API over FAISS's C++ index classes.
//
// Debian's libfaiss-dev ships FAISS's own C API headers but not their implementation, so this
// shim stands in for it, shaped like CTorch: an index is an opaque handle owning one
// faiss::Index (free it with vf_index_free). No C++ exception ever crosses this boundary:
// every entry point catches it and stores the message in a thread-local slot. Functions
// returning a handle return NULL on error; functions returning int return 0 on success and 1
// on error. Either way the message is read with vf_last_error() on the same thread.
//
// Vectors are rows of `dimension` floats, row-major and contiguous; ids are the sequential
// positions FAISS assigns on add (0, 1, 2, …).
#ifndef CFAISS_H
#define CFAISS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vf_index_opaque *vf_index;

/// Values equal faiss::MetricType's.
enum { VF_METRIC_INNER_PRODUCT = 0, VF_METRIC_L2 = 1 };

// MARK: errors
/// The message of the last failed call on this thread, or NULL.
const char *vf_last_error(void);
void vf_clear_error(void);

// MARK: lifetime
/// Builds an index from an index-factory string ("Flat", "HNSW32", "IVF16,Flat", …).
vf_index vf_index_create(const char *factory, int32_t dimension, int32_t metric);
void vf_index_free(vf_index index);

// MARK: properties
int32_t vf_index_dimension(vf_index index);
int32_t vf_index_metric(vf_index index);
/// The number of vectors added (FAISS's ntotal).
int64_t vf_index_count(vf_index index);
bool vf_index_is_trained(vf_index index);

// MARK: building and searching
int vf_index_train(vf_index index, int64_t n, const float *rows);
int vf_index_add(vf_index index, int64_t n, const float *rows);
/// Writes the k best of each of the n queries into `distances` and `labels` (n × k each),
/// best first; slots past the last stored vector get label -1.
int vf_index_search(vf_index index, int64_t n, const float *queries, int64_t k, float *distances,
                    int64_t *labels);
/// Removes every vector; a trained index stays trained.
int vf_index_reset(vf_index index);
/// Sets search-time parameters by FAISS's ParameterSpace syntax, e.g. "efSearch=128" (HNSW) or
/// "nprobe=16" (IVF), comma-separated; an unknown name for this index type is an error.
int vf_index_set_parameters(vf_index index, const char *parameters);

// MARK: files
/// Writes the index to `path` and flushes it to disk (fsync) before returning.
int vf_index_write(vf_index index, const char *path);
vf_index vf_index_read(const char *path);

#ifdef __cplusplus
}
#endif

#endif  // CFAISS_H
