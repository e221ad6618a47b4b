using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text.Json;
using Xunit;
using KD = Kiln.Distributions;

namespace Kiln.Tests.Golden;

/// <summary>
/// The first-hour tensor surface against PyTorch (tests/golden/make_course_golden.py): every output, and for float
/// cases the gradient of sum(output · weights) for each input. Tolerances: elementwise rel 1e-5, reductions and
/// gradients rel 1e-4 (absolute 1e-6 near zero).
/// </summary>
public class CourseGoldenTests
{
    static readonly JsonElement Root = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "golden", "course.json"))).RootElement;

    static JsonElement Case(string name) => Root.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);

    public static TheoryData<string> Names() => new(Root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!));

    static DType TypeOf(string name) => name switch
    {
        "float32" => DType.Float32,
        "float64" => DType.Float64,
        "int64" => DType.Int64,
        "int32" => DType.Int32,
        "bool" => DType.Bool,
        "uint8" => DType.UInt8,
        "int8" => DType.Int8,
        _ => throw new InvalidOperationException(name),
    };

    static Tensor Build(JsonElement spec)
    {
        var shape = spec.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        var values = spec.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).ToArray();
        using var f64 = Tensor.From(values, values.Length == 0 ? [0] : [values.Length]);
        using var shaped = f64.Reshape(shape);
        return shaped.To(TypeOf(spec.GetProperty("dtype").GetString()!));
    }

    static Tensor K(KD.Distribution p, KD.Distribution q) => KD.Kl.Divergence(p, q);

    /// <summary>A case PyTorch records with <c>validate_args=False</c> (values outside the support).</summary>
    static Tensor[] Unvalidated(Func<Tensor[]> call)
    {
        using var scope = KD.Distribution.ValidateArgsScope(false);
        return call();
    }

    static readonly Dictionary<string, Func<Dictionary<string, Tensor>, Tensor[]>> Calls = new()
    {
        ["floor"] = i => [i["x"].Floor()],
        ["ceil"] = i => [i["x"].Ceil()],
        ["round"] = i => [i["x"].Round()],
        ["trunc"] = i => [i["x"].Trunc()],
        ["sign"] = i => [i["x"].Sign()],
        ["sign_nan"] = i => [i["x"].Sign()],
        ["floor_int"] = i => [i["x"].Floor()],
        ["sign_int"] = i => [i["x"].Sign()],
        ["erf"] = i => [i["x"].Erf()],
        ["erf_small"] = i => [i["x"].Erf()],
        ["log2"] = i => [i["x"].Log2()],
        ["log10"] = i => [i["x"].Log10()],
        ["tan"] = i => [i["x"].Tan()],
        ["asin"] = i => [i["x"].Asin()],
        ["acos"] = i => [i["x"].Acos()],
        ["atan"] = i => [i["x"].Atan()],
        ["atan2"] = i => [i["y"].Atan2(i["x"])],
        ["remainder"] = i => [i["a"].Remainder(i["b"])],
        ["remainder_int"] = i => [i["a"] % i["b"]],
        ["remainder_scalar"] = i => [i["a"] % 2.0],
        ["bitwise_int"] = i => [i["a"] & i["b"], i["a"] | i["b"], i["a"] ^ i["b"], ~i["a"]],
        ["bitwise_bool"] = i => [i["a"] & i["b"], i["a"] | i["b"], i["a"] ^ i["b"], ~i["a"]],
        ["bitwise_uint8"] = i => [~i["a"]],
        ["isnan_isinf_isfinite"] = i => [i["x"].IsNan(), i["x"].IsInf(), i["x"].IsFinite()],
        ["isclose"] = i => [i["a"].IsClose(i["b"]), i["a"].IsClose(i["b"], equalNan: true), i["a"].IsClose(i["b"], rtol: 1e-3, atol: 0)],
        ["lerp"] = i => [i["s"].Lerp(i["e"], i["w"])],
        ["lerp_scalar"] = i => [i["s"].Lerp(i["e"], 0.3)],
        ["addcmul_addcdiv"] = i => [i["t"].Addcmul(i["a"], i["b"], 0.5) + i["t"].Addcdiv(i["a"], i["b"], -2.0)],
        ["sort_last"] = i => Pair(i["x"].Sort()),
        ["sort_dim0_desc"] = i => Pair(i["x"].Sort(0, descending: true)),
        ["sort_nan"] = i => Pair(i["x"].Sort()),
        ["sort_ties_stable"] = i => Pair(i["x"].Sort()),
        ["argsort"] = i => [i["x"].Argsort(1, descending: true)],
        ["topk"] = i => Pair(i["x"].TopK(3)),
        ["topk_smallest_dim0"] = i => Pair(i["x"].TopK(2, 0, largest: false)),
        ["median_all"] = i => [i["x"].Median()],
        ["median_dim"] = i => Pair(i["x"].Median(1)),
        ["median_even_keepdim"] = i => Pair(i["x"].Median(0, keepDim: true)),
        ["quantile_all"] = i => [i["x"].Quantile(0.3)],
        ["quantile_dim"] = i => [i["x"].Quantile(0.75, 1)],
        ["quantile_keepdim"] = i => [i["x"].Quantile(0.5, 0, keepDim: true)],
        ["unique"] = i => Triple(i["x"].Unique()),
        ["unique_float"] = i => Triple(i["x"].Unique()),
        ["nonzero"] = i => [i["x"].Nonzero()],
        ["masked_select"] = i => [i["x"][i["mask"]]],
        ["masked_select_broadcast"] = i => [i["x"].MaskedSelect(i["mask"])],
        ["index_tensor"] = i => [i["x"][i["i"]]],
        ["index_tensor_dim1"] = i => [i["x"][.., i["i"]]],
        ["roll"] = i => [i["x"].Roll(1, 1), i["x"].Roll(-5, 0), i["x"].Roll(3)],
        ["tile"] = i => [i["x"].Tile(2), i["x"].Tile(2, 1, 2)],
        ["movedim_unbind"] = i => [i["x"].Movedim(0, 2), .. i["x"].Unbind(1)],
        ["diag_1d"] = i => [i["x"].Diag(), i["x"].Diag(1), i["x"].Diag(-2)],
        ["diag_2d"] = i => [i["x"].Diag(), i["x"].Diag(1), i["x"].Diag(-1)],
        ["trace"] = i => [i["x"].Trace()],
        ["flip"] = i => [i["x"].Flip(1), i["x"].Flip(0, 2), i["x"].Flip(-1, 0, 1), i["x"].Flip([])],
        ["flip_scalar"] = i => [i["x"].Flip(0), i["x"].Flip([-1])],
        ["norm_zero_rows_p2"] = i => [i["x"].Norm(2, [1])],
        ["norm_zero_rows_p1"] = i => [i["x"].Norm(1, [1])],
        ["norm_zero_rows_p3"] = i => [i["x"].Norm(3, [1])],
        ["norm_zero_rows_p0_5"] = i => [i["x"].Norm(0.5, [1])],
        ["norm_zero_rows_p1_5"] = i => [i["x"].Norm(1.5, [1])],
        ["norm_zero_rows_pinf"] = i => [i["x"].Norm(double.PositiveInfinity, [1])],
        ["amax_ties"] = i => [i["x"].Amax(1), i["x"].Amax([0, 1]), i["x"].Amax(0, keepDim: true)],
        ["amax_all"] = i => [i["x"].Amax()],
        ["amin_ties_keepdim"] = i => [i["x"].Amin(1, keepDim: true), i["x"].Amin(0)],
        ["logaddexp"] = i => [i["a"].Logaddexp(i["b"])],
        ["xlogy"] = i => [i["x"].Xlogy(i["y"])],
        ["xlogy_zero"] = i => [i["x"].Xlogy(i["y"])],
        ["meshgrid_ij"] = i => Tensor.Meshgrid([i["a"], i["b"]], "ij"),
        ["meshgrid_xy"] = i => Tensor.Meshgrid([i["a"], i["b"], i["c"]], "xy"),
        ["hstack"] = i => [Tensor.Hstack(i["a"], i["b"])],
        ["hstack_vectors"] = i => [Tensor.Hstack(i["a"], i["b"])],
        ["vstack"] = i => [Tensor.Vstack(i["a"], i["b"])],
        ["rot90"] = i => [i["x"].Rot90(), i["x"].Rot90(2), i["x"].Rot90(3, 1, 2), i["x"].Rot90(-1, 0, 2)],
        ["diff"] = i => [i["x"].Diff(2, prepend: i["p"]), i["x"].Diff(dim: 0)],
        ["take_along_dim"] = i => [i["x"].TakeAlongDim(i["i"], 1)],
        ["take_along_dim_broadcast"] = i => [i["x"].TakeAlongDim(i["i"].T, 0)],
        ["take_along_dim_flat"] = i => [i["x"].TakeAlongDim(i["i"])],
        ["cdist"] = i => [Tensor.Cdist(i["a"], i["b"])],
        ["cdist_p1_batched"] = i => [Tensor.Cdist(i["a"], i["b"], 1)],
        ["cdist_products"] = i => [Tensor.Cdist(i["a"], i["b"])],
        ["bincount"] = i => [i["x"].Bincount(), i["x"].Bincount(minlength: 6), i["x"].Bincount(i["w"])],
        ["count_nonzero"] = i => [i["x"].CountNonzero(), i["x"].CountNonzero(0)],
        ["searchsorted"] = i => [Tensor.Searchsorted(i["s"], i["v"]), Tensor.Searchsorted(i["s"], i["v"], right: true), i["v"].Bucketize(i["s"]), i["v"].Bucketize(i["s"], right: true)],
        ["searchsorted_rows"] = i => [Tensor.Searchsorted(i["s"], i["v"])],
        ["index_add"] = i => [i["x"].IndexAdd(0, i["i"], i["s"]), i["x"].IndexAdd(0, i["i"], i["s"], alpha: -0.5)],
        ["index_add_dim1"] = i => [i["x"].IndexAdd(1, i["i"], i["s"])],
        ["index_copy"] = i => [i["x"].IndexCopy(0, i["i"], i["s"])],
        ["index_fill"] = i => [i["x"].IndexFill(1, i["i"], -1.5), i["x"].IndexFill(0, i["i"], 2.0)],
        ["repeat_interleave"] = i => [i["x"].RepeatInterleave(2), i["x"].RepeatInterleave(3, dim: 1), i["x"].RepeatInterleave(2, dim: 0)],
        ["repeat_interleave_counts"] = i => [i["x"].RepeatInterleave(i["r"], dim: 0), i["x"].RepeatInterleave(Tensor.From(new long[] { 2 }, 1), dim: 1)],
        ["cummax"] = i => [i["x"].Cummax(1).Values, i["x"].Cummax(1).Indices, i["x"].Cummax(0).Values],
        ["cummin"] = i => [i["x"].Cummin(1).Values, i["x"].Cummin(1).Indices, i["x"].Cummin(0).Indices],
        ["cummax_ties_nan"] = i => [.. Pair(i["x"].Cummax(1)), .. Pair(i["x"].Cummin(1))],
        ["cummax_int"] = i => Pair(i["x"].Cummax(1)),
        ["logcumsumexp"] = i => [i["x"].Logcumsumexp(1), i["x"].Logcumsumexp(0)],
        ["logcumsumexp_wide_range"] = i => [i["x"].Logcumsumexp(0)],
        ["nan_to_num"] = i => [i["x"].NanToNum(), i["x"].NanToNum(2.0, 5.0, -5.0)],
        ["nansum"] = i => [i["x"].Nansum(), i["x"].Nansum(1), i["x"].Nansum(0, keepDim: true)],
        ["nanmean"] = i => [i["x"].Nanmean(0), i["x"].Nanmean(), i["x"].Nanmean(1)],
        ["unfold_windows"] = i => [i["x"].Unfold(1, 3, 2), i["x"].Unfold(0, 2, 1), i["x"].Unfold(1, 7, 1)],
        ["unfold_middle"] = i => [i["x"].Unfold(1, 2, 3)],
        ["diagonal"] = i => [i["x"].Diagonal(0, 1, 2), i["x"].Diagonal(1, 0, 2), i["x"].Diagonal(-2, 2, 1), i["x"].Diagonal()],
        ["diag_embed"] = i => [i["x"].DiagEmbed(), i["x"].DiagEmbed(1), i["x"].DiagEmbed(-1, 0, 2)],
        ["tensor_split"] = i => [.. i["x"].TensorSplit(3), .. i["x"].TensorSplit([2, 5]), .. i["x"].TensorSplit([4, 2, 9])],
        ["dot_mv_mm"] = i => [i["m"].Mm(i["n"]), i["a"].Dot(i["a"]), i["m"].Mv(i["a"])],
        ["inner"] = i => [i["a"].Inner(i["b"]), i["a"][0].Inner(i["b"][1])],
        ["kron"] = i => [i["a"].Kron(i["b"]), i["a"][0].Kron(i["b"])],
        ["baddbmm"] = i => [Tensor.Baddbmm(i["x"], i["b1"], i["b2"], beta: 0.5, alpha: 2.0), Tensor.Baddbmm(i["x"], i["b1"], i["b2"])],
        ["addmv_addr"] = i => [Tensor.Addmv(i["x"], i["m"], i["v"], beta: 2.0, alpha: -1.0), Tensor.Addr(i["m"], i["x"], i["v"], beta: 0.5)],
        ["addmv_beta_zero"] = i => [Tensor.Addmv(i["x"], i["m"], i["v"], beta: 0.0)],
        ["cross"] = i => [Linalg.Cross(i["a"], i["b"]), i["a"].T.Cross(i["b"].T, dim: 0)],
        ["matrix_power"] = i => [Linalg.MatrixPower(i["a"], 5), Linalg.MatrixPower(i["a"], 0), i["a"].MatrixPower(1), Linalg.MatrixPower(i["a"], -2)],
        ["cov"] = i => [i["x"].Cov(), i["x"].Cov(correction: 0), i["x"][0].Cov()],
        ["cov_weights"] = i => [i["x"].Cov(fweights: i["fw"], aweights: i["aw"]), i["x"].Cov(aweights: i["aw"]), i["x"].Cov(0, fweights: i["fw"])],
        ["corrcoef"] = i => [i["x"].Corrcoef()],
        ["kthvalue"] = i => [.. Pair(i["x"].Kthvalue(2, 1)), .. Pair(i["x"].Kthvalue(3, 0, keepDim: true))],
        ["unique_consecutive"] = i => Triple(i["x"].UniqueConsecutive()),
        ["histc"] = i => [i["x"].Histc(7), i["x"].Histc(5, -1.0, 1.0), i["x"].Histc(4, 0.0, 0.0)],
        ["histc_edges"] = i => [i["x"].Histc(4, 0.0, 1.0)],
        ["fmod"] = i => [i["a"].Fmod(i["b"]), i["a"].Fmod(1.5)],
        ["fmod_int"] = i => [i["a"].Fmod(i["b"])],
        ["frac"] = i => [i["x"].Frac()],
        ["hypot"] = i => [i["a"].Hypot(i["b"])],
        ["copysign"] = i => [i["a"].Copysign(i["b"]), i["a"].Copysign(-1.0)],
        ["signbit"] = i => [i["x"].Signbit()],
        ["sinc"] = i => [i["x"].Sinc()],
        ["deg2rad_rad2deg"] = i => [i["x"].Deg2rad(), i["x"].Rad2deg()],
        ["deg2rad_int"] = i => [i["x"].Deg2rad(), i["x"].Rad2deg()],
        ["heaviside"] = i => [i["x"].Heaviside(i["v"])],
        ["float_power"] = i => [i["x"].FloatPower(i["y"]), i["x"].FloatPower(3)],
        ["floor_divide"] = i => [i["a"].FloorDivide(i["b"])],
        ["floor_divide_int"] = i => [i["a"].FloorDivide(i["b"]), i["a"].FloorDivide(2)],
        ["logaddexp2"] = i => [i["a"].Logaddexp2(i["b"])],
        ["logical_ops"] = i => [i["a"].LogicalAnd(i["b"]), i["a"].LogicalOr(i["b"]), i["a"].LogicalXor(i["b"])],
        ["isposinf_isneginf"] = i => [i["x"].Isposinf(), i["x"].Isneginf()],
        ["aliases"] = i => [i["x"].Swapaxes(0, 2), i["x"].Moveaxis(0, 1), i["x"][.., ..1].BroadcastTo(2, 3, 4), i["x"].ClampMin(0.1), i["x"].ClampMax(-0.2),
            i["x"].ReshapeAs(i["x"].Swapaxes(0, 2)).Clip(-0.5, 0.5)],
        ["dist_msort"] = i => [i["a"].Dist(i["b"]), i["a"].Dist(i["b"], 1), i["a"].Msort()],
        ["scatter_reduce_sum"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "sum")],
        ["scatter_reduce_sum_exclude_self"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "sum", includeSelf: false)],
        ["scatter_reduce_prod"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "prod")],
        ["scatter_reduce_prod_exclude_self"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "prod", includeSelf: false)],
        ["scatter_reduce_mean"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "mean")],
        ["scatter_reduce_mean_exclude_self"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "mean", includeSelf: false)],
        ["scatter_reduce_amax"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "amax")],
        ["scatter_reduce_amax_exclude_self"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "amax", includeSelf: false)],
        ["scatter_reduce_amin"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "amin")],
        ["scatter_reduce_amin_exclude_self"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "amin", includeSelf: false)],
        ["scatter_reduce_amax_ties"] = i => [i["x"].ScatterReduce(1, i["i"], i["s"], "amax")],
        ["scatter_reduce_prod_zeros"] = i => [i["x"].ScatterReduce(1, i["i"], i["s"], "prod")],
        ["scatter_reduce_int_mean"] = i => [i["x"].ScatterReduce(0, i["i"], i["s"], "mean"), i["x"].ScatterReduce(0, i["i"], i["s"], "amax", includeSelf: false)],
        ["linalg_cholesky"] = i => [Linalg.Cholesky(i["x"].Matmul(i["x"].Transpose(-2, -1)) + Tensor.Eye(3, null, DType.Float64))],
        ["linalg_eigh"] = i => Linalg.Eigh(i["x"] + i["x"].Transpose(-2, -1)) is var (l, v) ? [v * v * l.Unsqueeze(-2), l] : [],
        ["linalg_eigvalsh"] = i => [Linalg.Eigvalsh(i["x"] + i["x"].T)],
        ["tensordot"] = i => [i["a"].Tensordot(i["b"]), i["a"].Tensordot(i["b"], 0).Sum([-1]), i["a"].Tensordot(i["b"].Permute(1, 2, 0), [1, 2], [2, 0])],
        ["block_diag"] = i => [Tensor.BlockDiag(i["a"], i["b"], i["c"], i["d"])],
        ["cartesian_prod"] = i => [Tensor.CartesianProd(i["a"], i["b"], i["c"]), Tensor.CartesianProd(i["a"], i["b"])],
        ["combinations"] = i => [i["x"].Combinations(), i["x"].Combinations(3), i["x"].Combinations(withReplacement: true)],
        ["tril_triu_indices"] = i => [Tensor.TrilIndices(3, 4), Tensor.TrilIndices(4, 3, -1), Tensor.TriuIndices(3, 4, 1), Tensor.TriuIndices(4, 4, -2)],
        ["vander"] = i => [i["x"].Vander(), i["x"].Vander(3, increasing: true), i["x"].Vander(1)],
        ["vander_int"] = i => [i["x"].Vander(4)],
        ["logspace"] = i => [Tensor.Logspace(-2, 3, 6), Tensor.Logspace(0, 4, 5, 2), Tensor.Logspace(1, 1.5, 4, dtype: DType.Float64)],
        ["std_mean"] = i => [.. Pair(i["x"].StdMean([1])), .. Pair(i["x"].StdMean([0], correction: 0, keepDim: true))],
        ["var_mean"] = i => [.. Pair(i["x"].VarMean([0, 1])), .. Pair(i["x"].VarMean([1], correction: 0))],
        ["trapezoid"] = i => [i["y"].Trapezoid(i["x"]), i["y"].Trapezoid(0.5, 0), i["y"].Trapezoid()],
        ["trapezoid_broadcast_x"] = i => [i["y"].Trapezoid(i["x"], 1)],
        ["cumulative_trapezoid"] = i => [i["y"].CumulativeTrapezoid(i["x"]), i["y"].CumulativeTrapezoid(2.0, 0)],
        ["ldexp"] = i => [i["x"].Ldexp(i["e"])],
        ["frexp"] = i => Pair(i["x"].Frexp()),
        ["renorm"] = i => [i["x"].Renorm(2, 0, 2.5), i["x"].Renorm(1, 2, 3.0)],
        ["renorm_inf"] = i => [i["x"].Renorm(double.PositiveInfinity, 1, 1.0)],
        ["linalg_slogdet"] = i => Linalg.Slogdet(i["x"]) is var (sign, log) ? [log, sign] : [],
        ["linalg_logdet"] = i => [Linalg.Logdet(i["x"].Matmul(i["x"].T) + Tensor.Eye(3, null, DType.Float64))],
        ["linalg_pinv_tall"] = i => [Linalg.Pinv(i["x"])],
        ["linalg_pinv_wide_batch"] = i => [Linalg.Pinv(i["x"])],
        ["linalg_pinv_rank_deficient"] = i => [Linalg.Pinv(i["x"])],
        ["dist_normal"] = i => new Kiln.Distributions.Normal(i["loc"], i["scale"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Cdf(i["x"])] : [],
        ["dist_uniform"] = i => new Kiln.Distributions.Uniform(i["low"], i["high"]) is var d ? [d.LogProb(i["x"]), d.Entropy()] : [],
        ["dist_uniform_outside"] = i => Unvalidated(() => [new Kiln.Distributions.Uniform(i["low"], i["high"]).LogProb(i["x"])]),
        ["dist_bernoulli_probs"] = i => new Kiln.Distributions.Bernoulli(probs: i["p"]) is var d ? [d.LogProb(i["x"]), d.Entropy()] : [],
        ["dist_bernoulli_logits"] = i => new Kiln.Distributions.Bernoulli(logits: i["l"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Probs] : [],
        ["dist_categorical_logits"] = i => new Kiln.Distributions.Categorical(logits: i["l"]) is var d ? [d.LogProb(i["v"]), d.Entropy(), d.Probs] : [],
        ["dist_categorical_probs"] = i => new Kiln.Distributions.Categorical(probs: i["p"]) is var d ? [d.LogProb(i["v"]), d.Entropy()] : [],
        ["dist_mvn_scale_tril"] = i => new Kiln.Distributions.MultivariateNormal(i["loc"], scaleTril: i["L"]) is var d ? [d.LogProb(i["x"]), d.Entropy()] : [],
        ["dist_mvn_covariance"] = i => new Kiln.Distributions.MultivariateNormal(i["loc"], covarianceMatrix: i["c"].Matmul(i["c"].T) + Tensor.Eye(3).To(i["c"].Device)) is var d
            ? [d.LogProb(i["x"]), d.Variance] : [],
        ["kl_normal"] = i => [Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Normal(i["l1"], i["s1"]), new Kiln.Distributions.Normal(i["l2"], i["s2"]))],
        ["kl_bernoulli"] = i => [Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Bernoulli(probs: i["p"]), new Kiln.Distributions.Bernoulli(probs: i["q"]))],
        ["kl_bernoulli_grad"] = i => [Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Bernoulli(logits: i["lp"]), new Kiln.Distributions.Bernoulli(logits: i["lq"]))],
        ["kl_categorical"] = i => [Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Categorical(logits: i["a"]), new Kiln.Distributions.Categorical(logits: i["b"]))],
        ["kl_uniform"] = i => [Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Uniform(i["l1"], i["h1"]), new Kiln.Distributions.Uniform(i["l2"], i["h2"]))],
        ["kl_mvn"] = i => [Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.MultivariateNormal(i["m1"], covarianceMatrix: i["c1"].Matmul(i["c1"].T) + Tensor.Eye(3).To(i["c1"].Device)),
            new Kiln.Distributions.MultivariateNormal(i["m2"], scaleTril: i["L2"]))],
        ["lgamma"] = i => [i["x"].Lgamma()],
        ["lgamma_float64"] = i => [i["x"].Lgamma()],
        ["lgamma_poles"] = i => [i["x"].Lgamma()],
        ["digamma"] = i => [i["x"].Digamma()],
        ["digamma_float64"] = i => [i["x"].Digamma()],
        ["digamma_poles"] = i => [i["x"].Digamma()],
        ["erfinv"] = i => [i["x"].Erfinv()],
        ["erfinv_float64"] = i => [i["x"].Erfinv()],
        ["erfinv_ends"] = i => [i["x"].Erfinv()],
        ["dist_exponential"] = i => new Kiln.Distributions.Exponential(i["r"]) is var d ? [d.LogProb(i["x"]), d.Entropy()] : [],
        ["dist_laplace"] = i => new Kiln.Distributions.Laplace(i["loc"], i["s"]) is var d ? [d.LogProb(i["x"]), d.Entropy()] : [],
        ["dist_gamma"] = i => new Kiln.Distributions.Gamma(i["a"], i["b"]) is var d ? [d.LogProb(i["x"]), d.Entropy()] : [],
        ["dist_beta"] = i => new Kiln.Distributions.Beta(i["a"], i["b"]) is var d ? [d.LogProb(i["x"]), d.Entropy()] : [],
        ["dist_poisson"] = i => [new Kiln.Distributions.Poisson(i["r"]).LogProb(i["k"])],
        ["kl_exponential_laplace_poisson"] = i => [Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Exponential(i["r1"]), new Kiln.Distributions.Exponential(i["r2"]))
            + Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Laplace(i["m1"], i["r1"]), new Kiln.Distributions.Laplace(i["m2"], i["r2"])) + Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Poisson(i["r1"]), new Kiln.Distributions.Poisson(i["r2"]))],
        ["kl_gamma_beta"] = i => [Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Gamma(i["a1"], i["b1"]), new Kiln.Distributions.Gamma(i["a2"], i["b2"])),
            Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Beta(i["a1"], i["b1"]), new Kiln.Distributions.Beta(i["a2"], i["b2"]))],
        ["dist_independent"] = i => [new Kiln.Distributions.Independent(new Kiln.Distributions.Normal(i["loc"], i["s"]), 1).LogProb(i["x"]),
            new Kiln.Distributions.Independent(new Kiln.Distributions.Normal(i["loc"], i["s"]), 2).LogProb(i["x"]),
            new Kiln.Distributions.Independent(new Kiln.Distributions.Normal(i["loc"], i["s"]), 1).Entropy()],
        ["kl_independent"] = i => [Kiln.Distributions.Kl.Divergence(new Kiln.Distributions.Independent(new Kiln.Distributions.Normal(i["l1"], i["s1"]), 1),
            new Kiln.Distributions.Independent(new Kiln.Distributions.Normal(i["l2"], i["s2"]), 1))],
        ["dist_tanh_normal"] = i => [new Kiln.Distributions.TransformedDistribution(new Kiln.Distributions.Normal(i["loc"], i["s"]), new Kiln.Distributions.TanhTransform()).LogProb(i["y"]),
            new Kiln.Distributions.TransformedDistribution(new Kiln.Distributions.Independent(new Kiln.Distributions.Normal(i["loc"], i["s"]), 1), new Kiln.Distributions.TanhTransform()).LogProb(i["y"])],
        ["dist_affine_sigmoid"] = i => [new Kiln.Distributions.TransformedDistribution(new Kiln.Distributions.Normal(i["loc"], i["s"]),
            new Kiln.Distributions.AffineTransform(0.5, 2.0), new Kiln.Distributions.SigmoidTransform()).LogProb(i["y"])],
        ["dist_lognormal"] = i => new Kiln.Distributions.LogNormal(i["loc"], i["s"]) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance, d.Entropy()] : [],
        ["dist_cauchy"] = i => new KD.Cauchy(i["loc"], i["s"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Cdf(i["x"]), d.Icdf(i["p"]), d.Mean, d.Variance] : [],
        ["dist_cauchy_icdf"] = i => [new KD.Cauchy(i["loc"], i["s"]).Icdf(i["p"])],
        ["dist_halfnormal"] = i => new KD.HalfNormal(i["s"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Cdf(i["x"]), d.Icdf(i["p"]), d.Mean, d.Variance] : [],
        ["dist_halfcauchy"] = i => new KD.HalfCauchy(i["s"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Cdf(i["x"]), d.Icdf(i["p"]), d.Mean, d.Variance] : [],
        ["dist_half_below_zero"] = i => Unvalidated(() => [new KD.HalfNormal(i["s"]).LogProb(i["x"]), new KD.HalfCauchy(i["s"]).LogProb(i["x"])]),
        ["dist_gumbel"] = i => new KD.Gumbel(i["loc"], i["s"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Mean, d.Variance, d.Cdf(i["x"]), d.Icdf(i["p"])] : [],
        ["dist_studentt"] = i => new KD.StudentT(i["df"], i["loc"], i["s"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Mean, d.Variance] : [],
        ["dist_studentt_entropy"] = i => [new KD.StudentT(i["df"], scale: i["s"]).Entropy()],
        ["dist_chi2"] = i => new KD.Chi2(i["df"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Mean, d.Variance] : [],
        ["dist_dirichlet"] = i => new KD.Dirichlet(i["a"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Mean, d.Variance] : [],
        ["dist_dirichlet_entropy"] = i => [new KD.Dirichlet(i["a"]).Entropy()],
        ["dist_geometric"] = i => new KD.Geometric(i["p"]) is var d ? [d.LogProb(i["k"]), d.Entropy(), d.Mean, d.Variance] : [],
        ["dist_geometric_logits"] = i => new KD.Geometric(logits: i["l"]) is var d ? [d.LogProb(i["k"]), d.Entropy()] : [],
        ["dist_binomial_grad"] = i => new KD.Binomial(10, i["p"]) is var d ? [d.LogProb(i["k"]), d.Mean, d.Variance, d.Entropy()] : [],
        ["dist_binomial_logits"] = i => [new KD.Binomial(Tensor.From(new[] { 6f, 8f, 6f }, 3).To(i["l"].Device), logits: i["l"]).LogProb(i["k"]), new KD.Binomial(6, logits: i["l"]).Entropy()],
        ["dist_mixture"] = i => new KD.MixtureSameFamily(new KD.Categorical(logits: i["w"]), new KD.Normal(i["loc"], i["s"])) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance, d.Cdf(i["x"])] : [],
        ["dist_mixture_event"] = i => new KD.MixtureSameFamily(new KD.Categorical(logits: i["w"]), new KD.Independent(new KD.Normal(i["loc"], i["s"]), 1)) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance] : [],
        ["dist_cdf_icdf"] = i => [new KD.Normal(i["loc"], i["s"]).Icdf(i["p"]), new KD.Exponential(i["s"]).Cdf(i["x"].Abs()), new KD.Exponential(i["s"]).Icdf(i["p"]),
            new KD.Uniform(i["loc"], i["loc"] + i["s"]).Cdf(i["x"]), new KD.Uniform(i["loc"], i["loc"] + i["s"]).Icdf(i["p"]), new KD.Laplace(i["loc"], i["s"]).Cdf(i["x"]), new KD.Laplace(i["loc"], i["s"]).Icdf(i["p"])],
        ["kl_more_families"] = i => [KD.Kl.Divergence(new KD.Dirichlet(i["a1"]), new KD.Dirichlet(i["a2"])), KD.Kl.Divergence(new KD.Gumbel(i["l1"], i["s1"]), new KD.Gumbel(i["l2"], i["s2"])),
            KD.Kl.Divergence(new KD.Geometric(i["p1"]), new KD.Geometric(i["p2"])), KD.Kl.Divergence(new KD.HalfNormal(i["s1"]), new KD.HalfNormal(i["s2"]))],
        ["kl_cauchy"] = i => [KD.Kl.Divergence(new KD.Cauchy(i["l1"], i["s1"]), new KD.Cauchy(i["l2"], i["s2"]))],
        ["dist_weibull"] = i => new KD.Weibull(i["s"], i["k"]) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance, d.Entropy()] : [],
        ["dist_pareto"] = i => new KD.Pareto(i["s"], i["a"]) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance, d.Entropy()] : [],
        ["dist_kumaraswamy"] = i => new KD.Kumaraswamy(i["a"], i["b"]) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance, d.Entropy(), d.Cdf(i["x"]), d.Icdf(i["x"])] : [],
        ["dist_relaxed_bernoulli"] = i => [new KD.RelaxedBernoulli(i["t"], logits: i["l"]).LogProb(i["x"]), new KD.LogitRelaxedBernoulli(i["t"], logits: i["l"]).LogProb(i["y"])],
        ["dist_relaxed_bernoulli_probs"] = i => [new KD.RelaxedBernoulli(i["t"], probs: i["p"]).LogProb(i["x"])],
        ["dist_relaxed_onehot"] = i => [new KD.RelaxedOneHotCategorical(i["t"], logits: i["l"]).LogProb(i["x"]), new KD.ExpRelaxedCategorical(i["t"], logits: i["l"]).LogProb(i["x"].Log())],
        ["dist_relaxed_onehot_probs"] = i => [new KD.RelaxedOneHotCategorical(i["t"], probs: i["p"]).LogProb(i["x"])],
        ["dist_negative_binomial"] = i => new KD.NegativeBinomial(i["r"], probs: i["p"]) is var d ? [d.LogProb(i["k"]), d.Mean, d.Variance] : [],
        ["dist_negative_binomial_logits"] = i => new KD.NegativeBinomial(i["r"], logits: i["l"]) is var d ? [d.LogProb(i["k"]), d.Mean] : [],
        ["dist_fisher_snedecor"] = i => new KD.FisherSnedecor(i["d1"], i["d2"]) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance] : [],
        ["dist_logistic_normal"] = i => [new KD.LogisticNormal(i["loc"], i["s"]).LogProb(i["x"])],
        ["dist_von_mises"] = i => new KD.VonMises(i["loc"], i["k"]) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance] : [],
        ["dist_continuous_bernoulli"] = i => new KD.ContinuousBernoulli(i["p"]) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance, d.Entropy(), d.Cdf(i["x"]), d.Icdf(i["x"])] : [],
        ["dist_continuous_bernoulli_logits"] = i => new KD.ContinuousBernoulli(logits: i["l"]) is var d ? [d.LogProb(i["x"]), d.Mean, d.Entropy()] : [],
        ["dist_lowrank_mvn"] = i => new KD.LowRankMultivariateNormal(i["loc"], i["w"], i["d"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Variance] : [],
        ["dist_lowrank_mvn_matrices"] = i => new KD.LowRankMultivariateNormal(Tensor.Zeros(4).To(i["w"].Device), i["w"], i["d"]) is var d
            ? [d.ScaleTril, d.CovarianceMatrix, d.PrecisionMatrix] : [],
        ["dist_mvn_precision"] = i => new KD.MultivariateNormal(i["loc"], precisionMatrix: i["c"].Matmul(i["c"].T) + Tensor.Eye(3).To(i["c"].Device)) is var d
            ? [d.LogProb(i["x"]), d.ScaleTril, d.PrecisionMatrix] : [],
        ["kl_lowrank_mvn"] = i => new KD.LowRankMultivariateNormal(i["m1"], i["w1"], i["d1"]) is var p
            && new KD.MultivariateNormal(i["m2"], covarianceMatrix: i["c"].Matmul(i["c"].T) + Tensor.Eye(4).To(i["c"].Device)) is var full
            ? [KD.Kl.Divergence(p, new KD.LowRankMultivariateNormal(i["m2"], i["w2"], i["d2"])), KD.Kl.Divergence(full, p), KD.Kl.Divergence(p, full)] : [],
        ["linalg_solve_broadcast"] = i => [Linalg.Solve(i["a"], i["b"])],
        ["linalg_solve_matrix_rhs_fewer_dims"] = i => [Linalg.Solve(i["a"], i["b"])],
        ["dist_wishart_scale_tril"] = i => new KD.Wishart(i["df"], scaleTril: i["L"]) is var d ? [d.LogProb(i["x"]), d.Entropy(), d.Mean, d.Variance, d.Mode] : [],
        ["dist_wishart_covariance"] = i => new KD.Wishart(4.0, covarianceMatrix: i["c"].Matmul(i["c"].T) + Tensor.Eye(3).To(i["c"].Device)) is var d
            ? [d.LogProb(i["x"]), d.PrecisionMatrix] : [],
        ["dist_wishart_precision"] = i => new KD.Wishart(2.5, precisionMatrix: i["c"].Matmul(i["c"].T) + Tensor.Eye(3).To(i["c"].Device)) is var d
            ? [d.LogProb(i["x"]), d.ScaleTril] : [],
        ["dist_lkj_cholesky"] = i => [new KD.LKJCholesky(4, i["eta"]).LogProb(i["L"])],
        ["kl_cross_beta"] = i => new KD.Beta(i["a"], i["b"]) is var p && i["r"] is var r && i["k"] is var k
            ? [K(p, new KD.Normal(i["m"], i["s"])), K(p, new KD.ContinuousBernoulli(logits: i["l"])), K(p, new KD.Exponential(r)), K(p, new KD.Gamma(k, r)),
               K(p, new KD.Uniform(-0.5 - r, 1.0 + r)), K(p, new KD.Uniform(0.1 * r, 1.0 + r)), K(p, new KD.Pareto(r, k))] : [],
        ["kl_cross_continuous_bernoulli"] = i => new KD.ContinuousBernoulli(logits: i["l"]) is var p && i["r"] is var r
            ? [K(p, new KD.Normal(i["m"], i["s"])), K(p, new KD.Exponential(r)), K(p, new KD.Uniform(-r, 1.0 + r)), K(p, new KD.Uniform(0.1 * r, 1.0 + r)),
               K(p, new KD.Pareto(r, r))] : [],
        ["kl_cross_exponential_gamma"] = i => new KD.Exponential(i["lam"]) is var e && new KD.Gamma(i["k"], i["r"]) is var g && new KD.Normal(i["m"], i["s"]) is var n
            && new KD.Gumbel(i["m"], i["s"]) is var gu
            ? [K(e, g), K(e, gu), K(e, n), K(g, new KD.Exponential(i["lam"])), K(g, gu), K(g, n), K(new KD.Chi2(i["k"] * 2.0), g), K(g, new KD.Chi2(i["lam"] * 3.0)),
               K(e, new KD.Beta(i["k"], i["r"])), K(g, new KD.Uniform(i["m"] - 1.0, i["m"] + 1.0))] : [],
        ["kl_cross_location_scale"] = i => i["m1"] is var m1 && i["s1"] is var s1 && i["m2"] is var m2 && i["s2"] is var s2
            ? [K(new KD.Gumbel(m1, s1), new KD.Normal(m2, s2)), K(new KD.Laplace(m1, s1), new KD.Normal(m2, s2)), K(new KD.Normal(m1, s1), new KD.Gumbel(m2, s2)),
               K(new KD.Normal(m1, s1), new KD.Laplace(m2, s2)), K(new KD.Normal(m1, s1), new KD.Exponential(s2)), K(new KD.Laplace(m1, s1), new KD.Gamma(s1, s2)),
               K(new KD.Gumbel(m1, s1), new KD.Uniform(m2 - 1.0, m2 + 1.0))] : [],
        ["kl_cross_pareto"] = i => new KD.Pareto(i["sc"], i["al"]) is var p && new KD.Normal(i["m"], i["s"]) is var n && i["lam"] is var lam
            && new KD.Pareto(i["sc"], Tensor.From(new[] { 0.8f, 1.5f, 1.9f }, 3).To(i["sc"].Device)) is var heavy
            ? [K(p, n), K(p, new KD.Exponential(lam)), K(p, new KD.Gamma(i["k"], lam)), K(p, new KD.Pareto(i["sc"] * 0.8, i["k"])), K(p, new KD.Pareto(i["sc"] * 1.2, i["k"])),
               K(heavy, n), K(heavy, new KD.Exponential(lam)), K(p, new KD.Uniform(i["m"] - 1.0, i["m"] + 1.0))] : [],
        ["kl_cross_uniform"] = i => new KD.Uniform(i["lo"], i["lo"] + i["w"]) is var u && new KD.Beta(i["a"], i["b"]) is var beta && i["r"] is var r
            && new KD.Uniform(i["lo"] - 0.5, i["lo"] + i["w"]) is var wide
            ? [K(u, beta), K(u, new KD.ContinuousBernoulli(logits: i["l"])), K(u, new KD.Exponential(r)), K(u, new KD.Gamma(i["a"], r)), K(u, new KD.Gumbel(i["m"], i["s"])),
               K(u, new KD.Normal(i["m"], i["s"])), K(new KD.Uniform(i["lo"] + 1.0, i["lo"] + 1.0 + i["w"]), new KD.Pareto(r * 0.5 + 0.2, i["a"])),
               K(wide, beta), K(wide, new KD.Exponential(r)), K(u, new KD.Pareto(i["lo"] + 0.05, i["a"]))] : [],
        ["kl_same_more"] = i => Tensor.From(new[] { 5f, 5f, 9f }, 3).To(i["pa"].Device) is var n1 && Tensor.From(new[] { 5f, 3f, 9f }, 3).To(i["pa"].Device) is var n2
            ? [K(new KD.Binomial(n1, probs: i["pa"]), new KD.Binomial(n2, probs: i["pb"])),
               K(new KD.ContinuousBernoulli(logits: i["l1"]), new KD.ContinuousBernoulli(logits: i["l2"])),
               K(new KD.OneHotCategorical(logits: i["c1"]), new KD.OneHotCategorical(logits: i["c2"])), K(new KD.LogNormal(i["m1"], i["s1"]), new KD.LogNormal(i["m2"], i["s2"])),
               K(new KD.Bernoulli(i["pa"]), new KD.Poisson(i["rate"])), K(new KD.Poisson(i["rate"]), new KD.Bernoulli(i["pb"])),
               K(new KD.Poisson(i["rate"]), new KD.Binomial(n2, probs: i["pb"]))] : [],
        ["special_gammainc"] = i => Tensor.From(new[] { 0.3f, 1.0f, 2.5f, 30.0f }, 4).To(i["x"].Device) is var a
            ? [Special.Gammainc(a, i["x"]), Special.Gammaincc(a, i["x"]), a.Igamma(i["x"])] : [],
        ["dist_gamma_cdf"] = i => [new KD.Gamma(Tensor.From(new[] { 0.7f, 2.0f, 5.0f }, 3).To(i["x"].Device), Tensor.From(new[] { 1.5f, 0.5f, 2.0f }, 3).To(i["x"].Device)).Cdf(i["x"]),
            new KD.Chi2(Tensor.From(new[] { 3.0f, 4.0f, 7.0f }, 3).To(i["x"].Device)).Cdf(i["x"])],
        ["dist_modes"] = i => i["p"] is var p && i["a"] is var a && i["b"] is var b && i["l"] is var l && i["c"] is var c && i["p"].Device is var dev
            ? [new KD.Normal(l, a).Mode, new KD.Gamma(a, b).Mode, new KD.Beta(a, b).Mode, new KD.Dirichlet(i["conc"]).Mode,
               new KD.Binomial(Tensor.From(new[] { 4f, 7f, 10f }, 3).To(dev), probs: p).Mode, new KD.NegativeBinomial(Tensor.From(new[] { 0.5f, 3f, 6f }, 3).To(dev), probs: p).Mode,
               new KD.Bernoulli(p).Mode, new KD.Categorical(logits: c).Mode, new KD.OneHotCategorical(logits: c).Mode, new KD.Poisson(a * 3.0).Mode,
               new KD.FisherSnedecor(Tensor.From(new[] { 1.5f, 4f, 9f }, 3).To(dev), b * 3.0).Mode, new KD.Weibull(b, a + 1.0).Mode, new KD.LogNormal(l, a).Mode,
               new KD.Pareto(b, a).Mode, new KD.Exponential(a).Mode, new KD.Geometric(p).Mode, new KD.HalfNormal(a).Mode, new KD.HalfCauchy(a).Mode,
               new KD.Uniform(l, l + a).Mode, new KD.Independent(new KD.Normal(c, c.Exp()), 1).Mode, new KD.MultivariateNormal(l, Tensor.Eye(3).To(dev)).Mode,
               new KD.Laplace(l, a).Mode, new KD.Cauchy(l, a).Mode, new KD.Gumbel(l, a).Mode, new KD.StudentT(a, l, b).Mode, new KD.VonMises(l, a).Mode,
               new KD.LowRankMultivariateNormal(l, Tensor.Ones(3, 1).To(dev), a).Mode] : [],
        ["transforms_more"] = i => i["x"] is var x && new KD.SoftplusTransform() is var sp && new KD.LowerCholeskyTransform() is var lc
            && new KD.ComposeTransform(new KD.ExpTransform(), new KD.AffineTransform(Tensor.Scalar(1.0).Float().To(x.Device), Tensor.Scalar(2.0).Float().To(x.Device))) is var chain
            ? [sp.Forward(x), sp.Inverse(sp.Forward(x)), sp.LogAbsDetJacobian(x, sp.Forward(x)), new KD.AbsTransform().Forward(x), new KD.SoftmaxTransform().Forward(x),
               lc.Forward(i["m"]), lc.Inverse(lc.Forward(i["m"])), chain.LogAbsDetJacobian(x, chain.Forward(x))] : [],
        ["transform_to"] = i => i["x"] is var x && KD.Constraints.BijectTo(KD.Constraints.Interval(-1.0, 3.0)) is var interval
            && KD.Constraints.BijectTo(KD.Constraints.Independent(KD.Constraints.Positive, 1)) is var positives && KD.Constraints.BijectTo(KD.Constraints.Simplex) is var stick
            ? [KD.Constraints.TransformTo(KD.Constraints.Positive).Forward(x), KD.Constraints.TransformTo(KD.Constraints.GreaterThan(2.0)).Forward(x),
               KD.Constraints.TransformTo(KD.Constraints.LessThan(1.0)).Forward(x), KD.Constraints.TransformTo(KD.Constraints.Interval(-1.0, 3.0)).Forward(x),
               KD.Constraints.TransformTo(KD.Constraints.UnitInterval).Forward(x), stick.Forward(x), KD.Constraints.TransformTo(KD.Constraints.Simplex).Forward(x),
               interval.LogAbsDetJacobian(x, interval.Forward(x)), positives.LogAbsDetJacobian(x, positives.Forward(x)), stick.LogAbsDetJacobian(x, stick.Forward(x)),
               interval.Inverse(interval.Forward(x))] : [],
        ["enumerate_support"] = i => new KD.Bernoulli(i["p"]) is var b && new KD.Categorical(logits: i["c"]) is var c && new KD.OneHotCategorical(logits: i["c"]) is var h
            ? [b.EnumerateSupport(), b.EnumerateSupport(expand: false), c.EnumerateSupport(), h.EnumerateSupport(), h.EnumerateSupport(expand: false),
               new KD.Binomial(5, probs: i["p"][0]).EnumerateSupport()] : [],
        ["perplexity"] = i => [new KD.Normal(i["l"], i["s"]).Perplexity(), new KD.Categorical(logits: i["c"]).Perplexity(), new KD.Gamma(i["s"], i["s"] + 1.0).Perplexity()],
        ["stick_breaking"] = i => new KD.StickBreakingTransform() is var t && t.Forward(i["x"]) is var y ? [y, t.LogAbsDetJacobian(i["x"], y), t.Inverse(y)] : [],
        ["autograd_functional"] = i =>
        {
            static Tensor Fx(Tensor x) => (x.Sin() * x.Sum()).Tanh();
            static Tensor Gx(Tensor x) => (x.Exp() * x.Cos()).Sum() + x.Pow(3).Sum() * x.Norm();
            var (x, v, w) = (i["x"], i["v"], i["w"]);
            var vjp = Autograd.Functional.Vjp(Fx, x, w);
            var hvp = Autograd.Functional.Hvp(Gx, x, v);
            return [Autograd.Functional.Jacobian(Fx, x), Autograd.Functional.Hessian(Gx, x), vjp.Vjp, Autograd.Functional.Jvp(Fx, x, v).Jvp,
                hvp.Hvp, Autograd.Functional.Vhp(Gx, x, v).Vhp, vjp.Output, hvp.Output];
        },
        ["autograd_functional_many"] = i =>
        {
            static Tensor[] Fab(Tensor[] t) => [t[0].Matmul(t[1]), (t[0].Sum() * t[1]).Sigmoid()];
            static Tensor Gab(Tensor[] t) => t[0].Matmul(t[1]).Tanh().Sum() + t[0].Pow(2).Sum() * t[1].Sum();
            var (a, b) = (i["a"], i["b"]);
            var jacobian = Autograd.Functional.Jacobian(Fab, [a, b]);
            var hessian = Autograd.Functional.Hessian(Gab, [a, b]);
            return [.. jacobian.SelectMany(row => row), .. hessian.SelectMany(row => row), .. Autograd.Functional.Vjp(Fab, [a, b], [i["u"], i["t"]]).Vjp,
                .. Autograd.Functional.Jvp(Fab, [a, b], [Tensor.OnesLike(a), b]).Jvp, .. Autograd.Functional.Hvp(Gab, [a, b], [a, b]).Hvp];
        },
        ["linalg_svdvals_batched"] = i => [Linalg.Svdvals(i["a"])],
        ["linalg_matrix_rank"] = i => [Linalg.MatrixRank(i["a"]), Linalg.MatrixRank(i["b"]), Linalg.MatrixRank(i["b"], atol: 1.0, rtol: 0.0), Linalg.MatrixRank(i["b"], rtol: 0.5)],
        ["linalg_cond"] = i => [Linalg.Cond(i["a"]), Linalg.Cond(i["a"], -2), Linalg.Cond(i["a"], 1), Linalg.Cond(i["a"], double.PositiveInfinity), Linalg.Cond(i["a"], -1),
            Linalg.Cond(i["a"], "fro"), Linalg.Cond(i["a"], "nuc")],
        ["linalg_lstsq"] = i => Linalg.Lstsq(i["a"], i["b"]) is var y && Linalg.Lstsq(i["a"], i["b"], driver: "gelsd") is var d
            ? [y.Solution, y.Rank, d.Residuals, d.Rank, d.SingularValues, Linalg.Lstsq(i["a"], i["b"], driver: "gels").Residuals] : [],
        ["linalg_lstsq_batched_vector"] = i => [Linalg.Lstsq(i["a"], i["b"]).Solution, Linalg.Lstsq(i["a"], i["b"], driver: "gelss").Residuals],
        ["linalg_lstsq_wide"] = i => [Linalg.Lstsq(i["a"], i["b"]).Solution],
        ["linalg_solve_triangular"] = i => [Linalg.SolveTriangular(i["a"], i["b"], upper: true), Linalg.SolveTriangular(i["a"], i["b"], upper: false),
            Linalg.SolveTriangular(i["a"], i["c"], upper: true, left: false), Linalg.SolveTriangular(i["a"], i["b"], upper: false, unitriangular: true)],
        ["cholesky_solve"] = i => [Linalg.CholeskySolve(i["b"], i["l"]), Linalg.CholeskySolve(i["b"], i["l"].T.Contiguous(), upper: true)],
        ["linalg_multi_dot"] = i => [Linalg.MultiDot(i["m1"], i["m2"], i["m3"]), Linalg.MultiDot(i["v"], i["m1"], i["m2"], i["m3"], i["w"]), Linalg.MultiDot(i["v"], i["m1"]),
            Linalg.MultiDot(i["m2"], i["m3"], i["w"])],
        ["linalg_matrix_exp"] = i => [Linalg.MatrixExp(i["a"])],
        ["linalg_matrix_exp_float64"] = i => [Linalg.MatrixExp(i["a"])],
        ["special_i0"] = i => [i["x"].I0(), Special.I0e(i["x"]), Special.I1(i["x"]), Special.I1e(i["x"])],
        ["special_i0e_grad"] = i => [i["x"].I0e()],
        ["special_i1_grad"] = i => [i["x"].I1()],
        ["special_i1e_grad"] = i => [i["x"].I1e()],
        ["special_bessel_float64"] = i => [i["x"].I0(), i["x"].I0e(), i["x"].I1(), i["x"].I1e()],
        ["special_polygamma"] = i => [i["x"].Polygamma(1), i["x"].Polygamma(2), Special.Polygamma(3, i["x"]), i["x"].Polygamma(0)],
        ["special_polygamma_grad"] = i => [i["x"].Polygamma(2)],
        ["special_polygamma_float64"] = i => [i["x"].Polygamma(1)],
        ["special_zeta"] = i => [Special.Zeta(i["s"], i["q"])],
        ["special_ndtr"] = i => [Special.LogNdtr(i["x"]), Special.Ndtr(i["x"])],
        ["special_ndtri"] = i => [i["p"].Ndtri()],
        ["special_ndtri_ends"] = i => [i["p"].Ndtri()],
        ["special_erfcx"] = i => [i["x"].Erfcx()],
        ["special_erfcx_float64"] = i => [i["x"].Erfcx()],
        ["special_xlog1py_entr"] = i => [Special.Xlog1py(i["x"], i["y"]), i["x"].Abs().Entr(), Special.Entr(Tensor.From(new[] { -1f, 0f, 2f }, 3))],
        ["special_multigammaln"] = i => [Special.Multigammaln(i["x"], 3), i["x"].Mvlgamma(1)],
        ["signal_windows"] = i => [Tensor.HannWindow(8), Tensor.HannWindow(9, periodic: false), Tensor.HammingWindow(10), Tensor.HammingWindow(7, false, alpha: 0.5, beta: 0.4),
            Tensor.BlackmanWindow(12), Tensor.BlackmanWindow(5, periodic: false), Tensor.BartlettWindow(8), Tensor.BartlettWindow(7, periodic: false),
            Tensor.KaiserWindow(9), Tensor.KaiserWindow(6, periodic: false, beta: 5.0), Tensor.HannWindow(1), Tensor.KaiserWindow(1),
            Tensor.HannWindow(16, dtype: DType.Float64), Tensor.KaiserWindow(11, beta: 3.5, dtype: DType.Float64)],
        ["mode"] = i => [.. Pair(i["x"].Mode(1)), .. Pair(i["x"].Mode(0, keepDim: true)), .. Pair(Tensor.From(new[] { 3f, 1, 3, 1, 2, 1, 3 }, 7).Mode(0))],
        ["mode_grad"] = i => [i["x"].Mode(-1).Values],
        ["mode_int"] = i => Pair(i["x"].Mode()),
        ["nanmedian"] = i => [.. Pair(i["x"].Nanmedian(1)), i["x"].Nanmedian(), .. Pair(i["x"].Nanmedian(0, keepDim: true))],
        ["nanmedian_all_nan"] = i => [i["x"].Nanmedian(1).Values],
        ["histogram"] = i => [.. Hist(i["x"].Histogram(7)), .. Hist(i["x"].Histogram(4, range: (-1.0, 3.0))), .. Hist(i["x"].Histogram(5, weight: i["w"], density: true)),
            .. Hist(i["x"].Histogram(Tensor.From(new[] { -3f, -1f, 0f, 0.5f, 4f }, 5))), .. Hist(Tensor.From(new[] { 2f, 2f, 2f }, 3).Histogram(4))],
        ["fuse_conv_bn"] = i => FusedConv(i, new Kiln.NN.Conv2d(3, 4, 3, padding: 1), new Kiln.NN.BatchNorm2d(4)),
        ["fuse_conv_transpose_bn"] = i => FusedConv(i, new Kiln.NN.ConvTranspose2d(4, 3, 3, stride: 2), new Kiln.NN.BatchNorm2d(3)),
        ["fuse_linear_bn"] = i =>
        {
            var (linear, bn) = (new Kiln.NN.Linear(5, 3).To(i["x"].Device), new Kiln.NN.BatchNorm1d(3).To(i["x"].Device));
            Load(linear.Weight, i["lw"], linear.Bias!, i["lb"], bn, i);
            linear.Eval(); bn.Eval();
            var fused = Kiln.NN.Fusion.FuseLinearBnEval(linear, bn);
            return [fused.Weight, fused.Bias!, fused.Call(i["x"]), bn.Call(linear.Call(i["x"]))];
        },
        ["fuse_conv_bn_weights_no_bias"] = i => Kiln.NN.Fusion.FuseConvBnWeights(i["cw"], null, i["rm"], i["rv"], 1e-3, null, null) is var (w, b) ? [w, b] : [],
        ["dist_onehot_categorical"] = i => new KD.OneHotCategorical(i["p"]) is var d ? [d.LogProb(i["v"]), d.Entropy(), d.Mean, d.Variance] : [],
        ["dist_multinomial"] = i => new KD.Multinomial(6, i["p"]) is var d ? [d.LogProb(i["x"]), d.Mean, d.Variance, d.Entropy()] : [],
        ["dist_multinomial_logits"] = i => new KD.Multinomial(3, logits: i["l"]) is var d ? [d.LogProb(i["x"]), d.Entropy()] : [],
        ["pad_sequence"] = i => [Kiln.NN.RnnUtils.PadSequence([i["a"], i["b"], i["c"]]), Kiln.NN.RnnUtils.PadSequence([i["a"], i["b"], i["c"]], batchFirst: true, paddingValue: -1.5)],
        ["unpad_unpack_sequence"] = i => [.. Kiln.NN.RnnUtils.UnpadSequence(Kiln.NN.RnnUtils.PadSequence([i["a"], i["b"], i["c"]], batchFirst: true), [3, 5, 1], batchFirst: true),
            .. Kiln.NN.RnnUtils.UnpackSequence(Kiln.NN.RnnUtils.PackSequence([i["a"], i["b"], i["c"]], enforceSorted: false))],
        ["parameters_to_vector"] = i => [Kiln.NN.GradClipping.ParametersToVector([i["w"], i["b"]])],
        ["cross_entropy_loss"] = i => [new Kiln.NN.CrossEntropyLoss(weight: i["w"].Detach(), labelSmoothing: 0.1).Call(i["x"], i["y"])],
        ["nll_loss_sum"] = i => [new Kiln.NN.NLLLoss(reduction: Kiln.NN.Reduction.Sum).Call(i["x"], i["y"])],
        ["mse_loss"] = i => [new Kiln.NN.MSELoss().Call(i["x"], i["t"])],
        ["l1_loss"] = i => [new Kiln.NN.L1Loss(Kiln.NN.Reduction.Sum).Call(i["x"], i["t"])],
        ["smooth_l1_loss"] = i => [new Kiln.NN.SmoothL1Loss(beta: 0.5).Call(i["x"], i["t"])],
        ["huber_loss"] = i => [new Kiln.NN.HuberLoss(delta: 0.7).Call(i["x"], i["t"])],
        ["bce_loss"] = i => [new Kiln.NN.BCELoss().Call(i["x"], i["t"])],
        ["bce_with_logits_loss"] = i => [new Kiln.NN.BCEWithLogitsLoss(posWeight: i["pw"].Detach()).Call(i["x"], i["t"])],
        ["kl_div_loss"] = i => [new Kiln.NN.KLDivLoss(Kiln.NN.Reduction.Sum).Call(i["x"], i["t"])],
        ["max_pool1d"] = i => [new Kiln.NN.MaxPool1d(3, 2, 1).Call(i["x"])],
        ["avg_pool1d"] = i => [new Kiln.NN.AvgPool1d(4, 2, 1, countIncludePad: false).Call(i["x"])],
        ["adaptive_max_pool2d"] = i => [new Kiln.NN.AdaptiveMaxPool2d(3, 2).Call(i["x"])],
        ["instance_norm2d"] = i => [new Kiln.NN.InstanceNorm2d(3).Call(i["x"])],
        ["instance_norm1d_affine"] = i => [new Kiln.NN.InstanceNorm1d(3, affine: true).Call(i["x"])],
        ["upsample_nearest"] = i => [new Kiln.NN.Upsample(2.0).Call(i["x"])],
        ["upsample_bilinear"] = i => [new Kiln.NN.Upsample([5, 7], mode: "bilinear").Call(i["x"])],
        ["einsum_matmul"] = i => [Tensor.Einsum("ij,jk->ik", i["a"], i["b"])],
        ["einsum_attention"] = i => [Tensor.Einsum("bhqd,bhkd->bhqk", i["q"], i["k"])],
        ["einsum_implicit_outer"] = i => [Tensor.Einsum("i,j", i["a"], i["b"])],
        ["einsum_dot_and_sum"] = i => [Tensor.Einsum("i,i->", i["a"], i["b"])],
        ["einsum_transpose_sum"] = i => [Tensor.Einsum("ijk->kj", i["a"])],
        ["einsum_three"] = i => [Tensor.Einsum("ij,jk,kl->il", i["a"], i["b"], i["c"])],
        ["einsum_batch_broadcast"] = i => [Tensor.Einsum("bij,bjk->bik", i["a"], i["b"])],
        ["einsum_ellipsis_batch_matmul"] = i => [Tensor.Einsum("...ij,...jk->...ik", i["a"], i["b"])],
        ["einsum_ellipsis_implicit"] = i => [Tensor.Einsum("bi...,bj...", i["a"], i["b"])],
        ["einsum_ellipsis_summed"] = i => [Tensor.Einsum("...ij->ij", i["a"])],
        ["einsum_ellipsis_broadcast_one"] = i => [Tensor.Einsum("i...,i...->...", i["a"], i["b"])],
        ["einsum_ellipsis_middle"] = i => [Tensor.Einsum("ij...,jk", i["a"], i["b"])],
        ["einsum_diagonal"] = i => [Tensor.Einsum("ii->i", i["a"]), Tensor.Einsum("ii", i["a"])],
        ["einsum_batch_diagonal"] = i => [Tensor.Einsum("...ii->...i", i["a"]), Tensor.Einsum("biji->bj", i["a"].Permute(0, 2, 1, 3))],
        ["unique_dim"] = i => [.. Triple(i["x"].Unique(0)), .. Triple(i["x"].Unique(1))],
        ["bitwise_shifts"] = i => [i["a"].BitwiseLeftShift(i["b"]), i["a"].BitwiseRightShift(i["b"]), i["u"] << i["s"], i["u"] >> i["s"], i["l"] << i["m"], i["l"] >> i["m"], i["a"] << 3, i["a"] >> 2],
        ["atleast_and_stacks"] = i => [i["s"].Atleast1d(), i["v"].Atleast2d(), i["m"].Atleast3d(), i["v"].Atleast3d(), Tensor.Dstack(i["m"], i["w"]),
            Tensor.ColumnStack(i["v"], i["m"].T), Tensor.RowStack(i["v"], i["m"]), .. Tensor.BroadcastTensors(i["v"], i["m"]), i["m"].Fliplr(), i["m"].Flipud(), i["m"].T.Ravel()],
        ["fmax_fmin"] = i => [i["a"].Fmax(i["b"]), i["a"].Fmin(i["b"])],
        ["gcd_lcm"] = i => [i["a"].Gcd(i["b"]), i["a"].Lcm(i["b"]), i["a"].To(DType.Int32).Gcd(i["b"].To(DType.Int32))],
        ["nextafter"] = i => [i["a"].Nextafter(i["b"]), i["a"].To(DType.Float64).Nextafter(i["b"].To(DType.Float64))],
        ["isin_aminmax"] = i => [i["x"].Isin(i["t"]), i["x"].Isin(i["t"], invert: true), .. Pair(i["y"].Aminmax()), .. Pair(i["y"].Aminmax(1)), .. Pair(i["y"].Aminmax(0, keepDim: true))],
        ["take_put"] = i => [i["x"].Take(Tensor.From(new long[] { 0, 5, -1, 11 }, 2, 2).To(i["x"].Device)),
            i["x"].Put(Tensor.From(new long[] { 1, 6, 1, -2 }, 2, 2).To(i["x"].Device), i["s"], accumulate: true),
            i["x"].Put(Tensor.From(new long[] { 1, 6, 3, -2 }, 2, 2).To(i["x"].Device), i["s"])],
        ["masked_scatter"] = i => [i["x"].MaskedScatter(Tensor.From(new[] { true, false, true, true }, 4).To(i["x"].Device), i["src"])],
        ["index_reduce_prod"] = i => [i["x"].IndexReduce(0, ReduceIndex.To(i["x"].Device), i["src"], "prod")],
        ["index_reduce_prod_exclude"] = i => [i["x"].IndexReduce(0, ReduceIndex.To(i["x"].Device), i["src"], "prod", includeSelf: false)],
        ["index_reduce_mean"] = i => [i["x"].IndexReduce(0, ReduceIndex.To(i["x"].Device), i["src"], "mean")],
        ["index_reduce_mean_exclude"] = i => [i["x"].IndexReduce(0, ReduceIndex.To(i["x"].Device), i["src"], "mean", includeSelf: false)],
        ["index_reduce_amax"] = i => [i["x"].IndexReduce(0, ReduceIndex.To(i["x"].Device), i["src"], "amax")],
        ["index_reduce_amax_exclude"] = i => [i["x"].IndexReduce(0, ReduceIndex.To(i["x"].Device), i["src"], "amax", includeSelf: false)],
        ["index_reduce_amin"] = i => [i["x"].IndexReduce(0, ReduceIndex.To(i["x"].Device), i["src"], "amin")],
        ["index_reduce_amin_exclude"] = i => [i["x"].IndexReduce(0, ReduceIndex.To(i["x"].Device), i["src"], "amin", includeSelf: false)],
        ["argwhere_unravel"] = i => [i["x"].Argwhere(), .. Tensor.UnravelIndex(Tensor.From(new long[] { 0, 5, 13, 23 }, 4).To(i["x"].Device), [2, 3, 4])],
        ["addbmm_vecdot"] = i => [Tensor.Addbmm(i["i"], i["b1"], i["b2"], beta: 0.5, alpha: 2.0), Linalg.Vecdot(i["u"], i["v"]), Linalg.Vecdot(i["u"], i["v"].Unsqueeze(0), dim: 1)],
        ["fft_c2c"] = i => [Fourier.Fft(Z(i["z"])).AsReal, Fourier.Fft(Z(i["z"]), n: 6).AsReal, Fourier.Fft(Z(i["z"]), dim: 0, norm: "ortho").AsReal,
            Fourier.Ifft(Z(i["z"]), norm: "forward").AsReal],
        ["fft_c2c_odd_lengths"] = i => [Fourier.Fft(Z(i["z"]), n: 12).AsReal, Fourier.Fft(Z(i["z"])).AsReal, Fourier.Ifft(Z(i["z"]), n: 5).AsReal,
            Fourier.Fft(Z(i["z"]), n: 13, norm: "ortho").AsReal],
        ["ifft_c2c"] = i => [Fourier.Ifft(Z(i["z"]), dim: 0).AsReal, Fourier.Ifft(Z(i["z"]), norm: "ortho").AsReal],
        ["fft_of_real"] = i => [Fourier.Fft(i["x"]).AsReal, Fourier.Fft(i["x"], n: 7, dim: 0).AsReal],
        ["rfft"] = i => [Fourier.Rfft(i["x"]).AsReal, Fourier.Rfft(i["x"], n: 9).AsReal, Fourier.Rfft(i["x"], dim: 0, norm: "forward").AsReal],
        ["irfft"] = i => [Fourier.Irfft(Z(i["z"])), Fourier.Irfft(Z(i["z"]), n: 11), Fourier.Irfft(Z(i["z"]), n: 7, norm: "ortho")],
        ["hfft_ihfft"] = i => [Fourier.Hfft(Z(i["z"])), Fourier.Hfft(Z(i["z"]), n: 9, norm: "ortho"), Fourier.Ihfft(i["x"]).AsReal],
        ["ihfft_grad"] = i => [Fourier.Ihfft(i["x"], norm: "forward").AsReal],
        ["fft2_ifft2"] = i => [Fourier.Fft2(Z(i["z"])).AsReal, Fourier.Ifft2(Z(i["z"]), s: [3, 8]).AsReal, Fourier.Fftn(Z(i["z"])).AsReal,
            Fourier.Ifftn(Z(i["z"]), dims: [0, 2]).AsReal],
        ["rfft2_irfft2"] = i => [Fourier.Rfft2(i["x"]).AsReal, Fourier.Rfftn(i["x"], s: [5, 7]).AsReal, Fourier.Irfft2(Fourier.Rfft2(i["x"])),
            Fourier.Irfftn(Fourier.Rfftn(i["x"], dims: [0, 2]), dims: [0, 2])],
        ["irfftn_grad"] = i => [Fourier.Irfftn(Z(i["z"]), s: [4, 8], dims: [1, 2])],
        ["fft_freq_shift"] = i => [Fourier.Fftshift(i["x"]), Fourier.Ifftshift(i["x"]), Fourier.Fftshift(i["x"], [1]), Fourier.Fftfreq(8), Fourier.Fftfreq(7, 0.5),
            Fourier.Rfftfreq(8), Fourier.Rfftfreq(9, 2.0)],
        ["stft"] = i => [Fourier.Stft(i["x"], 16, hopLength: 4, window: Tensor.HannWindow(16).To(i["x"].Device)).AsReal,
            Fourier.Stft(i["x"].Select(0, 0), 16, hopLength: 5, winLength: 12, window: Tensor.HannWindow(12).To(i["x"].Device)).AsReal,
            Fourier.Stft(i["x"], 8, center: false, normalized: true).AsReal, Fourier.Stft(i["x"], 8, hopLength: 3, onesided: false, padMode: "constant").AsReal],
        ["istft"] = i => [Fourier.Istft(Z(i["z"]), 16, 4, window: Hann(16, i["z"])), Fourier.Istft(Z(i["z"]), 16, 4, window: Hann(16, i["z"]), length: 30),
            Fourier.Istft(Z(i["z"].Select(0, 0)), 16, 5, 12, Hann(12, i["z"]), normalized: true), Fourier.Istft(Z(i["z"]), 16, 4, window: Tensor.HammingWindow(16).To(i["z"].Device), center: false)],
        ["stft_istft_round_trip"] = i => [Fourier.Istft(Fourier.Stft(i["x"], 16, 4, window: Hann(16, i["x"])), 16, 4, window: Hann(16, i["x"]), length: 50)],
        ["complex_abs_angle"] = i => [Z(i["z"]).Abs(), Z(i["z"]).Angle(), ComplexTensor.Polar(Z(i["z"]).Abs(), Z(i["z"]).Angle()).AsReal],
        ["einsum_repeated_with_product"] = i => [Tensor.Einsum("iji,jk->k", i["a"], i["b"])],
        ["cumprod"] = i => [i["x"].CumProd(1), i["x"].CumProd(0)],
        ["cumprod_int"] = i => [i["x"].CumProd(1)],
        ["linalg_inv"] = i => [Linalg.Inv(i["a"])],
        ["linalg_inv_batch"] = i => [Linalg.Inv(i["a"])],
        ["linalg_det"] = i => [Linalg.Det(i["a"])],
        ["linalg_solve"] = i => [Linalg.Solve(i["a"], i["b"])],
        ["linalg_solve_vector"] = i => [Linalg.Solve(i["a"], i["b"])],
        ["linalg_qr"] = i => Linalg.Qr(i["a"]) is var (q, r) ? [q, r] : [],
        ["linalg_qr_wide"] = i => Linalg.Qr(i["a"]) is var (q, r) ? [q, r] : [],
        ["linalg_svdvals"] = i => [Linalg.Svd(i["a"]).S],
        ["linalg_norm_matrix"] = i => [Linalg.Norm(i["a"]), Linalg.Norm(i["a"], "fro"), Linalg.Norm(i["a"], double.PositiveInfinity),
            Linalg.Norm(i["a"], 1), Linalg.Norm(i["a"], -1), Linalg.Norm(i["a"], 2), Linalg.Norm(i["a"], "nuc")],
        ["linalg_norm_fro_grad"] = i => [Linalg.Norm(i["a"], "fro")],
        ["linalg_norm_inf_grad"] = i => [Linalg.Norm(i["a"], double.PositiveInfinity)],
        ["linalg_norm_vector"] = i => [Linalg.Norm(i["a"], 3)],
        ["index_assign"] = _ => Assigned(),
    };

    /// <summary>Registry ops whose golden cases live here (course.json, cases of the same name).</summary>
    public static readonly string[] RegistryOpsCovered =
        ["floor", "ceil", "round", "trunc", "sign", "erf", "log2", "log10", "tan", "asin", "acos", "atan", "atan2", "remainder"];

    static Tensor[] Pair(ValuesIndices r) => [r.Values, r.Indices];
    static ComplexTensor Z(Tensor pairs) => ComplexTensor.ViewAsComplex(pairs);
    static Tensor Hann(int n, Tensor like) => Tensor.HannWindow(n).To(like.Device);
    static Tensor ReduceIndex => Tensor.From(new long[] { 0, 2, 0, 3, 2 }, 5);
    static Tensor[] Triple((Tensor Values, Tensor Inverse, Tensor Counts) r) => [r.Values, r.Inverse, r.Counts];
    static Tensor[] Pair((Tensor, Tensor) r) => [r.Item1, r.Item2];
    static Tensor[] Hist(HistogramResult r) => [r.Hist, r.BinEdges];

    /// <summary>A convolution and batch norm loaded from a fusion case, folded; the fused weight, bias and output, and the two layers' output.</summary>
    static Tensor[] FusedConv(Dictionary<string, Tensor> i, Kiln.NN.ConvBase conv, Kiln.NN.BatchNormBase bn)
    {
        conv.To(i["x"].Device); bn.To(i["x"].Device);
        Load(conv.Weight, i["cw"], conv.Bias!, i["cb"], bn, i);
        conv.Eval(); bn.Eval();
        var fused = Kiln.NN.Fusion.FuseConvBnEval(conv, bn);
        return [fused.Weight, fused.Bias!, fused.Call(i["x"]), bn.Call(conv.Call(i["x"]))];
    }

    static void Load(Tensor weight, Tensor w, Tensor bias, Tensor b, Kiln.NN.BatchNormBase bn, Dictionary<string, Tensor> i)
    {
        using var _ = Autograd.NoGrad();
        weight.Copy_(w); bias.Copy_(b);
        bn.RunningMean!.Copy_(i["rm"]); bn.RunningVar!.Copy_(i["rv"]); bn.Weight!.Copy_(i["g"]); bn.Bias!.Copy_(i["b"]);
    }

    static Tensor[] Assigned()
    {
        Tensor Base() => Tensor.Arange(0.0, 12.0, 1.0).Reshape(3, 4);
        var a = Base(); a[.., 1] = Tensor.Scalar(-1.0);
        var b = Base(); b[b > 5] = Tensor.Scalar(0.0);
        var c = Base(); c[Base() > 8] = Tensor.From(-1f, -2f, -3f);
        var d = Base(); d[Tensor.From(new long[] { 2, 0 }, 2)] = Tensor.From(7f, 8f, 9f, 10f);
        var e = Base(); e[1] = Tensor.Scalar(5.0);
        return [a, b, c, d, e];
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void MatchesPyTorch(string name) => Check(name, Device.Cpu);

    /// <summary>Each case is named once (a repeated name would run one of them twice and the other never) and has its call here.</summary>
    [Fact]
    public void EveryCaseIsNamedOnceAndHasItsCall()
    {
        var names = Root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!).ToList();
        var repeated = names.GroupBy(n => n).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(repeated.Count == 0, "case names used twice: " + string.Join(", ", repeated));
        var missing = names.Where(n => !Calls.ContainsKey(n)).ToList();
        Assert.True(missing.Count == 0, "cases without a call: " + string.Join(", ", missing));
    }

    internal static IEnumerable<string> AllNames() => Root.GetProperty("cases").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);

    internal static void RunAndDispose(string name)
    {
        var c = Case(name);
        using var noGrad = Autograd.NoGrad();
        var inputs = c.GetProperty("inputs").EnumerateObject().ToDictionary(p => p.Name, p => Build(p.Value));
        var outputs = Calls[name](inputs);
        foreach (var o in outputs) o.Dispose();
        foreach (var t in inputs.Values) t.Dispose();
    }

    /// <summary>Runs case <paramref name="name"/> with its inputs on <paramref name="device"/>.</summary>
    internal static void Check(string name, Device device)
    {
        var c = Case(name);
        var inputs = c.GetProperty("inputs").EnumerateObject().ToDictionary(p => p.Name, p => Build(p.Value).To(device));
        bool withGrad = c.TryGetProperty("grads", out var grads);
        if (withGrad)
            foreach (var (k, t) in inputs) if (t.DType.IsFloatingPoint()) t.RequiresGrad_();
        var outputs = Calls[name](inputs);
        var expected = c.GetProperty("outputs").EnumerateArray().ToArray();
        Assert.Equal(expected.Length, outputs.Length);
        for (int k = 0; k < outputs.Length; k++)
        {
            Assert.Equal(TypeOf(expected[k].GetProperty("dtype").GetString()!), outputs[k].DType);
            CourseData.Close($"{name} output {k}", expected[k], outputs[k], 1e-5);
        }
        if (!withGrad) return;
        using var weights = Build(c.GetProperty("weights")).To(device);
        using var weighted = outputs[0].Mul(weights);
        weighted.Sum().Backward();
        foreach (var g in grads.EnumerateObject())
        {
            var grad = inputs[g.Name].Grad ?? Tensor.ZerosLike(inputs[g.Name]);
            // An entry that cancels to near zero carries float32 rounding of the gradient's largest terms (torch.testing's
            // float32 atol is 1e-5): the absolute floor scales with the tensor's largest entry.
            double largest = g.Value.GetProperty("data").EnumerateArray().Select(GoldenData.ReadDouble).Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
            CourseData.Close($"{name} gradient of {g.Name}", g.Value, grad, 1e-4, 1e-6 * Math.Max(1, largest));
        }
    }
}
