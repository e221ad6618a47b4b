using System;
using System.Collections.Generic;

namespace Kiln.Optim;

/// <summary>
/// L-BFGS (<c>torch.optim.LBFGS</c>): each <see cref="Step(Func{Tensor})"/> runs up to <c>maxIter</c> quasi-Newton
/// iterations, re-evaluating the loss through the closure, with the curvature of the last <c>historySize</c> steps; a
/// fixed step of <c>lr</c> or, with <c>lineSearchFn: "strong_wolfe"</c>, a line search meeting the strong Wolfe
/// conditions. One parameter group; the parameters are treated as one flat vector, as PyTorch's.
/// </summary>
public sealed class LBFGS : Optimizer
{
    readonly int _maxIter, _maxEval, _historySize;
    readonly double _toleranceGrad, _toleranceChange;
    readonly string? _lineSearch;

    /// <summary>L-BFGS over <paramref name="parameters"/>; <paramref name="maxEval"/> defaults to maxIter·5/4.</summary>
    public LBFGS(IEnumerable<Tensor> parameters, double lr = 1, int maxIter = 20, int? maxEval = null, double toleranceGrad = 1e-7,
        double toleranceChange = 1e-9, int historySize = 100, string? lineSearchFn = null)
        : base("LBFGS", [new ParamGroup(parameters)], new() { ["lr"] = lr })
    {
        if (lineSearchFn is not null && lineSearchFn != "strong_wolfe")
            throw new KilnException(Name, $"{Name}: only 'strong_wolfe' is supported as line_search_fn, got '{lineSearchFn}'");
        if (maxIter <= 0 || historySize <= 0) throw new KilnException(Name, $"{Name}: max_iter and history_size must be positive, got {maxIter} and {historySize}");
        _maxIter = maxIter;
        _maxEval = maxEval ?? maxIter * 5 / 4;
        _toleranceGrad = toleranceGrad;
        _toleranceChange = toleranceChange;
        _historySize = historySize;
        _lineSearch = lineSearchFn;
    }

    IReadOnlyList<Tensor> Params => ParamGroups[0].Params;

    private protected override void Validate(ParamGroup group)
    {
        if (ParamGroups.Count > 0) throw new KilnException(Name, $"{Name}: doesn't support per-parameter options (parameter groups)");
    }

    private protected override void StepGroup(ParamGroup group) =>
        throw new KilnException(Name, $"{Name}: step needs a closure that re-evaluates the loss: Step(() => {{ ZeroGrad(); var loss = ...; loss.Backward(); return loss; }})");

    // The whole history is one flat vector per entry, kept with the first parameter's state (as PyTorch keeps it).
    private protected override bool StateFits(string key, Tensor value, Tensor parameter) => true;

    /// <summary>Runs up to maxIter iterations, each evaluating <paramref name="closure"/>; returns the loss of the first evaluation.</summary>
    public override Tensor Step(Func<Tensor> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        double lr = ParamGroups[0].Lr;
        var state = State(Params[0]);
        int funcEvals = (int)Number(state, "func_evals"), stateIter = (int)Number(state, "n_iter");

        Tensor origLoss = Evaluate(closure);
        double loss = origLoss.To(DType.Float64).Item<double>();
        int currentEvals = 1;
        funcEvals++;
        var flatGrad = GatherFlatGrad();
        bool optCond = MaxAbs(flatGrad) <= _toleranceGrad;
        if (optCond)
        {
            flatGrad.Dispose();
            SaveNumbers(state, funcEvals, stateIter);
            return origLoss;
        }

        var history = History.From(state);
        Tensor? d = Take(state, "d"), prevFlatGrad = Take(state, "prev_flat_grad");
        double t = state.TryGetValue("t", out var tt) ? tt.To(DType.Float64).Item<double>() : 0;
        double hDiag = state.TryGetValue("H_diag", out var hd) ? hd.To(DType.Float64).Item<double>() : 1;
        double prevLoss = state.TryGetValue("prev_loss", out var pl) ? pl.To(DType.Float64).Item<double>() : 0;

        int nIter = 0;
        using (Autograd.NoGrad())
            while (nIter < _maxIter)
            {
                nIter++;
                stateIter++;
                if (stateIter == 1)
                {
                    d?.Dispose();
                    d = flatGrad.Neg();
                    history.Clear();
                    hDiag = 1;
                }
                else
                {
                    // The curvature pair of the last step, then the two-loop recursion for the new direction.
                    var y = flatGrad - prevFlatGrad!;
                    var s = d! * t;
                    float ys = Dot(y, s);
                    if (ys > 1e-10)
                    {
                        history.Add(y, s, 1f / ys, _historySize);
                        hDiag = ys / Dot(y, y);
                    }
                    else { y.Dispose(); s.Dispose(); }
                    d!.Dispose();
                    d = history.Direction(flatGrad, (float)hDiag);
                }
                if (prevFlatGrad is null) prevFlatGrad = flatGrad.Clone();
                else prevFlatGrad.Copy_(flatGrad);
                prevLoss = loss;

                t = stateIter == 1 ? Math.Min(1.0, 1.0 / (float)SumAbs(flatGrad)) * lr : lr;
                double gtd = Dot(flatGrad, d);
                if (gtd > -_toleranceChange) break;

                int lsEvals = 0;
                if (_lineSearch is not null)
                {
                    var start = CloneParams();
                    try
                    {
                        var (newLoss, newGrad, newT, evals) = StrongWolfe.Search((step, direction) => DirectionalEvaluate(closure, start, step, direction),
                            t, d, loss, flatGrad, gtd, _toleranceChange);
                        AddToParams(newT, d);
                        flatGrad.Dispose();
                        flatGrad = newGrad;
                        loss = newLoss;
                        t = newT;
                        lsEvals = evals;
                        optCond = MaxAbs(flatGrad) <= _toleranceGrad;
                    }
                    finally { foreach (var p in start) p.Dispose(); }
                }
                else
                {
                    AddToParams(t, d);
                    if (nIter != _maxIter)
                    {
                        loss = Evaluate(closure).To(DType.Float64).Item<double>();
                        flatGrad.Dispose();
                        flatGrad = GatherFlatGrad();
                        optCond = MaxAbs(flatGrad) <= _toleranceGrad;
                        lsEvals = 1;
                    }
                }
                currentEvals += lsEvals;
                funcEvals += lsEvals;

                if (nIter == _maxIter || currentEvals >= _maxEval || optCond) break;
                if (MaxAbs(d) * Math.Abs(t) <= _toleranceChange) break;
                if (Math.Abs(loss - prevLoss) < _toleranceChange) break;
            }

        flatGrad.Dispose();
        SaveNumbers(state, funcEvals, stateIter);
        Keep(state, "d", d);
        Keep(state, "prev_flat_grad", prevFlatGrad);
        Keep(state, "t", Tensor.Scalar(t).To(DType.Float32));
        Keep(state, "H_diag", Tensor.Scalar(hDiag).To(DType.Float32));
        Keep(state, "prev_loss", Tensor.Scalar(prevLoss).To(DType.Float32));
        history.SaveTo(state, Keep);
        return origLoss;
    }

    // ---- the flat vector of parameters ----------------------------------------------------------------------------------

    Tensor GatherFlatGrad()
    {
        var parts = new Tensor[Params.Count];
        for (int i = 0; i < parts.Length; i++)
            parts[i] = Params[i].Grad is { } g ? g.Reshape(-1) : Tensor.Zeros([(int)Params[i].Numel], Params[i].DType, Params[i].Device);
        try { return Tensor.Cat(parts, 0); }
        finally { foreach (var p in parts) p.Dispose(); }
    }

    void AddToParams(double step, Tensor direction)
    {
        long offset = 0;
        foreach (var p in Params)
        {
            int n = (int)p.Numel;
            using var part = direction.Narrow(0, offset, n);
            using var shaped = part.Reshape(p.ShapeArray);
            p.Add_(shaped, step);
            offset += n;
        }
    }

    List<Tensor> CloneParams()
    {
        var r = new List<Tensor>(Params.Count);
        foreach (var p in Params) r.Add(p.Detach().Clone());
        return r;
    }

    (double Loss, Tensor Grad) DirectionalEvaluate(Func<Tensor> closure, List<Tensor> start, double step, Tensor direction)
    {
        AddToParams(step, direction);
        double loss = Evaluate(closure).To(DType.Float64).Item<double>();
        var grad = GatherFlatGrad();
        for (int i = 0; i < start.Count; i++) Params[i].Copy_(start[i]);
        return (loss, grad);
    }

    static Tensor Evaluate(Func<Tensor> closure)
    {
        using (Autograd.EnableGrad()) return closure();
    }

    internal static float Dot(Tensor a, Tensor b)
    {
        using var product = a * b;
        using var sum = product.Sum();
        return sum.To(DType.Float32).Item<float>();
    }

    static double MaxAbs(Tensor v)
    {
        using var a = v.Abs();
        using var m = a.Max();
        return m.To(DType.Float64).Item<double>();
    }

    static double SumAbs(Tensor v)
    {
        using var a = v.Abs();
        using var s = a.Sum();
        return s.To(DType.Float64).Item<double>();
    }

    // ---- state ----------------------------------------------------------------------------------------------------------

    static double Number(Dictionary<string, Tensor> state, string key) => state.TryGetValue(key, out var v) ? v.To(DType.Float64).Item<double>() : 0;

    static Tensor? Take(Dictionary<string, Tensor> state, string key)
    {
        if (!state.Remove(key, out var v)) return null;
        return v;
    }

    static void SaveNumbers(Dictionary<string, Tensor> state, int funcEvals, int nIter)
    {
        Keep(state, "func_evals", Tensor.Scalar((double)funcEvals).To(DType.Float32));
        Keep(state, "n_iter", Tensor.Scalar((double)nIter).To(DType.Float32));
    }

    static void Keep(Dictionary<string, Tensor> state, string key, Tensor? value)
    {
        if (state.Remove(key, out var old) && !ReferenceEquals(old, value)) old.Dispose();
        if (value is null) return;
        TensorScope.Exempt(value);
        state[key] = value;
    }

    /// <summary>The last curvature pairs (y, s) and 1/(y·s), oldest first.</summary>
    sealed class History
    {
        readonly List<Tensor> _dirs = new(), _steps = new();
        readonly List<float> _ro = new();

        public static History From(Dictionary<string, Tensor> state)
        {
            var h = new History();
            if (state.Remove("old_dirs", out var dirs) && state.Remove("old_stps", out var steps) && state.Remove("ro", out var ro))
            {
                var r = ro.ToArray<float>();
                for (int i = 0; i < r.Length; i++)
                {
                    h._dirs.Add(dirs.Select(0, i).Clone());
                    h._steps.Add(steps.Select(0, i).Clone());
                    h._ro.Add(r[i]);
                }
                dirs.Dispose(); steps.Dispose(); ro.Dispose();
            }
            return h;
        }

        public void Clear()
        {
            foreach (var t in _dirs) t.Dispose();
            foreach (var t in _steps) t.Dispose();
            _dirs.Clear(); _steps.Clear(); _ro.Clear();
        }

        public void Add(Tensor y, Tensor s, float ro, int capacity)
        {
            if (_dirs.Count == capacity)
            {
                _dirs[0].Dispose(); _steps[0].Dispose();
                _dirs.RemoveAt(0); _steps.RemoveAt(0); _ro.RemoveAt(0);
            }
            _dirs.Add(y); _steps.Add(s); _ro.Add(ro);
        }

        /// <summary>-H·g by the two-loop recursion, H's initial diagonal <paramref name="hDiag"/>.</summary>
        public Tensor Direction(Tensor flatGrad, float hDiag)
        {
            int n = _dirs.Count;
            var al = new float[n];
            var q = flatGrad.Neg();
            for (int i = n - 1; i >= 0; i--)
            {
                al[i] = Dot(_steps[i], q) * _ro[i];
                q.Add_(_dirs[i], -al[i]);
            }
            var r = q * hDiag;
            q.Dispose();
            for (int i = 0; i < n; i++)
            {
                float be = Dot(_dirs[i], r) * _ro[i];
                r.Add_(_steps[i], al[i] - be);
            }
            return r;
        }

        public void SaveTo(Dictionary<string, Tensor> state, Action<Dictionary<string, Tensor>, string, Tensor?> keep)
        {
            if (_dirs.Count == 0) { Clear(); return; }
            keep(state, "old_dirs", Tensor.Stack(_dirs, 0));
            keep(state, "old_stps", Tensor.Stack(_steps, 0));
            keep(state, "ro", Tensor.From(_ro.ToArray(), _ro.Count));
            Clear();
        }
    }
}
