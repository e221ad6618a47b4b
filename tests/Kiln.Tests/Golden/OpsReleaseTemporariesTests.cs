using System;
using System.Collections.Generic;
using System.Linq;
using Kiln.Memory;
using Kiln.Tests.NN;
using Xunit;

namespace Kiln.Tests.Golden;

/// <summary>
/// Every golden case (course.json; nn.json's functional, loss and module cases) run without gradients and its outputs disposed
/// must give back every block it took: an op's temporaries are disposed by the op (a `using`, or a TensorScope around a
/// composite), not left to the collector — left there, a big one keeps its memory until a finalizer runs, and the
/// allocator's collections (it forces one each 256 MB of such garbage) stall the loop that made them. Each case runs
/// twice and the second run is measured (a first call may build a cached table). The cases below still leave something
/// to the collector (some in the case's own call, most in distributions and linear algebra): the list may only shrink.
/// </summary>
[Collection("Allocator")]
public class OpsReleaseTemporariesTests
{
    static readonly HashSet<string> StillLeaking =
    [
        "addbmm_vecdot", "addcmul_addcdiv", "aliases", "argwhere_unravel", "atleast_and_stacks", "autograd_functional",
        "autograd_functional_many", "bce_with_logits_loss", "cholesky_solve", "complex_abs_angle", "cov", "cross",
        "cross_entropy_loss", "cummax", "cummin", "dist_affine_sigmoid", "dist_bernoulli_probs", "dist_beta",
        "dist_binomial_grad", "dist_binomial_logits", "dist_categorical_logits", "dist_categorical_probs",
        "dist_cauchy", "dist_cauchy_icdf", "dist_cdf_icdf", "dist_chi2", "dist_continuous_bernoulli",
        "dist_continuous_bernoulli_logits", "dist_dirichlet", "dist_dirichlet_entropy", "dist_fisher_snedecor",
        "dist_gamma", "dist_gamma_cdf", "dist_geometric", "dist_geometric_logits", "dist_gumbel",
        "dist_half_below_zero", "dist_halfcauchy", "dist_halfnormal", "dist_independent", "dist_kumaraswamy",
        "dist_laplace", "dist_lkj_cholesky", "dist_logistic_normal", "dist_lognormal", "dist_lowrank_mvn",
        "dist_lowrank_mvn_matrices", "dist_mixture", "dist_mixture_event", "dist_modes", "dist_multinomial",
        "dist_multinomial_logits", "dist_mvn_covariance", "dist_mvn_precision", "dist_mvn_scale_tril",
        "dist_negative_binomial", "dist_negative_binomial_logits", "dist_normal", "dist_onehot_categorical",
        "dist_pareto", "dist_poisson", "dist_relaxed_bernoulli", "dist_relaxed_bernoulli_probs", "dist_relaxed_onehot",
        "dist_relaxed_onehot_probs", "dist_studentt", "dist_studentt_entropy", "dist_tanh_normal", "dist_uniform",
        "dist_uniform_outside", "dist_von_mises", "dist_weibull", "dist_wishart_covariance", "dist_wishart_precision",
        "dist_wishart_scale_tril", "einsum_batch_diagonal", "einsum_diagonal", "einsum_repeated_with_product",
        "enumerate_support", "fft_freq_shift", "functional/affine_grid_sample", "functional/affine_grid_sample_align",
        "functional/fractional_max_pool2d", "functional/fractional_max_pool2d_indices",
        "functional/fractional_max_pool2d_ratio_rect", "functional/max_unpool1d", "functional/max_unpool2d",
        "functional/max_unpool2d_padding_size", "functional/maxpool_indices",
        "functional/maxpool_indices_ceil_dilation", "functional/one_hot", "fuse_conv_bn", "fuse_conv_transpose_bn",
        "fuse_linear_bn", "gcd_lcm", "histogram", "index_add", "index_add_dim1", "index_assign", "index_reduce_amax",
        "index_reduce_amax_exclude", "index_reduce_amin", "index_reduce_amin_exclude", "index_reduce_mean",
        "index_reduce_mean_exclude", "index_reduce_prod", "index_reduce_prod_exclude", "inner",
        "instance_norm1d_affine", "istft", "kl_bernoulli", "kl_bernoulli_grad", "kl_categorical", "kl_cauchy",
        "kl_cross_beta", "kl_cross_continuous_bernoulli", "kl_cross_exponential_gamma", "kl_cross_location_scale",
        "kl_cross_pareto", "kl_cross_uniform", "kl_exponential_laplace_poisson", "kl_gamma_beta", "kl_independent",
        "kl_lowrank_mvn", "kl_more_families", "kl_mvn", "kl_normal", "kl_same_more", "kl_uniform", "kron",
        "linalg_cholesky", "linalg_eigh", "linalg_eigvalsh", "linalg_logdet", "linalg_lstsq",
        "linalg_lstsq_batched_vector", "linalg_lstsq_wide", "linalg_matrix_exp", "linalg_matrix_exp_float64",
        "linalg_multi_dot", "linalg_pinv_rank_deficient", "linalg_pinv_tall", "linalg_pinv_wide_batch",
        "linalg_svdvals", "losses/ce", "losses/ce_kdim", "losses/ce_none_weight", "losses/ce_smoothing",
        "losses/ce_smoothing_sum_ignore", "losses/ce_smoothing_weight_ignore", "losses/ce_sum",
        "losses/ce_weight_ignore", "losses/ctc_concatenated_sum", "losses/ctc_empty_target",
        "losses/ctc_impossible_zero_infinity", "losses/ctc_padded_mean", "losses/ctc_repeats_none",
        "losses/ctc_unbatched_blank_last", "losses/multi_margin", "losses/multi_margin_p2_weight",
        "losses/multilabel_margin", "losses/multilabel_margin_none", "losses/multilabel_margin_vector_sum",
        "losses/nll", "losses/nll_weight_none", "masked_scatter", "masked_select", "masked_select_broadcast",
        "median_all", "median_dim", "median_even_keepdim", "mode", "mode_grad", "nanmedian_all_nan", "nextafter",
        "perplexity", "repeat_interleave_counts", "rfft2_irfft2", "scatter_reduce_amax",
        "scatter_reduce_amax_exclude_self", "scatter_reduce_amax_ties", "scatter_reduce_amin",
        "scatter_reduce_amin_exclude_self", "scatter_reduce_int_mean", "scatter_reduce_prod",
        "scatter_reduce_prod_exclude_self", "scatter_reduce_prod_zeros", "signal_windows", "special_bessel_float64",
        "special_erfcx", "special_erfcx_float64", "special_gammainc", "special_i0", "special_i0e_grad",
        "special_i1_grad", "special_i1e_grad", "special_ndtr", "special_ndtri", "special_ndtri_ends",
        "special_xlog1py_entr", "stft", "stft_istft_round_trip", "take_along_dim_broadcast", "take_put", "tensordot",
        "topk", "topk_smallest_dim0", "transform_to", "transforms_more", "unique_dim", "unpad_unpack_sequence",
        "modules/spectral_norm_linear", "modules/spectral_norm_linear_eval",
        "modules/spectral_norm_conv2d_two_steps", "modules/spectral_norm_conv_transpose2d", "modules/weight_norm_linear",
        "modules/weight_norm_conv2d_whole", "modules/weight_norm_linear_dim1", "modules/spectral_norm_conv_transpose3d",
        "modules/adaptive_log_softmax", "modules/adaptive_log_softmax_head_bias",
    ];

    [Fact]
    public void EveryOpDisposesItsTemporaries()
    {
        var leaks = new List<string>();
        foreach (var name in CourseGoldenTests.AllNames()) Measure(name, () => CourseGoldenTests.RunAndDispose(name), leaks);
        foreach (var (section, cases) in new[] { ("functional", FunctionalGoldenTests.FunctionalCases()), ("losses", FunctionalGoldenTests.LossCases()) })
            foreach (var row in cases)
            {
                var name = (string)row[0];
                Measure($"{section}/{name}", () => FunctionalGoldenTests.RunAndDispose(section, name), leaks);
            }
        foreach (var row in ModuleGoldenTests.Cases())
        {
            var name = (string)row[0];
            Measure($"modules/{name}", ModuleGoldenTests.ForwardAndDispose(name), leaks);
        }
        Assert.True(leaks.Count == 0, "ops that left tensors to the collector: " + string.Join("; ", leaks));
    }

    static void Measure(string name, Action run, List<string> leaks)
    {
        run();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long before = CachingAllocator.LiveBlocks;
        run();
        long left = CachingAllocator.LiveBlocks - before;
        // A collection during the run can only lower the count (it frees garbage of this run too), never raise it.
        if (left > 0 && !StillLeaking.Contains(name)) leaks.Add($"{name}: {left} blocks");
    }
}
