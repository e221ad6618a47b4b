namespace Kiln.Distributions;

/// <summary>Uniform (0, 1) and standard normal variates drawn in blocks from a generator.</summary>
internal sealed class VariateSource(Generator generator)
{
    double[] _uniform = [], _normal = [];
    int _u, _n;

    public double Uniform()
    {
        if (_u == _uniform.Length)
        {
            using var t = Tensor.Rand([256], DType.Float64, generator);
            _uniform = t.ToArray<double>();
            _u = 0;
        }
        double v = _uniform[_u++];
        return v > 0 ? v : double.Epsilon;
    }

    public double Normal()
    {
        if (_n == _normal.Length)
        {
            using var t = Tensor.Randn([256], DType.Float64, generator);
            _normal = t.ToArray<double>();
            _n = 0;
        }
        return _normal[_n++];
    }
}
