using System;

namespace Kiln;

/// <summary>Thread-local autograd switches (<c>torch.no_grad</c>, <c>torch.enable_grad</c>, anomaly mode).</summary>
internal static class GradMode
{
    [ThreadStatic] static bool _disabled;
    [ThreadStatic] static int _anomaly;
    [ThreadStatic] static int _tracing;

    public static bool Enabled => !_disabled;
    public static bool Anomaly => _anomaly > 0;

    /// <summary>
    /// While an exporter traces a forward: ops on values derived from the traced inputs are recorded even where there is
    /// nothing to differentiate — integer and bool results too (a padding mask from token ids), so the exported graph
    /// computes them instead of freezing the example's values.
    /// </summary>
    public static bool Tracing => _tracing > 0;

    public static TracingScope BeginTracing()
    {
        _tracing++;
        return new TracingScope();
    }

    public readonly struct TracingScope : IDisposable
    {
        public void Dispose() => _tracing--;
    }

    public static Restore Set(bool enabled)
    {
        var r = new Restore(!_disabled);
        _disabled = !enabled;
        return r;
    }

    public static AnomalyScope BeginAnomaly()
    {
        _anomaly++;
        return new AnomalyScope();
    }

    /// <summary>Puts the previous mode back when disposed; a struct, so scopes cost no allocation.</summary>
    public readonly struct Restore : IDisposable
    {
        readonly bool _previous;
        public Restore(bool previous) => _previous = previous;
        public void Dispose() => _disabled = !_previous;
    }

    public readonly struct AnomalyScope : IDisposable
    {
        public void Dispose() => _anomaly--;
    }
}
