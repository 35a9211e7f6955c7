/**
 * @file sfr/sfr.hpp
 * @brief C++ (C++11 or later): a header-only RAII layer over the C API of
 *        sfr/sfr.h.
 *
 * @code
 * sfr::net net;                        // sfr_net_create; destroyed with the object
 * int x = net.input(1, 28, 28);
 * ...
 * net.compile(64);
 * net.forward(images);                 // any contiguous float buffer of the right size
 * @endcode
 *
 * - Owners (sfr::net, sfr::reg, sfr::sgd, sfr::wrapped_tap) are move-only
 *   and release their handle in their destructor; a moved-from owner holds
 *   nothing.
 * - A failing call throws sfr::error, carrying the ::sfr_status and
 *   sfr_last_error()'s message. Sizes of the buffers passed are checked
 *   against the shapes the library expects before the call (the C API
 *   cannot see a buffer's length); a mismatch throws sfr::error with
 *   ::SFR_ERR_SHAPE.
 * - Buffers are sfr::span: a pointer and a count, built from a
 *   std::vector, a std::array, a C array or (pointer, count). Nothing is
 *   copied: the library reads and writes the caller's memory.
 * - Lifetimes are the C API's: a tap in a reg's pair must outlive the reg's
 *   use of it; views returned by a net (output, params, tap data) are valid
 *   until the net is compiled again, changed or destroyed.
 * - Threads: as the C API (docs/threading.md), one thread per object.
 * - Language: C++11 or later, no exceptions disabled (errors are thrown).
 *   The header adds no symbol to the library: it is part of the source
 *   interface only (docs/abi.md).
 *
 * @since 0.1.0 (C++17 only until 0.2.0)
 */
#ifndef SFR_SFR_HPP
#define SFR_SFR_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "sfr.h"

/**
 * @brief libsfr's C++ layer: owners of the C handles, errors as exceptions,
 *        size-checked buffers.
 * @since 0.1.0
 */
namespace sfr {

/**
 * @brief A failed libsfr call: status() is the ::sfr_status, what() its name
 *        and the library's message.
 * @since 0.1.0
 */
class error : public std::runtime_error {
public:
    /**
     * @brief An error of status, what() reading "<status name>: <message>".
     * @param status  The failing call's status (negative).
     * @param message What went wrong, usually sfr_last_error().
     */
    error(sfr_status status, const std::string &message)
        : std::runtime_error(std::string(sfr_status_string(status)) + ": " + message),
          status_(status)
    {
    }
    /**
     * @brief The status of the failed call.
     * @return An ::sfr_status other than ::SFR_OK.
     */
    sfr_status status() const noexcept { return status_; }

private:
    sfr_status status_;
};

/**
 * @brief Throws sfr::error for any status but ::SFR_OK, with the calling
 *        thread's last message.
 * @param status What a C API call returned.
 * @throws sfr::error status is not ::SFR_OK.
 * @since 0.1.0
 */
inline void check(sfr_status status)
{
    if (status != SFR_OK)
        throw error(status, sfr_last_error());
}

/**
 * @brief Checks that the library loaded at run time serves these headers.
 *
 * The same major version (ABI) and at least the version compiled against
 * (docs/embedding.md). Call it once at start-up.
 *
 * @throws sfr::error ::SFR_ERR_UNSUPPORTED, naming both versions, when the
 *                    loaded library cannot serve these headers.
 * @since 0.1.0
 */
inline void check_version()
{
    unsigned v = sfr_version_number();
    if (v / 10000 != SFR_VERSION_MAJOR || v < SFR_VERSION_NUMBER)
        throw error(SFR_ERR_UNSUPPORTED, std::string("libsfr ") + sfr_version_string() +
                                             " does not serve headers of version " +
                                             std::to_string(SFR_VERSION_NUMBER));
}

/// @cond INTERNAL
namespace detail {

/* Enables a span<T> constructor from U's where U's elements may be viewed as
 * T's (T is U, or const U): std::span's rule, in C++11. */
template <class U, class T>
using if_viewable = typename std::enable_if<std::is_convertible<U (*)[], T (*)[]>::value>::type;

template <class T, void (*Destroy)(T *)>
struct deleter {
    void operator()(T *p) const noexcept { Destroy(p); }
};

/* The bytes a *_save_memory-style call writes: call(buf, capacity, &size)
 * asked for the size first (buf NULL), then made to fill a buffer of it. */
template <class Call>
std::vector<unsigned char> sized_bytes(Call &&call)
{
    std::size_t size = 0;
    check(call(nullptr, 0, &size));
    std::vector<unsigned char> bytes(size);
    check(call(bytes.data(), bytes.size(), &size));
    return bytes;
}

/* Throws SFR_ERR_SHAPE when a buffer does not hold the count the call needs. */
inline void expect_size(const char *what, std::size_t got, std::int64_t want)
{
    if (want < 0 || got != static_cast<std::size_t>(want))
        throw error(SFR_ERR_SHAPE, std::string(what) + " holds " + std::to_string(got) +
                                       " elements, expected " + std::to_string(want));
}

inline std::int64_t volume(const std::array<std::int64_t, 4> &dims)
{
    return dims[0] * dims[1] * dims[2] * dims[3];
}

} // namespace detail
/// @endcond

/**
 * @brief A contiguous buffer the caller owns: a pointer and an element count.
 *
 * Nothing is copied; the span must not outlive the memory it views. A span
 * of T converts to a span of const T.
 *
 * @tparam T The element type (const for buffers the library only reads).
 * @since 0.1.0
 */
template <class T>
class span {
public:
    /** @brief An empty span (no data, size 0). */
    constexpr span() noexcept = default;
    /**
     * @brief size elements from data.
     * @param data The first element.
     * @param size The number of elements.
     */
    constexpr span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    /**
     * @brief A whole C array.
     * @param array The array.
     */
    template <std::size_t N>
    constexpr span(T (&array)[N]) noexcept : data_(array), size_(N)
    {
    }
    /**
     * @brief A whole std::array.
     * @param array The array.
     */
    template <class U, std::size_t N, class = detail::if_viewable<U, T>>
    span(std::array<U, N> &array) noexcept : data_(array.data()), size_(N)
    {
    }
    /**
     * @brief A whole constant std::array (for a span of const elements).
     * @param array The array.
     */
    template <class U, std::size_t N, class = detail::if_viewable<const U, T>>
    span(const std::array<U, N> &array) noexcept : data_(array.data()), size_(N)
    {
    }
    /**
     * @brief A whole std::vector.
     * @param v The vector; the span is invalid once it reallocates.
     */
    template <class U, class A, class = detail::if_viewable<U, T>>
    span(std::vector<U, A> &v) noexcept : data_(v.data()), size_(v.size())
    {
    }
    /**
     * @brief A whole constant std::vector (for a span of const elements).
     * @param v The vector; the span is invalid once it reallocates.
     */
    template <class U, class A, class = detail::if_viewable<const U, T>>
    span(const std::vector<U, A> &v) noexcept : data_(v.data()), size_(v.size())
    {
    }
    /**
     * @brief The same elements, seen as const.
     * @param other A span of U, where U's elements may be viewed as T's.
     */
    template <class U, class = detail::if_viewable<U, T>>
    constexpr span(span<U> other) noexcept : data_(other.data()), size_(other.size())
    {
    }

    /** @brief The first element. @return The pointer given (nullptr if empty by default). */
    constexpr T *data() const noexcept { return data_; }
    /** @brief The element count. @return The number of elements. */
    constexpr std::size_t size() const noexcept { return size_; }
    /** @brief Whether the span holds no element. @return size() == 0. */
    constexpr bool empty() const noexcept { return size_ == 0; }
    /**
     * @brief Element i, unchecked.
     * @param i An index below size().
     * @return The element.
     */
    constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }
    /** @brief For range-for. @return data(). */
    constexpr T *begin() const noexcept { return data_; }
    /** @brief For range-for. @return data() + size(). */
    constexpr T *end() const noexcept { return data_ + size_; }

private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

/**
 * @brief A tap that someone else owns (a net's tap, or a wrapped_tap's): a
 *        plain copyable reference.
 *
 * The accessors throw ::SFR_ERR_STATE for a net's tap before its net is
 * compiled, and data() too before the net's first forward since its last
 * compile.
 *
 * @since 0.1.0
 */
class tap_ref {
public:
    /**
     * @brief A reference to tap.
     * @param tap A live tap (not owned).
     */
    explicit tap_ref(sfr_tap *tap) noexcept : tap_(tap) {}
    /** @brief The C handle. @return The tap, for the C API. */
    sfr_tap *get() const noexcept { return tap_; }

    /**
     * @brief The tap's shape (sfr_tap_dims()).
     * @return {N, C, H, W}.
     * @throws sfr::error As sfr_tap_dims() fails.
     */
    std::array<std::int64_t, 4> dims() const
    {
        std::array<std::int64_t, 4> d{};
        check(sfr_tap_dims(tap_, d.data()));
        return d;
    }
    /**
     * @brief The feature map (sfr_tap_data()).
     * @return N*C*H*W floats in NCHW order, owned by the tap.
     * @throws sfr::error As sfr_tap_data() fails.
     */
    span<const float> data() const
    {
        const float *p = nullptr;
        check(sfr_tap_data(tap_, &p));
        return {p, static_cast<std::size_t>(detail::volume(dims()))};
    }
    /**
     * @brief The gradient buffer (sfr_tap_grad()).
     * @return N*C*H*W floats in NCHW order; empty for a wrapped tap made
     *         without one.
     * @throws sfr::error As sfr_tap_grad() fails.
     */
    span<float> grad() const
    {
        float *p = nullptr;
        check(sfr_tap_grad(tap_, &p));
        return {p, p == nullptr ? 0 : static_cast<std::size_t>(detail::volume(dims()))};
    }

private:
    sfr_tap *tap_;
};

/**
 * @brief Host buffers wrapped as a tap (sfr_tap_wrap()), released with the
 *        object.
 *
 * The buffers stay the caller's and must outlive every use of the tap.
 *
 * @since 0.1.0
 */
class wrapped_tap {
public:
    /**
     * @brief Wraps data (and grad) as a tap of shape dims.
     * @param dims {N, C, H, W}, each >= 1.
     * @param data N*C*H*W floats, NCHW: the feature map.
     * @param grad Empty, or N*C*H*W floats into which gradients are added
     *             (a student needs one).
     * @throws sfr::error ::SFR_ERR_SHAPE for a dimension < 1 or a buffer of
     *                    another size; otherwise as sfr_tap_wrap() fails.
     */
    wrapped_tap(const std::array<std::int64_t, 4> &dims, span<const float> data,
                span<float> grad = {})
    {
        check_sizes(dims, data, grad);
        sfr_tap *t = nullptr;
        check(sfr_tap_wrap(dims.data(), data.data(), grad.data(), &t));
        tap_.reset(t);
    }

    /**
     * @brief Points the tap at new buffers of the same shape (sfr_tap_rebind()).
     * @param data N*C*H*W floats.
     * @param grad Empty, or N*C*H*W floats.
     * @throws sfr::error ::SFR_ERR_SHAPE for a buffer of another size;
     *                    otherwise as sfr_tap_rebind() fails.
     */
    void rebind(span<const float> data, span<float> grad = {})
    {
        check_sizes(ref().dims(), data, grad);
        check(sfr_tap_rebind(tap_.get(), data.data(), grad.data()));
    }

    /** @brief A reference for sfr::reg::add_pair(). @return The tap, not owned. */
    tap_ref ref() const noexcept { return tap_ref(tap_.get()); }
    /** @brief The same as ref(). @return The tap, not owned. */
    operator tap_ref() const noexcept { return ref(); }
    /** @brief The C handle. @return The tap (nullptr once moved from). */
    sfr_tap *get() const noexcept { return tap_.get(); }

private:
    static void check_sizes(const std::array<std::int64_t, 4> &dims, span<const float> data,
                            span<float> grad)
    {
        for (std::int64_t d : dims)
            if (d < 1)
                throw error(SFR_ERR_SHAPE, "sfr::wrapped_tap: a dimension is " +
                                               std::to_string(d) + ", must be >= 1");
        detail::expect_size("sfr::wrapped_tap: data", data.size(), detail::volume(dims));
        if (grad.data() != nullptr)
            detail::expect_size("sfr::wrapped_tap: grad", grad.size(), detail::volume(dims));
    }

    std::unique_ptr<sfr_tap, detail::deleter<sfr_tap, sfr_tap_destroy>> tap_;
};

/**
 * @brief The SFR regularizer (sfr/reg.h), released with the object.
 * @since 0.1.0
 */
class reg {
public:
    /**
     * @brief A regularizer with the default parameters (sfr_reg_create()).
     * @throws sfr::error As sfr_reg_create() fails.
     */
    reg()
    {
        sfr_reg *r = nullptr;
        check(sfr_reg_create(&r));
        reg_.reset(r);
    }

    /**
     * @brief Sets a parameter (sfr_reg_set_param()).
     * @param key   The parameter.
     * @param value Its new value.
     * @throws sfr::error As sfr_reg_set_param() fails; the value is then kept.
     */
    void set_param(sfr_param key, double value) { check(sfr_reg_set_param(get(), key, value)); }
    /**
     * @brief A parameter's value (sfr_reg_get_param()).
     * @param key The parameter.
     * @return Its value.
     * @throws sfr::error As sfr_reg_get_param() fails.
     */
    double get_param(sfr_param key) const
    {
        double value = 0;
        check(sfr_reg_get_param(get(), key, &value));
        return value;
    }

    /**
     * @brief Adds the pair (student, teacher, beta) (sfr_reg_add_pair()).
     * @param student A tap with a gradient buffer.
     * @param teacher A tap of the same N.
     * @param beta    The pair's weight, >= 0.
     * @return The pair's index (0, 1, ... in the order added).
     * @throws sfr::error As sfr_reg_add_pair() fails.
     */
    int add_pair(tap_ref student, tap_ref teacher, double beta)
    {
        int index = 0;
        check(sfr_reg_add_pair(get(), student.get(), teacher.get(), beta, &index));
        return index;
    }

    /**
     * @brief Sets the training progress (sfr_reg_set_progress()).
     * @param t From 0 (first step) to 1 (end of training).
     * @throws sfr::error As sfr_reg_set_progress() fails.
     */
    void set_progress(double t) { check(sfr_reg_set_progress(get(), t)); }

    /**
     * @brief Sets the samples' dataset indices (sfr_reg_set_sample_ids()).
     * @param ids One index per sample of the next compute.
     * @throws sfr::error As sfr_reg_set_sample_ids() fails.
     */
    void set_sample_ids(span<const std::int64_t> ids)
    {
        check(sfr_reg_set_sample_ids(get(), ids.data(), static_cast<std::int64_t>(ids.size())));
    }

    /**
     * @brief The whole objective (sfr_reg_compute()).
     *
     * Feature gradients are added to the pairs' taps.
     *
     * @param logits  (n, k) floats.
     * @param labels  n class indices.
     * @param n       The number of samples.
     * @param k       The number of classes.
     * @param dlogits (n, k) floats, overwritten with dL/dlogits.
     * @return The loss.
     * @throws sfr::error ::SFR_ERR_SHAPE for a buffer of another size (nothing
     *                    written); otherwise as sfr_reg_compute() fails.
     */
    double compute(span<const float> logits, span<const std::int32_t> labels, std::int64_t n,
                   std::int64_t k, span<float> dlogits)
    {
        detail::expect_size("sfr::reg::compute: logits", logits.size(), n * k);
        detail::expect_size("sfr::reg::compute: labels", labels.size(), n);
        detail::expect_size("sfr::reg::compute: dlogits", dlogits.size(), n * k);
        double loss = 0;
        check(sfr_reg_compute(get(), logits.data(), labels.data(), n, k, dlogits.data(), &loss));
        return loss;
    }

    /**
     * @brief The feature terms alone (sfr_reg_compute() without logits).
     * @param n The number of samples in the taps.
     * @return The loss of the pairs.
     * @throws sfr::error As sfr_reg_compute() fails.
     */
    double compute_features(std::int64_t n)
    {
        double loss = 0;
        check(sfr_reg_compute(get(), nullptr, nullptr, n, 0, nullptr, &loss));
        return loss;
    }

    /**
     * @brief A pair's loss at the last compute (sfr_reg_pair_loss()).
     * @param index The pair's index.
     * @return Its weighted loss.
     * @throws sfr::error As sfr_reg_pair_loss() fails.
     */
    double pair_loss(int index) const
    {
        double value = 0;
        check(sfr_reg_pair_loss(get(), index, &value));
        return value;
    }
    /**
     * @brief The label loss at the last compute (sfr_reg_label_loss()).
     * @return The label term.
     * @throws sfr::error As sfr_reg_label_loss() fails.
     */
    double label_loss() const
    {
        double value = 0;
        check(sfr_reg_label_loss(get(), &value));
        return value;
    }
    /**
     * @brief The class-wise loss at the last compute (sfr_reg_classwise_loss()).
     * @return The class-wise term, its weight included.
     * @throws sfr::error As sfr_reg_classwise_loss() fails.
     */
    double classwise_loss() const
    {
        double value = 0;
        check(sfr_reg_classwise_loss(get(), &value));
        return value;
    }
    /**
     * @brief The last-batch loss at the last compute (sfr_reg_last_batch_loss()).
     * @return The last-batch term, its weight included.
     * @throws sfr::error As sfr_reg_last_batch_loss() fails.
     */
    double last_batch_loss() const
    {
        double value = 0;
        check(sfr_reg_last_batch_loss(get(), &value));
        return value;
    }
    /**
     * @brief A pair's Sinkhorn statistics at the last compute (sfr_reg_pair_stats()).
     * @param index The pair's index.
     * @return The largest iteration count and row-marginal error over the batch.
     * @throws sfr::error As sfr_reg_pair_stats() fails.
     */
    std::pair<int, double> pair_stats(int index) const
    {
        int iterations = 0;
        double marginal_error = 0;
        check(sfr_reg_pair_stats(get(), index, &iterations, &marginal_error));
        return {iterations, marginal_error};
    }

    /** @brief The C handle. @return The regularizer (nullptr once moved from). */
    sfr_reg *get() const noexcept { return reg_.get(); }

private:
    std::unique_ptr<sfr_reg, detail::deleter<sfr_reg, sfr_reg_destroy>> reg_;
};

/**
 * @brief One parameter tensor's place in the flat buffers (sfr_net_param_info()).
 * @since 0.1.0 (name was a std::string_view until 0.2.0)
 */
struct param_info {
    std::string name;    ///< The tensor's name, e.g. "conv1.weight".
    std::int64_t offset; ///< Its first float in the flat buffers.
    std::int64_t size;   ///< Its number of floats.
};

/**
 * @brief A network (sfr/net.h), released with the object. Builder calls
 *        return layer ids.
 * @since 0.1.0
 */
class net {
public:
    /**
     * @brief An empty net (sfr_net_create()).
     * @throws sfr::error As sfr_net_create() fails.
     */
    net()
    {
        sfr_net *n = nullptr;
        check(sfr_net_create(&n));
        net_.reset(n);
    }

    /**
     * @brief The input layer (sfr_net_input()).
     * @param c Channels.
     * @param h Height.
     * @param w Width.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_input() fails.
     */
    int input(int c, int h, int w)
    {
        int id = layer([&](int *out) { return sfr_net_input(get(), c, h, w, out); });
        input_volume_ = static_cast<std::int64_t>(c) * h * w;
        return id;
    }
    /**
     * @brief A convolution (sfr_net_conv2d()).
     * @param in     The input layer's id.
     * @param out_c  Output channels.
     * @param kernel Kernel size.
     * @param stride Stride.
     * @param pad    Zero padding.
     * @param bias   Whether it has a bias.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_conv2d() fails.
     */
    int conv2d(int in, int out_c, int kernel, int stride, int pad, bool bias)
    {
        return layer([&](int *id) {
            return sfr_net_conv2d(get(), in, out_c, kernel, stride, pad, bias ? 1 : 0, id);
        });
    }
    /**
     * @brief Batch normalization (sfr_net_batchnorm()).
     * @param in The input layer's id.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_batchnorm() fails.
     */
    int batchnorm(int in)
    {
        return layer([&](int *id) { return sfr_net_batchnorm(get(), in, id); });
    }
    /**
     * @brief ReLU (sfr_net_relu()).
     * @param in The input layer's id.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_relu() fails.
     */
    int relu(int in)
    {
        return layer([&](int *id) { return sfr_net_relu(get(), in, id); });
    }
    /**
     * @brief A general convolution (sfr_net_conv()).
     * @param in    The input layer's id.
     * @param out_c Output channels.
     * @param p     The geometry, from ::SFR_CONV_PARAMS_INIT.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_conv() fails.
     */
    int conv(int in, int out_c, const sfr_conv_params &p)
    {
        return layer([&](int *id) { return sfr_net_conv(get(), in, out_c, &p, id); });
    }
    /**
     * @brief Names a layer (sfr_net_set_layer_name()).
     * @param layer The layer's id.
     * @param name  The name.
     * @throws sfr::error As sfr_net_set_layer_name() fails.
     */
    void set_layer_name(int layer, const std::string &name)
    {
        check(sfr_net_set_layer_name(get(), layer, name.c_str()));
    }
    /**
     * @brief The id of the layer called name (sfr_net_find_layer()).
     * @param name The name.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_find_layer() fails.
     */
    int find_layer(const std::string &name) const
    {
        int id = -1;
        check(sfr_net_find_layer(get(), name.c_str(), &id));
        return id;
    }
    /**
     * @brief An element-wise activation (sfr_net_activation()).
     * @param in   The input layer's id.
     * @param kind One of ::sfr_activation.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_activation() fails.
     */
    int activation(int in, sfr_activation kind)
    {
        return layer([&](int *id) { return sfr_net_activation(get(), in, kind, id); });
    }
    /**
     * @brief Max pooling (sfr_net_maxpool()).
     * @param in     The input layer's id.
     * @param kernel Window size.
     * @param stride Stride.
     * @param pad    Padding, at most kernel / 2.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_maxpool() fails.
     */
    int maxpool(int in, int kernel, int stride, int pad = 0)
    {
        return layer([&](int *id) { return sfr_net_maxpool(get(), in, kernel, stride, pad, id); });
    }
    /**
     * @brief Average pooling, padding counted (sfr_net_avgpool()).
     * @param in     The input layer's id.
     * @param kernel Window size.
     * @param stride Stride.
     * @param pad    Padding, at most kernel / 2.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_avgpool() fails.
     */
    int avgpool(int in, int kernel, int stride, int pad = 0)
    {
        return layer([&](int *id) { return sfr_net_avgpool(get(), in, kernel, stride, pad, id); });
    }
    /**
     * @brief Global average pooling (sfr_net_global_avgpool()).
     * @param in The input layer's id.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_global_avgpool() fails.
     */
    int global_avgpool(int in)
    {
        return layer([&](int *id) { return sfr_net_global_avgpool(get(), in, id); });
    }
    /**
     * @brief A fully connected layer with bias (sfr_net_linear()).
     * @param in           The input layer's id.
     * @param out_features Outputs.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_linear() fails.
     */
    int linear(int in, int out_features)
    {
        return layer([&](int *id) { return sfr_net_linear(get(), in, out_features, id); });
    }
    /**
     * @brief A residual sum (sfr_net_add()).
     * @param a One input layer's id.
     * @param b The other's, of the same shape.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_add() fails.
     */
    int add(int a, int b)
    {
        return layer([&](int *id) { return sfr_net_add(get(), a, b, id); });
    }
    /**
     * @brief An element-wise product (sfr_net_mul()).
     * @param a The input whose shape the output takes.
     * @param b The other factor: a's shape, or C x 1 x 1.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_mul() fails.
     */
    int mul(int a, int b)
    {
        return layer([&](int *id) { return sfr_net_mul(get(), a, b, id); });
    }
    /**
     * @brief A channel concatenation (sfr_net_concat()).
     * @param a The input whose channels come first.
     * @param b The input whose channels follow.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_concat() fails.
     */
    int concat(int a, int b)
    {
        return layer([&](int *id) { return sfr_net_concat(get(), a, b, id); });
    }
    /**
     * @brief Dropout (sfr_net_dropout()).
     * @param in The input layer's id.
     * @param p  The probability of zeroing a value in training.
     * @return The layer's id.
     * @throws sfr::error As sfr_net_dropout() fails.
     */
    int dropout(int in, double p)
    {
        return layer([&](int *id) { return sfr_net_dropout(get(), in, p, id); });
    }

    /**
     * @brief Compiles the net for a batch size (sfr_net_compile()).
     * @param batch The number of samples of every forward.
     * @throws sfr::error As sfr_net_compile() fails.
     */
    void compile(std::int64_t batch)
    {
        batch_ = 0;
        check(sfr_net_compile(get(), batch));
        batch_ = batch;
    }
    /**
     * @brief Initialises the parameters from a seed (sfr_net_init_params()).
     * @param seed The same seed gives the same parameters.
     * @throws sfr::error As sfr_net_init_params() fails.
     */
    void init_params(std::uint64_t seed) { check(sfr_net_init_params(get(), seed)); }

    /**
     * @brief Runs the net forward (sfr_net_forward()).
     * @param input    (batch, C, H, W) floats of the compiled batch size.
     * @param training true: batch statistics; false: running statistics.
     * @throws sfr::error ::SFR_ERR_SHAPE for an input of another size;
     *                    otherwise as sfr_net_forward() fails.
     */
    void forward(span<const float> input, bool training = true)
    {
        if (batch_ > 0)
            detail::expect_size("sfr::net::forward: input", input.size(), batch_ * input_volume_);
        check(sfr_net_forward(get(), input.data(), training ? 1 : 0));
    }

    /**
     * @brief Runs the net forward on the first n samples (sfr_net_forward_batch()):
     *        any batch up to the compiled one; output(), taps and backward()
     *        then hold n samples.
     * @param input    (n, C, H, W) floats.
     * @param n        Samples, 1 to the compiled batch.
     * @param training true: batch statistics; false: running statistics.
     * @throws sfr::error ::SFR_ERR_SHAPE for an input of another size;
     *                    otherwise as sfr_net_forward_batch() fails.
     */
    void forward(span<const float> input, std::int64_t n, bool training)
    {
        if (batch_ > 0 && n >= 1 && n <= batch_)
            detail::expect_size("sfr::net::forward: input", input.size(), n * input_volume_);
        check(sfr_net_forward_batch(get(), input.data(), n, training ? 1 : 0));
    }

    /** @brief The logits of the last forward, owned by the net. */
    struct logits {
        span<const float> values; ///< (batch, classes) floats, row-major.
        std::int64_t batch;       ///< Rows.
        std::int64_t classes;     ///< Columns.
    };
    /**
     * @brief The logits of the last forward (sfr_net_output()).
     * @return A view valid until the next forward, compile or change.
     * @throws sfr::error As sfr_net_output() fails.
     */
    logits output() const
    {
        const float *p = nullptr;
        std::int64_t dims[2] = {0, 0};
        check(sfr_net_output(get(), &p, dims));
        return {{p, static_cast<std::size_t>(dims[0] * dims[1])}, dims[0], dims[1]};
    }

    /**
     * @brief Runs the net backward (sfr_net_backward()).
     * @param dlogits (batch, K) floats, the gradient of the loss by the logits.
     * @throws sfr::error ::SFR_ERR_SHAPE for a buffer of another size;
     *                    otherwise as sfr_net_backward() fails.
     */
    void backward(span<const float> dlogits)
    {
        logits out = output();
        detail::expect_size("sfr::net::backward: dlogits", dlogits.size(),
                            out.batch * out.classes);
        check(sfr_net_backward(get(), dlogits.data()));
    }

    /**
     * @brief Runs the net backward, adding the parameter gradients to those
     *        held (sfr_net_backward_accumulate()).
     * @param dlogits (batch, K) floats, the gradient of the loss by the logits.
     * @throws sfr::error ::SFR_ERR_SHAPE for a buffer of another size;
     *                    otherwise as sfr_net_backward_accumulate() fails.
     */
    void backward_accumulate(span<const float> dlogits)
    {
        logits out = output();
        detail::expect_size("sfr::net::backward_accumulate: dlogits", dlogits.size(),
                            out.batch * out.classes);
        check(sfr_net_backward_accumulate(get(), dlogits.data()));
    }

    /**
     * @brief Sets every parameter gradient to 0 (sfr_net_zero_grads()).
     * @throws sfr::error As sfr_net_zero_grads() fails.
     */
    void zero_grads() { check(sfr_net_zero_grads(get())); }

    /**
     * @brief The net's tap on a layer's output (sfr_net_tap()); best asked
     *        for before compile.
     * @param layer_id The layer's id.
     * @return The tap, owned by the net.
     * @throws sfr::error As sfr_net_tap() fails.
     */
    tap_ref tap(int layer_id)
    {
        sfr_tap *t = nullptr;
        check(sfr_net_tap(get(), layer_id, &t));
        return tap_ref(t);
    }

    /** @brief The flat parameter and gradient buffers, owned by the net. */
    struct param_buffers {
        span<float> values; ///< All trainable parameters.
        span<float> grads;  ///< Their gradients, in the same order.
    };
    /**
     * @brief The flat parameter and gradient buffers (sfr_net_params()).
     * @return Views of count floats each, valid until the next compile.
     * @throws sfr::error As sfr_net_params() fails.
     */
    param_buffers params()
    {
        float *values = nullptr, *grads = nullptr;
        std::int64_t count = 0;
        check(sfr_net_params(get(), &values, &grads, &count));
        return {{values, static_cast<std::size_t>(count)}, {grads, static_cast<std::size_t>(count)}};
    }
    /**
     * @brief The batch-norm running statistics as one flat buffer (sfr_net_buffers()).
     * @return A view of the net's buffer, valid until the next builder call.
     * @throws sfr::error As sfr_net_buffers() fails.
     */
    span<float> buffers()
    {
        float *values = nullptr;
        std::int64_t count = 0;
        check(sfr_net_buffers(get(), &values, &count));
        return {values, static_cast<std::size_t>(count)};
    }
    /**
     * @brief The number of parameter tensors (sfr_net_param_tensors()).
     * @return The count.
     * @throws sfr::error As sfr_net_param_tensors() fails.
     */
    int param_tensors() const
    {
        int count = 0;
        check(sfr_net_param_tensors(get(), &count));
        return count;
    }
    /**
     * @brief A parameter tensor's name and place (sfr_net_param_info()).
     * @param i The tensor's index, below param_tensors().
     * @return Its name (a copy), offset and size.
     * @throws sfr::error As sfr_net_param_info() fails.
     */
    param_info param(int i) const
    {
        const char *name = nullptr;
        param_info info{std::string(), 0, 0};
        check(sfr_net_param_info(get(), i, &name, &info.offset, &info.size));
        info.name = name;
        return info;
    }

    /**
     * @brief Saves parameters and statistics (sfr_net_save()).
     * @param path The file, replaced atomically.
     * @throws sfr::error As sfr_net_save() fails.
     */
    void save(const std::string &path) const { check(sfr_net_save(get(), path.c_str())); }
    /**
     * @brief Loads parameters and statistics (sfr_net_load()).
     * @param path A file saved from a net of the same layers.
     * @throws sfr::error As sfr_net_load() fails; the net is then unchanged.
     */
    void load(const std::string &path) { check(sfr_net_load(get(), path.c_str())); }
    /**
     * @brief The checkpoint as bytes (sfr_net_save_memory()).
     * @return The bytes sfr_net_save() would write.
     * @throws sfr::error As sfr_net_save_memory() fails.
     */
    std::vector<unsigned char> save_memory() const
    {
        return detail::sized_bytes(
            [this](unsigned char *buf, std::size_t capacity, std::size_t *size) {
                return sfr_net_save_memory(get(), buf, capacity, size);
            });
    }
    /**
     * @brief Loads a checkpoint from bytes (sfr_net_load_memory()).
     * @param bytes What save_memory() or a file gave.
     * @throws sfr::error As sfr_net_load_memory() fails; the net is then unchanged.
     */
    void load_memory(const std::vector<unsigned char> &bytes)
    {
        check(sfr_net_load_memory(get(), bytes.data(), bytes.size()));
    }

    /**
     * @brief A net built from an ONNX model file (sfr_net_import_onnx()), not compiled.
     * @param path The model.
     * @return The net.
     * @throws sfr::error As sfr_net_import_onnx() fails.
     */
    static net from_onnx(const std::string &path)
    {
        sfr_net *n = nullptr;
        check(sfr_net_import_onnx(&n, path.c_str()));
        return net(n);
    }
    /**
     * @brief A net built from an ONNX model's bytes (sfr_net_import_onnx_memory()).
     * @param bytes The model.
     * @return The net.
     * @throws sfr::error As sfr_net_import_onnx_memory() fails.
     */
    static net from_onnx_memory(const std::vector<unsigned char> &bytes)
    {
        sfr_net *n = nullptr;
        check(sfr_net_import_onnx_memory(&n, bytes.data(), bytes.size()));
        return net(n);
    }
    /**
     * @brief Writes the net as an ONNX model file (sfr_net_export_onnx()).
     * @param path The file.
     * @throws sfr::error As sfr_net_export_onnx() fails.
     */
    void export_onnx(const std::string &path) const
    {
        check(sfr_net_export_onnx(get(), path.c_str()));
    }
    /**
     * @brief The ONNX model as bytes (sfr_net_export_onnx_memory()).
     * @return The bytes a file would hold.
     * @throws sfr::error As sfr_net_export_onnx_memory() fails.
     */
    std::vector<unsigned char> export_onnx_memory() const
    {
        return detail::sized_bytes(
            [this](unsigned char *buf, std::size_t capacity, std::size_t *size) {
                return sfr_net_export_onnx_memory(get(), buf, capacity, size);
            });
    }
    /**
     * @brief Chooses the precision of the next compile (sfr_net_set_precision()).
     * @param precision One of ::sfr_precision.
     * @throws sfr::error As sfr_net_set_precision() fails (bf16 without AVX512_BF16).
     */
    void set_precision(sfr_precision precision) { check(sfr_net_set_precision(get(), precision)); }
    /** @brief The number of layers (sfr_net_layer_count()). @return The count. @throws sfr::error As it fails. */
    int layer_count() const
    {
        int n = 0;
        check(sfr_net_layer_count(get(), &n));
        return n;
    }
    /**
     * @brief A layer's (C, H, W) per sample (sfr_net_layer_dims()).
     * @param layer The layer's id (0: the input).
     * @return C, H and W.
     * @throws sfr::error As sfr_net_layer_dims() fails.
     */
    std::array<int, 3> layer_dims(int layer) const
    {
        std::array<int, 3> dims{};
        check(sfr_net_layer_dims(get(), layer, dims.data()));
        return dims;
    }

    /** @brief The C handle. @return The net (nullptr once moved from). */
    sfr_net *get() const noexcept { return net_.get(); }

private:
    /* Takes ownership of an imported net, whose input size the net knows. */
    explicit net(sfr_net *n) : net_(n)
    {
        std::array<int, 3> in = layer_dims(0);
        input_volume_ = static_cast<std::int64_t>(in[0]) * in[1] * in[2];
    }

    /* Runs one builder call, which writes the new layer's id through its argument. */
    template <class Call>
    int layer(Call &&call)
    {
        int id = 0;
        check(call(&id));
        return id;
    }

    std::unique_ptr<sfr_net, detail::deleter<sfr_net, sfr_net_destroy>> net_;
    std::int64_t input_volume_ = 0; // C * H * W
    std::int64_t batch_ = 0;        // 0 until a successful compile
};

/**
 * @brief SGD with PyTorch's semantics on one net's parameters (sfr/sgd.h),
 *        released with the object.
 * @since 0.1.0
 */
class sgd {
public:
    /**
     * @brief An optimizer (sfr_sgd_create()).
     * @param lr           Learning rate.
     * @param momentum     Momentum, 0 for none.
     * @param weight_decay L2 weight decay, 0 for none.
     * @param nesterov     Nesterov momentum.
     * @throws sfr::error As sfr_sgd_create() fails.
     */
    explicit sgd(double lr, double momentum = 0, double weight_decay = 0, bool nesterov = false)
    {
        sfr_sgd *o = nullptr;
        check(sfr_sgd_create(&o, lr, momentum, weight_decay, nesterov ? 1 : 0));
        sgd_.reset(o);
    }
    /**
     * @brief Updates the net's parameters from their gradients (sfr_sgd_step()).
     * @param n The net, always the same one.
     * @throws sfr::error As sfr_sgd_step() fails.
     */
    void step(net &n) { check(sfr_sgd_step(get(), n.get())); }
    /**
     * @brief Changes the learning rate (sfr_sgd_set_lr()).
     * @param lr The new rate.
     * @throws sfr::error As sfr_sgd_set_lr() fails.
     */
    void set_lr(double lr) { check(sfr_sgd_set_lr(get(), lr)); }
    /** @brief The C handle. @return The optimizer (nullptr once moved from). */
    sfr_sgd *get() const noexcept { return sgd_.get(); }

private:
    std::unique_ptr<sfr_sgd, detail::deleter<sfr_sgd, sfr_sgd_destroy>> sgd_;
};

/**
 * @brief AdamW with PyTorch's semantics on one net's parameters
 *        (sfr/adamw.h), released with the object.
 * @since 0.2.0
 */
class adamw {
public:
    /**
     * @brief An optimizer (sfr_adamw_create()), with PyTorch's defaults.
     * @param lr           Learning rate.
     * @param beta1        First-moment decay.
     * @param beta2        Second-moment decay.
     * @param eps          Added to the denominator.
     * @param weight_decay Decoupled weight decay.
     * @throws sfr::error As sfr_adamw_create() fails.
     */
    explicit adamw(double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
                   double eps = 1e-8, double weight_decay = 1e-2)
    {
        sfr_adamw *o = nullptr;
        check(sfr_adamw_create(&o, lr, beta1, beta2, eps, weight_decay));
        adamw_.reset(o);
    }
    /**
     * @brief Updates the net's parameters from their gradients (sfr_adamw_step()).
     * @param n The net, always the same one.
     * @throws sfr::error As sfr_adamw_step() fails.
     */
    void step(net &n) { check(sfr_adamw_step(get(), n.get())); }
    /**
     * @brief Changes the learning rate (sfr_adamw_set_lr()).
     * @param lr The new rate.
     * @throws sfr::error As sfr_adamw_set_lr() fails.
     */
    void set_lr(double lr) { check(sfr_adamw_set_lr(get(), lr)); }
    /**
     * @brief The steps taken (sfr_adamw_steps()).
     * @return The count, 0 before the first step.
     * @throws sfr::error As sfr_adamw_steps() fails.
     */
    std::int64_t steps() const
    {
        std::int64_t n = 0;
        check(sfr_adamw_steps(get(), &n));
        return n;
    }
    /** @brief The C handle. @return The optimizer (nullptr once moved from). */
    sfr_adamw *get() const noexcept { return adamw_.get(); }

private:
    std::unique_ptr<sfr_adamw, detail::deleter<sfr_adamw, sfr_adamw_destroy>> adamw_;
};

/**
 * @brief A learning-rate schedule (sfr/schedule.h), released with the object.
 * @since 0.2.0
 */
class lr_schedule {
public:
    /**
     * @brief A schedule (sfr_lr_schedule_create()) with no warm-up, a cosine
     *        minimum of 0 and no milestones.
     * @param shape       One of ::sfr_lr_shape.
     * @param base_lr     The base rate.
     * @param total_steps The steps of the whole training.
     * @throws sfr::error As sfr_lr_schedule_create() fails.
     */
    lr_schedule(sfr_lr_shape shape, double base_lr, std::int64_t total_steps)
    {
        sfr_lr_schedule *s = nullptr;
        check(sfr_lr_schedule_create(&s, shape, base_lr, total_steps));
        sched_.reset(s);
    }
    /**
     * @brief Sets the linear warm-up (sfr_lr_schedule_set_warmup()).
     * @param steps        Warm-up steps.
     * @param start_factor The rate at step 0 as a fraction of the base.
     * @throws sfr::error As sfr_lr_schedule_set_warmup() fails.
     */
    void set_warmup(std::int64_t steps, double start_factor)
    {
        check(sfr_lr_schedule_set_warmup(get(), steps, start_factor));
    }
    /**
     * @brief Sets the cosine's final rate (sfr_lr_schedule_set_min_lr()).
     * @param min_lr The final rate.
     * @throws sfr::error As sfr_lr_schedule_set_min_lr() fails.
     */
    void set_min_lr(double min_lr) { check(sfr_lr_schedule_set_min_lr(get(), min_lr)); }
    /**
     * @brief Sets the step shape's milestones (sfr_lr_schedule_set_milestones()).
     * @param milestones Increasing step numbers.
     * @param gamma      The factor at each.
     * @throws sfr::error As sfr_lr_schedule_set_milestones() fails.
     */
    void set_milestones(span<const std::int64_t> milestones, double gamma)
    {
        check(sfr_lr_schedule_set_milestones(get(), milestones.data(),
                                             static_cast<int>(milestones.size()), gamma));
    }
    /**
     * @brief The rate at a step (sfr_lr_schedule_lr()).
     * @param step The step number, from 0.
     * @return The learning rate.
     * @throws sfr::error As sfr_lr_schedule_lr() fails.
     */
    double lr(std::int64_t step) const
    {
        double out = 0;
        check(sfr_lr_schedule_lr(get(), step, &out));
        return out;
    }
    /** @brief The C handle. @return The schedule (nullptr once moved from). */
    sfr_lr_schedule *get() const noexcept { return sched_.get(); }

private:
    std::unique_ptr<sfr_lr_schedule, detail::deleter<sfr_lr_schedule, sfr_lr_schedule_destroy>>
        sched_;
};

/**
 * @brief A training-state checkpoint (sfr/checkpoint.h), released with the
 *        object. It holds pointers to the objects added: they must outlive it.
 * @since 0.2.0
 */
class checkpoint {
public:
    /** @brief An empty checkpoint (sfr_checkpoint_create()). @throws sfr::error As it fails. */
    checkpoint()
    {
        sfr_checkpoint *c = nullptr;
        check(sfr_checkpoint_create(&c));
        ck_.reset(c);
    }
    /** @brief Adds the net (sfr_checkpoint_add_net()). @param n The net. @throws sfr::error As it fails. */
    void add(net &n) { check(sfr_checkpoint_add_net(get(), n.get())); }
    /** @brief Adds the optimizer (sfr_checkpoint_add_sgd()). @param o The optimizer. @throws sfr::error As it fails. */
    void add(sgd &o) { check(sfr_checkpoint_add_sgd(get(), o.get())); }
    /** @brief Adds the optimizer (sfr_checkpoint_add_adamw()). @param o The optimizer. @throws sfr::error As it fails. */
    void add(adamw &o) { check(sfr_checkpoint_add_adamw(get(), o.get())); }
    /** @brief Adds the regularizer (sfr_checkpoint_add_reg()). @param r The regularizer. @throws sfr::error As it fails. */
    void add(reg &r) { check(sfr_checkpoint_add_reg(get(), r.get())); }
    /**
     * @brief Sets a metadata entry (sfr_checkpoint_set_meta()).
     * @param key   The key.
     * @param value The value.
     * @throws sfr::error As sfr_checkpoint_set_meta() fails.
     */
    void set_meta(const std::string &key, const std::string &value)
    {
        check(sfr_checkpoint_set_meta(get(), key.c_str(), value.c_str()));
    }
    /** @brief Removes a metadata entry. @param key The key. @throws sfr::error As it fails. */
    void erase_meta(const std::string &key)
    {
        check(sfr_checkpoint_set_meta(get(), key.c_str(), nullptr));
    }
    /**
     * @brief Looks a metadata entry up (sfr_checkpoint_get_meta()).
     * @param key The key.
     * @param[out] value Receives the value when the key is there.
     * @return Whether the key is there.
     * @throws sfr::error As sfr_checkpoint_get_meta() fails.
     */
    bool meta(const std::string &key, std::string &value) const
    {
        const char *v = nullptr;
        check(sfr_checkpoint_get_meta(get(), key.c_str(), &v));
        if (v != nullptr)
            value = v;
        return v != nullptr;
    }
    /** @brief Saves to a file (sfr_checkpoint_save()). @param path The file. @throws sfr::error As it fails. */
    void save(const std::string &path) const { check(sfr_checkpoint_save(get(), path.c_str())); }
    /** @brief Loads from a file (sfr_checkpoint_load()). @param path The file. @throws sfr::error As it fails. */
    void load(const std::string &path) { check(sfr_checkpoint_load(get(), path.c_str())); }
    /**
     * @brief The checkpoint's bytes (sfr_checkpoint_save_memory()).
     * @return The bytes a file would hold.
     * @throws sfr::error As sfr_checkpoint_save_memory() fails.
     */
    std::vector<unsigned char> save_memory() const
    {
        return detail::sized_bytes(
            [this](unsigned char *buf, std::size_t capacity, std::size_t *size) {
                return sfr_checkpoint_save_memory(get(), buf, capacity, size);
            });
    }
    /**
     * @brief Loads from bytes (sfr_checkpoint_load_memory()).
     * @param bytes What save_memory() gave, or a file's contents.
     * @throws sfr::error As sfr_checkpoint_load_memory() fails.
     */
    void load_memory(span<const unsigned char> bytes)
    {
        check(sfr_checkpoint_load_memory(get(), bytes.data(), bytes.size()));
    }
    /** @brief The C handle. @return The checkpoint (nullptr once moved from). */
    sfr_checkpoint *get() const noexcept { return ck_.get(); }

private:
    std::unique_ptr<sfr_checkpoint, detail::deleter<sfr_checkpoint, sfr_checkpoint_destroy>> ck_;
};

} // namespace sfr

#endif /* SFR_SFR_HPP */
