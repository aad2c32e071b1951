// CTorch: a small C API over libtorch (ATen + autograd).
//
// Tensors are opaque handles owning one at::Tensor each; free them with vt_free.
// No C++ exception ever crosses this boundary: every entry point catches c10::Error and
// std::exception and stores the message in a thread-local slot. Functions returning a handle
// return NULL on error; functions returning int return 0 on success and 1 on error. Either
// way the message is read with vt_last_error() on the same thread.
#ifndef CTORCH_H
#define CTORCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vt_tensor_opaque *vt_tensor;
typedef struct vt_guard_opaque *vt_guard;

/// A scalar argument: kind 0 = floating (f), 1 = integral (i), 2 = boolean (i != 0).
typedef struct {
  double f;
  int64_t i;
  int32_t kind;
} vt_scalar;

/// Values equal c10::ScalarType's, which are stable across libtorch versions.
enum {
  VT_UINT8 = 0, VT_INT8 = 1, VT_INT16 = 2, VT_INT32 = 3, VT_INT64 = 4, VT_FLOAT16 = 5,
  VT_FLOAT32 = 6, VT_FLOAT64 = 7, VT_BOOL = 11, VT_BFLOAT16 = 15
};
enum { VT_CPU = 0, VT_CUDA = 1 };

// MARK: errors, runtime
const char *vt_last_error(void);
void vt_clear_error(void);
const char *vt_version(void);
void vt_free(vt_tensor t);
void vt_free_list(vt_tensor *list);
int vt_manual_seed(uint64_t seed);
int vt_set_num_threads(int32_t n);
int32_t vt_get_num_threads(void);
int vt_set_num_interop_threads(int32_t n);
/// Sets OpenBLAS's own thread count when libtorch's BLAS is OpenBLAS; returns 0 if absent.
int32_t vt_set_blas_threads(int32_t n);
/// OpenBLAS's thread count; -1 if libtorch's BLAS is not OpenBLAS.
int32_t vt_get_blas_threads(void);
/// Flush denormal floats to zero on this thread (and threads it creates later); returns whether
/// the CPU supports it.
bool vt_set_flush_denormal(bool on);
/// glibc's malloc: serve blocks up to `mmap_threshold` bytes (every block with `heap_only`) from
/// the heap rather than from fresh mappings, and return freed heap to the system only beyond
/// `trim_threshold` bytes. Returns false where the C library is not glibc or refuses a value.
bool vt_set_heap_thresholds(int32_t mmap_threshold, int32_t trim_threshold, bool heap_only);
bool vt_cuda_is_available(void);
int32_t vt_cuda_device_count(void);
/// Waits for every kernel queued on GPU `index` (torch.cuda.synchronize); 0 on success, 1 on error.
int vt_cuda_synchronize(int32_t index);

// MARK: creation
vt_tensor vt_empty(const int64_t *shape, size_t ndim, int32_t dtype, int32_t device, int32_t index);
vt_tensor vt_zeros(const int64_t *shape, size_t ndim, int32_t dtype, int32_t device, int32_t index);
vt_tensor vt_ones(const int64_t *shape, size_t ndim, int32_t dtype, int32_t device, int32_t index);
vt_tensor vt_full(const int64_t *shape, size_t ndim, vt_scalar value, int32_t dtype, int32_t device, int32_t index);
vt_tensor vt_arange(vt_scalar start, vt_scalar end, vt_scalar step, int32_t dtype, int32_t device, int32_t index);
vt_tensor vt_randn(const int64_t *shape, size_t ndim, int32_t dtype, int32_t device, int32_t index);
vt_tensor vt_rand(const int64_t *shape, size_t ndim, int32_t dtype, int32_t device, int32_t index);
vt_tensor vt_randint(int64_t low, int64_t high, const int64_t *shape, size_t ndim, int32_t dtype, int32_t device, int32_t index);
/// Copies `nbytes` from `data` into a new CPU tensor of the given shape and dtype.
vt_tensor vt_from_data(const void *data, size_t nbytes, const int64_t *shape, size_t ndim, int32_t dtype);
/// A tensor over `data` without copying it: valid only while `data` is (the caller's promise),
/// and never written to.
vt_tensor vt_from_blob(const void *data, const int64_t *shape, size_t ndim, int32_t dtype);
vt_tensor vt_scalar_tensor(vt_scalar value, int32_t dtype);

// MARK: properties
int64_t vt_dim(vt_tensor t);
int vt_shape(vt_tensor t, int64_t *out, size_t cap);
int vt_strides(vt_tensor t, int64_t *out, size_t cap);
int32_t vt_dtype(vt_tensor t);
int32_t vt_device_type(vt_tensor t);
int32_t vt_device_index(vt_tensor t);
int64_t vt_numel(vt_tensor t);
bool vt_is_contiguous(vt_tensor t);
/// Copies the tensor's elements (made contiguous, moved to CPU) into `out` (`nbytes` long).
int vt_copy_to(vt_tensor t, void *out, size_t nbytes);
int vt_item(vt_tensor t, double *out);
int vt_item_int(vt_tensor t, int64_t *out);
const void *vt_data_ptr(vt_tensor t);
vt_tensor vt_to(vt_tensor t, int32_t dtype, int32_t device, int32_t index, bool copy);
vt_tensor vt_contiguous(vt_tensor t);
vt_tensor vt_clone(vt_tensor t);
vt_tensor vt_shallow_copy(vt_tensor t);
int vt_describe(vt_tensor t, char *out, size_t cap);

// MARK: autograd
int vt_set_requires_grad(vt_tensor t, bool value);
bool vt_requires_grad(vt_tensor t);
bool vt_is_leaf(vt_tensor t);
/// The accumulated gradient, or NULL with no error when there is none.
vt_tensor vt_grad(vt_tensor t);
int vt_zero_grad(vt_tensor t);
int vt_set_grad(vt_tensor t, vt_tensor grad);
int vt_backward(vt_tensor t, vt_tensor grad_or_null, bool retain_graph, bool create_graph);
/// Gradients of `outputs` with respect to `inputs` (torch.autograd.grad); result has n_in entries.
int vt_autograd_grad(const vt_tensor *outputs, size_t n_out, const vt_tensor *grad_outputs,
                     const vt_tensor *inputs, size_t n_in, bool retain_graph, bool create_graph,
                     vt_tensor *result);
vt_tensor vt_detach(vt_tensor t);
/// Points `t` at `source`'s storage (Tensor.set_data), keeping `t`'s identity: how a module moves devices.
int vt_set_data(vt_tensor t, vt_tensor source);
bool vt_grad_enabled(void);
void vt_set_grad_enabled(bool enabled);
vt_guard vt_inference_mode_enter(void);
void vt_inference_mode_exit(vt_guard g);

// MARK: activation checkpointing
/// A caller's block for `vt_checkpoint`: takes ownership of the `n` input handles and returns a
/// malloc'ed NULL-terminated list of new output handles, or NULL after `vt_set_error`.
typedef vt_tensor *(*vt_checkpoint_body)(void *context, const vt_tensor *inputs, size_t n);
/// Runs `body` on `inputs` without keeping its activations (torch.utils.checkpoint, re-entrant):
/// during backward it runs again with gradients on, with the random generators' and autocast's
/// states of the first run, and back-propagates through that. Every tensor that needs a gradient
/// must be an input (parameters are reached directly). `release(context)` is called once the
/// autograd graph no longer needs the body, also on failure. Returns the outputs as a
/// NULL-terminated list (free with vt_free_list), or NULL on error.
vt_tensor *vt_checkpoint(vt_checkpoint_body body, void *context, void (*release)(void *context), const vt_tensor *inputs,
                         size_t n);
/// Sets this thread's error message (for callbacks reporting a failure to the shim).
void vt_set_error(const char *message);

// MARK: mixed precision (libtorch's autocast)
/// Turns autocast on for one device type (VT_CPU / VT_CUDA) with a lower-precision dtype
/// (VT_BFLOAT16, or VT_FLOAT16 on CUDA) until `vt_autocast_exit`, which restores the previous
/// setting and, leaving the outermost region, clears autocast's cache of cast weights (as
/// torch.autocast does). Thread-local, like autocast itself.
vt_guard vt_autocast_enter(int32_t device_type, int32_t dtype);
void vt_autocast_exit(vt_guard g);
/// Whether autocast is on for the device type on this thread.
bool vt_autocast_enabled(int32_t device_type);

// MARK: elementwise
/// The operations of `vt_binary` / `vt_binary_scalar` (tensor (op) tensor, tensor (op) scalar).
/// With a scalar, MAXIMUM / MINIMUM are clamp_min / clamp_max and LOGICAL_AND, LOGICAL_OR,
/// ATAN2 are not available. `vt_scalar_binary` (scalar (op) tensor) takes SUB, DIV and POW.
typedef enum vt_binary_op {
  VT_BINARY_ADD = 0,
  VT_BINARY_SUB = 1,
  VT_BINARY_MUL = 2,
  VT_BINARY_DIV = 3,
  VT_BINARY_POW = 4,
  VT_BINARY_REMAINDER = 5,
  VT_BINARY_MAXIMUM = 6,
  VT_BINARY_MINIMUM = 7,
  VT_BINARY_EQ = 8,
  VT_BINARY_NE = 9,
  VT_BINARY_LT = 10,
  VT_BINARY_LE = 11,
  VT_BINARY_GT = 12,
  VT_BINARY_GE = 13,
  VT_BINARY_LOGICAL_AND = 14,
  VT_BINARY_LOGICAL_OR = 15,
  VT_BINARY_ATAN2 = 16,
  VT_BINARY_FLOOR_DIVIDE = 17,
} vt_binary_op;

/// The operations of `vt_unary`.
typedef enum vt_unary_op {
  VT_UNARY_NEG = 0,
  VT_UNARY_EXP = 1,
  VT_UNARY_LOG = 2,
  VT_UNARY_SQRT = 3,
  VT_UNARY_RSQRT = 4,
  VT_UNARY_ABS = 5,
  VT_UNARY_TANH = 6,
  VT_UNARY_SIGMOID = 7,
  VT_UNARY_RELU = 8,
  VT_UNARY_SILU = 9,
  VT_UNARY_SIN = 10,
  VT_UNARY_COS = 11,
  VT_UNARY_FLOOR = 12,
  VT_UNARY_CEIL = 13,
  VT_UNARY_ROUND = 14,
  VT_UNARY_SIGN = 15,
  VT_UNARY_LOGICAL_NOT = 16,
  VT_UNARY_ISNAN = 17,
  VT_UNARY_ISFINITE = 18,
  VT_UNARY_SQUARE = 19,
  VT_UNARY_LOG1P = 20,
  VT_UNARY_EXPM1 = 21,
  VT_UNARY_RECIPROCAL = 22,
  VT_UNARY_ERF = 23,
  VT_UNARY_ISINF = 24,
} vt_unary_op;

/// The operations of `vt_inplace_binary` (all) and `vt_inplace_binary_scalar` (all but COPY).
typedef enum vt_inplace_op {
  VT_INPLACE_ADD = 0,
  VT_INPLACE_SUB = 1,
  VT_INPLACE_MUL = 2,
  VT_INPLACE_DIV = 3,
  VT_INPLACE_COPY = 8,
} vt_inplace_op;

/// An op outside its set (a code no enumerator names) fails with an error, as any bad argument does.
vt_tensor vt_binary(vt_binary_op op, vt_tensor a, vt_tensor b);
vt_tensor vt_binary_scalar(vt_binary_op op, vt_tensor a, vt_scalar b);
/// scalar (op) tensor, for non-commutative ops: SUB, DIV, POW.
vt_tensor vt_scalar_binary(vt_binary_op op, vt_scalar a, vt_tensor b);
vt_tensor vt_unary(vt_unary_op op, vt_tensor a);
vt_tensor vt_clamp(vt_tensor a, double min, bool has_min, double max, bool has_max);
vt_tensor vt_where(vt_tensor cond, vt_tensor a, vt_tensor b);
vt_tensor vt_masked_fill(vt_tensor a, vt_tensor mask, vt_scalar value);
vt_tensor vt_lerp(vt_tensor a, vt_tensor b, double weight);

// MARK: in-place (for optimizers); each returns 0/1
/// a (op)= b; `alpha` scales b for ADD / SUB.
int vt_inplace_binary(vt_inplace_op op, vt_tensor a, vt_tensor b, double alpha);
int vt_inplace_binary_scalar(vt_inplace_op op, vt_tensor a, vt_scalar b);
int vt_addcmul_(vt_tensor a, vt_tensor b, vt_tensor c, double value);
int vt_addcdiv_(vt_tensor a, vt_tensor b, vt_tensor c, double value);
int vt_lerp_(vt_tensor a, vt_tensor b, double weight);
int vt_zero_(vt_tensor a);
int vt_fill_(vt_tensor a, vt_scalar value);
int vt_clamp_(vt_tensor a, double min, bool has_min, double max, bool has_max);
int vt_sqrt_(vt_tensor a);
/// One AdamW step over n parameters at once with libtorch's multi-tensor (`_foreach_`) kernels,
/// as torch.optim.AdamW(foreach=True) does on a GPU: a handful of launches for all parameters
/// instead of several per parameter. decay is lr·λ; c1, c2 the bias corrections 1 − βᵗ.
int vt_adamw_foreach_step(const vt_tensor *params, const vt_tensor *grads, const vt_tensor *first_moments,
                          const vt_tensor *second_moments, size_t n, double lr, double decay, double beta1,
                          double beta2, double eps, double c1, double c2);

// MARK: linear algebra
vt_tensor vt_matmul(vt_tensor a, vt_tensor b);
vt_tensor vt_bmm(vt_tensor a, vt_tensor b);

// MARK: reductions; `dims == NULL` (ndim 0) reduces over all dimensions
vt_tensor vt_sum(vt_tensor a, const int64_t *dims, size_t ndim, bool keepdim);
vt_tensor vt_mean(vt_tensor a, const int64_t *dims, size_t ndim, bool keepdim);
vt_tensor vt_prod(vt_tensor a, int64_t dim, bool has_dim, bool keepdim);
vt_tensor vt_amax(vt_tensor a, const int64_t *dims, size_t ndim, bool keepdim);
vt_tensor vt_amin(vt_tensor a, const int64_t *dims, size_t ndim, bool keepdim);
/// Max/min along a dimension: writes values and indices.
int vt_max_dim(vt_tensor a, int64_t dim, bool keepdim, vt_tensor *values, vt_tensor *indices);
int vt_min_dim(vt_tensor a, int64_t dim, bool keepdim, vt_tensor *values, vt_tensor *indices);
vt_tensor vt_argmax(vt_tensor a, int64_t dim, bool has_dim, bool keepdim);
vt_tensor vt_argmin(vt_tensor a, int64_t dim, bool has_dim, bool keepdim);
vt_tensor vt_logsumexp(vt_tensor a, const int64_t *dims, size_t ndim, bool keepdim);
vt_tensor vt_norm(vt_tensor a, double p, const int64_t *dims, size_t ndim, bool keepdim);
vt_tensor vt_var(vt_tensor a, const int64_t *dims, size_t ndim, bool unbiased, bool keepdim);
vt_tensor vt_cumsum(vt_tensor a, int64_t dim);
vt_tensor vt_any(vt_tensor a);
vt_tensor vt_all(vt_tensor a);

// MARK: shape
vt_tensor vt_reshape(vt_tensor a, const int64_t *shape, size_t ndim);
vt_tensor vt_permute(vt_tensor a, const int64_t *dims, size_t ndim);
vt_tensor vt_transpose(vt_tensor a, int64_t d0, int64_t d1);
vt_tensor vt_squeeze(vt_tensor a, int64_t dim, bool has_dim);
vt_tensor vt_unsqueeze(vt_tensor a, int64_t dim);
vt_tensor vt_expand(vt_tensor a, const int64_t *shape, size_t ndim);
vt_tensor vt_repeat(vt_tensor a, const int64_t *repeats, size_t ndim);
vt_tensor vt_flatten(vt_tensor a, int64_t start, int64_t end);
vt_tensor vt_flip(vt_tensor a, const int64_t *dims, size_t ndim);
vt_tensor vt_cat(const vt_tensor *ts, size_t n, int64_t dim);
vt_tensor vt_stack(const vt_tensor *ts, size_t n, int64_t dim);
/// Splits into pieces; the NULL-terminated result list is freed with vt_free_list after the
/// handles have been taken over (or freed).
int vt_split(vt_tensor a, const int64_t *sizes, size_t nsizes, int64_t dim, vt_tensor **out, size_t *n);
int vt_chunk(vt_tensor a, int64_t chunks, int64_t dim, vt_tensor **out, size_t *n);
vt_tensor vt_narrow(vt_tensor a, int64_t dim, int64_t start, int64_t length);
vt_tensor vt_slice(vt_tensor a, int64_t dim, int64_t start, int64_t end, int64_t step);
vt_tensor vt_select(vt_tensor a, int64_t dim, int64_t index);
vt_tensor vt_index_select(vt_tensor a, int64_t dim, vt_tensor index);
vt_tensor vt_gather(vt_tensor a, int64_t dim, vt_tensor index);
/// reduce: 0 replace, 1 add
vt_tensor vt_scatter(vt_tensor a, int64_t dim, vt_tensor index, vt_tensor src, int32_t reduce);
vt_tensor vt_masked_select(vt_tensor a, vt_tensor mask);
/// a[mask] = value style boolean/integer indexing along dim 0 with a tensor index.
vt_tensor vt_index(vt_tensor a, vt_tensor index);
vt_tensor vt_index_put(vt_tensor a, vt_tensor index, vt_tensor values, bool accumulate);
vt_tensor vt_as_strided(vt_tensor a, const int64_t *size, const int64_t *stride, size_t ndim, int64_t offset);
vt_tensor vt_tril(vt_tensor a, int64_t diagonal);
vt_tensor vt_triu(vt_tensor a, int64_t diagonal);
vt_tensor vt_nonzero(vt_tensor a);
vt_tensor vt_one_hot(vt_tensor a, int64_t classes);

// MARK: sorting and sampling
int vt_topk(vt_tensor a, int64_t k, int64_t dim, bool largest, bool sorted, vt_tensor *values, vt_tensor *indices);
int vt_sort(vt_tensor a, int64_t dim, bool descending, vt_tensor *values, vt_tensor *indices);
vt_tensor vt_argsort(vt_tensor a, int64_t dim, bool descending);
vt_tensor vt_multinomial(vt_tensor probs, int64_t n, bool replacement);

// MARK: neural-network functions
vt_tensor vt_linear(vt_tensor x, vt_tensor w, vt_tensor b_or_null);
/// approximate: 0 exact (erf), 1 tanh
vt_tensor vt_gelu(vt_tensor x, int32_t approximate);
vt_tensor vt_softmax(vt_tensor x, int64_t dim);
vt_tensor vt_log_softmax(vt_tensor x, int64_t dim);
vt_tensor vt_layer_norm(vt_tensor x, const int64_t *shape, size_t ndim, vt_tensor w_or_null, vt_tensor b_or_null, double eps);
vt_tensor vt_dropout(vt_tensor x, double p, bool train);
vt_tensor vt_embedding(vt_tensor weight, vt_tensor indices, int64_t padding_idx);
vt_tensor vt_conv2d(vt_tensor x, vt_tensor w, vt_tensor b_or_null, const int64_t *stride,
                    const int64_t *padding, const int64_t *dilation, int64_t groups);
vt_tensor vt_batch_norm(vt_tensor x, vt_tensor w_or_null, vt_tensor b_or_null, vt_tensor mean,
                        vt_tensor var, bool training, double momentum, double eps);
vt_tensor vt_adaptive_avg_pool2d(vt_tensor x, int64_t h, int64_t w);
vt_tensor vt_max_pool2d(vt_tensor x, int64_t kernel, int64_t stride, int64_t padding);
/// Average pooling over kernel × kernel windows (no padding, floor mode, as nn.AvgPool2d(kernel, stride)).
vt_tensor vt_avg_pool2d(vt_tensor x, int64_t kernel, int64_t stride);
vt_tensor vt_interpolate_bicubic(vt_tensor x, int64_t h, int64_t w, bool align_corners);
vt_tensor vt_pad(vt_tensor x, const int64_t *pads, size_t npads, double value);
/// Scaled dot-product attention over [..., L, E] queries and [..., S, E] keys/values.
/// `mask_or_null` is boolean (true = attend) or additive float, broadcastable to [..., L, S].
/// When `weights_out` is non-NULL the attention weights are returned there too.
vt_tensor vt_scaled_dot_product_attention(vt_tensor q, vt_tensor k, vt_tensor v, vt_tensor mask_or_null,
                                          double dropout_p, bool is_causal, bool train, vt_tensor *weights_out);
/// reduction: 0 none, 1 mean, 2 sum. Targets are class indices (int64) or probabilities (float).
vt_tensor vt_cross_entropy(vt_tensor logits, vt_tensor target, vt_tensor weight_or_null,
                           int32_t reduction, int64_t ignore_index, double label_smoothing);
vt_tensor vt_binary_cross_entropy_with_logits(vt_tensor logits, vt_tensor target, vt_tensor weight_or_null,
                                              vt_tensor pos_weight_or_null, int32_t reduction);
vt_tensor vt_mse_loss(vt_tensor a, vt_tensor b, int32_t reduction);
vt_tensor vt_normalize(vt_tensor x, double p, int64_t dim, double eps);
vt_tensor vt_cosine_similarity(vt_tensor a, vt_tensor b, int64_t dim, double eps);

// MARK: serialization
typedef struct vt_archive_opaque *vt_archive;
/// Opens a zip-format PyTorch file (torch.save since 1.6) with libtorch's PyTorchStreamReader.
vt_archive vt_archive_open(const char *path);
void vt_archive_close(vt_archive archive);
/// Copies record `name` (e.g. "data.pkl", "data/0"; the archive's top folder is implied) into a
/// malloc'ed buffer the caller frees with free().
int vt_archive_read(vt_archive archive, const char *name, void **data, size_t *size);
/// 1 if the archive has record `name`, 0 if not, -1 on error.
int vt_archive_has_record(vt_archive archive, const char *name);
/// The parameters and buffers of the TorchScript archive at `path` (torch.jit.save), loaded on the
/// CPU by torch::jit::load: `*count` dotted names (a NULL-terminated list freed with
/// vt_free_names) and as many tensors (freed with vt_free_list), detached.
int vt_torchscript_state(const char *path, char ***names, vt_tensor **tensors, size_t *count);
void vt_free_names(char **names);

// MARK: distributed (c10d)
typedef struct vt_process_group_opaque *vt_process_group;
/// Whether the shim was compiled with the NCCL backend (VLP_WITH_NCCL, against a CUDA libtorch).
bool vt_nccl_is_compiled(void);
/// A process group rendezvousing through a TCPStore at master_addr:port (rank 0 serves it).
/// backend: 0 Gloo, 1 NCCL (device_index: this rank's GPU, made current; ignored by Gloo).
/// Fails with a message when the other ranks do not arrive within timeout_ms.
vt_process_group vt_process_group_new(int32_t backend, const char *master_addr, int32_t port, int32_t rank,
                                      int32_t world_size, int32_t device_index, int64_t timeout_ms);
void vt_process_group_free(vt_process_group group);
/// op: 0 sum, 1 average (sum divided by the world size), 2 max, 3 min. In place.
int vt_all_reduce(vt_process_group group, vt_tensor t, int32_t op, int64_t timeout_ms);
/// Every rank's tensor (equal shapes) concatenated along dimension 0, in rank order.
vt_tensor vt_all_gather(vt_process_group group, vt_tensor t, int64_t timeout_ms);
/// The same, recorded by autograd: the backward all-reduces (sums) the gradient and keeps this
/// rank's slice.
vt_tensor vt_all_gather_with_grad(vt_process_group group, vt_tensor t, int64_t timeout_ms);
int vt_broadcast(vt_process_group group, vt_tensor t, int32_t root, int64_t timeout_ms);
int vt_barrier(vt_process_group group, int64_t timeout_ms);
/// Overwrites every tensor with rank root's, flattening those of one dtype into one broadcast.
int vt_broadcast_coalesced(vt_process_group group, const vt_tensor *ts, size_t n, int32_t root, int64_t timeout_ms);

/// Data-parallel gradient averaging: bucketed all-reduces of the parameters' gradients, started
/// from AccumulateGrad post-hooks during backward when overlap is on (see Distributed.cpp).
typedef struct vt_reducer_opaque *vt_reducer;
vt_reducer vt_reducer_new(vt_process_group group, const vt_tensor *params, size_t n, int64_t bucket_cap_bytes,
                          int32_t overlap, int64_t timeout_ms);
void vt_reducer_free(vt_reducer reducer);
/// Whether the hooks start bucket all-reduces during backward (off: everything in synchronize).
int vt_reducer_set_overlap(vt_reducer reducer, int32_t enabled);
/// Starts the buckets not yet started, waits, divides by the world size, writes the gradients back.
int vt_reducer_synchronize(vt_reducer reducer);
/// Buckets; buckets started during the last backward; seconds the last synchronize waited.
int vt_reducer_stats(vt_reducer reducer, int64_t *bucket_count, int64_t *launched_in_backward, double *wait_seconds);

#ifdef __cplusplus
}
#endif

#endif
