using Kiln.Compiler.Shapes;

namespace Kiln.Compiler.Ops
{
    /// <summary>conv2d: the window geometry, the channel groups and whether a bias was added.</summary>
    public sealed record ConvArgs(ConvGeometry Geometry, int Groups, bool HasBias) : OpArgs;

    /// <summary>max_pool2d: the window geometry and ceil mode.</summary>
    public sealed record PoolArgs(ConvGeometry Geometry, bool CeilMode) : OpArgs;

    /// <summary>im2col (unfold): the window geometry.</summary>
    public sealed record Im2ColArgs(ConvGeometry Geometry) : OpArgs;

    /// <summary>col2im (fold): the output's height and width, and the window geometry.</summary>
    public sealed record Col2ImArgs(int Height, int Width, ConvGeometry Geometry) : OpArgs;
}
