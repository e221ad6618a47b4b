namespace Kiln.Compiler.Ops
{
    /// <summary>mse_loss over two same-shaped tensors: the mean of the squared differences, or their sum.</summary>
    public sealed record MseLossArgs(bool Mean) : OpArgs;
}
