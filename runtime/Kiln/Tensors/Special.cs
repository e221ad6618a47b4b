namespace Kiln;

/// <summary>
/// <c>torch.special</c> under its own names, for code ported from PyTorch; each is the <see cref="Tensor"/> method of the
/// same function (e.g. <c>Special.Gammaln(x)</c> is <c>x.Lgamma()</c>).
/// </summary>
public static class Special
{
    /// <summary>The logistic sigmoid (<c>special.expit</c>).</summary>
    public static Tensor Expit(Tensor x) => x.Sigmoid();

    /// <summary>log(p/(1 - p)), with p clamped to [eps, 1 - eps] when <paramref name="eps"/> is given (<c>special.logit</c>).</summary>
    public static Tensor Logit(Tensor p, double? eps = null) => eps is double e ? p.Logit(e) : p.Logit();

    /// <summary>log |Γ(x)| (<c>special.gammaln</c>).</summary>
    public static Tensor Gammaln(Tensor x) => x.Lgamma();

    /// <summary>ψ(x) (<c>special.digamma</c>).</summary>
    public static Tensor Digamma(Tensor x) => x.Digamma();

    /// <summary>ψ(x) (<c>special.psi</c>).</summary>
    public static Tensor Psi(Tensor x) => x.Digamma();

    /// <summary>ψ⁽ⁿ⁾(x) (<c>special.polygamma</c>).</summary>
    public static Tensor Polygamma(int n, Tensor x) => x.Polygamma(n);

    /// <summary>The regularized lower incomplete gamma function P(a, x) (<c>special.gammainc</c>).</summary>
    public static Tensor Gammainc(Tensor a, Tensor x) => a.Igamma(x);

    /// <summary>The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x) (<c>special.gammaincc</c>).</summary>
    public static Tensor Gammaincc(Tensor a, Tensor x) => a.Igammac(x);

    /// <summary>The multivariate log-gamma of dimension <paramref name="p"/> (<c>special.multigammaln</c>).</summary>
    public static Tensor Multigammaln(Tensor x, int p) => x.Mvlgamma(p);

    /// <summary>The Hurwitz zeta function ζ(x, q) (<c>special.zeta</c>).</summary>
    public static Tensor Zeta(Tensor x, Tensor q) => x.Zeta(q);

    /// <summary>erf(x) (<c>special.erf</c>).</summary>
    public static Tensor Erf(Tensor x) => x.Erf();

    /// <summary>1 - erf(x) (<c>special.erfc</c>).</summary>
    public static Tensor Erfc(Tensor x) => x.Erfc();

    /// <summary>e^(x²)·erfc(x) (<c>special.erfcx</c>).</summary>
    public static Tensor Erfcx(Tensor x) => x.Erfcx();

    /// <summary>erf⁻¹(x) (<c>special.erfinv</c>).</summary>
    public static Tensor Erfinv(Tensor x) => x.Erfinv();

    /// <summary>Φ(x) (<c>special.ndtr</c>).</summary>
    public static Tensor Ndtr(Tensor x) => x.Ndtr();

    /// <summary>Φ⁻¹(p) (<c>special.ndtri</c>).</summary>
    public static Tensor Ndtri(Tensor p) => p.Ndtri();

    /// <summary>log Φ(x) (<c>special.log_ndtr</c>).</summary>
    public static Tensor LogNdtr(Tensor x) => x.LogNdtr();

    /// <summary>I₀(x) (<c>special.i0</c>).</summary>
    public static Tensor I0(Tensor x) => x.I0();

    /// <summary>e^(-|x|)·I₀(x) (<c>special.i0e</c>).</summary>
    public static Tensor I0e(Tensor x) => x.I0e();

    /// <summary>I₁(x) (<c>special.i1</c>).</summary>
    public static Tensor I1(Tensor x) => x.I1();

    /// <summary>e^(-|x|)·I₁(x) (<c>special.i1e</c>).</summary>
    public static Tensor I1e(Tensor x) => x.I1e();

    /// <summary>x·log y, 0 where x is 0 (<c>special.xlogy</c>).</summary>
    public static Tensor Xlogy(Tensor x, Tensor y) => x.Xlogy(y);

    /// <summary>x·log(1 + y), 0 where x is 0 (<c>special.xlog1py</c>).</summary>
    public static Tensor Xlog1py(Tensor x, Tensor y) => x.Xlog1py(y);

    /// <summary>-x·log x (<c>special.entr</c>).</summary>
    public static Tensor Entr(Tensor x) => x.Entr();

    /// <summary>sin(πx)/(πx) (<c>special.sinc</c>).</summary>
    public static Tensor Sinc(Tensor x) => x.Sinc();

    /// <summary>log(1 + x) (<c>special.log1p</c>).</summary>
    public static Tensor Log1p(Tensor x) => x.Log1p();

    /// <summary>eˣ - 1 (<c>special.expm1</c>).</summary>
    public static Tensor Expm1(Tensor x) => x.Expm1();

    /// <summary>2ˣ (<c>special.exp2</c>).</summary>
    public static Tensor Exp2(Tensor x) => x.Exp2();

    /// <summary>Rounded half to even (<c>special.round</c>).</summary>
    public static Tensor Round(Tensor x) => x.Round();

    /// <summary>softmax along <paramref name="dim"/> (<c>special.softmax</c>).</summary>
    public static Tensor Softmax(Tensor x, int dim) => x.Softmax(dim);

    /// <summary>log softmax along <paramref name="dim"/> (<c>special.log_softmax</c>).</summary>
    public static Tensor LogSoftmax(Tensor x, int dim) => x.LogSoftmax(dim);

    /// <summary>log Σ exp over <paramref name="dims"/> (<c>special.logsumexp</c>).</summary>
    public static Tensor Logsumexp(Tensor x, int[] dims, bool keepDim = false) => x.LogSumExp(dims, keepDim);
}
