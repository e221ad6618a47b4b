using System;
using System.Numerics;

namespace Kiln.Kernels.Sampling;

/// <summary>What <c>grid_sample</c> reads for a point outside the image.</summary>
internal enum GridPadding { Zeros, Border, Reflection }

/// <summary>How <c>grid_sample</c> reads between pixels.</summary>
internal enum GridMode { Bilinear, Nearest, Bicubic }

/// <summary>The sizes and modes of one <c>grid_sample</c> call (the same for every element type).</summary>
internal readonly record struct GridSampleShape(int N, int C, int H, int W, int Ho, int Wo, GridMode Mode, GridPadding Padding, bool AlignCorners)
{
    public bool Bilinear => Mode == GridMode.Bilinear;
}

/// <summary>
/// <c>grid_sample</c> of 2-D images on the host, with PyTorch's CPU rules: each grid point's normalised (x, y) becomes a
/// pixel coordinate (align_corners or not), folded by the padding mode (border clips, reflection mirrors then clips —
/// with the derivative of each step, 0 where a clip holds), then read bilinearly from its four neighbours or at the
/// nearest pixel (half to even); neighbours outside the image read zero. Bicubic reads the 4 × 4 pixels around the
/// unfolded coordinate with cubic convolution weights (A = -0.75), each pixel's integer coordinate folded by the padding
/// mode on its own (see <see cref="Bicubic"/>). The backward adds each output gradient into the pixels it read and, for
/// bilinear and bicubic, gives the grid its gradient through the interpolation weights.
/// </summary>
/// <remarks>Tensors are contiguous: input [N, C, H, W], grid [N, Ho, Wo, 2], output [N, C, Ho, Wo].</remarks>
internal static unsafe class GridSampleKernel<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    /// <summary>Fills <paramref name="output"/> with the samples.</summary>
    public static void Forward(T* input, T* grid, T* output, GridSampleShape s)
    {
        long points = (long)s.Ho * s.Wo;
        T* src = input, g = grid, dst = output;
        // Rows of output points, each reading every channel: about 16K values a share.
        Threads.For((long)s.N * s.Ho, Math.Max(1, 16384 / Math.Max(1, (long)s.Wo * s.C)), (r0, r1) =>
        {
            for (long r = r0; r < r1; r++)
            {
                long n = r / s.Ho;
                T* planes = src + n * s.C * s.H * s.W;
                for (long p = (r % s.Ho) * s.Wo, end = p + s.Wo; p < end; p++)
                {
                    if (s.Mode == GridMode.Bicubic)
                    {
                        var cubic = new Bicubic(g + (n * points + p) * 2, s);
                        T* oc = dst + n * s.C * points + p;
                        for (int c = 0; c < s.C; c++, oc += points) *oc = cubic.Read(planes + (long)c * s.H * s.W);
                        continue;
                    }
                    var at = Locate(g + (n * points + p) * 2, s);
                    T* o = dst + n * s.C * points + p;
                    for (int c = 0; c < s.C; c++, o += points) *o = at.Read(planes + (long)c * s.H * s.W);
                }
            }
        });
    }

    /// <summary>
    /// Adds the gradients of <paramref name="gradOutput"/> into <paramref name="gradInput"/> (zeroed, or null) and writes the
    /// grid's into <paramref name="gradGrid"/> (or null).
    /// </summary>
    public static void Backward(T* gradOutput, T* input, T* grid, T* gradInput, T* gradGrid, GridSampleShape s)
    {
        long points = (long)s.Ho * s.Wo, plane = (long)s.H * s.W;
        T* go = gradOutput, src = input, g = grid, gi = gradInput, gg = gradGrid;
        // Images are independent (their pixels' gradients never meet): one per share.
        Threads.For(s.N, 1, (n0, n1) =>
        {
            for (long n = n0; n < n1; n++)
                for (long p = 0; p < points; p++)
                {
                    T gx = T.Zero, gy = T.Zero;
                    if (s.Mode == GridMode.Bicubic)
                    {
                        var cubic = new Bicubic(g + (n * points + p) * 2, s);
                        for (int c = 0; c < s.C; c++)
                        {
                            T up = go[(n * s.C + c) * points + p];
                            if (gi is not null) cubic.Scatter(gi + (n * s.C + c) * plane, up);
                            if (gg is not null) cubic.AddGridGradient(src + (n * s.C + c) * plane, up, ref gx, ref gy);
                        }
                        if (gg is not null)
                        {
                            gg[(n * points + p) * 2] = gx * cubic.ScaleX;
                            gg[(n * points + p) * 2 + 1] = gy * cubic.ScaleY;
                        }
                        continue;
                    }
                    var at = Locate(g + (n * points + p) * 2, s);
                    for (int c = 0; c < s.C; c++)
                    {
                        T up = go[(n * s.C + c) * points + p];
                        if (gi is not null) at.Scatter(gi + (n * s.C + c) * plane, up);
                        if (gg is not null && s.Bilinear) at.AddGridGradient(src + (n * s.C + c) * plane, up, ref gx, ref gy);
                    }
                    if (gg is not null)
                    {
                        gg[(n * points + p) * 2] = gx * at.ScaleX;
                        gg[(n * points + p) * 2 + 1] = gy * at.ScaleY;
                    }
                }
        });
    }

    /// <summary>
    /// Where a grid point reads: its neighbours' offsets in a plane (-1 outside the image) and bilinear weights (nearest:
    /// one neighbour of weight 1), and d coordinate / d grid value.
    /// </summary>
    readonly struct Point
    {
        public readonly T ScaleX, ScaleY;
        readonly T _east, _south;
        readonly long _nw, _ne, _sw, _se;
        readonly bool _bilinear;

        public Point(T x, T y, T scaleX, T scaleY, int h, int w, bool bilinear)
        {
            ScaleX = scaleX; ScaleY = scaleY; _bilinear = bilinear;
            // Coordinates far outside (or NaN) read nothing: clamp before converting so the int cannot overflow.
            T lowest = T.CreateChecked(-2), highestX = T.CreateChecked(w + 1), highestY = T.CreateChecked(h + 1);
            T fx = bilinear ? T.Floor(x) : T.Round(x), fy = bilinear ? T.Floor(y) : T.Round(y);
            int x0 = T.IsNaN(fx) ? -2 : int.CreateTruncating(T.Clamp(fx, lowest, highestX));
            int y0 = T.IsNaN(fy) ? -2 : int.CreateTruncating(T.Clamp(fy, lowest, highestY));
            _east = x - T.CreateChecked(x0); _south = y - T.CreateChecked(y0);
            _nw = Offset(x0, y0, h, w); _ne = Offset(x0 + 1, y0, h, w);
            _sw = Offset(x0, y0 + 1, h, w); _se = Offset(x0 + 1, y0 + 1, h, w);
        }

        static long Offset(int x, int y, int h, int w) => (uint)x < (uint)w && (uint)y < (uint)h ? (long)y * w + x : -1;

        static T At(T* plane, long offset) => offset >= 0 ? plane[offset] : T.Zero;

        static void Add(T* plane, long offset, T v)
        {
            if (offset >= 0) plane[offset] += v;
        }

        public T Read(T* plane)
        {
            if (!_bilinear) return At(plane, _nw);
            T west = T.One - _east, north = T.One - _south;
            return At(plane, _nw) * west * north + At(plane, _ne) * _east * north + At(plane, _sw) * west * _south + At(plane, _se) * _east * _south;
        }

        public void Scatter(T* plane, T up)
        {
            if (!_bilinear) { Add(plane, _nw, up); return; }
            T west = T.One - _east, north = T.One - _south;
            Add(plane, _nw, up * west * north);
            Add(plane, _ne, up * _east * north);
            Add(plane, _sw, up * west * _south);
            Add(plane, _se, up * _east * _south);
        }

        public void AddGridGradient(T* plane, T up, ref T gx, ref T gy)
        {
            T west = T.One - _east, north = T.One - _south;
            T nw = At(plane, _nw), ne = At(plane, _ne), sw = At(plane, _sw), se = At(plane, _se);
            gx += up * ((ne - nw) * north + (se - sw) * _south);
            gy += up * ((sw - nw) * west + (se - ne) * _east);
        }
    }

    static Point Locate(T* xy, GridSampleShape s)
    {
        T x = Source(xy[0], s.W, s, out T sx), y = Source(xy[1], s.H, s, out T sy);
        return new Point(x, y, sx, sy, s.H, s.W, s.Bilinear);
    }

    /// <summary>The pixel coordinate of normalised <paramref name="coord"/> along a dim of <paramref name="size"/>, and its derivative.</summary>
    static T Source(T coord, int size, GridSampleShape s, out T grad)
    {
        T x = Unnormalize(coord, size, s.AlignCorners, out grad);
        x = Fold(x, size, s, out T fold);
        grad *= fold;
        return x;
    }

    /// <summary>The pixel coordinate of normalised <paramref name="coord"/> (align_corners: -1 and 1 are the end pixels' centres), and its derivative.</summary>
    static T Unnormalize(T coord, int size, bool alignCorners, out T grad)
    {
        T two = T.CreateChecked(2), n = T.CreateChecked(size);
        if (alignCorners) { grad = (n - T.One) / two; return (coord + T.One) / two * (n - T.One); }
        grad = n / two;
        return ((coord + T.One) * n - T.One) / two;
    }

    /// <summary>A pixel coordinate folded by the padding mode (zeros: unchanged), and its derivative.</summary>
    static T Fold(T x, int size, GridSampleShape s, out T grad)
    {
        grad = T.One;
        if (s.Padding == GridPadding.Zeros) return x;
        if (s.Padding == GridPadding.Reflection)
        {
            x = s.AlignCorners ? Reflect(x, 0, 2 * (size - 1), out T r) : Reflect(x, -1, 2 * size - 1, out r);
            grad *= r;
        }
        x = Clip(x, size, out T c);
        grad *= c;
        return x;
    }

    /// <summary>
    /// A bicubic read: the 4 × 4 pixels from (floor(x) - 1, floor(y) - 1) of the unfolded coordinate, each pixel's integer
    /// coordinate folded by the padding mode (so border and reflection repeat or mirror edge pixels; zeros reads nothing
    /// outside), weighted by the cubic convolution coefficients of the fractional parts. The grid's gradient comes from
    /// the coefficients' derivatives alone (folding integer coordinates moves nothing continuously).
    /// </summary>
    readonly struct Bicubic
    {
        public readonly T ScaleX, ScaleY;
        readonly T _tx, _ty;
        readonly long _x0, _x1, _x2, _x3, _y0, _y1, _y2, _y3;   // folded column / row, -1 outside the image

        public Bicubic(T* xy, GridSampleShape s)
        {
            Width = s.W;
            T x = Unnormalize(xy[0], s.W, s.AlignCorners, out ScaleX), y = Unnormalize(xy[1], s.H, s.AlignCorners, out ScaleY);
            // Far outside (or NaN) reads nothing: clamp before converting so the int cannot overflow.
            T fx = T.Floor(x), fy = T.Floor(y);
            int ix = T.IsNaN(fx) ? -8 : int.CreateTruncating(T.Clamp(fx, T.CreateChecked(-8), T.CreateChecked(s.W + 8)));
            int iy = T.IsNaN(fy) ? -8 : int.CreateTruncating(T.Clamp(fy, T.CreateChecked(-8), T.CreateChecked(s.H + 8)));
            _tx = T.IsNaN(fx) ? T.Zero : x - fx;
            _ty = T.IsNaN(fy) ? T.Zero : y - fy;
            _x0 = Pixel(ix - 1, s.W, s); _x1 = Pixel(ix, s.W, s); _x2 = Pixel(ix + 1, s.W, s); _x3 = Pixel(ix + 2, s.W, s);
            _y0 = Pixel(iy - 1, s.H, s); _y1 = Pixel(iy, s.H, s); _y2 = Pixel(iy + 1, s.H, s); _y3 = Pixel(iy + 2, s.H, s);
        }

        static long Pixel(int i, int size, GridSampleShape s)
        {
            T folded = Fold(T.CreateChecked(i), size, s, out _);
            long p = long.CreateTruncating(folded);
            return p >= 0 && p < size && folded == T.CreateChecked(p) ? p : -1;
        }

        long Column(int i) => i switch { 0 => _x0, 1 => _x1, 2 => _x2, _ => _x3 };
        long Row(int j) => j switch { 0 => _y0, 1 => _y1, 2 => _y2, _ => _y3 };

        static T At(T* plane, long row, long column, int w) => row >= 0 && column >= 0 ? plane[row * w + column] : T.Zero;

        public T Read(T* plane)
        {
            Span<T> cx = stackalloc T[4], cy = stackalloc T[4];
            Coefficients(_tx, cx);
            Coefficients(_ty, cy);
            T sum = T.Zero;
            for (int j = 0; j < 4; j++)
            {
                T row = T.Zero;
                for (int i = 0; i < 4; i++) row += At(plane, Row(j), Column(i), Width) * cx[i];
                sum += row * cy[j];
            }
            return sum;
        }

        public void Scatter(T* plane, T up)
        {
            Span<T> cx = stackalloc T[4], cy = stackalloc T[4];
            Coefficients(_tx, cx);
            Coefficients(_ty, cy);
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 4; i++)
                    if (Row(j) >= 0 && Column(i) >= 0) plane[Row(j) * Width + Column(i)] += up * cx[i] * cy[j];
        }

        public void AddGridGradient(T* plane, T up, ref T gx, ref T gy)
        {
            Span<T> cx = stackalloc T[4], cy = stackalloc T[4], dx = stackalloc T[4], dy = stackalloc T[4];
            Coefficients(_tx, cx);
            Coefficients(_ty, cy);
            Derivatives(_tx, dx);
            Derivatives(_ty, dy);
            for (int j = 0; j < 4; j++)
                for (int i = 0; i < 4; i++)
                {
                    T v = At(plane, Row(j), Column(i), Width) * up;
                    gx += v * dx[i] * cy[j];
                    gy += v * cx[i] * dy[j];
                }
        }

        int Width { get; }

        static readonly T A = T.CreateChecked(-0.75);

        // Cubic convolution: near(s) for |s| ≤ 1, far(s) for 1 < |s| < 2.
        static T Near(T s) => ((A + T.CreateChecked(2)) * s - (A + T.CreateChecked(3))) * s * s + T.One;
        static T Far(T s) => ((A * s - T.CreateChecked(5) * A) * s + T.CreateChecked(8) * A) * s - T.CreateChecked(4) * A;
        static T NearSlope(T s) => (T.CreateChecked(3) * (A + T.CreateChecked(2)) * s - T.CreateChecked(2) * (A + T.CreateChecked(3))) * s;
        static T FarSlope(T s) => (T.CreateChecked(3) * A * s - T.CreateChecked(10) * A) * s + T.CreateChecked(8) * A;

        static void Coefficients(T t, Span<T> c)
        {
            c[0] = Far(t + T.One);
            c[1] = Near(t);
            c[2] = Near(T.One - t);
            c[3] = Far(T.CreateChecked(2) - t);
        }

        static void Derivatives(T t, Span<T> d)
        {
            d[0] = FarSlope(t + T.One);
            d[1] = NearSlope(t);
            d[2] = -NearSlope(T.One - t);
            d[3] = -FarSlope(T.CreateChecked(2) - t);
        }
    }

    /// <summary>Clips to [0, size - 1]; the derivative is 0 where the clip holds (at the ends too, as PyTorch).</summary>
    static T Clip(T x, int size, out T grad)
    {
        T max = T.CreateChecked(size - 1);
        if (x <= T.Zero) { grad = T.Zero; return T.Zero; }
        if (x >= max) { grad = T.Zero; return max; }
        grad = T.One;
        return x;
    }

    /// <summary>Mirrors <paramref name="x"/> into [low/2, high/2] (doubled bounds, as PyTorch passes them), with the derivative's sign.</summary>
    static T Reflect(T x, int twiceLow, int twiceHigh, out T grad)
    {
        if (twiceLow == twiceHigh) { grad = T.Zero; return T.Zero; }
        T min = T.CreateChecked(twiceLow) / T.CreateChecked(2), span = T.CreateChecked(twiceHigh - twiceLow) / T.CreateChecked(2);
        x -= min;
        T sign = T.One;
        if (x < T.Zero) { sign = -T.One; x = -x; }
        T extra = x % span, flips = T.Floor(x / span);
        if (T.IsNaN(flips) || flips % T.CreateChecked(2) == T.Zero) { grad = sign; return extra + min; }
        grad = -sign;
        return span - extra + min;
    }
}
