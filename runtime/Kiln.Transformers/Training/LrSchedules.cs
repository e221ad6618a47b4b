using System;

namespace Kiln.Transformers.Training;

/// <summary>Hugging Face's learning-rate schedules as a factor of the peak rate per optimizer step (<c>get_scheduler</c>).</summary>
public static class LrSchedules
{
    /// <summary>The factor at <paramref name="step"/> for schedule <paramref name="type"/> with <paramref name="warmup"/> of <paramref name="total"/> steps.</summary>
    public static double Factor(string type, int step, int warmup, int total)
    {
        if (type != "constant" && step < warmup) return (double)step / Math.Max(1, warmup);
        double progress = (double)(step - warmup) / Math.Max(1, total - warmup);
        return type switch
        {
            "linear" => Math.Max(0.0, (double)(total - step) / Math.Max(1, total - warmup)),
            "cosine" => Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * 0.5 * 2.0 * progress))),
            "constant" or "constant_with_warmup" => 1.0,
            _ => throw new KilnException("lr_scheduler", $"lr_scheduler: '{type}' is not one of linear, cosine, constant, constant_with_warmup", KilnErrorKind.Argument),
        };
    }
}
