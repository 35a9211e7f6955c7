/*
 * libsfr for C++17: a header-only RAII layer over the C API of sfr.h.
 *
 *   sfr::net net;                        // sfr_net_create; destroyed with the object
 *   int x = net.input(1, 28, 28);
 *   ...
 *   net.compile(64);
 *   net.forward(images);                 // any contiguous float buffer of the right size
 *
 * - Owners (net, reg, sgd, wrapped_tap) are move-only and release their
 *   handle in their destructor; a moved-from owner holds nothing.
 * - A failing call throws sfr::error, carrying the sfr_status and
 *   sfr_last_error()'s message. Sizes of the buffers passed are checked
 *   against the shapes the library expects before the call (the C API
 *   cannot see a buffer's length); a mismatch throws sfr::error with
 *   SFR_ERR_SHAPE.
 * - Buffers are sfr::span<T>: a pointer and a count, built from a
 *   std::vector, a std::array, a C array or (pointer, count). Nothing is
 *   copied: the library reads and writes the caller's memory.
 * - Lifetimes are the C API's: a tap in a reg's pair must outlive the reg's
 *   use of it; views returned by a net (output, params, tap data) are valid
 *   until the net is compiled again, changed or destroyed.
 * - Threads: as the C API (docs/threading.md), one thread per object.
 */
#ifndef SFR_SFR_HPP
#define SFR_SFR_HPP

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "sfr.h"

namespace sfr {

/* A failed libsfr call: status() is the sfr_status, what() the message. */
class error : public std::runtime_error {
public:
    error(sfr_status status, const std::string &message)
        : std::runtime_error(std::string(sfr_status_string(status)) + ": " + message),
          status_(status)
    {
    }
    sfr_status status() const noexcept { return status_; }

private:
    sfr_status status_;
};

/* Throws sfr::error for any status but SFR_OK, with the thread's last message. */
inline void check(sfr_status status)
{
    if (status != SFR_OK)
        throw error(status, sfr_last_error());
}

/*
 * Throws unless the library loaded at run time serves these headers: the same
 * major version (ABI) and at least the version compiled against. Call it once
 * at start-up.
 */
inline void check_version()
{
    unsigned v = sfr_version_number();
    if (v / 10000 != SFR_VERSION_MAJOR || v < SFR_VERSION_NUMBER)
        throw error(SFR_ERR_UNSUPPORTED, std::string("libsfr ") + sfr_version_string() +
                                             " does not serve headers of version " +
                                             std::to_string(SFR_VERSION_NUMBER));
}

/* A contiguous buffer the caller owns: pointer and element count. */
template <class T>
class span {
public:
    constexpr span() noexcept = default;
    constexpr span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    template <std::size_t N>
    constexpr span(T (&array)[N]) noexcept : data_(array), size_(N)
    {
    }
    template <class U, std::size_t N,
              class = std::enable_if_t<std::is_convertible_v<U (*)[], T (*)[]>>>
    constexpr span(std::array<U, N> &array) noexcept : data_(array.data()), size_(N)
    {
    }
    template <class U, std::size_t N,
              class = std::enable_if_t<std::is_convertible_v<const U (*)[], T (*)[]>>>
    constexpr span(const std::array<U, N> &array) noexcept : data_(array.data()), size_(N)
    {
    }
    template <class U, class A,
              class = std::enable_if_t<std::is_convertible_v<U (*)[], T (*)[]>>>
    span(std::vector<U, A> &v) noexcept : data_(v.data()), size_(v.size())
    {
    }
    template <class U, class A,
              class = std::enable_if_t<std::is_convertible_v<const U (*)[], T (*)[]>>>
    span(const std::vector<U, A> &v) noexcept : data_(v.data()), size_(v.size())
    {
    }
    /* A span of T converts to a span of const T. */
    template <class U, class = std::enable_if_t<std::is_convertible_v<U (*)[], T (*)[]>>>
    constexpr span(span<U> other) noexcept : data_(other.data()), size_(other.size())
    {
    }

    constexpr T *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }
    constexpr T *begin() const noexcept { return data_; }
    constexpr T *end() const noexcept { return data_ + size_; }

private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

namespace detail {

template <class T, void (*Destroy)(T *)>
struct deleter {
    void operator()(T *p) const noexcept { Destroy(p); }
};

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

/*
 * A tap that someone else owns (a net's tap, or a wrapped_tap's): a plain
 * copyable reference. The accessors throw SFR_ERR_STATE for a net's tap
 * before its net is compiled, and data() too before the net's first forward
 * since its last compile.
 */
class tap_ref {
public:
    explicit tap_ref(sfr_tap *tap) noexcept : tap_(tap) {}
    sfr_tap *get() const noexcept { return tap_; }

    /* {N, C, H, W}. */
    std::array<std::int64_t, 4> dims() const
    {
        std::array<std::int64_t, 4> d{};
        check(sfr_tap_dims(tap_, d.data()));
        return d;
    }
    /* The feature map, N*C*H*W floats in NCHW order. */
    span<const float> data() const
    {
        const float *p = nullptr;
        check(sfr_tap_data(tap_, &p));
        return {p, static_cast<std::size_t>(detail::volume(dims()))};
    }
    /* The gradient buffer (empty for a wrapped tap made without one). */
    span<float> grad() const
    {
        float *p = nullptr;
        check(sfr_tap_grad(tap_, &p));
        return {p, p == nullptr ? 0 : static_cast<std::size_t>(detail::volume(dims()))};
    }

private:
    sfr_tap *tap_;
};

/*
 * Host buffers wrapped as a tap (sfr_tap_wrap): dims {N, C, H, W}, data and
 * an optional gradient buffer of N*C*H*W floats each, which stay the
 * caller's and must outlive every use of the tap.
 */
class wrapped_tap {
public:
    wrapped_tap(const std::array<std::int64_t, 4> &dims, span<const float> data,
                span<float> grad = {})
    {
        check_sizes(dims, data, grad);
        sfr_tap *t = nullptr;
        check(sfr_tap_wrap(dims.data(), data.data(), grad.data(), &t));
        tap_.reset(t);
    }

    /* Points the tap at new buffers of the same shape. */
    void rebind(span<const float> data, span<float> grad = {})
    {
        check_sizes(ref().dims(), data, grad);
        check(sfr_tap_rebind(tap_.get(), data.data(), grad.data()));
    }

    tap_ref ref() const noexcept { return tap_ref(tap_.get()); }
    operator tap_ref() const noexcept { return ref(); }
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

/* The SFR regularizer (reg.h). */
class reg {
public:
    reg()
    {
        sfr_reg *r = nullptr;
        check(sfr_reg_create(&r));
        reg_.reset(r);
    }

    void set_param(sfr_param key, double value) { check(sfr_reg_set_param(get(), key, value)); }
    double get_param(sfr_param key) const
    {
        double value = 0;
        check(sfr_reg_get_param(get(), key, &value));
        return value;
    }

    /* Adds (student, teacher, beta) and returns the pair's index. */
    int add_pair(tap_ref student, tap_ref teacher, double beta)
    {
        int index = 0;
        check(sfr_reg_add_pair(get(), student.get(), teacher.get(), beta, &index));
        return index;
    }

    void set_progress(double t) { check(sfr_reg_set_progress(get(), t)); }

    void set_sample_ids(span<const std::int64_t> ids)
    {
        check(sfr_reg_set_sample_ids(get(), ids.data(), static_cast<std::int64_t>(ids.size())));
    }

    /*
     * The whole objective for n samples of k classes: logits (n, k), labels
     * (n), dlogits (n, k) overwritten with dL/dlogits; feature gradients are
     * added to the taps. Returns the loss.
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

    /* The feature terms alone, for taps of n samples. */
    double compute_features(std::int64_t n)
    {
        double loss = 0;
        check(sfr_reg_compute(get(), nullptr, nullptr, n, 0, nullptr, &loss));
        return loss;
    }

    double pair_loss(int index) const
    {
        double value = 0;
        check(sfr_reg_pair_loss(get(), index, &value));
        return value;
    }
    double label_loss() const
    {
        double value = 0;
        check(sfr_reg_label_loss(get(), &value));
        return value;
    }
    /* The largest Sinkhorn iteration count and row-marginal error of a pair. */
    std::pair<int, double> pair_stats(int index) const
    {
        int iterations = 0;
        double marginal_error = 0;
        check(sfr_reg_pair_stats(get(), index, &iterations, &marginal_error));
        return {iterations, marginal_error};
    }

    sfr_reg *get() const noexcept { return reg_.get(); }

private:
    std::unique_ptr<sfr_reg, detail::deleter<sfr_reg, sfr_reg_destroy>> reg_;
};

/* One parameter tensor's place in the flat buffers (sfr_net_param_info). */
struct param_info {
    std::string_view name;
    std::int64_t offset;
    std::int64_t size;
};

/* A network (net.h). Builder calls return layer ids. */
class net {
public:
    net()
    {
        sfr_net *n = nullptr;
        check(sfr_net_create(&n));
        net_.reset(n);
    }

    int input(int c, int h, int w)
    {
        int id = layer([&](int *out) { return sfr_net_input(get(), c, h, w, out); });
        input_volume_ = static_cast<std::int64_t>(c) * h * w;
        return id;
    }
    int conv2d(int in, int out_c, int kernel, int stride, int pad, bool bias)
    {
        return layer([&](int *id) {
            return sfr_net_conv2d(get(), in, out_c, kernel, stride, pad, bias ? 1 : 0, id);
        });
    }
    int batchnorm(int in)
    {
        return layer([&](int *id) { return sfr_net_batchnorm(get(), in, id); });
    }
    int relu(int in)
    {
        return layer([&](int *id) { return sfr_net_relu(get(), in, id); });
    }
    int maxpool(int in, int kernel, int stride, int pad = 0)
    {
        return layer([&](int *id) { return sfr_net_maxpool(get(), in, kernel, stride, pad, id); });
    }
    int avgpool(int in, int kernel, int stride, int pad = 0)
    {
        return layer([&](int *id) { return sfr_net_avgpool(get(), in, kernel, stride, pad, id); });
    }
    int global_avgpool(int in)
    {
        return layer([&](int *id) { return sfr_net_global_avgpool(get(), in, id); });
    }
    int linear(int in, int out_features)
    {
        return layer([&](int *id) { return sfr_net_linear(get(), in, out_features, id); });
    }
    int add(int a, int b)
    {
        return layer([&](int *id) { return sfr_net_add(get(), a, b, id); });
    }

    void compile(std::int64_t batch)
    {
        batch_ = 0;
        check(sfr_net_compile(get(), batch));
        batch_ = batch;
    }
    void init_params(std::uint64_t seed) { check(sfr_net_init_params(get(), seed)); }

    /* input: (batch, C, H, W) floats of the compiled batch size. */
    void forward(span<const float> input, bool training = true)
    {
        if (batch_ > 0)
            detail::expect_size("sfr::net::forward: input", input.size(), batch_ * input_volume_);
        check(sfr_net_forward(get(), input.data(), training ? 1 : 0));
    }

    /* The logits of the last forward: (batch, K) floats, owned by the net. */
    struct logits {
        span<const float> values;
        std::int64_t batch, classes;
    };
    logits output() const
    {
        const float *p = nullptr;
        std::int64_t dims[2] = {0, 0};
        check(sfr_net_output(get(), &p, dims));
        return {{p, static_cast<std::size_t>(dims[0] * dims[1])}, dims[0], dims[1]};
    }

    /* dlogits: (batch, K) floats, the gradient of the loss by the logits. */
    void backward(span<const float> dlogits)
    {
        logits out = output();
        detail::expect_size("sfr::net::backward: dlogits", dlogits.size(),
                            out.batch * out.classes);
        check(sfr_net_backward(get(), dlogits.data()));
    }

    /* The net's tap on a layer's output (owned by the net). */
    tap_ref tap(int layer_id)
    {
        sfr_tap *t = nullptr;
        check(sfr_net_tap(get(), layer_id, &t));
        return tap_ref(t);
    }

    /* The flat parameter and gradient buffers (count floats each). */
    struct param_buffers {
        span<float> values, grads;
    };
    param_buffers params()
    {
        float *values = nullptr, *grads = nullptr;
        std::int64_t count = 0;
        check(sfr_net_params(get(), &values, &grads, &count));
        return {{values, static_cast<std::size_t>(count)}, {grads, static_cast<std::size_t>(count)}};
    }
    int param_tensors() const
    {
        int count = 0;
        check(sfr_net_param_tensors(get(), &count));
        return count;
    }
    param_info param(int i) const
    {
        const char *name = nullptr;
        param_info info{{}, 0, 0};
        check(sfr_net_param_info(get(), i, &name, &info.offset, &info.size));
        info.name = name;
        return info;
    }

    void save(const std::string &path) const { check(sfr_net_save(get(), path.c_str())); }
    void load(const std::string &path) { check(sfr_net_load(get(), path.c_str())); }

    sfr_net *get() const noexcept { return net_.get(); }

private:
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

/* SGD with PyTorch's semantics on one net's parameters (sgd.h). */
class sgd {
public:
    explicit sgd(double lr, double momentum = 0, double weight_decay = 0, bool nesterov = false)
    {
        sfr_sgd *o = nullptr;
        check(sfr_sgd_create(&o, lr, momentum, weight_decay, nesterov ? 1 : 0));
        sgd_.reset(o);
    }
    void step(net &n) { check(sfr_sgd_step(get(), n.get())); }
    void set_lr(double lr) { check(sfr_sgd_set_lr(get(), lr)); }
    sfr_sgd *get() const noexcept { return sgd_.get(); }

private:
    std::unique_ptr<sfr_sgd, detail::deleter<sfr_sgd, sfr_sgd_destroy>> sgd_;
};

} // namespace sfr

#endif /* SFR_SFR_HPP */
