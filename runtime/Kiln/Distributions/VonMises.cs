using System;

namespace Kiln.Distributions;

/// <summary>
/// The von Mises (circular normal) distribution of an angle with mean direction μ and concentration κ
/// (<c>torch.distributions.VonMises</c>): density exp(κ·cos(x - μ))/(2π·I₀(κ)), values read modulo 2π and drawn in
/// [-π, π) by Best and Fisher's rejection sampler (no gradient, as PyTorch).
/// </summary>
public sealed class VonMises : Distribution
{
    /// <summary>Von Mises distributions at <paramref name="loc"/> μ with <paramref name="concentration"/> κ, broadcast.</summary>
    public VonMises(Tensor loc, Tensor concentration) : this(Broadcast("VonMises", loc, concentration)) { }

    VonMises((Tensor Loc, Tensor Concentration) p) : base(p.Loc.ShapeArray, [])
    {
        Loc = p.Loc;
        Concentration = p.Concentration;
        CheckParameters(("loc", Loc, Constraints.Real), ("concentration", Concentration, Constraints.Positive));
    }

    /// <summary>The mean directions μ.</summary>
    public Tensor Loc { get; }

    /// <summary>The concentrations κ (0: uniform on the circle; large: nearly normal with variance 1/κ).</summary>
    public Tensor Concentration { get; }

    /// <summary>μ.</summary>
    public override Tensor Mean => Loc.To(Loc.DType);

    /// <summary>The circular variance 1 - I₁(κ)/I₀(κ).</summary>
    public override Tensor Variance
    {
        get
        {
            using var i1 = Concentration.I1e();
            using var i0 = Concentration.I0e();
            using var ratio = i1 / i0;
            return 1.0 - ratio;
        }
    }

    /// <summary>loc.</summary>
    public override Tensor Mode => Loc.Expand(BatchShape).Contiguous();

    /// <summary>κ·cos(x - μ) - log 2π - log I₀(κ), with log I₀(κ) = log I0e(κ) + κ (exact where PyTorch uses a polynomial fit, agreeing within 1e-6).</summary>
    private protected override Tensor LogProbOf(Tensor value)
    {
        using var diff = value - Loc;
        using var cos = diff.Cos();
        using var kernel = Concentration * cos;
        using var scaled = Concentration.I0e();
        using var logScaled = scaled.Log();
        using var logI0 = logScaled + Concentration;
        using var shifted = kernel - Math.Log(2 * Math.PI);
        return shifted - logI0;
    }

    /// <summary>
    /// Best and Fisher's sampler, as PyTorch runs it: a wrapped-Cauchy proposal, accepted by a squeeze test or the exact
    /// one, until every element has a draw; the angle is returned in [-π, π) around μ.
    /// </summary>
    public override Tensor Sample(int[]? sampleShape = null, Generator? generator = null)
    {
        using var noGrad = Autograd.NoGrad();
        var shape = ExtendedShape(sampleShape);
        using var kappa = Concentration.Expand(shape);
        using var k2 = kappa.Square();
        using var k2x4 = k2 * 4.0;
        using var inner = k2x4 + 1.0;
        using var root = inner.Sqrt();
        using var tau = root + 1.0;
        using var twoTau = tau * 2.0;
        using var sqrtTwoTau = twoTau.Sqrt();
        using var rhoTop = tau - sqrtTwoTau;
        using var twoK = kappa * 2.0;
        using var rho = rhoTop / twoK;
        using var rho2 = rho.Square();
        using var rTop = rho2 + 1.0;
        using var twoRho = rho * 2.0;
        using var r = rTop / twoRho;

        var x = Tensor.ZerosLike(kappa);
        var done = Tensor.Zeros(shape, DType.Bool, kappa.Device);
        try
        {
            while (!AllTrue(done))
            {
                using var u1 = StandardUniform(shape, kappa, generator);
                using var u2 = StandardUniform(shape, kappa, generator);
                using var u3 = StandardUniform(shape, kappa, generator);
                using var angle = u1 * Math.PI;
                using var z = angle.Cos();
                using var rz = r * z;
                using var fTop = rz + 1.0;
                using var fBottom = r + z;
                using var f = fTop / fBottom;
                using var gap = r - f;
                using var c = kappa * gap;
                using var twoLessC = 2.0 - c;
                using var squeeze = c * twoLessC;
                using var squeezeMargin = squeeze - u2;
                using var squeezeOk = squeezeMargin.Gt(0);
                using var ratio = c / u2;
                using var logRatio = ratio.Log();
                using var exactLeft = logRatio + 1.0;
                using var exact = exactLeft - c;
                using var exactOk = exact.Ge(0);
                using var accept = squeezeOk.LogicalOr(exactOk);
                using var notDone = done.LogicalNot();
                using var fresh = accept.LogicalAnd(notDone);
                using var half = u3 - 0.5;
                using var sign = half.Sign();
                using var acos = f.Acos();
                using var draw = sign * acos;
                var nextX = Tensor.Where(fresh, draw, x);
                x.Dispose();
                x = nextX;
                var nextDone = done.LogicalOr(accept);
                done.Dispose();
                done = nextDone;
            }
            using var centred = x + Math.PI;
            using var around = centred + Loc;
            using var wrapped = around.Remainder(2 * Math.PI);
            return wrapped - Math.PI;
        }
        finally
        {
            x.Dispose();
            done.Dispose();
        }
    }

    static bool AllTrue(Tensor mask)
    {
        using var all = mask.All();
        return all.Item<bool>();
    }

    /// <summary>Not known in closed form here (PyTorch 1.13 raises too).</summary>
    public override Tensor Entropy() => throw NotClosedForm("entropy", "entropy");
}
